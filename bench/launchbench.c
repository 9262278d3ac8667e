/* launchbench: how long does it take to start and finish a command?
 *
 *   launchbench [--runs N] [--warmup W] [--between SHELL-COMMAND] [--show-output]
 *               [--] COMMAND [ARG...]
 *
 * Runs COMMAND N times (default 50) one after another: fork, execvp,
 * waitpid, timed with CLOCK_MONOTONIC from just before fork to just after
 * waitpid. W untimed runs (default 2) come first, to warm the page cache.
 * --between runs SHELL-COMMAND with /bin/sh -c before every run (warm-up
 * runs included), untimed: e.g. to stop a daemon so that each run starts
 * it afresh. The command's stdout and stderr go to /dev/null unless
 * --show-output; its stdin is /dev/null.
 *
 * Prints one line:
 *   runs=N median_ms=X p90_ms=X min_ms=X max_ms=X failures=N
 * A run fails when the command does not exit 0 (or --between fails); the
 * first failure is described on stderr, and the exit status is 1 when any
 * run failed. A benchmark, not a test: it judges nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct options {
        long runs, warmup;
        const char *between;
        bool show_output;
        char **argv;
};

static void usage(FILE *f) {
        fprintf(f, "Usage: launchbench [--runs N] [--warmup W] [--between SHELL-COMMAND] "
                   "[--show-output] [--] COMMAND [ARG...]\n");
}

static int parse_long(const char *s, long min, long *ret) {
        char *e;
        long v;

        errno = 0;
        v = strtol(s, &e, 10);
        if (errno || e == s || *e || v < min)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int parse_options(int argc, char **argv, struct options *ret) {
        static const struct option longopts[] = {
                { "runs", required_argument, NULL, 'n' },
                { "warmup", required_argument, NULL, 'w' },
                { "between", required_argument, NULL, 'b' },
                { "show-output", no_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct options o = { .runs = 50, .warmup = 2 };
        int c;

        /* "+": stop at the first non-option, which is the command */
        while ((c = getopt_long(argc, argv, "+n:w:b:sh", longopts, NULL)) >= 0) {
                switch (c) {
                case 'n':
                        if (parse_long(optarg, 1, &o.runs) < 0) {
                                fprintf(stderr, "launchbench: --runs: '%s' is not a number >= 1\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case 'w':
                        if (parse_long(optarg, 0, &o.warmup) < 0) {
                                fprintf(stderr, "launchbench: --warmup: '%s' is not a number >= 0\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case 'b':
                        o.between = optarg;
                        break;
                case 's':
                        o.show_output = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return -EINVAL;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return -EINVAL;
        }
        o.argv = argv + optind;
        *ret = o;
        return 1;
}

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* fork + execvp + waitpid; the wait status, or -errno when fork failed.
 * The child's stdin is /dev/null; stdout and stderr too unless show. */
static int spawn_wait(char **argv, bool show) {
        pid_t pid = fork();
        int status;

        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0) {
                        dup2(null, STDIN_FILENO);
                        if (!show) {
                                dup2(null, STDOUT_FILENO);
                                dup2(null, STDERR_FILENO);
                        }
                }
                execvp(argv[0], argv);
                /* 127 as a shell says "not found"; stderr may be /dev/null by now */
                _exit(errno == ENOENT ? 127 : 126);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return status;
}

static void describe_failure(const char *what, int status) {
        if (status < 0)
                fprintf(stderr, "launchbench: %s: %s\n", what, strerror(-status));
        else if (WIFEXITED(status))
                fprintf(stderr, "launchbench: %s exited %d\n", what, WEXITSTATUS(status));
        else if (WIFSIGNALED(status))
                fprintf(stderr, "launchbench: %s killed by signal %d\n", what, WTERMSIG(status));
}

/* One untimed --between, then one timed run. Returns the run's
 * milliseconds, or -1 when either failed (described once on stderr). */
static double one_run(const struct options *o, bool *reported) {
        char *sh[] = { "/bin/sh", "-c", (char *)o->between, NULL };
        double t0;
        int status;

        if (o->between) {
                status = spawn_wait(sh, true);
                if (status != 0) {
                        if (!*reported)
                                describe_failure("--between command", status);
                        *reported = true;
                        return -1;
                }
        }
        t0 = now_ms();
        status = spawn_wait(o->argv, o->show_output);
        if (status != 0) {
                if (!*reported)
                        describe_failure(o->argv[0], status);
                *reported = true;
                return -1;
        }
        return now_ms() - t0;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

int main(int argc, char **argv) {
        struct options o;
        bool reported = false;
        long failures = 0, n = 0;
        double *ms;
        int r = parse_options(argc, argv, &o);

        if (r <= 0)
                return r < 0 ? 2 : 0;
        ms = calloc(o.runs, sizeof(double));
        if (!ms) {
                fprintf(stderr, "launchbench: out of memory\n");
                return 1;
        }
        for (long i = 0; i < o.warmup; i++)
                if (one_run(&o, &reported) < 0)
                        failures++;
        for (long i = 0; i < o.runs; i++) {
                double t = one_run(&o, &reported);
                if (t < 0)
                        failures++;
                else
                        ms[n++] = t;
        }
        if (n == 0) {
                printf("runs=0 median_ms=- p90_ms=- min_ms=- max_ms=- failures=%ld\n", failures);
                free(ms);
                return 1;
        }
        qsort(ms, n, sizeof(double), cmp_double);
        /* median: the mean of the middle two for an even count; p90: nearest rank */
        double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
        long rank = (long)((9 * n + 9) / 10); /* ceil(0.9 n), 1-based */
        printf("runs=%ld median_ms=%.2f p90_ms=%.2f min_ms=%.2f max_ms=%.2f failures=%ld\n", n, median,
               ms[rank - 1], ms[0], ms[n - 1], failures);
        free(ms);
        return failures ? 1 : 0;
}
