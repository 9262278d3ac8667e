#include "config.h"
#include <string.h>
#include "cnodes.h"
#include "devs.h"
#include "macro.h"

/* Each line's path ("ID:CONTROLLERS:PATH"; the path may hold ':'), to FN
 * until it returns true. */
static bool each_path(const char *text, bool (*fn)(const char *path, size_t len, void *arg), void *arg) {
        for (const char *l = text; *l;) {
                const char *nl = strchr(l, '\n');
                size_t len = nl ? (size_t)(nl - l) : strlen(l);
                const char *c1 = memchr(l, ':', len);
                const char *c2 = c1 ? memchr(c1 + 1, ':', len - (c1 + 1 - l)) : NULL;
                if (c2 && fn(c2 + 1, len - (c2 + 1 - l), arg))
                        return true;
                l += len + (nl ? 1 : 0);
        }
        return false;
}

/* The id a path /curate/ID[/...] names: its start and length, or 0. */
static size_t path_id(const char *path, size_t len, const char **ret) {
        static const char top[] = "/curate/";
        if (len <= strlen(top) || strncmp(path, top, strlen(top)) != 0)
                return 0;
        const char *id = path + strlen(top), *end = memchr(id, '/', len - strlen(top));
        size_t n = end ? (size_t)(end - id) : len - strlen(top);
        *ret = id;
        return n;
}

static bool path_is_id(const char *path, size_t len, void *arg) {
        const char *id, *want = arg;
        size_t n = path_id(path, len, &id);
        return n > 0 && n == strlen(want) && memcmp(id, want, n) == 0;
}

bool cnodes_reader_in(const char *cgroup_text, const char *id) {
        return reg_id_valid(id) && each_path(cgroup_text, path_is_id, (void *)id);
}

struct each_id {
        bool (*fn)(const char *id, void *arg);
        void *arg;
};

static bool path_each_id(const char *path, size_t len, void *arg) {
        struct each_id *e = arg;
        const char *id;
        char buf[REG_ID_MAX + 1];
        size_t n = path_id(path, len, &id);
        if (n == 0 || n > REG_ID_MAX)
                return false;
        memcpy(buf, id, n);
        buf[n] = 0;
        return reg_id_valid(buf) && e->fn(buf, e->arg);
}

bool cnodes_reader_each_id(const char *cgroup_text, bool (*fn)(const char *id, void *arg), void *arg) {
        struct each_id e = { .fn = fn, .arg = arg };
        return each_path(cgroup_text, path_each_id, &e);
}

struct find {
        uint64_t serial;
        char *id;
};

static bool id_has_serial(const char *id, void *arg) {
        struct find *f = arg;
        if (cnodes_serial(id) != f->serial)
                return false;
        strcpy(f->id, id);
        return true;
}

bool cnodes_reader_find(const char *cgroup_text, uint64_t serial, char id[static REG_ID_MAX + 1]) {
        struct find f = { .serial = serial, .id = id };
        return cnodes_reader_each_id(cgroup_text, id_has_serial, &f);
}

uint64_t cnodes_serial(const char *id) {
        uint64_t h = devs_hash(DEVS_HASH_INIT, "cnode", 6);
        h = devs_serial_of_hash(devs_hash(h, id, strlen(id) + 1));
        h &= (1ULL << CNODE_SERIAL_BITS) - 1;
        return h ? h : 1;
}

bool cnodes_snapshot_due(const struct cnode_clock *k, uint64_t now, uint64_t ttl_ns) {
        uint64_t age = now - k->rendered_at;
        if (!k->rendered_at)
                return true;
        if (age <= ttl_ns)
                return false;
        if (age > CNODE_PIN_MAX_NS)
                return true;
        return k->pins == 0 && (!k->reported_at || now - k->reported_at > CNODE_REPORT_GRACE_NS);
}
