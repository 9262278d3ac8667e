#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "devs.h"
#include "macro.h"

void devs_entries_free(struct devs_entry *e, size_t n) {
        for (size_t i = 0; e && i < n; i++)
                free(e[i].path);
        free(e);
}

bool devs_id_valid(const char *id) {
        size_t len = strlen(id);
        if (len == 0 || len > DEVS_ID_MAX || streq(id, ".") || streq(id, ".."))
                return false;
        return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

/* Each "/"-separated component is a plain name: not empty, ".", "..". */
static bool path_valid(const char *p) {
        if (*p == 0 || *p == '/' || strlen(p) >= 4096)
                return false;
        for (const char *s = p; s;) {
                const char *e = strchr(s, '/');
                size_t len = e ? (size_t)(e - s) : strlen(s);
                if (len == 0 || len > 255 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
                        return false;
                s = e ? e + 1 : NULL;
        }
        return true;
}

static bool parse_uint(const char *s, int base, unsigned long max, unsigned long *ret) {
        char *end;
        if (!*s || !isdigit((unsigned char)*s))
                return false;
        errno = 0;
        unsigned long v = strtoul(s, &end, base);
        if (errno || *end || v > max)
                return false;
        *ret = v;
        return true;
}

/* One non-blank, non-comment line (modified in place). */
static int parse_line(char *line, struct devs_entry *ret) {
        char *f[6], *save = NULL;
        int n = 0;
        for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
                if (n < 6)
                        f[n++] = t;
                else
                        return -EINVAL;
        unsigned long maj, min, mode;
        if (n != 5 || !path_valid(f[0]) || strlen(f[1]) != 1 || (f[1][0] != 'c' && f[1][0] != 'b') ||
            !parse_uint(f[2], 10, 0xfff, &maj) || !parse_uint(f[3], 10, 0xfffff, &min) ||
            !parse_uint(f[4], 8, 07777, &mode))
                return -EINVAL;
        char *p = strdup(f[0]);
        if (!p)
                return -ENOMEM;
        *ret = (struct devs_entry){ .path = p, .mode = (f[1][0] == 'c' ? S_IFCHR : S_IFBLK) | mode,
                                    .rdev = makedev(maj, min) };
        return 0;
}

int devs_parse(const char *text, struct devs_entry **ret, unsigned *ret_line) {
        _cleanup_free_ char *copy = strdup(text);
        struct devs_entry *e = NULL;
        size_t n = 0;
        unsigned lineno = 0;

        if (!copy)
                return -ENOMEM;
        /* strsep, not strtok: blank lines still count for line numbers */
        for (char *line, *rest = copy; (line = strsep(&rest, "\n"));) {
                lineno++;
                char *s = line + strspn(line, " \t");
                if (*s == 0 || *s == '#')
                        continue;
                struct devs_entry *ne = realloc(e, (n + 1) * sizeof(*e));
                if (!ne) {
                        devs_entries_free(e, n);
                        return -ENOMEM;
                }
                e = ne;
                int r = parse_line(s, &e[n]);
                if (r < 0) {
                        devs_entries_free(e, n);
                        if (r == -EINVAL)
                                *ret_line = lineno;
                        return r;
                }
                n++;
        }
        *ret = e;
        return (int)n;
}

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
                if (t->n[i].parent == parent && streq(t->n[i].name, name))
                        return (int)i;
        return -ENOENT;
}

static int add_entry(struct devs_tree *t, const struct devs_entry *e) {
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

int devs_tree_add_entries(struct devs_tree *t, const struct devs_entry *e, size_t n, size_t *ret_index) {
        for (size_t i = 0; i < n; i++) {
                int r = add_entry(t, &e[i]);
                if (r < 0) {
                        *ret_index = i;
                        return r;
                }
        }
        return 0;
}
