#include "config.h"
#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <time.h>
#include "curatefs.h"
#include "pidcg.h"

#define B(c) (1u << (c))
const struct view_desc view_table[_VIEW_MAX] = {
        [VIEW_MEMINFO]    = { "proc/meminfo",   B(CG_MEMORY) },
        [VIEW_SWAPS]      = { "proc/swaps",     B(CG_MEMORY) },
        [VIEW_CPUINFO]    = { "proc/cpuinfo",   B(CG_CPUSET) | B(CG_CPU) },
        [VIEW_CPU_ONLINE] = { "sys/devices/system/cpu/online", B(CG_CPUSET) | B(CG_CPU) },
        [VIEW_STAT]       = { "proc/stat",      B(CG_CPUSET) | B(CG_CPU) | B(CG_CPUACCT) },
        [VIEW_UPTIME]     = { "proc/uptime",    B(CG_CPU) },
        [VIEW_LOADAVG]    = { "proc/loadavg",   B(CG_CPU) },
        [VIEW_DISKSTATS]  = { "proc/diskstats", B(CG_BLKIO) },
        [VIEW_CPU_POSSIBLE] = { "sys/devices/system/cpu/possible", B(CG_CPUSET) | B(CG_CPU) },
        [VIEW_CPU_PRESENT]  = { "sys/devices/system/cpu/present", B(CG_CPUSET) | B(CG_CPU) },
        [VIEW_CPU_OFFLINE]  = { "sys/devices/system/cpu/offline", B(CG_CPUSET) | B(CG_CPU) },
        [VIEW_VMSTAT]       = { "proc/vmstat", B(CG_MEMORY) },
        [VIEW_PRESSURE_CPU]    = { "proc/pressure/cpu", B(CG_CPU) },
        [VIEW_PRESSURE_MEMORY] = { "proc/pressure/memory", B(CG_MEMORY) },
        [VIEW_PRESSURE_IO]     = { "proc/pressure/io", B(CG_BLKIO) },
};

const struct dev_desc dev_table[_DEV_MAX] = {
        [DEV_NULL]    = { "null" },
        [DEV_ZERO]    = { "zero" },
        [DEV_FULL]    = { "full" },
        [DEV_RANDOM]  = { "random" },
        [DEV_URANDOM] = { "urandom" },
        [DEV_TTY]     = { "tty" },
};

#define LOGGED_MAX 1024

uint64_t now_monotonic_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

struct snap *snap_new(const char *data, size_t len) {
        struct snap *s = malloc(sizeof(*s) + len + 1);
        if (!s)
                return NULL;
        atomic_init(&s->refs, 1);
        s->len = len;
        memcpy(s->data, data, len);
        s->data[len] = 0;
        return s;
}

struct snap *snap_ref(struct snap *s) {
        atomic_fetch_add(&s->refs, 1);
        return s;
}

void snap_unref(struct snap *s) {
        if (s && atomic_fetch_sub(&s->refs, 1) == 1)
                free(s);
}

static void log_once(struct curate *c, const char *msg) {
        for (size_t i = 0; i < c->nlogged; i++)
                if (streq(c->logged[i], msg))
                        return;
        if (c->nlogged < LOGGED_MAX) {
                char *d = strdup(msg);
                char **l = d ? realloc(c->logged, (c->nlogged + 1) * sizeof(char *)) : NULL;
                if (l) {
                        c->logged = l;
                        c->logged[c->nlogged++] = d;
                } else
                        free(d);
        }
        if (c->log)
                c->log(msg);
}

void curate_log_once(struct curate *c, const char *msg) {
        pthread_mutex_lock(&c->lock);
        log_once(c, msg);
        pthread_mutex_unlock(&c->lock);
}

uint64_t curate_reader_cgroup_ino(struct curate *c, const char *text) {
        struct cg_reader r = { 0 };
        const struct cg_hier *h = cg_layout_hier(&c->layout, CG_MEMORY);
        struct stat st;
        uint64_t ino = 0;

        if (h && cg_reader_parse(&c->layout, text, &r) == 0 && r.path[CG_MEMORY] &&
            !cg_path_has_dotdot(r.path[CG_MEMORY])) {
                const char *rel = r.path[CG_MEMORY] + strspn(r.path[CG_MEMORY], "/");
                if (fstatat(h->fd, *rel ? rel : ".", &st, 0) == 0)
                        ino = st.st_ino;
        }
        cg_reader_done(&r);
        return ino;
}

/* PID's /proc/PID/cgroup into *RET: in one read() into BUF (a single
 * seq_file record, so a read with room to spare returns all of it, through
 * the thread's kept fds: pidcg.c), or, when it does not fit, read whole into
 * *BIG (allocated, the caller's to free). 0 or -errno. */
static int read_pid_cgroup(struct curate *c, pid_t pid, char *buf, size_t size, char **big, const char **ret) {
        int r = pidcg_read(c->root_fd, c->pidcg_gen, pid, buf, size);
        if (r == -EFBIG) {
                char path[32];
                snprintf(path, sizeof(path), "proc/%d/cgroup", (int)pid);
                r = read_file_at(c->root_fd, path, big, NULL);
                *ret = *big;
        } else
                *ret = buf;
        return r < 0 ? r : 0;
}

int curate_reader_cgroup(struct curate *c, pid_t pid, char **ret) {
        char buf[4096], *big = NULL;
        const char *text;
        if (pid <= 0)
                return -EIO;
        int r = read_pid_cgroup(c, pid, buf, sizeof(buf), &big, &text);
        if (r < 0)
                return r;
        *ret = big ? big : strdup(text);
        return *ret ? 0 : -ENOMEM;
}

/* inode of PID's pid namespace (0: the daemon's own); 0 when unknown */
static uint64_t pidns_inode(int root_fd, pid_t pid) {
        char p[64];
        struct stat st;
        if (pid)
                snprintf(p, sizeof(p), "proc/%d/ns/pid", (int)pid);
        else
                snprintf(p, sizeof(p), "proc/self/ns/pid");
        /* stat follows the magic link to the nsfs inode */
        if (fstatat(root_fd, p, &st, 0) < 0)
                return 0;
        return st.st_ino;
}

int curate_init(struct curate *c, const char *host_root, curate_log_fn log) {
        int r;

        *c = (struct curate){ .root_fd = -EBADF, .log = log, .now = now_monotonic_ns,
                              .pidcg_gen = pidcg_generation() };
        c->root_fd = open(host_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (c->root_fd < 0)
                return -errno;
        r = cg_layout_discover(c->root_fd, &c->layout);
        if (r < 0) {
                close(TAKE_FD(c->root_fd));
                return r;
        }
        c->self_pidns = pidns_inode(c->root_fd, 0);
        c->nbuckets = 1024;
        c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
        if (!c->buckets) {
                curate_done(c);
                return -ENOMEM;
        }
        pthread_mutex_init(&c->lock, NULL);
        pthread_mutex_init(&c->stop_lock, NULL);
        pthread_cond_init(&c->stop_cond, NULL);
        return 0;
}

/* One host node: not followed if it is a symlink (a link is not a device of
 * the host's own, and its target would be resolved outside dev/). */
static int probe_device(struct curate *c, int dev_fd, enum dev_id d) {
        const char *name = dev_table[d].name;
        struct stat st;
        char msg[256];

        if (fstatat(dev_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                int r = -errno;
                snprintf(msg, sizeof(msg), "host dev/%s: %s; dev/%s is left out", name, strerror(-r), name);
                log_once(c, msg);
                return r;
        }
        if (!S_ISCHR(st.st_mode)) {
                snprintf(msg, sizeof(msg), "host dev/%s is not a character device; dev/%s is left out", name, name);
                log_once(c, msg);
                return -ENODEV;
        }
        c->dev[d] = (struct dev_node){ .present = true, .mode = st.st_mode & (S_IFMT | 07777), .rdev = st.st_rdev };
        return 0;
}

int curate_probe_devices(struct curate *c) {
        _cleanup_close_ int dev_fd = open_beneath(c->root_fd, "dev", O_PATH | O_DIRECTORY);
        char msg[256];
        int n = 0;

        for (int d = 0; d < _DEV_MAX; d++)
                c->dev[d] = (struct dev_node){ 0 };
        if (dev_fd < 0) {
                snprintf(msg, sizeof(msg), "cannot open the host's dev/: %s; dev/ holds no device nodes", strerror(-dev_fd));
                log_once(c, msg);
                return dev_fd;
        }
        for (int d = 0; d < _DEV_MAX; d++)
                if (probe_device(c, dev_fd, d) >= 0)
                        n++;
        return n;
}

static void record_free(struct cg_record *rec) {
        if (!rec)
                return;
        for (int v = 0; v < _VIEW_MAX; v++)
                snap_unref(rec->snap[v]);
        stat_state_done(&rec->stat);
        cg_reader_done(&rec->reader);
        free(rec->key);
        free(rec);
}

void curate_done(struct curate *c) {
        if (c->sampler_running) {
                pthread_mutex_lock(&c->stop_lock);
                c->stopping = true;
                pthread_cond_signal(&c->stop_cond);
                pthread_mutex_unlock(&c->stop_lock);
                pthread_join(c->sampler, NULL);
                c->sampler_running = false;
        }
        for (size_t i = 0; c->buckets && i < c->nbuckets; i++)
                while (c->buckets[i]) {
                        struct cg_record *n = c->buckets[i]->next;
                        record_free(c->buckets[i]);
                        c->buckets[i] = n;
                }
        free(c->buckets);
        c->buckets = NULL;
        for (int v = 0; v < _VIEW_MAX; v++)
                snap_unref(TAKE_PTR(c->host_snap[v]));
        for (size_t i = 0; i < c->nlogged; i++)
                free(c->logged[i]);
        free(c->logged);
        c->logged = NULL;
        free(c->runs_seen);
        c->runs_seen = NULL;
        c->nruns_seen = 0;
        c->nlogged = 0;
        cg_layout_done(&c->layout);
        if (c->root_fd >= 0)
                close(TAKE_FD(c->root_fd));
}

static uint64_t hash_str(const char *s) {
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 1099511628211ULL;
        return h;
}

static bool reader_limited(const struct cg_reader *r, unsigned controllers) {
        for (int i = 0; i < _CG_CONTROLLER_MAX; i++)
                if ((controllers & (1u << i)) && !cg_reader_is_root(r, i))
                        return true;
        return false;
}

/* ---- which cgroup directories a record's figures come from ---- */

/* The controllers whose directories gather.c reads each view's figures
 * from; TASKS: also the hierarchy it counts the cgroup's tasks in. */
static const struct {
        unsigned dirs;
        bool tasks;
} view_inputs[_VIEW_MAX] = {
        [VIEW_MEMINFO]    = { B(CG_MEMORY) },
        [VIEW_SWAPS]      = { B(CG_MEMORY) },
        [VIEW_CPUINFO]    = { B(CG_CPUSET) | B(CG_CPU) },
        [VIEW_CPU_ONLINE] = { B(CG_CPUSET) | B(CG_CPU) },
        [VIEW_STAT]       = { B(CG_CPUSET) | B(CG_CPU) | B(CG_CPUACCT), true },
        [VIEW_UPTIME]     = { B(CG_CPUSET) | B(CG_CPU) | B(CG_CPUACCT), true },
        [VIEW_LOADAVG]    = { 0, true },
        [VIEW_DISKSTATS]  = { B(CG_BLKIO) },
        [VIEW_CPU_POSSIBLE] = { B(CG_CPUSET) | B(CG_CPU) },
        [VIEW_CPU_PRESENT]  = { B(CG_CPUSET) | B(CG_CPU) },
        [VIEW_CPU_OFFLINE]  = { B(CG_CPUSET) | B(CG_CPU) },
        [VIEW_VMSTAT]       = { B(CG_MEMORY) | B(CG_BLKIO) },
        [VIEW_PRESSURE_CPU]    = { B(CG_CPU) },
        [VIEW_PRESSURE_MEMORY] = { B(CG_MEMORY) },
        [VIEW_PRESSURE_IO]     = { B(CG_BLKIO) },
};

/* View V's directories for REC, less the root cgroups (never removed) and
 * a controller that shares its hierarchy with one already listed (one
 * hierarchy, one line of /proc/PID/cgroup, one directory): one stat each. */
static unsigned record_view_dirs(struct curate *c, const struct cg_record *rec, enum view_id v) {
        unsigned want = view_inputs[v].dirs, dirs = 0;

        if (view_inputs[v].tasks) {
                enum cg_controller t = gather_task_controller(c, &rec->reader);
                if (t < _CG_CONTROLLER_MAX)
                        want |= B(t);
        }
        for (int i = 0; i < _CG_CONTROLLER_MAX; i++) {
                bool shared = false;
                if (!(want & B(i)) || !cg_layout_hier(&c->layout, i) || cg_reader_is_root(&rec->reader, i))
                        continue;
                for (int j = 0; j < i; j++)
                        shared |= (dirs & B(j)) && c->layout.by_controller[j] == c->layout.by_controller[i];
                if (!shared)
                        dirs |= B(i);
        }
        return dirs;
}

/* What stat() of the reader's cgroup directory in CTL's hierarchy gives.
 * fstatat rather than open_beneath + fstat: this runs on every read of a
 * limited view; the path is the kernel's own (/proc/PID/cgroup), ".." is
 * refused, and cgroupfs has no symlinks to resolve. */
static int cgroup_ident(struct curate *c, const struct cg_reader *r, enum cg_controller ctl, struct cg_ident *ret) {
        const struct cg_hier *h = cg_layout_hier(&c->layout, ctl);
        const char *path = r->path[ctl];
        struct stat st;

        if (!h || !path || cg_path_has_dotdot(path))
                return -EINVAL;
        path += strspn(path, "/");
        if (fstatat(h->fd, *path ? path : ".", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        *ret = (struct cg_ident){ .dev = st.st_dev, .ino = st.st_ino };
        return 0;
}

/* Stat the directories in DIRS into IDS; -errno when one cannot be. */
static int record_stat_dirs(struct curate *c, const struct cg_record *rec, unsigned dirs, struct cg_ident *ids) {
        for (int i = 0; i < _CG_CONTROLLER_MAX; i++)
                if (dirs & B(i)) {
                        int r = cgroup_ident(c, &rec->reader, i, &ids[i]);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static bool idents_match(const struct cg_ident *a, const struct cg_ident *b, unsigned dirs) {
        for (int i = 0; i < _CG_CONTROLLER_MAX; i++)
                if ((dirs & B(i)) && (a[i].dev != b[i].dev || a[i].ino != b[i].ino))
                        return false;
        return true;
}

/* The identity of each of REC's non-root cgroups now; IDS (those in DIRS,
 * already stat'ed by the caller) when given. One that cannot be stat'ed is
 * left unknown: a view that reads it fails its check and renders anew. */
static void record_learn(struct curate *c, struct cg_record *rec, unsigned dirs, const struct cg_ident *ids) {
        for (int i = 0; i < _CG_CONTROLLER_MAX; i++) {
                if (dirs & B(i))
                        rec->ident[i] = ids[i];
                else if (cg_reader_is_root(&rec->reader, i) || cgroup_ident(c, &rec->reader, i, &rec->ident[i]) < 0)
                        rec->ident[i] = (struct cg_ident){ 0 };
        }
}

/* A cgroup at one of REC's paths was removed and made again: nothing read
 * from the old directories (snapshots, /proc/stat counters, load averages,
 * the oldest process) belongs to the new one. */
static void record_rebind(struct curate *c, struct cg_record *rec, unsigned dirs, const struct cg_ident *ids) {
        for (int v = 0; v < _VIEW_MAX; v++) {
                snap_unref(TAKE_PTR(rec->snap[v]));
                rec->rendered_at[v] = 0;
        }
        stat_state_done(&rec->stat);
        rec->load = (struct loadavg_state){ { 0 } };
        rec->load_sampled_at = 0;
        rec->start_pid = 0;
        rec->start_ticks = 0;
        rec->uptime_ns_ino = 0;
        rec->sysinfo_at = 0;
        record_learn(c, rec, dirs, ids);
}

/* The sampler's check: -ENOENT when one of REC's cgroups was removed,
 * -ESTALE when one was made again since it was read; 0 otherwise (also
 * when a directory cannot be looked at for another reason). */
static int record_check(struct curate *c, const struct cg_record *rec) {
        for (int i = 0; i < _CG_CONTROLLER_MAX; i++) {
                struct cg_ident now;
                if (!cg_layout_hier(&c->layout, i) || cg_reader_is_root(&rec->reader, i))
                        continue;
                int r = cgroup_ident(c, &rec->reader, i, &now);
                if (r == -ENOENT)
                        return r;
                if (r >= 0 && (now.dev != rec->ident[i].dev || now.ino != rec->ident[i].ino))
                        return -ESTALE;
        }
        return 0;
}

/* Create the record for READER in bucket B; takes ownership of *reader. */
static struct cg_record *record_get(struct curate *c, struct cg_reader *reader, const char *key, size_t b) {
        struct cg_record *rec = calloc(1, sizeof(*rec));
        if (!rec)
                return NULL;
        rec->key = strdup(key);
        if (!rec->key) {
                free(rec);
                return NULL;
        }
        rec->reader = *reader;
        *reader = (struct cg_reader){ 0 };
        rec->next = c->buckets[b];
        c->buckets[b] = rec;
        c->nrecords++;
        return rec;
}

static int host_snapshot(struct curate *c, enum view_id v, uint64_t now, struct snap **ret) {
        if (!c->host_snap[v] || ns_age(now, c->host_rendered_at[v]) > CACHE_TTL_NS) {
                _cleanup_free_ char *text = NULL;
                size_t len;
                int r = read_file_at(c->root_fd, view_table[v].path, &text, &len);
                if (r < 0)
                        return r;
                struct snap *s = snap_new(text, len);
                if (!s)
                        return -ENOMEM;
                snap_unref(c->host_snap[v]);
                c->host_snap[v] = s;
                c->host_rendered_at[v] = now;
        }
        *ret = snap_ref(c->host_snap[v]);
        return 0;
}

/* The reader's cgroup was removed (it can be only once the reader has
 * left it) or replaced while it read: that read fails, never served what
 * another directory held. */
#define MSG_CGROUP_GONE "a reader's cgroup was removed or made again while it read; failing that read with EIO"
static int reader_cgroup_gone(struct curate *c) {
        log_once(c, MSG_CGROUP_GONE);
        return -EIO;
}

static bool reader_still_in(struct curate *c, pid_t pid, const char *text);

/* V for the record's reader PID, whose /proc/PID/cgroup read TEXT. A cached
 * snapshot is served only while the directories it was read from are the
 * ones at the reader's paths (one stat per directory, no more: the snapshot
 * itself is at most CACHE_TTL_NS old). A new one is kept only when those
 * directories were the same before and after it was gathered, so it holds
 * one cgroup's figures, never a mix; and handed to the reader only when the
 * reader is still where TEXT says (-EAGAIN: look again). */
static int record_snapshot(struct curate *c, struct cg_record *rec, enum view_id v, pid_t pid,
                           const char *text, uint64_t now, bool fresh, struct snap **ret) {
        struct cg_ident ids[_CG_CONTROLLER_MAX], after[_CG_CONTROLLER_MAX];
        unsigned dirs = rec->dirs[v];
        uint64_t ns_ino = 0;

        if (record_stat_dirs(c, rec, dirs, ids) < 0)
                return reader_cgroup_gone(c);
        if (!idents_match(rec->ident, ids, dirs))
                record_rebind(c, rec, dirs, ids);
        if (v == VIEW_UPTIME) {
                ns_ino = pidns_inode(c->root_fd, pid);
        }
        rec->last_read = now;
        if (!fresh && rec->snap[v] && ns_age(now, rec->rendered_at[v]) <= CACHE_TTL_NS &&
            (v != VIEW_UPTIME || ns_ino == rec->uptime_ns_ino)) {
                *ret = snap_ref(rec->snap[v]);
                return 0;
        }
        _cleanup_buf_ struct buf out = { 0 };
        int r = gather_render(c, rec, v, pid, &out);
        if (r == -EOPNOTSUPP)
                return -ENOENT; /* the cgroup has no such figures (PSI on v1): no file */
        if (r < 0) {
                char msg[512];
                if (record_stat_dirs(c, rec, dirs, after) < 0 || !idents_match(ids, after, dirs))
                        return reader_cgroup_gone(c); /* removed meanwhile: not a fault to log */
                snprintf(msg, sizeof(msg), "cannot render %s for cgroup %s: %s; failing reads with EIO",
                         view_table[v].path, rec->reader.path[CG_MEMORY] ? rec->reader.path[CG_MEMORY] : "?",
                         strerror(-r));
                log_once(c, msg);
                return -EIO;
        }
        if (record_stat_dirs(c, rec, dirs, after) < 0 || !idents_match(ids, after, dirs)) {
                /* replaced while gathered: the counters may hold both */
                if (record_stat_dirs(c, rec, dirs, after) >= 0)
                        record_rebind(c, rec, dirs, after);
                return -EAGAIN;
        }
        struct snap *s = snap_new(out.data ? out.data : "", out.len);
        if (!s)
                return -ENOMEM;
        snap_unref(rec->snap[v]);
        rec->snap[v] = s;
        rec->rendered_at[v] = now;
        rec->uptime_ns_ino = ns_ino;
        if (dirs && !reader_still_in(c, pid, text))
                return -EAGAIN;
        *ret = snap_ref(s);
        return 0;
}

/* Is PID's /proc/PID/cgroup still TEXT? Asked once a snapshot was made for
 * it: its cgroup could have been replaced only after it left. */
static bool reader_still_in(struct curate *c, pid_t pid, const char *text) {
        char buf[4096];
        _cleanup_free_ char *big = NULL;
        const char *now_text;
        return read_pid_cgroup(c, pid, buf, sizeof(buf), &big, &now_text) == 0 && streq(now_text, text);
}

/* The record of the cgroups described by TEXT (a /proc/PID/cgroup), created
 * on first sight. Records are keyed by that raw text: no parsing per read. */
static int record_lookup(struct curate *c, const char *text, struct cg_record **ret) {
        size_t b = hash_str(text) % c->nbuckets;
        for (struct cg_record *rec = c->buckets[b]; rec; rec = rec->next)
                if (streq(rec->key, text)) {
                        *ret = rec;
                        return 0;
                }
        _cleanup_(cg_reader_done) struct cg_reader reader = { 0 };
        int r = cg_reader_parse(&c->layout, text, &reader);
        if (r < 0)
                return r;
        struct cg_record *rec = record_get(c, &reader, text, b);
        if (!rec)
                return -ENOMEM;
        for (int v = 0; v < _VIEW_MAX; v++) {
                rec->limited[v] = reader_limited(&rec->reader, view_table[v].controllers);
                rec->dirs[v] = record_view_dirs(c, rec, v);
        }
        record_learn(c, rec, 0, NULL);
        *ret = rec;
        return 0;
}

void reader_hint_done(struct reader_hint *h) {
        free(h->cgroup_text);
        *h = (struct reader_hint){ 0 };
}

/* The /proc/PID/cgroup text of the reader: from the hint when fresh, else
 * read (into BUF, or *BIG when it does not fit) and remembered in the hint. */
static int reader_cgroup_text(struct curate *c, pid_t pid, struct reader_hint *hint, uint64_t now,
                              char *buf, size_t size, char **big, const char **ret) {
        if (hint && hint->cgroup_text && hint->pid == pid && ns_age(now, hint->checked_at) <= CACHE_TTL_NS) {
                *ret = hint->cgroup_text;
                return 0;
        }
        const char *text;
        int r = read_pid_cgroup(c, pid, buf, size, big, &text);
        if (r < 0)
                return r;
        if (hint) {
                char *d = strdup(text);
                if (d) {
                        free(hint->cgroup_text);
                        *hint = (struct reader_hint){ .pid = pid, .checked_at = now, .cgroup_text = d };
                }
        }
        *ret = text;
        return 0;
}

/* One look at the reader's cgroups and the view for them; -EAGAIN when the
 * reader moved meanwhile (a hint is then not trusted for the next look). */
static int render_once(struct curate *c, enum view_id v, pid_t pid, struct reader_hint *hint, uint64_t now,
                       bool fresh, struct snap **ret) {
        char text[4096];
        _cleanup_free_ char *big = NULL;
        const char *cg;
        struct cg_record *rec;
        int r;

        r = reader_cgroup_text(c, pid, hint, now, text, sizeof(text), &big, &cg);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : -EIO;
        pthread_mutex_lock(&c->lock);
        r = record_lookup(c, cg, &rec);
        if (r < 0) {
                pthread_mutex_unlock(&c->lock);
                return -EIO;
        }
        bool limited = rec->limited[v];
        if (v == VIEW_UPTIME && !limited)
                limited = pidns_inode(c->root_fd, pid) != c->self_pidns;
        if (limited)
                r = record_snapshot(c, rec, v, pid, cg, now, fresh, ret);
        else {
                rec->last_read = now;
                r = host_snapshot(c, v, now, ret);
        }
        pthread_mutex_unlock(&c->lock);
        return r;
}

static int render(struct curate *c, enum view_id v, pid_t pid, struct reader_hint *hint, bool fresh,
                  struct snap **ret) {
        uint64_t now = c->now();
        int r;

        if (v < 0 || v >= _VIEW_MAX)
                return -EINVAL;
        if (pid <= 0)
                /* The reader is outside the daemon's pid namespace: we cannot
                 * tell its cgroup, and must not fall back to host figures. */
                return -EIO;
        r = render_once(c, v, pid, hint, now, fresh, ret);
        if (r == -EAGAIN) {
                if (hint)
                        reader_hint_done(hint);
                r = render_once(c, v, pid, hint, now, fresh, ret);
        }
        if (r == -EAGAIN) {
                curate_log_once(c, MSG_CGROUP_GONE);
                r = -EIO;
        }
        return r;
}

int curate_render_hinted(struct curate *c, enum view_id v, pid_t pid, struct reader_hint *hint, struct snap **ret) {
        return render(c, v, pid, hint, false, ret);
}

int curate_render_fresh(struct curate *c, enum view_id v, pid_t pid, struct snap **ret) {
        return render(c, v, pid, NULL, true, ret);
}

int curate_render(struct curate *c, enum view_id v, pid_t pid, struct snap **ret) {
        return curate_render_hinted(c, v, pid, NULL, ret);
}

/* The views sysinfo(2) answers from, and whether REC's reader is limited in
 * each (uptime also when in a pid namespace of its own, as render_once). */
static const enum view_id sysinfo_views[] = { VIEW_MEMINFO, VIEW_LOADAVG, VIEW_UPTIME };

static unsigned sysinfo_limits(const struct cg_record *rec, uint64_t ns_ino, uint64_t self_ns,
                               bool limited[static _VIEW_MAX]) {
        unsigned dirs = 0;

        for (int v = 0; v < _VIEW_MAX; v++)
                limited[v] = false;
        for (size_t i = 0; i < ELEMENTSOF(sysinfo_views); i++) {
                enum view_id v = sysinfo_views[i];
                limited[v] = rec->limited[v];
                if (limited[v])
                        dirs |= rec->dirs[v];
        }
        if (!limited[VIEW_UPTIME] && ns_ino != self_ns) {
                limited[VIEW_UPTIME] = true;
                dirs |= rec->dirs[VIEW_UPTIME];
        }
        return dirs;
}

/* One look, as render_once() and record_snapshot(): the figures are of the
 * directories at the reader's paths before and after, and the reader is
 * still where TEXT says; -EAGAIN otherwise. An answer is kept for
 * CACHE_TTL_NS like a view's snapshot (per pid namespace: the uptime is
 * its init's), and served while the directories are the same. */
static int sysinfo_once(struct curate *c, pid_t pid, struct reader_hint *hint, const struct sysinfo *host,
                        struct sysinfo *ret) {
        struct cg_ident ids[_CG_CONTROLLER_MAX], after[_CG_CONTROLLER_MAX];
        char buf[4096];
        _cleanup_free_ char *big = NULL;
        bool limited[_VIEW_MAX];
        const char *text;
        struct cg_record *rec;
        uint64_t now = c->now(), ns_ino = pidns_inode(c->root_fd, pid);
        unsigned dirs;
        int r;

        r = reader_cgroup_text(c, pid, hint, now, buf, sizeof(buf), &big, &text);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : -EIO;
        pthread_mutex_lock(&c->lock);
        r = record_lookup(c, text, &rec);
        if (r < 0) {
                pthread_mutex_unlock(&c->lock);
                return -EIO;
        }
        rec->last_read = now;
        dirs = sysinfo_limits(rec, ns_ino, c->self_pidns, limited);
        if (record_stat_dirs(c, rec, dirs, ids) < 0) {
                r = reader_cgroup_gone(c);
                goto out;
        }
        if (!idents_match(rec->ident, ids, dirs))
                record_rebind(c, rec, dirs, ids);
        if (rec->sysinfo_at && ns_age(now, rec->sysinfo_at) <= CACHE_TTL_NS && rec->sysinfo_ns_ino == ns_ino) {
                *ret = rec->sysinfo;
                r = 0;
                goto out;
        }
        r = gather_sysinfo(c, rec, pid, limited, host, ret);
        if (r >= 0 && (record_stat_dirs(c, rec, dirs, after) < 0 || !idents_match(ids, after, dirs)))
                r = -EAGAIN;
        else if (r >= 0 && dirs && !reader_still_in(c, pid, text))
                r = -EAGAIN;
        else if (r >= 0) {
                rec->sysinfo = *ret;
                rec->sysinfo_at = now;
                rec->sysinfo_ns_ino = ns_ino;
        } else {
                char msg[512];
                snprintf(msg, sizeof(msg), "cannot compute sysinfo(2) for cgroup %s: %s; failing those calls with EIO",
                         rec->reader.path[CG_MEMORY] ? rec->reader.path[CG_MEMORY] : "?", strerror(-r));
                log_once(c, msg);
                r = -EIO;
        }
out:
        pthread_mutex_unlock(&c->lock);
        return r;
}

int curate_sysinfo_hinted(struct curate *c, pid_t pid, struct reader_hint *hint, struct sysinfo *ret) {
        struct sysinfo host;
        int r;

        if (pid <= 0)
                return -EIO; /* outside our pid namespace: cgroup unknown */
        if (sysinfo(&host) < 0)
                return -errno;
        r = sysinfo_once(c, pid, hint, &host, ret);
        if (r == -EAGAIN) {
                if (hint)
                        reader_hint_done(hint);
                r = sysinfo_once(c, pid, hint, &host, ret);
        }
        if (r == -EAGAIN) {
                curate_log_once(c, MSG_CGROUP_GONE);
                r = -EIO;
        }
        return r;
}

int curate_sysinfo(struct curate *c, pid_t pid, struct sysinfo *ret) {
        return curate_sysinfo_hinted(c, pid, NULL, ret);
}

size_t curate_nrecords(struct curate *c) {
        pthread_mutex_lock(&c->lock);
        size_t n = c->nrecords;
        pthread_mutex_unlock(&c->lock);
        return n;
}

/* Sample one record's load. Called with the lock held; the per-task reads
 * are cheap (one pread of /proc/TID/stat each) and bounded by the tasks of
 * cgroups that were read recently. */
static int record_sample(struct curate *c, struct cg_record *rec, uint64_t now) {
        unsigned running, blocked, total;

        int r = gather_tasks(c, &rec->reader, &running, &blocked, &total, NULL);
        if (r < 0)
                return r;
        loadavg_sample(&rec->load, running + blocked);
        rec->load_sampled_at = now;
        return 0;
}

void curate_sample(struct curate *c) {
        uint64_t now = c->now();

        pthread_mutex_lock(&c->lock);
        for (size_t b = 0; b < c->nbuckets; b++) {
                struct cg_record **pp = &c->buckets[b];
                while (*pp) {
                        struct cg_record *rec = *pp;
                        /* a cgroup removed, or removed and made again, is
                         * forgotten: a reader in the new one starts afresh */
                        bool sampled = !cg_reader_is_root(&rec->reader, CG_CPU);
                        bool gone = ns_age(now, rec->last_read) > RECORD_IDLE_NS || record_check(c, rec) < 0 ||
                                    (sampled && record_sample(c, rec, now) == -ENOENT);
                        if (gone) {
                                *pp = rec->next;
                                record_free(rec);
                                c->nrecords--;
                                continue;
                        }
                        pp = &rec->next;
                }
        }
        pthread_mutex_unlock(&c->lock);
}

static void *sampler_main(void *arg) {
        struct curate *c = arg;
        struct timespec deadline;

        clock_gettime(CLOCK_MONOTONIC, &deadline);
        pthread_mutex_lock(&c->stop_lock);
        while (!c->stopping) {
                deadline.tv_sec += LOAD_FREQ_SEC;
                while (!c->stopping &&
                       pthread_cond_timedwait(&c->stop_cond, &c->stop_lock, &deadline) != ETIMEDOUT)
                        ;
                if (c->stopping)
                        break;
                pthread_mutex_unlock(&c->stop_lock);
                curate_sample(c);
                if (c->sweep)
                        c->sweep(c);
                /* after the device registrations' sweep, which removes the
                 * cgroups of the device runs it drops */
                (void)runs_sweep(c);
                /* what the passes above freed goes back to the kernel:
                 * snapshots are made by the serving threads (each with its
                 * own malloc arena) and dropped here, and without this those
                 * arenas kept the freed pages resident (the crash test's
                 * soak: 2 MiB over 500 launches) */
                (void)malloc_trim(0);
                if (c->heap_in_use) {
                        struct mallinfo2 mi = mallinfo2();
                        atomic_store_explicit(c->heap_in_use, (uint64_t)(mi.uordblks + mi.hblkhd),
                                              memory_order_relaxed);
                }
                pthread_mutex_lock(&c->stop_lock);
        }
        pthread_mutex_unlock(&c->stop_lock);
        return NULL;
}

int curate_start_sampler(struct curate *c) {
        pthread_condattr_t a;
        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_destroy(&c->stop_cond);
        pthread_cond_init(&c->stop_cond, &a);
        pthread_condattr_destroy(&a);
        int r = pthread_create(&c->sampler, NULL, sampler_main, c);
        if (r)
                return -r;
        c->sampler_running = true;
        return 0;
}
