#pragma once
/* The policy model: what `curate run` builds for a command. Built-in
 * defaults come from tables (policy-defaults.c); policy files (systemd-style
 * INI, parsed with libinih) and command-line options are applied on top.
 * Library code: nothing here prints; errors come back as text. */
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#define POLICY_UNSET UINT64_MAX   /* a limit that was not given */
#define POLICY_MAX (UINT64_MAX - 1) /* a limit given as "max": explicitly unlimited */
#define POLICY_ID_UNSET UINT32_MAX  /* User=/Group= not given: the command runs as root */

/* The smallest limits curate accepts (issue 10): below them the kernel
 * either refuses the value (cpu.cfs_quota_us under 1 ms per 100 ms
 * period) or the command is killed before it can say anything (a few
 * pages of memory: docker's minimum is 6 MiB too). */
#define POLICY_MEMORY_MIN (6ULL << 20)
#define POLICY_CPUS_MILLI_MIN 10 /* 0.01 CPU: 1 ms of quota per 100 ms period */

/* The curatefs views a container can get, in the order they are mounted. */
enum policy_view {
        POLICY_VIEW_MEMINFO,
        POLICY_VIEW_CPUINFO,
        POLICY_VIEW_STAT,
        POLICY_VIEW_UPTIME,
        POLICY_VIEW_LOADAVG,
        POLICY_VIEW_SWAPS,
        POLICY_VIEW_DISKSTATS,
        POLICY_VIEW_CPU_ONLINE,
        POLICY_VIEW_CPU_TREE,  /* all of /sys/devices/system/cpu (online among it) */
        POLICY_VIEW_VMSTAT,
        POLICY_VIEW_PRESSURE,  /* /proc/pressure; masked where cgroups keep no PSI (v1) */
        _POLICY_VIEW_MAX,
};
struct policy_view_info {
        const char *name;   /* as written in policies and --views: "meminfo", "cpu-online" */
        const char *source; /* beneath the curatefs mount point: "proc/meminfo" */
        const char *target; /* inside the container: "/proc/meminfo" */
};
extern const struct policy_view_info policy_views[_POLICY_VIEW_MAX];
#define POLICY_VIEWS_ALL ((1u << _POLICY_VIEW_MAX) - 1)

enum policy_mount_kind { POLICY_BIND, POLICY_RO_BIND, POLICY_TMPFS };
struct policy_mount {
        enum policy_mount_kind kind;
        char *src; /* host path; NULL for tmpfs */
        char *dst; /* absolute path inside the container */
};

/* The fields the launcher checks against the host after parsing: for
 * each, where a policy file set it, so that a refusal names FILE:LINE. */
enum policy_origin {
        POLICY_AT_CPUS,
        POLICY_AT_CPUSET,
        POLICY_AT_ROOTFS,
        POLICY_AT_WORKDIR,
        _POLICY_AT_MAX,
};

enum policy_propagation { POLICY_PROPAGATION_PRIVATE, POLICY_PROPAGATION_SLAVE };
enum policy_net { POLICY_NET_HOST, POLICY_NET_NONE };
enum policy_seccomp { POLICY_SECCOMP_DEFAULT, POLICY_SECCOMP_UNCONFINED };

struct policy {
        /* [Resources] */
        uint64_t memory;      /* bytes; POLICY_UNSET, POLICY_MAX */
        uint64_t memory_swap; /* memory + swap, bytes (as docker's --memory-swap) */
        uint64_t cpus_milli;  /* CPU quota in thousandths of a CPU ("1.5" -> 1500); POLICY_UNSET */
        char *cpuset;         /* a validated CPU list ("0-3,8"); NULL: unset */
        uint64_t pids;        /* POLICY_UNSET, POLICY_MAX */
        char *cgroup;         /* join this existing cgroup instead; NULL */
        bool delegate;        /* the container's cgroup subtree writable (systemd's Delegate=) */
        /* [Namespaces]: pid, IPC, UTS and cgroup are new by default; false
         * shares the host's (--share) */
        bool pid_ns;
        bool ipc_ns;
        bool uts_ns;
        bool cgroup_ns;
        bool user_ns;
        enum policy_net net;  /* the host's network (default) or an empty one with lo up */
        char *hostname;       /* NULL: the host's name (copied into the new UTS namespace) */
        enum policy_propagation propagation;
        char *rootfs; /* NULL: stay in the host's root */
        /* [Views] */
        unsigned views;   /* bitmask of 1u << enum policy_view */
        bool curated_dev; /* /dev from curatefs (true) or the host's (false) */
        /* [Filesystem] */
        char **masks;     /* paths hidden (file: /dev/null over it; dir: empty ro tmpfs) */
        size_t n_masks;
        char **read_only; /* paths remounted read-only */
        size_t n_read_only;
        struct policy_mount *mounts; /* in the order given */
        size_t n_mounts;
        bool private_tmp;
        bool read_only_root; /* the root (host's or --rootfs) read-only: --read-only */
        /* [Security] */
        uint64_t caps; /* capability bounding set kept: bit 1ULL << CAP_X */
        enum policy_seccomp seccomp;
        bool allow_userns; /* the seccomp filter lets the command make user namespaces */
        bool sysinfo;      /* sysinfo(2) answered with the container's figures (seccomp user notification) */
        /* [Devices] (issue 4): nodes beyond the curated set, resolved
         * against the host by the launcher */
        char **devices; /* "/dev/X[:rwm]" or a CDI "vendor/class=name", in order */
        size_t n_devices;
        char *gpu;      /* an NVIDIA_VISIBLE_DEVICES-style selection; NULL: none */
        /* [Process] (issue 10): how COMMAND is started */
        char *workdir;    /* WorkingDirectory=, --chdir; NULL: the caller's cwd */
        bool clear_env;   /* ClearEnvironment=, --clearenv: start from no variables */
        char **env;       /* Environment=, UnsetEnvironment=, --env, --unsetenv, in
                           * order: "KEY=VALUE" sets, "KEY" unsets */
        size_t n_env;
        uint32_t uid, gid; /* User=, Group=, --uid, --gid; POLICY_ID_UNSET */
        /* "FILE:LINE: Key=" of the policy key that set each field last;
         * NULL when the command line (or nothing) did */
        char *origin[_POLICY_AT_MAX];
};

/* The built-in defaults (equal to the shipped policies/default.conf). */
int policy_init_default(struct policy *ret);
/* An empty policy: no views, no masks, no capabilities, nothing set. */
void policy_init_empty(struct policy *ret);
void policy_done(struct policy *p);
int policy_copy(const struct policy *p, struct policy *ret);
bool policy_equal(const struct policy *a, const struct policy *b);

/* Apply the policy file PATH over *p: scalar keys replace, list keys append
 * (an empty value, as in systemd, clears the list first). On failure *p is
 * unchanged, the return is -errno (-EINVAL for bad content) and *ret_error
 * (malloc'd) reads "PATH:LINE: what was wrong" (or "PATH: reason"). */
int policy_load_file(struct policy *p, const char *path, char **ret_error);
/* The same for text in memory; NAME stands for the path in messages. */
int policy_load_string(struct policy *p, const char *name, const char *text, char **ret_error);
/* Resolve --policy NAME|FILE: a value containing '/' or ending in ".conf" is a
 * path; otherwise NAME.conf is looked up in $CURATE_POLICY_PATH (colon list),
 * /etc/curate/policies, CURATE_POLICY_DIR (installed) and the source tree's
 * policies/ (uninstalled builds). -ENOENT when not found. */
int policy_find(const char *name, char **ret_path);

/* Value parsers shared by policy files and the command line. Each returns 0
 * or -EINVAL and writes *ret only on success. */
int policy_parse_size(const char *s, uint64_t *ret);       /* "4096", "512K", "256M", "1G", "1T", "max" */
int policy_parse_count(const char *s, uint64_t *ret);      /* "100", "max" */
int policy_parse_cpus(const char *s, uint64_t *ret_milli); /* "0.5", "1", "1.25", up to 3 decimals;
                                                            * -ERANGE below POLICY_CPUS_MILLI_MIN */
int policy_parse_cpuset(const char *s, char **ret);        /* "0-3,8" -> normalized copy */
int policy_parse_views(const char *s, unsigned *ret);      /* "meminfo,stat" / "meminfo stat" / "all" / "none" */
int policy_parse_capability(const char *s, int *ret_cap);  /* "CAP_SYS_ADMIN", "sys_admin", case-insensitive */
int policy_parse_bool(const char *s, bool *ret);           /* yes/no, true/false, on/off, 1/0 */

/* Edits used by the command line (the policy loader uses them too). A path
 * must be absolute; lists stay free of duplicates. -EINVAL / -ENOMEM. */
int policy_add_mask(struct policy *p, const char *path);
int policy_add_read_only(struct policy *p, const char *path);
int policy_add_mount(struct policy *p, enum policy_mount_kind kind, const char *src, const char *dst);

/* --device / Device=: "/dev/PATH[:ACCESS]" (ACCESS a non-empty subset of
 * "rwm") or a CDI name "vendor/class=name"; checked for shape only (the
 * launcher resolves it on the host). Duplicates are kept once. 0, -EINVAL,
 * -ENOMEM. */
int policy_add_device(struct policy *p, const char *spec);
/* Why policy_add_device(P, SPEC) refuses SPEC, as text to follow the spec
 * in a message ("has a bad access mode 'rwx': ..."), NULL when it would
 * not. -EEXIST from policy_add_device: the same node with another access. */
const char *policy_device_problem(const struct policy *p, const char *spec);
void policy_clear_devices(struct policy *p);

/* ---- Added with the implementation (issue 3) ---- */

/* Every capability this build knows (bits 0..CAP_LAST_CAP): what "ALL" means. */
uint64_t policy_caps_all(void);
/* An absolute path, normalized: repeated and trailing slashes and "."
 * components dropped ("//usr/./lib/" -> "/usr/lib"); relative paths and ".."
 * components are refused. 0 or -EINVAL; *ret malloc'd. */
int policy_parse_path(const char *s, char **ret);
int policy_parse_propagation(const char *s, enum policy_propagation *ret); /* "private", "slave" */
int policy_parse_net(const char *s, enum policy_net *ret);                 /* "host", "none" */
int policy_parse_seccomp(const char *s, enum policy_seccomp *ret);         /* "default", "unconfined" */
/* A host name for the UTS namespace: 1-64 characters of letters, digits,
 * '-' and '.', not starting with '-' or '.' (RFC 1123 labels). */
bool policy_hostname_valid(const char *s);
/* --share LIST / Share=: namespaces to share with the host ("pid", "ipc",
 * "uts", "cgroup", comma or blank separated; "none" shares none). Sets the
 * named *_ns fields false (none: all four true). 0 or -EINVAL (an unknown
 * word, or none at all), P unchanged on error. */
int policy_parse_share(struct policy *p, const char *s);
/* A list of capability names (spaces or commas) or "ALL"; "" is the empty set. */
int policy_parse_capabilities(const char *s, uint64_t *ret);
/* Empty a list (what an empty assignment in a policy file does). */
void policy_clear_masks(struct policy *p);
void policy_clear_read_only(struct policy *p);
void policy_clear_mounts(struct policy *p, enum policy_mount_kind kind);
/* The checks that span fields: memory_swap not below memory when both are
 * set (POLICY_MAX counts as infinite), and no limit (memory, memory_swap,
 * cpus_milli, cpuset, pids) together with cgroup. 0, or -EINVAL and
 * *ret_reason a static text naming the policy keys. */
int policy_check(const struct policy *p, const char **ret_reason);

/* ---- Added for issue 10 ---- */
/* Environment= / --env: "KEY=VALUE", KEY a non-empty name without '='.
 * UnsetEnvironment= / --unsetenv: "KEY". Appended in order; 0, -EINVAL. */
int policy_add_env(struct policy *p, const char *assignment);
int policy_add_unsetenv(struct policy *p, const char *key);
void policy_clear_env(struct policy *p);
/* A numeric uid/gid, 0..2^32-2 ("65534"); 0 or -EINVAL. Names are not
 * looked up: the host's user database need not be the container's. */
int policy_parse_id(const char *s, uint32_t *ret);
/* Record (copy) or forget where field F was set; 0 or -ENOMEM. */
int policy_set_origin(struct policy *p, enum policy_origin f, const char *where);
