/* The CPU tree walk (fs/cputree.c) over a host directory built from the
 * input in a private directory: cputree_list of every directory (what a
 * reader shown some CPUs may see), cputree_stat and cputree_render of
 * every entry, and cputree_find of the last inode each listing gives (the
 * path a serving process that never saw it finds must have that inode). NUL-separated:
 * the CPUs shown (a list), then one part per node, "d PATH" a directory,
 * "f PATH\nTEXT" a file, "l PATH\nTARGET" a symbolic link; parents are
 * made as needed, a node that cannot be made is left out. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cputree.h"
#include "fuzz.h"

#define NODES_MAX 16
#define DEPTH_LIST 6
#define ENTRIES_MAX 64

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void)st;
        (void)ftw;
        return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

/* PATH: 1 to DEPTH_LIST plain components, none empty, "." or ".." */
static bool plain_path(const char *p) {
        unsigned depth = 0;
        if (!*p || strlen(p) > 512)
                return false;
        for (const char *s = p; *s; depth++) {
                size_t n = strcspn(s, "/");
                if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                        return false;
                s += n + (s[n] == '/');
                if (s[-1] == '/' && !*s)
                        return false;
        }
        return depth <= DEPTH_LIST;
}

static void make(const char *root, char *node) {
        char type = node[0], path[PATH_MAX];
        if ((type != 'd' && type != 'f' && type != 'l') || node[1] != ' ')
                return;
        char *rel = node + 2, *nl = strchr(rel, '\n'), *text = nl ? nl + 1 : (char *)"";
        if (nl)
                *nl = 0;
        if (!plain_path(rel))
                return;
        /* the parents */
        for (char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
                snprintf(path, sizeof(path), "%s/%.*s", root, (int)(s - rel), rel);
                (void)mkdir(path, 0755);
        }
        snprintf(path, sizeof(path), "%s/%s", root, rel);
        if (type == 'd')
                (void)mkdir(path, 0755);
        else if (type == 'l')
                (void)symlink(text, path);
        else {
                int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
                if (fd >= 0) {
                        (void)!write(fd, text, strlen(text));
                        close(fd);
                }
        }
}

struct entries {
        size_t n;
        char name[ENTRIES_MAX][256];
        uint64_t ino[ENTRIES_MAX];
        mode_t type[ENTRIES_MAX];
};

/* the tree walked: the shared one (NULL) or a container's (c/<id>/),
 * chosen per input */
static const char *tree_id;

static int each(const char *name, uint64_t ino, mode_t type, void *ctx) {
        struct entries *e = ctx;
        if (e->n == ENTRIES_MAX)
                return -E2BIG;
        snprintf(e->name[e->n], sizeof(e->name[0]), "%s", name);
        e->ino[e->n] = ino;
        e->type[e->n++] = type;
        return 0;
}

static void learn(uint64_t ino, const char *rel, void *ctx) {
        (void)ctx;
        if (cputree_ino(tree_id, rel) != ino)
                abort();
}

static void list(int dir_fd, const char *rel, unsigned depth, const struct cpu_set_bits *shown) {
        static const char *const skip[] = { "online", "possible", "present", "offline", NULL };
        struct entries *e = calloc(1, sizeof(*e));
        char child[PATH_MAX], found[PATH_MAX];

        if (!e)
                abort();
        if (cputree_list(dir_fd, tree_id, rel, shown, skip, each, e) < 0)
                e->n = 0;
        for (size_t i = 0; i < e->n; i++) {
                struct stat st;
                _cleanup_buf_ struct buf out = { 0 };
                snprintf(child, sizeof(child), "%s%s%s", rel, *rel ? "/" : "", e->name[i]);
                if (e->ino[i] != cputree_ino(tree_id, child) || !cputree_is_ino(e->ino[i]) ||
                    cputree_is_c_ino(e->ino[i]) != (tree_id != NULL) || !cputree_path_allowed(child, shown))
                        abort();
                /* listed, so found (each find walks a part of the tree: one
                 * per directory keeps a run's walks linear in its size) */
                if (i + 1 == e->n &&
                    (cputree_find(dir_fd, tree_id, e->ino[i], found, learn, NULL) < 0 ||
                     cputree_ino(tree_id, found) != e->ino[i]))
                        abort();
                /* read-only, but for a link (0777, as every link) */
                if (cputree_stat(dir_fd, tree_id, child, shown, &st) == 0 &&
                    (st.st_ino != e->ino[i] || (!S_ISLNK(st.st_mode) && (st.st_mode & 0222))))
                        abort();
                if (S_ISREG(e->type[i]))
                        (void)cputree_render(dir_fd, child, shown, &out);
                (void)cputree_same_for_all(child, e->type[i]);
                if (S_ISDIR(e->type[i]) && depth < DEPTH_LIST)
                        list(dir_fd, child, depth + 1, shown);
        }
        free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *segs[NODES_MAX + 1], root[PATH_MAX], found[PATH_MAX];
        struct cpu_set_bits shown;
        struct stat st;
        _cleanup_buf_ struct buf out = { 0 };

        snprintf(root, sizeof(root), "%s/t", fuzz_dir_path());
        if (nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
                abort();
        if (mkdir(root, 0755) < 0)
                abort();
        tree_id = size % 2 ? "run-42" : NULL;
        fuzz_split(data, size, segs, ELEMENTSOF(segs));
        if (!segs[0] || parse_cpu_list(segs[0], &shown) < 0)
                (void)parse_cpu_list("0-1", &shown);
        for (size_t i = 1; i < ELEMENTSOF(segs); i++)
                if (segs[i])
                        make(root, segs[i]);
        int dir_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                abort();
        list(dir_fd, "", 0, &shown);
        /* each node by its own path, hidden or not: a CPU not shown is absent */
        for (size_t i = 1; i < ELEMENTSOF(segs); i++) {
                const char *rel = segs[i] && strlen(segs[i]) > 2 ? segs[i] + 2 : NULL;
                if (!rel || !plain_path(rel))
                        continue;
                bool allowed = cputree_path_allowed(rel, &shown);
                if (!allowed && (cputree_stat(dir_fd, tree_id, rel, &shown, &st) != -ENOENT ||
                                 cputree_render(dir_fd, rel, &shown, &out) != -ENOENT))
                        abort();
                /* the first node's inode, present or not (a full walk each) */
                if (i == 1 && cputree_find(dir_fd, tree_id, cputree_ino(tree_id, rel), found, NULL, NULL) == 0 &&
                    cputree_ino(tree_id, found) != cputree_ino(tree_id, rel))
                        abort();
        }
        close(dir_fd);
        fuzz_segs_free(segs, ELEMENTSOF(segs));
        return 0;
}
