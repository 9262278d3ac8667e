#pragma once
/* The journal: one shared memory file (a memfd the holder creates and keeps
 * for the mount's whole life, and stores with the /dev/fuse fd) in which
 * serving processes read their requests, so that whatever a killed serving
 * process had read is still there for its replacement.
 *
 *   struct journal_head                 the INIT record, counters
 *   JOURNAL_REGIONS x struct journal_region
 *                                       one per serving process alive (two
 *                                       overlap during a restart)
 *   JOURNAL_REGIONS x JOURNAL_SLOTS x JOURNAL_SLOT_SIZE
 *                                       the request buffers: serving thread
 *                                       T of the process in region R reads
 *                                       /dev/fuse straight into slot (R, T)
 *
 * A slot holds a request not yet answered exactly when its header's unique
 * differs from the slot's done_unique (written once the reply, if any, is
 * written). The kernel copies a request into the buffer before read()
 * returns and never reuses a unique (it only grows), so after a death:
 *   - killed before read() returned: the buffer holds the previous request,
 *     already answered (unique == done_unique): nothing to do;
 *   - killed after read() returned and before the reply: replayed;
 *   - killed after the reply and before done_unique was stored: replayed,
 *     and the kernel refuses the second reply (ENOENT): harmless.
 * The buffers are populated before the first read() so that the kernel's
 * copy into them never faults (a fault while a fatal signal is pending
 * would fail the copy, and the kernel would fail the request with EIO). */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/fuse.h>

#define JOURNAL_MAGIC 0x6a72756e6c637573ULL /* "suclnurj" */
#define JOURNAL_REGIONS 4
#define JOURNAL_SLOTS 64 /* serving threads per process, at most */
#define JOURNAL_SLOT_SIZE (64 * 1024)
/* The largest request the kernel sends is a WRITE of max_write bytes plus
 * its headers (fuse_dev_do_read refuses a smaller buffer); curatefs is
 * read-only but the kernel sizes the check by max_write all the same. */
#define JOURNAL_MAX_WRITE (JOURNAL_SLOT_SIZE - 4096)
#define JOURNAL_INIT_MAX 256 /* fuse_in_header + fuse_init_in (104 bytes on 6.18) */

enum region_state {
        REGION_FREE = 0,
        REGION_ACTIVE,   /* a serving process reads into it */
        REGION_ORPHANED, /* its process died; a replacement must recover it */
};

struct journal_region {
        _Atomic uint32_t state;
        _Atomic int32_t pid;        /* of the process using it */
        _Atomic uint32_t generation;
        uint32_t pad;
        _Atomic uint64_t done_unique[JOURNAL_SLOTS];
};

struct journal_head {
        uint64_t magic;
        /* the kernel's INIT as read (replayed, its reply dropped, by every
         * later serving process so that libfuse knows the session); 0
         * until read */
        _Atomic uint32_t init_len;
        _Atomic uint32_t init_answered;
        uint8_t init[JOURNAL_INIT_MAX];
        _Atomic uint32_t next_generation;
        uint32_t pad;
};

/* Figures for `curate daemon status --json`, kept here because the journal
 * outlives every serving process (and, through the fd store, the holder):
 * monotonic since the journal was made, except readers. Appended after the
 * regions within the journal's first page, so the buffers do not move and a
 * journal made by an older curatefs (zeros here) is read as it was. */
struct journal_stats {
        _Atomic uint64_t served;   /* replies written to /dev/fuse (notifications not counted) */
        _Atomic uint64_t failed;   /* of those, replies with an error other than ENOENT */
        _Atomic uint64_t restarts; /* serving processes that became ready after the first one */
        _Atomic uint64_t readers;  /* per-cgroup records of the serving process that answered last */
        _Atomic uint64_t served_uring; /* of served, replies committed through io_uring (serve-uring.h) */
        _Atomic uint64_t transport;    /* enum transport_state of the serving process that started last */
        _Atomic uint64_t uring_queues; /* its io_uring queues (0: none) */
        /* bytes the serving process's malloc had handed out (mallinfo2) at
         * its sampler's last pass, after that pass dropped what gone
         * containers left; 0 until the first */
        _Atomic uint64_t heap_in_use;
};

struct journal {
        struct journal_head head;
        struct journal_region region[JOURNAL_REGIONS];
        struct journal_stats stats;
};

#define JOURNAL_BUFFERS_OFFSET ((sizeof(struct journal) + 4095) & ~(size_t)4095)
_Static_assert(JOURNAL_BUFFERS_OFFSET == 4096, "the journal's records must stay within its first page");
#define JOURNAL_SIZE (JOURNAL_BUFFERS_OFFSET + (size_t)JOURNAL_REGIONS * JOURNAL_SLOTS * JOURNAL_SLOT_SIZE)

static inline uint8_t *journal_slot(struct journal *j, unsigned region, unsigned slot) {
        return (uint8_t *)j + JOURNAL_BUFFERS_OFFSET + ((size_t)region * JOURNAL_SLOTS + slot) * JOURNAL_SLOT_SIZE;
}

/* The flags (flags2 above bit 31, where FUSE_INIT_EXT says it is there) of
 * the kernel's INIT as kept in INIT (LEN bytes); 0 for one too short. */
static inline uint64_t journal_init_flags(const uint8_t *init, size_t len) {
        const struct fuse_init_in *in = (const struct fuse_init_in *)(init + sizeof(struct fuse_in_header));

        if (len < sizeof(struct fuse_in_header) + offsetof(struct fuse_init_in, flags2) + sizeof(in->flags2))
                return 0;
        return in->flags | ((in->flags & FUSE_INIT_EXT) ? (uint64_t)in->flags2 << 32 : 0);
}

/* Count a reply with ERROR in the stats (through io_uring: URING). ENOENT
 * is a lookup of a name that is not there, ENOSYS an operation curatefs
 * does not implement (the kernel asks once, then stops): answers, not
 * failures. */
static inline void journal_count_reply(struct journal *j, int32_t error, bool uring) {
        atomic_fetch_add_explicit(&j->stats.served, 1, memory_order_relaxed);
        if (uring)
                atomic_fetch_add_explicit(&j->stats.served_uring, 1, memory_order_relaxed);
        if (error != 0 && error != -ENOENT && error != -ENOSYS)
                atomic_fetch_add_explicit(&j->stats.failed, 1, memory_order_relaxed);
}

/* Does slot (R, S) hold a request its process read and did not answer? */
static inline const struct fuse_in_header *journal_pending(struct journal *j, unsigned region, unsigned slot) {
        const struct fuse_in_header *h = (const struct fuse_in_header *)journal_slot(j, region, slot);
        if (h->len < sizeof(*h) || h->len > JOURNAL_SLOT_SIZE || h->unique == 0)
                return NULL;
        if (h->unique == atomic_load(&j->region[region].done_unique[slot]))
                return NULL;
        return h;
}
