#pragma once
/* Pure renderers: cgroup and host figures in, file text out. The FUSE layer
 * only finds the reader, gathers inputs (fs/gather.c) and calls these. Each
 * returns 0 or -errno; -EINVAL for malformed input (never host figures). */
#include <stdint.h>
#include <sys/types.h>
#include "cgroup.h"
#include "fileio.h"

#define USER_HZ 100

/* meminfo/swaps: host /proc/meminfo text + the cgroup's memory figures. */
struct mem_view {
        uint64_t mem_total, mem_free, mem_available; /* bytes */
        uint64_t swap_total, swap_free;
};
int mem_view_compute(const char *host_meminfo, const struct cg_memory *m, struct mem_view *ret);
int render_meminfo(const char *host_meminfo, const struct cg_memory *m, struct buf *out);
int render_swaps(const char *host_meminfo, const struct cg_memory *m, struct buf *out);

/* The CPUs a reader sees: effective cpuset cut to ceil(quota/period). */
struct cpu_view {
        unsigned n;                /* visible CPUs, >= 1 */
        unsigned phys[CPU_LIST_MAX]; /* physical id of visible CPU i */
};
int cpu_view_compute(const struct cpu_set_bits *effective, uint64_t quota, uint64_t period, struct cpu_view *ret);
int render_cpuinfo(const char *host_cpuinfo, const struct cpu_view *v, struct buf *out);
int render_cpu_online(const struct cpu_view *v, struct buf *out);

/* /proc/stat: per-cgroup monotonic state, advanced on each render. */
struct stat_cpu {
        uint64_t user, system, idle; /* USER_HZ ticks */
        unsigned id;                 /* the CPU's number (its cpuN line) */
};
struct stat_state {
        unsigned n;                  /* visible CPUs the counters describe */
        struct stat_cpu *cpu;        /* malloc'd, n entries */
        uint64_t last_uptime_ticks;  /* container uptime at the last update */
        int initialized;
};
void stat_state_done(struct stat_state *s);
/* Fold the cgroup's usage onto the visible CPUs and advance the counters:
 * never backwards; per CPU busy+idle advances by the wall time elapsed. */
int stat_state_update(struct stat_state *s, const struct cpu_view *v, const struct cg_cpu_usage *u, uint64_t uptime_ticks);
int render_stat(const char *host_stat, const struct stat_state *s, unsigned procs_running, unsigned procs_blocked, struct buf *out);

/* uptime: container uptime and idle (sum of the stat idle counters, capped). */
int render_uptime(uint64_t uptime_ticks, const struct stat_state *s, struct buf *out);

/* loadavg: kernel fixed-point averages (kernel/sched/loadavg.c constants). */
#define LOAD_FSHIFT 11
#define LOAD_FIXED_1 (1UL << LOAD_FSHIFT)
#define LOAD_FREQ_SEC 5
struct loadavg_state {
        unsigned long avenrun[3];
};
void loadavg_sample(struct loadavg_state *s, unsigned active);
int render_loadavg(const struct loadavg_state *s, unsigned running, unsigned total, pid_t last_pid, struct buf *out);

/* diskstats: host lines for devices the cgroup has touched, cgroup figures. */
int render_diskstats(const char *host_diskstats, const struct cg_io *io, struct buf *out);

/* sysinfo(2) for a container (fs/view-sysinfo.c): HOST is the host's own
 * answer (the unlimited reader's view); each non-NULL input replaces its
 * fields with the container's, as the views compute them: MEM (and M, for
 * sharedram) totalram/freeram/sharedram/bufferram/totalswap/freeswap,
 * LOAD loads[] (SI_LOAD_SHIFT fixed point), UPTIME_TICKS (USER_HZ) uptime,
 * PROCS procs (the kernel's is a thread count). mem_unit is the smallest
 * power of two that lets every size fit an unsigned long (1 on 64-bit).
 * 0 or -EINVAL. */
#include <sys/sysinfo.h>
struct sysinfo_inputs {
        const struct mem_view *mem;
        const struct cg_memory *m;
        const struct loadavg_state *load;
        const uint64_t *uptime_ticks;
        const unsigned *procs;
};
int sysinfo_view_compute(const struct sysinfo *host, const struct sysinfo_inputs *in, struct sysinfo *ret);

/* ---- /sys/devices/system/cpu (view-cpuonline.c, view-cputree.c) ----
 * The tree shows the visible CPUs under their real numbers (as
 * sched_getaffinity gives them under a cpuset): online, possible and
 * present list them, offline is empty, and a host file inside the tree
 * that holds a CPU list or mask is cut to them. */
int render_cpu_offline(const struct cpu_view *v, struct buf *out);
/* The visible CPUs of V as a set. */
void cpu_view_set(const struct cpu_view *v, struct cpu_set_bits *ret);
/* "0-3,8" (no newline; "" when empty). */
int cpu_list_format(const struct cpu_set_bits *s, const char *sep, struct buf *out);
enum cpu_file_kind {
        CPU_FILE_PLAIN,  /* passed through */
        CPU_FILE_LIST,   /* "0-3,8": core_cpus_list, shared_cpu_list, isolated... */
        CPU_FILE_MASK,   /* "ff,00000000": core_cpus, shared_cpu_map... */
        CPU_FILE_SPACED, /* "0 1 2": cpufreq's affected_cpus, related_cpus */
};
enum cpu_file_kind cpu_file_kind(const char *name);
/* HOST_TEXT of a file of KIND with only the CPUs in SHOWN left. */
int render_cpu_file(const char *host_text, enum cpu_file_kind kind, const struct cpu_set_bits *shown, struct buf *out);
/* NAME is PREFIX followed by a decimal CPU number ("cpu12", "policy3"). */
bool cpu_numbered_name(const char *name, const char *prefix, unsigned *ret);
/* May a reader shown SHOWN see REL (a path below /sys/devices/system/cpu,
 * no leading slash)? Not a cpuN or cpufreq/policyN of a CPU outside it. */
bool cputree_path_allowed(const char *rel, const struct cpu_set_bits *shown);

/* ---- /proc/vmstat (view-vmstat.c) ---- */
struct vmstat_input {
        const char *memory_stat;     /* the cgroup's memory.stat text, v1 or v2 */
        const struct cg_memory *mem; /* its figures, bytes (CG_NONE: not exposed) */
        uint64_t mem_free;           /* bytes: MemFree of the meminfo view */
        bool io_known;               /* the cgroup's own block I/O figures */
        uint64_t read_bytes, write_bytes;
        uint64_t page_size;          /* bytes */
        uint64_t thp_size;           /* bytes of a PMD huge page */
};
int render_vmstat(const char *host_vmstat, const struct vmstat_input *in, struct buf *out);

/* ---- /proc/pressure/{cpu,memory,io} (view-pressure.c) ----
 * A cgroup's <res>.pressure has /proc/pressure/<res>'s format. */
int render_pressure(const char *cgroup_pressure, struct buf *out);
