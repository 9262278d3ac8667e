#pragma once
/* `curate ps`: the cgroup limit files and /proc texts it reads, parsed
 * (pure functions, so the unit tests feed them the kernel's formats). */
#include <stddef.h>
#include <stdint.h>

#define PS_NONE UINT64_MAX /* no limit */

/* A memory limit file: v1 memory.limit_in_bytes / memory.memsw.limit_in_bytes
 * (the kernel shows "no limit" as PAGE_COUNTER_MAX pages, 9223372036854771712
 * on 4K pages: any value >= 2^62 counts as none), v2 memory.max /
 * memory.swap.max ("max"). 0 or -EINVAL. */
int ps_parse_memory(const char *text, uint64_t *ret);

/* pids.max: "max" or a number. 0 or -EINVAL. */
int ps_parse_pids(const char *text, uint64_t *ret);

/* The CPU quota in thousandths of a CPU (PS_NONE: none). v1: cpu.cfs_quota_us
 * ("-1" for none) and cpu.cfs_period_us; v2: cpu.max ("max 100000" or
 * "QUOTA PERIOD"; pass NULL for period_text). 0 or -EINVAL. */
int ps_parse_cpus(const char *quota_text, const char *period_text, uint64_t *ret_milli);

/* /proc/PID/cmdline (NUL-separated, LEN bytes) as one line: arguments
 * joined by spaces, control characters shown as '?'. Malloc'd or NULL. */
char *ps_cmdline_join(const char *data, size_t len);

/* Field 22 of /proc/PID/stat (the start time in clock ticks after boot),
 * found after the last ')' since the name may hold spaces and ')'. 0 or
 * -EINVAL. */
int ps_stat_starttime(const char *stat_text, uint64_t *ret);

/* "45s", "12m", "3h", "2d": an age for the table. */
void ps_format_age(int64_t seconds, char *buf, size_t size);

/* One line of /proc/PID/mountinfo (proc(5)): 1 with the mount point
 * (octal escapes undone, malloc'd) in *RET_TARGET when it is a mount of
 * curatefs (type fuse.curatefs) whose root is not "/", i.e. a bind of a
 * file or directory of the views, the way a container gets them (curate
 * run, the OCI hook, a CDI spec, an LXCFS-style -v bind); 0 for any other
 * line, the whole mount included (a copy of the host's mount table, as a
 * service's private namespace has, reads no views); -EINVAL when the line
 * is not mountinfo, -ENOMEM. */
int ps_mountinfo_view(const char *line, char **ret_target);

/* The engine's container id in a cgroup leaf name: the 64 hex digits of
 * "libpod-HEX", "libpod-HEX.scope", "docker-HEX.scope", "crio-HEX.scope",
 * or of a leaf that is HEX itself (runc with a cgroupsPath), copied into
 * RET (65 bytes). 0, or -ENOENT when the leaf holds no such id. */
int ps_engine_id(const char *leaf, char ret[65]);

/* The path of the v1 hierarchy whose controller list holds CONTROLLER
 * ("devices") in /proc/PID/cgroup's TEXT, malloc'd in *RET: 0, -ENOENT
 * when no line names it, -ENOMEM. (cg_reader_parse knows the controllers
 * the views read; the device cgroup is not one.) */
int ps_proc_cgroup_v1(const char *text, const char *controller, char **ret);
