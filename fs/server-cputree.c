#include "config.h"
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cnodes.h"
#include "curatefs.h"
#include "server-cputree.h"

#define MAP_BUCKETS 4096
/* Each container's tree has inodes of its own, so the paths learned grow
 * with every container that looks: past this many the map starts afresh
 * (a walk finds any path again). */
#define MAP_MAX 16384
/* How long the kernel may keep what is the same for every reader who gets
 * there (cputree_same_for_all): entries below a gate and the attributes of
 * directories and plain files. A gate's entry and a per-reader file's
 * attributes (in c/<id>/ its size is its rendering's) are never kept. */
#define SHARED_TIMEOUT 1.0

static double entry_timeout(const char *rel) {
        return cputree_is_gate(rel) ? 0 : SHARED_TIMEOUT;
}

static double attr_timeout(const char *rel, mode_t mode) {
        return cputree_same_for_all(rel, mode) ? SHARED_TIMEOUT : 0;
}

/* inode -> path below the cpu directory, for every inode handed out */
struct known {
        fuse_ino_t ino;
        struct known *next;
        char rel[];
};
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static struct known *map[MAP_BUCKETS];
static size_t map_len;
static int host_dir = -EBADF; /* the host's CPUTREE_HOST_DIR, O_PATH */

static struct curate *ctx_of(fuse_req_t req) {
        return fuse_req_userdata(req);
}

static int host_cpu_dir(struct curate *c) {
        pthread_mutex_lock(&map_lock);
        if (host_dir < 0)
                host_dir = open_beneath(c->root_fd, CPUTREE_HOST_DIR, O_PATH | O_DIRECTORY);
        int fd = host_dir;
        pthread_mutex_unlock(&map_lock);
        return fd;
}

/* Locked. */
static void map_clear(void) {
        for (size_t b = 0; b < MAP_BUCKETS; b++)
                while (map[b]) {
                        struct known *k = map[b];
                        map[b] = k->next;
                        free(k);
                }
        map_len = 0;
}

static void map_add(uint64_t ino, const char *rel, void *unused) {
        size_t b = ino % MAP_BUCKETS;
        pthread_mutex_lock(&map_lock);
        for (struct known *k = map[b]; k; k = k->next)
                if (k->ino == ino) {
                        pthread_mutex_unlock(&map_lock);
                        return;
                }
        if (map_len >= MAP_MAX)
                map_clear();
        struct known *k = malloc(sizeof(*k) + strlen(rel) + 1);
        if (k) {
                k->ino = ino;
                strcpy(k->rel, rel);
                k->next = map[b];
                map[b] = k;
                map_len++;
        }
        pthread_mutex_unlock(&map_lock);
}

static bool map_find(fuse_ino_t ino, char *rel) {
        bool found = false;
        pthread_mutex_lock(&map_lock);
        for (struct known *k = map[ino % MAP_BUCKETS]; k && !found; k = k->next)
                if (k->ino == ino) {
                        snprintf(rel, PATH_MAX, "%s", k->rel);
                        found = true;
                }
        pthread_mutex_unlock(&map_lock);
        return found;
}

/* The CPUs the request's reader is shown: what its possible file lists. */
static int reader_shown(fuse_req_t req, struct cpu_set_bits *ret) {
        struct snap *s;
        int r = curate_render(ctx_of(req), VIEW_CPU_POSSIBLE, fuse_req_ctx(req)->pid, &s);
        if (r < 0)
                return r == -ESRCH ? -ESRCH : -EIO;
        r = parse_cpu_list(s->data, ret);
        snap_unref(s);
        return r < 0 ? -EIO : 0;
}

/* The tree's id as cputree.c takes it: NULL for the shared one. */
static const char *tree_id(const char *id) {
        return *id ? id : NULL;
}

struct candidate {
        int dir_fd;
        fuse_ino_t ino;
        char *rel, *id;
};

/* Is the inode ID's (one of the reader's containers)? Its path from the
 * map, checked against the id, else a walk with that id. */
static bool candidate_has(const char *id, void *arg) {
        struct candidate *k = arg;
        if (!((map_find(k->ino, k->rel) && cputree_ino(id, k->rel) == k->ino) ||
              cputree_find(k->dir_fd, id, k->ino, k->rel, map_add, NULL) == 0))
                return false;
        strcpy(k->id, id);
        return true;
}

/* The path and the tree of a c/<id>/ inode, for a reader in that container:
 * the reader's cgroup names the candidates (cnodes_reader_find), so a
 * serving process that never saw the inode finds it without state. */
static int resolve_c(fuse_req_t req, int dir_fd, fuse_ino_t ino, char *rel, char id[static REG_ID_MAX + 1]) {
        _cleanup_free_ char *text = NULL;
        struct candidate k = { .dir_fd = dir_fd, .ino = ino, .rel = rel, .id = id };

        if (curate_reader_cgroup(ctx_of(req), fuse_req_ctx(req)->pid, &text) < 0 ||
            !cnodes_reader_each_id(text, candidate_has, &k))
                return -ENOENT;
        return 0;
}

/* INO's path (from the map, else found on the host) and tree (ID, "" for
 * the shared one), for a reader that may see it, and the reader's CPUs. */
static int resolve_for(fuse_req_t req, fuse_ino_t ino, char *rel, struct cpu_set_bits *shown,
                       char id[static REG_ID_MAX + 1]) {
        int dir_fd = host_cpu_dir(ctx_of(req));
        int r;

        *id = 0;
        if (dir_fd < 0)
                return -EIO;
        if (cputree_is_c_ino(ino))
                r = resolve_c(req, dir_fd, ino, rel, id);
        else if (!map_find(ino, rel))
                r = cputree_find(dir_fd, NULL, ino, rel, map_add, NULL);
        else
                r = 0;
        if (r < 0)
                return r;
        r = reader_shown(req, shown);
        if (r < 0)
                return r;
        return cputree_path_allowed(rel, shown) ? dir_fd : -ENOENT;
}

void cputree_lookup(fuse_req_t req, const char *top_id, fuse_ino_t parent, const char *name) {
        struct fuse_entry_param e = { 0 };
        char prel[PATH_MAX] = "", rel[PATH_MAX], id[REG_ID_MAX + 1];
        struct cpu_set_bits shown;
        struct stat st;
        int dir_fd, r;

        if (streq(name, ".") || streq(name, "..") || strchr(name, '/')) {
                fuse_reply_err(req, ENOENT);
                return;
        }
        if (!cputree_is_ino(parent)) {
                snprintf(id, sizeof(id), "%s", top_id ? top_id : "");
                dir_fd = host_cpu_dir(ctx_of(req));
                r = dir_fd < 0 ? -EIO : reader_shown(req, &shown);
        } else {
                r = dir_fd = resolve_for(req, parent, prel, &shown, id);
                /* the kernel looks up in directories only; never walk a link */
                if (r >= 0 && (fstatat(dir_fd, prel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)))
                        r = -ENOTDIR;
        }
        if (r >= 0 && snprintf(rel, sizeof(rel), "%s%s%s", prel, *prel ? "/" : "", name) >= (int)sizeof(rel))
                r = -ENAMETOOLONG;
        if (r >= 0)
                r = cputree_stat(dir_fd, tree_id(id), rel, &shown, &e.attr);
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        e.ino = e.attr.st_ino;
        e.entry_timeout = entry_timeout(rel);
        e.attr_timeout = attr_timeout(rel, e.attr.st_mode);
        map_add(e.ino, rel, NULL);
        fuse_reply_entry(req, &e);
}

void cputree_getattr(fuse_req_t req, fuse_ino_t ino) {
        char rel[PATH_MAX], id[REG_ID_MAX + 1];
        struct cpu_set_bits shown;
        struct stat st;
        int r = resolve_for(req, ino, rel, &shown, id);

        if (r >= 0)
                r = cputree_stat(r, tree_id(id), rel, &shown, &st);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                fuse_reply_attr(req, &st, attr_timeout(rel, st.st_mode));
}

struct listing {
        struct {
                char name[256];
                struct stat st;
        } *e;
        size_t n, cap;
        const char *rel; /* of the directory listed */
};

static int listing_add(const char *name, uint64_t ino, mode_t type, void *ctx) {
        struct listing *l = ctx;
        char rel[PATH_MAX];

        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 64;
                void *p = realloc(l->e, cap * sizeof(*l->e));
                if (!p)
                        return -ENOMEM;
                l->e = p;
                l->cap = cap;
        }
        snprintf(l->e[l->n].name, sizeof(l->e[l->n].name), "%s", name);
        l->e[l->n].st = (struct stat){ .st_ino = ino, .st_mode = type };
        l->n++;
        /* a later request on the entry finds its path without a walk */
        if (l->rel && cputree_is_ino(ino) && !streq(name, ".") && !streq(name, "..") &&
            snprintf(rel, sizeof(rel), "%s%s%s", l->rel, *l->rel ? "/" : "", name) < (int)sizeof(rel))
                map_add(ino, rel, NULL);
        return 0;
}

static void reply_listing(fuse_req_t req, const struct listing *l, size_t size, off_t off) {
        char buf[4096];
        size_t len = 0;

        if (size > sizeof(buf))
                size = sizeof(buf);
        for (size_t i = off; i < l->n; i++) {
                size_t need = fuse_add_direntry(req, buf + len, size - len, l->e[i].name, &l->e[i].st, i + 1);
                if (need > size - len)
                        break;
                len += need;
        }
        fuse_reply_buf(req, buf, len);
}

/* Index I of server.c's table in ID's tree */
static fuse_ino_t top_ino(const char *id, size_t i) {
        return id ? cnodes_ino(cnodes_serial(id), i) : i + 1;
}

void cputree_readdir(fuse_req_t req, const struct cputree_top *top, const char *top_id, fuse_ino_t ino, size_t size,
                     off_t off) {
        const char *skip[16] = { NULL };
        char rel[PATH_MAX] = "", parent[PATH_MAX], id[REG_ID_MAX + 1];
        struct listing l = { .rel = rel };
        struct cpu_set_bits shown;
        bool is_top = !cputree_is_ino(ino);
        fuse_ino_t up;
        int dir_fd, r;

        if (is_top) {
                snprintf(id, sizeof(id), "%s", top_id ? top_id : "");
                dir_fd = host_cpu_dir(ctx_of(req));
                r = dir_fd < 0 ? -EIO : reader_shown(req, &shown);
        } else
                r = dir_fd = resolve_for(req, ino, rel, &shown, id);
        up = top_ino(tree_id(id), top->parent);
        if (!is_top) {
                const char *slash = strrchr(rel, '/');
                snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - rel) : 0, rel);
                up = slash ? cputree_ino(tree_id(id), parent) : top_ino(tree_id(id), top->cpu);
        }
        if (r >= 0)
                r = listing_add(".", ino, S_IFDIR, &l);
        if (r >= 0)
                r = listing_add("..", up, S_IFDIR, &l);
        for (size_t i = 0; r >= 0 && is_top && i < top->n_fixed && i + 1 < ELEMENTSOF(skip); i++) {
                skip[i] = top->fixed[i].name;
                r = listing_add(top->fixed[i].name, top_ino(tree_id(id), top->fixed[i].index), S_IFREG, &l);
        }
        if (r >= 0)
                r = cputree_list(dir_fd, tree_id(id), rel, &shown, skip, listing_add, &l);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                reply_listing(req, &l, size, off);
        free(l.e);
}

/* The node at INO for the reader, of type WANT (S_IFDIR or S_IFREG). */
static int open_check(fuse_req_t req, fuse_ino_t ino, mode_t want) {
        char rel[PATH_MAX], id[REG_ID_MAX + 1];
        struct cpu_set_bits shown;
        struct stat st;
        int dir_fd = resolve_for(req, ino, rel, &shown, id);

        if (dir_fd < 0)
                return dir_fd;
        if (fstatat(dir_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if ((st.st_mode & S_IFMT) != want)
                return want == S_IFDIR ? -ENOTDIR : S_ISDIR(st.st_mode) ? -EISDIR : -ENXIO;
        return 0;
}

void cputree_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        int r = open_check(req, ino, S_IFREG);

        /* read-only: no CPU is taken offline from inside a container */
        if (r >= 0 && (fi->flags & O_ACCMODE) != O_RDONLY)
                r = -EACCES;
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        /* No handle: every READ renders for its own reader, so a serving
         * process started after this open answers the same. */
        fi->fh = 0;
        fi->direct_io = 1;
        fi->keep_cache = 0;
        fuse_reply_open(req, fi);
}

void cputree_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        int r = open_check(req, ino, S_IFDIR);
        if (r < 0)
                fuse_reply_err(req, -r);
        else
                fuse_reply_open(req, fi);
}

void cputree_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off) {
        _cleanup_buf_ struct buf b = { 0 };
        char rel[PATH_MAX], id[REG_ID_MAX + 1];
        struct cpu_set_bits shown;
        int r = resolve_for(req, ino, rel, &shown, id);

        if (r >= 0)
                r = cputree_render(r, rel, &shown, &b);
        if (r < 0) {
                fuse_reply_err(req, r == -ENOENT || r == -ESRCH ? -r : EIO);
                return;
        }
        if (off < 0 || (size_t)off >= b.len)
                fuse_reply_buf(req, NULL, 0);
        else
                fuse_reply_buf(req, b.data + off, b.len - off < size ? b.len - off : size);
}

void cputree_readlink(fuse_req_t req, fuse_ino_t ino) {
        char rel[PATH_MAX], target[PATH_MAX], id[REG_ID_MAX + 1];
        struct cpu_set_bits shown;
        int r = resolve_for(req, ino, rel, &shown, id);
        ssize_t n = -1;

        if (r >= 0 && (n = readlinkat(r, rel, target, sizeof(target) - 1)) < 0)
                r = -errno;
        if (r < 0) {
                fuse_reply_err(req, -r);
                return;
        }
        target[n] = 0;
        fuse_reply_readlink(req, target);
}
