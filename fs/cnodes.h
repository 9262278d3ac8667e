#pragma once
/* Per-container view nodes (MOUNTPOINT/c/<id>/): the pure parts, which the
 * unit tests drive without a mount. fs/server.c serves them.
 *
 * Every view file also exists once per container, below c/<id>/, so that
 * each container's files are inodes of their own: the kernel's page cache
 * (which sendfile(2) reads through on Linux 6.5+) then never holds one
 * container's figures where another container's reader can meet them. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "registration.h"

/* Is the reader whose /proc/PID/cgroup is CGROUP_TEXT in the container ID:
 * some line's path is /curate/ID or below it. Unlike the device trees, the
 * host's root (every path "/") is not let in: its reads would fill the
 * container's page cache with the host's figures. */
bool cnodes_reader_in(const char *cgroup_text, const char *id);

/* The container id a reader is in whose serial is SERIAL, into ID: the
 * reader's own cgroup paths name the candidates, so a serving process that
 * never saw the node resolves it from the request alone. */
bool cnodes_reader_find(const char *cgroup_text, uint64_t serial, char id[static REG_ID_MAX + 1]);
/* Each valid container id the reader's cgroup paths name (/curate/ID or
 * below), then, for a reader in no /curate/ID, the generic id of its
 * memory cgroup and of each ancestor but the root: to FN until it returns
 * true; whether one did. */
bool cnodes_reader_each_id(const char *cgroup_text, bool (*fn)(const char *id, void *arg), void *arg);

/* ---- generic ids: any cgroup's own nodes ----
 * A reader in a cgroup that is not /curate/ID (a podman or runc
 * container) that follows the top link proc or sys is sent to the copies
 * of its own cgroup (server.c, cnode_top_link): c/ plus "@" and 16 hex
 * digits of a hash of the path of the hierarchy the memory figures come
 * from (v1 memory, else cgroup2). Not a valid curate id (reg_id_valid):
 * c/@<hash> is looked up only for a reader in that cgroup or below it;
 * the reader's cgroup text names it again in any serving process
 * (cnodes_reader_find). */
#define CNODE_GENERIC_ID_LEN 17
void cnodes_generic_id(const char *path, size_t len, char id[static CNODE_GENERIC_ID_LEN + 1]);
/* The id whose copies the top links send this reader to:
 * its /curate/ID, else its memory cgroup's generic id; false for a reader
 * in the root cgroup (the host: the shared tree). */
bool cnodes_reader_own_id(const char *cgroup_text, char id[static REG_ID_MAX + 1]);

/* Inode numbers: CNODE_INO_BASE + (serial << 16) + index, where the serial
 * is a 46-bit hash of the id and the index the fixed node table's (0 for
 * c/<id> itself). Above every devs/ inode (devs.h: below 2^63 + 2^33). */
#define CNODE_INO_BASE 0xC000000000000000ULL
#define CNODE_SERIAL_BITS 46
#define CNODE_INDEX_BITS 16
uint64_t cnodes_serial(const char *id);
static inline uint64_t cnodes_ino(uint64_t serial, size_t index) {
        return CNODE_INO_BASE + (serial << CNODE_INDEX_BITS) + index;
}
static inline bool cnodes_is_ino(uint64_t ino) {
        return ino >= CNODE_INO_BASE;
}
/* Split a c/ inode; false when it cannot be one. */
static inline bool cnodes_ino_split(uint64_t ino, uint64_t *ret_serial, size_t *ret_index) {
        if (ino < CNODE_INO_BASE)
                return false;
        uint64_t serial = (ino - CNODE_INO_BASE) >> CNODE_INDEX_BITS;
        if (serial == 0 || serial >= (1ULL << CNODE_SERIAL_BITS))
                return false;
        *ret_serial = serial;
        *ret_index = (ino - CNODE_INO_BASE) & ((1U << CNODE_INDEX_BITS) - 1);
        return true;
}

/* ---- the size the kernel has ----
 * A node's attributes carry the length of the snapshot the next OPEN will
 * take (struct cnode_clock). The snapshot is replaced only when it is older
 * than the render cache's TTL and nobody may still be between the size and
 * the read: no handle opened on it is still open and no size reported of
 * it is waiting for its OPEN; past CNODE_PIN_MAX_NS it is replaced anyway,
 * so a file held open (top) does not freeze the figures of the others. */
#define CNODE_PIN_MAX_NS (1000 * 1000 * 1000ULL)
#define CNODE_REPORT_GRACE_NS (50 * 1000 * 1000ULL)
struct cnode_clock {
        uint64_t rendered_at; /* monotonic ns; 0: nothing rendered */
        uint64_t reported_at; /* last size reported and not yet opened; 0: none */
        unsigned pins;        /* open handles on the snapshot */
};
bool cnodes_snapshot_due(const struct cnode_clock *k, uint64_t now, uint64_t ttl_ns);
/* A node no handle was opened on yet keeps its snapshot for no TTL: a
 * runtime's init looks up and stats the source of its bind (runc's
 * prepareBindMount) before the runtime sets the cgroup's limits (runc
 * sets them after the rootfs mounts), and the container's first open
 * follows within the TTL. So until the first OPEN each size query renders
 * anew (the figures of that moment, never a cached rendering:
 * curate_render_fresh). The new rendering (NEW_LEN) replaces the one
 * reported (OLD_LEN) unless another process's size may still be on its
 * way into the kernel and the new one is longer: the kernel may keep
 * either size, and a size longer than the text is safe (the short READ
 * shrinks it), a shorter one would cut it. SAME_REPORTER: the size on its
 * way is the asking process's own. */
bool cnodes_unopened_swap(const struct cnode_clock *k, bool same_reporter, size_t old_len, size_t new_len,
                          uint64_t now);
