#pragma once
/* The daemon's state: which files exist, the per-cgroup records (render
 * caches, /proc/stat counters, load averages) and the sampler. Nothing here
 * knows about FUSE, so the unit tests drive it on fixture trees. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/sysinfo.h>
#include <sys/types.h>
#include "cgroup.h"
#include "clock.h"
#include "views.h"

enum view_id {
        VIEW_MEMINFO,
        VIEW_CPUINFO,
        VIEW_STAT,
        VIEW_UPTIME,
        VIEW_LOADAVG,
        VIEW_SWAPS,
        VIEW_DISKSTATS,
        VIEW_CPU_ONLINE,
        VIEW_CPU_POSSIBLE,
        VIEW_CPU_PRESENT,
        VIEW_CPU_OFFLINE,
        VIEW_VMSTAT,
        VIEW_PRESSURE_CPU,
        VIEW_PRESSURE_MEMORY,
        VIEW_PRESSURE_IO,
        _VIEW_MAX,
};

struct view_desc {
        const char *path;     /* below the mount point, and of the host file */
        unsigned controllers; /* bitmask: reader is "limited" if non-root in any */
};
extern const struct view_desc view_table[_VIEW_MAX];

/* The device nodes MOUNTPOINT/dev may serve. Each is the host's own node,
 * found by name beneath the host root's dev/ at startup; its mode and device
 * number are served as they are, and the kernel opens it itself (a FUSE
 * inode of a device type gets the driver's file operations through
 * init_special_inode, so no FUSE request follows). Per-container device sets
 * will filter by these ids. */
enum dev_id {
        DEV_NULL,
        DEV_ZERO,
        DEV_FULL,
        DEV_RANDOM,
        DEV_URANDOM,
        DEV_TTY,
        _DEV_MAX,
};

struct dev_desc {
        const char *name; /* beneath the host root's dev/ */
};
extern const struct dev_desc dev_table[_DEV_MAX];

struct dev_node {
        bool present;      /* a character device on the host */
        mode_t mode;       /* S_IFCHR | permissions, the host's */
        dev_t rdev;
};

/* An immutable rendered file, shared by the cache and open handles. */
struct snap {
        atomic_int refs;
        size_t len;
        char data[];
};
struct snap *snap_new(const char *data, size_t len);
struct snap *snap_ref(struct snap *s);
void snap_unref(struct snap *s);

#define CACHE_TTL_NS (100 * 1000 * 1000ULL)         /* figures at most 100 ms old */
#define RECORD_IDLE_NS (15 * 60 * 1000000000ULL)    /* forget cgroups unread for 15 min */
#define SAMPLE_PERIOD_NS (LOAD_FREQ_SEC * 1000000000ULL)

/* What stat() of a cgroup's directory gives. A cgroup removed and made
 * again under the same path is another directory with another inode
 * number (kernfs numbers nodes from a cyclic id, with a generation above
 * it on 64-bit), so a record's figures are trusted only while the
 * directories they were read from still sit at the reader's paths.
 * { 0, 0 }: not known (the stat failed). */
struct cg_ident {
        dev_t dev;
        ino_t ino;
};

struct cg_record {
        char *key;                 /* the /proc/PID/cgroup text that leads here */
        struct cg_ident ident[_CG_CONTROLLER_MAX]; /* of each non-root cgroup of the key */
        bool limited[_VIEW_MAX];   /* non-root in a controller the view depends on */
        unsigned dirs[_VIEW_MAX];  /* controllers whose directories the view reads (1u << ctl) */
        struct cg_reader reader;   /* owned copy of the paths */
        struct snap *snap[_VIEW_MAX];
        uint64_t rendered_at[_VIEW_MAX];
        uint64_t last_read;        /* monotonic ns */
        struct stat_state stat;
        struct loadavg_state load;
        uint64_t load_sampled_at;  /* 0: never sampled */
        pid_t start_pid;           /* the oldest process seen, and its start */
        uint64_t start_ticks;
        uint64_t uptime_ns_ino;    /* pid namespace the cached uptime was made for */
        struct sysinfo sysinfo;    /* the last sysinfo(2) answer, its time and pid namespace */
        uint64_t sysinfo_at, sysinfo_ns_ino;
        struct cg_record *next;    /* hash chain */
};

typedef void (*curate_log_fn)(const char *msg);
struct run_seen;

struct curate {
        int root_fd;               /* host root (CURATE_HOST_ROOT or /) */
        struct cg_layout layout;
        uint64_t self_pidns;       /* inode of the daemon's pid namespace */
        uint64_t pidcg_gen;        /* this instance's slots in pidcg.c */
        pthread_mutex_t lock;
        struct cg_record **buckets;
        size_t nbuckets, nrecords;
        struct snap *host_snap[_VIEW_MAX];
        uint64_t host_rendered_at[_VIEW_MAX];
        curate_log_fn log;
        char **logged;             /* messages already logged (log once) */
        size_t nlogged;
        /* sampler thread */
        pthread_t sampler;
        bool sampler_running;
        pthread_mutex_t stop_lock;
        pthread_cond_t stop_cond;
        bool stopping;
        uint64_t (*now)(void);     /* monotonic ns; replaceable by tests */
        /* called by the sampler after each pass (server.c's device
         * registration sweep), may be NULL */
        void (*sweep)(struct curate *c);
        /* where the sampler publishes the heap in use after each pass
         * (the journal's, main.c), may be NULL */
        _Atomic uint64_t *heap_in_use;
        struct dev_node dev[_DEV_MAX]; /* filled by curate_probe_devices */
        /* sweep.c: when each run-PID cgroup was first seen (sampler thread only) */
        struct run_seen *runs_seen;
        size_t nruns_seen;
};

int curate_init(struct curate *c, const char *host_root, curate_log_fn log);
void curate_done(struct curate *c);
int curate_start_sampler(struct curate *c);

/* Look up every dev_table node beneath the host root's dev/ and record the
 * character devices among them; each one left out is logged once, with why.
 * Returns how many were found, or -errno when dev/ cannot be opened. */
int curate_probe_devices(struct curate *c);

/* Log MSG unless it was logged before (takes the lock). */
void curate_log_once(struct curate *c, const char *msg);
/* The /proc/PID/cgroup text of PID, read beneath the host root. A pid of 0
 * (a reader outside our pid namespace) is -EIO: its cgroup is unknown. */
int curate_reader_cgroup(struct curate *c, pid_t pid, char **ret);
/* The inode of the directory of the cgroup whose memory figures a reader
 * whose /proc/PID/cgroup is TEXT gets (its memory hierarchy's): a cgroup
 * removed and made again under its path is another. 0 when unknown. */
uint64_t curate_reader_cgroup_ino(struct curate *c, const char *text);

/* Render VIEW for the reader PID. Returns 0 and a referenced snapshot, or
 * -errno (-EIO when a limited reader's figure cannot be computed). */
int curate_render(struct curate *c, enum view_id v, pid_t pid, struct snap **ret);

/* sysinfo(2) as the reader PID is to see it: the daemon's own answer (the
 * host's) with the figures of every view the reader is limited in (memory
 * and swap as meminfo, loads and task count as loadavg, uptime as uptime)
 * replaced by its cgroup's. 0, -ESRCH (no such pid) or -EIO (a limited
 * reader's figures cannot be computed: never the host's instead). */
int curate_sysinfo(struct curate *c, pid_t pid, struct sysinfo *ret);

/* What an open file remembers of its last reader: the same pid reading again
 * within CACHE_TTL_NS (the age figures may have anyway) is taken to be in
 * the same cgroups without reading /proc/PID/cgroup again. */
struct reader_hint {
        pid_t pid;
        uint64_t checked_at;
        char *cgroup_text;
};
void reader_hint_done(struct reader_hint *h);
int curate_render_hinted(struct curate *c, enum view_id v, pid_t pid, struct reader_hint *hint, struct snap **ret);
/* curate_render() that never serves a cgroup's figures rendered before the
 * call (its TTL cache): for a figure taken before a runtime set the limits
 * (server-cnodes.c's unopened nodes). */
int curate_render_fresh(struct curate *c, enum view_id v, pid_t pid, struct snap **ret);
/* curate_sysinfo() with a hint (the listener keeps one per container). */
int curate_sysinfo_hinted(struct curate *c, pid_t pid, struct reader_hint *hint, struct sysinfo *ret);

/* One sampler pass (load averages, forgetting idle/vanished cgroups). */
void curate_sample(struct curate *c);
size_t curate_nrecords(struct curate *c);

/* gather.c: gather the inputs of VIEW for a limited reader and render. */
int gather_render(struct curate *c, struct cg_record *rec, enum view_id v, pid_t pid, struct buf *out);
/* gather.c: sysinfo(2) for the record's reader (see state.c curate_sysinfo). */
int gather_sysinfo(struct curate *c, struct cg_record *rec, pid_t pid, const bool limited[static _VIEW_MAX],
                   const struct sysinfo *host, struct sysinfo *ret);
/* Count runnable (R) and uninterruptible (D) tasks of the record's cgroup. */
int gather_tasks(struct curate *c, const struct cg_reader *r, unsigned *ret_running,
                 unsigned *ret_blocked, unsigned *ret_total, pid_t *ret_last);
uint64_t now_monotonic_ns(void);
/* The controller whose hierarchy gather_tasks counts the record's tasks in,
 * or _CG_CONTROLLER_MAX when the reader has none of them. */
enum cg_controller gather_task_controller(struct curate *c, const struct cg_reader *r);

/* sweep.c: remove the curate/run-PID cgroups that killed launchers left
 * behind (empty in every hierarchy, PID no longer a curate process that
 * could have made them). Called from the sampler's pass; logs what it
 * removes. Returns how many runs it removed. */
int runs_sweep(struct curate *c);
