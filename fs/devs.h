#pragma once
/* Per-container /dev trees (MOUNTPOINT/devs/<id>/): the registration file
 * (lib/registration.h) and the tree built from it.
 * Nothing here knows about FUSE. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "registration.h"

/* Is the reader whose /proc/PID/cgroup is CGROUP_TEXT allowed to see ID's
 * tree: some line's path is /curate/ID or below it, or every line's path is
 * "/" (the host administrator). */
bool devs_reader_allowed(const char *cgroup_text, const char *id);

/* A node of a built tree; index 0 is the tree's root directory. */
enum dnode_kind { DNODE_DIR, DNODE_DEV, DNODE_LINK };
struct dnode {
        char *name;
        size_t parent;      /* index */
        enum dnode_kind kind;
        mode_t mode;        /* with the S_IFMT bits */
        dev_t rdev;         /* DNODE_DEV */
        const char *target; /* DNODE_LINK, static */
};
struct devs_tree {
        struct dnode *n;
        size_t len;
};
void devs_tree_done(struct devs_tree *t);
/* Add a node named NAME below PARENT; returns its index or -errno. */
int devs_tree_add(struct devs_tree *t, size_t parent, const char *name, enum dnode_kind kind,
                  mode_t mode, dev_t rdev, const char *target);
/* Add the registered entries, making intermediate 0755 directories. A path
 * that names an existing node, or passes through a non-directory, is -EEXIST
 * and *ret_index says which entry. */
int devs_tree_add_entries(struct devs_tree *t, const struct reg_entry *e, size_t n, size_t *ret_index);
/* The child of PARENT named NAME, or -ENOENT. */
int devs_tree_find(const struct devs_tree *t, size_t parent, const char *name);
