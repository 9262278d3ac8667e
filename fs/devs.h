#pragma once
/* Per-container /dev trees (MOUNTPOINT/devs/<id>/): the registration file
 * (lib/registration.h) and the tree built from it.
 * Nothing here knows about FUSE. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
        bool hidden;        /* holds its index but is not there: never found or listed */
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
/* The child of PARENT named NAME (hidden nodes left out), or -ENOENT. */
int devs_tree_find(const struct devs_tree *t, size_t parent, const char *name);

/* ---- node ids that every serving process agrees on ----
 * A tree's inode numbers are DEVS_INO_BASE + (serial << 16) + index, with
 * serials derived from stable facts (never from a per-process counter), so
 * a fresh serving process gives the same tree the same numbers. Serials are
 * 47-bit hashes: nonzero and < 2^47, so the inode fits 64 bits. */
#define DEVS_INO_BASE (1ULL << 32)
#define DEVS_SERIAL_BITS 47
#define DEVS_INDEX_BITS 16
/* Fold LEN bytes of DATA into the running hash H (start with DEVS_HASH_INIT). */
#define DEVS_HASH_INIT 0xcbf29ce484222325ULL
uint64_t devs_hash(uint64_t h, const void *data, size_t len);
/* The serial a finished hash H gives: well mixed, in [1, 2^47). */
uint64_t devs_serial_of_hash(uint64_t h);
static inline uint64_t devs_ino_make(uint64_t serial, size_t index) {
        return DEVS_INO_BASE + (serial << DEVS_INDEX_BITS) + index;
}
/* Split an inode >= DEVS_INO_BASE; false when it cannot be one of ours. */
static inline bool devs_ino_split(uint64_t ino, uint64_t *ret_serial, size_t *ret_index) {
        if (ino < DEVS_INO_BASE)
                return false;
        uint64_t serial = (ino - DEVS_INO_BASE) >> DEVS_INDEX_BITS;
        if (serial == 0 || serial >= (1ULL << DEVS_SERIAL_BITS))
                return false;
        *ret_serial = serial;
        *ret_index = (ino - DEVS_INO_BASE) & ((1U << DEVS_INDEX_BITS) - 1);
        return true;
}
