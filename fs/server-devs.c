#include "config.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cnodes.h"
#include "cputree.h"
#include "devs.h"
#include "server-internal.h"

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

bool is_devs_ino(fuse_ino_t ino) {
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
        /* and the c/ nodes' snapshots of containers gone quiet */
        cnode_drop_idle();
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

void devs_lookup_id(fuse_req_t req, const char *id) {
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

void devs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
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

void devs_getattr(fuse_req_t req, fuse_ino_t ino) {
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

void devs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off) {
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
void devs_open_like(fuse_req_t req, fuse_ino_t ino, enum dnode_kind want, struct fuse_file_info *fi) {
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
