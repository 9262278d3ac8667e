#pragma once
/* The host's cgroup layout (v1, v2 or hybrid) and per-cgroup figures.
 * v1 and v2 sit behind one table of functions (struct cg_ops); nothing above
 * this layer tests the version. All paths are resolved beneath a host root
 * directory fd, so fixture trees work exactly like the real host. */
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "fileio.h"

enum cg_controller {
        CG_MEMORY,
        CG_CPU,
        CG_CPUACCT,
        CG_CPUSET,
        CG_BLKIO, /* "io" on v2 */
        CG_PIDS,
        _CG_CONTROLLER_MAX,
};

const char *cg_controller_name(enum cg_controller c); /* v1 name: "blkio" */
/* cgroup2's names of our controllers: "cpu" also carries the cpuacct
 * figures (cpu.stat), and "io" replaces blkio. */
struct cg_v2_controller {
        const char *name;
        unsigned mask; /* 1u << enum cg_controller */
};
extern const struct cg_v2_controller cg_v2_controllers[5];

#define CG_NONE UINT64_MAX /* "no limit" / "not exposed" */

struct cg_memory {
        uint64_t limit;       /* lowest limit on the path to the root, bytes; CG_NONE */
        uint64_t usage;       /* bytes charged (anon + page cache + kernel) */
        bool swap_accounting; /* false: swap figures unknown */
        uint64_t swap_limit;  /* swap alone (not mem+swap), lowest on path; CG_NONE */
        uint64_t swap_usage;
        /* hierarchical memory.stat figures in bytes; CG_NONE when not exposed */
        uint64_t anon, file, shmem, mapped, dirty, writeback;
        uint64_t active_anon, inactive_anon, active_file, inactive_file, unevictable;
        uint64_t slab_reclaimable, slab_unreclaimable, kernel_stack, pagetables;
        uint64_t anon_thp, shmem_thp, file_thp, percpu, swapcached;
};

struct cg_cpu_usage {
        bool percpu;       /* true: user_ns/system_ns filled per physical CPU */
        unsigned ncpu;     /* entries in user_ns/system_ns (highest CPU id + 1) */
        uint64_t *user_ns; /* malloc'd, ncpu entries; NULL when !percpu */
        uint64_t *system_ns;
        uint64_t total_user_ns, total_system_ns; /* always filled */
};
void cg_cpu_usage_done(struct cg_cpu_usage *u);

struct cg_io_dev {
        unsigned major, minor;
        uint64_t rbytes, wbytes, rios, wios, dbytes, dios;
};
struct cg_io {
        struct cg_io_dev *dev; /* malloc'd */
        size_t n;
};
void cg_io_done(struct cg_io *io);

struct cg_hier;
struct cg_ops {
        int (*memory)(const struct cg_hier *h, const char *path, struct cg_memory *ret);
        /* lowest quota/period ratio on the path; *ret_quota = CG_NONE when unlimited */
        int (*cpu_quota)(const struct cg_hier *h, const char *path, uint64_t *ret_quota, uint64_t *ret_period);
        /* effective CPUs of the cgroup (nearest ancestor exposing them on v2) */
        int (*cpuset)(const struct cg_hier *h, const char *path, struct cpu_set_bits *ret);
        int (*cpu_usage)(const struct cg_hier *h, const char *path, struct cg_cpu_usage *ret);
        int (*io)(const struct cg_hier *h, const char *path, struct cg_io *ret);
        /* every thread (tid) of the cgroup and its descendants; malloc'd array */
        int (*threads)(const struct cg_hier *h, const char *path, pid_t **ret, size_t *ret_n);
        /* every process (tgid) of the cgroup and its descendants */
        int (*procs)(const struct cg_hier *h, const char *path, pid_t **ret, size_t *ret_n);
        /* the cgroup's RESOURCE.pressure text ("cpu", "memory", "io");
         * -EOPNOTSUPP where cgroups keep no pressure figures (v1) */
        int (*pressure)(const struct cg_hier *h, const char *path, const char *resource, char **ret);
};
extern const struct cg_ops cg_v1_ops;
extern const struct cg_ops cg_v2_ops;

struct cg_hier {
        int version;          /* 1 or 2 */
        int fd;               /* O_PATH|O_DIRECTORY fd of the mount's root */
        char *mount_root;     /* mountinfo "root" field, stripped from /proc/PID/cgroup paths */
        unsigned controllers; /* bitmask of 1u << enum cg_controller */
        const struct cg_ops *ops;
};

#define CG_HIER_MAX 16
struct cg_layout {
        struct cg_hier hier[CG_HIER_MAX];
        int n;
        int by_controller[_CG_CONTROLLER_MAX]; /* index into hier, -1 if absent */
        int unified;                           /* index of the cgroup2 mount, -1 if none */
        /* index of the v1 "devices" mount (device rules, not a figure the
         * views read, so not a controller above), -1 if none */
        int devices;
};

/* Discover mounts from <root>/proc/self/mountinfo; mount points are opened
 * beneath root_fd. A controller listed in the cgroup2 root's cgroup.controllers
 * is taken from v2; otherwise from its v1 mount. Returns 0 or -errno
 * (-ENOENT when no cgroup is mounted). */
int cg_layout_discover(int root_fd, struct cg_layout *ret);
int cg_layout_parse(int root_fd, const char *mountinfo, struct cg_layout *ret);
void cg_layout_done(struct cg_layout *l);
static inline const struct cg_hier *cg_layout_hier(const struct cg_layout *l, enum cg_controller c) {
        return l->by_controller[c] < 0 ? NULL : &l->hier[l->by_controller[c]];
}

/* A reader's cgroup per controller, from /proc/PID/cgroup. */
struct cg_reader {
        char *path[_CG_CONTROLLER_MAX]; /* "/" for root; NULL when the controller is absent */
};
int cg_reader_parse(const struct cg_layout *l, const char *proc_pid_cgroup, struct cg_reader *ret);
int cg_reader_from_pid(const struct cg_layout *l, int root_fd, pid_t pid, struct cg_reader *ret);
void cg_reader_done(struct cg_reader *r);
/* true when the reader sits in the root cgroup (or the controller is absent) */
bool cg_reader_is_root(const struct cg_reader *r, enum cg_controller c);

/* Helpers shared by the v1/v2 backends. */
int cg_open_dir(const struct cg_hier *h, const char *path); /* O_DIRECTORY fd or -errno */
int cg_read(const struct cg_hier *h, const char *path, const char *file, char **ret);
/* true when PATH has a ".." component */
bool cg_path_has_dotdot(const char *path);
/* Truncate PATH to its parent ("/a/b" -> "/a" -> "/"); false at the root. */
bool cg_path_up(char *path);
/* Walk from PATH up to the root and return the lowest quota/period ratio;
 * READ_LEVEL reads one level (-ENOENT: no limit there). */
typedef int (*cg_level_quota_fn)(const struct cg_hier *h, const char *path, uint64_t *ret_quota, uint64_t *ret_period);
int cg_lowest_quota(const struct cg_hier *h, const char *path, cg_level_quota_fn read_level,
                    uint64_t *ret_quota, uint64_t *ret_period);
/* Tokens of flat cgroup files: the next blank-separated decimal, a
 * "MAJ:MIN" device number (both advance *p), and "only blanks remain
 * before the end of line". */
int cg_next_u64(const char **p, uint64_t *ret);
int cg_next_devnum(const char **p, unsigned *ret_major, unsigned *ret_minor);
bool cg_at_line_end(const char *p);
/* The pids listed in FILE ("tasks", "cgroup.procs", ...) of PATH and every
 * descendant cgroup; *ret is malloc'd (NULL when empty). */
int cg_collect_pids(const struct cg_hier *h, const char *path, const char *file, pid_t **ret, size_t *ret_n);
