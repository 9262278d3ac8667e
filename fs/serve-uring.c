#include "config.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <liburing.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include "journal.h"
#include "serve-loop.h"
#include "serve-uring.h"
#include "sysinfo-notify.h"

const char *const transport_names[3] = { "auto", "uring", "dev" };

/* The area, at offset JOURNAL_SIZE of the journal's memfd:
 *   page-aligned table: nslots x struct uring_slot_state
 *   nslots x SERVE_URING_SLOT_SIZE: [fuse_uring_req_header | pad to 4096][payload]
 * Every serving process on this host computes the same geometry (the
 * possible CPUs), so the area needs no agreement beyond its address. A slot
 * is a process's entry while its owner is that pid; an owner gone, the slot
 * holds either a request it was handed (answered by whoever claims it: the
 * kernel then gives the entry to that process) or nothing any more (the
 * kernel cancelled the entry when its process exited, and never writes it
 * again): free to register anew. */
#define POOL_FACTOR 8 /* slots per (queue, depth): one live process, one replacement, orphans */
#define SCAN_NS (100 * 1000 * 1000ULL)
/* the user_data of a thread's exit trigger (see arm_exit_cancel); slots'
 * user_data are below nslots */
#define EXIT_CANCEL_TAG UINT64_MAX

struct uring_thread;

struct uring_state {
        struct serve *s;
        const char *mnt;
        uint8_t *area;
        struct uring_slot_state *table;
        unsigned nqueues, nslots;
        struct uring_thread *t;
        unsigned started;
        atomic_bool stopping;
        cpu_set_t allowed;
        struct io_uring idle;   /* a ring that never completes anything (arm_exit_cancel) */
        bool idle_ok;
};

struct uring_thread {
        struct uring_state *u;
        unsigned qid;
        pthread_t thread;
        struct io_uring ring;
        bool ring_ok;
        int result;             /* < 0: REGISTER refused (the errno) */
        atomic_int registered;  /* 1 once its entries are registered, -1 refused */
        atomic_bool kicking;    /* a kick (statfs from its CPU) is under way */
        unsigned owned;         /* entries it holds */
        uint8_t *scratch;       /* the request, contiguous, for libfuse */
        /* commits queued and not known submitted: (slot, unique) */
        uint64_t pending[SERVE_URING_DEPTH * POOL_FACTOR * 2][2];
        unsigned npending;
};

/* the request a ring thread runs through the session now */
struct ring_current {
        struct uring_thread *t;
        unsigned slot;
        uint64_t unique;
        bool replied;
};
static __thread struct ring_current *current_req;

static void ulog(const struct serve *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ulog(const struct serve *s, const char *fmt, ...) {
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (s->log)
                s->log(msg);
}

bool serve_uring_offered(const uint8_t *init, size_t len) {
        return journal_init_flags(init, len) & FUSE_OVER_IO_URING_FLAG;
}

static size_t table_size(unsigned nslots) {
        return ((size_t)nslots * sizeof(struct uring_slot_state) + 4095) & ~(size_t)4095;
}

size_t serve_uring_area_size(unsigned nqueues, unsigned *ret_nslots) {
        unsigned nslots = nqueues * SERVE_URING_DEPTH * POOL_FACTOR;

        if (ret_nslots)
                *ret_nslots = nslots;
        return table_size(nslots) + (size_t)nslots * SERVE_URING_SLOT_SIZE;
}

static struct fuse_uring_req_header *slot_header(const struct uring_state *u, unsigned slot) {
        return (void *)(u->area + table_size(u->nslots) + (size_t)slot * SERVE_URING_SLOT_SIZE);
}

static uint8_t *slot_payload(const struct uring_state *u, unsigned slot) {
        return (uint8_t *)slot_header(u, slot) + 4096;
}

/* ---- replies ---- */

bool serve_uring_reply(struct serve *s, const struct iovec *iov, int count, ssize_t *ret_len) {
        struct ring_current *c = current_req;
        const struct fuse_out_header *out = iov[0].iov_base;
        struct fuse_uring_req_header *h;
        struct fuse_out_header oh;
        size_t total = 0, len = 0;
        uint8_t *p;

        if (!c || count < 1 || iov[0].iov_len < sizeof(*out) || out->unique != c->unique || c->replied)
                return false;
        for (int i = 0; i < count; i++)
                total += iov[i].iov_len;
        h = slot_header(c->t->u, c->slot);
        p = slot_payload(c->t->u, c->slot);
        oh = *out;
        if (total - sizeof(*out) > SERVE_URING_PAYLOAD) {
                /* cannot happen with curatefs's replies (reads of at most
                 * max_pages); answered as an error, never cut short */
                oh.error = -EIO;
                len = 0;
        } else {
                memcpy(p, (const uint8_t *)iov[0].iov_base + sizeof(*out), iov[0].iov_len - sizeof(*out));
                len = iov[0].iov_len - sizeof(*out);
                for (int i = 1; i < count; i++) {
                        memcpy(p + len, iov[i].iov_base, iov[i].iov_len);
                        len += iov[i].iov_len;
                }
        }
        oh.len = sizeof(oh) + len;
        memcpy(h->in_out, &oh, sizeof(oh));
        h->ring_ent_in_out.payload_sz = len;
        c->replied = true;
        journal_count_reply(s->j, oh.error, true);
        *ret_len = total;
        return true;
}

/* ---- the commands ---- */

static struct io_uring_sqe *cmd_sqe(struct uring_thread *t, unsigned op, unsigned slot, uint64_t commit_id) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&t->ring);
        struct fuse_uring_cmd_req *req;

        if (!sqe) {
                (void)io_uring_submit(&t->ring);
                sqe = io_uring_get_sqe(&t->ring);
                if (!sqe)
                        return NULL;
        }
        memset(sqe, 0, 128); /* SQE128 */
        sqe->opcode = IORING_OP_URING_CMD;
        sqe->fd = t->u->s->fd;
        sqe->cmd_op = op;
        sqe->user_data = slot;
        req = (struct fuse_uring_cmd_req *)sqe->cmd;
        req->qid = t->qid;
        req->commit_id = commit_id;
        return sqe;
}

/* Queue the commit of SLOT's reply to UNIQUE (sent with the next wait): its
 * reply is whole in the buffers now. */
static void commit(struct uring_thread *t, unsigned slot, uint64_t unique) {
        atomic_store(&t->u->table[slot].replied_unique, unique);
        if (!cmd_sqe(t, FUSE_IO_URING_CMD_COMMIT_AND_FETCH, slot, unique)) {
                ulog(t->u->s, "io_uring: no submission entry for the reply to %llu", (unsigned long long)unique);
                return;
        }
        if (t->npending < sizeof(t->pending) / sizeof(t->pending[0])) {
                t->pending[t->npending][0] = slot;
                t->pending[t->npending++][1] = unique;
        }
}

/* The queued commits went out with a submission: a replacement needs not
 * answer those again (an optimisation only: answering one again is refused
 * with ENOENT, which is harmless). */
static void commits_submitted(struct uring_thread *t) {
        for (unsigned i = 0; i < t->npending; i++)
                atomic_store(&t->u->table[t->pending[i][0]].done_unique, t->pending[i][1]);
        t->npending = 0;
}

/* REGISTER SLOT's buffers for our queue. The iovecs are read when the SQE
 * is submitted: kept until then (REG). */
static int register_slot(struct uring_thread *t, unsigned slot, struct iovec reg[2]) {
        struct io_uring_sqe *sqe = cmd_sqe(t, FUSE_IO_URING_CMD_REGISTER, slot, 0);

        if (!sqe)
                return -EBUSY;
        reg[0] = (struct iovec){ slot_header(t->u, slot), sizeof(struct fuse_uring_req_header) };
        reg[1] = (struct iovec){ slot_payload(t->u, slot), SERVE_URING_PAYLOAD };
        sqe->addr = (uintptr_t)reg;
        sqe->len = 2;
        return 0;
}

static void reply_error(struct fuse_uring_req_header *h, uint64_t unique, int error) {
        struct fuse_out_header oh = { .len = sizeof(oh), .error = error, .unique = unique };
        memcpy(h->in_out, &oh, sizeof(oh));
        h->ring_ent_in_out.payload_sz = 0;
}

/* Copy the request the kernel put in SLOT to its spare page (or, too big
 * for it, to the thread's scratch), whole: 0, or -EBADMSG when its lengths
 * do not add up. */
static int take_request(struct uring_thread *t, unsigned slot, uint8_t **ret_buf, size_t *ret_len) {
        struct uring_state *u = t->u;
        struct fuse_uring_req_header *h = slot_header(u, slot);
        uint8_t *copy = (uint8_t *)h + SERVE_URING_COPY;
        uint32_t payload = h->ring_ent_in_out.payload_sz;
        struct fuse_in_header in;
        size_t op_len, len;

        memcpy(&in, h->in_out, sizeof(in));
        /* the first argument is in op_in, the rest in the payload: libfuse
         * takes them as /dev/fuse gives them, one after the other */
        if (in.len < sizeof(in) + (size_t)payload || payload > SERVE_URING_PAYLOAD ||
            (op_len = in.len - sizeof(in) - payload) > FUSE_URING_OP_IN_OUT_SZ) {
                ulog(u->s, "io_uring: request %llu (opcode %u) has lengths that do not add up (%u, payload %u)",
                     (unsigned long long)in.unique, in.opcode, in.len, payload);
                return -EBADMSG;
        }
        len = sizeof(in) + op_len + payload;
        if (len > SERVE_URING_COPY_MAX)
                copy = t->scratch; /* not kept: a replacement cannot run it again */
        memcpy(copy, &in, sizeof(in));
        memcpy(copy + sizeof(in), h->op_in, op_len);
        memcpy(copy + sizeof(in) + op_len, slot_payload(u, slot), payload);
        if (copy != t->scratch)
                atomic_store(&u->table[slot].taken_unique, in.unique);
        *ret_buf = copy;
        *ret_len = len;
        return 0;
}

/* Run the request BUF (LEN bytes) of SLOT through the session, the reply
 * into the slot's buffers (EIO where the session gave none), and queue its
 * commit. */
static void run_request(struct uring_thread *t, unsigned slot, uint8_t *buf, size_t len) {
        struct uring_state *u = t->u;
        const struct fuse_in_header *in = (const void *)buf;
        struct ring_current c = { .t = t, .slot = slot, .unique = in->unique };

        current_req = &c;
        fuse_session_process_buf(u->s->se, &(struct fuse_buf){ .mem = buf, .size = len });
        current_req = NULL;
        if (!c.replied)
                reply_error(slot_header(u, slot), c.unique, -EIO);
        commit(t, slot, c.unique);
}

/* The request the kernel put in SLOT: taken, run, answered. */
static void serve_slot(struct uring_thread *t, unsigned slot) {
        struct fuse_uring_req_header *h = slot_header(t->u, slot);
        struct fuse_in_header in;
        uint8_t *buf;
        size_t len;

        if (take_request(t, slot, &buf, &len) < 0) {
                memcpy(&in, h->in_out, sizeof(in));
                reply_error(h, in.unique, -EIO);
                commit(t, slot, in.unique);
                return;
        }
        run_request(t, slot, buf, len);
}

/* ---- slots ---- */

static bool claim(struct uring_state *u, unsigned slot, int32_t from) {
        return atomic_compare_exchange_strong(&u->table[slot].owner, &from, (int32_t)getpid());
}

/* Populate the slot's pages now: the kernel's copy into them must not
 * fault while a fatal signal is pending (journal.h). */
static void touch(struct uring_state *u, unsigned slot) {
        uint8_t *p = (uint8_t *)slot_header(u, slot);
        for (size_t off = 0; off < SERVE_URING_SLOT_SIZE; off += 4096)
                (void)*(volatile uint8_t *)(p + off);
}

/* Claim free slots for our queue and register them, until we hold WANT
 * entries. */
static int register_entries(struct uring_thread *t, unsigned want) {
        struct uring_state *u = t->u;
        struct iovec reg[SERVE_URING_DEPTH][2];
        unsigned n = 0;

        for (unsigned slot = 0; slot < u->nslots && t->owned + n < want && n < SERVE_URING_DEPTH; slot++) {
                if (atomic_load(&u->table[slot].owner) != 0 || !claim(u, slot, 0))
                        continue;
                atomic_store(&u->table[slot].qid, t->qid);
                atomic_store(&u->table[slot].taken_unique, 0);
                atomic_store(&u->table[slot].replied_unique, 0);
                atomic_store(&u->table[slot].done_unique, 0);
                memset(slot_header(u, slot), 0, SERVE_URING_COPY + sizeof(struct fuse_in_header));
                touch(u, slot);
                if (register_slot(t, slot, reg[n]) < 0) {
                        atomic_store(&u->table[slot].owner, 0);
                        break;
                }
                n++;
        }
        if (n == 0)
                return t->owned > 0 ? 0 : -ENOSPC;
        int r = io_uring_submit(&t->ring);
        if (r < 0)
                return r;
        t->owned += n;
        return 0;
}

/* Answer what processes now gone were handed on our queue (the kernel gives
 * us those entries), free the rest of their slots. Returns how many
 * requests were answered. What a slot holds, by what its owner had
 * recorded (each record is written after what it describes):
 *   the kernel's header names a request other than the one taken: a new
 *     request its owner never saw: run it;
 *   the one taken, its commit submitted: answered; the kernel cancelled
 *     the entry when its process exited (or gave it a request we see
 *     above): nothing to do but free it;
 *   the one taken, its reply whole: commit it as it is;
 *   the one taken, no whole reply: run it again from the copy. */
static unsigned adopt_orphans(struct uring_thread *t) {
        struct uring_state *u = t->u;
        pid_t me = getpid();
        unsigned n = 0;

        for (unsigned slot = 0; slot < u->nslots; slot++) {
                struct uring_slot_state *st = &u->table[slot];
                int32_t owner = atomic_load(&st->owner);
                struct fuse_uring_req_header *h = slot_header(u, slot);
                const struct fuse_in_header *copy = (const void *)((uint8_t *)h + SERVE_URING_COPY);
                struct fuse_in_header in;
                uint64_t taken;

                if (owner == 0 || owner == me || atomic_load(&st->qid) != t->qid || !sysinfo_pid_gone(owner) ||
                    !claim(u, slot, owner))
                        continue;
                memcpy(&in, h->in_out, sizeof(in));
                taken = atomic_load(&st->taken_unique);
                if (in.unique != 0 && in.unique != taken)
                        serve_slot(t, slot);
                else if (in.unique == 0 || atomic_load(&st->done_unique) == taken) {
                        atomic_store(&st->owner, 0);
                        continue;
                } else if (atomic_load(&st->replied_unique) == taken)
                        commit(t, slot, taken);
                else if (copy->unique == taken && copy->len >= sizeof(*copy) && copy->len <= SERVE_URING_COPY_MAX)
                        run_request(t, slot, (uint8_t *)copy, copy->len);
                else {
                        /* taken into a process's scratch (too big to
                         * keep): its arguments are gone; fail it rather
                         * than leave its reader waiting */
                        reply_error(h, taken, -EIO);
                        commit(t, slot, taken);
                }
                t->owned++;
                n++;
        }
        return n;
}

/* A request from each CPU whose queue we serve: one from that CPU takes a
 * free entry, and its commit fetches what queued there while no entry was
 * free (a fresh REGISTER does not). */
static void *kick_main(void *arg) {
        struct uring_thread *t = arg; /* never freed: serve_uring_stop leaves it to the process's exit */
        struct statfs st;

        /* until one is answered: a dead process's armed entry, not yet torn
         * down by the kernel, fails it (ECANCELED) and fetches nothing */
        for (int i = 0; i < 100 && statfs(t->u->mnt, &st) < 0 && errno != ENOENT && errno != ENOTCONN; i++)
                usleep(10 * 1000);
        atomic_store(&t->kicking, false);
        return NULL;
}

static void kick(struct uring_thread *t) {
        pthread_attr_t attr;
        pthread_t k;
        cpu_set_t one;

        if (!t->u->mnt || !CPU_ISSET(t->qid, &t->u->allowed))
                return;
        /* one at a time: a kick blocked behind a queue no entry serves must
         * not be joined by another every scan */
        if (atomic_exchange(&t->kicking, true))
                return;
        CPU_ZERO(&one);
        CPU_SET(t->qid, &one);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
        if (pthread_create(&k, &attr, kick_main, t) != 0) {
                atomic_store(&t->kicking, false);
                ulog(t->u->s, "io_uring: cannot start the kick of queue %u", t->qid);
        }
        pthread_attr_destroy(&attr);
}

/* ---- a queue's thread ---- */

/* Make this thread's exit cancel its entries at once. The kernel hands a
 * request to an entry of our queue from the reader's CPU and the copy into
 * our buffers runs in this thread (task_work); a thread exiting (killed, or
 * at the end) runs its own io_uring cancellation first thing in do_exit,
 * before it is marked exiting, but that pass stops early unless the thread
 * has a *tracked* request in flight, and FUSE's entries are not tracked: they
 * would stay on offer until the ring is torn down, and a request handed to
 * one meanwhile ends with ECANCELED (docs/fuse-io-uring.md). A poll of
 * another io_uring's fd is tracked (the kernel must break such reference
 * cycles at exit), so one poll of a ring that never completes anything
 * makes the pass run: it takes our free entries off offer (-ENOTCONN) and
 * runs the copies of requests already handed to them while the thread can
 * still take them, so the requests wait in their slots for the replacement
 * (adopt_orphans). */
static void arm_exit_cancel(struct uring_thread *t) {
        struct io_uring_sqe *sqe;

        if (!t->u->idle_ok || !(sqe = io_uring_get_sqe(&t->ring)))
                return;
        io_uring_prep_poll_add(sqe, t->u->idle.ring_fd, POLLIN);
        io_uring_sqe_set_data64(sqe, EXIT_CANCEL_TAG);
}

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void *ring_main(void *arg) {
        struct uring_thread *t = arg;
        struct uring_state *u = t->u;
        uint64_t last_scan;
        int r;

        struct io_uring_params p = { .flags = IORING_SETUP_SQE128 | IORING_SETUP_CQSIZE,
                                     .cq_entries = 4 * SERVE_URING_DEPTH * POOL_FACTOR };
        r = io_uring_queue_init_params(2 * SERVE_URING_DEPTH * POOL_FACTOR, &t->ring, &p);
        if (r == 0) {
                t->ring_ok = true;
                arm_exit_cancel(t);
                /* what processes gone left on our queue first (the kernel
                 * gives us those entries), then DEPTH fresh entries besides:
                 * the kernel may refuse an orphan's commit (ENOENT: it had
                 * failed that request itself), and that entry is gone */
                (void)adopt_orphans(t);
                r = register_entries(t, t->owned + SERVE_URING_DEPTH);
                if (io_uring_submit(&t->ring) < 0 && r == 0)
                        r = -errno;
        }
        if (r == 0) {
                /* a REGISTER the kernel refuses completes at once */
                struct io_uring_cqe *cqe;
                unsigned head;
                io_uring_for_each_cqe(&t->ring, head, cqe) {
                        if (cqe->res < 0 && cqe->res != -EAGAIN && cqe->user_data < u->nslots &&
                            atomic_load(&u->table[cqe->user_data].taken_unique) == 0)
                                r = cqe->res;
                }
        }
        if (r < 0) {
                t->result = r;
                atomic_store(&t->registered, -1);
                return NULL;
        }
        atomic_store(&t->registered, 1);
        /* a fresh REGISTER fetches none of the requests queued while no
         * process served; a request from our CPU does (and so does the
         * commit of an orphan, unless the kernel refuses it: ENOENT, a
         * request it had failed itself) */
        kick(t);
        last_scan = now_ns();
        while (!atomic_load(&u->stopping)) {
                struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = SCAN_NS };
                struct io_uring_cqe *cqe;
                unsigned head, seen = 0;

                /* one system call: the commits of the last batch go out and
                 * we wait for the next request */
                r = io_uring_submit_and_wait_timeout(&t->ring, &cqe, 1, &ts, NULL);
                if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
                        ulog(u->s, "io_uring: queue %u: waiting: %s", t->qid, strerror(-r));
                        break;
                }
                if (r >= 0 || r == -ETIME || r == -EINTR)
                        commits_submitted(t);
                io_uring_for_each_cqe(&t->ring, head, cqe) {
                        unsigned slot = (unsigned)cqe->user_data;
                        seen++;
                        if (cqe->user_data == EXIT_CANCEL_TAG) {
                                /* the idle ring never completes it: only an
                                 * error does (logged, not armed again) */
                                ulog(u->s, "io_uring: queue %u: the exit trigger ended: %s", t->qid,
                                     strerror(-cqe->res));
                                continue;
                        }
                        if (slot >= u->nslots)
                                continue;
                        if (cqe->res == 0)
                                serve_slot(t, slot);
                        else if (cqe->res == -EAGAIN) {
                                /* before INIT was processed: again */
                                struct iovec reg[2];
                                if (register_slot(t, slot, reg) == 0)
                                        (void)io_uring_submit(&t->ring);
                        } else {
                                /* ENOTCONN: unmounted or aborted; ENOENT: a
                                 * commit of a request already answered (an
                                 * orphan's); the entry is no longer ours */
                                if (cqe->res != -ENOENT && cqe->res != -ENOTCONN && cqe->res != -ECONNABORTED)
                                        ulog(u->s, "io_uring: queue %u slot %u: %s", t->qid, slot, strerror(-cqe->res));
                                atomic_store(&u->table[slot].owner, 0);
                                if (t->owned > 0)
                                        t->owned--;
                        }
                }
                io_uring_cq_advance(&t->ring, seen);
                if (now_ns() - last_scan >= SCAN_NS) {
                        if (adopt_orphans(t) > 0 && io_uring_submit(&t->ring) >= 0) {
                                commits_submitted(t);
                                kick(t);
                        }
                        if (t->owned < SERVE_URING_DEPTH && register_entries(t, SERVE_URING_DEPTH) == 0)
                                kick(t);
                        last_scan = now_ns();
                }
        }
        /* the commits of what was answered last */
        (void)io_uring_submit(&t->ring);
        return NULL;
}

static int map_area(struct uring_state *u) {
        size_t size = serve_uring_area_size(u->nqueues, &u->nslots);
        struct stat st;
        void *p;

        if (fstat(u->s->journal_fd, &st) < 0)
                return -errno;
        if ((size_t)st.st_size < JOURNAL_SIZE + size && ftruncate(u->s->journal_fd, JOURNAL_SIZE + size) < 0)
                return -errno;
        p = mmap((void *)SERVE_URING_ADDR, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE,
                 u->s->journal_fd, JOURNAL_SIZE);
        if (p == MAP_FAILED)
                return -errno;
        if (p != (void *)SERVE_URING_ADDR) {
                munmap(p, size); /* a kernel without MAP_FIXED_NOREPLACE (< 4.17) */
                return -EEXIST;
        }
        u->area = p;
        u->table = p;
        return 0;
}

static unsigned possible_cpus(void) {
        long n = sysconf(_SC_NPROCESSORS_CONF);
        return n < 1 ? 1 : (unsigned)n;
}

int serve_uring_start(struct serve *s, const char *mnt) {
        struct uring_state *u;
        unsigned ok = 0;
        int r = 0;

        if (!serve_uring_offered(s->j->head.init, atomic_load(&s->j->head.init_len)))
                return -EOPNOTSUPP;
        u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        u->s = s;
        u->mnt = mnt;
        /* the kernel makes a queue per possible CPU and routes requests to
         * the rings only once every one of them has an entry */
        u->nqueues = possible_cpus();
        if (u->nqueues > SERVE_URING_QUEUES_MAX) {
                free(u);
                return -E2BIG;
        }
        if (sched_getaffinity(0, sizeof(u->allowed), &u->allowed) < 0)
                CPU_ZERO(&u->allowed);
        r = map_area(u);
        if (r < 0) {
                ulog(s, "io_uring: cannot map the buffers at %#lx: %s", (unsigned long)SERVE_URING_ADDR, strerror(-r));
                free(u);
                return r;
        }
        u->t = calloc(u->nqueues, sizeof(*u->t));
        if (!u->t) {
                munmap(u->area, serve_uring_area_size(u->nqueues, NULL));
                free(u);
                return -ENOMEM;
        }
        s->uring = u;
        /* before the threads (arm_exit_cancel); from here serve_uring_stop
         * undoes everything */
        r = io_uring_queue_init(1, &u->idle, 0);
        if (r < 0)
                ulog(s, "io_uring: cannot make the idle ring: %s; a killed process's entries stay on offer until "
                        "its rings close", strerror(-r));
        u->idle_ok = r == 0;
        r = 0;
        for (unsigned q = 0; q < u->nqueues; q++) {
                struct uring_thread *t = &u->t[q];
                pthread_attr_t attr;
                cpu_set_t one;

                *t = (struct uring_thread){ .u = u, .qid = q };
                t->scratch = malloc(sizeof(struct fuse_in_header) + FUSE_URING_OP_IN_OUT_SZ + SERVE_URING_PAYLOAD);
                if (!t->scratch) {
                        r = -ENOMEM;
                        break;
                }
                pthread_attr_init(&attr);
                /* on its CPU where we may run there: the kernel queues a
                 * request on the queue of the CPU its reader runs on */
                CPU_ZERO(&one);
                CPU_SET(q, &one);
                if (CPU_ISSET(q, &u->allowed))
                        pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
                r = -pthread_create(&t->thread, &attr, ring_main, t);
                pthread_attr_destroy(&attr);
                if (r < 0)
                        break;
                u->started++;
        }
        /* every queue's REGISTER in, or the first refusal */
        for (unsigned q = 0; r == 0 && q < u->started; q++) {
                while (atomic_load(&u->t[q].registered) == 0)
                        usleep(200);
                if (atomic_load(&u->t[q].registered) < 0)
                        r = u->t[q].result;
        }
        if (r == 0 && u->started == u->nqueues) {
                atomic_store(&s->j->stats.transport, TRANSPORT_STATE_URING);
                atomic_store(&s->j->stats.uring_queues, u->nqueues);
                ok = u->nqueues;
        }
        if (!ok) {
                ulog(s, "io_uring: cannot register the queues: %s; serving through /dev/fuse", strerror(-r));
                serve_uring_stop(s);
                return r < 0 ? r : -EIO;
        }
        return 0;
}

void serve_uring_stop(struct serve *s) {
        struct uring_state *u = s->uring;

        if (!u)
                return;
        atomic_store(&u->stopping, true);
        for (unsigned q = 0; q < u->started; q++) {
                /* SIGUSR1 (a no-op handler) ends its wait; the wait ends by
                 * itself every SCAN_NS too */
                pthread_kill(u->t[q].thread, SIGUSR1);
                pthread_join(u->t[q].thread, NULL);
        }
        for (unsigned q = 0; q < u->nqueues; q++)
                if (u->t[q].ring_ok)
                        io_uring_queue_exit(&u->t[q].ring);
        /* the threads' polls of it ended with them */
        if (u->idle_ok)
                io_uring_queue_exit(&u->idle);
        u->idle_ok = false;
        /* the area stays mapped: a kernel entry still registered with its
         * addresses may yet be handed a request until this process exits;
         * and U stays: a kick may still be under way (this process is
         * about to exit) */
        s->uring = NULL;
}
