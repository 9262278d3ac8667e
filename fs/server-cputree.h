#pragma once
/* FUSE requests on MOUNTPOINT/sys/devices/system/cpu's host part
 * (cputree.h). What it holds differs per reader, and the kernel's dentry and
 * attribute caches are shared by every reader: a gate's entry (cpuN,
 * cpufreq/policyN) and a per-reader file's attributes have timeout 0, a
 * missing name is an error reply (never a negative entry), and only what
 * every reader who passes the gates sees alike is kept, for a second. */
#include "server.h"
#include "cputree.h"

/* A fixed file of the cpu directory (server.c's table), listed first. */
struct cputree_fixed {
        const char *name;
        fuse_ino_t ino;
};

/* LOOKUP of NAME in PARENT: the cpu directory CPU_DIR (for a name that is
 * none of its fixed files) or a tree directory. */
void cputree_lookup(fuse_req_t req, fuse_ino_t cpu_dir, fuse_ino_t parent, const char *name);
void cputree_getattr(fuse_req_t req, fuse_ino_t ino);
/* READDIR of the cpu directory CPU_DIR itself (FIXED first; ".." is
 * CPU_PARENT) or of a tree directory INO. */
void cputree_readdir(fuse_req_t req, fuse_ino_t cpu_dir, fuse_ino_t cpu_parent, fuse_ino_t ino, size_t size,
                     off_t off, const struct cputree_fixed *fixed, size_t n_fixed);
void cputree_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void cputree_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void cputree_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off);
void cputree_readlink(fuse_req_t req, fuse_ino_t ino);
