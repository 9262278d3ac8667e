#include "config.h"
#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include "server.h"

struct worker {
        struct fuse_session *se;
        pthread_t thread, main;
        atomic_bool *stopping; /* set by the main thread before it stops us */
        int result;
};

/* Each worker pulls requests straight off the session: measured here to cost
 * far less than fuse_session_loop_mt's worker management (platform notes). */
static void *worker_main(void *arg) {
        struct worker *w = arg;
        struct fuse_buf fbuf = { .mem = NULL };

        while (!fuse_session_exited(w->se)) {
                int r = fuse_session_receive_buf(w->se, &fbuf);
                if (r == -EINTR)
                        continue;
                if (r <= 0) {
                        w->result = r;
                        break;
                }
                fuse_session_process_buf(w->se, &fbuf);
        }
        free(fbuf.mem);
        /* Ended by itself (unmounted, or an error): tell the main thread.
         * The session's own exited flag cannot tell: libfuse sets it on
         * ENODEV (unmount) too. */
        if (!atomic_load(w->stopping))
                pthread_kill(w->main, SIGUSR2);
        return NULL;
}

/* Wake a worker blocked in read() on /dev/fuse and wait for it. A signal that
 * lands between its "session exited?" check and its read() is lost, so it is
 * sent again until the worker is gone. */
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

/* Serve with NTHREADS workers while this thread waits for a termination
 * signal (or a worker ending by itself). Signals are taken with sigwait, not
 * a handler that sets a flag: a flag set just before a worker enters read()
 * would leave it blocked there for good. */
int curatefs_serve(struct fuse_session *se, unsigned nthreads) {
        struct worker *w = calloc(nthreads ? nthreads : 1, sizeof(*w));
        sigset_t wait_set, old;
        atomic_bool stopping = false;
        unsigned started = 0;
        int sig, r = 0;

        if (!w)
                return -ENOMEM;
        if (nthreads == 0)
                nthreads = 1;
        sigemptyset(&wait_set);
        sigaddset(&wait_set, SIGTERM);
        sigaddset(&wait_set, SIGINT);
        sigaddset(&wait_set, SIGHUP);
        sigaddset(&wait_set, SIGUSR2);
        /* blocked here and so in every worker, which inherit the mask */
        pthread_sigmask(SIG_BLOCK, &wait_set, &old);
        for (; started < nthreads; started++) {
                w[started] = (struct worker){ .se = se, .main = pthread_self(), .stopping = &stopping };
                if (pthread_create(&w[started].thread, NULL, worker_main, &w[started]) != 0)
                        break;
        }
        if (started > 0)
                while (sigwait(&wait_set, &sig) != 0)
                        ;
        atomic_store(&stopping, true);
        fuse_session_exit(se);
        for (unsigned i = 0; i < started; i++) {
                join_worker(w[i].thread);
                if (w[i].result < 0 && w[i].result != -ENODEV && r == 0)
                        r = w[i].result;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        free(w);
        return started > 0 ? r : -EAGAIN;
}
