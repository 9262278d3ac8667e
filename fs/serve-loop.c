#include "config.h"
#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include "journal.h"
#include "fuse-uring.h"
#include "serve-loop.h"

/* linux/fuse.h of Debian 12 (6.1) predates these (7.40, Linux 6.9) */
#ifndef FUSE_HAS_RESEND
#define FUSE_HAS_RESEND (1ULL << 39)
#endif
#define NOTIFY_RESEND 7

/* Debian 12's libfuse 3.14 answers every request of a session that has not
 * seen INIT with EIO, and only its own session can see INIT: a replacement
 * serving process therefore runs the kernel's INIT, kept in the journal,
 * through its session once more, and the reply is dropped here (the kernel
 * negotiated once, with the first serving process). */
/* libfuse hands its custom io the session's userdata (the struct curate),
 * not ours: one serving connection per process, kept here. */
static struct serve *serving;

/* The reply to the kernel's INIT, where it offered FUSE over io_uring and
 * our transport may use it: with FUSE_OVER_IO_URING set (libfuse 3.14 does
 * not know the flag). The kernel then takes REGISTERs whatever its switch
 * says later (a replacement re-registers after a kill, and an operator may
 * have turned the switch off since the mount), and holds new requests until
 * every queue has an entry, or a REGISTER fails (it then unsets the flag and
 * serves through /dev/fuse). */
static void offer_uring(const struct serve *s, struct iovec *iov, int count) {
        const struct fuse_out_header *out = iov[0].iov_base;
        struct fuse_init_out *o;

        if (s->transport == TRANSPORT_DEV || count < 2 || iov[0].iov_len < sizeof(*out) || out->error != 0 ||
            iov[1].iov_len < offsetof(struct fuse_init_out, flags2) + sizeof(o->flags2) ||
            !serve_uring_offered(s->j->head.init, atomic_load(&s->j->head.init_len)))
                return;
        o = iov[1].iov_base;
        o->flags |= FUSE_INIT_EXT;
        o->flags2 |= (uint32_t)(FUSE_OVER_IO_URING_FLAG >> 32);
}

/* Set while this thread runs the kernel's INIT through the session: its
 * reply is the one offer_uring amends (a flag, not a look at every reply). */
static __thread bool answering_init;

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata) {
        struct serve *s = serving;
        const struct fuse_out_header *out = iov[0].iov_base;
        ssize_t taken;

        if (s->uring && serve_uring_reply(s, iov, count, &taken))
                return taken;
        if (answering_init)
                offer_uring(s, iov, count);
        if (s->dropping_init && count > 0 && iov[0].iov_len >= sizeof(*out) && out->unique == s->init_unique) {
                ssize_t len = 0;
                for (int i = 0; i < count; i++)
                        len += iov[i].iov_len;
                return len;
        }
        ssize_t n = writev(fd, iov, count);
        /* unique 0: a notification, not a reply */
        if (n >= 0 && count > 0 && iov[0].iov_len >= sizeof(*out) && out->unique != 0)
                journal_count_reply(s->j, out->error, false);
        return n;
}

/* Never called (the workers read into their journal slots themselves), but
 * libfuse requires one. */
static ssize_t io_read(int fd, void *buf, size_t len, void *userdata) {
        return read(fd, buf, len);
}

static const struct fuse_custom_io serve_io = { .writev = io_writev, .read = io_read };

int serve_attach(struct serve *s, struct fuse_session *se, int fd) {
        s->se = se;
        s->fd = fd;
        serving = s;
        return fuse_session_custom_io(se, &serve_io, fd) < 0 ? -EINVAL : 0;
}

/* Run one request held in BUF (LEN bytes) through the session. */
static void process(struct serve *s, uint8_t *buf, size_t len) {
        struct fuse_buf fb = { .mem = buf, .size = len };
        answering_init = ((const struct fuse_in_header *)buf)->opcode == FUSE_INIT;
        fuse_session_process_buf(s->se, &fb);
        answering_init = false;
}

static void keep_init(struct journal *j, const uint8_t *buf, size_t len) {
        if (len > sizeof(j->head.init) || atomic_load(&j->head.init_len))
                return;
        memcpy(j->head.init, buf, len);
        atomic_store(&j->head.init_len, (uint32_t)len);
}

/* Does the kernel offer FUSE_NOTIFY_RESEND (the INIT's flags2)? */
static bool init_offers_resend(const struct journal *j) {
        return journal_init_flags(j->head.init, atomic_load(&j->head.init_len)) & FUSE_HAS_RESEND;
}

/* FUSE_NOTIFY_RESEND re-queued requests with a bug fixed only in these
 * stable releases and later ("fuse: ... resend" fixes, Cc stable): before
 * them a resent request could be answered twice or lost. */
bool serve_resend_is_safe(const char *release) {
        static const struct { unsigned major, minor, patch; } fixed[] = {
                { 6, 12, 96 }, { 6, 18, 39 }, { 7, 1, 4 },
        };
        unsigned major = 0, minor = 0, patch = 0;

        if (sscanf(release, "%u.%u.%u", &major, &minor, &patch) < 2)
                return false;
        for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
                if (major == fixed[i].major && minor == fixed[i].minor)
                        return patch >= fixed[i].patch;
        /* a series after the newest fixed one has the fix; others do not */
        return major > 7 || (major == 7 && minor > 1);
}

static bool use_resend(const struct serve *s) {
        struct utsname u;

        if (s->recovery == RECOVERY_JOURNAL || !init_offers_resend(s->j))
                return false;
        if (s->recovery == RECOVERY_RESEND)
                return true;
        return uname(&u) == 0 && serve_resend_is_safe(u.release);
}

int serve_begin(struct serve *s) {
        struct journal *j = s->j;
        size_t len = atomic_load(&j->head.init_len);
        uint8_t init[JOURNAL_INIT_MAX];

        /* Populate this process's buffers now (see journal.h). */
        for (unsigned t = 0; t < s->nthreads; t++)
                for (size_t off = 0; off < JOURNAL_SLOT_SIZE; off += 4096)
                        (void)*(volatile uint8_t *)(journal_slot(j, s->region, t) + off);
        if (len == 0 || !atomic_load(&j->head.init_answered))
                return 0; /* the first: a worker reads the kernel's INIT */
        memcpy(init, j->head.init, len);
        s->init_unique = ((struct fuse_in_header *)init)->unique;
        s->dropping_init = true;
        process(s, init, len);
        s->dropping_init = false;
        return 0;
}

/* Recover what the processes of the regions in MASK had read and not
 * answered: resent by the kernel, or replayed from their slots (INIT first:
 * libfuse refuses everything else before it). Returns how many. */
int serve_replay_orphans(struct serve *s, unsigned mask) {
        struct journal *j = s->j;
        bool resend = use_resend(s);
        int n = 0;

        /* The kernel re-queues everything read and not answered (INIT
         * included) for our workers; if it refuses, replay it ourselves. */
        if (resend) {
                struct fuse_out_header out = { .len = sizeof(out), .error = NOTIFY_RESEND, .unique = 0 };
                resend = write(s->fd, &out, sizeof(out)) == sizeof(out);
        }
        for (int init_pass = 1; init_pass >= 0; init_pass--)
                for (unsigned r = 0; r < JOURNAL_REGIONS; r++) {
                        if (!(mask & (1u << r)))
                                continue;
                        for (unsigned t = 0; t < JOURNAL_SLOTS; t++) {
                                const struct fuse_in_header *h = journal_pending(j, r, t);
                                uint64_t unique;
                                if (!h || (h->opcode == FUSE_INIT) != init_pass)
                                        continue;
                                unique = h->unique;
                                if (!resend)
                                        process(s, (uint8_t *)h, h->len);
                                atomic_store(&j->region[r].done_unique[t], unique);
                                n++;
                        }
                }
        /* recovered; our own region (an orphan we were given to serve in,
         * see the holder's spawn) stays ours */
        for (unsigned r = 0; r < JOURNAL_REGIONS; r++)
                if (mask & (1u << r))
                        atomic_store(&j->region[r].state, r == s->region ? REGION_ACTIVE : REGION_FREE);
        return n;
}

struct worker {
        struct serve *s;
        unsigned slot;
        pthread_t thread, main;
        atomic_bool *stopping; /* set by the main thread before it stops us */
        int result;
};

/* Each worker reads the connection straight into its journal slot and runs
 * the request through the session: no copy, no hand-off. */

/* The readers count (the daemon's per-cgroup records, behind its lock) for
 * `curate daemon status`: published at most every 100 ms (a coarse clock
 * read per request), not once per request, so the stats take no lock on the
 * hot path. */
static void publish_readers(const struct serve *s, struct journal *j) {
        static _Atomic uint64_t last_ms;
        struct timespec ts;
        uint64_t now_ms, prev;

        if (!s->nreaders || clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) < 0)
                return;
        now_ms = (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        prev = atomic_load_explicit(&last_ms, memory_order_relaxed);
        if (now_ms - prev < 100 ||
            !atomic_compare_exchange_strong_explicit(&last_ms, &prev, now_ms, memory_order_relaxed, memory_order_relaxed))
                return;
        atomic_store_explicit(&j->stats.readers, s->nreaders(s->userdata), memory_order_relaxed);
}

static void *worker_main(void *arg) {
        struct worker *w = arg;
        struct journal *j = w->s->j;
        uint8_t *buf = journal_slot(j, w->s->region, w->slot);
        _Atomic uint64_t *done = &j->region[w->s->region].done_unique[w->slot];

        while (!atomic_load(w->stopping)) {
                ssize_t n = read(w->s->fd, buf, JOURNAL_SLOT_SIZE);
                const struct fuse_in_header *h = (const void *)buf;
                uint64_t unique;
                uint32_t opcode;
                if (n < 0) {
                        /* ENOENT: the request was interrupted before we got it */
                        if (errno == EINTR || errno == EAGAIN || errno == ENOENT)
                                continue;
                        w->result = -errno;
                        break;
                }
                if ((size_t)n < sizeof(*h)) {
                        w->result = -EIO;
                        break;
                }
                unique = h->unique;
                opcode = h->opcode;
                if (opcode == FUSE_INIT)
                        keep_init(j, buf, n);
                process(w->s, buf, n);
                publish_readers(w->s, j);
                if (opcode == FUSE_INIT)
                        atomic_store(&j->head.init_answered, 1);
                atomic_store(done, unique);
        }
        /* Ended by itself (unmounted: ENODEV, or an error): tell the main
         * thread. */
        if (!atomic_load(w->stopping))
                pthread_kill(w->main, SIGUSR2);
        return NULL;
}

/* Wake a worker blocked in read() on /dev/fuse and wait for it. A signal that
 * lands between its "stopping?" check and its read() is lost, so it is sent
 * again until the worker is gone. A worker that holds a request answers it
 * first: nothing read is dropped. */
static void join_worker(pthread_t t) {
        for (;;) {
                struct timespec deadline;
                pthread_kill(t, SIGUSR1);
                clock_gettime(CLOCK_REALTIME, &deadline);
                deadline.tv_nsec += 50 * 1000 * 1000;
                if (deadline.tv_nsec >= 1000000000) {
                        deadline.tv_sec++;
                        deadline.tv_nsec -= 1000000000;
                }
                if (pthread_timedjoin_np(t, NULL, &deadline) == 0)
                        return;
        }
}

/* The io_uring queues, where S->transport allows them: once the kernel's
 * INIT is answered (the first serving process's workers read it), since
 * REGISTER needs the connection's sizes. */
static void start_transport(struct serve *s) {
        struct journal *j = s->j;
        int r;

        atomic_store(&j->stats.transport, TRANSPORT_STATE_DEV);
        atomic_store(&j->stats.uring_queues, 0);
        if (s->transport == TRANSPORT_DEV)
                return;
        for (int i = 0; i < 10000 && !atomic_load(&j->head.init_answered); i++)
                usleep(1000);
        r = serve_uring_start(s, s->mnt);
        if (r == -EOPNOTSUPP && s->transport == TRANSPORT_URING && s->log)
                s->log("--transport uring: the kernel's INIT does not offer FUSE over io_uring "
                       "(" FUSE_URING_SWITCH " was N when mounted); serving through /dev/fuse");
}

/* Serve with S->nthreads workers while this thread waits for SIGTERM or
 * SIGINT (or a worker ending by itself); READY_FD, if set, gets one byte
 * once they run. Returns 0 when told to stop, 1 when the mount went away. Signals are taken with sigwait, not a handler that sets a
 * flag: a flag set just before a worker enters read() would leave it
 * blocked there for good. */
int serve_run(struct serve *s, int ready_fd) {
        struct worker *w = calloc(s->nthreads, sizeof(*w));
        sigset_t wait_set, old;
        atomic_bool stopping = false;
        unsigned started = 0;
        int sig = 0, r = 0;

        if (!w)
                return -ENOMEM;
        sigemptyset(&wait_set);
        sigaddset(&wait_set, SIGTERM);
        sigaddset(&wait_set, SIGINT);
        sigaddset(&wait_set, SIGUSR2);
        /* blocked here and so in every worker, which inherit the mask */
        pthread_sigmask(SIG_BLOCK, &wait_set, &old);
        for (; started < s->nthreads; started++) {
                w[started] = (struct worker){ .s = s, .slot = started, .main = pthread_self(), .stopping = &stopping };
                if (pthread_create(&w[started].thread, NULL, worker_main, &w[started]) != 0)
                        break;
        }
        if (started > 0) {
                start_transport(s);
                if (ready_fd >= 0)
                        (void)!write(ready_fd, "r", 1);
                while (sigwait(&wait_set, &sig) != 0)
                        ;
        }
        serve_uring_stop(s);
        atomic_store(&stopping, true);
        for (unsigned i = 0; i < started; i++) {
                join_worker(w[i].thread);
                if (w[i].result < 0 && w[i].result != -ENODEV && r == 0)
                        r = w[i].result;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        free(w);
        if (started == 0)
                return -EAGAIN;
        /* a worker ended by itself without an error: the mount is gone */
        return r == 0 && sig == SIGUSR2 ? 1 : r;
}
