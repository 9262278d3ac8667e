/* Test helper for the daemon-may-die tests: loops for a while over the files
 * a container reads through curatefs and counts what failed or stalled.
 *
 *   view-reader [OPTIONS]
 *
 *   -d SECONDS  how long to loop (default 10; fractions allowed)
 *   -j N        reader threads, each looping on its own (default 1)
 *   -O LIST     the operations, comma-separated (default: all but seek):
 *                 meminfo loadavg uptime stat cpuinfo online
 *                              open + read to EOF + close of the view
 *                 null         stat + open + close of /dev/null
 *                 urandom      open + read 16 bytes + close of /dev/urandom
 *                 devdir       opendir + readdir to the end of /dev
 *                 seek         lseek(0) + read to EOF on a /proc/meminfo fd
 *                              each thread opened once at its start
 *                 all          every one of them
 *   -m KB       content check: MemTotal must read KB (the container's limit,
 *               never the host's); every view read must be non-empty anyway
 *   -o TEXT     content check: /sys/devices/system/cpu/online must read TEXT
 *   -r DIR      read DIR/proc/..., DIR/sys/..., DIR/dev instead (a curatefs
 *               mount point, from the host)
 *   -b MS       an operation longer than MS counts as a stall (default 1000)
 *   -t          print each failure and stall to stderr with its wall-clock
 *               time (seconds since the epoch, as bash's $EPOCHREALTIME)
 *   -L MS       with -t, print every operation longer than MS too
 *   -n NAME     a label put first on the summary line
 *   -s FILE     stop early once FILE exists (looked for every 100 ms)
 *
 * At the end it prints one line to stdout:
 *
 *   [NAME ]ops=N errors=N stalls=N max_ms=X max_op=OP hung=N readers=J
 *          seconds=S[ fail.OP=ERRNO*COUNT,...]...
 *
 * and exits 0 only when nothing failed, stalled or hung. A mismatch of the
 * content checks counts as an error named EBADMSG (EMPTY for an empty read).
 * An operation still blocked 10 s after the end is reported as hung (the
 * line is printed and the process exits without waiting for it). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define HANG_GRACE_NS (10 * 1000000000LL)
#define ERRNO_SLOTS 4 /* distinct errnos kept per operation */
#define FAIL_LOG_MAX 50 /* failure lines per thread: a dead mount fails every op */
#define EMPTY_READ (-1) /* pseudo-errnos of the content checks */
#define BAD_CONTENT (-2)

enum op_kind { OP_VIEW, OP_NULL, OP_URANDOM, OP_DEVDIR, OP_SEEK };

static const struct op {
        const char *name;
        enum op_kind kind;
        const char *path;
} ops[] = {
        { "meminfo", OP_VIEW, "/proc/meminfo" },
        { "loadavg", OP_VIEW, "/proc/loadavg" },
        { "uptime", OP_VIEW, "/proc/uptime" },
        { "stat", OP_VIEW, "/proc/stat" },
        { "cpuinfo", OP_VIEW, "/proc/cpuinfo" },
        { "online", OP_VIEW, "/sys/devices/system/cpu/online" },
        { "null", OP_NULL, "/dev/null" },
        { "urandom", OP_URANDOM, "/dev/urandom" },
        { "devdir", OP_DEVDIR, "/dev" },
        { "seek", OP_SEEK, "/proc/meminfo" },
};
#define N_OPS ELEMENTSOF(ops)

struct config {
        double seconds;
        unsigned threads;
        bool enabled[N_OPS];
        long long memtotal_kb; /* -1: no check */
        const char *online;
        const char *root;
        char paths[N_OPS][PATH_MAX];
        int64_t stall_ns, log_ns;
        bool timestamps;
        const char *name;
        const char *stop_file;
};

struct errno_count {
        int err; /* 0: slot free */
        long count;
};

struct op_stats {
        long ops, errors;
        struct errno_count errs[ERRNO_SLOTS];
};

struct reader {
        const struct config *cfg;
        pthread_t thread;
        int seek_fd;
        struct op_stats st[N_OPS];
        long stalls;
        int64_t max_ns;
        int max_op;
        long fails_logged;
        /* read by the main thread while this one may be blocked */
        _Atomic int cur_op;
        _Atomic bool done;
};

static int64_t now_ns(clockid_t clk) {
        struct timespec ts;
        clock_gettime(clk, &ts);
        return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *err_name(int err) {
        if (err == EMPTY_READ)
                return "EMPTY";
        if (err == BAD_CONTENT)
                return "EBADMSG";
        const char *n = strerrorname_np(err);
        return n ? n : "E?";
}

/* Read FD to EOF into BUF (NUL-terminated, truncated to SIZE-1): the byte
 * count, or -errno. Retries EINTR as every reader should. */
static ssize_t read_to_eof(int fd, char *buf, size_t size) {
        size_t len = 0;
        char sink[4096];

        for (;;) {
                char *dst = len + 1 < size ? buf + len : sink;
                size_t room = len + 1 < size ? size - 1 - len : sizeof(sink);
                ssize_t n = read(fd, dst, room);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                if (dst != sink)
                        len += n;
        }
        buf[len] = 0;
        return len;
}

/* 0, or a pseudo-errno when the text of view I is not what it must be. */
static int check_content(const struct config *cfg, size_t i, const char *text, ssize_t len) {
        if (len == 0)
                return EMPTY_READ;
        if (strcmp(ops[i].path, "/proc/meminfo") == 0) {
                long long kb;
                if (sscanf(text, "MemTotal: %lld kB", &kb) != 1)
                        return BAD_CONTENT;
                if (cfg->memtotal_kb >= 0 && kb != cfg->memtotal_kb)
                        return BAD_CONTENT;
        } else if (cfg->online && strcmp(ops[i].name, "online") == 0) {
                size_t n = strcspn(text, "\n");
                if (n != strlen(cfg->online) || strncmp(text, cfg->online, n) != 0)
                        return BAD_CONTENT;
        }
        return 0;
}

static int do_view(struct reader *r, size_t i) {
        char buf[65536];
        int fd = open(r->cfg->paths[i], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno;
        ssize_t n = read_to_eof(fd, buf, sizeof(buf));
        int close_err = close(fd) < 0 && errno != EINTR ? errno : 0;
        if (n < 0)
                return -n;
        if (close_err)
                return close_err;
        return check_content(r->cfg, i, buf, n);
}

static int do_seek(struct reader *r, size_t i) {
        char buf[65536];
        if (lseek(r->seek_fd, 0, SEEK_SET) != 0)
                return errno;
        ssize_t n = read_to_eof(r->seek_fd, buf, sizeof(buf));
        return n < 0 ? -n : check_content(r->cfg, i, buf, n);
}

static int do_null(const char *path) {
        struct stat st;
        if (stat(path, &st) < 0)
                return errno;
        if (!S_ISCHR(st.st_mode))
                return BAD_CONTENT;
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return errno;
        close(fd);
        return 0;
}

static int do_urandom(const char *path) {
        char buf[16];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno;
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) < 0 && errno == EINTR)
                ;
        int err = n < 0 ? errno : n != (ssize_t)sizeof(buf) ? BAD_CONTENT : 0;
        close(fd);
        return err;
}

static int do_devdir(const char *path) {
        DIR *d = opendir(path);
        struct dirent *de;
        long entries = 0;
        if (!d)
                return errno;
        errno = 0;
        while ((de = readdir(d)))
                entries++;
        int err = errno;
        closedir(d);
        /* "." ".." and at least null */
        return err ? err : entries < 3 ? BAD_CONTENT : 0;
}

static int run_op(struct reader *r, size_t i) {
        switch (ops[i].kind) {
        case OP_VIEW:
                return do_view(r, i);
        case OP_SEEK:
                return do_seek(r, i);
        case OP_NULL:
                return do_null(r->cfg->paths[i]);
        case OP_URANDOM:
                return do_urandom(r->cfg->paths[i]);
        case OP_DEVDIR:
                return do_devdir(r->cfg->paths[i]);
        }
        return EINVAL;
}

/* COUNT more failures with ERR (errnos past the first ERRNO_SLOTS are
 * counted in the total only) */
static void count_errors(struct op_stats *st, int err, long count) {
        st->errors += count;
        for (size_t k = 0; k < ERRNO_SLOTS; k++)
                if (st->errs[k].err == err || st->errs[k].err == 0) {
                        st->errs[k].err = err;
                        st->errs[k].count += count;
                        return;
                }
}

/* One line per failure or slow operation, written whole (stderr is
 * unbuffered and shared by the threads; one write(2) keeps lines apart). */
static void log_event(const char *what, size_t i, int err, int64_t wall_start, int64_t dur) {
        char line[256];
        int n = snprintf(line, sizeof(line), "view-reader: %s t=%lld.%06lld op=%s ms=%.3f%s%s\n", what,
                         (long long)(wall_start / 1000000000LL), (long long)(wall_start % 1000000000LL / 1000),
                         ops[i].name, dur / 1e6, err ? " errno=" : "", err ? err_name(err) : "");
        if (n > 0)
                (void)!write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void *reader_main(void *arg) {
        struct reader *r = arg;
        const struct config *cfg = r->cfg;
        int64_t end = now_ns(CLOCK_MONOTONIC) + (int64_t)(cfg->seconds * 1e9), next_look = 0;

        for (int64_t t; (t = now_ns(CLOCK_MONOTONIC)) < end;) {
                if (cfg->stop_file && t >= next_look) {
                        if (access(cfg->stop_file, F_OK) == 0)
                                break;
                        next_look = t + 100 * 1000000LL;
                }
                for (size_t i = 0; i < N_OPS; i++) {
                        if (!cfg->enabled[i])
                                continue;
                        int64_t wall = cfg->timestamps ? now_ns(CLOCK_REALTIME) : 0;
                        int64_t t0 = now_ns(CLOCK_MONOTONIC);
                        r->cur_op = (int)i;
                        int err = run_op(r, i);
                        int64_t dur = now_ns(CLOCK_MONOTONIC) - t0;
                        r->st[i].ops++;
                        if (err)
                                count_errors(&r->st[i], err, 1);
                        if (dur > r->max_ns) {
                                r->max_ns = dur;
                                r->max_op = (int)i;
                        }
                        if (dur > cfg->stall_ns)
                                r->stalls++;
                        if (cfg->timestamps && (err ? r->fails_logged++ < FAIL_LOG_MAX
                                                    : dur > cfg->stall_ns || dur > cfg->log_ns))
                                log_event(err ? "fail" : dur > cfg->stall_ns ? "stall" : "slow", i, err, wall, dur);
                }
        }
        r->done = true;
        return NULL;
}

/* Wait for every reader; one still inside an operation HANG_GRACE_NS after
 * the end is left behind and counted. Returns how many were left. */
static unsigned wait_readers(struct reader *rs, unsigned n, char *hung_ops, size_t size) {
        int64_t deadline = 0;
        unsigned hung = 0;

        for (;;) {
                unsigned running = 0;
                for (unsigned k = 0; k < n; k++)
                        running += !rs[k].done;
                if (running == 0)
                        break;
                int64_t t = now_ns(CLOCK_MONOTONIC);
                if (!deadline)
                        deadline = t + (int64_t)(rs[0].cfg->seconds * 1e9) + HANG_GRACE_NS;
                if (t > deadline) {
                        for (unsigned k = 0; k < n; k++) {
                                if (rs[k].done)
                                        continue;
                                hung++;
                                size_t len = strlen(hung_ops);
                                snprintf(hung_ops + len, size - len, "%s%s", len ? "," : "",
                                         ops[rs[k].cur_op].name);
                        }
                        return hung;
                }
                struct timespec ts = { 0, 10 * 1000000 };
                nanosleep(&ts, NULL);
        }
        for (unsigned k = 0; k < n; k++)
                pthread_join(rs[k].thread, NULL);
        return 0;
}

/* The summary line; the readers still running (hung) are not read: their
 * counts may be torn, and a hung reader has failed anyway. */
static int report(const struct config *cfg, struct reader *rs, unsigned n, unsigned hung, const char *hung_ops,
                  double seconds) {
        long total = 0, errors = 0, stalls = 0;
        int64_t max_ns = 0;
        int max_op = 0;
        char fails[2048] = "";

        for (size_t i = 0; i < N_OPS; i++) {
                struct op_stats sum = {};
                for (unsigned k = 0; k < n; k++) {
                        if (!rs[k].done)
                                continue;
                        sum.ops += rs[k].st[i].ops;
                        for (size_t e = 0; e < ERRNO_SLOTS && rs[k].st[i].errs[e].err; e++)
                                count_errors(&sum, rs[k].st[i].errs[e].err, rs[k].st[i].errs[e].count);
                }
                total += sum.ops;
                errors += sum.errors;
                for (size_t e = 0; e < ERRNO_SLOTS && sum.errs[e].err; e++) {
                        size_t len = strlen(fails);
                        if (e == 0)
                                len += snprintf(fails + len, sizeof(fails) - len, " fail.%s=", ops[i].name);
                        if (len < sizeof(fails))
                                snprintf(fails + len, sizeof(fails) - len, "%s%s*%ld", e ? "," : "",
                                         err_name(sum.errs[e].err), sum.errs[e].count);
                }
        }
        for (unsigned k = 0; k < n; k++) {
                if (!rs[k].done)
                        continue;
                stalls += rs[k].stalls;
                if (rs[k].max_ns > max_ns) {
                        max_ns = rs[k].max_ns;
                        max_op = rs[k].max_op;
                }
        }
        printf("%s%sops=%ld errors=%ld stalls=%ld max_ms=%.3f max_op=%s hung=%u%s%s readers=%u seconds=%.1f%s\n",
               cfg->name ? cfg->name : "", cfg->name ? " " : "", total, errors, stalls, max_ns / 1e6,
               ops[max_op].name, hung, hung ? " hung_ops=" : "", hung ? hung_ops : "", n, seconds, fails);
        fflush(stdout);
        return errors || stalls || hung ? 1 : 0;
}

static bool parse_ops(const char *list, bool enabled[static N_OPS]) {
        char *copy = strdup(list), *save = NULL;
        bool ok = copy != NULL;

        memset(enabled, 0, N_OPS * sizeof(bool));
        for (char *w = ok ? strtok_r(copy, ",", &save) : NULL; w; w = strtok_r(NULL, ",", &save)) {
                bool found = false;
                for (size_t i = 0; i < N_OPS; i++)
                        if (strcmp(w, "all") == 0 || strcmp(w, ops[i].name) == 0)
                                enabled[i] = found = true;
                if (!found) {
                        fprintf(stderr, "view-reader: unknown operation '%s'\n", w);
                        ok = false;
                }
        }
        free(copy);
        return ok;
}

static int usage(void) {
        fprintf(stderr, "usage: view-reader [-d SECONDS] [-j THREADS] [-O OP,...] [-m MEMTOTAL_KB] [-o ONLINE]\n"
                        "                   [-r ROOT] [-b STALL_MS] [-t] [-L LOG_MS] [-n NAME] [-s STOP_FILE]\n");
        return 2;
}

static int parse_args(int argc, char **argv, struct config *cfg) {
        int c;

        *cfg = (struct config){ .seconds = 10, .threads = 1, .memtotal_kb = -1, .root = "",
                                .stall_ns = 1000000000LL, .log_ns = INT64_MAX };
        parse_ops("meminfo,loadavg,uptime,stat,cpuinfo,online,null,urandom,devdir", cfg->enabled);
        while ((c = getopt(argc, argv, "d:j:O:m:o:r:b:tL:n:s:")) >= 0) {
                switch (c) {
                case 'd':
                        cfg->seconds = atof(optarg);
                        break;
                case 'j':
                        cfg->threads = (unsigned)atoi(optarg);
                        break;
                case 'O':
                        if (!parse_ops(optarg, cfg->enabled))
                                return usage();
                        break;
                case 'm':
                        cfg->memtotal_kb = atoll(optarg);
                        break;
                case 'o':
                        cfg->online = optarg;
                        break;
                case 'r':
                        cfg->root = optarg;
                        break;
                case 'b':
                        cfg->stall_ns = (int64_t)(atof(optarg) * 1e6);
                        break;
                case 't':
                        cfg->timestamps = true;
                        break;
                case 'L':
                        cfg->log_ns = (int64_t)(atof(optarg) * 1e6);
                        break;
                case 'n':
                        cfg->name = optarg;
                        break;
                case 's':
                        cfg->stop_file = optarg;
                        break;
                default:
                        return usage();
                }
        }
        if (optind < argc || cfg->seconds <= 0 || cfg->threads < 1 || cfg->threads > 256)
                return usage();
        for (size_t i = 0; i < N_OPS; i++)
                if (snprintf(cfg->paths[i], PATH_MAX, "%s%s", cfg->root, ops[i].path) >= PATH_MAX)
                        return usage();
        return 0;
}

int main(int argc, char **argv) {
        static struct config cfg;
        char hung_ops[1024] = "";
        int r = parse_args(argc, argv, &cfg);

        if (r)
                return r;
        struct reader *rs = calloc(cfg.threads, sizeof(*rs));
        if (!rs)
                return 2;
        for (unsigned k = 0; k < cfg.threads; k++) {
                rs[k].cfg = &cfg;
                rs[k].seek_fd = -1;
                for (size_t i = 0; i < N_OPS; i++)
                        if (cfg.enabled[i] && ops[i].kind == OP_SEEK &&
                            (rs[k].seek_fd = open(cfg.paths[i], O_RDONLY | O_CLOEXEC)) < 0) {
                                fprintf(stderr, "view-reader: cannot open %s: %s\n", cfg.paths[i], err_name(errno));
                                return 1;
                        }
        }
        int64_t start = now_ns(CLOCK_MONOTONIC);
        for (unsigned k = 0; k < cfg.threads; k++)
                if (pthread_create(&rs[k].thread, NULL, reader_main, &rs[k]) != 0) {
                        fprintf(stderr, "view-reader: cannot start a thread\n");
                        return 2;
                }
        unsigned hung = wait_readers(rs, cfg.threads, hung_ops, sizeof(hung_ops));
        r = report(&cfg, rs, cfg.threads, hung, hung_ops, (now_ns(CLOCK_MONOTONIC) - start) / 1e9);
        /* _exit: a hung thread may never return; nothing else to flush */
        _exit(r);
}
