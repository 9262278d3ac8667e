/* cgroup-sweep: read files from inside many cgroups, once per interval.
 *
 *   cgroup-sweep [--seconds S] [--interval I] LISTFILE FILE...
 *
 * LISTFILE holds one cgroup per line: blank-separated cgroup directories (one
 * per v1 hierarchy, or a single v2 directory). Every round, for each line in
 * turn, the process moves itself into those cgroups (writing its pid to their
 * cgroup.procs) and then reads every FILE once (open + read-to-EOF + close),
 * so a daemon answering "for the cgroup of the reader" sees one reader in each
 * cgroup. Rounds start every I seconds (default 1) for S seconds (default 30);
 * a round that overruns delays the next one. Prints one line:
 *   rounds=R reads=N errors=E max_round_ms=M cpu_s=C
 * where cpu_s is this process's own user+system time. Exit status 1 when any
 * move or read failed (the first failure is reported on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

struct sweep {
        char **lines; /* cgroup lines of LISTFILE */
        size_t n_lines;
        char **files;
        int n_files;
        unsigned long long reads, errors;
        bool reported;
};

static void report(struct sweep *s, const char *path, const char *what, int err) {
        if (s->reported)
                return;
        s->reported = true;
        fprintf(stderr, "cgroup-sweep: %s: %s: %s\n", path, what, err ? strerror(err) : "empty read");
}

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int load_list(const char *path, struct sweep *s) {
        FILE *f = fopen(path, "re");
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;

        if (!f)
                return -errno;
        while ((len = getline(&line, &cap, f)) >= 0) {
                char **grown;

                if (len > 0 && line[len - 1] == '\n')
                        line[len - 1] = '\0';
                if (line[0] == '\0')
                        continue;
                grown = realloc(s->lines, (s->n_lines + 1) * sizeof(*s->lines));
                if (!grown) {
                        free(line);
                        fclose(f);
                        return -ENOMEM;
                }
                s->lines = grown;
                s->lines[s->n_lines++] = strdup(line);
        }
        free(line);
        fclose(f);
        return s->n_lines > 0 ? 0 : -ENODATA;
}

/* Writes our pid into DIR/cgroup.procs; 0 or -errno. */
static int join_cgroup(const char *dir) {
        char path[4096], pid[32];
        int fd, n, r = 0;

        snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
        n = snprintf(pid, sizeof(pid), "%d\n", (int) getpid());
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, pid, (size_t) n) != n)
                r = -errno;
        close(fd);
        return r;
}

static int read_file(const char *path) {
        char buf[4096];
        size_t total = 0;
        ssize_t n;
        int fd, r = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (;;) {
                n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                total += (size_t) n;
        }
        if (n < 0)
                r = -errno;
        else if (total == 0)
                r = -ENODATA;
        close(fd);
        return r;
}

/* Moves into the cgroups of one LISTFILE line and reads every file there. */
static void sweep_line(struct sweep *s, char *line) {
        char *save = NULL, *copy = strdup(line);

        if (!copy) {
                s->errors++;
                return;
        }
        for (char *dir = strtok_r(copy, " \t", &save); dir; dir = strtok_r(NULL, " \t", &save)) {
                int r = join_cgroup(dir);
                if (r < 0) {
                        report(s, dir, "join", -r);
                        s->errors++;
                        free(copy);
                        return;
                }
        }
        free(copy);
        for (int i = 0; i < s->n_files; i++) {
                int r = read_file(s->files[i]);
                if (r < 0) {
                        report(s, s->files[i], line, r == -ENODATA ? 0 : -r);
                        s->errors++;
                } else
                        s->reads++;
        }
}

static void sleep_until(double t) {
        double left = t - now();
        struct timespec ts;

        if (left <= 0)
                return;
        ts.tv_sec = (time_t) left;
        ts.tv_nsec = (long) ((left - (double) ts.tv_sec) * 1e9);
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "seconds", required_argument, NULL, 's' },
                { "interval", required_argument, NULL, 'i' },
                {}
        };
        struct sweep s = { 0 };
        double seconds = 30, interval = 1, start, max_round = 0;
        unsigned long rounds = 0;
        struct rusage ru;
        int c, r;

        while ((c = getopt_long(argc, argv, "s:i:", options, NULL)) >= 0) {
                if (c == 's')
                        seconds = atof(optarg);
                else if (c == 'i')
                        interval = atof(optarg);
                else
                        goto usage;
        }
        if (argc - optind < 2 || !(seconds > 0) || !(interval > 0))
                goto usage;
        r = load_list(argv[optind], &s);
        if (r < 0) {
                fprintf(stderr, "cgroup-sweep: %s: %s\n", argv[optind], strerror(-r));
                return 1;
        }
        s.files = argv + optind + 1;
        s.n_files = argc - optind - 1;

        start = now();
        for (double next = start; next < start + seconds; next += interval) {
                double t0;

                sleep_until(next);
                t0 = now();
                for (size_t i = 0; i < s.n_lines; i++)
                        sweep_line(&s, s.lines[i]);
                rounds++;
                if (now() - t0 > max_round)
                        max_round = now() - t0;
                /* An overrun round pushes the schedule back instead of bunching. */
                if (now() > next + interval)
                        next = now() - interval;
        }

        getrusage(RUSAGE_SELF, &ru);
        printf("rounds=%lu reads=%llu errors=%llu max_round_ms=%.1f cpu_s=%.2f\n", rounds, s.reads,
               s.errors, max_round * 1e3,
               (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                       (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
        for (size_t i = 0; i < s.n_lines; i++)
                free(s.lines[i]);
        free(s.lines);
        return s.errors ? 1 : 0;

usage:
        fprintf(stderr, "usage: %s [--seconds S] [--interval I] LISTFILE FILE...\n", argv[0]);
        return 2;
}
