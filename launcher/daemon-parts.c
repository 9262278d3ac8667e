#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "daemon-parts.h"
#include "fileio.h"
#include "macro.h"

/* What the launcher knows of a running curatefs split into a holder and
 * serving processes. Everything is read from /proc: the holder's children
 * by their PPid (/proc/PID/task/TID/children needs CONFIG_PROC_CHILDREN,
 * which many kernels, this project's test machines' among them, lack), the
 * binaries from /proc/PID/exe. */

#define DELETED_SUFFIX " (deleted)" /* proc(5): what exe's link text gains once the file is unlinked */

/* ---- the children ---- */

/* PID's state letter and parent from /proc/PID/stat; -errno when it is gone.
 * The name in parentheses may hold anything, ")" included: the fields
 * resume after its last ")". */
static int proc_state(pid_t pid, char *ret_state, pid_t *ret_ppid) {
        char path[64], text[512];
        _cleanup_close_ int fd = -EBADF;
        char state;
        int ppid;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return -errno;
        int r = read_fd_into(fd, text, sizeof(text));
        if (r < 0 && r != -EFBIG) /* the fields needed come first */
                return r;
        const char *close_paren = strrchr(text, ')');
        if (!close_paren || sscanf(close_paren + 1, " %c %d", &state, &ppid) != 2)
                return -EINVAL;
        *ret_state = state;
        *ret_ppid = ppid;
        return 0;
}

static bool proc_alive(pid_t pid) {
        char state;
        pid_t ppid;
        return proc_state(pid, &state, &ppid) == 0 && state != 'Z' && state != 'X';
}

static int cmp_pid(const void *a, const void *b) {
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
        return (x > y) - (x < y);
}

static int children_once(pid_t holder, pid_t *ret, size_t max) {
        _cleanup_closedir_ DIR *d = opendir("/proc");
        size_t n = 0;

        if (!d)
                return -errno;
        for (struct dirent *de; (de = readdir(d));) {
                char *end, state;
                pid_t ppid;
                long pid = strtol(de->d_name, &end, 10);
                if (*end || pid <= 0 || pid > INT_MAX)
                        continue;
                if (proc_state((pid_t)pid, &state, &ppid) < 0 || ppid != holder || state == 'Z' || state == 'X')
                        continue;
                if (n < max)
                        ret[n] = (pid_t)pid;
                n++;
        }
        qsort(ret, n < max ? n : max, sizeof(pid_t), cmp_pid);
        return (int)n;
}

static void sleep_ms(int ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int daemon_serving_pids(pid_t holder, pid_t *ret, size_t max, int settle_ms) {
        for (int waited = 0;; waited += 20) {
                if (!proc_alive(holder))
                        return -ESRCH;
                int n = children_once(holder, ret, max);
                if (n != 0 || waited >= settle_ms)
                        return n;
                sleep_ms(20);
        }
}

/* ---- the binaries ---- */

enum exe_state {
        EXE_UNKNOWN,  /* /proc/PID/exe unreadable (the process is gone) */
        EXE_CURRENT,  /* the file at PATH is the one it runs */
        EXE_REPLACED, /* another file is at PATH now */
        EXE_REMOVED,  /* nothing is at PATH now */
};

/* Which binary PID runs and whether it is still the file at that path: the
 * running file's device and inode (stat through the /proc/PID/exe magic
 * link reaches it even once unlinked) against the path's. */
static enum exe_state exe_of(pid_t pid, char path[static PATH_MAX]) {
        char link[64];
        struct stat running, on_disk;

        snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
        ssize_t n = readlink(link, path, PATH_MAX - 1);
        if (n <= 0 || stat(link, &running) < 0) {
                snprintf(path, PATH_MAX, "(binary unknown: %s)", strerror(errno));
                return EXE_UNKNOWN;
        }
        path[n] = 0;
        if (stat(path, &on_disk) == 0 && on_disk.st_dev == running.st_dev && on_disk.st_ino == running.st_ino)
                return EXE_CURRENT;
        size_t len = (size_t)n, suffix = strlen(DELETED_SUFFIX);
        if (len > suffix && streq(path + len - suffix, DELETED_SUFFIX))
                path[len - suffix] = 0;
        return stat(path, &on_disk) == 0 ? EXE_REPLACED : EXE_REMOVED;
}

/* Why the state matters differs by part: the holder never serves and
 * re-executes whatever is at its path for each serving process it starts. */
static const char *exe_note(enum exe_state s, bool holder) {
        switch (s) {
        case EXE_REPLACED:
                return holder ? " (replaced on disk since it started: the holder does not serve; each serving "
                                "process it starts runs the new file)"
                              : " (replaced on disk since it started: `curate daemon restart` picks up the new one)";
        case EXE_REMOVED:
                return holder ? " (deleted from disk since it started: no serving process can be started "
                                "until a curatefs is put back at that path)"
                              : " (deleted from disk since it started: a restart finds no binary there)";
        default:
                return "";
        }
}

void daemon_parts_print(FILE *f, pid_t holder) {
        pid_t serving[DAEMON_PARTS_MAX];
        char path[PATH_MAX];
        enum exe_state s;

        int n = daemon_serving_pids(holder, serving, ELEMENTSOF(serving), 500);
        if (n < 0)
                return; /* gone since the first line: nothing true to add */
        s = exe_of(holder, path);
        if (n == 0) {
                fprintf(f, "  single process (old-style curatefs, no serving processes; `curate daemon restart` "
                           "cannot replace it in place): pid %d, %s%s\n",
                        (int)holder, path, s == EXE_CURRENT ? "" : " (replaced or deleted on disk since it started)");
                return;
        }
        fprintf(f, "  holder: pid %d, %s%s\n", (int)holder, path, exe_note(s, true));
        for (int i = 0; i < n && i < (int)ELEMENTSOF(serving); i++) {
                s = exe_of(serving[i], path);
                fprintf(f, "  serving: pid %d, %s%s\n", (int)serving[i], path, exe_note(s, false));
        }
        if (n > (int)ELEMENTSOF(serving))
                fprintf(f, "  (%d more serving processes)\n", n - (int)ELEMENTSOF(serving));
}

/* ---- the parts as JSON (`curate daemon status --json`) ---- */

static const char *exe_state_name(enum exe_state s) {
        static const char *const names[] = {
                [EXE_UNKNOWN] = "unknown",
                [EXE_CURRENT] = "current",
                [EXE_REPLACED] = "replaced",
                [EXE_REMOVED] = "removed",
        };
        return names[s];
}

/* PID's resident set in KiB (VmRSS of /proc/PID/status; a kernel thread has
 * none), or -errno. */
static int64_t rss_kib(pid_t pid) {
        char path[64];
        _cleanup_free_ char *text = NULL;
        uint64_t kib;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        if ((r = read_file_at(AT_FDCWD, path, &text, NULL)) < 0)
                return r;
        if ((r = keyed_u64(text, "VmRSS", &kib)) < 0)
                return r;
        return (int64_t)kib;
}

/* Seconds since PID started: its start time (proc(5) /proc/PID/stat field
 * 22, in clock ticks since boot) against the CLOCK_BOOTTIME now, the clock
 * that start time counts on. -errno when unreadable. */
static int64_t age_s(pid_t pid) {
        char path[64], text[1024];
        _cleanup_close_ int fd = -EBADF;
        unsigned long long start;
        struct timespec now;
        long hz = sysconf(_SC_CLK_TCK);

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
                return -errno;
        int r = read_fd_into(fd, text, sizeof(text));
        if (r < 0)
                return r;
        /* after the name: state (field 3) ... starttime (field 22) */
        const char *p = strrchr(text, ')');
        if (!p || hz <= 0)
                return -EINVAL;
        p++;
        for (int field = 3; field < 22; field++) {
                p += strspn(p, " ");
                p += strcspn(p, " ");
        }
        if (sscanf(p, " %llu", &start) != 1)
                return -EINVAL;
        if (clock_gettime(CLOCK_BOOTTIME, &now) < 0)
                return -errno;
        int64_t now_ticks = (int64_t)now.tv_sec * hz + (int64_t)now.tv_nsec * hz / 1000000000;
        int64_t ticks = now_ticks - (int64_t)start;
        return ticks < 0 ? 0 : ticks / hz;
}

/* The systemd unit PID runs in (curatefs.service when the unit started it):
 * the last component of its name=systemd (v1, whatever its hierarchy id)
 * or unified (0::) cgroup path, when that ends in ".service"; NULL
 * otherwise. */
static char *unit_of(pid_t pid) {
        char path[64];
        _cleanup_free_ char *text = NULL;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
        if (read_file_at(AT_FDCWD, path, &text, NULL) < 0)
                return NULL;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                const char *controllers = strchr(line, ':');
                if (!controllers || (strncmp(controllers, ":name=systemd:", 14) != 0 && strncmp(line, "0::", 3) != 0))
                        continue;
                const char *last = strrchr(line, '/');
                size_t n = last ? strlen(last + 1) : 0;
                if (n > 8 && streq(last + 1 + n - 8, ".service"))
                        return strdup(last + 1);
        }
        return NULL;
}

static json_object *part_json(pid_t pid) {
        char path[PATH_MAX];
        enum exe_state s = exe_of(pid, path);
        int64_t rss = rss_kib(pid), age = age_s(pid);
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "pid", json_object_new_int64(pid));
        json_object_object_add(o, "binary", s == EXE_UNKNOWN ? NULL : json_object_new_string(path));
        json_object_object_add(o, "binary_state", json_object_new_string(exe_state_name(s)));
        json_object_object_add(o, "rss_kib", rss < 0 ? NULL : json_object_new_int64(rss));
        json_object_object_add(o, "age_s", age < 0 ? NULL : json_object_new_int64(age));
        return o;
}

int daemon_parts_json(pid_t holder, json_object *into) {
        pid_t serving[DAEMON_PARTS_MAX];
        _cleanup_free_ char *unit = NULL;
        int64_t total;

        int n = daemon_serving_pids(holder, serving, ELEMENTSOF(serving), 500);
        if (n < 0)
                return n;
        json_object *h = part_json(holder), *list = json_object_new_array();
        if (!h || !list) {
                json_object_put(h);
                json_object_put(list);
                return -ENOMEM;
        }
        json_object_object_add(into, "holder", h);
        json_object_object_add(into, "single_process", json_object_new_boolean(n == 0));
        total = rss_kib(holder);
        total = total > 0 ? total : 0;
        for (int i = 0; i < n && i < (int)ELEMENTSOF(serving); i++) {
                int64_t rss = rss_kib(serving[i]);
                json_object_array_add(list, part_json(serving[i]));
                total += rss > 0 ? rss : 0;
        }
        json_object_object_add(into, "serving_processes", list);
        json_object_object_add(into, "serving_count", json_object_new_int(n));
        json_object_object_add(into, "rss_kib_total", json_object_new_int64(total));
        unit = unit_of(holder);
        json_object_object_add(into, "unit", unit ? json_object_new_string(unit) : NULL);
        return 0;
}

/* ---- replacing the serving processes ---- */

const char *pid_list(const pid_t *pids, size_t n, char *buf, size_t size) {
        size_t len = 0;

        buf[0] = 0;
        for (size_t i = 0; i < n && len < size; i++)
                len += (size_t)snprintf(buf + len, size - len, "%s%d", i ? " " : "", (int)pids[i]);
        return buf;
}

struct old_serving {
        size_t n;
        pid_t pid[DAEMON_PARTS_MAX];
        int fd[DAEMON_PARTS_MAX]; /* pidfds: an exited process polls readable, reaped or not, and a
                                   * recycled pid cannot pass for it */
};

static void old_serving_done(struct old_serving *o) {
        for (size_t i = 0; i < o->n; i++)
                if (o->fd[i] >= 0)
                        close(TAKE_FD(o->fd[i]));
}

static bool exited(int pidfd) {
        struct pollfd p = { .fd = pidfd, .events = POLLIN };
        return pidfd < 0 || (poll(&p, 1, 0) > 0 && (p.revents & POLLIN));
}

/* The old ones still running, in LEFT; their count. */
static size_t old_left(const struct old_serving *o, pid_t left[static DAEMON_PARTS_MAX]) {
        size_t k = 0;
        for (size_t i = 0; i < o->n; i++)
                if (!exited(o->fd[i]))
                        left[k++] = o->pid[i];
        return k;
}

/* NOW's pids that are not OLD's, in RET; their count. */
static size_t new_ones(const struct old_serving *o, const pid_t *now, size_t n_now, pid_t *ret) {
        size_t k = 0;
        for (size_t i = 0; i < n_now; i++) {
                bool old = false;
                for (size_t j = 0; j < o->n; j++)
                        old = old || now[i] == o->pid[j];
                if (!old)
                        ret[k++] = now[i];
        }
        return k;
}

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What did not happen by the deadline. */
static int replace_timed_out(pid_t holder, int timeout_ms, const struct old_serving *o, const pid_t *fresh,
                             size_t n_fresh, char **ret_error) {
        pid_t left[DAEMON_PARTS_MAX];
        char a[256], b[256];
        size_t n_left = old_left(o, left);

        if (n_fresh == 0)
                return error_printf(ret_error, -ETIMEDOUT,
                                    "no new serving process appeared within %d s of SIGHUP to the holder (pid %d); "
                                    "still serving: %s",
                                    timeout_ms / 1000, (int)holder,
                                    n_left ? pid_list(left, n_left, a, sizeof(a)) : "none");
        return error_printf(ret_error, -ETIMEDOUT,
                            "new serving process %s started, but the old %s did not exit within %d s of SIGHUP "
                            "to the holder (pid %d), which ends them only once the new one serves",
                            pid_list(fresh, n_fresh, a, sizeof(a)), pid_list(left, n_left, b, sizeof(b)),
                            timeout_ms / 1000, (int)holder);
}

/* Poll until OLD have all exited and a new child runs. */
static int wait_replaced(pid_t holder, int holder_fd, int timeout_ms, const struct old_serving *o,
                         pid_t ret_new[static DAEMON_PARTS_MAX], size_t *ret_n_new, char **ret_error) {
        pid_t now[DAEMON_PARTS_MAX], left[DAEMON_PARTS_MAX], fresh[DAEMON_PARTS_MAX];
        int64_t deadline = now_ms() + timeout_ms;
        size_t n_fresh = 0;

        for (;;) {
                struct pollfd p = { .fd = holder_fd, .events = POLLIN };
                if (poll(&p, 1, 0) > 0 && (p.revents & POLLIN))
                        return error_printf(ret_error, -ESRCH, "the holder (pid %d) exited during the restart",
                                            (int)holder);
                int n = children_once(holder, now, ELEMENTSOF(now));
                if (n < 0)
                        return error_printf(ret_error, n, "cannot list the processes in /proc: %s", strerror(-n));
                n_fresh = new_ones(o, now, (size_t)n < ELEMENTSOF(now) ? (size_t)n : ELEMENTSOF(now), fresh);
                if (n_fresh > 0 && old_left(o, left) == 0) {
                        memcpy(ret_new, fresh, n_fresh * sizeof(pid_t));
                        *ret_n_new = n_fresh;
                        return 0;
                }
                if (now_ms() >= deadline)
                        return replace_timed_out(holder, timeout_ms, o, fresh, n_fresh, ret_error);
                sleep_ms(20);
        }
}

int daemon_replace_serving(pid_t holder, int timeout_ms, pid_t ret_old[static DAEMON_PARTS_MAX],
                           size_t *ret_n_old, pid_t ret_new[static DAEMON_PARTS_MAX], size_t *ret_n_new,
                           char **ret_error) {
        _cleanup_(old_serving_done) struct old_serving o = { .n = 0 };
        _cleanup_close_ int holder_fd = (int)syscall(SYS_pidfd_open, holder, 0);
        int r;

        if (holder_fd < 0)
                return error_printf(ret_error, -errno, "cannot open the holder (pid %d): %s", (int)holder,
                                    strerror(errno));
        int n = daemon_serving_pids(holder, o.pid, ELEMENTSOF(o.pid), 1000);
        if (n < 0)
                return error_printf(ret_error, n, "the holder (pid %d) is gone", (int)holder);
        if (n == 0)
                return error_printf(ret_error, -EOPNOTSUPP,
                                    "curatefs (pid %d) is an old-style single process (no serving processes): it "
                                    "cannot be replaced in place (SIGHUP would end it); `curate daemon stop --kill` "
                                    "and `curate daemon start` replace it, and the views of running containers "
                                    "then fail",
                                    (int)holder);
        if (n > (int)ELEMENTSOF(o.pid))
                return error_printf(ret_error, -E2BIG, "the holder (pid %d) has %d children, more than %zu serving "
                                    "processes: not a curatefs holder?", (int)holder, n, ELEMENTSOF(o.pid));
        o.n = (size_t)n;
        for (size_t i = 0; i < o.n; i++)
                o.fd[i] = (int)syscall(SYS_pidfd_open, o.pid[i], 0); /* -1 (ESRCH): already gone */
        /* through the pidfd: a holder that exited since cannot have its pid
         * recycled under the signal */
        if (syscall(SYS_pidfd_send_signal, holder_fd, SIGHUP, NULL, 0) < 0)
                return error_printf(ret_error, -errno, "cannot send SIGHUP to the holder (pid %d): %s", (int)holder,
                                    strerror(errno));
        r = wait_replaced(holder, holder_fd, timeout_ms, &o, ret_new, ret_n_new, ret_error);
        if (r < 0)
                return r;
        memcpy(ret_old, o.pid, o.n * sizeof(pid_t));
        *ret_n_old = o.n;
        return 0;
}
