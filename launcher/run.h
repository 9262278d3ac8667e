#pragma once
/* What `curate run` was asked for, once options and policies are merged. */
#include <stdbool.h>
#include "fileio.h"
#include "cdi.h"
#include "cgroup.h"
#include "policy.h"

struct run_config {
        struct policy policy;
        const char *mountpoint; /* the curatefs serving the views and /dev */
        char **argv;            /* the command, NULL-terminated */
        /* filled by run_validate(): the nodes the container gets beyond the
         * curated set and what CDI specs add (env, mounts, additionalGIDs;
         * hooks are reported, not run); the registration id ("run-<pid>",
         * the transient cgroup's name, empty when curatefs serves no
         * per-container /dev: not root, --cgroup, --host-dev) */
        struct cdi_edits dev;
        char devices_id[32];
        /* the container's own view nodes, MOUNTPOINT/c/<views_id>/ (the
         * transient cgroup's name, "run-<pid>"; empty: the shared views,
         * without a cgroup of curate's own) */
        char views_id[32];
        /* /proc/driver/nvidia curated (the host has the driver and the
         * container a curated /dev): the GPUs' bus ids and the capability
         * files its device set gives (devices/nvidia-proc.h) */
        bool nvidia_view;
        char **nvidia_gpus, **nvidia_caps;
};

/* Parse `curate run`'s options (ARGV[0] is "run") onto CFG, which holds the
 * built-in defaults: each --policy first, in order, then every other option
 * over them. Returns 0, 1 when --help was asked for, or -errno with
 * *ret_error naming the option and what was wrong. */
int run_parse_options(int argc, char **argv, struct run_config *cfg, char **ret_error);

/* Check the merged configuration against the host and the caller before
 * anything is created. Returns 0 or -errno with *ret_error set. */
int run_validate(struct run_config *cfg, char **ret_error);
/* Does the run need curatefs (a view, or the curated /dev)? */
bool run_needs_daemon(const struct policy *p);
/* Release what run_validate() resolved (not the policy). */
void run_config_done(struct run_config *cfg);
/* Run the command; returns curate's exit status. */
int run_main(const struct run_config *cfg);

/* The command's cgroups as its /sys/fs/cgroup shows them, relative to the
 * host's /sys/fs/cgroup: the parent sends it to the child, whole, once
 * they exist. */
#define CG_SHOWN_PATH_MAX 1024
struct cg_shown {
        int n;
        char mount[CG_HIER_MAX][64];              /* "memory"; "" for a cgroup2 mount on /sys/fs/cgroup */
        char path[CG_HIER_MAX][CG_SHOWN_PATH_MAX]; /* "memory/curate/run-42" */
        bool writable[CG_HIER_MAX];               /* --delegate */
};

/* mounts.c: the container's mount table, built in the child, inside the
 * new mount namespace (and pid/user namespaces), before privileges are
 * dropped, in two phases: mounts_prepare() what needs no cgroup (private
 * propagation, the root, /proc, /sys, /tmp), while the parent is still
 * making the cgroups; mounts_finish() the rest once the child is in them
 * (the views and /dev: curatefs answers both for the reader's cgroup;
 * /sys/fs/cgroup showing CG, binds, masks, read-only paths, curate's state,
 * --rootfs). On failure *ret_error says which path and why. */
int mounts_prepare(const struct run_config *cfg, char **ret_error);
int mounts_finish(const struct cg_shown *cg, char **ret_error);

/* namespaces.c: the clone(2) flags of the child (pid, IPC, UTS, network,
 * user and mount namespaces, as P asks), and what the released child sets
 * up in them: its cgroup namespace (now that it is in its cgroup), the host
 * name, lo in a new network namespace. 0 or -errno with *ret_error. */
unsigned long ns_clone_flags(const struct policy *p);
int ns_enter_after_release(const struct policy *p, char **ret_error);
/* A new, detached filesystem instance (fsopen/fsmount): OPTS are "key=value"
 * or "flag" strings, ATTRS MOUNT_ATTR_*. An O_CLOEXEC mount fd or -errno. */
int mount_fs_new(const char *fstype, const char *const *opts, unsigned attrs);
