#include "config.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/socket.h>
#include "curatefs.h"
#include "macro.h"
#include "sysinfo-guard.h"
#include "sysinfo-notify.h"

/* How long a call may wait for curatefs before the launcher answers it:
 * long enough that a live curatefs always wins (it answers in tens of
 * microseconds), short enough that a caller never notices much. */
#define TAKEOVER_NS (250 * 1000 * 1000ULL)
/* How often the launcher looks for its calls a dead serving process had
 * received and no replacement answered (curatefs stopped for good). */
#define ORPHAN_SCAN_NS (1000 * 1000 * 1000ULL)
#define RECV_TIMEOUT_NS (100 * 1000 * 1000L)
/* After a call had to be taken over, curatefs is taken for absent this
 * long: the calls meanwhile are answered at once, not each after a wait. */
#define ABSENT_NS (1000 * 1000 * 1000ULL)

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void sysinfo_guard_send(int sock, int listener) {
        char byte = listener >= 0;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } u = { 0 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (listener >= 0) {
                msg.msg_control = u.buf;
                msg.msg_controllen = sizeof(u.buf);
                CMSG_FIRSTHDR(&msg)->cmsg_level = SOL_SOCKET;
                CMSG_FIRSTHDR(&msg)->cmsg_type = SCM_RIGHTS;
                CMSG_FIRSTHDR(&msg)->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(CMSG_FIRSTHDR(&msg)), &listener, sizeof(int));
        }
        /* the launcher that gets nothing answers nothing: the filter then
         * has no listener left and the kernel fails sysinfo with ENOSYS */
        (void)sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (listener >= 0)
                close(listener);
        close(sock);
}

/* The fd the child sent, or -EBADF (none, or the child ended first). */
static int receive_fd(int sock) {
        char byte;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } u;
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
        struct cmsghdr *c;
        ssize_t n;
        int fd;

        do
                n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
        if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
                return -EBADF;
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        return fd;
}

static void noop(int sig) {
        (void)sig;
}

void sysinfo_guard_init(struct sysinfo_guard *g, int sock, bool daemon) {
        *g = (struct sysinfo_guard){ .sock = sock, .notify_fd = -EBADF, .sig_fd = -EBADF,
                                     .root = geteuid() == 0, .daemon = daemon };
        snprintf(g->id, sizeof(g->id), "run-%d", (int)getpid());
}

static void guard_register(struct sysinfo_guard *g) {
        struct sysinfo_reg reg = { .pid = getpid(), .fd = g->notify_fd };
        _cleanup_free_ char *error = NULL;

        if (!g->root || !g->daemon || proc_start_ticks(reg.pid, &reg.start) < 0)
                return;
        if (sysinfo_reg_write(g->id, &reg, &error) < 0) {
                /* the calls are then answered here, after the wait */
                fprintf(stderr, "curate: warning: %s; curate answers sysinfo(2) itself\n", error);
                return;
        }
        g->registered = true;
        (void)sysinfo_pending_map(&g->pending);
}

static int fallback_compute(void *userdata, pid_t pid, struct sysinfo *ret) {
        struct sysinfo_guard *g = userdata;

        if (!g->c) {
                struct curate *c = calloc(1, sizeof(*c));
                /* no cgroup layout to compute from: ENOSYS, as a kernel
                 * without the call would, never the host's figures */
                if (!c || curate_init(c, "/", NULL) < 0) {
                        free(c);
                        return -ENOSYS;
                }
                g->c = c;
                g->sampled_at = now_ns();
        }
        return curate_sysinfo(g->c, pid, ret);
}

/* Receive one pending call and answer it; a RECV that lost the call to
 * curatefs would block until the next, so a timer interrupts it. */
static void answer_one(struct sysinfo_guard *g) {
        struct seccomp_notif req;
        struct itimerval arm = { .it_value.tv_usec = RECV_TIMEOUT_NS / 1000 }, off = { 0 };
        int r;

        if (!g->has_timer) {
                struct sigaction sa = { .sa_handler = noop }; /* no SA_RESTART */
                sigaction(SIGALRM, &sa, NULL);
                g->has_timer = true;
        }
        setitimer(ITIMER_REAL, &arm, NULL);
        r = sysinfo_notif_recv(g->notify_fd, &req);
        setitimer(ITIMER_REAL, &off, NULL);
        if (r >= 0)
                (void)sysinfo_answer(g->notify_fd, &req, fallback_compute, g);
}

/* Calls of this container that a serving process received and died
 * without answering, with no replacement to answer them: taken over (the
 * slot's owner swapped for this process, so one taker answers). */
static void scan_orphans(struct sysinfo_guard *g) {
        int32_t self = getpid();

        g->last_scan = now_ns();
        for (unsigned i = 0; g->pending && i < SYSINFO_SLOTS; i++) {
                struct sysinfo_slot *s = &g->pending->slot[i];
                int32_t owner = atomic_load(&s->owner);

                if (owner <= 0 || strncmp(s->id, g->id, sizeof(s->id)) != 0 || !sysinfo_slot_pending(s) ||
                    !sysinfo_pid_gone(owner) || !atomic_compare_exchange_strong(&s->owner, &owner, self))
                        continue;
                if (sysinfo_slot_pending(s)) {
                        (void)sysinfo_answer(g->notify_fd, &s->req, fallback_compute, g);
                        atomic_store(&s->done, s->req.id);
                }
                atomic_store(&s->owner, 0);
        }
}

static bool notify_pending(int fd) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/* One event of the listener: a call curatefs should answer first. */
static void on_notify(struct sysinfo_guard *g, short revents) {
        uint64_t now = now_ns();

        if (!(revents & POLLIN)) {
                /* POLLHUP: no task is left under the filter */
                close(TAKE_FD(g->notify_fd));
                return;
        }
        if (!g->registered || now < g->takeover_until) {
                answer_one(g);
                return;
        }
        if (g->pending_since && now - g->pending_since >= TAKEOVER_NS) {
                answer_one(g);
                g->pending_since = 0;
                g->takeover_until = now + ABSENT_NS;
                /* curatefs is likely gone whole: what its dead serving
                 * process had received is answered now, not at the next scan */
                scan_orphans(g);
                return;
        }
        if (!g->pending_since)
                g->pending_since = now;
}

/* The fallback's load averages advance every LOAD_FREQ_SEC once it has
 * answered (curatefs's sampler does this for curatefs's answers). */
static void sample_loads(struct sysinfo_guard *g) {
        if (!g->c || now_ns() - g->sampled_at < SAMPLE_PERIOD_NS)
                return;
        curate_sample(g->c);
        g->sampled_at = now_ns();
}

/* ns from NOW to DEADLINE, 0 when past */
static uint64_t until(uint64_t deadline, uint64_t now) {
        return deadline > now ? deadline - now : 0;
}

/* The nearest of: the pending call's takeover, the orphan scan, the
 * fallback's load sample; -1 (no timeout) when none applies. */
static int poll_timeout(struct sysinfo_guard *g) {
        uint64_t now = now_ns(), left = UINT64_MAX, t;

        if (g->c)
                left = until(g->sampled_at + SAMPLE_PERIOD_NS, now);
        if (g->pending_since && (t = until(g->pending_since + TAKEOVER_NS, now)) < left)
                left = t;
        if (g->pending && g->notify_fd >= 0 && (t = until(g->last_scan + ORPHAN_SCAN_NS, now)) < left)
                left = t;
        return left == UINT64_MAX ? -1 : (int)(left / 1000000 + 1);
}

int sysinfo_guard_wait(struct sysinfo_guard *g, const sigset_t *set, siginfo_t *ret) {
        if (g->sig_fd < 0) {
                g->sig_fd = signalfd(-1, set, SFD_CLOEXEC);
                /* no signalfd (fds exhausted): signals still work, and
                 * curatefs still answers what it has registered */
                if (g->sig_fd < 0)
                        return sigwaitinfo(set, ret) < 0 ? -errno : 0;
        }
        for (;;) {
                struct pollfd p[3] = {
                        { .fd = g->sig_fd, .events = POLLIN },
                        { .fd = g->sock, .events = POLLIN },
                        /* while a call waits for curatefs, only its deadline wakes us */
                        { .fd = g->pending_since ? -1 : g->notify_fd, .events = POLLIN },
                };
                struct signalfd_siginfo ssi;

                if (poll(p, 3, poll_timeout(g)) < 0 && errno != EINTR)
                        return -errno;
                if (p[1].revents) {
                        g->notify_fd = receive_fd(g->sock);
                        close(TAKE_FD(g->sock));
                        if (g->notify_fd >= 0)
                                guard_register(g);
                }
                if (p[2].revents)
                        on_notify(g, p[2].revents);
                else if (g->pending_since && now_ns() - g->pending_since >= TAKEOVER_NS) {
                        if (notify_pending(g->notify_fd))
                                on_notify(g, POLLIN);
                        g->pending_since = 0;
                }
                if (g->pending && g->notify_fd >= 0 && now_ns() - g->last_scan >= ORPHAN_SCAN_NS)
                        scan_orphans(g);
                sample_loads(g);
                if (p[0].revents && read(g->sig_fd, &ssi, sizeof(ssi)) == (ssize_t)sizeof(ssi)) {
                        *ret = (siginfo_t){ .si_signo = (int)ssi.ssi_signo, .si_code = ssi.ssi_code };
                        return 0;
                }
        }
}

void sysinfo_guard_done(struct sysinfo_guard *g) {
        if (g->registered)
                (void)sysinfo_reg_remove(g->id);
        sysinfo_pending_unmap(g->pending);
        if (g->c) {
                curate_done(g->c);
                free(g->c);
        }
        if (g->sock >= 0)
                close(g->sock);
        if (g->notify_fd >= 0)
                close(g->notify_fd);
        if (g->sig_fd >= 0)
                close(g->sig_fd);
        *g = (struct sysinfo_guard){ .sock = -EBADF, .notify_fd = -EBADF, .sig_fd = -EBADF };
}
