#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "devs.h"
#include "registration.h"
#include "macro.h"

static bool path_in(const char *path, const char *id) {
        size_t len = strlen(id);
        return strncmp(path, "/curate/", 8) == 0 && strncmp(path + 8, id, len) == 0 &&
               (path[8 + len] == 0 || path[8 + len] == '/');
}

bool devs_reader_allowed(const char *cgroup_text, const char *id) {
        bool all_root = true, any = false;
        for (const char *l = cgroup_text; *l;) {
                const char *nl = strchr(l, '\n');
                size_t len = nl ? (size_t)(nl - l) : strlen(l);
                /* "ID:CONTROLLERS:PATH"; the path may itself hold ':' */
                const char *c1 = memchr(l, ':', len);
                const char *c2 = c1 ? memchr(c1 + 1, ':', len - (c1 + 1 - l)) : NULL;
                if (c2) {
                        char path[4096];
                        size_t plen = len - (c2 + 1 - l);
                        if (plen >= sizeof(path))
                                return false;
                        memcpy(path, c2 + 1, plen);
                        path[plen] = 0;
                        any = true;
                        if (path_in(path, id))
                                return true;
                        if (!streq(path, "/"))
                                all_root = false;
                }
                l += len + (nl ? 1 : 0);
        }
        return any && all_root;
}

void devs_tree_done(struct devs_tree *t) {
        for (size_t i = 0; i < t->len; i++)
                free(t->n[i].name);
        free(t->n);
        *t = (struct devs_tree){ 0 };
}

int devs_tree_add(struct devs_tree *t, size_t parent, const char *name, enum dnode_kind kind,
                  mode_t mode, dev_t rdev, const char *target) {
        if (t->len >= 65535)
                return -E2BIG;
        struct dnode *n = realloc(t->n, (t->len + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        t->n = n;
        char *d = strdup(name);
        if (!d)
                return -ENOMEM;
        t->n[t->len] = (struct dnode){ .name = d, .parent = parent, .kind = kind, .mode = mode,
                                       .rdev = rdev, .target = target };
        return (int)t->len++;
}

int devs_tree_find(const struct devs_tree *t, size_t parent, const char *name) {
        for (size_t i = 1; i < t->len; i++)
                if (t->n[i].parent == parent && !t->n[i].hidden && streq(t->n[i].name, name))
                        return (int)i;
        return -ENOENT;
}

static int add_entry(struct devs_tree *t, const struct reg_entry *e) {
        _cleanup_free_ char *copy = strdup(e->path);
        size_t dir = 0;
        char *save = NULL;
        if (!copy)
                return -ENOMEM;
        char *comp = strtok_r(copy, "/", &save);
        for (char *next; (next = strtok_r(NULL, "/", &save)); comp = next) {
                int i = devs_tree_find(t, dir, comp);
                if (i >= 0 && t->n[i].kind != DNODE_DIR)
                        return -EEXIST;
                if (i < 0)
                        i = devs_tree_add(t, dir, comp, DNODE_DIR, S_IFDIR | 0755, 0, NULL);
                if (i < 0)
                        return i;
                dir = i;
        }
        if (devs_tree_find(t, dir, comp) >= 0)
                return -EEXIST;
        int r = devs_tree_add(t, dir, comp, DNODE_DEV, e->mode, e->rdev, NULL);
        return r < 0 ? r : 0;
}

int devs_tree_add_entries(struct devs_tree *t, const struct reg_entry *e, size_t n, size_t *ret_index) {
        for (size_t i = 0; i < n; i++) {
                int r = add_entry(t, &e[i]);
                if (r < 0) {
                        *ret_index = i;
                        return r;
                }
        }
        return 0;
}

/* FNV-1a: the inputs are the registration's own text and identity, written
 * by root, so no one picks them to collide; the finish below spreads them. */
uint64_t devs_hash(uint64_t h, const void *data, size_t len) {
        const unsigned char *p = data;
        for (size_t i = 0; i < len; i++) {
                h ^= p[i];
                h *= 0x100000001b3ULL;
        }
        return h;
}

/* splitmix64's finaliser, then 47 bits; 0 (one hash in 2^47) becomes 1 */
uint64_t devs_serial_of_hash(uint64_t h) {
        h ^= h >> 30;
        h *= 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 27;
        h *= 0x94d049bb133111ebULL;
        h ^= h >> 31;
        h &= (1ULL << DEVS_SERIAL_BITS) - 1;
        return h ? h : 1;
}
