#pragma once
/* What fs/server.c (the fixed tree, file handles, the FUSE operations)
 * shares with the files that serve its per-container parts:
 * server-devs.c (MOUNTPOINT/devs/<id>/) and server-cnodes.c
 * (MOUNTPOINT/c/<id>/). Internal to the daemon. */
#include "server.h"
#include "curatefs.h"
#include "devs.h"

static inline struct curate *ctx_of(fuse_req_t req) {
        return fuse_req_userdata(req);
}

/* ---- the fixed node table (server.c) ---- */
/* The tree never changes and every reader sees the same names and modes, so
 * the kernel may cache its entries and attributes for long (and those of
 * c/<id>'s directories: server-cnodes.c); contents are never cached
 * (direct_io). */
#define ATTR_TIMEOUT 86400.0

/* The fixed tree. proc and sys have LXCFS's layout, so recipes that
 * bind-mount LXCFS files work by changing the source directory; dev is what
 * a container's /dev holds (as runc and bubblewrap make it), and the launcher
 * mounts a devpts, a tmpfs and an mqueue on its pts, shm and mqueue.
 * Inode numbers are table indexes + 1. */
enum node_kind {
        NODE_DIR,
        NODE_VIEW, /* a rendered file */
        NODE_DEV,  /* the host's character device, if it has it */
        NODE_LINK,
};
struct node {
        const char *name;
        fuse_ino_t parent;
        enum node_kind kind;
        mode_t perm;        /* NODE_DIR */
        enum view_id view;  /* NODE_VIEW */
        enum dev_id dev;    /* NODE_DEV */
        const char *target; /* NODE_LINK */
        bool psi;           /* there only where the host has /proc/pressure */
};
enum { INO_ROOT = 1, INO_PROC, INO_SYS, INO_DEVICES, INO_SYSTEM, INO_CPU, INO_DEV };
/* appended last, so the other nodes keep their numbers */
#define INO_DEVS 30
#define INO_PRESSURE 35
#define INO_C 39
#define NNODES ((size_t)INO_C)
/* MOUNTPOINT/proc and /sys are symlinks whose target depends on the reader
 * (cnode_top_link); the shared directories are MOUNTPOINT/.proc and .sys */
#define INO_TOPLINK_BASE 0x100
static inline bool is_toplink_ino(fuse_ino_t ino) {
        return ino == INO_TOPLINK_BASE + INO_PROC || ino == INO_TOPLINK_BASE + INO_SYS;
}
extern const struct node nodes[];

static inline const struct node *node_get(fuse_ino_t ino) {
        return ino >= 1 && ino <= NNODES ? &nodes[ino - 1] : NULL;
}
/* Does the node exist (a device the host has, PSI where the kernel has it)? */
bool node_visible(const struct curate *c, const struct node *n);
/* READDIR of a cpu directory (ID's, NULL the shared one) or a tree
 * directory: the fixed files, then the host's entries (cputree.h). */
void cpu_readdir(fuse_req_t req, const char *id, fuse_ino_t ino, size_t size, off_t off);

/* ---- file handles (server.c) ---- */
struct handle {
        /* Two threads of a reader may read one fd at once, and their READs
         * reach different workers: the snapshot swap must not race. */
        pthread_mutex_t lock;
        struct snap *snap;
        struct reader_hint hint;
        enum view_id view;
        bool fresh; /* rendered at open and not yet read at offset 0 */
        /* a c/<id>/ node's: its entry, the snapshot generation it opened on
         * and whether it still pins it (cnode_unpin); NULL for the shared
         * views. slot: its place in cn_slots + 1 (its fh names it). */
        struct cn_entry *cn;
        uint64_t cn_epoch;
        bool cn_pinned;
        size_t slot, open_len;
        /* every live handle, so that a serving process that stops frees
         * those of files still open (their RELEASE goes to its successor) */
        struct handle *prev, *next;
};
/* A c/ node's fh carries the length of the snapshot it opened on
 * (server.c's fh layout), up to this: */
#define FH_CN_LEN_BITS 21
#define FH_CN_LEN_UNKNOWN ((1ULL << FH_CN_LEN_BITS) - 1) /* 2 MiB or more */
/* Ours, or NULL for another generation's fh. */
struct handle *fh_own(uint64_t fh);
/* The length a c/ node's fh of any generation carries, or FH_CN_LEN_UNKNOWN */
size_t fh_cn_len(uint64_t fh);
/* A handle on VIEW holding SNAP (its reference moves in); SLOT: named by
 * a slot (a c/ node's). */
int handle_add(enum view_id view, struct snap *snap, bool slot, struct handle **ret);
void handle_free(struct handle *h);

/* ---- MOUNTPOINT/devs/<id> (server-devs.c) ---- */
bool is_devs_ino(fuse_ino_t ino);
void devs_lookup_id(fuse_req_t req, const char *id);
void devs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void devs_getattr(fuse_req_t req, fuse_ino_t ino);
void devs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off);
void devs_open_like(fuse_req_t req, fuse_ino_t ino, enum dnode_kind want, struct fuse_file_info *fi);

/* ---- MOUNTPOINT/c/<id> (server-cnodes.c) ---- */
void cnode_lookup_id(fuse_req_t req, const char *id);
void cnode_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
/* The target of the top link proc or sys (node INDEX) for the request's
 * reader: 0 or -ENAMETOOLONG. */
int cnode_top_link(fuse_req_t req, size_t index, char *buf, size_t size);
void cnode_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void cnode_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off);
void cnode_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
int cnode_open_handle(fuse_req_t req, fuse_ino_t ino, struct handle **ret);
void cnode_release(struct handle *h);
/* Drop the entries nobody used for a while (the sampler's pass). */
void cnode_drop_idle(void);
void cnode_unpin(struct handle *h);
/* A READ that only the c/ code can answer (a page cache fill, another
 * generation's handle): answered there, true. */
bool cnode_read_special(fuse_req_t req, fuse_ino_t ino, struct handle *h, struct fuse_file_info *fi, size_t size,
                        off_t off);
