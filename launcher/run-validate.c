#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cdi.h"
#include "gpu-select.h"
#include "launcher.h"
#include "macro.h"
#include "nvidia.h"
#include "nvidia-proc.h"
#include "registration.h"
#include "run.h"

/* `curate run`'s first phase: the merged options and policies checked
 * against the host and the caller, and the devices resolved, before
 * anything is created (run.c makes it all afterwards). A refusal names the
 * option or the policy's FILE:LINE and the cause. */

static bool has_limits(const struct policy *p) {
        return p->memory != POLICY_UNSET || p->memory_swap != POLICY_UNSET || p->cpus_milli != POLICY_UNSET ||
               p->cpuset || p->pids != POLICY_UNSET;
}

bool run_needs_daemon(const struct policy *p) {
        return p->views != 0 || p->curated_dev;
}

static int validate_limits(const struct policy *p, char **ret_error) {
        if (p->cgroup && has_limits(p))
                return error_printf(ret_error, -EINVAL,
                                    "--cgroup %s cannot be combined with limits: they would change a cgroup curate does not own",
                                    p->cgroup);
        if (p->memory_swap == POLICY_UNSET)
                return 0;
        if (p->memory == POLICY_UNSET)
                return error_printf(ret_error, -EINVAL, "--memory-swap needs --memory (it limits memory plus swap)");
        if (p->memory_swap != POLICY_MAX && (p->memory == POLICY_MAX || p->memory_swap < p->memory))
                return error_printf(ret_error, -EINVAL,
                                    "--memory-swap (%llu bytes) is below --memory: it limits memory plus swap",
                                    (unsigned long long)p->memory_swap);
        return 0;
}

/* What no combination may do: hand the host's root to a --rootfs command
 * through /proc/PID/root (or cwd) of a process outside its root, which a
 * shared pid namespace shows. */
static int validate_namespaces(const struct policy *p, char **ret_error) {
        if (p->rootfs && !p->pid_ns)
                return error_printf(ret_error, -EINVAL,
                                    "--rootfs %s cannot be combined with --share pid (PID=no): /proc/PID/root of every "
                                    "host process would lead out of it to the host's root", p->rootfs);
        if (p->hostname && !p->uts_ns)
                return error_printf(ret_error, -EINVAL,
                                    "--hostname %s needs a UTS namespace of its own (not --share uts, UTS=no): it "
                                    "would rename the host", p->hostname);
        return 0;
}

/* What set field F: the policy's "FILE:LINE: Key=" or the option OPT
 * ("--rootfs "), to be followed by the value in a message. */
static const char *set_by(const struct policy *p, enum policy_origin f, const char *opt) {
        return p->origin[f] ? p->origin[f] : opt;
}

/* A --rootfs must hold the mount points curate cannot do without: /proc
 * (a fresh procfs, the views) and /dev (the curated or the host's /dev);
 * /sys and /tmp are mounted only where they exist. */
static int validate_rootfs(const struct policy *p, char **ret_error) {
        static const char *const needed[] = { "proc", "dev" };
        const char *by = set_by(p, POLICY_AT_ROOTFS, "--rootfs ");
        _cleanup_close_ int fd = -EBADF;

        if (!p->rootfs)
                return 0;
        fd = open(p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_printf(ret_error, -errno, "%s%s: %s", by, p->rootfs,
                                    errno == ENOTDIR ? "not a directory" : strerror(errno));
        for (size_t i = 0; i < ELEMENTSOF(needed); i++) {
                _cleanup_close_ int d = open_beneath(fd, needed[i], O_PATH | O_DIRECTORY);
                if (d < 0)
                        return error_printf(ret_error, d, "%s%s: no directory /%s in it (%s/%s: %s); curate mounts "
                                            "%s there", by, p->rootfs, needed[i], p->rootfs, needed[i], strerror(-d),
                                            streq(needed[i], "proc") ? "a fresh /proc" : "the container's /dev");
        }
        return 0;
}

/* "0-3,8" into BUF (at least 16 bytes) */
static void format_cpus(const cpu_set_t *set, size_t size, char *buf, size_t len) {
        size_t n = 0;
        int cpus = (int)(size * 8);

        buf[0] = 0;
        for (int c = 0; c < cpus && n < len; c++) {
                int end = c;
                if (!CPU_ISSET_S(c, size, set))
                        continue;
                while (end + 1 < cpus && CPU_ISSET_S(end + 1, size, set))
                        end++;
                n += snprintf(buf + n, len - n, end > c ? "%s%d-%d" : "%s%d", n ? "," : "", c, end);
                c = end;
        }
        if (n >= len && len > 4)
                strcpy(buf + len - 4, "...");
}

/* --cpus and --cpuset against the CPUs curate itself may run on (its
 * affinity, which its cgroup's cpuset bounds): as docker does, a quota of
 * more CPUs than that is refused, and a cpuset the kernel would refuse
 * (ERANGE) late is refused here, before anything is made. */
static int validate_cpus(const struct policy *p, char **ret_error) {
        size_t size = CPU_ALLOC_SIZE(CPU_LIST_MAX);
        _cleanup_free_ cpu_set_t *mine = CPU_ALLOC(CPU_LIST_MAX);
        struct cpu_set_bits want;
        char list[256];
        int n;

        if (p->cpus_milli == POLICY_UNSET && !p->cpuset)
                return 0;
        if (!mine)
                return -ENOMEM;
        if (sched_getaffinity(0, size, mine) < 0)
                return error_printf(ret_error, -errno, "sched_getaffinity: %s", strerror(errno));
        n = CPU_COUNT_S(size, mine);
        format_cpus(mine, size, list, sizeof(list));
        if (p->cpus_milli != POLICY_UNSET && p->cpus_milli > (uint64_t)n * 1000) {
                char cpus[32];
                int len = snprintf(cpus, sizeof(cpus), "%" PRIu64 ".%03" PRIu64, p->cpus_milli / 1000, p->cpus_milli % 1000);
                while (cpus[len - 1] == '0') /* "1000.000" as given: "1000" */
                        cpus[--len] = 0;
                if (cpus[len - 1] == '.')
                        cpus[--len] = 0;
                return error_printf(ret_error, -EINVAL, "%s%s: more than the %d CPU%s available to curate (%s): "
                                    "the range is 0.01 to %d", set_by(p, POLICY_AT_CPUS, "--cpus "), cpus, n,
                                    n == 1 ? "" : "s", list, n);
        }
        if (!p->cpuset || parse_cpu_list(p->cpuset, &want) < 0)
                return 0;
        for (unsigned c = 0; c < CPU_LIST_MAX; c++)
                if (cpu_bit(&want, c) && !CPU_ISSET_S(c, size, mine))
                        return error_printf(ret_error, -EINVAL, "%s%s: CPU %u is not available to curate (it may run "
                                            "on %s)", set_by(p, POLICY_AT_CPUSET, "--cpuset "), p->cpuset, c, list);
        return 0;
}

static int validate_paths(const struct policy *p, char **ret_error) {
        struct stat st;
        int r = validate_rootfs(p, ret_error);

        if (r < 0)
                return r;
        if (p->workdir && p->workdir[0] != '/')
                return error_printf(ret_error, -EINVAL, "%s%s: not an absolute path",
                                    set_by(p, POLICY_AT_WORKDIR, "--chdir "), p->workdir);
        for (size_t i = 0; i < p->n_mounts; i++) {
                const struct policy_mount *m = &p->mounts[i];
                if (m->src && stat(m->src, &st) < 0)
                        return error_printf(ret_error, -errno, "%s %s %s: %s: %s",
                                            m->kind == POLICY_RO_BIND ? "--ro-bind" : "--bind",
                                            m->src, m->dst, m->src, strerror(errno));
        }
        return 0;
}

/* What the container's /proc/driver/nvidia shows: decided here, in the
 * parent, so that a host whose driver files do not parse fails before
 * anything is created. A container without NVIDIA nodes still gets the view
 * (no GPU in it) rather than the host's list of every GPU. */
static int resolve_nvidia_view(int root_fd, struct run_config *cfg, char **ret_error) {
        _cleanup_free_ char *error = NULL;
        struct nvidia_host host = {};
        _cleanup_close_ int nv = open_beneath(root_fd, "proc/driver/nvidia", O_PATH | O_DIRECTORY);
        int r;

        /* no driver directory: nothing to curate, and no /proc/devices to
         * read on every run of a host without NVIDIA GPUs */
        if (nv == -ENOENT)
                return 0;
        r = nvidia_discover(root_fd, &host, &error);
        if (r == -ENODEV)
                return 0; /* no NVIDIA driver: nothing to curate */
        cfg->nvidia_view = true;
        if (r < 0) {
                for (size_t i = 0; i < cfg->dev.nodes.n; i++)
                        if (strncmp(cfg->dev.nodes.nodes[i].path, "/dev/nvidia", 11) == 0)
                                return error_printf(ret_error, r, "/proc/driver/nvidia: %s", error ? error : strerror(-r));
                /* no GPU given: an empty view needs nothing the driver says */
                cfg->nvidia_gpus = calloc(1, sizeof(char *));
                return cfg->nvidia_gpus ? 0 : -ENOMEM;
        }
        r = nvidia_proc_gpus(&host, &cfg->dev.nodes, &cfg->nvidia_gpus);
        if (r >= 0)
                r = nvidia_proc_caps(&host, &cfg->dev.nodes, &cfg->nvidia_caps);
        nvidia_host_done(&host);
        return r < 0 ? error_printf(ret_error, r, "/proc/driver/nvidia: %s", strerror(-r)) : 0;
}

static int resolve_devices(struct run_config *cfg, char **ret_error) {
        _cleanup_close_ int root_fd = -EBADF;
        const struct policy *p = &cfg->policy;
        int r;

        /* as root with the curated /dev, every container has an id for
         * `curate device add|remove`; one with devices also a registered
         * /dev of its own (one without keeps curatefs's shared, cached dev/
         * until a device is added) */
        if (geteuid() == 0 && !p->cgroup && p->curated_dev)
                snprintf(cfg->devices_id, sizeof(cfg->devices_id), "run-%d", getpid());
        if (p->n_devices == 0 && !p->gpu) {
                if (!cfg->devices_id[0])
                        return 0;
                root_fd = host_root_open(ret_error);
                return root_fd < 0 ? root_fd : resolve_nvidia_view(root_fd, cfg, ret_error);
        }
        if (geteuid() != 0 || p->cgroup)
                return error_printf(ret_error, -EPERM,
                                    "--device and --gpu need root and a cgroup of curate's own (not --cgroup): "
                                    "the device cgroup enforces them");
        if (!p->curated_dev)
                return error_printf(ret_error, -EINVAL, "--device and --gpu need the curated /dev (not --host-dev)");
        root_fd = host_root_open(ret_error);
        if (root_fd < 0)
                return root_fd;
        r = devices_resolve(root_fd, p->devices, p->n_devices, p->gpu, &cfg->dev, ret_error);
        if (r < 0)
                return r;
        r = resolve_nvidia_view(root_fd, cfg, ret_error);
        if (r < 0)
                return r;
        if (cfg->dev.n_hooks > 0)
                fprintf(stderr, "curate: warning: %zu CDI hook(s) not run (%s ...): curate runs no OCI hooks\n",
                        cfg->dev.n_hooks, cfg->dev.hooks[0].path);
        return 0;
}

void run_config_done(struct run_config *cfg) {
        cdi_edits_done(&cfg->dev);
        gpu_select_strv_free(cfg->nvidia_gpus);
        gpu_select_strv_free(cfg->nvidia_caps);
        cfg->nvidia_gpus = cfg->nvidia_caps = NULL;
}

int run_validate(struct run_config *cfg, char **ret_error) {
        const struct policy *p = &cfg->policy;
        bool root = geteuid() == 0;
        int r;

        if (!root && !p->user_ns)
                return error_printf(ret_error, -EPERM,
                                    "curate run needs root; an unprivileged caller can use --user");
        r = validate_limits(p, ret_error);
        if (r >= 0)
                r = validate_cpus(p, ret_error);
        if (r >= 0)
                r = validate_namespaces(p, ret_error);
        if (r < 0)
                return r;
        if (!root && (has_limits(p) || p->cgroup))
                return error_printf(ret_error, -EPERM,
                                    "limits and --cgroup need root (an unprivileged --user run stays in the caller's cgroup)");
        if (p->delegate && (!root || p->cgroup))
                return error_printf(ret_error, -EINVAL,
                                    "--delegate needs root and a transient cgroup of curate's own (not --cgroup): "
                                    "only a cgroup curate made, with the limits above it, can be handed over");
        r = validate_paths(p, ret_error);
        if (r < 0)
                return r;
        if (!root && run_needs_daemon(p) && !daemon_serving(cfg->mountpoint))
                return error_printf(ret_error, -ENOENT,
                                    "no curatefs serves %s and only root can start one: run `curate daemon start` as root, "
                                    "or use --views none --host-dev",
                                    cfg->mountpoint);
        /* curatefs serves the views of cgroup curate/<id> a copy of their own */
        if (root && !p->cgroup)
                snprintf(cfg->views_id, sizeof(cfg->views_id), "run-%d", getpid());
        return resolve_devices(cfg, ret_error);
}

