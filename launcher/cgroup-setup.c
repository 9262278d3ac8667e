#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <linux/magic.h>
#include "fileio.h"
#include "launcher.h"
#include "macro.h"

/* The command's cgroup: "curate/NAME" beneath the root of every hierarchy.
 * "curate/" is shared by every run (and never removed); NAME is this run's.
 * Everything is reached through the hierarchies' directory fds; the absolute
 * paths kept beside them only name things in messages. */

#define CURATE_CGROUP "curate"
#define CPU_PERIOD_US 100000
#define VALUE_MAX 64 /* a formatted limit: "18446744073709551615", "max 100000" */

/* How long run_cgroup_destroy waits for the killed processes to leave, and
 * for the kernel to let go of the directory afterwards. */
#define DESTROY_KILL_NS (1000 * 1000 * 1000LL)
#define DESTROY_RMDIR_NS (1000 * 1000 * 1000LL)

/* A cgroup directory: its fd and, for messages, its absolute path. */
struct level {
        int fd;
        char *path;
};


static char *path_join(const char *a, const char *b) {
        char *s;
        return asprintf(&s, "%s%s%s", a, streq(a, "/") ? "" : "/", b) < 0 ? NULL : s;
}

/* The absolute path of an open directory, for messages only. */
static char *fd_path(int fd) {
        char link[64], target[PATH_MAX];
        ssize_t n;

        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0)
                return strdup("(cgroup hierarchy)");
        target[n] = 0;
        return strdup(target);
}

static bool is_cgroupfs(int fd) {
        struct statfs sf;
        return fstatfs(fd, &sf) == 0 && (sf.f_type == CGROUP_SUPER_MAGIC || sf.f_type == CGROUP2_SUPER_MAGIC);
}

static void sleep_ns(long ns) {
        struct timespec ts = { .tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- reading and writing cgroup files ---- */

/* Open FILE of LV for writing. cgroupfs creates no files, so a missing one
 * stays ENOENT there; a plain directory (the unit tests' stand-in for
 * cgroupfs) gets the file created. */
static int open_for_write(const struct level *lv, const char *file) {
        int fd = openat(lv->fd, file, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && !is_cgroupfs(lv->fd))
                fd = openat(lv->fd, file, O_WRONLY | O_TRUNC | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        return fd < 0 ? -errno : fd;
}

/* One write(2) per value: cgroupfs parses each write on its own. */
static int write_value(const struct level *lv, const char *file, const char *value) {
        _cleanup_close_ int fd = open_for_write(lv, file);
        size_t len = strlen(value);
        ssize_t n;

        if (fd < 0)
                return fd;
        while ((n = write(fd, value, len)) < 0 && errno == EINTR)
                ;
        if (n < 0)
                return -errno;
        return (size_t)n == len ? 0 : -EIO;
}

static int write_file(const struct level *lv, const char *file, const char *value, char **ret_error) {
        int r = write_value(lv, file, value);
        if (r < 0)
                return error_printf(ret_error, r, "%s/%s: cannot write '%s': %s", lv->path, file, value, strerror(-r));
        return 0;
}

/* FILE's content without trailing blanks; a missing file reads as empty. */
static int read_trimmed(const struct level *lv, const char *file, char **ret, char **ret_error) {
        char *text = NULL;
        size_t len = 0;
        int r = read_file_at(lv->fd, file, &text, &len);

        if (r == -ENOENT) {
                text = strdup("");
                r = text ? 0 : -ENOMEM;
        }
        if (r < 0)
                return error_printf(ret_error, r, "%s/%s: cannot read: %s", lv->path, file, strerror(-r));
        while (len > 0 && strchr(" \t\n", text[len - 1]))
                text[--len] = 0;
        *ret = text;
        return 0;
}

/* ---- what the policy asks for ---- */

static bool limit_set(uint64_t v) {
        return v != POLICY_UNSET;
}

static unsigned policy_controllers(const struct policy *p) {
        return (limit_set(p->memory) || limit_set(p->memory_swap) ? 1u << CG_MEMORY : 0) |
               (limit_set(p->cpus_milli) ? 1u << CG_CPU : 0) |
               (p->cpuset ? 1u << CG_CPUSET : 0) |
               (limit_set(p->pids) ? 1u << CG_PIDS : 0);
}

/* run.c validates these for the user; checked again here because the
 * values below are computed from them. */
static int validate_policy(const struct policy *p, char **ret_error) {
        if (limit_set(p->memory_swap) && p->memory_swap != POLICY_MAX &&
            (!limit_set(p->memory) || p->memory == POLICY_MAX || p->memory_swap < p->memory))
                return error_printf(ret_error, -EINVAL,
                                 "a memory+swap limit needs a memory limit no larger than itself");
        if (limit_set(p->cpus_milli) && p->cpus_milli != POLICY_MAX &&
            (p->cpus_milli == 0 || p->cpus_milli > UINT64_MAX / (CPU_PERIOD_US / 1000)))
                return error_printf(ret_error, -ERANGE, "CPU quota %" PRIu64 "/1000 is out of range", p->cpus_milli);
        return 0;
}

/* ---- the limits, as a table: one row per file written, in order ---- */

/* The value to write, or NULL when the policy leaves the file alone. */
typedef const char *(*limit_value_fn)(const struct policy *p, int version, char buf[static VALUE_MAX]);

static const char *fmt_u64_or_max(uint64_t v, int version, char buf[static VALUE_MAX]) {
        if (v == POLICY_UNSET)
                return NULL;
        if (v == POLICY_MAX)
                return version == 1 ? "-1" : "max";
        snprintf(buf, VALUE_MAX, "%" PRIu64, v);
        return buf;
}

static const char *memory_value(const struct policy *p, int version, char buf[static VALUE_MAX]) {
        return fmt_u64_or_max(p->memory, version, buf);
}

/* v1 limits memory+swap (docker's --memory-swap as is); v2 limits swap
 * alone: memory_swap - memory. */
static const char *swap_value(const struct policy *p, int version, char buf[static VALUE_MAX]) {
        if (version == 1 || p->memory_swap == POLICY_UNSET || p->memory_swap == POLICY_MAX)
                return fmt_u64_or_max(p->memory_swap, version, buf);
        snprintf(buf, VALUE_MAX, "%" PRIu64, p->memory_swap - p->memory);
        return buf;
}

static const char *period_value(const struct policy *p, int version, char buf[static VALUE_MAX]) {
        return limit_set(p->cpus_milli) ? fmt_u64_or_max(CPU_PERIOD_US, version, buf) : NULL;
}

/* milli CPUs x period / 1000: 1500 -> 150000 us per 100000 us */
static const char *quota_value(const struct policy *p, int version, char buf[static VALUE_MAX]) {
        if (!limit_set(p->cpus_milli))
                return NULL;
        if (p->cpus_milli == POLICY_MAX)
                snprintf(buf, VALUE_MAX, version == 1 ? "-1" : "max %d", CPU_PERIOD_US);
        else if (version == 1)
                snprintf(buf, VALUE_MAX, "%" PRIu64, p->cpus_milli * (CPU_PERIOD_US / 1000));
        else
                snprintf(buf, VALUE_MAX, "%" PRIu64 " %d", p->cpus_milli * (CPU_PERIOD_US / 1000), CPU_PERIOD_US);
        return buf;
}

static const char *cpuset_value(const struct policy *p, int version, char buf[static VALUE_MAX]) {
        return p->cpuset;
}

static const char *pids_value(const struct policy *p, int version, char buf[static VALUE_MAX]) {
        return p->pids == POLICY_MAX ? "max" : fmt_u64_or_max(p->pids, version, buf);
}

struct limit {
        enum cg_controller controller;
        const char *file[3]; /* by version; NULL: not written there */
        limit_value_fn value;
        bool swap;           /* exists only where the kernel accounts swap */
};

/* v1 checks memory.memsw against memory.limit_in_bytes, so memory comes
 * first; cfs_period_us before cfs_quota_us. */
static const struct limit limits[] = {
        { CG_MEMORY, { [1] = "memory.limit_in_bytes", [2] = "memory.max" }, memory_value },
        { CG_MEMORY, { [1] = "memory.memsw.limit_in_bytes", [2] = "memory.swap.max" }, swap_value, .swap = true },
        { CG_CPU, { [1] = "cpu.cfs_period_us" }, period_value },
        { CG_CPU, { [1] = "cpu.cfs_quota_us", [2] = "cpu.max" }, quota_value },
        { CG_CPUSET, { [1] = "cpuset.cpus", [2] = "cpuset.cpus" }, cpuset_value },
        { CG_PIDS, { [1] = "pids.max", [2] = "pids.max" }, pids_value },
};

/* The kernel shows the swap files exactly when it accounts swap: v1 has
 * memory.memsw.* from the root down, v2 memory.swap.* in every non-root
 * cgroup with the memory controller. */
static bool swap_accounted(const struct cg_hier *h, const struct level *lv, const char *file) {
        if (h->version == 1)
                return faccessat(h->fd, file, F_OK, 0) == 0;
        return faccessat(lv->fd, file, F_OK, 0) == 0 || !is_cgroupfs(lv->fd);
}

static int write_limits(const struct cg_hier *h, const struct level *lv, const struct policy *p, char **ret_error) {
        for (size_t i = 0; i < ELEMENTSOF(limits); i++) {
                const struct limit *lim = &limits[i];
                const char *file = lim->file[h->version];
                char buf[VALUE_MAX];
                const char *value;
                int r;

                if (!file || !(h->controllers & 1u << lim->controller) || !(value = lim->value(p, h->version, buf)))
                        continue;
                if (lim->swap && !swap_accounted(h, lv, file) && p->memory_swap == POLICY_MAX)
                        continue; /* unlimited is what the kernel does anyway */
                if (lim->swap && !swap_accounted(h, lv, file))
                        return error_printf(ret_error, -EOPNOTSUPP,
                                         "%s/%s: missing: this kernel does not account swap (swapaccount=0, "
                                         "or built without it), so a memory+swap limit cannot be set",
                                         lv->path, file);
                r = write_file(lv, file, value, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- per-version preparation of a new level: one table, no if (v2) ---- */

struct setup_ops {
        /* make CONTROLLERS usable by the children of PARENT */
        int (*enable)(const struct level *parent, unsigned controllers, unsigned needed, char **ret_error);
        /* give a new cgroup what it needs before a task can join it */
        int (*init)(const struct level *child, const struct level *parent, unsigned controllers, char **ret_error);
};

static int noop_enable(const struct level *parent, unsigned controllers, unsigned needed, char **ret_error) {
        return 0;
}

static int noop_init(const struct level *child, const struct level *parent, unsigned controllers,
                     char **ret_error) {
        return 0;
}

/* v1 cpuset: a new cgroup starts with empty cpuset.cpus and cpuset.mems
 * and refuses tasks (ENOSPC) until both are set (cgroups/cpusets.rst),
 * unless its parent has cgroup.clone_children, which copies them at
 * mkdir. Copy the parent's into the empty ones. */
static int v1_copy_cpuset(const struct level *child, const struct level *parent, char **ret_error) {
        static const char *const files[] = { "cpuset.mems", "cpuset.cpus" };

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *have = NULL, *want = NULL;
                int r = read_trimmed(child, files[i], &have, ret_error);
                if (r < 0)
                        return r;
                if (*have)
                        continue;
                r = read_trimmed(parent, files[i], &want, ret_error);
                if (r >= 0)
                        r = write_file(child, files[i], want, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int v1_init(const struct level *child, const struct level *parent, unsigned controllers,
                   char **ret_error) {
        _cleanup_free_ char *cpus = NULL;
        _cleanup_close_ int grand = -EBADF;
        int r;

        if (!(controllers & 1u << CG_CPUSET))
                return 0;
        /* "curate/" has cgroup.clone_children set: a run's cgroup starts
         * with its cpus and mems (one read here, no write) */
        r = read_trimmed(child, "cpuset.cpus", &cpus, ret_error);
        if (r < 0 || *cpus)
                return r;
        /* the first run on this host (or "curate/" made by another run
         * that has not set it up yet): "curate/" from its parent, then
         * the flag, then this one */
        grand = openat(parent->fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (grand < 0)
                return error_printf(ret_error, -errno, "%s/..: %s", parent->path, strerror(errno));
        const struct level top = { .fd = grand, .path = parent->path };
        r = v1_copy_cpuset(parent, &top, ret_error);
        if (r >= 0)
                r = write_file(parent, "cgroup.clone_children", "1", ret_error);
        if (r >= 0)
                r = v1_copy_cpuset(child, parent, ret_error);
        return r;
}

static bool has_word(const char *list, const char *word) {
        size_t n = strlen(word);
        for (const char *p = list; (p = strstr(p, word)); p += n)
                if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ' || p[n] == '\n'))
                        return true;
        return false;
}

/* v2: enable in PARENT's cgroup.subtree_control every controller of ours
 * the hierarchy offers (the views read their files in the run's cgroup),
 * one at a time so that one the kernel refuses fails the run only when its
 * limit was asked for. Already enabled: nothing is written. */
static int v2_enable(const struct level *parent, unsigned controllers, unsigned needed, char **ret_error) {
        _cleanup_free_ char *enabled = NULL;
        int r = read_trimmed(parent, "cgroup.subtree_control", &enabled, ret_error);

        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(cg_v2_controllers); i++) {
                char word[16];
                if (!(controllers & cg_v2_controllers[i].mask) || has_word(enabled, cg_v2_controllers[i].name))
                        continue;
                snprintf(word, sizeof(word), "+%s", cg_v2_controllers[i].name);
                r = write_value(parent, "cgroup.subtree_control", word);
                if (r < 0 && (needed & cg_v2_controllers[i].mask))
                        return error_printf(ret_error, r, "%s/cgroup.subtree_control: cannot write '%s': %s",
                                         parent->path, word, strerror(-r));
        }
        return 0;
}

static const struct setup_ops setup_ops[3] = {
        [1] = { noop_enable, v1_init },
        [2] = { v2_enable, noop_init },
};

/* ---- creating and removing directories ---- */

/* rmdir through the parent: cgroupfs removes a cgroup with its files in
 * place; a plain stand-in directory needs its files unlinked first (only
 * there is ENOTEMPTY possible: cgroupfs answers EBUSY). */
static int remove_dir(int parent_fd, const char *name) {
        if (unlinkat(parent_fd, name, AT_REMOVEDIR) == 0)
                return 0;
        if (errno != ENOTEMPTY)
                return -errno;
        _cleanup_close_ int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d)
                return -errno;
        int dfd = TAKE_FD(fd);
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_type == DT_REG)
                        (void)unlinkat(dfd, de->d_name, 0);
        return unlinkat(parent_fd, name, AT_REMOVEDIR) == 0 ? 0 : -errno;
}

/* FN on each child cgroup of DIR_FD (a delegated cgroup's, made by the
 * command), depth first: children before their parent. */
static void for_each_child(int dir_fd, void (*fn)(int parent_fd, const char *name, int64_t deadline),
                           int64_t deadline) {
        int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = fd < 0 ? NULL : fdopendir(fd);

        if (!d) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_type == DT_DIR && !streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        fn(dirfd(d), de->d_name, deadline);
}

/* rmdir NAME in PARENT_FD, its child cgroups first; EBUSY is retried
 * until DEADLINE: the kernel lets go of a cgroup some time after its last
 * task has exited. */
static void remove_tree(int parent_fd, const char *name, int64_t deadline) {
        _cleanup_close_ int fd = openat(parent_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        long wait = 1000 * 1000;

        if (fd >= 0)
                for_each_child(fd, remove_tree, deadline);
        while (remove_dir(parent_fd, name) == -EBUSY && now_ns() < deadline) {
                sleep_ns(wait);
                if (wait < 20 * 1000 * 1000)
                        wait *= 2;
        }
}

/* Remove CG's directories (a delegated one's children first). */
static void remove_cgroups(struct run_cgroup *cg, int64_t deadline) {
        for (int i = 0; i < cg->n; i++) {
                const char *name = strrchr(cg->path[i], '/');
                _cleanup_close_ int parent = openat(cg->dir_fd[i], "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                long wait = 1000 * 1000;

                if (parent < 0 || !name)
                        continue;
                if (cg->deleg_path[i]) {
                        remove_tree(parent, name + 1, deadline);
                        continue;
                }
                while (remove_dir(parent, name + 1) == -EBUSY && now_ns() < deadline) {
                        sleep_ns(wait);
                        if (wait < 20 * 1000 * 1000)
                                wait *= 2;
                }
        }
}

static void run_cgroup_free(struct run_cgroup *cg) {
        for (int i = 0; i < cg->n; i++) {
                if (cg->dir_fd[i] >= 0)
                        close(cg->dir_fd[i]);
                free(cg->path[i]);
                free(cg->mount[i]);
                if (cg->deleg_path[i])
                        close(cg->deleg_fd[i]);
                free(cg->deleg_path[i]);
        }
        *cg = (struct run_cgroup){ .n = 0, .devices_at = -1, .unified_at = -1 };
}

/* 1 when the cgroup DIR_FD and every cgroup beneath it list no process,
 * 0 when one does, -errno when that cannot be told (a directory without
 * cgroup.procs is no cgroup: the unit tests' stand-in). */
static int tree_empty(int dir_fd) {
        _cleanup_free_ char *procs = NULL;
        int r = read_file_at(dir_fd, "cgroup.procs", &procs, NULL);

        if (r < 0)
                return r;
        if (procs[strspn(procs, " \n")])
                return 0;
        int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                r = -errno;
                if (fd >= 0)
                        close(fd);
                return r;
        }
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_close_ int child = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                r = child < 0 ? -errno : tree_empty(child);
                if (r <= 0)
                        return r;
        }
        return 1;
}

/* NAME (this run's cgroup, "run-PID") exists already in PARENT. Our pid is
 * ours, so it is what a run that had it before left behind: a launcher
 * killed with SIGKILL cannot remove its cgroup. Empty (its processes died
 * with it), it is removed and made afresh; holding a process, it is
 * refused, never joined or emptied. */
static int replace_stale(const struct level *parent, const char *name, const char *path, char **ret_error) {
        _cleanup_close_ int fd = openat(parent->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int r = fd < 0 ? -errno : tree_empty(fd);

        if (r == 0)
                return error_printf(ret_error, -EEXIST, "%s: cannot create the cgroup: File exists, and processes "
                                    "are in it (another run's: refusing to share it)", path);
        if (r < 0)
                return error_printf(ret_error, -EEXIST, "%s: cannot create the cgroup: File exists, and it is "
                                    "not an empty cgroup left by an earlier run (%s)", path, strerror(-r));
        remove_tree(parent->fd, name, now_ns() + DESTROY_RMDIR_NS);
        if (mkdirat(parent->fd, name, 0755) < 0)
                return error_printf(ret_error, -errno, "%s: cannot create the cgroup (an earlier run left it "
                                    "and it could not be replaced): %s", path, strerror(errno));
        return 0;
}

/* Create and open "NAME" in PARENT. NAME is this run's unless SHARED: one
 * that exists already is an earlier run's leftover (replace_stale). */
static int make_level(const struct level *parent, const char *name, bool shared, struct level *ret,
                      char **ret_error) {
        _cleanup_free_ char *path = path_join(parent->path, name);
        if (!path)
                return -ENOMEM;
        if (mkdirat(parent->fd, name, 0755) < 0) {
                int r = -errno;
                if (r == -EEXIST && !shared)
                        r = replace_stale(parent, name, path, ret_error);
                else if (r != -EEXIST)
                        r = error_printf(ret_error, r, "%s: cannot create the cgroup: %s", path, strerror(-r));
                else
                        r = 0;
                if (r < 0)
                        return r;
        }
        int fd = openat(parent->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                if (!shared)
                        (void)remove_dir(parent->fd, name);
                return error_printf(ret_error, r, "%s: cannot open the cgroup: %s", path, strerror(-r));
        }
        *ret = (struct level){ .fd = fd, .path = TAKE_PTR(path) };
        return 0;
}

static void level_done(struct level *lv) {
        if (lv->fd >= 0)
                close(lv->fd);
        free(lv->path);
        *lv = (struct level){ .fd = -EBADF };
}

/* Create "curate/NAME" in H, record it in CG (so that a failure from here
 * on removes it) and write the limits. */
static int create_in(const struct cg_hier *h, const struct policy *p, const char *name, bool shared_name,
                     struct run_cgroup *cg, char **ret_error) {
        const struct setup_ops *ops = &setup_ops[h->version];
        unsigned needed = policy_controllers(p) & h->controllers;
        _cleanup_free_ char *root_path = fd_path(h->fd);
        const struct level root = { .fd = h->fd, .path = root_path };
        _cleanup_(level_done) struct level shared = { .fd = -EBADF }, run = { .fd = -EBADF };
        int r, k;

        if (!root_path)
                return -ENOMEM;
        r = ops->enable(&root, h->controllers, needed, ret_error);
        if (r >= 0)
                r = make_level(&root, CURATE_CGROUP, true, &shared, ret_error);
        if (r >= 0)
                r = ops->enable(&shared, h->controllers, needed, ret_error);
        if (r >= 0)
                r = make_level(&shared, name, shared_name, &run, ret_error);
        if (r < 0)
                return r;
        k = cg->n++;
        cg->dir_fd[k] = TAKE_FD(run.fd);
        cg->path[k] = TAKE_PTR(run.path);
        cg->mount[k] = TAKE_PTR(root_path);
        const struct level lv = { .fd = cg->dir_fd[k], .path = cg->path[k] };
        r = ops->init(&lv, &shared, h->controllers, ret_error);
        if (r >= 0)
                r = write_limits(h, &lv, p, ret_error);
        return r;
}

/* Remember where the device controller lives among CG's directories (the
 * device rules go there) when hierarchy I added one: BEFORE is cg->n before. */
static void note_hierarchy(const struct cg_layout *l, int i, int before, struct run_cgroup *cg) {
        if (cg->n == before)
                return;
        if (i == l->devices)
                cg->devices_at = cg->n - 1;
        else if (l->hier[i].version == 2)
                cg->unified_at = cg->n - 1;
}

/* The hierarchies the command is placed in: each v1 mount serving one of
 * our controllers, the v1 devices mount (for the device rules), and the
 * cgroup2 mount when it serves one of ours. On a hybrid host the cgroup2
 * mount serves none (only hugetlb here): a cgroup there would limit
 * nothing and be one more directory to create and remove on every run
 * (teardown kills through the v1 cgroups), so it is left out. */
static bool hier_used(const struct cg_layout *l, int i) {
        return l->hier[i].controllers != 0 || i == l->devices;
}

static bool valid_name(const char *name) {
        return name && *name && !strchr(name, '/') && !streq(name, ".") && !streq(name, "..") &&
               strlen(name) < NAME_MAX;
}

/* A controller the policy limits must be mounted somewhere. */
static int check_controllers(const struct cg_layout *l, const struct policy *p, char **ret_error) {
        unsigned needed = policy_controllers(p);

        for (unsigned c = 0; c < _CG_CONTROLLER_MAX; c++)
                if (needed & 1u << c && !cg_layout_hier(l, c))
                        return error_printf(ret_error, -EOPNOTSUPP,
                                         "the %s cgroup controller is not available on this host, "
                                         "so its limit cannot be set", cg_controller_name(c));
        return 0;
}

int run_cgroup_create(const struct cg_layout *l, const struct policy *p, const char *name, struct run_cgroup *ret,
                      char **ret_error) {
        struct run_cgroup cg = { .n = 0, .transient = true, .devices_at = -1, .unified_at = -1 };
        int r;

        if (!valid_name(name))
                return error_printf(ret_error, -EINVAL, "'%s' is not a valid cgroup name", name ? name : "");
        r = validate_policy(p, ret_error);
        if (r >= 0)
                r = check_controllers(l, p, ret_error);
        if (r < 0)
                return r;
        for (int i = 0; i < l->n && r >= 0; i++)
                if (hier_used(l, i)) {
                        int before = cg.n;
                        r = create_in(&l->hier[i], p, name, false, &cg, ret_error);
                        note_hierarchy(l, i, before, &cg);
                }
        if (r >= 0 && cg.n == 0)
                r = error_printf(ret_error, -ENOENT, "no cgroup hierarchy to create %s/%s in", CURATE_CGROUP, name);
        if (r < 0) {
                /* nothing has joined yet: the directories are empty */
                remove_cgroups(&cg, now_ns() + DESTROY_RMDIR_NS);
                run_cgroup_free(&cg);
                return r;
        }
        *ret = cg;
        return 0;
}

int run_cgroup_open_shared(const struct cg_layout *l, const char *name, struct run_cgroup *ret, char **ret_error) {
        struct run_cgroup cg = { .n = 0, .transient = false, .devices_at = -1, .unified_at = -1 };
        struct policy none;
        int r = 0;

        if (!valid_name(name))
                return error_printf(ret_error, -EINVAL, "'%s' is not a valid cgroup name", name ? name : "");
        policy_init_empty(&none);
        for (int i = 0; i < l->n && r >= 0; i++)
                if (hier_used(l, i))
                        r = create_in(&l->hier[i], &none, name, true, &cg, ret_error);
        policy_done(&none);
        if (r < 0) {
                run_cgroup_free(&cg); /* shared: left in place for its other users */
                return r;
        }
        *ret = cg;
        return 0;
}

/* ---- joining an existing cgroup ---- */

int run_cgroup_join(const struct cg_layout *l, const char *path, struct run_cgroup *ret, char **ret_error) {
        struct run_cgroup cg = { .n = 0, .transient = false, .devices_at = -1, .unified_at = -1 };

        if (!path || !*path || cg_path_has_dotdot(path))
                return error_printf(ret_error, -EINVAL, "cgroup '%s': not a cgroup path", path ? path : "");
        for (int i = 0; i < l->n; i++) {
                /* joined, the cgroup2 tree is worth it even without controllers:
                 * PATH may be a systemd unit's, tracked only there */
                if (!hier_used(l, i) && i != l->unified)
                        continue;
                _cleanup_free_ char *root_path = fd_path(l->hier[i].fd);
                int fd = open_beneath(l->hier[i].fd, path, O_RDONLY | O_DIRECTORY);
                if (fd == -ENOENT)
                        continue;
                char *full = root_path ? path_join(root_path, path + strspn(path, "/")) : NULL;
                if (fd < 0 || !full) {
                        int r = fd < 0 ? fd : -ENOMEM;
                        if (fd >= 0)
                                close(fd);
                        error_printf(ret_error, r, "%s: cannot open the cgroup: %s", full ? full : path, strerror(-r));
                        free(full);
                        run_cgroup_free(&cg);
                        return r;
                }
                cg.dir_fd[cg.n] = fd;
                cg.mount[cg.n] = TAKE_PTR(root_path);
                cg.path[cg.n++] = full;
                note_hierarchy(l, i, cg.n - 1, &cg);
        }
        if (cg.n == 0)
                return error_printf(ret_error, -ENOENT, "cgroup %s does not exist in any cgroup hierarchy", path);
        *ret = cg;
        return 0;
}

/* ---- delegation ---- */

/* v2: every controller LV offers, enabled for its children (before the
 * child exists and while LV holds no process: the "no internal
 * processes" rule); one the kernel refuses is skipped, as v2_enable does
 * for controllers no limit asked for. */
static int enable_all(const struct level *lv, char **ret_error) {
        _cleanup_free_ char *offered = NULL;
        char *save = NULL, word[64];
        int r = read_trimmed(lv, "cgroup.controllers", &offered, ret_error);

        if (r < 0)
                return r;
        for (char *c = strtok_r(offered, " \n", &save); c; c = strtok_r(NULL, " \n", &save)) {
                snprintf(word, sizeof(word), "+%s", c);
                (void)write_value(lv, "cgroup.subtree_control", word);
        }
        return 0;
}

static int delegate_in(struct run_cgroup *cg, int i, char **ret_error) {
        const struct level run = { .fd = cg->dir_fd[i], .path = cg->path[i] };
        _cleanup_(level_done) struct level child = { .fd = -EBADF };
        bool v2 = faccessat(run.fd, "cgroup.controllers", F_OK, 0) == 0;
        int r = 0;

        if (v2)
                r = enable_all(&run, ret_error);
        if (r >= 0)
                r = make_level(&run, RUN_CGROUP_DELEGATED, false, &child, ret_error);
        if (r < 0)
                return r;
        /* v1 cpuset: a new cgroup takes no task until cpus and mems are set */
        if (!v2 && faccessat(child.fd, "cpuset.cpus", F_OK, 0) == 0)
                r = v1_init(&child, &run, 1u << CG_CPUSET, ret_error);
        if (r < 0) {
                (void)remove_dir(run.fd, RUN_CGROUP_DELEGATED);
                return r;
        }
        cg->deleg_fd[i] = TAKE_FD(child.fd);
        cg->deleg_path[i] = TAKE_PTR(child.path);
        return 0;
}

int run_cgroup_delegate(struct run_cgroup *cg, char **ret_error) {
        if (!cg->transient)
                return error_printf(ret_error, -EINVAL, "only a transient cgroup can be delegated");
        for (int i = 0; i < cg->n; i++) {
                int r = delegate_in(cg, i, ret_error);
                if (r < 0)
                        return r; /* run_cgroup_destroy removes what was made */
        }
        return 0;
}

/* ---- attach and destroy ---- */

int run_cgroup_attach(const struct run_cgroup *cg, pid_t pid) {
        char text[24];

        snprintf(text, sizeof(text), "%d", (int)pid);
        for (int i = 0; i < cg->n; i++) {
                struct level lv = { .fd = cg->dir_fd[i], .path = cg->path[i] };
                if (cg->deleg_path[i])
                        lv = (struct level){ .fd = cg->deleg_fd[i], .path = cg->deleg_path[i] };
                int r = write_value(&lv, "cgroup.procs", text);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int pidfd_open_(pid_t pid) {
        return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int pidfd_kill(int pidfd) {
        return (int)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
}

static bool pid_listed(const pid_t *v, size_t n, pid_t pid) {
        for (size_t i = 0; i < n; i++)
                if (v[i] == pid)
                        return true;
        return false;
}

/* The direct members: a transient cgroup has no children. */
static int read_procs(int dir_fd, pid_t **ret, size_t *ret_n) {
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(dir_fd, "cgroup.procs", &text, NULL);
        if (r < 0)
                return r;
        size_t n = 0, cap = 0;
        pid_t *v = NULL;
        for (const char *p = text; *p;) {
                char *end;
                long pid = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (pid > 0 && pid <= INT_MAX) {
                        if (n == cap) {
                                cap = cap ? cap * 2 : 16;
                                pid_t *nv = reallocarray(v, cap, sizeof(*v));
                                if (!nv) {
                                        free(v);
                                        return -ENOMEM;
                                }
                                v = nv;
                        }
                        v[n++] = (pid_t)pid;
                }
                p = end;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* SIGKILL each member once. A listed pid may exit and be reused by an
 * unrelated process before we signal it, so each is pinned with a pidfd
 * first and signalled only if still listed afterwards: a pid can be reused
 * only once its process is reaped, and a reaped process is no member. */
static int kill_members(int dir_fd) {
        _cleanup_free_ pid_t *before = NULL, *after = NULL;
        size_t nb = 0, na = 0;
        int r = read_procs(dir_fd, &before, &nb);

        if (r < 0 || nb == 0)
                return r < 0 ? r : 0;
        _cleanup_free_ int *pidfd = calloc(nb, sizeof(int));
        if (!pidfd)
                return -ENOMEM;
        for (size_t i = 0; i < nb; i++) {
                int fd = pidfd_open_(before[i]);
                pidfd[i] = fd >= 0 ? fd : -errno;
        }
        r = read_procs(dir_fd, &after, &na);
        for (size_t i = 0; i < nb; i++) {
                if (r >= 0 && pid_listed(after, na, before[i])) {
                        if (pidfd[i] >= 0)
                                (void)pidfd_kill(pidfd[i]);
                        else if (pidfd[i] == -ENOSYS)
                                (void)kill(before[i], SIGKILL); /* kernel < 5.3 */
                }
                if (pidfd[i] >= 0)
                        close(pidfd[i]);
        }
        return r < 0 ? r : (int)nb;
}

/* Kill what is left in one cgroup and wait, until DEADLINE, for it to be
 * empty. cgroup.kill (v2, Linux 5.14) kills the whole cgroup at once, forks
 * in flight included; elsewhere each listed process is killed and the list
 * read again until it is empty. */
static void empty_cgroup(int dir_fd, int64_t deadline) {
        struct level lv = { .fd = dir_fd, .path = "" };
        long wait = 200 * 1000;

        if (faccessat(dir_fd, "cgroup.kill", F_OK, 0) == 0)
                (void)write_value(&lv, "cgroup.kill", "1");
        while (kill_members(dir_fd) > 0 && now_ns() < deadline) {
                sleep_ns(wait);
                if (wait < 10 * 1000 * 1000)
                        wait *= 2;
        }
}

/* The same for a delegated cgroup's children (cgroup.kill already took
 * them on v2; on v1 each is emptied), then the cgroup itself. */
static void empty_tree(int parent_fd, const char *name, int64_t deadline) {
        _cleanup_close_ int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return;
        for_each_child(fd, empty_tree, deadline);
        empty_cgroup(fd, deadline);
}

/* Most runs leave nothing behind (a pid namespace's processes are gone
 * once its init has exited): one rmdir, which fails (EBUSY) while a
 * process is left; only then the kill and the wait. */
static bool removed_at_once(const struct run_cgroup *cg, int i) {
        const char *name = strrchr(cg->path[i], '/');
        _cleanup_close_ int parent = -EBADF;

        if (cg->deleg_path[i] || !name || cg->dir_fd[i] < 0)
                return false;
        parent = openat(cg->dir_fd[i], "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        return parent >= 0 && unlinkat(parent, name + 1, AT_REMOVEDIR) == 0;
}

/* One cgroup's OOM kills: cgroup v2 memory.events (which counts the
 * subtree's unless mounted with memory_localevents), v1
 * memory.oom_control's oom_kill line (Linux >= 4.13; the cgroup's own). */
static uint64_t oom_kills_at(int dir_fd) {
        static const char *const files[] = { "memory.events", "memory.oom_control" };
        uint64_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *text = NULL;
                if (read_file_at(dir_fd, files[i], &text, NULL) >= 0 && keyed_u64(text, "oom_kill", &n) >= 0)
                        return n;
        }
        return 0;
}

uint64_t run_cgroup_oom_kills(const struct run_cgroup *cg) {
        uint64_t n = 0;

        for (int i = 0; i < cg->n; i++) {
                /* v2 counts the delegated child's in the transient one */
                if (cg->unified_at == i || cg->deleg_fd[i] < 0 || !cg->deleg_path[i])
                        n += oom_kills_at(cg->dir_fd[i]);
                else
                        n += oom_kills_at(cg->dir_fd[i]) + oom_kills_at(cg->deleg_fd[i]);
        }
        return n;
}

void run_cgroup_destroy(struct run_cgroup *cg) {
        if (cg->transient && cg->n > 0) {
                int64_t deadline = now_ns() + DESTROY_KILL_NS;
                bool left = false;

                for (int i = 0; i < cg->n; i++)
                        if (removed_at_once(cg, i)) {
                                close(cg->dir_fd[i]);
                                cg->dir_fd[i] = -EBADF;
                        } else
                                left = true;
                for (int i = 0; left && i < cg->n; i++) {
                        /* a plain directory (the unit tests') holds no processes */
                        if (cg->dir_fd[i] < 0 || !is_cgroupfs(cg->dir_fd[i]))
                                continue;
                        if (cg->deleg_path[i])
                                empty_tree(cg->dir_fd[i], ".", deadline);
                        else
                                empty_cgroup(cg->dir_fd[i], deadline);
                }
                if (left)
                        remove_cgroups(cg, now_ns() + DESTROY_RMDIR_NS);
        }
        run_cgroup_free(cg);
}

int run_cgroup_layout(struct cg_layout *ret, char **ret_error) {
        _cleanup_close_ int root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (root_fd < 0)
                return error_printf(ret_error, -errno, "/: %s", strerror(errno));
        r = cg_layout_discover(root_fd, ret);
        return r < 0 ? error_printf(ret_error, r, "cannot find the host's cgroup hierarchies: %s", strerror(-r)) : 0;
}
