#include "config.h"
#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/stat.h>
#include "curatefs.h"
#include "server.h"

/* The fixed tree: LXCFS's layout, so recipes that bind-mount LXCFS files work
 * by changing the source directory. Inode numbers are table indexes + 1. */
struct node {
        const char *name;
        fuse_ino_t parent;
        int view; /* -1: directory */
};
enum { INO_ROOT = 1, INO_PROC, INO_SYS, INO_DEVICES, INO_SYSTEM, INO_CPU };
static const struct node nodes[] = {
        [INO_ROOT - 1]    = { "", INO_ROOT, -1 },
        [INO_PROC - 1]    = { "proc", INO_ROOT, -1 },
        [INO_SYS - 1]     = { "sys", INO_ROOT, -1 },
        [INO_DEVICES - 1] = { "devices", INO_SYS, -1 },
        [INO_SYSTEM - 1]  = { "system", INO_DEVICES, -1 },
        [INO_CPU - 1]     = { "cpu", INO_SYSTEM, -1 },
        { "meminfo", INO_PROC, VIEW_MEMINFO },
        { "cpuinfo", INO_PROC, VIEW_CPUINFO },
        { "stat", INO_PROC, VIEW_STAT },
        { "uptime", INO_PROC, VIEW_UPTIME },
        { "loadavg", INO_PROC, VIEW_LOADAVG },
        { "swaps", INO_PROC, VIEW_SWAPS },
        { "diskstats", INO_PROC, VIEW_DISKSTATS },
        { "online", INO_CPU, VIEW_CPU_ONLINE },
};
#define NNODES ELEMENTSOF(nodes)
/* The tree never changes and every reader sees the same names and modes, so
 * the kernel may cache entries and attributes for long; contents are never
 * cached (direct_io). */
#define ATTR_TIMEOUT 86400.0

static const struct node *node_get(fuse_ino_t ino) {
        return ino >= 1 && ino <= NNODES ? &nodes[ino - 1] : NULL;
}

static void node_stat(fuse_ino_t ino, struct stat *st) {
        const struct node *n = node_get(ino);
        *st = (struct stat){ .st_ino = ino, .st_uid = 0, .st_gid = 0 };
        if (n->view < 0) {
                st->st_mode = S_IFDIR | 0555;
                st->st_nlink = 2;
        } else {
                /* size 0, as procfs reports: readers read to EOF */
                st->st_mode = S_IFREG | 0444;
                st->st_nlink = 1;
        }
}

static struct curate *ctx_of(fuse_req_t req) {
        return fuse_req_userdata(req);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
        for (size_t i = 0; i < NNODES; i++) {
                if (i + 1 == INO_ROOT || nodes[i].parent != parent || !streq(nodes[i].name, name))
                        continue;
                struct fuse_entry_param e = {
                        .ino = i + 1,
                        .attr_timeout = ATTR_TIMEOUT,
                        .entry_timeout = ATTR_TIMEOUT,
                };
                node_stat(i + 1, &e.attr);
                fuse_reply_entry(req, &e);
                return;
        }
        fuse_reply_err(req, ENOENT);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        struct stat st;
        if (!node_get(ino)) {
                fuse_reply_err(req, ENOENT);
                return;
        }
        node_stat(ino, &st);
        fuse_reply_attr(req, &st, ATTR_TIMEOUT);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) {
        fuse_reply_err(req, EROFS);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        const struct node *dir = node_get(ino);
        char buf[4096];
        size_t len = 0;

        if (!dir || dir->view >= 0) {
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
                        if (n + 1 == INO_ROOT || nodes[n].parent != ino)
                                continue;
                        name = nodes[n].name;
                        node_stat(n + 1, &st);
                }
                size_t need = fuse_add_direntry(req, buf + len, size - len, name, &st, i + 1);
                if (need > size - len)
                        break;
                len += need;
        }
        fuse_reply_buf(req, buf, len);
}

struct handle {
        /* Two threads of a reader may read one fd at once, and their READs
         * reach different workers: the snapshot swap must not race. */
        pthread_mutex_t lock;
        struct snap *snap;
        struct reader_hint hint;
        enum view_id view;
        bool fresh; /* rendered at open and not yet read at offset 0 */
};

static void handle_free(struct handle *h) {
        snap_unref(h->snap);
        reader_hint_done(&h->hint);
        pthread_mutex_destroy(&h->lock);
        free(h);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        const struct node *n = node_get(ino);
        const struct fuse_ctx *fc = fuse_req_ctx(req);
        struct handle *h;
        int r;

        if (!n || n->view < 0) {
                fuse_reply_err(req, n ? EISDIR : ENOENT);
                return;
        }
        if ((fi->flags & O_ACCMODE) != O_RDONLY) {
                fuse_reply_err(req, EACCES);
                return;
        }
        h = calloc(1, sizeof(*h));
        if (!h) {
                fuse_reply_err(req, ENOMEM);
                return;
        }
        h->view = n->view;
        pthread_mutex_init(&h->lock, NULL);
        /* no hint yet: only a later lseek(0)+read needs one, and most opens
         * (cat, free) never do, so the open pays no copy for it */
        r = curate_render_hinted(ctx_of(req), n->view, fc->pid, NULL, &h->snap);
        if (r < 0) {
                handle_free(h);
                fuse_reply_err(req, r == -ESRCH ? ESRCH : EIO);
                return;
        }
        h->fresh = true;
        fi->fh = (uintptr_t)h;
        /* Every read goes to us: contents differ per reader and over time. */
        fi->direct_io = 1;
        fi->keep_cache = 0;
        fi->nonseekable = 0;
        if (fuse_reply_open(req, fi) == -ENOENT) {
                /* the opener was interrupted: the kernel will send no RELEASE */
                handle_free(h);
        }
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        struct handle *h = (struct handle *)(uintptr_t)fi->fh;
        struct snap *s;

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

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        struct handle *h = (struct handle *)(uintptr_t)fi->fh;
        if (h)
                handle_free(h);
        fuse_reply_err(req, 0);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        const struct node *n = node_get(ino);
        if (!n || n->view >= 0) {
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
}

/* Everything that would change the tree is refused: it is read-only. */
static void op_mknod(fuse_req_t req, fuse_ino_t p, const char *name, mode_t mode, dev_t rdev) { fuse_reply_err(req, EROFS); }
static void op_mkdir(fuse_req_t req, fuse_ino_t p, const char *name, mode_t mode) { fuse_reply_err(req, EROFS); }
static void op_unlink(fuse_req_t req, fuse_ino_t p, const char *name) { fuse_reply_err(req, EROFS); }
static void op_create(fuse_req_t req, fuse_ino_t p, const char *name, mode_t mode, struct fuse_file_info *fi) { fuse_reply_err(req, EROFS); }
static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) { fuse_reply_err(req, EROFS); }
static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size, int flags) { fuse_reply_err(req, EROFS); }

const struct fuse_lowlevel_ops curatefs_ops = {
        .init = op_init,
        .lookup = op_lookup,
        .getattr = op_getattr,
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
};

struct worker {
        struct fuse_session *se;
        pthread_t thread, main;
        atomic_bool *stopping; /* set by the main thread before it stops us */
        int result;
};

/* Each worker pulls requests straight off the session: measured here to cost
 * far less than fuse_session_loop_mt's worker management (platform notes). */
static void *worker_main(void *arg) {
        struct worker *w = arg;
        struct fuse_buf fbuf = { .mem = NULL };

        while (!fuse_session_exited(w->se)) {
                int r = fuse_session_receive_buf(w->se, &fbuf);
                if (r == -EINTR)
                        continue;
                if (r <= 0) {
                        w->result = r;
                        break;
                }
                fuse_session_process_buf(w->se, &fbuf);
        }
        free(fbuf.mem);
        /* Ended by itself (unmounted, or an error): tell the main thread.
         * The session's own exited flag cannot tell: libfuse sets it on
         * ENODEV (unmount) too. */
        if (!atomic_load(w->stopping))
                pthread_kill(w->main, SIGUSR2);
        return NULL;
}

/* Wake a worker blocked in read() on /dev/fuse and wait for it. A signal that
 * lands between its "session exited?" check and its read() is lost, so it is
 * sent again until the worker is gone. */
static void join_worker(pthread_t t) {
        for (;;) {
                struct timespec deadline;
                pthread_kill(t, SIGUSR1);
                clock_gettime(CLOCK_REALTIME, &deadline);
                deadline.tv_nsec += 50 * 1000 * 1000;
                if (deadline.tv_nsec >= 1000000000) {
                        deadline.tv_sec++;
                        deadline.tv_nsec -= 1000000000;
                }
                if (pthread_timedjoin_np(t, NULL, &deadline) == 0)
                        return;
        }
}

/* Serve with NTHREADS workers while this thread waits for a termination
 * signal (or a worker ending by itself). Signals are taken with sigwait, not
 * a handler that sets a flag: a flag set just before a worker enters read()
 * would leave it blocked there for good. */
int curatefs_serve(struct fuse_session *se, unsigned nthreads) {
        struct worker *w = calloc(nthreads ? nthreads : 1, sizeof(*w));
        sigset_t wait_set, old;
        atomic_bool stopping = false;
        unsigned started = 0;
        int sig, r = 0;

        if (!w)
                return -ENOMEM;
        if (nthreads == 0)
                nthreads = 1;
        sigemptyset(&wait_set);
        sigaddset(&wait_set, SIGTERM);
        sigaddset(&wait_set, SIGINT);
        sigaddset(&wait_set, SIGHUP);
        sigaddset(&wait_set, SIGUSR2);
        /* blocked here and so in every worker, which inherit the mask */
        pthread_sigmask(SIG_BLOCK, &wait_set, &old);
        for (; started < nthreads; started++) {
                w[started] = (struct worker){ .se = se, .main = pthread_self(), .stopping = &stopping };
                if (pthread_create(&w[started].thread, NULL, worker_main, &w[started]) != 0)
                        break;
        }
        if (started > 0)
                while (sigwait(&wait_set, &sig) != 0)
                        ;
        atomic_store(&stopping, true);
        fuse_session_exit(se);
        for (unsigned i = 0; i < started; i++) {
                join_worker(w[i].thread);
                if (w[i].result < 0 && w[i].result != -ENODEV && r == 0)
                        r = w[i].result;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        free(w);
        return started > 0 ? r : -EAGAIN;
}
