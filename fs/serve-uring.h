#pragma once
/* FUSE over io_uring (Linux >= 6.14, docs/fuse-io-uring.md): one queue per
 * possible CPU, each served by a thread (pinned to that CPU where the daemon
 * may run there) with a ring of its own; requests arrive in, and replies
 * leave from, buffers the kernel was given at REGISTER, one
 * IORING_OP_URING_CMD (COMMIT_AND_FETCH) per reply and no read/writev.
 *
 * The buffers live in the journal's memfd, past the /dev/fuse slots, mapped
 * by every serving process at the same address (SERVE_URING_ADDR): the
 * kernel keeps raw user addresses and checks no owner, so a replacement
 * answers (commits) what a dead process was handed, in the dead process's
 * buffer, and the kernel gives that entry to the replacement. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct serve;

enum transport {
        TRANSPORT_AUTO, /* io_uring where the kernel offers it, else /dev/fuse */
        TRANSPORT_URING,
        TRANSPORT_DEV,
};
extern const char *const transport_names[3];

/* what journal_stats.transport says: which path serves */
enum transport_state {
        TRANSPORT_STATE_DEV = 0,   /* /dev/fuse only */
        TRANSPORT_STATE_URING = 1, /* every queue registered: the kernel sends requests to the rings */
};

/* ---- the kernel's interface (include/uapi/linux/fuse.h, protocol 7.42;
 * Debian 12's linux/fuse.h is 7.38 and has none of it) ---- */
#define FUSE_OVER_IO_URING_FLAG (1ULL << 41) /* INIT flags (flags2 bit 9) */
#define FUSE_URING_IN_OUT_HEADER_SZ 128
#define FUSE_URING_OP_IN_OUT_SZ 128
struct fuse_uring_ent_in_out {
        uint64_t flags;
        uint64_t commit_id; /* the request's unique */
        uint32_t payload_sz;
        uint32_t padding;
        uint64_t reserved;
};
struct fuse_uring_req_header {
        char in_out[FUSE_URING_IN_OUT_HEADER_SZ]; /* fuse_in_header in, fuse_out_header out */
        char op_in[FUSE_URING_OP_IN_OUT_SZ];      /* the request's first argument */
        struct fuse_uring_ent_in_out ring_ent_in_out;
};
enum fuse_uring_cmd {
        FUSE_IO_URING_CMD_INVALID = 0,
        FUSE_IO_URING_CMD_REGISTER = 1,
        FUSE_IO_URING_CMD_COMMIT_AND_FETCH = 2,
};
struct fuse_uring_cmd_req {
        uint64_t flags;
        uint64_t commit_id;
        uint16_t qid;
        uint8_t padding[6];
};

/* ---- the shared area ---- */
#define SERVE_URING_ADDR ((uintptr_t)0x3c0000000000ULL)
#define SERVE_URING_DEPTH 1       /* entries per queue and process */
#define SERVE_URING_PAYLOAD (64 * 1024)
#define SERVE_URING_SLOT_SIZE (4096 + SERVE_URING_PAYLOAD) /* header page, payload */
#define SERVE_URING_QUEUES_MAX 1024

struct uring_slot_state {
        _Atomic int32_t owner;           /* pid of the process whose entry it is; 0: free */
        _Atomic uint32_t qid;
        _Atomic uint64_t taken_unique;   /* the request copied to the slot's spare page (SERVE_URING_COPY) */
        _Atomic uint64_t replied_unique; /* ... whose reply is whole in the buffers */
        _Atomic uint64_t done_unique;    /* ... whose commit was submitted */
};
/* The slot's first page past the kernel's header: the request, whole, as
 * libfuse takes it (fuse_in_header, then its arguments), copied there before
 * it is run: the reply overwrites the kernel's copy, and a replacement that
 * must run it again finds it here. */
#define SERVE_URING_COPY 512
#define SERVE_URING_COPY_MAX (4096 - SERVE_URING_COPY)

/* Is the kernel offering FUSE over io_uring in this INIT (the journal's)? */
bool serve_uring_offered(const uint8_t *init, size_t len);
/* The bytes the area takes for NQUEUES queues (table + slots), and its
 * number of slots. */
size_t serve_uring_area_size(unsigned nqueues, unsigned *ret_nslots);

/* Serve S's connection over io_uring too: maps the area, starts a thread
 * per possible CPU. MNT: the mount point (a statfs there from each CPU
 * drains requests queued while no process served). Returns 0 once every
 * queue is registered, -EOPNOTSUPP when the INIT offered no io_uring, or a
 * negative errno (the /dev/fuse path serves on in every case). */
int serve_uring_start(struct serve *s, const char *mnt);
/* Stop the ring threads (what they were handed is answered, or left in
 * the buffers for a replacement to answer). */
void serve_uring_stop(struct serve *s);

/* The reply of the request a ring thread runs through the session, caught
 * by the session's writev (serve-loop.c): true when taken for the ring. */
bool serve_uring_reply(struct serve *s, const struct iovec *iov, int count, ssize_t *ret_len);
