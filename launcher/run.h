#pragma once
/* What `curate run` was asked for, once options and policies are merged. */
#include <stdbool.h>
#include "fileio.h"
#include "cdi.h"
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
/* Release what run_validate() resolved (not the policy). */
void run_config_done(struct run_config *cfg);
/* Run the command; returns curate's exit status. */
int run_main(const struct run_config *cfg);

/* mounts.c: build the container's mount table; runs in the child, inside
 * the new mount namespace (and pid/user namespaces), before privileges are
 * dropped. On failure *ret_error says which path and why. */
int mounts_setup(const struct run_config *cfg, char **ret_error);
/* A new, detached filesystem instance (fsopen/fsmount): OPTS are "key=value"
 * or "flag" strings, ATTRS MOUNT_ATTR_*. An O_CLOEXEC mount fd or -errno. */
int mount_fs_new(const char *fstype, const char *const *opts, unsigned attrs);
