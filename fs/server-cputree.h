#pragma once
/* FUSE requests on MOUNTPOINT/sys/devices/system/cpu's host part
 * (cputree.h). What it holds differs per reader, and the kernel's dentry and
 * attribute caches are shared by every reader: a gate's entry (cpuN,
 * cpufreq/policyN) and a per-reader file's attributes have timeout 0, a
 * missing name is an error reply (never a negative entry), and only what
 * every reader who passes the gates sees alike is kept, for a second. */
#include "server.h"
#include "cputree.h"

/* The cpu directory in server.c's node table: its index, its parent's and
 * its fixed files' (listed first). Index I is inode I + 1 in the shared
 * tree and cnodes_ino(serial, I) in c/<id>/'s. */
struct cputree_fixed {
        const char *name;
        size_t index;
};
struct cputree_top {
        size_t cpu, parent;
        const struct cputree_fixed *fixed;
        size_t n_fixed;
};

/* The trees: the shared one (ID NULL) and each container's (c/<ID>/, whose
 * inodes carry the id: cputree.h). A request on a tree inode finds the id
 * from the reader's cgroup, so only a reader in that container gets one;
 * on the cpu directory itself the caller says which (and checked the
 * reader may see c/<ID>). */

/* LOOKUP of NAME in PARENT: a tree directory, or ID's cpu directory (for a
 * name that is none of its fixed files). */
void cputree_lookup(fuse_req_t req, const char *id, fuse_ino_t parent, const char *name);
void cputree_getattr(fuse_req_t req, fuse_ino_t ino);
/* READDIR of a tree directory INO or of ID's cpu directory (TOP). */
void cputree_readdir(fuse_req_t req, const struct cputree_top *top, const char *id, fuse_ino_t ino, size_t size,
                     off_t off);
void cputree_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void cputree_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void cputree_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off);
void cputree_readlink(fuse_req_t req, fuse_ino_t ino);
