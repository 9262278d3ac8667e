/* fs/serve-uring.c's pure parts: reading the kernel's offer of FUSE over
 * io_uring from its INIT, the shared area's geometry, and that a reply no
 * ring thread is waiting for is left to /dev/fuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "journal.h"
#include "serve-loop.h"
#include "serve-uring.h"

/* an INIT request as the kernel sends it: header, then fuse_init_in */
static size_t make_init(uint8_t *buf, uint32_t flags, uint32_t flags2) {
        struct fuse_in_header h = { .opcode = FUSE_INIT, .unique = 2 };
        struct fuse_init_in in = { .major = 7, .minor = 38, .flags = flags, .flags2 = flags2 };

        h.len = sizeof(h) + sizeof(in);
        memcpy(buf, &h, sizeof(h));
        memcpy(buf + sizeof(h), &in, sizeof(in));
        return h.len;
}

static void offered_only_with_the_bit_and_init_ext(void **state) {
        uint8_t buf[256];
        size_t len;

        len = make_init(buf, FUSE_INIT_EXT, (uint32_t)(FUSE_OVER_IO_URING_FLAG >> 32));
        assert_true(serve_uring_offered(buf, len));
        /* flags2 means nothing without FUSE_INIT_EXT */
        len = make_init(buf, 0, (uint32_t)(FUSE_OVER_IO_URING_FLAG >> 32));
        assert_false(serve_uring_offered(buf, len));
        /* another flags2 bit (FUSE_HAS_RESEND, 39) is not the offer */
        len = make_init(buf, FUSE_INIT_EXT, 1u << 7);
        assert_false(serve_uring_offered(buf, len));
        /* the enable_uring=N kernel's INIT */
        len = make_init(buf, FUSE_INIT_EXT, 0);
        assert_false(serve_uring_offered(buf, len));
}

static void a_short_init_offers_nothing(void **state) {
        uint8_t buf[256];
        size_t len = make_init(buf, FUSE_INIT_EXT, (uint32_t)(FUSE_OVER_IO_URING_FLAG >> 32));

        /* an old kernel's fuse_init_in ends before flags2 */
        assert_false(serve_uring_offered(buf, sizeof(struct fuse_in_header) + offsetof(struct fuse_init_in, flags2)));
        assert_false(serve_uring_offered(buf, 0));
        assert_true(serve_uring_offered(buf, len));
}

static void the_area_holds_a_page_aligned_table_and_whole_slots(void **state) {
        for (unsigned nq = 1; nq <= SERVE_URING_QUEUES_MAX; nq *= 2) {
                unsigned nslots = 0;
                size_t size = serve_uring_area_size(nq, &nslots);
                size_t table = size - (size_t)nslots * SERVE_URING_SLOT_SIZE;

                /* room for a replacement's entries beside a live process's */
                assert_true(nslots >= 2 * nq * SERVE_URING_DEPTH);
                assert_int_equal(table % 4096, 0);
                assert_true(table >= nslots * sizeof(struct uring_slot_state));
                assert_int_equal(size % 4096, 0);
        }
        /* the kernel's header fits before the request's copy, and a copy
         * of the largest first argument plus a name fits the page */
        assert_true(sizeof(struct fuse_uring_req_header) <= SERVE_URING_COPY);
        assert_int_equal(sizeof(struct fuse_uring_req_header), 288);
        assert_int_equal(sizeof(struct fuse_uring_cmd_req), 24);
        assert_true(SERVE_URING_COPY_MAX >= sizeof(struct fuse_in_header) + FUSE_URING_OP_IN_OUT_SZ + 256);
        /* the kernel wants a payload of at least max(8 KiB, max_write) */
        assert_true(SERVE_URING_PAYLOAD >= 8192 && SERVE_URING_PAYLOAD >= JOURNAL_MAX_WRITE);
}

static void a_reply_outside_a_ring_thread_goes_to_dev_fuse(void **state) {
        struct fuse_out_header out = { .len = sizeof(out), .unique = 42 };
        struct iovec iov[1] = { { &out, sizeof(out) } };
        struct serve s = { 0 };
        ssize_t len = -1;

        assert_false(serve_uring_reply(&s, iov, 1, &len));
        assert_int_equal(len, -1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(offered_only_with_the_bit_and_init_ext),
                cmocka_unit_test(a_short_init_offers_nothing),
                cmocka_unit_test(the_area_holds_a_page_aligned_table_and_whole_slots),
                cmocka_unit_test(a_reply_outside_a_ring_thread_goes_to_dev_fuse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
