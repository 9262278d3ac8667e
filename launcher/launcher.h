#pragma once
/* curate, the launcher: shared declarations of its parts.
 *   main.c          command line (curate run / daemon / --help / --version)
 *   run.c           namespaces, process supervision, exit status
 *   mounts.c        the container's mount table (views, /dev, masks, binds)
 *   cgroup-setup.c  the command's cgroup, transient or joined
 *   daemon.c        the shared curatefs daemon: ensure / start / stop / status
 *   cdi-cmd.c       curate cdi generate: CDI specs of the views and GPUs for engines
 *   oci-hook.c      curate oci-hook, the OCI createContainer hook (oci-state.c: its inputs) */
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "cgroup.h"
#include "policy.h"

/* Exit statuses of curate itself (as docker and env use them); otherwise
 * curate exits with the command's status, 128+N when signal N killed it. */
#define EXIT_CURATE 125      /* curate failed before or while setting up */
#define EXIT_CANNOT_EXEC 126 /* the command exists but cannot be executed */
#define EXIT_NOT_FOUND 127   /* the command was not found */

/* ---- main.c ---- */
/* Print "curate: PREFIX<message>" on stderr; returns STATUS (an exit status). */
int curate_report(int status, const char *prefix, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- cgroup-setup.c ---- */
struct run_cgroup {
        int n;                    /* hierarchies the command is placed in */
        int dir_fd[CG_HIER_MAX];  /* O_DIRECTORY|O_CLOEXEC fd of the cgroup in each */
        char *path[CG_HIER_MAX];  /* for messages: "/sys/fs/cgroup/memory/curate/run-123" */
        char *mount[CG_HIER_MAX]; /* the hierarchy's mount point: "/sys/fs/cgroup/memory" */
        /* --delegate: "PATH/" RUN_CGROUP_DELEGATED below each, where the
         * command runs and which it may write; deleg_fd[i] is open only
         * where deleg_path[i] is set */
        int deleg_fd[CG_HIER_MAX];
        char *deleg_path[CG_HIER_MAX];
        bool transient;           /* created here: emptied and removed by run_cgroup_destroy */
        int devices_at;           /* index of the v1 devices cgroup in dir_fd, -1: none */
        int unified_at;           /* index of the cgroup2 one, -1: none */
};
/* Create "curate/NAME" in every cgroup hierarchy of L (v1: each controller's
 * mount, devices included; v2: the unified mount, enabling the controllers
 * needed on the way down) and write P's limits (memory, memory_swap,
 * cpus_milli, cpuset, pids). On failure nothing is left behind and
 * *ret_error (malloc'd) names the file and reason. */
int run_cgroup_create(const struct cg_layout *l, const struct policy *p, const char *name,
                      struct run_cgroup *ret, char **ret_error);
/* The host's cgroup hierarchies, read from /proc/self/mountinfo. */
int run_cgroup_layout(struct cg_layout *ret, char **ret_error);
/* Use the existing cgroup PATH ("/a/b", relative to each hierarchy's root)
 * in every hierarchy where it exists; -ENOENT when it exists in none. */
int run_cgroup_join(const struct cg_layout *l, const char *path, struct run_cgroup *ret, char **ret_error);
/* Create (or open, when it exists) the long-lived "curate/NAME" in every
 * hierarchy: no limits, never removed (the shared daemon's own cgroup). */
int run_cgroup_open_shared(const struct cg_layout *l, const char *name, struct run_cgroup *ret, char **ret_error);
/* --delegate: make the cgroup the command runs in, "container" below the
 * transient one in every hierarchy (on cgroup v2 with every controller the
 * transient one offers enabled for it). The limits stay on the transient
 * cgroup, out of the command's reach; below it the command may make child
 * cgroups and limit them, never above those limits (the kernel's
 * hierarchical limits). Call it after the device rules are set: a v1
 * devices cgroup copies its parent's list when it is made, and refuses a
 * new default behaviour once it has children. */
#define RUN_CGROUP_DELEGATED "container"
int run_cgroup_delegate(struct run_cgroup *cg, char **ret_error);
/* Move PID into the cgroup in every hierarchy (the delegated one where
 * there is one). */
int run_cgroup_attach(const struct run_cgroup *cg, pid_t pid);
/* Transient: kill what is left inside, below it too (v2 cgroup.kill, else
 * SIGKILL the listed pids of each cgroup until empty) and remove the
 * directories, children first ("curate/" is left alone: other runs share
 * it). Always closes fds. */
void run_cgroup_destroy(struct run_cgroup *cg);
/* How many processes the OOM killer killed in the cgroup (and below it)
 * so far, over every hierarchy; 0 where none says. */
uint64_t run_cgroup_oom_kills(const struct run_cgroup *cg);

/* ---- daemon.c ---- */
/* The curatefs binary: $CURATEFS, else "curatefs" next to this executable,
 * else ../fs/curatefs relative to it (an uninstalled build), else PATH. */
const char *curatefs_binary(void);
/* true when a live curatefs (fstype fuse.curatefs) serves MOUNTPOINT */
bool daemon_serving(const char *mountpoint);
/* Make sure a curatefs serves MOUNTPOINT: if none does, take the lock
 * CURATE_RUN_DIR/daemon.lock, check again, detach a dead daemon's stale
 * mount, start curatefs (it detaches once mounted) and wait for it. Two
 * concurrent callers start one daemon. *ret_started (may be NULL) tells
 * whether this call started it. */
int daemon_ensure(const char *mountpoint, bool *ret_started, char **ret_error);
/* `curate daemon start|stop|status [--mountpoint DIR]`; returns the exit status. */
int daemon_main(int argc, char **argv);

/* ---- devices-cmd.c ---- */
/* `curate devices list [--json]`; returns the exit status. */
int devices_main(int argc, char **argv);

/* ---- cdi-cmd.c ---- */
/* `curate cdi generate ...`; returns the exit status (0, 1 failed, 2 usage). */
int cdi_main(int argc, char **argv);
/* Write the curate.dev/views spec for the curatefs serving MOUNTPOINT to
 * OUTPUT (NULL: /var/run/cdi/curate.yaml), atomically. -ENOENT, nothing
 * written, when no curatefs serves it. 0 or -errno with *ret_error. */
int cdi_write_views(const char *mountpoint, const char *output, char **ret_error);
/* After `curate daemon start` on CANONICAL: as root, for the default mount
 * point only, rewrite the default spec (a failure is reported, not fatal). */
void cdi_daemon_started(const char *canonical);

/* ---- oci-hook.c ---- */
/* `curate oci-hook [--mountpoint DIR] [--views LIST]`, the OCI state on
 * stdin; returns the exit status (0, 1 failed with nothing bound, 2 usage). */
int oci_hook_main(int argc, char **argv);

/* ---- ps.c ---- */
/* `curate ps [--json]`; returns the exit status (0, 1 failed, 2 usage). */
int ps_main(int argc, char **argv);

/* ---- seccomp-profile-cmd.c ---- */
int seccomp_profile_main(int argc, char **argv);
/* After `curate daemon start` of the default daemon: its profile written
 * (SECCOMP_PROFILE_DEFAULT), or a warning printed. */
void seccomp_profile_daemon_started(const char *canonical);

/* ---- hotplug.c ---- */
/* `curate device add|remove CONTAINER [--gpu SPEC] [DEVICE...]`; returns the
 * exit status (0, 1 failed with nothing changed, 2 usage). */
int device_main(int argc, char **argv);

/* ---- device-resolve.c ---- */
struct cdi_edits;
/* Resolve SPECS (each "/dev/PATH[:rwm]" or a CDI "vendor/class=name") and
 * GPU (a --gpu spec, may be NULL) beneath the host root ROOT_FD into one set
 * of edits: nodes, CDI env, mounts, additionalGIDs and hooks. 0, or -errno
 * with *ret_error naming the spec and what was wrong; RET written only on
 * success. */
int devices_resolve(int root_fd, char *const *specs, size_t n_specs, const char *gpu, struct cdi_edits *ret,
                    char **ret_error);

/* ---- proc-nvidia.c ---- */
/* The container's /proc/driver/nvidia: only BUS_IDS' gpus/ entries, the
 * CAP_PATHS capability files (may be NULL) and params with
 * ModifyDeviceFiles: 0 (see proc-nvidia.c). 0 or -errno with *ret_error. */
int proc_nvidia_setup(int host_root_fd, int container_root_fd, char *const *bus_ids, char *const *cap_paths,
                      char **ret_error);
/* The same view built detached, for a running container (hot-plug): 0 with
 * *RET_TREE a detached mount to move onto its /proc/driver/nvidia, or 0 with
 * *RET_TREE < 0 when the host has no NVIDIA driver; -EOPNOTSUPP on kernels
 * before 6.15 (no mounts onto a detached mount) or when the container has no
 * proc/driver/nvidia to cover. */
int proc_nvidia_build(int host_root_fd, int container_root_fd, char *const *bus_ids, char *const *cap_paths,
                      int *ret_tree, char **ret_error);
