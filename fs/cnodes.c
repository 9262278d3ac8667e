#include "config.h"
#include <stdio.h>
#include <string.h>
#include "clock.h"
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

/* The path of the hierarchy the memory figures come from (fs/gather.c:
 * the layout takes memory from its v1 mount where it has one, and a v1
 * memory mount shows in /proc/PID/cgroup as a line naming "memory"; else
 * cgroup2's "0::" line): its start and length; false when there is none. */
static bool memory_path(const char *text, const char **ret, size_t *ret_len) {
        const char *v2 = NULL;
        size_t v2_len = 0;

        for (const char *l = text; *l;) {
                const char *nl = strchr(l, '\n');
                size_t len = nl ? (size_t)(nl - l) : strlen(l);
                const char *c1 = memchr(l, ':', len);
                const char *c2 = c1 ? memchr(c1 + 1, ':', len - (c1 + 1 - l)) : NULL;
                if (c2) {
                        const char *ctl = c1 + 1, *path = c2 + 1;
                        size_t plen = len - (path - l);
                        for (const char *t = ctl; t < c2;) {
                                const char *comma = memchr(t, ',', c2 - t);
                                size_t n = comma ? (size_t)(comma - t) : (size_t)(c2 - t);
                                if (n == 6 && memcmp(t, "memory", 6) == 0) {
                                        *ret = path;
                                        *ret_len = plen;
                                        return true;
                                }
                                t += n + 1;
                        }
                        if (c1 - l == 1 && *l == '0' && c2 == ctl && !v2) {
                                v2 = path;
                                v2_len = plen;
                        }
                }
                l += len + (nl ? 1 : 0);
        }
        *ret = v2;
        *ret_len = v2_len;
        return v2 != NULL;
}

void cnodes_generic_id(const char *path, size_t len, char id[static CNODE_GENERIC_ID_LEN + 1]) {
        uint64_t h = devs_hash(DEVS_HASH_INIT, "cgroup", 7);
        h = devs_hash(h, path, len);
        snprintf(id, CNODE_GENERIC_ID_LEN + 1, "@%016llx", (unsigned long long)h);
}

/* Each generic id a reader whose memory cgroup is PATH belongs to: its
 * own and each ancestor's but the root's, deepest first. */
static bool each_generic(const char *path, size_t len, bool (*fn)(const char *id, void *arg), void *arg) {
        char id[CNODE_GENERIC_ID_LEN + 1];

        while (len > 1 && path[len - 1] == '/') /* never "a/" and "a" apart */
                len--;
        while (len > 1 && path[0] == '/') {
                cnodes_generic_id(path, len, id);
                if (fn(id, arg))
                        return true;
                while (len > 0 && path[len - 1] != '/')
                        len--;
                while (len > 1 && path[len - 1] == '/')
                        len--;
        }
        return false;
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
        const char *path, *unused;
        size_t len;

        if (each_path(cgroup_text, path_each_id, &e))
                return true;
        /* a reader in /curate/ID is that container's only */
        if (!memory_path(cgroup_text, &path, &len) || path_id(path, len, &unused) > 0)
                return false;
        return each_generic(path, len, fn, arg);
}

static bool first_id(const char *id, void *arg) {
        strcpy(arg, id);
        return true;
}

bool cnodes_reader_own_id(const char *cgroup_text, char id[static REG_ID_MAX + 1]) {
        const char *path, *unused;
        size_t len;

        if (cnodes_reader_each_id(cgroup_text, first_id, id))
                return true;
        if (!memory_path(cgroup_text, &path, &len) || path_id(path, len, &unused) > 0)
                return false;
        while (len > 1 && path[len - 1] == '/')
                len--;
        if (len <= 1 || path[0] != '/')
                return false; /* the root: the shared inodes */
        cnodes_generic_id(path, len, id);
        return true;
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

bool cnodes_unopened_swap(const struct cnode_clock *k, bool same_reporter, size_t old_len, size_t new_len,
                          uint64_t now) {
        return new_len <= old_len || !k->rendered_at || !k->reported_at || same_reporter ||
               ns_age(now, k->reported_at) > CNODE_REPORT_GRACE_NS;
}

bool cnodes_snapshot_due(const struct cnode_clock *k, uint64_t now, uint64_t ttl_ns) {
        uint64_t age = ns_age(now, k->rendered_at);
        if (!k->rendered_at)
                return true;
        if (age <= ttl_ns)
                return false;
        if (age > CNODE_PIN_MAX_NS)
                return true;
        return k->pins == 0 && (!k->reported_at || ns_age(now, k->reported_at) > CNODE_REPORT_GRACE_NS);
}
