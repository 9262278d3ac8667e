#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "fileio.h"
#include "registration.h"
#include "device.h"
#include "macro.h"

static void merge_access(char access[static 4], const char *more) {
        static const char order[] = "rwm";
        char out[4];
        size_t n = 0;

        for (size_t i = 0; i < 3; i++)
                if (strchr(access, order[i]) || strchr(more, order[i]))
                        out[n++] = order[i];
        out[n] = 0;
        memcpy(access, out, n + 1);
}

int device_list_add(struct device_list *l, const struct device_node *node) {
        struct device_node *nodes, copy;

        for (size_t i = 0; i < l->n; i++) {
                struct device_node *d = &l->nodes[i];
                if (!streq(d->path, node->path))
                        continue;
                if (d->type != node->type || d->major != node->major || d->minor != node->minor)
                        return -EEXIST;
                merge_access(d->access, node->access);
                return 0;
        }
        copy = *node;
        copy.path = strdup(node->path);
        copy.host_path = strdup(node->host_path ? node->host_path : node->path);
        if (!copy.path || !copy.host_path) {
                free(copy.path);
                free(copy.host_path);
                return -ENOMEM;
        }
        nodes = realloc(l->nodes, (l->n + 1) * sizeof(*nodes));
        if (!nodes) {
                free(copy.path);
                free(copy.host_path);
                return -ENOMEM;
        }
        l->nodes = nodes;
        l->nodes[l->n++] = copy;
        return 0;
}

void device_list_done(struct device_list *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->nodes[i].path);
                free(l->nodes[i].host_path);
        }
        free(l->nodes);
        *l = (struct device_list){ .n = 0 };
}

int device_list_add_char(struct device_list *l, const char *path, unsigned major, unsigned minor,
                         mode_t file_mode) {
        struct device_node n = {
                .path = (char *)path, .host_path = (char *)path, .type = 'c', .major = major, .minor = minor,
                .access = "rwm", .file_mode = file_mode, .uid = (uid_t)-1, .gid = (gid_t)-1,
        };
        return device_list_add(l, &n);
}

int device_list_register(const char *id, const struct device_list *l, char **ret_error) {
        _cleanup_free_ struct reg_entry *e = calloc(l->n + 1, sizeof(*e));

        if (!e)
                return error_printf(ret_error, -ENOMEM, "device registration: %s", strerror(ENOMEM));
        for (size_t i = 0; i < l->n; i++) {
                const struct device_node *n = &l->nodes[i];
                e[i].path = strncmp(n->path, "/dev/", 5) == 0 ? n->path + 5 : n->path; /* borrowed */
                e[i].mode = (n->type == 'b' ? S_IFBLK : S_IFCHR) | (n->file_mode ? n->file_mode & 07777 : 0666);
                e[i].rdev = makedev(n->major, n->minor);
                memcpy(e[i].access, n->access, sizeof(e[i].access));
        }
        return reg_write(id, e, l->n, ret_error);
}

int device_list_registered(const char *id, struct device_list *ret, char **ret_error) {
        struct reg_entry *e = NULL;
        struct device_list l = {};
        int n = reg_read(id, &e, ret_error), r = 0;

        if (n < 0)
                return n;
        for (int i = 0; r >= 0 && i < n; i++) {
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "/dev/%s", e[i].path);
                struct device_node node = {
                        .path = path, .host_path = path, .type = S_ISBLK(e[i].mode) ? 'b' : 'c',
                        .major = major(e[i].rdev), .minor = minor(e[i].rdev), .file_mode = e[i].mode & 07777,
                        .uid = (uid_t)-1, .gid = (gid_t)-1,
                };
                memcpy(node.access, e[i].access, sizeof(node.access));
                r = device_list_add(&l, &node);
        }
        reg_entries_free(e, (size_t)n);
        if (r < 0) {
                device_list_done(&l);
                return error_printf(ret_error, r, "registration of %s: %s", id, strerror(-r));
        }
        *ret = l;
        return 0;
}
