#include "config.h"
/* The built-in defaults as tables. policies/default.conf spells out the same
 * values; a unit test keeps the two equal. */
#include <errno.h>
#include <linux/capability.h>
#include "macro.h"
#include "policy.h"

const struct policy_view_info policy_views[_POLICY_VIEW_MAX] = {
        [POLICY_VIEW_MEMINFO]    = { "meminfo",    "proc/meminfo",   "/proc/meminfo" },
        [POLICY_VIEW_CPUINFO]    = { "cpuinfo",    "proc/cpuinfo",   "/proc/cpuinfo" },
        [POLICY_VIEW_STAT]       = { "stat",       "proc/stat",      "/proc/stat" },
        [POLICY_VIEW_UPTIME]     = { "uptime",     "proc/uptime",    "/proc/uptime" },
        [POLICY_VIEW_LOADAVG]    = { "loadavg",    "proc/loadavg",   "/proc/loadavg" },
        [POLICY_VIEW_SWAPS]      = { "swaps",      "proc/swaps",     "/proc/swaps" },
        [POLICY_VIEW_DISKSTATS]  = { "diskstats",  "proc/diskstats", "/proc/diskstats" },
        [POLICY_VIEW_CPU_ONLINE] = { "cpu-online", "sys/devices/system/cpu/online",
                                     "/sys/devices/system/cpu/online" },
        [POLICY_VIEW_CPU_TREE]   = { "cpu-tree",   "sys/devices/system/cpu", "/sys/devices/system/cpu" },
        [POLICY_VIEW_VMSTAT]     = { "vmstat",     "proc/vmstat",    "/proc/vmstat" },
        [POLICY_VIEW_PRESSURE]   = { "pressure",   "proc/pressure",  "/proc/pressure" },
};

/* What runc and docker mask by default (runc's libcontainer/specconv
 * defaults and moby's oci/defaults.go MaskedPaths): kernel memory, keys,
 * timers and scheduler internals that leak host state or allow side
 * channels, and firmware tables. */
static const char *const policy_default_masks[] = {
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/proc/interrupts",
        "/sys/firmware",
};

/* moby's ReadonlyPaths: the knobs under /proc that change the host kernel. */
static const char *const policy_default_read_only[] = {
        "/proc/bus",
        "/proc/fs",
        "/proc/irq",
        "/proc/sys",
        "/proc/sysrq-trigger",
};

/* podman's default bounding set (containers.conf default_capabilities):
 * docker's list without CAP_AUDIT_WRITE, CAP_MKNOD and CAP_NET_RAW. */
static const int policy_default_caps[] = {
        CAP_CHOWN,
        CAP_DAC_OVERRIDE,
        CAP_FOWNER,
        CAP_FSETID,
        CAP_KILL,
        CAP_NET_BIND_SERVICE,
        CAP_SETFCAP,
        CAP_SETGID,
        CAP_SETPCAP,
        CAP_SETUID,
        CAP_SYS_CHROOT,
};

int policy_init_default(struct policy *ret) {
        struct policy p;
        int r;

        policy_init_empty(&p);
        p.views = POLICY_VIEWS_ALL;
        p.curated_dev = true;
        p.sysinfo = true; /* answered with the container's figures */
        p.private_tmp = true;
        /* what docker, podman and runc give every container */
        p.pid_ns = p.ipc_ns = p.uts_ns = p.cgroup_ns = true;
        for (size_t i = 0; i < ELEMENTSOF(policy_default_caps); i++)
                p.caps |= 1ULL << policy_default_caps[i];
        for (size_t i = 0; i < ELEMENTSOF(policy_default_masks); i++) {
                r = policy_add_mask(&p, policy_default_masks[i]);
                if (r < 0)
                        goto fail;
        }
        for (size_t i = 0; i < ELEMENTSOF(policy_default_read_only); i++) {
                r = policy_add_read_only(&p, policy_default_read_only[i]);
                if (r < 0)
                        goto fail;
        }
        *ret = p;
        return 0;
fail:
        policy_done(&p);
        return r;
}
