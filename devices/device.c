#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
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
