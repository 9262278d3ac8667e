#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "cdi.h"
#include "devrules.h"

/* What `curate device` was asked: shared by hotplug.c (curate's own
 * containers) and hotplug-engine.c (those podman or runc started). */
struct hotplug {
        bool add;
        const char *id;
        const char *mountpoint; /* the curatefs serving the container */
        char *const *specs;
        size_t n_specs;
        const char *gpu;
};

/* What the specs name on the host (*RET to cdi_edits_done); for a remove,
 * /dev paths are left out (matched in the container). 0 or -errno. */
int hotplug_resolve(const struct hotplug *h, struct cdi_edits *ret, char **ret_error);
/* The allow rule of one node, its access or "rwm". */
struct dev_rule hotplug_node_rule(const struct device_node *n);
/* RULE written to the v1 cgroup file FILE (devices.allow|deny) of DIR_FD. */
int hotplug_write_rule(int dir_fd, const char *file, const struct dev_rule *rule, char **ret_error);
/* FN(ARG) in a forked child; 0 or the child's -errno. */
int hotplug_in_child(int (*fn)(void *arg), void *arg);

/* ---- hotplug-engine.c ---- */
/* ARG names a container an engine started: pid:PID, or 12 to 64 hex digits */
bool hotplug_engine_arg(const char *arg);
/* the add or remove of H on that container; 0 or -errno with *ret_error */
int hotplug_engine(const struct hotplug *h, const char *arg, char **ret_error);
