#include "config.h"
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <dirent.h>
#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/stat.h>
#include "curatefs.h"
#include "server-cputree.h"
#include "server-internal.h"
#include "cnodes.h"
#include "devs.h"
#include "journal.h"
#include "server.h"

#define N_DIR(n, p, m)  { .name = n, .parent = p, .kind = NODE_DIR, .perm = m }
#define N_VIEW(n, p, v) { .name = n, .parent = p, .kind = NODE_VIEW, .view = v }
#define N_DEV(n, d)     { .name = n, .parent = INO_DEV, .kind = NODE_DEV, .dev = d }
#define N_LINK(n, t)    { .name = n, .parent = INO_DEV, .kind = NODE_LINK, .target = t }
#define N_PSI(n, v)     { .name = n, .parent = INO_PRESSURE, .kind = NODE_VIEW, .view = v, .psi = true }
const struct node nodes[] = {
        [INO_ROOT - 1]    = N_DIR("", INO_ROOT, 0555),
        [INO_PROC - 1]    = N_DIR("proc", INO_ROOT, 0555),
        [INO_SYS - 1]     = N_DIR("sys", INO_ROOT, 0555),
        [INO_DEVICES - 1] = N_DIR("devices", INO_SYS, 0555),
        [INO_SYSTEM - 1]  = N_DIR("system", INO_DEVICES, 0555),
        [INO_CPU - 1]     = N_DIR("cpu", INO_SYSTEM, 0555),
        [INO_DEV - 1]     = N_DIR("dev", INO_ROOT, 0755),
        N_VIEW("meminfo", INO_PROC, VIEW_MEMINFO),
        N_VIEW("cpuinfo", INO_PROC, VIEW_CPUINFO),
        N_VIEW("stat", INO_PROC, VIEW_STAT),
        N_VIEW("uptime", INO_PROC, VIEW_UPTIME),
        N_VIEW("loadavg", INO_PROC, VIEW_LOADAVG),
        N_VIEW("swaps", INO_PROC, VIEW_SWAPS),
        N_VIEW("diskstats", INO_PROC, VIEW_DISKSTATS),
        N_VIEW("online", INO_CPU, VIEW_CPU_ONLINE),
        N_DEV("null", DEV_NULL),
        N_DEV("zero", DEV_ZERO),
        N_DEV("full", DEV_FULL),
        N_DEV("random", DEV_RANDOM),
        N_DEV("urandom", DEV_URANDOM),
        N_DEV("tty", DEV_TTY),
        N_DIR("pts", INO_DEV, 0755),
        N_DIR("shm", INO_DEV, 0755),
        N_DIR("mqueue", INO_DEV, 0755),
        N_LINK("fd", "/proc/self/fd"),
        N_LINK("stdin", "/proc/self/fd/0"),
        N_LINK("stdout", "/proc/self/fd/1"),
        N_LINK("stderr", "/proc/self/fd/2"),
        /* the private devpts's multiplexer (devpts(5), newinstance) */
        N_LINK("ptmx", "pts/ptmx"),
        /* per-container copies of dev/ live below it (server-devs.c) */
        [INO_DEVS - 1]    = N_DIR("devs", INO_ROOT, 0555),
        /* the rest of the cpu directory is the host's, per reader (cputree.h) */
        N_VIEW("possible", INO_CPU, VIEW_CPU_POSSIBLE),
        N_VIEW("present", INO_CPU, VIEW_CPU_PRESENT),
        N_VIEW("offline", INO_CPU, VIEW_CPU_OFFLINE),
        N_VIEW("vmstat", INO_PROC, VIEW_VMSTAT),
        [INO_PRESSURE - 1] = N_DIR("pressure", INO_PROC, 0555),
        N_PSI("cpu", VIEW_PRESSURE_CPU),
        N_PSI("memory", VIEW_PRESSURE_MEMORY),
        N_PSI("io", VIEW_PRESSURE_IO),
        /* per-container copies of the views live below it (server-cnodes.c) */
        [INO_C - 1]       = N_DIR("c", INO_ROOT, 0555),
};
_Static_assert(ELEMENTSOF(nodes) == NNODES, "server-internal.h counts the table");
_Static_assert(INO_PRESSURE <= NNODES, "the pressure directory is in the table");
_Static_assert(NNODES == INO_C, "c is the last node");
/* ATTR_TIMEOUT (server-internal.h) for the fixed tree. proc and sys are
 * links whose target is the reader's (top_lookup), asked again at every
 * walk. */


static bool host_has_psi(const struct curate *c) {
        static atomic_int known = -1; /* the host's kernel does not change */
        struct stat st;
        if (known < 0)
                known = fstatat(c->root_fd, "proc/pressure/cpu", &st, 0) == 0;
        return known;
}

/* Does the node exist? Only a device the host lacks does not, and
 * proc/pressure where the host kernel has no PSI. Per-container device sets
 * are served under devs/ (server-devs.c), whose nodes are never cached. */
bool node_visible(const struct curate *c, const struct node *n) {
        if (n->psi || n == &nodes[INO_PRESSURE - 1])
                return host_has_psi(c);
        return n->kind != NODE_DEV || c->dev[n->dev].present;
}

static void node_stat(const struct curate *c, fuse_ino_t ino, struct stat *st) {
        const struct node *n = node_get(ino);
        *st = (struct stat){ .st_ino = ino, .st_uid = 0, .st_gid = 0, .st_nlink = 1 };
        switch (n->kind) {
        case NODE_DIR:
                st->st_mode = S_IFDIR | n->perm;
                st->st_nlink = 2;
                break;
        case NODE_VIEW:
                /* size 0, as procfs reports: readers read to EOF */
                st->st_mode = S_IFREG | 0444;
                break;
        case NODE_DEV:
                st->st_mode = c->dev[n->dev].mode;
                st->st_rdev = c->dev[n->dev].rdev;
                break;
        case NODE_LINK:
                /* lstat's size of a symlink is its target's length */
                st->st_mode = S_IFLNK | 0777;
                st->st_size = strlen(n->target);
                break;
        }
}


/* ---- MOUNTPOINT/proc and /sys: links to the reader's own copies ----
 * Each reader outside the root cgroup is sent by the link to its own
 * cgroup's copies (c/<id>/proc, cnode_top_link), whose views report their
 * exact size, so busybox cat (sendfile, through the page cache on Linux
 * 6.5+) reads a bind of MOUNTPOINT/proc/meminfo whole, as a CDI spec or the
 * OCI hook makes it: runc applies the container's cgroups to its init
 * before it binds the rootfs mounts, so the bind's own walk follows the
 * link to the container's copy. The root cgroup (the host) is sent to the
 * shared directories, .proc and .sys. A link, not a directory answered with
 * a different inode per reader: the kernel would drop the entry each time
 * another cgroup's reader asked (fuse_dentry_revalidate), and a bind whose
 * source lies below a dropped entry fails with ENOENT, so containers
 * started at the same moment failed. FUSE asks READLINK at every walk (no
 * FUSE_CAP_CACHE_SYMLINKS). */
static bool is_top_dir(fuse_ino_t ino) {
        return ino == INO_PROC || ino == INO_SYS;
}

static void toplink_stat(fuse_ino_t ino, struct stat *st) {
        *st = (struct stat){ .st_ino = ino, .st_mode = S_IFLNK | 0777, .st_nlink = 1 };
}

static bool top_lookup(fuse_req_t req, const char *name) {
        struct fuse_entry_param e = { .attr_timeout = ATTR_TIMEOUT, .entry_timeout = ATTR_TIMEOUT };
        for (fuse_ino_t ino = INO_PROC; ino <= INO_SYS; ino++) {
                const char *n = nodes[ino - 1].name;
                if (streq(name, n)) {
                        e.ino = INO_TOPLINK_BASE + ino;
                        toplink_stat(e.ino, &e.attr);
                } else if (name[0] == '.' && streq(name + 1, n)) {
                        e.ino = ino;
                        node_stat(ctx_of(req), ino, &e.attr);
                } else
                        continue;
                fuse_reply_entry(req, &e);
                return true;
        }
        return false;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
        struct curate *c = ctx_of(req);
        if (parent == INO_C || cnodes_is_ino(parent)) {
                if (parent == INO_C)
                        cnode_lookup_id(req, name);
                else
                        cnode_lookup(req, parent, name);
                return;
        }
        if (cputree_is_ino(parent)) {
                cputree_lookup(req, NULL, parent, name);
                return;
        }
        if (parent == INO_DEVS) {
                devs_lookup_id(req, name);
                return;
        }
        if (is_devs_ino(parent)) {
                devs_lookup(req, parent, name);
                return;
        }
        if (parent == INO_ROOT && top_lookup(req, name))
                return;
        for (size_t i = 0; i < NNODES; i++) {
                if (i + 1 == INO_ROOT || is_top_dir(i + 1) || nodes[i].parent != parent || !streq(nodes[i].name, name) ||
                    !node_visible(c, &nodes[i]))
                        continue;
                struct fuse_entry_param e = {
                        .ino = i + 1,
                        .attr_timeout = ATTR_TIMEOUT,
                        .entry_timeout = ATTR_TIMEOUT,
                };
                node_stat(c, i + 1, &e.attr);
                fuse_reply_entry(req, &e);
                return;
        }
        if (parent == INO_CPU) {
                cputree_lookup(req, NULL, parent, name);
                return;
        }
        fuse_reply_err(req, ENOENT);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        const struct node *n = node_get(ino);
        struct stat st;
        if (is_toplink_ino(ino)) {
                toplink_stat(ino, &st);
                fuse_reply_attr(req, &st, ATTR_TIMEOUT);
                return;
        }
        if (cnodes_is_ino(ino)) {
                cnode_getattr(req, ino, fi);
                return;
        }
        if (cputree_is_ino(ino)) {
                cputree_getattr(req, ino);
                return;
        }
        if (is_devs_ino(ino)) {
                devs_getattr(req, ino);
                return;
        }
        if (!n || !node_visible(ctx_of(req), n)) {
                fuse_reply_err(req, ENOENT);
                return;
        }
        node_stat(ctx_of(req), ino, &st);
        fuse_reply_attr(req, &st, ATTR_TIMEOUT);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) {
        fuse_reply_err(req, EROFS);
}

/* A cpu directory (ID's, NULL the shared one) or a tree directory: the
 * fixed files, then the host's entries (cputree.h). */
void cpu_readdir(fuse_req_t req, const char *id, fuse_ino_t ino, size_t size, off_t off) {
        struct cputree_fixed fixed[8];
        struct cputree_top top = { .cpu = INO_CPU - 1, .parent = nodes[INO_CPU - 1].parent - 1, .fixed = fixed };

        for (size_t i = 0; i < NNODES && top.n_fixed < ELEMENTSOF(fixed); i++)
                if (nodes[i].parent == INO_CPU)
                        fixed[top.n_fixed++] = (struct cputree_fixed){ nodes[i].name, i };
        cputree_readdir(req, &top, id, ino, size, off);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        const struct node *dir = node_get(ino);
        struct curate *c = ctx_of(req);
        char buf[4096];
        size_t len = 0;

        if (cnodes_is_ino(ino)) {
                cnode_readdir(req, ino, size, off);
                return;
        }
        if (cputree_is_ino(ino) || ino == INO_CPU) {
                cpu_readdir(req, NULL, ino, size, off);
                return;
        }
        if (is_devs_ino(ino)) {
                devs_readdir(req, ino, size, off);
                return;
        }
        if (!dir || dir->kind != NODE_DIR) {
                fuse_reply_err(req, ENOTDIR);
                return;
        }
        if (size > sizeof(buf))
                size = sizeof(buf);
        /* offsets: 1 ".", 2 "..", then i + 3 for node i */
        for (off_t i = off; i < (off_t)NNODES + 2; i++) {
                struct stat st = { 0 };
                const char *name;
                if (i == 0) {
                        name = ".";
                        st.st_ino = ino;
                        st.st_mode = S_IFDIR;
                } else if (i == 1) {
                        name = "..";
                        st.st_ino = dir->parent;
                        st.st_mode = S_IFDIR;
                } else {
                        size_t n = i - 2;
                        if (n + 1 == INO_ROOT || nodes[n].parent != ino || !node_visible(c, &nodes[n]))
                                continue;
                        name = nodes[n].name;
                        if (is_top_dir(n + 1))
                                toplink_stat(INO_TOPLINK_BASE + n + 1, &st);
                        else
                                node_stat(c, n + 1, &st);
                }
                size_t need = fuse_add_direntry(req, buf + len, size - len, name, &st, i + 1);
                if (need > size - len)
                        break;
                len += need;
        }
        fuse_reply_buf(req, buf, len);
}

static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct handle *handles;

/* ---- file handles across serving processes ----
 * The holder may kill the serving process at any moment and start a fresh
 * one (each with its own generation, never reused, 0 for a daemon serving
 * by itself) on the same connection; the kernel keeps the fh it was given
 * at OPEN and sends it with every READ and RELEASE, to whichever process
 * serves then. So fh = generation << 44 | handle pointer >> 4: a handle of
 * our generation is ours and live (the kernel sends RELEASE once, after the
 * last READ); one of another generation points into a dead process and is
 * never dereferenced. A READ on one is answered from a rendering made for
 * the reader of that READ and dropped with the reply; its RELEASE has
 * nothing to free. Nothing is kept under a foreign fh: while a restart
 * overlaps two serving processes the old one is alive and may hand out the
 * same fh again for another file (its handle freed, the address reused),
 * so an fh of another generation names no file for long. The one effect a
 * reader can see: a file read in part before a restart and continued at a
 * nonzero offset gets the rest from a new rendering, which may not line up
 * byte for byte with what it read.
 * Handles are 16-byte aligned below 2^47 (x86-64's user address space,
 * checked at open), so 43 bits keep the pointer and the generation has
 * FH_GEN_BITS: it is compared modulo 2^20, which would confuse two
 * generations only with a file kept open across a million restarts. */
#define FH_PTR_SHIFT 4
#define FH_GEN_SHIFT 44
#define FH_GEN_BITS 20
#define FH_ALIGN (1U << FH_PTR_SHIFT)
_Static_assert(47 - FH_PTR_SHIFT <= FH_GEN_SHIFT, "a pointer fits below the generation");
_Static_assert(FH_GEN_SHIFT + FH_GEN_BITS == 64, "the generation fills the top bits");

static uint32_t generation;

void curatefs_set_generation(uint32_t gen) {
        generation = gen;
}

static uint64_t fh_gen_bits(void) {
        return generation & ((1U << FH_GEN_BITS) - 1);
}

/* A c/ node's handle is named by a slot instead of its address, to make
 * room for the length of the snapshot it was opened on: the size the
 * kernel was told, which a replacement serving process, that never saw the
 * handle, needs to know how far the kernel reads it (cnode_read_snap).
 * fh = generation << 44 | 1 << 43 | length << 22 | slot; a pointer fh has
 * bit 43 clear (the pointer takes bits 0-42). */
#define FH_CN_FLAG (1ULL << 43)
#define FH_CN_SLOT_BITS 22
#define FH_CN_SLOTS_MIN 64
_Static_assert(FH_CN_SLOT_BITS + FH_CN_LEN_BITS == 43, "slot and length fill the bits below the flag");
static struct handle **cn_slots; /* under handles_lock */
static size_t cn_nslots, cn_slot_hint;

/* Give H a slot (called with handles_lock): -EMFILE when all 2^22 are taken. */
static int cn_slot_take(struct handle *h) {
        for (size_t i = cn_slot_hint; i < cn_nslots; i++)
                if (!cn_slots[i]) {
                        cn_slots[i] = h;
                        h->slot = i + 1;
                        cn_slot_hint = i + 1;
                        return 0;
                }
        size_t was = cn_nslots, n = was ? was * 2 : FH_CN_SLOTS_MIN;
        if (n > (1U << FH_CN_SLOT_BITS))
                return -EMFILE;
        struct handle **grown = realloc(cn_slots, n * sizeof(*grown));
        if (!grown)
                return -ENOMEM;
        memset(grown + was, 0, (n - was) * sizeof(*grown));
        cn_slots = grown;
        cn_nslots = n;
        cn_slots[was] = h;
        h->slot = was + 1;
        cn_slot_hint = was + 1;
        return 0;
}

/* The length a c/ node's fh of any generation carries, or FH_CN_LEN_UNKNOWN */
size_t fh_cn_len(uint64_t fh) {
        return fh & FH_CN_FLAG ? (fh >> FH_CN_SLOT_BITS) & FH_CN_LEN_UNKNOWN : FH_CN_LEN_UNKNOWN;
}

/* 0 when H does not fit (then the open fails rather than hand out a
 * handle that could not be told from another generation's) */
static uint64_t fh_of(const struct handle *h) {
        uintptr_t p = (uintptr_t)h;
        if (h->slot) {
                uint64_t len = h->open_len < FH_CN_LEN_UNKNOWN ? h->open_len : FH_CN_LEN_UNKNOWN;
                return fh_gen_bits() << FH_GEN_SHIFT | FH_CN_FLAG | len << FH_CN_SLOT_BITS | (h->slot - 1);
        }
        if (p % FH_ALIGN != 0 || (uint64_t)p >> 47 != 0)
                return 0;
        return fh_gen_bits() << FH_GEN_SHIFT | (uint64_t)p >> FH_PTR_SHIFT;
}

/* Ours, or NULL for another generation's. One shift and compare: the READ
 * of an own handle pays nothing more. */
struct handle *fh_own(uint64_t fh) {
        if (fh >> FH_GEN_SHIFT != fh_gen_bits())
                return NULL;
        if (fh & FH_CN_FLAG) {
                size_t slot = fh & ((1U << FH_CN_SLOT_BITS) - 1);
                pthread_mutex_lock(&handles_lock);
                struct handle *h = slot < cn_nslots ? cn_slots[slot] : NULL;
                pthread_mutex_unlock(&handles_lock);
                return h;
        }
        return (struct handle *)(uintptr_t)((fh & ((1ULL << FH_GEN_SHIFT) - 1)) << FH_PTR_SHIFT);
}

void handle_free(struct handle *h) {
        pthread_mutex_lock(&handles_lock);
        if (h->prev)
                h->prev->next = h->next;
        else if (handles == h)
                handles = h->next;
        if (h->next)
                h->next->prev = h->prev;
        if (h->slot) {
                cn_slots[h->slot - 1] = NULL;
                if (h->slot - 1 < cn_slot_hint)
                        cn_slot_hint = h->slot - 1;
        }
        pthread_mutex_unlock(&handles_lock);
        snap_unref(h->snap);
        reader_hint_done(&h->hint);
        pthread_mutex_destroy(&h->lock);
        free(h);
}

/* A handle on VIEW holding SNAP (its reference moves in); SLOT: named by
 * a slot (a c/ node's). */
int handle_add(enum view_id view, struct snap *snap, bool slot, struct handle **ret) {
        size_t size = (sizeof(struct handle) + FH_ALIGN - 1) / FH_ALIGN * FH_ALIGN;
        struct handle *h = aligned_alloc(FH_ALIGN, size);
        if (!h)
                return -ENOMEM;
        /* fresh: rendered at open and not yet read at offset 0; no hint
         * yet: only a later lseek(0)+read needs one, and most opens (cat,
         * free) never do, so the open pays no copy for it */
        *h = (struct handle){ .view = view, .snap = snap, .fresh = true, .open_len = snap->len };
        pthread_mutex_init(&h->lock, NULL);
        pthread_mutex_lock(&handles_lock);
        int r = slot ? cn_slot_take(h) : 0;
        if (r < 0) {
                pthread_mutex_unlock(&handles_lock);
                pthread_mutex_destroy(&h->lock);
                free(h);
                return r;
        }
        h->next = handles;
        if (handles)
                handles->prev = h;
        handles = h;
        pthread_mutex_unlock(&handles_lock);
        *ret = h;
        return 0;
}

/* A handle on VIEW, rendered for PID. 0 or -ENOMEM, -ESRCH, -ENOENT (the
 * view has no file for this reader: PSI on v1), -EIO. */
static int handle_new(struct curate *c, enum view_id view, pid_t pid, struct handle **ret) {
        struct snap *s;
        int r = curate_render_hinted(c, view, pid, NULL, &s);
        if (r < 0)
                return r == -ESRCH || r == -ENOENT ? r : -EIO;
        r = handle_add(view, s, false, ret);
        if (r < 0)
                snap_unref(s);
        return r;
}

void curatefs_drop_handles(void) {
        while (handles)
                handle_free(handles);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        const struct node *n = node_get(ino);
        struct handle *h;
        int r;

        if (cputree_is_ino(ino)) {
                cputree_open(req, ino, fi);
                return;
        }
        if (is_devs_ino(ino)) {
                devs_open_like(req, ino, DNODE_DEV, fi);
                return;
        }
        if (cnodes_is_ino(ino) && (fi->flags & O_ACCMODE) == O_RDONLY)
                r = cnode_open_handle(req, ino, &h);
        else if (cnodes_is_ino(ino))
                r = -EACCES;
        else if (!n || n->kind != NODE_VIEW) {
                /* A device or symlink never gets here: the kernel opens a
                 * device node itself and resolves links before opening. */
                fuse_reply_err(req, !n ? ENOENT : n->kind == NODE_DIR ? EISDIR : ENXIO);
                return;
        } else if ((fi->flags & O_ACCMODE) != O_RDONLY)
                r = -EACCES;
        else
                r = handle_new(ctx_of(req), n->view, fuse_req_ctx(req)->pid, &h);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        fi->fh = fh_of(h);
        if (!fi->fh) {
                curate_log_once(ctx_of(req), "a file handle's address does not fit a FUSE fh; opens fail with EIO");
                cnode_release(h);
                handle_free(h);
                fuse_reply_err(req, EIO);
                return;
        }
        /* Every read goes to us: contents differ per reader and over time.
         * (sendfile reads through the page cache all the same: the old
         * pages are dropped at every open, fuse_finish_open.) */
        fi->direct_io = 1;
        fi->keep_cache = 0;
        fi->nonseekable = 0;
        if (fuse_reply_open(req, fi) == -ENOENT) {
                /* the opener was interrupted: the kernel will send no RELEASE */
                cnode_release(h);
                handle_free(h);
        }
}

/* A READ on a handle of another generation (see above): rendered anew. */
static void read_foreign(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off) {
        const struct node *n = is_devs_ino(ino) || cnodes_is_ino(ino) ? NULL : node_get(ino);
        struct snap *s;
        int r;

        if (!n || n->kind != NODE_VIEW)
                /* only a view is ever opened with a handle */
                r = -EBADF;
        else
                r = curate_render_hinted(ctx_of(req), n->view, fuse_req_ctx(req)->pid, NULL, &s);
        if (r < 0) {
                fuse_reply_err(req, r == -ESRCH ? ESRCH : r == -EBADF || r == -ENOENT ? -r : EIO);
                return;
        }
        if (off < 0 || (size_t)off >= s->len)
                fuse_reply_buf(req, NULL, 0);
        else
                fuse_reply_buf(req, s->data + off, s->len - off < size ? s->len - off : size);
        snap_unref(s);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        struct handle *h = fh_own(fi->fh);
        struct snap *s;

        if (cnode_read_special(req, ino, h, fi, size, off))
                return;
        if (cputree_is_ino(ino)) {
                cputree_read(req, ino, size, off);
                return;
        }
        if (!h) {
                read_foreign(req, ino, size, off);
                return;
        }
        pthread_mutex_lock(&h->lock);
        if (off == 0 && !h->fresh) {
                /* lseek(0) + read, as top and procps do: fresh figures */
                int r = curate_render_hinted(ctx_of(req), h->view, fuse_req_ctx(req)->pid, &h->hint, &s);
                if (r < 0) {
                        pthread_mutex_unlock(&h->lock);
                        fuse_reply_err(req, r == -ESRCH ? ESRCH : EIO);
                        return;
                }
                snap_unref(h->snap);
                h->snap = s;
                /* read() only (direct_io): the size no longer concerns it */
                cnode_unpin(h);
        }
        if (off == 0)
                h->fresh = false;
        s = snap_ref(h->snap);
        /* Unlock before replying: the reply completes the reader's read(),
         * after which its close() may make another worker free the handle. */
        pthread_mutex_unlock(&h->lock);
        if (off < 0 || (size_t)off >= s->len)
                fuse_reply_buf(req, NULL, 0);
        else {
                size_t n = s->len - off;
                fuse_reply_buf(req, s->data + off, n < size ? n : size);
        }
        snap_unref(s);
}

/* Only a view's open sets fi->fh (opendir leaves it 0, and libfuse answers
 * RELEASEDIR itself), so a 0 here is nothing to free. */
static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        struct handle *h = fi->fh ? fh_own(fi->fh) : NULL;
        if (h) {
                cnode_release(h);
                handle_free(h);
        }
        fuse_reply_err(req, 0);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino) {
        const struct node *n = node_get(ino);
        if (is_toplink_ino(ino)) {
                char target[64];
                int r = cnode_top_link(req, ino - INO_TOPLINK_BASE - 1, target, sizeof(target));
                if (r < 0)
                        fuse_reply_err(req, -r);
                else
                        fuse_reply_readlink(req, target);
                return;
        }
        if (cnodes_is_ino(ino)) {
                fuse_reply_err(req, EINVAL);
                return;
        }
        if (cputree_is_ino(ino)) {
                cputree_readlink(req, ino);
                return;
        }
        if (is_devs_ino(ino)) {
                devs_open_like(req, ino, DNODE_LINK, NULL);
                return;
        }
        if (!n || n->kind != NODE_LINK) {
                fuse_reply_err(req, n ? EINVAL : ENOENT);
                return;
        }
        fuse_reply_readlink(req, n->target);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        const struct node *n = node_get(ino);
        if (cnodes_is_ino(ino)) {
                cnode_opendir(req, ino, fi);
                return;
        }
        if (cputree_is_ino(ino)) {
                cputree_opendir(req, ino, fi);
                return;
        }
        if (is_devs_ino(ino)) {
                devs_open_like(req, ino, DNODE_DIR, fi);
                return;
        }
        if (!n || n->kind != NODE_DIR) {
                fuse_reply_err(req, n ? ENOTDIR : ENOENT);
                return;
        }
        fuse_reply_open(req, fi);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino) {
        struct statvfs st = { .f_bsize = 4096, .f_frsize = 4096, .f_files = NNODES, .f_namemax = 255 };
        fuse_reply_statfs(req, &st);
}

static void op_init(void *userdata, struct fuse_conn_info *conn) {
        /* No flush handler: libfuse answers the first FLUSH with ENOSYS and
         * the kernel stops sending them (fuse_flush sets fc->no_flush). */
        conn->want &= ~FUSE_CAP_ASYNC_READ;
        /* Requests are read into the journal's slots (journal.h): the
         * kernel must never need a larger buffer. */
        conn->max_write = JOURNAL_MAX_WRITE;
        /* The top links proc and sys point each reader elsewhere
         * (top_lookup): the kernel must ask READLINK at every walk, never
         * keep a target in the page cache (the cost: one READLINK on every
         * /dev/stdout too). */
        conn->want &= ~FUSE_CAP_CACHE_SYMLINKS;
}

/* Everything that would change the tree is refused: it is read-only. */
static void op_mknod(fuse_req_t req, fuse_ino_t p, const char *name, mode_t mode, dev_t rdev) { fuse_reply_err(req, EROFS); }
static void op_mkdir(fuse_req_t req, fuse_ino_t p, const char *name, mode_t mode) { fuse_reply_err(req, EROFS); }
static void op_unlink(fuse_req_t req, fuse_ino_t p, const char *name) { fuse_reply_err(req, EROFS); }
static void op_create(fuse_req_t req, fuse_ino_t p, const char *name, mode_t mode, struct fuse_file_info *fi) { fuse_reply_err(req, EROFS); }
static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) { fuse_reply_err(req, EROFS); }
static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags) { fuse_reply_err(req, EROFS); }
static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name) { fuse_reply_err(req, EROFS); }
static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t p, const char *name) { fuse_reply_err(req, EROFS); }
static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t p, const char *name) { fuse_reply_err(req, EROFS); }
static void op_rename(fuse_req_t req, fuse_ino_t p, const char *name, fuse_ino_t np, const char *nn, unsigned flags) { fuse_reply_err(req, EROFS); }

const struct fuse_lowlevel_ops curatefs_ops = {
        .init = op_init,
        .lookup = op_lookup,
        .getattr = op_getattr,
        .readlink = op_readlink,
        .setattr = op_setattr,
        .opendir = op_opendir,
        .readdir = op_readdir,
        .open = op_open,
        .read = op_read,
        .release = op_release,
        .statfs = op_statfs,
        .mknod = op_mknod,
        .mkdir = op_mkdir,
        .unlink = op_unlink,
        .rmdir = op_unlink,
        .create = op_create,
        .write = op_write,
        .setxattr = op_setxattr,
        .removexattr = op_removexattr,
        .symlink = op_symlink,
        .link = op_link,
        .rename = op_rename,
};

