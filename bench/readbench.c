/* readbench: how many times per second can a file be read?
 *
 *   readbench [--threads N] [--seconds S] [--mode open|seek] [--pin] FILE
 *
 * N threads (default 1) run for S seconds (default 3) each, in one of two
 * client patterns:
 *   open  open + read-to-EOF (4 KiB buffer, until read returns 0) + close:
 *         what cat, free, uptime and node do;
 *   seek  FILE stays open; lseek(0) + one read per op: what top/procps do.
 * --pin puts thread i on the i-th CPU it may run on (modulo their number),
 * the way a container whose workers each own a CPU runs (a cpuset of one CPU
 * a worker, Kubernetes' static CPU manager); without it the scheduler places
 * the threads. Prints one line: reads_per_sec=<float> ops=<n> errors=<n>. Any failing
 * open/lseek/read or an empty result is an error; the first one is reported
 * on stderr, and the exit status is 1 when there was any.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE 4096

enum mode { MODE_OPEN, MODE_SEEK };

struct worker {
        pthread_t thread;
        int cpu; /* -1: not pinned */
        unsigned long long ops;
        unsigned long long errors;
        /* Workers write counters only when done; padding keeps them off each
         * other's cache lines anyway. */
        char pad[64];
};

static const char *file;
static enum mode mode = MODE_OPEN;
static bool pin;
static atomic_bool stop;
static atomic_bool error_reported;
static pthread_barrier_t start_barrier;

static void report_error(const char *what, int err) {
        if (!atomic_exchange(&error_reported, true))
                fprintf(stderr, "readbench: %s: %s: %s\n", file, what,
                        err ? strerror(err) : "empty read");
}

static ssize_t read_retry(int fd, char *buf, size_t size) {
        ssize_t n;

        do
                n = read(fd, buf, size);
        while (n < 0 && errno == EINTR);
        return n;
}

/* One open + read-to-EOF + close; 0 or -errno (-ENODATA for an empty file). */
static int op_open(char *buf) {
        size_t total = 0;
        ssize_t n;
        int fd, r = 0;

        fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                report_error("open", errno);
                return -errno;
        }
        while ((n = read_retry(fd, buf, BUF_SIZE)) > 0)
                total += (size_t) n;
        if (n < 0) {
                r = -errno;
                report_error("read", errno);
        } else if (total == 0) {
                r = -ENODATA;
                report_error("read", 0);
        }
        close(fd);
        return r;
}

/* One lseek(0) + read on a file kept open, as procps does. */
static int op_seek(int fd, char *buf) {
        ssize_t n;

        if (lseek(fd, 0, SEEK_SET) < 0) {
                report_error("lseek", errno);
                return -errno;
        }
        n = read_retry(fd, buf, BUF_SIZE);
        if (n < 0) {
                report_error("read", errno);
                return -errno;
        }
        if (n == 0) {
                report_error("read", 0);
                return -ENODATA;
        }
        return 0;
}

static void *worker_run(void *arg) {
        struct worker *w = arg;
        unsigned long long ops = 0, errors = 0;
        char buf[BUF_SIZE];
        int fd = -1;

        if (w->cpu >= 0) {
                cpu_set_t one;
                int r;

                CPU_ZERO(&one);
                CPU_SET(w->cpu, &one);
                r = pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
                if (r != 0) {
                        report_error("pinning to its CPU", r);
                        errors++;
                }
        }
        if (mode == MODE_SEEK) {
                fd = open(file, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        report_error("open", errno);
                        errors++;
                }
        }
        pthread_barrier_wait(&start_barrier);
        while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
                int r;

                if (mode == MODE_OPEN)
                        r = op_open(buf);
                else if (fd >= 0)
                        r = op_seek(fd, buf);
                else
                        break;
                if (r < 0)
                        errors++;
                else
                        ops++;
        }
        if (fd >= 0)
                close(fd);
        w->ops = ops;
        w->errors = errors;
        return NULL;
}

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void usage(FILE *f, const char *argv0) {
        fprintf(f, "usage: %s [--threads N] [--seconds S] [--mode open|seek] [--pin] FILE\n", argv0);
}

static int parse_args(int argc, char *argv[], long *ret_threads, double *ret_seconds) {
        static const struct option options[] = {
                { "threads", required_argument, NULL, 't' },
                { "seconds", required_argument, NULL, 's' },
                { "mode", required_argument, NULL, 'm' },
                { "pin", no_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        long threads = 1;
        double seconds = 3;
        char *end;
        int c;

        while ((c = getopt_long(argc, argv, "t:s:m:ph", options, NULL)) >= 0) {
                switch (c) {
                case 't':
                        threads = strtol(optarg, &end, 10);
                        if (*end || threads < 1 || threads > 1024)
                                return -EINVAL;
                        break;
                case 's':
                        seconds = strtod(optarg, &end);
                        if (*end || !(seconds > 0))
                                return -EINVAL;
                        break;
                case 'm':
                        if (strcmp(optarg, "open") == 0)
                                mode = MODE_OPEN;
                        else if (strcmp(optarg, "seek") == 0)
                                mode = MODE_SEEK;
                        else
                                return -EINVAL;
                        break;
                case 'p':
                        pin = true;
                        break;
                case 'h':
                        usage(stdout, argv[0]);
                        exit(0);
                default:
                        return -EINVAL;
                }
        }
        if (optind != argc - 1)
                return -EINVAL;
        file = argv[optind];
        *ret_threads = threads;
        *ret_seconds = seconds;
        return 0;
}

int main(int argc, char *argv[]) {
        unsigned long long ops = 0, errors = 0;
        struct worker *workers;
        struct timespec pause;
        double seconds, start, elapsed;
        long threads;

        if (parse_args(argc, argv, &threads, &seconds) < 0) {
                usage(stderr, argv[0]);
                return 2;
        }
        workers = calloc((size_t) threads, sizeof(*workers));
        if (!workers) {
                fprintf(stderr, "readbench: out of memory\n");
                return 1;
        }
        if (pin) {
                cpu_set_t allowed;
                int n = 0, cpus[CPU_SETSIZE];

                if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0) {
                        fprintf(stderr, "readbench: sched_getaffinity: %s\n", strerror(errno));
                        return 1;
                }
                for (int c = 0; c < CPU_SETSIZE; c++)
                        if (CPU_ISSET(c, &allowed))
                                cpus[n++] = c;
                for (long i = 0; i < threads; i++)
                        workers[i].cpu = n ? cpus[i % n] : -1;
        } else
                for (long i = 0; i < threads; i++)
                        workers[i].cpu = -1;
        pthread_barrier_init(&start_barrier, NULL, (unsigned) threads + 1);
        for (long i = 0; i < threads; i++) {
                int r = pthread_create(&workers[i].thread, NULL, worker_run, &workers[i]);
                if (r != 0) {
                        fprintf(stderr, "readbench: pthread_create: %s\n", strerror(r));
                        return 1;
                }
        }

        pthread_barrier_wait(&start_barrier);
        start = now();
        pause.tv_sec = (time_t) seconds;
        pause.tv_nsec = (long) ((seconds - (double) pause.tv_sec) * 1e9);
        while (nanosleep(&pause, &pause) < 0 && errno == EINTR)
                ;
        atomic_store(&stop, true);
        for (long i = 0; i < threads; i++) {
                pthread_join(workers[i].thread, NULL);
                ops += workers[i].ops;
                errors += workers[i].errors;
        }
        /* Ops finished after the stop flag are counted, so the window ends
         * when the last worker returned. */
        elapsed = now() - start;

        printf("reads_per_sec=%.1f ops=%llu errors=%llu\n", (double) ops / elapsed, ops, errors);
        free(workers);
        return errors ? 1 : 0;
}
