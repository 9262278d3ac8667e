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
#include "cnodes.h"
#include "devs.h"
#include "journal.h"
#include "server.h"

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
#define N_DIR(n, p, m)  { .name = n, .parent = p, .kind = NODE_DIR, .perm = m }
#define N_VIEW(n, p, v) { .name = n, .parent = p, .kind = NODE_VIEW, .view = v }
#define N_DEV(n, d)     { .name = n, .parent = INO_DEV, .kind = NODE_DEV, .dev = d }
#define N_LINK(n, t)    { .name = n, .parent = INO_DEV, .kind = NODE_LINK, .target = t }
#define N_PSI(n, v)     { .name = n, .parent = INO_PRESSURE, .kind = NODE_VIEW, .view = v, .psi = true }
static const struct node nodes[] = {
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
        /* per-container copies of dev/ live below it (the devs_* code) */
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
        /* per-container copies of the views live below it (the cnode_* code) */
        [INO_C - 1]       = N_DIR("c", INO_ROOT, 0555),
};
#define NNODES ELEMENTSOF(nodes)
_Static_assert(INO_PRESSURE <= NNODES, "the pressure directory is in the table");
_Static_assert(NNODES == INO_C, "c is the last node");
/* The tree never changes and every reader sees the same names and modes, so
 * the kernel may cache entries and attributes for long; contents are never
 * cached (direct_io). */
#define ATTR_TIMEOUT 86400.0

static const struct node *node_get(fuse_ino_t ino) {
        return ino >= 1 && ino <= NNODES ? &nodes[ino - 1] : NULL;
}

static bool host_has_psi(const struct curate *c) {
        static atomic_int known = -1; /* the host's kernel does not change */
        struct stat st;
        if (known < 0)
                known = fstatat(c->root_fd, "proc/pressure/cpu", &st, 0) == 0;
        return known;
}

/* Does the node exist? Only a device the host lacks does not, and
 * proc/pressure where the host kernel has no PSI. Per-container device sets
 * are served under devs/ (below), whose nodes are never cached. */
static bool node_visible(const struct curate *c, const struct node *n) {
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

static struct curate *ctx_of(fuse_req_t req) {
        return fuse_req_userdata(req);
}

/* ---- MOUNTPOINT/devs/<id>: per-container /dev trees ---------------------
 * Each is dev/'s nodes plus the ones the launcher registered in
 * CURATE_DEVICES_DIR/<id>, shown only to readers in the cgroup curate/<id>
 * (or in the root cgroup everywhere). The kernel's dentry and attribute
 * caches are shared by every reader, so nothing below devs/ may be cached:
 * timeouts are 0 and a missing name is an error reply, never a negative
 * entry, which makes every path walk ask again (fuse_dentry_revalidate).
 *
 * Inodes are DEVS_INO_BASE + serial * 65536 + node index (devs.h). The
 * serving process may be killed and replaced at any moment on the same
 * connection, so a serial is never a per-process counter: it is a 47-bit
 * hash of facts every process sees alike, and a fresh process gives the
 * same tree the same numbers.
 * - A load's serial (the registered nodes') hashes the root serial, the id,
 *   the names of dev/'s own nodes (where the registered ones start) and the
 *   registration's text: every load of different content takes a different
 *   serial, so an inode of a dropped or reloaded tree is stale and never
 *   names another tree's node. Two trees share a serial only by a 47-bit
 *   collision: with 10,000 trees alive at once about 1 chance in 3 million,
 *   and even then only a reader allowed the other id's tree could be
 *   served it (the reader check is by id, after the match).
 * - The tree's root and dev/'s own nodes below it (built first, in the
 *   fixed table's order, hidden where the host lacks the device, so each
 *   keeps its index in every process and every load) take the root serial,
 *   which lasts as long as the container (devs_root_serial): the root is
 *   the container's /dev bind mount and pts, shm and mqueue carry its
 *   devpts, tmpfs and mqueue mounts, which must survive a hot-plug (`curate
 *   device add|remove` rewrites the registration) and a restart of the
 *   serving process: a new inode number there would fail revalidation and
 *   d_invalidate() detaches what is mounted on an invalidated dentry.
 * Those unchanging nodes are cached for DEVS_BASE_TIMEOUT (they are the
 * same in every tree, so no cache of them tells one container anything of
 * another's), except the tree's own entry in devs/, the gate every walk
 * into a tree passes: always asked again. */
#define DEVS_BASE_TIMEOUT 1.0
/* one slot per registration in use; grown as needed, up to DEVS_SLOTS_MAX,
 * past which the least recently loaded is dropped (it reloads when asked,
 * with the same inodes) */
#define DEVS_SLOTS_MIN 64
#define DEVS_SLOTS_MAX 65536
struct devs_slot {
        char id[REG_ID_MAX + 1];
        uint64_t serial;        /* the registered nodes'; 0: free */
        uint64_t root_serial;   /* the root's and dev/'s own: the container's */
        uint64_t loaded;        /* devs_loads at its load: the least recent is dropped first */
        size_t n_base;          /* nodes 0 .. n_base-1: the root and dev/'s own */
        struct stat key;        /* the file as loaded: reloaded when it changes */
        int error;              /* -EIO: the registration is malformed */
        struct devs_tree tree;
};
static pthread_mutex_t devs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct devs_slot *devs_slots;
static size_t devs_n_slots;
static uint64_t devs_loads;
/* the registration directory as it was when every registration in it was
 * loaded (devs_scan_for), and whether the slots still hold them all */
static struct stat devs_scan_key;
static bool devs_scan_complete;

static bool is_devs_ino(fuse_ino_t ino) {
        return ino >= DEVS_INO_BASE && !cnodes_is_ino(ino) && !cputree_is_ino(ino);
}

static uint64_t devs_serial_of(const struct devs_slot *s, size_t index) {
        return index < s->n_base ? s->root_serial : s->serial;
}

static fuse_ino_t devs_ino(const struct devs_slot *s, size_t index) {
        return devs_ino_make(devs_serial_of(s, index), index);
}

static bool same_file(const struct stat *a, const struct stat *b) {
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
               a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static bool same_dir(const struct stat *a, const struct stat *b) {
        return same_file(a, b) && a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void slot_drop(struct devs_slot *s) {
        devs_tree_done(&s->tree);
        *s = (struct devs_slot){ 0 };
}

static struct devs_slot *slot_by_id(const char *id) {
        for (size_t i = 0; i < devs_n_slots; i++)
                if (devs_slots[i].serial && streq(devs_slots[i].id, id))
                        return &devs_slots[i];
        return NULL;
}

/* A free slot: an unused one, else a new one, else (at DEVS_SLOTS_MAX or
 * out of memory) the least recently loaded, dropped. NULL only when there
 * is no slot at all. */
static struct devs_slot *slot_free(void) {
        struct devs_slot *old = NULL;

        for (size_t i = 0; i < devs_n_slots; i++) {
                if (!devs_slots[i].serial)
                        return &devs_slots[i];
                if (!old || devs_slots[i].loaded < old->loaded)
                        old = &devs_slots[i];
        }
        if (devs_n_slots < DEVS_SLOTS_MAX) {
                size_t was = devs_n_slots, n = was ? was * 2 : DEVS_SLOTS_MIN;
                struct devs_slot *grown = realloc(devs_slots, n * sizeof(*grown));
                if (grown) {
                        memset(grown + was, 0, (n - was) * sizeof(*grown));
                        devs_slots = grown;
                        devs_n_slots = n;
                        return &devs_slots[was];
                }
                if (!old)
                        return NULL;
                old = &devs_slots[old - devs_slots]; /* realloc failed: the array did not move */
        }
        slot_drop(old);
        devs_scan_complete = false; /* a registration is no longer loaded */
        return old;
}

/* dev/'s own nodes, as the root of a tree: every one the fixed table has,
 * in its order, those the host lacks hidden, so that a node's index does
 * not depend on what this process found on the host */
static int tree_add_dev(struct curate *c, struct devs_tree *t) {
        int r = devs_tree_add(t, 0, "", DNODE_DIR, S_IFDIR | nodes[INO_DEV - 1].perm, 0, NULL);
        for (size_t i = 0; r >= 0 && i < NNODES; i++) {
                const struct node *n = &nodes[i];
                if (n->parent != INO_DEV)
                        continue;
                if (n->kind == NODE_DEV && node_visible(c, n))
                        r = devs_tree_add(t, 0, n->name, DNODE_DEV, c->dev[n->dev].mode, c->dev[n->dev].rdev, NULL);
                else if (n->kind == NODE_DEV)
                        r = devs_tree_add(t, 0, n->name, DNODE_DEV, S_IFCHR, 0, NULL);
                else if (n->kind == NODE_DIR)
                        r = devs_tree_add(t, 0, n->name, DNODE_DIR, S_IFDIR | n->perm, 0, NULL);
                else
                        r = devs_tree_add(t, 0, n->name, DNODE_LINK, S_IFLNK | 0777, 0, n->target);
                if (r >= 0)
                        t->n[r].hidden = !node_visible(c, n);
        }
        return r < 0 ? r : 0;
}

/* The serial of a load of S (root serial and id set, dev/'s nodes built)
 * from the registration's TEXT. */
static uint64_t devs_load_serial(const struct devs_slot *s, const char *text, size_t len) {
        uint64_t h = devs_hash(DEVS_HASH_INIT, "load", 5);
        h = devs_hash(h, &s->root_serial, sizeof(s->root_serial));
        h = devs_hash(h, s->id, strlen(s->id) + 1);
        for (size_t i = 0; i < s->n_base; i++)
                h = devs_hash(h, s->tree.n[i].name, strlen(s->tree.n[i].name) + 1);
        return devs_serial_of_hash(devs_hash(h, text, len));
}

/* The root serial of ID: a hash of the id and of the identity of its cgroup
 * curate/<id> in the hierarchy the device cgroup lives in (v1 devices, else
 * the unified one; the one devs_container_state goes by). The launcher
 * makes that cgroup before it registers and removes it after the
 * registration, and a hot-plug rewrites only the registration, by rename,
 * which gives the file a new inode number (so the file cannot be the key),
 * while the cgroup directory keeps its own: the serial lasts exactly as
 * long as the container. A later container of the same id has a new
 * cgroup directory and so a new root inode (kernfs numbers its inodes
 * cyclically: reused only after 2^31 cgroups in that hierarchy). Without
 * the cgroup (no device hierarchy, or the container is gone and the sweep
 * will drop its registration) the id alone is the key. */
static int devs_root_serial(struct curate *c, const char *id, uint64_t *ret) {
        const struct cg_layout *l = &c->layout;
        const int at[] = { l->devices, l->unified };
        char path[REG_ID_MAX + 16];
        uint64_t h = devs_hash(DEVS_HASH_INIT, "root", 5);

        h = devs_hash(h, id, strlen(id) + 1);
        snprintf(path, sizeof(path), "curate/%.*s", REG_ID_MAX, id);
        for (size_t i = 0; i < ELEMENTSOF(at); i++) {
                if (at[i] < 0)
                        continue;
                _cleanup_close_ int fd = cg_open_dir(&l->hier[at[i]], path);
                struct stat st;
                if (fd == -ENOENT)
                        continue;
                if (fd < 0)
                        return fd;
                if (fstat(fd, &st) < 0)
                        return -errno;
                uint64_t key[2] = { st.st_dev, st.st_ino };
                h = devs_hash(h, key, sizeof(key));
                break;
        }
        *ret = devs_serial_of_hash(h);
        return 0;
}

/* Parse TEXT into S's tree and take its serial; a malformed registration is
 * logged once and leaves S->error = -EIO. */
static void slot_build(struct curate *c, struct devs_slot *s, const char *path, const char *text, size_t len) {
        struct reg_entry *e = NULL;
        unsigned line = 0;
        size_t bad = 0;
        char msg[4096 + 512];
        int r = tree_add_dev(c, &s->tree);
        int n = r < 0 ? r : reg_parse(text, &e, &line);

        s->n_base = s->tree.len;
        s->serial = devs_load_serial(s, text, len);
        r = n;
        if (r >= 0)
                r = devs_tree_add_entries(&s->tree, e, n, &bad);
        if (n == -EINVAL)
                snprintf(msg, sizeof(msg), "device registration %s:%u: malformed line; its readers get EIO", path, line);
        else if (r == -EEXIST)
                snprintf(msg, sizeof(msg), "device registration %s: '%s' names an existing node; its readers get EIO",
                         path, e[bad].path);
        else if (r < 0)
                snprintf(msg, sizeof(msg), "device registration %s: %s; its readers get EIO", path, strerror(-r));
        if (r < 0) {
                curate_log_once(c, msg);
                devs_tree_done(&s->tree);
                s->error = -EIO;
        }
        reg_entries_free(e, n > 0 ? n : 0);
}

/* The loaded tree of ID, (re)read when its file changed. Called locked. */
static int devs_load(struct curate *c, const char *id, struct devs_slot **ret) {
        char path[4096];
        struct stat st;
        struct devs_slot *s = slot_by_id(id);

        snprintf(path, sizeof(path), "%s/%s", device_registration_dir(), id);
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
                if (s)
                        slot_drop(s);
                return -ENOENT;
        }
        if (!s || !same_file(&s->key, &st)) {
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                uint64_t root = 0;
                int r = read_file_at(AT_FDCWD, path, &text, &len);
                if (r < 0)
                        return r == -ENOENT ? -ENOENT : -EIO;
                if (devs_root_serial(c, id, &root) < 0)
                        return -EIO;
                if (s)
                        slot_drop(s);
                s = slot_free();
                if (!s)
                        return -ENOMEM;
                snprintf(s->id, sizeof(s->id), "%s", id);
                s->root_serial = root;
                s->loaded = ++devs_loads;
                s->key = st;
                slot_build(c, s, path, text, len);
        }
        if (s->error < 0)
                return s->error;
        *ret = s;
        return 0;
}

/* ---- registrations whose container is gone ----
 * curate run makes its cgroup curate/<id> before it registers and removes
 * the registration before the cgroup, so while the cgroup exists in the
 * hierarchy the device cgroup lives in (v1 devices, else the unified one)
 * the container may be alive. A launcher killed with SIGKILL cannot clean
 * up: its command dies with it (PDEATHSIG) and leaves the cgroup empty;
 * when the launcher of "run-PID" is gone too and nothing runs in the
 * cgroup, the registration is dropped and the empty cgroups removed. */
enum { DEVS_ALIVE, DEVS_GONE, DEVS_ABANDONED };

static int devs_container_state(struct curate *c, const char *id) {
        const struct cg_layout *l = &c->layout;
        const int at[] = { l->devices, l->unified };
        const struct cg_hier *h = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        char path[REG_ID_MAX + 16], tail;
        size_t n = 0;
        bool any = false;
        int pid;

        snprintf(path, sizeof(path), "curate/%.*s", REG_ID_MAX, id);
        for (size_t i = 0; i < ELEMENTSOF(at) && !h; i++) {
                if (at[i] < 0)
                        continue;
                any = true;
                int fd = cg_open_dir(&l->hier[at[i]], path);
                if (fd >= 0 || fd != -ENOENT)
                        h = &l->hier[at[i]];
                if (fd >= 0)
                        close(fd);
        }
        if (!any)
                return DEVS_ALIVE; /* no device cgroup at all: nothing to go by */
        if (!h)
                return DEVS_GONE;
        if (sscanf(id, "run-%d%c", &pid, &tail) != 1 || pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH)
                return DEVS_ALIVE;
        if (h->ops->procs(h, path, &pids, &n) < 0 || n > 0)
                return DEVS_ALIVE;
        return DEVS_ABANDONED;
}

/* rmdir curate/<id> (and any empty children) in every hierarchy */
static void devs_remove_cgroups(struct curate *c, const char *id) {
        for (int i = 0; i < c->layout.n; i++) {
                _cleanup_close_ int fd = cg_open_dir(&c->layout.hier[i], "curate");
                if (fd >= 0)
                        (void)unlinkat(fd, id, AT_REMOVEDIR);
        }
}

static void devs_drop(struct curate *c, const char *id, int state) {
        char msg[512];
        struct devs_slot *s;

        if (reg_remove(id) < 0)
                return;
        pthread_mutex_lock(&devs_lock);
        if ((s = slot_by_id(id)))
                slot_drop(s);
        pthread_mutex_unlock(&devs_lock);
        if (state == DEVS_ABANDONED)
                devs_remove_cgroups(c, id);
        snprintf(msg, sizeof(msg), "dropped the device registration of %s: %s", id,
                 state == DEVS_GONE ? "its cgroup is gone" : "its launcher was killed and its cgroup is empty");
        c->log(msg);
}

/* The sampler's pass over every registration (every few seconds). */
static void devs_sweep(struct curate *c) {
        _cleanup_closedir_ DIR *d = opendir(device_registration_dir());
        struct dirent *de;

        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.' && reg_id_valid(de->d_name)) {
                        int state = devs_container_state(c, de->d_name);
                        if (state != DEVS_ALIVE)
                                devs_drop(c, de->d_name, state);
                }
}

void curatefs_enable_sweep(struct curate *c) {
        c->sweep = devs_sweep;
        devs_sweep(c);
}

/* May the request's reader see ID's tree? */
static int devs_check_reader(fuse_req_t req, const char *id) {
        _cleanup_free_ char *text = NULL;
        if (curate_reader_cgroup(ctx_of(req), fuse_req_ctx(req)->pid, &text) < 0)
                return -ENOENT;
        return devs_reader_allowed(text, id) ? 0 : -ENOENT;
}

/* The id of the loaded tree whose node INDEX has SERIAL, into ID. Locked. */
static bool devs_find_serial(uint64_t serial, size_t index, char id[static REG_ID_MAX + 1]) {
        for (size_t i = 0; i < devs_n_slots; i++)
                if (devs_slots[i].serial && devs_serial_of(&devs_slots[i], index) == serial) {
                        memcpy(id, devs_slots[i].id, REG_ID_MAX + 1);
                        return true;
                }
        return false;
}

/* A devs inode that no loaded tree has: one a serving process before us
 * handed out (we were started after it was killed, or the tree was dropped
 * from its slot), or a stale one. Load every registration until one gives
 * SERIAL; the trees loaded stay loaded, so after a restart this runs about
 * once. A stale inode (an open device node of a tree reloaded since) would
 * scan again on every GETATTR, so once every registration is loaded the
 * directory's identity and times are kept, and while they are unchanged
 * (no registration made, rewritten or removed since) a miss is stale at
 * the cost of one stat. */
static bool devs_scan_for(struct curate *c, uint64_t serial, size_t index, char id[static REG_ID_MAX + 1]) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        struct stat before;
        bool found = false, complete = true;

        if (stat(device_registration_dir(), &before) < 0)
                return false;
        pthread_mutex_lock(&devs_lock);
        bool unchanged = devs_scan_complete && same_dir(&devs_scan_key, &before);
        pthread_mutex_unlock(&devs_lock);
        if (unchanged || !(d = opendir(device_registration_dir())))
                return false;
        while (!found && (de = readdir(d))) {
                struct devs_slot *s;
                if (de->d_name[0] == '.' || !reg_id_valid(de->d_name))
                        continue;
                pthread_mutex_lock(&devs_lock);
                int r = devs_load(c, de->d_name, &s);
                /* a malformed tree too: its nodes answer EIO, as they would have */
                if (r == -EIO && (s = slot_by_id(de->d_name)))
                        r = 0;
                if (r == 0 && devs_serial_of(s, index) == serial) {
                        memcpy(id, s->id, REG_ID_MAX + 1);
                        found = true;
                }
                complete = complete && (r == 0 || r == -ENOENT);
                pthread_mutex_unlock(&devs_lock);
        }
        if (!found && complete) {
                /* taken before the scan: a change during it makes the next miss scan again */
                pthread_mutex_lock(&devs_lock);
                devs_scan_key = before;
                devs_scan_complete = true;
                pthread_mutex_unlock(&devs_lock);
        }
        return found;
}

/* Resolve a devs inode for the request's reader. On success devs_lock is
 * held and *ret_slot, *ret_index name a current node. */
static int devs_resolve(fuse_req_t req, fuse_ino_t ino, struct devs_slot **ret_slot, size_t *ret_index) {
        char id[REG_ID_MAX + 1] = "";
        struct devs_slot *s;
        uint64_t serial;
        size_t index;
        int r;

        if (!devs_ino_split(ino, &serial, &index))
                return -ESTALE;
        pthread_mutex_lock(&devs_lock);
        bool found = devs_find_serial(serial, index, id);
        pthread_mutex_unlock(&devs_lock);
        if (!found && !devs_scan_for(ctx_of(req), serial, index, id))
                return -ESTALE;
        r = devs_check_reader(req, id);
        if (r < 0)
                return r;
        pthread_mutex_lock(&devs_lock);
        r = devs_load(ctx_of(req), id, &s);
        if (r >= 0 && (devs_serial_of(s, index) != serial || index >= s->tree.len || s->tree.n[index].hidden))
                r = -ESTALE;
        if (r < 0) {
                pthread_mutex_unlock(&devs_lock);
                return r;
        }
        *ret_slot = s;
        *ret_index = index;
        return 0;
}

static void dnode_stat(const struct devs_slot *s, size_t index, struct stat *st) {
        const struct dnode *n = &s->tree.n[index];
        *st = (struct stat){ .st_ino = devs_ino(s, index), .st_mode = n->mode, .st_nlink = n->kind == DNODE_DIR ? 2 : 1 };
        if (n->kind == DNODE_DEV)
                st->st_rdev = n->rdev;
        if (n->kind == DNODE_LINK)
                st->st_size = strlen(n->target);
}

static void devs_reply_entry(fuse_req_t req, const struct devs_slot *s, size_t index) {
        struct fuse_entry_param e = { .ino = devs_ino(s, index), .generation = devs_serial_of(s, index) };
        /* the gate (the tree's own entry, index 0) is never cached */
        if (index > 0 && index < s->n_base)
                e.entry_timeout = DEVS_BASE_TIMEOUT;
        if (index < s->n_base)
                e.attr_timeout = DEVS_BASE_TIMEOUT;
        dnode_stat(s, index, &e.attr);
        fuse_reply_entry(req, &e);
}

static void devs_lookup_id(fuse_req_t req, const char *id) {
        struct devs_slot *s;
        int r = reg_id_valid(id) ? devs_check_reader(req, id) : -ENOENT;
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        pthread_mutex_lock(&devs_lock);
        r = devs_load(ctx_of(req), id, &s);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                devs_reply_entry(req, s, 0);
        pthread_mutex_unlock(&devs_lock);
}

static void devs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
        struct devs_slot *s;
        size_t dir;
        int r = devs_resolve(req, parent, &s, &dir);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        int i = s->tree.n[dir].kind == DNODE_DIR ? devs_tree_find(&s->tree, dir, name) : -ENOTDIR;
        if (i < 0)
                fuse_reply_err(req, -i);
        else
                devs_reply_entry(req, s, i);
        pthread_mutex_unlock(&devs_lock);
}

static void devs_getattr(fuse_req_t req, fuse_ino_t ino) {
        struct devs_slot *s;
        size_t index;
        struct stat st;
        int r = devs_resolve(req, ino, &s, &index);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        dnode_stat(s, index, &st);
        fuse_reply_attr(req, &st, index < s->n_base ? DEVS_BASE_TIMEOUT : 0);
        pthread_mutex_unlock(&devs_lock);
}

static void devs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off) {
        struct devs_slot *s;
        size_t dir, len = 0;
        char buf[4096];
        int r = devs_resolve(req, ino, &s, &dir);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        if (s->tree.n[dir].kind != DNODE_DIR) {
                pthread_mutex_unlock(&devs_lock);
                fuse_reply_err(req, ENOTDIR);
                return;
        }
        if (size > sizeof(buf))
                size = sizeof(buf);
        /* offsets: 1 ".", 2 "..", then i + 1 for node i >= 1 */
        for (off_t i = off; i < (off_t)s->tree.len + 1; i++) {
                struct stat st = { .st_mode = S_IFDIR };
                const char *name;
                if (i == 0) {
                        name = ".";
                        st.st_ino = ino;
                } else if (i == 1) {
                        name = "..";
                        st.st_ino = dir == 0 ? INO_DEVS : devs_ino(s, s->tree.n[dir].parent);
                } else {
                        size_t n = i - 1;
                        if (s->tree.n[n].parent != dir || s->tree.n[n].hidden)
                                continue;
                        name = s->tree.n[n].name;
                        dnode_stat(s, n, &st);
                }
                size_t need = fuse_add_direntry(req, buf + len, size - len, name, &st, i + 1);
                if (need > size - len)
                        break;
                len += need;
        }
        fuse_reply_buf(req, buf, len);
        pthread_mutex_unlock(&devs_lock);
}

/* open, opendir and readlink: ask again, then answer by kind */
static void devs_open_like(fuse_req_t req, fuse_ino_t ino, enum dnode_kind want, struct fuse_file_info *fi) {
        struct devs_slot *s;
        size_t index;
        int r = devs_resolve(req, ino, &s, &index);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        enum dnode_kind k = s->tree.n[index].kind;
        if (k == want && want == DNODE_LINK)
                fuse_reply_readlink(req, s->tree.n[index].target);
        else if (k == want && want == DNODE_DIR)
                fuse_reply_open(req, fi);
        else if (want == DNODE_LINK)
                fuse_reply_err(req, EINVAL);
        else
                /* open of a file here: a device never gets here (the kernel
                 * opens it), so it is a directory */
                fuse_reply_err(req, want == DNODE_DIR ? ENOTDIR : k == DNODE_DIR ? EISDIR : ENXIO);
        pthread_mutex_unlock(&devs_lock);
}

/* the c/<id>/ nodes (below, after the file handles they use) */
static void cnode_lookup_id(fuse_req_t req, const char *id);
static void cnode_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
static void cnode_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
static void cnode_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off);
static void cnode_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

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
        for (size_t i = 0; i < NNODES; i++) {
                if (i + 1 == INO_ROOT || nodes[i].parent != parent || !streq(nodes[i].name, name) ||
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
static void cpu_readdir(fuse_req_t req, const char *id, fuse_ino_t ino, size_t size, off_t off) {
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
                        node_stat(c, n + 1, &st);
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
#define FH_CN_LEN_BITS 21
#define FH_CN_LEN_UNKNOWN ((1ULL << FH_CN_LEN_BITS) - 1) /* 2 MiB or more */
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
static size_t fh_cn_len(uint64_t fh) {
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
static struct handle *fh_own(uint64_t fh) {
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

static void handle_free(struct handle *h) {
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
static int handle_add(enum view_id view, struct snap *snap, bool slot, struct handle **ret) {
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
 * Entry and attribute timeouts are 0: names and sizes are asked again on
 * every walk. */
struct cn_entry {
        uint64_t serial;
        enum view_id view;
        struct snap *snap;       /* the snapshot whose length is reported */
        char *owner;             /* the /proc/PID/cgroup text it was rendered for */
        uint64_t epoch;          /* bumped when it is replaced */
        bool reported;           /* its length went to the kernel */
        struct cnode_clock clock;
        pid_t reported_pid;      /* whose size query has not opened yet */
        unsigned refs;           /* handles pointing here, of any epoch */
        uint64_t used_at;
        struct cn_entry *next;
};
#define CN_BUCKETS 256
#define CN_IDLE_NS (60 * 1000000000ULL)
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

/* The entry of (SERIAL, VIEW), made when missing; dropping idle ones met on
 * the way. Locked. */
static struct cn_entry *cn_entry_get(uint64_t serial, enum view_id view, uint64_t now) {
        struct cn_entry **pp = &cn_buckets[(serial * 31 + view) % CN_BUCKETS], *e;

        while ((e = *pp)) {
                if (e->serial == serial && e->view == view)
                        return e;
                if (e->refs == 0 && now - e->used_at > CN_IDLE_NS) {
                        *pp = e->next;
                        snap_unref(e->snap);
                        free(e->owner);
                        free(e);
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

/* The snapshot whose length the node reports now, rendered for PID (whose
 * /proc/PID/cgroup is TEXT) when missing, or when due (REPLACE) and PID is
 * in the cgroup it was rendered for: the page cache is the node's, one for
 * the container, and its figures are those of one cgroup; a reader of
 * another (a --delegate child's child) takes it over only once it is over
 * CNODE_PIN_MAX_NS old. REPORT: its size goes to the kernel. Locked. */
static int cn_current(struct curate *c, struct cn_entry *e, pid_t pid, const char *text, bool replace, bool report,
                      uint64_t now) {
        bool own = !e->owner || streq(e->owner, text);
        if (!e->snap || (replace && cnodes_snapshot_due(&e->clock, now, CACHE_TTL_NS) &&
                         (own || now - e->clock.rendered_at > CNODE_PIN_MAX_NS))) {
                struct snap *s;
                char *o = strdup(text);
                int r = o ? curate_render_hinted(c, e->view, pid, NULL, &s) : -ENOMEM;
                if (r < 0) {
                        free(o);
                        return r == -ESRCH ? -ESRCH : -EIO;
                }
                snap_unref(e->snap);
                free(e->owner);
                e->snap = s;
                e->owner = o;
                e->epoch++;
                e->reported = false;
                e->clock = (struct cnode_clock){ .rendered_at = now };
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
        uint64_t now = now_monotonic_ns();
        int r = -ENOMEM;

        pthread_mutex_lock(&cn_lock);
        struct cn_entry *e = cn_entry_get(serial, nodes[index].view, now);
        if (e)
                r = cn_current(c, e, pid, text, true, false, now);
        if (r >= 0) {
                *ret_report = (struct cn_report){ .serial = serial, .epoch = e->epoch, .view = e->view, .first = !e->reported };
                r = cn_current(c, e, pid, text, false, true, now);
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

static void cnode_reply_entry(fuse_req_t req, const char *id, size_t index, const char *text) {
        struct fuse_entry_param e = { .ino = cnodes_ino(cnodes_serial(id), index) };
        struct cn_report report;
        int r = cnode_attr(req, id, index, text, &e.attr, &report);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                cnode_unreport(&report, fuse_reply_entry(req, &e));
}

/* c/<ID>: only for a reader in that container */
static void cnode_lookup_id(fuse_req_t req, const char *id) {
        _cleanup_free_ char *text = NULL;
        if (!reg_id_valid(id) || curate_reader_cgroup(ctx_of(req), fuse_req_ctx(req)->pid, &text) < 0 ||
            !cnodes_reader_in(text, id)) {
                fuse_reply_err(req, ENOENT);
                return;
        }
        cnode_reply_entry(req, id, INO_ROOT - 1, text);
}

static void cnode_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
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

static void cnode_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
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
                cnode_unreport(&report, fuse_reply_attr(req, &st, 0));
}

static void cnode_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off) {
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

static void cnode_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
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
                if (cn_stale[i].pid == pid && cn_stale[i].ino == ino && now - cn_stale[i].at <= CN_STALE_NS) {
                        cn_stale[i].pid = 0;
                        return true;
                }
        cn_stale[cn_stale_next] = (typeof(cn_stale[0])){ .pid = pid, .ino = ino, .at = now };
        cn_stale_next = (cn_stale_next + 1) % CN_STALE_RING;
        return false;
}

/* OPEN: a handle on the snapshot whose length the kernel was told, pinned
 * until the handle moves to fresh figures or is released. */
static int cnode_open_handle(fuse_req_t req, fuse_ino_t ino, struct handle **ret) {
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
                r = cn_current(ctx_of(req), e, pid, text, false, false, now);
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
static void cnode_unpin(struct handle *h) {
        if (!h->cn)
                return;
        pthread_mutex_lock(&cn_lock);
        cnode_unpin_locked(h);
        pthread_mutex_unlock(&cn_lock);
}

/* ... or is released (or its open failed). */
static void cnode_release(struct handle *h) {
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
        pthread_mutex_lock(&cn_lock);
        struct cn_entry *e = cn_entry_get(cnodes_serial(id), nodes[index].view, now);
        r = e ? cn_current(ctx_of(req), e, fuse_req_ctx(req)->pid, text, false, false, now) : -ENOMEM;
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
static bool cnode_read_special(fuse_req_t req, fuse_ino_t ino, struct handle *h, struct fuse_file_info *fi,
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
        /* The links never change: let the kernel keep their targets in the
         * page cache instead of asking READLINK on every /dev/stdout. */
        if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
                conn->want |= FUSE_CAP_CACHE_SYMLINKS;
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

