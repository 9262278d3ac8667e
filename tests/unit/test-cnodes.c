#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "clock.h"
#include "cnodes.h"
#include "devs.h"
#include "registration.h"

#define V1_IN(id) "12:memory:/curate/" id "\n11:cpu,cpuacct:/curate/" id "\n0::/\n"

/* in the container: a line at /curate/ID or below; the host's root and a
 * sibling with a longer name are not */
static void test_reader_in(void **state) {
        assert_true(cnodes_reader_in(V1_IN("run-12"), "run-12"));
        assert_true(cnodes_reader_in("0::/curate/run-12\n", "run-12"));
        assert_true(cnodes_reader_in("0::/curate/run-12/payload\n", "run-12"));
        assert_false(cnodes_reader_in("0::/\n", "run-12"));
        assert_false(cnodes_reader_in("12:memory:/\n11:cpu:/\n", "run-12"));
        assert_false(cnodes_reader_in(V1_IN("run-123"), "run-12"));
        assert_false(cnodes_reader_in(V1_IN("run-1"), "run-12"));
        assert_false(cnodes_reader_in("0::/other/curate/run-12\n", "run-12"));
        assert_false(cnodes_reader_in("0::/curate/run-12x\n", "run-12"));
        /* not a valid id: never */
        assert_false(cnodes_reader_in("0::/curate/..\n", ".."));
        assert_false(cnodes_reader_in("0::/curate/\n", ""));
        /* the path may hold ':' */
        assert_false(cnodes_reader_in("0::/x:/curate/run-12\n", "run-12"));
}

/* a fresh serving process finds the id from the reader's cgroup alone */
static void test_reader_find(void **state) {
        char id[REG_ID_MAX + 1] = "";
        uint64_t s12 = cnodes_serial("run-12"), s13 = cnodes_serial("run-13");

        assert_true(s12 != s13);
        assert_true(cnodes_reader_find(V1_IN("run-12"), s12, id));
        assert_string_equal(id, "run-12");
        assert_true(cnodes_reader_find("0::/curate/run-13/deeper\n", s13, id));
        assert_string_equal(id, "run-13");
        /* a reader of another container, or of the host, finds nothing */
        assert_false(cnodes_reader_find(V1_IN("run-13"), s12, id));
        assert_false(cnodes_reader_find("0::/\n", s12, id));
        assert_false(cnodes_reader_find("", s12, id));
}

static bool collect_id(const char *id, void *arg) {
        strcat(arg, id);
        strcat(arg, " ");
        return false;
}

/* the candidates a c/<id>/ cpu tree inode is tried with (cputree.h): each
 * container the reader's cgroup paths name, nothing for the host's root */
static void test_reader_each_id(void **state) {
        char got[256] = "";
        assert_false(cnodes_reader_each_id("12:memory:/curate/run-12/x\n0::/curate/run-13\n1:cpu:/other\n",
                                           collect_id, got));
        assert_string_equal(got, "run-12 run-13 ");
        got[0] = 0;
        assert_false(cnodes_reader_each_id("0::/\n12:memory:/\n0::/curate/..\n", collect_id, got));
        assert_string_equal(got, "");
}

static char *generic(const char *path) {
        static char id[CNODE_GENERIC_ID_LEN + 1];
        cnodes_generic_id(path, strlen(path), id);
        return id;
}

/* the id a lookup of a shared name answers for: /curate/ID's, else the
 * memory hierarchy's cgroup (v1 memory line on hybrid, 0:: on v2), never
 * one for the root, never a valid curate id (not reachable by name) */
static void test_reader_own_id(void **state) {
        char id[REG_ID_MAX + 1] = "";
        const char *hybrid = "12:memory:/libpod_parent/libpod-abc\n11:cpu,cpuacct:/libpod_parent/libpod-abc\n"
                             "0::/user.slice\n";

        assert_true(cnodes_reader_own_id(V1_IN("run-12"), id));
        assert_string_equal(id, "run-12");
        assert_true(cnodes_reader_own_id(hybrid, id));
        assert_string_equal(id, generic("/libpod_parent/libpod-abc"));
        assert_int_equal(strlen(id), CNODE_GENERIC_ID_LEN);
        assert_false(reg_id_valid(id));
        /* v2: the 0:: line; a trailing '/' names the same cgroup */
        assert_true(cnodes_reader_own_id("0::/machine.slice/libpod-x.scope\n", id));
        assert_string_equal(id, generic("/machine.slice/libpod-x.scope"));
        assert_true(cnodes_reader_own_id("0::/machine.slice/libpod-x.scope/\n", id));
        assert_string_equal(id, generic("/machine.slice/libpod-x.scope"));
        /* memory among other controllers on one v1 line, and a name that
         * only starts with "memory" is not it */
        assert_true(cnodes_reader_own_id("3:memsomething:/a\n2:cpu,memory:/b\n0::/c\n", id));
        assert_string_equal(id, generic("/b"));
        assert_true(cnodes_reader_own_id("3:memoryx:/a\n0::/c\n", id));
        assert_string_equal(id, generic("/c"));
        /* the host: the memory hierarchy's root, whatever cgroup2 says */
        assert_false(cnodes_reader_own_id("12:memory:/\n0::/user.slice/x\n", id));
        assert_false(cnodes_reader_own_id("0::/\n", id));
        assert_false(cnodes_reader_own_id("", id));
        assert_false(cnodes_reader_own_id("12:memory:\n", id));
        /* two cgroups, two ids */
        char ab[CNODE_GENERIC_ID_LEN + 1];
        strcpy(ab, generic("/a/b"));
        assert_string_not_equal(ab, generic("/a/c"));
        assert_string_not_equal(ab, generic("/a"));
}

/* a generic node's members: its cgroup and those below it; never one
 * above it, a sibling, one whose name only starts with it, or the root */
static void test_reader_find_generic(void **state) {
        char id[REG_ID_MAX + 1] = "";
        uint64_t s = cnodes_serial(generic("/libpod_parent/libpod-abc"));

        assert_true(cnodes_reader_find("12:memory:/libpod_parent/libpod-abc\n0::/\n", s, id));
        assert_string_equal(id, generic("/libpod_parent/libpod-abc"));
        assert_true(cnodes_reader_find("12:memory:/libpod_parent/libpod-abc/sub/deeper\n0::/\n", s, id));
        assert_false(cnodes_reader_find("12:memory:/libpod_parent\n0::/\n", s, id));
        assert_false(cnodes_reader_find("12:memory:/libpod_parent/libpod-abcd\n0::/\n", s, id));
        assert_false(cnodes_reader_find("12:memory:/libpod_parent/libpod-ab\n0::/\n", s, id));
        assert_false(cnodes_reader_find("12:memory:/\n0::/libpod_parent/libpod-abc\n", s, id));
        assert_false(cnodes_reader_find("12:memory:/\n0::/\n", s, id));
        /* the path in another hierarchy than memory's does not count */
        assert_false(cnodes_reader_find("12:memory:/x\n11:cpu:/libpod_parent/libpod-abc\n", s, id));
        /* a /curate/ID reader is its container's only */
        assert_false(cnodes_reader_find("12:memory:/curate/run-1\n", cnodes_serial(generic("/curate/run-1")), id));
        assert_false(cnodes_reader_find("12:memory:/curate/run-1\n", cnodes_serial(generic("/curate")), id));
        /* not by name below c/ */
        assert_false(cnodes_reader_in("12:memory:/libpod_parent/libpod-abc\n", generic("/libpod_parent/libpod-abc")));
}

/* inode numbers: stable, split back, apart from devs/ and the fixed table */
static void test_ino(void **state) {
        uint64_t s = cnodes_serial("run-4242"), serial;
        size_t index;

        assert_true(s > 0 && s < (1ULL << CNODE_SERIAL_BITS));
        assert_int_equal(s, cnodes_serial("run-4242"));
        uint64_t ino = cnodes_ino(s, 7);
        assert_true(cnodes_is_ino(ino));
        assert_true(cnodes_ino_split(ino, &serial, &index));
        assert_int_equal(serial, s);
        assert_int_equal(index, 7);
        /* the largest devs/ inode is below every c/ inode */
        uint64_t devs_max = devs_ino_make((1ULL << DEVS_SERIAL_BITS) - 1, (1U << DEVS_INDEX_BITS) - 1);
        assert_true(devs_max < CNODE_INO_BASE);
        assert_false(cnodes_is_ino(devs_max));
        assert_false(cnodes_is_ino(31));
        assert_false(cnodes_ino_split(CNODE_INO_BASE + 5, &serial, &index)); /* serial 0 */
        /* the largest c/ inode fits */
        assert_true(cnodes_ino_split(cnodes_ino((1ULL << CNODE_SERIAL_BITS) - 1, 65535), &serial, &index));
}

#define MS (1000 * 1000ULL)
/* when the snapshot whose length was reported may be replaced */
static void test_due(void **state) {
        const uint64_t ttl = 100 * MS, t0 = 1000 * MS;
        struct cnode_clock k = { 0 };

        assert_true(cnodes_snapshot_due(&k, t0, ttl)); /* nothing rendered */
        k = (struct cnode_clock){ .rendered_at = t0 };
        assert_false(cnodes_snapshot_due(&k, t0 + 50 * MS, ttl)); /* within the TTL */
        assert_true(cnodes_snapshot_due(&k, t0 + 150 * MS, ttl)); /* old, nobody in between */
        /* a handle still open on it: kept, up to CNODE_PIN_MAX_NS */
        k.pins = 1;
        assert_false(cnodes_snapshot_due(&k, t0 + 150 * MS, ttl));
        assert_false(cnodes_snapshot_due(&k, t0 + CNODE_PIN_MAX_NS, ttl));
        assert_true(cnodes_snapshot_due(&k, t0 + CNODE_PIN_MAX_NS + 1, ttl));
        /* a size just reported, its OPEN not yet seen: kept for the grace */
        k = (struct cnode_clock){ .rendered_at = t0, .reported_at = t0 + 140 * MS };
        assert_false(cnodes_snapshot_due(&k, t0 + 150 * MS, ttl));
        assert_true(cnodes_snapshot_due(&k, t0 + 140 * MS + CNODE_REPORT_GRACE_NS + 1, ttl));
        assert_true(cnodes_snapshot_due(&k, t0 + CNODE_PIN_MAX_NS + 1, ttl));
}

/* Stamps later than the NOW a caller read before taking the lock (another
 * thread stamped after it): as fresh as can be, never centuries old. */
static void test_stamps_after_now(void **state) {
        const uint64_t ttl = 100 * MS, t0 = 1000 * MS;
        struct cnode_clock k = { .rendered_at = t0 + 1 };

        assert_int_equal(ns_age(t0, t0 + 1), 0);
        assert_int_equal(ns_age(t0 + 5, t0), 5);
        /* rendered just now by another thread: not due */
        assert_false(cnodes_snapshot_due(&k, t0, ttl));
        /* old, but a size reported just now and its OPEN not seen yet */
        k = (struct cnode_clock){ .rendered_at = t0 - 200 * MS, .reported_at = t0 + 1 };
        assert_false(cnodes_snapshot_due(&k, t0, ttl));
        /* nothing opened it yet: a longer rendering waits out the grace of
         * a size another reader was told just now (not its own) */
        assert_false(cnodes_unopened_swap(&k, false, 100, 200, t0));
        assert_true(cnodes_unopened_swap(&k, false, 200, 100, t0)); /* shorter: safe */
        assert_true(cnodes_unopened_swap(&k, true, 100, 200, t0)); /* its own reporter */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reader_in),
                cmocka_unit_test(test_reader_find),
                cmocka_unit_test(test_reader_each_id),
                cmocka_unit_test(test_reader_own_id),
                cmocka_unit_test(test_reader_find_generic),
                cmocka_unit_test(test_ino),
                cmocka_unit_test(test_due),
                cmocka_unit_test(test_stamps_after_now),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
