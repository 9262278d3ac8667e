#include "config.h"
/* How the listener keeps up with containers: the registration directory is
 * read whole at start and again on every inotify event in it (a container
 * starting or ending); an fd whose filter has no task left (POLLHUP) is
 * closed and its registration left to its launcher to remove. Every
 * notification is received straight into this process's slot of the
 * shared pending file, so a replacement finds what it had not answered. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include "curatefs.h"
#include "sysinfo-listen.h"
#include "sysinfo-notify.h"

/* Interrupts a RECV that lost the notification to another receiver (the
 * launcher's fallback, a serving process beside this one): the kernel's
 * RECV blocks until the next notification, O_NONBLOCK or not. */
#define RECV_TIMEOUT_NS (100 * 1000 * 1000L)
#define RECV_SIGNAL (SIGRTMIN + 4)
/* how often a slot of a dying serving process is looked at again */
#define RECOVER_EVERY_MS 250

struct container {
        char id[SYSINFO_ID_MAX + 1];
        struct sysinfo_reg reg;
        int fd;     /* -EBADF once its filter has no task left */
        bool seen;  /* in the directory at the last scan */
        bool ended; /* no task left; its launcher was still there */
        struct reader_hint *hint; /* its last caller's cgroups */
};

struct sysinfo_listener {
        struct curate *c;
        pthread_t thread;
        int stop_fd, inotify_fd, dir_fd;
        timer_t timer;
        bool has_timer;
        struct sysinfo_pending *pending;
        struct sysinfo_slot *slot; /* ours; NULL when all are taken */
        struct sysinfo_slot local;
        struct container *ct;
        size_t n;
};

static void noop(int sig) {
        (void)sig;
}

struct compute_ctx {
        struct curate *c;
        struct reader_hint *hint;
};

static int compute(void *userdata, pid_t pid, struct sysinfo *ret) {
        struct compute_ctx *x = userdata;
        return curate_sysinfo_hinted(x->c, pid, x->hint, ret);
}

static void logf_once(struct curate *c, const char *fmt, const char *a, int err) {
        char msg[512];
        snprintf(msg, sizeof(msg), fmt, a, strerror(-err));
        curate_log_once(c, msg);
}

static struct container *find(struct sysinfo_listener *l, const char *id) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->ct[i].id, id))
                        return &l->ct[i];
        return NULL;
}

static void drop(struct sysinfo_listener *l, size_t i) {
        if (l->ct[i].fd >= 0)
                close(l->ct[i].fd);
        if (l->ct[i].hint) {
                reader_hint_done(l->ct[i].hint);
                free(l->ct[i].hint);
        }
        l->ct[i] = l->ct[--l->n];
}

/* CT's container has ended: its registration is removed once its
 * launcher is gone too (killed, maybe not reaped yet: the launcher that
 * ends normally removes its own, and inotify drops the entry). True when
 * removed. */
static bool sweep_ended(struct sysinfo_listener *l, struct container *ct) {
        uint64_t start;

        if (proc_start_ticks(ct->reg.pid, &start) >= 0 && start == ct->reg.start)
                return false;
        (void)unlinkat(l->dir_fd, ct->id, 0);
        return true;
}

/* No task is left under CT's filter (POLLHUP): its fd is closed. */
static void container_ended(struct sysinfo_listener *l, struct container *ct) {
        close(ct->fd);
        ct->fd = -EBADF;
        ct->ended = true;
}

/* Ended containers whose launcher is still there are looked at again
 * every second: -1 (poll forever) when there are none. */
static int sweep_all_ended(struct sysinfo_listener *l) {
        int timeout = -1;

        for (size_t i = 0; i < l->n;) {
                if (l->ct[i].ended && sweep_ended(l, &l->ct[i])) {
                        drop(l, i);
                        continue;
                }
                if (l->ct[i].ended)
                        timeout = 1000;
                i++;
        }
        return timeout;
}

/* Names of registrations: not the pending file (".pending") nor a
 * registration being written (".tmp"). */
static bool is_registration(const char *name) {
        size_t len = strlen(name);
        return name[0] != '.' && !(len > 4 && streq(name + len - 4, ".tmp"));
}

static void add(struct sysinfo_listener *l, const char *name, const struct sysinfo_reg *reg) {
        struct container *ct = find(l, name), *grown;
        int fd;

        if (ct && ct->reg.pid == reg->pid && ct->reg.start == reg->start && ct->reg.fd == reg->fd) {
                ct->seen = true;
                return;
        }
        fd = sysinfo_reg_take_fd(reg);
        if (fd == -ESRCH) {
                /* its launcher is gone (killed): a stale registration */
                (void)unlinkat(l->dir_fd, name, 0);
                return;
        }
        if (fd < 0) {
                logf_once(l->c, "sysinfo registration %s: cannot take its listener fd: %s", name, fd);
                return;
        }
        if (ct) {
                if (ct->fd >= 0)
                        close(ct->fd);
        } else {
                grown = realloc(l->ct, (l->n + 1) * sizeof(*l->ct));
                if (!grown) {
                        close(fd);
                        return;
                }
                l->ct = grown;
                ct = &l->ct[l->n++];
                *ct = (struct container){ .hint = calloc(1, sizeof(struct reader_hint)) };
                snprintf(ct->id, sizeof(ct->id), "%s", name);
        }
        ct->reg = *reg;
        ct->fd = fd;
        ct->seen = true;
        ct->ended = false;
}

static void scan(struct sysinfo_listener *l) {
        int dfd = dup(l->dir_fd);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        struct dirent *de;

        if (!d) {
                if (dfd >= 0)
                        close(dfd);
                return;
        }
        rewinddir(d);
        for (size_t i = 0; i < l->n; i++)
                l->ct[i].seen = false;
        while ((de = readdir(d))) {
                struct sysinfo_reg reg;
                if (is_registration(de->d_name) && sysinfo_reg_read(l->dir_fd, de->d_name, &reg) >= 0)
                        add(l, de->d_name, &reg);
        }
        closedir(d);
        for (size_t i = 0; i < l->n;)
                if (!l->ct[i].seen)
                        drop(l, i);
                else
                        i++;
}

/* Answer what SLOT holds, received from CT's listener. */
static void answer_slot(struct sysinfo_listener *l, struct sysinfo_slot *slot, struct container *ct) {
        struct compute_ctx x = { .c = l->c, .hint = ct->hint };
        int r = sysinfo_answer(ct->fd, &slot->req, compute, &x);
        if (r < 0 && r != -ENOENT)
                logf_once(l->c, "sysinfo(2) of container %s: cannot answer: %s", slot->id, r);
        atomic_store(&slot->done, slot->req.id);
}

/* What serving processes that died had received and not answered: answered
 * now (still valid: sysinfo_answer checks). Each dead owner's slot is taken
 * over with a compare-and-swap, so a slot is recovered once. True when
 * another process's slot still holds a notification: its owner may be
 * dying (SIGKILL sent, not yet exited), so the caller looks again. */
static bool recover(struct sysinfo_listener *l) {
        int32_t self = getpid();
        bool waiting = false;

        for (unsigned i = 0; i < SYSINFO_SLOTS; i++) {
                struct sysinfo_slot *s = &l->pending->slot[i];
                int32_t owner = atomic_load(&s->owner);
                struct container *ct;

                if (owner == 0 || owner == self)
                        continue;
                if (!sysinfo_pid_gone(owner)) {
                        waiting |= sysinfo_slot_pending(s);
                        continue;
                }
                if (!atomic_compare_exchange_strong(&s->owner, &owner, self))
                        continue;
                s->id[SYSINFO_ID_MAX] = 0;
                ct = find(l, s->id);
                if (sysinfo_slot_pending(s) && ct && ct->fd >= 0)
                        answer_slot(l, s, ct);
                atomic_store(&s->owner, 0);
        }
        return waiting;
}

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct sysinfo_slot *claim_slot(struct sysinfo_listener *l) {
        int32_t self = getpid();

        for (unsigned i = 0; i < SYSINFO_SLOTS; i++) {
                int32_t free_owner = 0;
                if (atomic_compare_exchange_strong(&l->pending->slot[i].owner, &free_owner, self))
                        return &l->pending->slot[i];
        }
        curate_log_once(l->c, "every slot of the sysinfo pending file is taken; a notification received when this "
                              "serving process dies is answered by the container's launcher instead");
        return NULL;
}

/* Receive one notification from CT into our slot and answer it. */
static void serve_one(struct sysinfo_listener *l, struct container *ct) {
        struct sysinfo_slot *s = l->slot ? l->slot : &l->local;
        struct itimerspec arm = { .it_value.tv_nsec = RECV_TIMEOUT_NS }, off = { 0 };
        int r;

        snprintf(s->id, sizeof(s->id), "%s", ct->id);
        if (l->has_timer)
                (void)timer_settime(l->timer, 0, &arm, NULL);
        r = sysinfo_notif_recv(ct->fd, &s->req);
        if (l->has_timer)
                (void)timer_settime(l->timer, 0, &off, NULL);
        if (r < 0)
                return; /* taken by another receiver, or the caller was interrupted */
        answer_slot(l, s, ct);
}

static void *listener_main(void *arg) {
        struct sysinfo_listener *l = arg;
        _cleanup_free_ struct pollfd *pfd = NULL;
        char events[4096];

        bool waiting;
        uint64_t next_recover;

        scan(l);
        waiting = recover(l);
        next_recover = now_ms() + RECOVER_EVERY_MS;
        for (;;) {
                int timeout = sweep_all_ended(l);
                if (waiting && (timeout < 0 || timeout > RECOVER_EVERY_MS))
                        timeout = RECOVER_EVERY_MS;
                if (waiting && now_ms() >= next_recover) {
                        waiting = recover(l);
                        next_recover = now_ms() + RECOVER_EVERY_MS;
                }
                struct pollfd *grown = realloc(pfd, (l->n + 2) * sizeof(*pfd));
                if (!grown) {
                        sleep(1);
                        continue;
                }
                pfd = grown;
                pfd[0] = (struct pollfd){ .fd = l->stop_fd, .events = POLLIN };
                pfd[1] = (struct pollfd){ .fd = l->inotify_fd, .events = POLLIN };
                for (size_t i = 0; i < l->n; i++)
                        pfd[i + 2] = (struct pollfd){ .fd = l->ct[i].fd, .events = POLLIN };
                if (poll(pfd, l->n + 2, timeout) < 0)
                        continue;
                if (pfd[0].revents)
                        break;
                for (size_t i = 0; i < l->n; i++) {
                        if (pfd[i + 2].revents & POLLIN)
                                serve_one(l, &l->ct[i]);
                        else if (pfd[i + 2].revents & (POLLHUP | POLLERR | POLLNVAL))
                                container_ended(l, &l->ct[i]);
                }
                if (pfd[1].revents) {
                        while (read(l->inotify_fd, events, sizeof(events)) > 0)
                                ;
                        scan(l);
                }
        }
        return NULL;
}

static void listener_free(struct sysinfo_listener *l) {
        while (l->n > 0)
                drop(l, l->n - 1);
        free(l->ct);
        if (l->slot)
                atomic_store(&l->slot->owner, 0);
        sysinfo_pending_unmap(l->pending);
        if (l->has_timer)
                timer_delete(l->timer);
        if (l->stop_fd >= 0)
                close(l->stop_fd);
        if (l->inotify_fd >= 0)
                close(l->inotify_fd);
        if (l->dir_fd >= 0)
                close(l->dir_fd);
        free(l);
}

static int listener_setup(struct sysinfo_listener *l) {
        struct sigaction sa = { .sa_handler = noop }; /* no SA_RESTART: RECV returns EINTR */
        const char *dir = sysinfo_registration_dir();
        int r;

        if ((r = sysinfo_pending_map(&l->pending)) < 0)
                return r;
        l->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        l->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        l->stop_fd = eventfd(0, EFD_CLOEXEC);
        if (l->dir_fd < 0 || l->inotify_fd < 0 || l->stop_fd < 0)
                return -errno;
        if (inotify_add_watch(l->inotify_fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE) < 0)
                return -errno;
        sigaction(RECV_SIGNAL, &sa, NULL);
        l->slot = claim_slot(l);
        return 0;
}

static void *thread_entry(void *arg) {
        struct sysinfo_listener *l = arg;
        struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = RECV_SIGNAL };

        /* the timer interrupts this thread, not another */
        sev._sigev_un._tid = gettid(); /* sigev_notify_thread_id: glibc 2.36 lacks the name */
        if (timer_create(CLOCK_MONOTONIC, &sev, &l->timer) < 0)
                l->has_timer = false;
        else
                l->has_timer = true;
        return listener_main(l);
}

int sysinfo_listener_start(struct curate *c, struct sysinfo_listener **ret) {
        struct sysinfo_listener *l = calloc(1, sizeof(*l));
        sigset_t rt;
        int r;

        if (!l)
                return -ENOMEM;
        *l = (struct sysinfo_listener){ .c = c, .stop_fd = -EBADF, .inotify_fd = -EBADF, .dir_fd = -EBADF };
        r = listener_setup(l);
        if (r >= 0) {
                sigemptyset(&rt);
                sigaddset(&rt, RECV_SIGNAL);
                pthread_sigmask(SIG_UNBLOCK, &rt, NULL);
                r = -pthread_create(&l->thread, NULL, thread_entry, l);
        }
        if (r < 0) {
                listener_free(l);
                return r;
        }
        *ret = l;
        return 0;
}

void sysinfo_listener_stop(struct sysinfo_listener *l) {
        uint64_t one = 1;

        if (!l)
                return;
        (void)write(l->stop_fd, &one, sizeof(one));
        pthread_join(l->thread, NULL);
        listener_free(l);
}
