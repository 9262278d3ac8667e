#include "config.h"
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "curatefs.h"
#include "registration.h"
#include "seccomp-agent-msg.h"
#include "seccomp-agent.h"
#include "sysinfo-notify.h"

/* what one recvmsg may carry: one fd more than allowed, to see "too many" */
#define CMSG_FDS (AGENT_FDS_MAX + 1)
#define EVENTS_PER_ROUND 64
#define ACCEPTS_PER_ROUND 64

enum entry_kind { ENTRY_LISTEN, ENTRY_CONN, ENTRY_HELD };

struct entry {
        enum entry_kind kind;
        int fd;
        struct entry *prev, *next;
        /* a connection */
        uint64_t deadline_ns;
        json_tokener *tok;
        size_t got;
        int fds[AGENT_FDS_MAX];
        unsigned n_fds;
        /* a listener fd kept */
        char name[REG_ID_MAX + 1];
};

struct seccomp_agent {
        void (*log)(const char *msg);
        char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
        dev_t dev;
        ino_t ino;
        int epoll_fd;
        struct entry listen;
        struct entry *all; /* connections and kept fds */
        unsigned conns, held;
        unsigned long seq;
        struct sysinfo_reg self; /* the registration's pid and start time */
        uint64_t last_log_ns;
        unsigned suppressed;
};

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

const char *seccomp_agent_default_path(void) {
        const char *p = getenv("CURATE_SECCOMP_AGENT");
        return p && *p ? p : CURATE_RUN_DIR "/seccomp-agent.sock";
}

/* At most one line a second: a client flooding the socket with garbage
 * must not flood the log either. */
static void agent_log(struct seccomp_agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void agent_log(struct seccomp_agent *a, const char *fmt, ...) {
        char msg[512];
        uint64_t now = now_ns();
        va_list ap;
        int n;

        if (a->last_log_ns && ns_age(now, a->last_log_ns) < 1000000000ULL) {
                a->suppressed++;
                return;
        }
        n = snprintf(msg, sizeof(msg), "seccomp agent %s: ", a->path);
        va_start(ap, fmt);
        vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
        va_end(ap);
        if (a->suppressed) {
                size_t len = strlen(msg);
                snprintf(msg + len, sizeof(msg) - len, " (and %u more since the last report)", a->suppressed);
                a->suppressed = 0;
        }
        a->last_log_ns = now;
        a->log(msg);
}

static void link_entry(struct seccomp_agent *a, struct entry *e) {
        e->prev = NULL;
        e->next = a->all;
        if (a->all)
                a->all->prev = e;
        a->all = e;
}

/* Under systemd each kept fd also goes to the unit's fd store, named by its
 * registration: a holder that dies (the whole unit killed) leaves every
 * listener open there, so the containers' calls wait for the restarted
 * holder (seccomp_agent_adopt) instead of failing with ENOSYS, which the
 * kernel answers once a filter's last listener fd is closed. */
static void fd_store(const struct entry *e, bool keep_it) {
        char msg[REG_ID_MAX + 64];

        if (!getenv("NOTIFY_SOCKET"))
                return;
        snprintf(msg, sizeof(msg), "%s\nFDNAME=%s", keep_it ? "FDSTORE=1" : "FDSTOREREMOVE=1", e->name);
        (void)sd_pid_notify_with_fds(0, 0, msg, keep_it ? &e->fd : NULL, keep_it ? 1 : 0);
}

static void free_entry(struct seccomp_agent *a, struct entry *e) {
        if (e->prev)
                e->prev->next = e->next;
        else
                a->all = e->next;
        if (e->next)
                e->next->prev = e->prev;
        if (e->kind == ENTRY_HELD) {
                /* first: a serving process must not take the fd's number
                 * once it is another fd */
                (void)sysinfo_reg_remove(e->name);
                fd_store(e, false);
        }
        /* removed first: closing drops an fd from an epoll set only with
         * the last reference to its file, and a serving process has taken
         * a copy of a kept listener (epoll(7), "Q6") */
        (void)epoll_ctl(a->epoll_fd, EPOLL_CTL_DEL, e->fd, NULL);
        close(e->fd);
        if (e->kind == ENTRY_CONN) {
                for (unsigned i = 0; i < e->n_fds; i++)
                        close(e->fds[i]);
                if (e->tok)
                        json_tokener_free(e->tok);
                a->conns--;
        } else
                a->held--;
        free(e);
}

static void refuse(struct seccomp_agent *a, struct entry *c, const char *why) {
        agent_log(a, "a connection refused: %s", why);
        free_entry(a, c);
}

/* ---- a listener fd kept ---- */

/* Register E (its fd, under its name) and watch it: 0 or -errno. */
static int hold(struct seccomp_agent *a, struct entry *e) {
        struct sysinfo_reg reg = a->self;
        struct epoll_event ev = { .events = 0, .data.ptr = e }; /* EPOLLHUP alone: reported whatever is asked */
        _cleanup_free_ char *error = NULL;

        /* The filter wakes its waiters with EPOLLIN on every notification;
         * epoll filters wakeups by the events asked for, so the holder
         * wakes only when the last task is gone (EPOLLHUP, kernel
         * seccomp.c __seccomp_filter_orphan). */
        if (epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, e->fd, &ev) < 0)
                return -errno;
        reg.fd = e->fd;
        if (sysinfo_reg_write(e->name, &reg, &error) < 0) {
                agent_log(a, "%s", error ? error : "cannot write a registration");
                epoll_ctl(a->epoll_fd, EPOLL_CTL_DEL, e->fd, NULL);
                return -EIO;
        }
        a->held++;
        link_entry(a, e);
        return 0;
}

/* Keep FD (taken from the connection) for the container M names. */
static int keep(struct seccomp_agent *a, const struct agent_msg *m, int fd) {
        struct entry *e;
        int r;

        if (a->held >= AGENT_HELD_MAX)
                return -EMFILE;
        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->kind = ENTRY_HELD;
        e->fd = fd;
        agent_reg_name(m, ++a->seq, e->name, sizeof(e->name));
        if ((r = hold(a, e)) < 0) {
                free(e);
                return r;
        }
        fd_store(e, true);
        return 0;
}

int seccomp_agent_adopt(struct seccomp_agent *a, const char *name, int fd) {
        struct entry *e = calloc(1, sizeof(*e));
        const char *dash = strrchr(name, '-');
        unsigned long seq = dash ? strtoul(dash + 1, NULL, 10) : 0;
        int r = -EINVAL;

        if (e && strncmp(name, "oci-", 4) == 0 && reg_id_valid(name) && a->held < AGENT_HELD_MAX &&
            sysinfo_fd_is_listener(fd) == 0) {
                *e = (struct entry){ .kind = ENTRY_HELD, .fd = fd };
                snprintf(e->name, sizeof(e->name), "%s", name);
                r = hold(a, e);
        }
        if (r < 0) {
                if (e) { /* not ours to keep: out of the store as well */
                        snprintf(e->name, sizeof(e->name), "%s", name);
                        fd_store(e, false);
                }
                free(e);
                close(fd);
                return r;
        }
        /* new names after the adopted ones: no registration is replaced */
        if (seq > a->seq)
                a->seq = seq;
        return 0;
}

/* ---- a connection ---- */

static void message_done(struct seccomp_agent *a, struct entry *c, json_object *root) {
        struct agent_msg m;
        int r = agent_msg_from_json(root, c->n_fds, &m), fd;

        json_object_put(root);
        if (r < 0) {
                refuse(a, c, r == -E2BIG ? "more fds named than one container process sends"
                                         : "not an OCI ContainerProcessState naming a seccompFd that was sent");
                return;
        }
        fd = c->fds[m.seccomp_index];
        if (sysinfo_fd_is_listener(fd) < 0) {
                refuse(a, c, "the fd named seccompFd is not a seccomp listener");
                return;
        }
        r = keep(a, &m, fd);
        if (r < 0) {
                agent_log(a, "container %s (pid %d): cannot keep its listener: %s", m.id, (int)m.pid,
                          r == -EMFILE ? "too many kept already" : strerror(-r));
                free_entry(a, c);
                return;
        }
        /* the fd is the kept entry's now; the others are closed with the connection */
        c->fds[m.seccomp_index] = c->fds[--c->n_fds];
        free_entry(a, c);
}

/* Take the fds of one message's control data; false when there were too
 * many (or truncated), which refuses the connection. */
static bool take_fds(struct entry *c, struct msghdr *mh) {
        bool ok = !(mh->msg_flags & MSG_CTRUNC);

        for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                /* as many as fit the buffer, which CMSG_SPACE rounds up:
                 * maybe more than CMSG_FDS; each is ours to close */
                size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
                        if (c->n_fds < AGENT_FDS_MAX)
                                c->fds[c->n_fds++] = fd;
                        else {
                                close(fd);
                                ok = false;
                        }
                }
        }
        return ok;
}

static void on_conn(struct seccomp_agent *a, struct entry *c) {
        char data[4096];
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(CMSG_FDS * sizeof(int))];
        } control;
        struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf) };
        json_object *root;
        ssize_t n;

        n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        refuse(a, c, strerror(errno));
                return;
        }
        if (!take_fds(c, &mh))
                return refuse(a, c, "more fds than one container process sends");
        if (n == 0)
                return refuse(a, c, c->got ? "the message ends before its JSON does" : "nothing sent");
        c->got += n;
        if (c->got > AGENT_MSG_MAX)
                return refuse(a, c, "a message over 64 KiB");
        root = json_tokener_parse_ex(c->tok, data, (int)n);
        if (root)
                return message_done(a, c, root);
        if (json_tokener_get_error(c->tok) != json_tokener_continue)
                return refuse(a, c, "not JSON");
}

static void on_listen(struct seccomp_agent *a) {
        for (unsigned i = 0; i < ACCEPTS_PER_ROUND; i++) {
                int fd = accept4(a->listen.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                struct ucred cred;
                socklen_t len = sizeof(cred);
                struct entry *c;

                if (fd < 0)
                        return; /* EAGAIN, or a connection gone before accepted */
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
                        close(fd); /* the socket is 0600: only root gets here anyway */
                        continue;
                }
                if (a->conns >= AGENT_CONNS_MAX || !(c = calloc(1, sizeof(*c)))) {
                        agent_log(a, "%u connections are open already: one more refused", a->conns);
                        close(fd);
                        continue;
                }
                *c = (struct entry){ .kind = ENTRY_CONN, .fd = fd,
                                     .deadline_ns = now_ns() + AGENT_CONN_TIMEOUT_MS * 1000000ULL,
                                     .tok = json_tokener_new_ex(16) };
                struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
                if (!c->tok || epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        if (c->tok)
                                json_tokener_free(c->tok);
                        free(c);
                        close(fd);
                        continue;
                }
                a->conns++;
                link_entry(a, c);
        }
}

static void expire(struct seccomp_agent *a) {
        uint64_t now = now_ns();

        for (struct entry *e = a->all, *next; e; e = next) {
                next = e->next;
                if (e->kind == ENTRY_CONN && now >= e->deadline_ns)
                        refuse(a, e, "no complete message in time");
        }
}

void seccomp_agent_process(struct seccomp_agent *a) {
        struct epoll_event ev[EVENTS_PER_ROUND];
        int n = epoll_wait(a->epoll_fd, ev, EVENTS_PER_ROUND, 0);

        for (int i = 0; i < n; i++) {
                struct entry *e = ev[i].data.ptr;
                if (e->kind == ENTRY_LISTEN)
                        on_listen(a);
                else if (e->kind == ENTRY_CONN)
                        on_conn(a, e);
                else if (ev[i].events & (EPOLLHUP | EPOLLERR))
                        free_entry(a, e); /* no task left under its filter */
        }
        expire(a);
}

int seccomp_agent_timeout_ms(const struct seccomp_agent *a) {
        uint64_t first = UINT64_MAX, now = now_ns();

        for (const struct entry *e = a->all; e; e = e->next)
                if (e->kind == ENTRY_CONN && e->deadline_ns < first)
                        first = e->deadline_ns;
        if (first == UINT64_MAX)
                return -1;
        return first <= now ? 0 : (int)((first - now) / 1000000ULL) + 1;
}

int seccomp_agent_fd(const struct seccomp_agent *a) {
        return a->epoll_fd;
}

unsigned seccomp_agent_held(const struct seccomp_agent *a) {
        return a->held;
}

/* ---- the socket ---- */

/* A socket at PATH from a curatefs that is gone is replaced; one that
 * answers is another agent's; anything else is not ours to remove. */
static int clear_stale(const struct sockaddr_un *sa) {
        _cleanup_close_ int probe = -EBADF;
        struct stat st;

        if (lstat(sa->sun_path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;
        probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (probe < 0)
                return -errno;
        if (connect(probe, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EAGAIN)
                return -EADDRINUSE;
        return unlink(sa->sun_path) < 0 && errno != ENOENT ? -errno : 0;
}

static int bind_socket(struct seccomp_agent *a, const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct stat st;
        mode_t old;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        if (!getenv("CURATE_SECCOMP_AGENT") && mkdir(CURATE_RUN_DIR, 0755) < 0 && errno != EEXIST)
                return -errno;
        if ((r = clear_stale(&sa)) < 0)
                return r;
        a->listen.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (a->listen.fd < 0)
                return -errno;
        /* root only: the socket's mode is set by bind from the umask (a
         * chmod after it would leave a moment open to anyone) */
        old = umask(0177);
        r = bind(a->listen.fd, (struct sockaddr *)&sa, sizeof(sa));
        umask(old);
        if (r < 0)
                return -errno;
        if (stat(path, &st) < 0 || listen(a->listen.fd, 64) < 0) {
                r = -errno;
                (void)unlink(path);
                return r;
        }
        a->dev = st.st_dev;
        a->ino = st.st_ino;
        snprintf(a->path, sizeof(a->path), "%s", path);
        return 0;
}

/* Room for AGENT_HELD_MAX listeners: the soft limit up to the hard one
 * (a service starts with 1024; its serving processes inherit it and take
 * a copy of each). Nothing here uses select(). */
static void raise_nofile(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
}

int seccomp_agent_open(const char *path, void (*log)(const char *msg), struct seccomp_agent **ret) {
        struct seccomp_agent *a = calloc(1, sizeof(*a));
        struct epoll_event ev = { .events = EPOLLIN };
        uint64_t start;
        int r;

        if (!a)
                return -ENOMEM;
        *a = (struct seccomp_agent){ .log = log, .epoll_fd = -EBADF,
                                     .listen = { .kind = ENTRY_LISTEN, .fd = -EBADF } };
        raise_nofile();
        r = proc_start_ticks(getpid(), &start);
        if (r >= 0) {
                a->self = (struct sysinfo_reg){ .pid = getpid(), .start = start };
                r = bind_socket(a, path);
        }
        if (r >= 0 && (a->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0)
                r = -errno;
        ev.data.ptr = &a->listen;
        if (r >= 0 && epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, a->listen.fd, &ev) < 0)
                r = -errno;
        if (r < 0) {
                seccomp_agent_close(a);
                return r;
        }
        *ret = a;
        return 0;
}

void seccomp_agent_close(struct seccomp_agent *a) {
        struct stat st;

        if (!a)
                return;
        while (a->all)
                free_entry(a, a->all);
        /* only our socket: a newer curatefs may have bound the path since */
        if (a->path[0] && stat(a->path, &st) == 0 && st.st_dev == a->dev && st.st_ino == a->ino)
                (void)unlink(a->path);
        if (a->listen.fd >= 0)
                close(a->listen.fd);
        if (a->epoll_fd >= 0)
                close(a->epoll_fd);
        free(a);
}
