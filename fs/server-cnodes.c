#include "config.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cnodes.h"
#include "server-cputree.h"
#include "server-internal.h"

/* ---- MOUNTPOINT/c/<id>: per-container copies of the views --------------
 * sendfile(2) (busybox cat, the cat of every Alpine image) reads a FUSE
 * file through the page cache on Linux 6.5 and later, even a direct_io one
 * (fuse_splice_read -> filemap_splice_read), and reads no further than the
 * inode's size: a view reported with size 0, as procfs does, reads as
 * empty. So below c/<id>/ every view is an inode of its own container
 * (cnodes.h), reported with its exact length, and opened and read only by
 * readers in that container's cgroup: a page cache filled for one
 * container is never met by a reader of another, nor filled by the host.
 *
 * The length: the kernel takes the size from our LOOKUP and GETATTR
 * replies (with default_permissions and an attribute timeout of 0 every
 * open() asks GETATTR first: fuse_permission), and filemap_splice_read
 * serves what the pages hold up to that size. A rendering longer than the
 * size would be cut there, silently; a shorter one is safe (the short READ
 * shrinks the size: fuse_short_read). So each (container, view) keeps the
 * snapshot whose length it last reported, and OPEN takes that very
 * snapshot into its handle: cn_current() replaces it only when no
 * reader may still be between the size and its read (cnodes_snapshot_due),
 * and a page cache fill is always served the reported one (a READ without
 * a lock owner: cnode_read_special).
 * OPEN never keeps the cache (fuse_finish_open drops the pages), and the
 * handle stays direct_io, so read() and top's lseek(0)+read still reach us
 * and get fresh figures.
 *
 * Nothing here survives the serving process: an inode's serial is a hash
 * of the id, and the reader's own /proc/PID/cgroup names the id
 * (cnodes_reader_find); a handle's fh carries the size its OPEN took, and
 * a process that has reported no size yet makes an open ask again
 * (cnode_open_handle) and fails a fill it cannot serve whole (cnode_read_snap).
 * Every walk asks c/<id> and the view's name again (entry timeout 0), and
 * each LOOKUP checks that the reader is in the container (cnode_resolve), so
 * no cached entry lets another reader through to a view; the directories
 * between them are kept (cnode_entry_timeout). Views' attributes time out
 * at once (their size); directories' never change and are kept
 * (cnode_attr_timeout): the kernel then checks a walk's search permission
 * itself instead of asking GETATTR for each directory. An open of
 * MOUNTPOINT/proc/meminfo from a container's cgroup: READLINK, LOOKUP of the
 * id and of meminfo (proc once), GETATTR, OPEN, READ, READ, RELEASE: 8
 * requests, 11 before the directories were kept. */
struct cn_entry {
        uint64_t serial;
        enum view_id view;
        struct snap *snap;       /* the snapshot whose length is reported */
        char *owner;             /* the /proc/PID/cgroup text it was rendered for */
        uint64_t epoch;          /* bumped when it is replaced */
        bool reported;           /* its length went to the kernel */
        bool opened;             /* a handle was opened on it (cnodes_unopened_swap) */
        uint64_t cg_ino;         /* the owner's cgroup (curate_reader_cgroup_ino) */
        struct cnode_clock clock;
        pid_t reported_pid;      /* whose size query has not opened yet */
        unsigned refs;           /* handles pointing here, of any epoch */
        uint64_t used_at;
        struct cn_entry *next;
};
#define CN_BUCKETS 256
/* An entry nobody holds and nobody asked about for this long is dropped
 * (by a later lookup in its bucket, or the sampler's pass): past
 * CNODE_PIN_MAX_NS and the report grace, the kernel asks for the size again
 * at the next open (GETATTR), so nothing can still rely on its snapshot.
 * Kept short so that a stream of short-lived containers does not keep
 * their snapshots for long. */
#define CN_IDLE_NS (2 * 1000000000ULL)
static pthread_mutex_t cn_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cn_entry *cn_buckets[CN_BUCKETS];

/* the top directory node I is below (its own index for one) */
static size_t node_top(size_t i) {
        while (nodes[i].parent != INO_ROOT)
                i = nodes[i].parent - 1;
        return i;
}

static bool node_mirrored_uncached(size_t i) {
        size_t top;
        if (i == INO_ROOT - 1 || (nodes[i].kind != NODE_VIEW && nodes[i].kind != NODE_DIR))
                return false;
        top = node_top(i);
        return top != INO_DEV - 1 && top != INO_DEVS - 1 && top != INO_C - 1;
}

static bool mirrored[NNODES];
static pthread_once_t mirrored_once = PTHREAD_ONCE_INIT;
static void mirrored_init(void) {
        for (size_t i = 0; i < NNODES; i++)
                mirrored[i] = node_mirrored_uncached(i);
}

/* Is node index I copied below c/<id>/ (index 0: c/<id> itself)? Every
 * view and directory of the fixed table but dev/'s (devs/ has the
 * per-container ones) and c/ itself: proc/ and sys/ as they are. */
static bool node_mirrored(size_t i) {
        pthread_once(&mirrored_once, mirrored_init);
        return i == INO_ROOT - 1 || (i < NNODES && mirrored[i]);
}

/* The id and node index of c/ inode INO, for the request's reader: -ENOENT
 * unless the reader is in that container. */
static int cnode_resolve(fuse_req_t req, fuse_ino_t ino, char id[static REG_ID_MAX + 1], size_t *ret_index,
                         char **ret_text) {
        _cleanup_free_ char *text = NULL;
        uint64_t serial;
        size_t index;

        if (!cnodes_ino_split(ino, &serial, &index) || !node_mirrored(index))
                return -ESTALE;
        if (curate_reader_cgroup(ctx_of(req), fuse_req_ctx(req)->pid, &text) < 0 ||
            !cnodes_reader_find(text, serial, id))
                return -ENOENT;
        *ret_index = index;
        if (ret_text)
                *ret_text = TAKE_PTR(text);
        return 0;
}

static bool cn_entry_idle(const struct cn_entry *e, uint64_t now) {
        return e->refs == 0 && ns_age(now, e->used_at) > CN_IDLE_NS;
}

static void cn_entry_free(struct cn_entry *e) {
        snap_unref(e->snap);
        free(e->owner);
        free(e);
}

/* The entry of (SERIAL, VIEW), made when missing; dropping idle ones met on
 * the way. Locked. */
static struct cn_entry *cn_entry_get(uint64_t serial, enum view_id view, uint64_t now) {
        struct cn_entry **pp = &cn_buckets[(serial * 31 + view) % CN_BUCKETS], *e;

        while ((e = *pp)) {
                if (e->serial == serial && e->view == view)
                        return e;
                if (cn_entry_idle(e, now)) {
                        *pp = e->next;
                        cn_entry_free(e);
                        continue;
                }
                pp = &e->next;
        }
        e = calloc(1, sizeof(*e));
        if (!e)
                return NULL;
        *e = (struct cn_entry){ .serial = serial, .view = view, .next = NULL };
        *pp = e;
        return e;
}

void cnode_drop_idle(void) {
        uint64_t now = now_monotonic_ns();

        pthread_mutex_lock(&cn_lock);
        for (size_t b = 0; b < CN_BUCKETS; b++)
                for (struct cn_entry **pp = &cn_buckets[b], *e; (e = *pp);) {
                        if (cn_entry_idle(e, now)) {
                                *pp = e->next;
                                cn_entry_free(e);
                        } else
                                pp = &e->next;
                }
        pthread_mutex_unlock(&cn_lock);
}

/* The snapshot whose length the node reports now, rendered for PID (whose
 * /proc/PID/cgroup is TEXT) when missing, or when due (REPLACE) and PID is
 * in the cgroup it was rendered for: the page cache is the node's, one for
 * the container, and its figures are those of one cgroup; a reader of
 * another (a --delegate child's child) takes it over only once it is over
 * CNODE_PIN_MAX_NS old. REPORT: its size goes to the kernel. Locked. */
static int cn_current(struct curate *c, struct cn_entry *e, pid_t pid, const char *text, uint64_t cg_ino,
                      bool replace, bool report, uint64_t now) {
        bool own = !e->owner || streq(e->owner, text);
        /* the cgroup at the owner's path was removed and made again (an
         * engine restarting a container): the snapshot is another
         * cgroup's, and the new one's limits may come after its binds */
        bool reborn = own && e->snap && cg_ino && e->cg_ino && cg_ino != e->cg_ino;
        if (replace && reborn)
                e->opened = false;
        bool due = !e->opened || cnodes_snapshot_due(&e->clock, now, CACHE_TTL_NS);
        if (!e->snap || (replace && due && (own || ns_age(now, e->clock.rendered_at) > CNODE_PIN_MAX_NS))) {
                struct snap *s;
                char *o = strdup(text);
                int r = !o ? -ENOMEM
                        : e->opened ? curate_render_hinted(c, e->view, pid, NULL, &s)
                                    : curate_render_fresh(c, e->view, pid, &s);
                if (r < 0) {
                        free(o);
                        return r == -ESRCH ? -ESRCH : -EIO;
                }
                if (e->snap && !e->opened && !reborn &&
                    !cnodes_unopened_swap(&e->clock, e->reported_pid == pid, e->snap->len, s->len, now)) {
                        snap_unref(s); /* see cnodes_unopened_swap */
                        free(o);
                } else {
                        snap_unref(e->snap);
                        free(e->owner);
                        e->snap = s;
                        e->owner = o;
                        e->epoch++;
                        e->cg_ino = cg_ino;
                        e->reported = false;
                        e->clock = (struct cnode_clock){ .rendered_at = now };
                }
        }
        if (report) {
                e->clock.reported_at = now;
                e->reported_pid = pid;
                e->reported = true;
        }
        e->used_at = now;
        return 0;
}

/* The length node INDEX of (SERIAL) reports to PID now. */
/* What a size report changed, to undo when its reply is refused. */
struct cn_report {
        uint64_t serial, epoch;
        enum view_id view;
        bool first; /* the first report of that snapshot */
};

static int cnode_size(struct curate *c, uint64_t serial, size_t index, pid_t pid, const char *text, off_t *ret,
                      struct cn_report *ret_report) {
        uint64_t now = now_monotonic_ns(), cg_ino = curate_reader_cgroup_ino(c, text);
        int r = -ENOMEM;

        pthread_mutex_lock(&cn_lock);
        struct cn_entry *e = cn_entry_get(serial, nodes[index].view, now);
        if (e)
                r = cn_current(c, e, pid, text, cg_ino, true, false, now);
        if (r >= 0) {
                *ret_report = (struct cn_report){ .serial = serial, .epoch = e->epoch, .view = e->view, .first = !e->reported };
                r = cn_current(c, e, pid, text, cg_ino, false, true, now);
        }
        if (r >= 0)
                *ret = e->snap->len;
        pthread_mutex_unlock(&cn_lock);
        return r;
}

/* The kernel refused the reply carrying REPORT (its request was answered
 * already: a journal replay; or interrupted): it does not have that size. */
static void cnode_unreport(const struct cn_report *report, int reply) {
        if (reply != -ENOENT || !report->first)
                return;
        pthread_mutex_lock(&cn_lock);
        for (struct cn_entry *e = cn_buckets[(report->serial * 31 + report->view) % CN_BUCKETS]; e; e = e->next)
                if (e->serial == report->serial && e->view == report->view && e->epoch == report->epoch)
                        e->reported = false;
        pthread_mutex_unlock(&cn_lock);
}

static void cnode_stat(uint64_t serial, size_t index, off_t size, struct stat *st) {
        *st = (struct stat){ .st_ino = cnodes_ino(serial, index), .st_nlink = 1 };
        if (nodes[index].kind == NODE_VIEW) {
                st->st_mode = S_IFREG | 0444;
                st->st_size = size;
        } else {
                st->st_mode = S_IFDIR | nodes[index].perm;
                st->st_nlink = 2;
        }
}

/* The attributes of node INDEX for the request's reader: a view's length
 * is the one its next OPEN takes. */
static int cnode_attr(fuse_req_t req, const char *id, size_t index, const char *text, struct stat *st,
                      struct cn_report *ret_report) {
        uint64_t serial = cnodes_serial(id);
        off_t size = 0;

        *ret_report = (struct cn_report){ 0 };
        if (nodes[index].kind == NODE_VIEW) {
                int r = cnode_size(ctx_of(req), serial, index, fuse_req_ctx(req)->pid, text, &size, ret_report);
                if (r < 0)
                        return r;
        }
        cnode_stat(serial, index, size, st);
        return 0;
}

/* A directory's mode and link count are fixed: kept as long as the shared
 * tree's. A view's size is the next OPEN's: asked each time. */
static double cnode_attr_timeout(size_t index) {
        return nodes[index].kind == NODE_DIR ? ATTR_TIMEOUT : 0;
}

/* How long the kernel may keep the name: c/<id> itself and every view are
 * asked again at each walk, and each ask checks the reader (a walk to a view
 * passes both); the directories between them (c/<id>/proc, .../sys/devices)
 * are the same for every reader who gets that far, and kept. */
static double cnode_entry_timeout(size_t index) {
        return index != INO_ROOT - 1 && nodes[index].kind == NODE_DIR ? ATTR_TIMEOUT : 0;
}

static void cnode_reply_entry(fuse_req_t req, const char *id, size_t index, const char *text) {
        struct fuse_entry_param e = { .ino = cnodes_ino(cnodes_serial(id), index),
                                      .attr_timeout = cnode_attr_timeout(index),
                                      .entry_timeout = cnode_entry_timeout(index) };
        struct cn_report report;
        int r = cnode_attr(req, id, index, text, &e.attr, &report);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                cnode_unreport(&report, fuse_reply_entry(req, &e));
}

static bool id_is(const char *id, void *arg) {
        return streq(id, arg);
}

/* c/<ID>: only for a reader in that container; c/@<hash> (a generic id,
 * cnodes.h) only for a reader in that cgroup or below it: the name the
 * top links proc and sys point a reader to (cnode_top_link) */
void cnode_lookup_id(fuse_req_t req, const char *id) {
        _cleanup_free_ char *text = NULL;
        bool generic = id[0] == '@' && strlen(id) == CNODE_GENERIC_ID_LEN;
        if ((!generic && !reg_id_valid(id)) || curate_reader_cgroup(ctx_of(req), fuse_req_ctx(req)->pid, &text) < 0 ||
            !(generic ? cnodes_reader_each_id(text, id_is, (void *)id) : cnodes_reader_in(text, id))) {
                fuse_reply_err(req, ENOENT);
                return;
        }
        cnode_reply_entry(req, id, INO_ROOT - 1, text);
}

/* Where the top link proc or sys (node INDEX's name) points for the
 * request's reader, into BUF: c/<its own id>/<name> for a reader outside
 * the root cgroup (cnodes_reader_own_id), so that a bind of a shared name
 * (a CDI spec's, the OCI hook's, one made by hand) walks to that cgroup's
 * own sized copies and busybox cat (sendfile) reads them whole, with a page
 * cache no other cgroup's reader meets; .<name> (the shared tree) for the
 * root cgroup. One link inode for every reader and a name per cgroup below
 * c/: no directory entry is ever answered with two inodes, so the kernel
 * never drops one a bind is being made under (a mount(2) whose source's
 * ancestor was dropped fails with ENOENT: containers started at once). */
int cnode_top_link(fuse_req_t req, size_t index, char *buf, size_t size) {
        _cleanup_free_ char *text = NULL;
        char id[REG_ID_MAX + 1];
        int n;

        if (curate_reader_cgroup(ctx_of(req), fuse_req_ctx(req)->pid, &text) >= 0 && cnodes_reader_own_id(text, id))
                n = snprintf(buf, size, "c/%s/%s", id, nodes[index].name);
        else
                n = snprintf(buf, size, ".%s", nodes[index].name);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

void cnode_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
        _cleanup_free_ char *text = NULL;
        char id[REG_ID_MAX + 1];
        size_t dir;
        int r = cnode_resolve(req, parent, id, &dir, &text);

        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        for (size_t i = 0; i < NNODES; i++)
                if (i != INO_ROOT - 1 && nodes[i].parent == dir + 1 && node_mirrored(i) && streq(nodes[i].name, name)) {
                        cnode_reply_entry(req, id, i, text);
                        return;
                }
        /* the rest of c/<id>'s cpu directory: its own tree (cputree.h) */
        if (dir == INO_CPU - 1) {
                cputree_lookup(req, id, parent, name);
                return;
        }
        fuse_reply_err(req, nodes[dir].kind == NODE_DIR ? ENOENT : ENOTDIR);
}

/* Is H (ours) still on the snapshot its node reports? */
static bool cnode_handle_current(struct handle *h) {
        pthread_mutex_lock(&cn_lock);
        bool cur = h->cn && h->cn_pinned && h->cn->epoch == h->cn_epoch;
        pthread_mutex_unlock(&cn_lock);
        return cur;
}

void cnode_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        struct handle *h = fi && fi->fh ? fh_own(fi->fh) : NULL;
        _cleanup_free_ char *text = NULL;
        struct cn_report report = { 0 };
        char id[REG_ID_MAX + 1];
        struct stat st;
        size_t index;
        int r = cnode_resolve(req, ino, id, &index, &text);

        if (r >= 0 && h && cnode_handle_current(h)) {
                /* fstat of a file opened on the snapshot the node reports:
                 * its length, without replacing it */
                pthread_mutex_lock(&h->lock);
                cnode_stat(cnodes_serial(id), index, h->snap->len, &st);
                pthread_mutex_unlock(&h->lock);
        } else if (r >= 0)
                /* The size is the inode's, every reader's: one of a handle
                 * that has moved on (lseek(0)+read) would cut a sendfile
                 * in flight on the current snapshot. So the node's. */
                r = cnode_attr(req, id, index, text, &st, &report);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                cnode_unreport(&report, fuse_reply_attr(req, &st, cnode_attr_timeout(index)));
}

void cnode_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off) {
        char id[REG_ID_MAX + 1], buf[4096];
        size_t dir, len = 0;
        int r = cnode_resolve(req, ino, id, &dir, NULL);

        if (r < 0 || nodes[dir].kind != NODE_DIR) {
                fuse_reply_err(req, r < 0 ? -r : ENOTDIR);
                return;
        }
        if (dir == INO_CPU - 1) {
                cpu_readdir(req, id, ino, size, off);
                return;
        }
        if (size > sizeof(buf))
                size = sizeof(buf);
        /* offsets: 1 ".", 2 "..", then i + 3 for node i */
        for (off_t i = off; i < (off_t)NNODES + 2; i++) {
                struct stat st = { .st_mode = S_IFDIR };
                const char *name;
                if (i == 0) {
                        name = ".";
                        st.st_ino = ino;
                } else if (i == 1) {
                        name = "..";
                        st.st_ino = dir == INO_ROOT - 1 ? INO_C : cnodes_ino(cnodes_serial(id), nodes[dir].parent - 1);
                } else {
                        size_t n = i - 2;
                        if (n == INO_ROOT - 1 || nodes[n].parent != dir + 1 || !node_mirrored(n))
                                continue;
                        name = nodes[n].name;
                        cnode_stat(cnodes_serial(id), n, 0, &st);
                }
                size_t need = fuse_add_direntry(req, buf + len, size - len, name, &st, i + 1);
                if (need > size - len)
                        break;
                len += need;
        }
        fuse_reply_buf(req, buf, len);
}

void cnode_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        char id[REG_ID_MAX + 1];
        size_t dir;
        int r = cnode_resolve(req, ino, id, &dir, NULL);
        if (r < 0)
                fuse_reply_err(req, -r);
        else if (nodes[dir].kind != NODE_DIR)
                fuse_reply_err(req, ENOTDIR);
        else
                fuse_reply_open(req, fi);
}

/* The opens answered ESTALE lately (cnode_open_handle): the kernel's retry
 * of one is let through. Locked by cn_lock. */
#define CN_STALE_RING 64
#define CN_STALE_NS (1000 * 1000 * 1000ULL)
static struct {
        pid_t pid;
        fuse_ino_t ino;
        uint64_t at;
} cn_stale[CN_STALE_RING];
static unsigned cn_stale_next;

/* Was PID's open of INO answered ESTALE within the last second? (forgets
 * it); else remembers this one. */
static bool cn_stale_retried(pid_t pid, fuse_ino_t ino, uint64_t now) {
        for (unsigned i = 0; i < CN_STALE_RING; i++)
                if (cn_stale[i].pid == pid && cn_stale[i].ino == ino && ns_age(now, cn_stale[i].at) <= CN_STALE_NS) {
                        cn_stale[i].pid = 0;
                        return true;
                }
        cn_stale[cn_stale_next] = (typeof(cn_stale[0])){ .pid = pid, .ino = ino, .at = now };
        cn_stale_next = (cn_stale_next + 1) % CN_STALE_RING;
        return false;
}

/* OPEN: a handle on the snapshot whose length the kernel was told, pinned
 * until the handle moves to fresh figures or is released. */
int cnode_open_handle(fuse_req_t req, fuse_ino_t ino, struct handle **ret) {
        _cleanup_free_ char *text = NULL;
        char id[REG_ID_MAX + 1];
        size_t index;
        uint64_t now = now_monotonic_ns();
        pid_t pid = fuse_req_ctx(req)->pid;
        struct handle *h = NULL;
        struct snap *s = NULL;
        int r = cnode_resolve(req, ino, id, &index, &text);

        if (r < 0)
                return r == -ENOENT ? -EACCES : r;
        if (nodes[index].kind != NODE_VIEW)
                return -EISDIR;
        uint64_t cg_ino = curate_reader_cgroup_ino(ctx_of(req), text);
        pthread_mutex_lock(&cn_lock);
        struct cn_entry *e = cn_entry_get(cnodes_serial(id), nodes[index].view, now);
        /* Never a new rendering: the kernel's size is the one last
         * reported. When this process reported none (it replaced the one
         * that did, after the open's GETATTR), it cannot know that size:
         * ESTALE makes the kernel walk the path again with LOOKUP_REVAL
         * (do_filp_open), and that open's GETATTR comes to us, unless the
         * process we replace still serves (a SIGHUP restart): then its
         * retry is let through, on a snapshot of our own. */
        if (!e)
                r = -ENOMEM;
        else if ((!e->snap || !e->reported) && !cn_stale_retried(pid, ino, now))
                r = -ESTALE;
        else
                r = cn_current(ctx_of(req), e, pid, text, cg_ino, false, false, now);
        bool own = r >= 0 && streq(e->owner, text);
        /* a reader of another cgroup of the container: read() gets its own
         * figures; a page cache fill still the node's (cnode_read_snap) */
        if (r >= 0 && own)
                s = snap_ref(e->snap);
        else if (r >= 0 && (r = curate_render_hinted(ctx_of(req), e->view, pid, NULL, &s)) < 0)
                r = r == -ESRCH ? -ESRCH : -EIO;
        if (r >= 0 && (r = handle_add(e->view, s, true, &h)) < 0)
                snap_unref(s);
        if (r >= 0) {
                h->cn = e;
                h->cn_epoch = e->epoch;
                h->cn_pinned = own;
                h->open_len = e->snap->len; /* the size the kernel has */
                e->refs++;
                e->opened = true;
                e->clock.pins += own;
                if (e->reported_pid == pid)
                        e->clock.reported_at = 0;
        }
        pthread_mutex_unlock(&cn_lock);
        if (r >= 0)
                *ret = h;
        return r;
}

static void cnode_unpin_locked(struct handle *h) {
        if (h->cn_pinned && h->cn->epoch == h->cn_epoch && h->cn->clock.pins > 0)
                h->cn->clock.pins--;
        h->cn_pinned = false;
}

/* The handle leaves its snapshot for fresh figures (read() only). */
void cnode_unpin(struct handle *h) {
        if (!h->cn)
                return;
        pthread_mutex_lock(&cn_lock);
        cnode_unpin_locked(h);
        pthread_mutex_unlock(&cn_lock);
}

/* ... or is released (or its open failed). */
void cnode_release(struct handle *h) {
        if (!h->cn)
                return;
        pthread_mutex_lock(&cn_lock);
        cnode_unpin_locked(h);
        h->cn->refs--;
        h->cn->used_at = now_monotonic_ns();
        h->cn = NULL;
        pthread_mutex_unlock(&cn_lock);
}

/* What a READ of c/ node INO serves when it is not simply its own
 * handle's snapshot: a page cache fill, or a handle of another generation.
 *
 * A page cache fill (sendfile, splice; FUSE sends it without a lock owner,
 * a direct_io read() with one) is kept by the kernel up to the size it
 * has, the length we last reported: so it gets the node's reported
 * snapshot (a handle opened on it is on that one; one that moved on to
 * fresh figures is not). A serving process that has reported nothing yet
 * for the node replaced the one that did: the size the kernel has is the
 * one the fh carries (the handle's length at OPEN), and a rendering longer
 * than it would be cut there, silently: that READ fails with EIO instead
 * (logged once). A shorter one is whole: the short READ shrinks the size
 * (fuse_short_read).
 * A direct read() of another generation's handle gets the node's snapshot
 * (rendered now if there is none): read() is not bounded by the size. */
static int cnode_read_snap(fuse_req_t req, fuse_ino_t ino, struct handle *h, uint64_t fh, bool pagecache,
                           struct snap **ret) {
        char id[REG_ID_MAX + 1];
        size_t index, told = h ? h->open_len : fh_cn_len(fh);
        uint64_t now = now_monotonic_ns();
        _cleanup_free_ char *text = NULL;
        int r = cnode_resolve(req, ino, id, &index, &text);

        if (r < 0)
                return r;
        if (nodes[index].kind != NODE_VIEW)
                return -EBADF;
        uint64_t cg_ino = curate_reader_cgroup_ino(ctx_of(req), text);
        pthread_mutex_lock(&cn_lock);
        struct cn_entry *e = cn_entry_get(cnodes_serial(id), nodes[index].view, now);
        r = e ? cn_current(ctx_of(req), e, fuse_req_ctx(req)->pid, text, cg_ino, false, false, now) : -ENOMEM;
        if (r >= 0 && !pagecache && !streq(e->owner, text)) {
                /* read() by a reader of another cgroup: its own figures */
                pthread_mutex_unlock(&cn_lock);
                r = curate_render_hinted(ctx_of(req), nodes[index].view, fuse_req_ctx(req)->pid, NULL, ret);
                return r < 0 ? (r == -ESRCH ? -ESRCH : -EIO) : 0;
        }
        if (r >= 0 && pagecache && !e->reported && e->snap->len > told && told != FH_CN_LEN_UNKNOWN)
                r = -EFBIG;
        if (r >= 0)
                *ret = snap_ref(e->snap);
        pthread_mutex_unlock(&cn_lock);
        if (r == -EFBIG) {
                curate_log_once(ctx_of(req), "a view grew past the size the kernel has for an open file while "
                                             "serving processes were replaced; failing that sendfile with EIO");
                r = -EIO;
        }
        return r;
}

/* A READ of a c/ node that its own handle does not answer as any file
 * would (see cnode_read_snap). */
bool cnode_read_special(fuse_req_t req, fuse_ino_t ino, struct handle *h, struct fuse_file_info *fi,
                               size_t size, off_t off) {
        bool pagecache = fi->lock_owner == 0;
        struct snap *s;
        int r = 0;

        if (!cnodes_is_ino(ino) || (h && !pagecache))
                return false; /* read() of its own handle: as any view */
        if (!h && !pagecache && off > 0 && fh_cn_len(fi->fh) != FH_CN_LEN_UNKNOWN && (size_t)off >= fh_cn_len(fi->fh)) {
                /* read() on past the end of the snapshot the file was
                 * opened on: it has read it all (the common case: whole
                 * reads), and a new rendering's tail would be appended */
                fuse_reply_buf(req, NULL, 0);
                return true;
        }
        if (h && cnode_handle_current(h)) {
                /* never renders anew, unlike an own read() at offset 0:
                 * the kernel keeps only the size it was told */
                pthread_mutex_lock(&h->lock);
                s = snap_ref(h->snap);
                pthread_mutex_unlock(&h->lock);
        } else
                r = cnode_read_snap(req, ino, h, fi->fh, pagecache, &s);
        if (r < 0) {
                fuse_reply_err(req, r == -ESRCH ? ESRCH : r == -EBADF || r == -ENOENT ? -r : EIO);
                return true;
        }
        if (off < 0 || (size_t)off >= s->len)
                fuse_reply_buf(req, NULL, 0);
        else
                fuse_reply_buf(req, s->data + off, s->len - off < size ? s->len - off : size);
        snap_unref(s);
        return true;
}
