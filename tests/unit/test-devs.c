#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "devs.h"

static void test_parse(void **state) {
        struct reg_entry *e = NULL;
        unsigned line = 0;
        int n = reg_parse("# GPU 0\n\nnvidia0 c 195 0 0666\n  nvidia-caps/nvidia-cap1\tc 236 1 0444\n"
                           "loop0 b 7 0 660\n", &e, &line);
        assert_int_equal(n, 3);
        assert_string_equal(e[0].path, "nvidia0");
        assert_int_equal(e[0].mode, S_IFCHR | 0666);
        assert_true(e[0].rdev == makedev(195, 0));
        assert_string_equal(e[1].path, "nvidia-caps/nvidia-cap1");
        assert_true(e[1].rdev == makedev(236, 1));
        assert_int_equal(e[2].mode, S_IFBLK | 0660);
        assert_string_equal(e[0].access, "rwm"); /* left out: rwm */
        reg_entries_free(e, n);
        /* the access field, normalised to "rwm" order */
        assert_int_equal(reg_parse("dri/renderD128 c 226 128 0666 wr\nkfd c 235 0 0666 m\n", &e, &line), 2);
        assert_string_equal(e[0].access, "rw");
        assert_string_equal(e[1].access, "m");
        reg_entries_free(e, 2);
        assert_int_equal(reg_parse("", &e, &line), 0);
        reg_entries_free(e, 0);
}

static void test_parse_bad(void **state) {
        static const char *const bad[] = {
                "../x c 1 3 0666", "a/../b c 1 3 0666", "/null c 1 3 0666", "a//b c 1 3 0666",
                "null x 1 3 0666", "null c -1 3 0666", "null c 1 3 0999", "null c 1 3",
                "null c 1 3 0666 extra", "null c 4096 3 0666", "null c 1 3 010000", "./x c 1 3 0666",
                "null c 1 3 0666 rwx", "null c 1 3 0666 rr", "null c 1 3 0666 rwm x",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char text[128];
                struct reg_entry *e = NULL;
                unsigned line = 0;
                snprintf(text, sizeof(text), "ok c 1 3 0666\n\n%s\n", bad[i]);
                assert_int_equal(reg_parse(text, &e, &line), -EINVAL);
                assert_int_equal(line, 3);
        }
}

/* reg_write then reg_read give the same set; the write is a rename, so no
 * temp file is left; a bad id or path is refused and writes nothing */
static void test_write_read(void **state) {
        char dir[] = "/tmp/test-devs.XXXXXX";
        struct reg_entry in[2] = {
                { .path = "nvidia0", .mode = S_IFCHR | 0666, .rdev = makedev(195, 0), .access = "rw" },
                { .path = "dri/card1", .mode = S_IFCHR | 0660, .rdev = makedev(226, 1), .access = "" },
        };
        struct reg_entry *out = NULL;
        char *err = NULL;

        assert_non_null(mkdtemp(dir));
        setenv("CURATE_DEVICES_DIR", dir, 1);
        assert_int_equal(reg_write("run-1", in, 2, &err), 0);
        assert_int_equal(reg_read("run-1", &out, &err), 2);
        assert_string_equal(out[0].path, "nvidia0");
        assert_string_equal(out[0].access, "rw");
        assert_true(out[1].rdev == makedev(226, 1));
        assert_int_equal(out[1].mode, S_IFCHR | 0660);
        assert_string_equal(out[1].access, "rwm");
        reg_entries_free(out, 2);
        assert_int_equal(reg_write("../x", in, 2, &err), -EINVAL);
        assert_non_null(strstr(err, "../x"));
        in[1].path = "../escape";
        assert_int_equal(reg_write("run-2", in, 2, &err), -EINVAL);
        assert_int_equal(reg_read("run-2", &out, &err), -ENOENT);
        assert_non_null(strstr(err, "run-2"));
        assert_int_equal(reg_remove("run-1"), 0);
        assert_int_equal(reg_remove("run-1"), -ENOENT);
        assert_int_equal(rmdir(dir), 0); /* empty: no temp file left behind */
        free(err);
        unsetenv("CURATE_DEVICES_DIR");
}

static void test_id(void **state) {
        assert_true(reg_id_valid("run-1234"));
        assert_true(reg_id_valid("a.b_C-9"));
        assert_false(reg_id_valid(""));
        assert_false(reg_id_valid("."));
        assert_false(reg_id_valid(".."));
        assert_false(reg_id_valid("a/b"));
        assert_false(reg_id_valid("a b"));
}

static void test_reader(void **state) {
        assert_true(devs_reader_allowed("4:memory:/curate/run-1\n0::/\n", "run-1"));
        assert_true(devs_reader_allowed("0::/curate/run-1/inner\n", "run-1"));
        assert_false(devs_reader_allowed("0::/curate/run-10\n", "run-1"));
        assert_false(devs_reader_allowed("0::/curate/run-2\n", "run-1"));
        assert_false(devs_reader_allowed("0::/x/curate/run-1\n", "run-1"));
        assert_true(devs_reader_allowed("4:memory:/\n0::/\n", "run-1"));
        assert_false(devs_reader_allowed("4:memory:/user.slice\n0::/\n", "run-1"));
        assert_false(devs_reader_allowed("", "run-1"));
}

static void test_tree(void **state) {
        struct devs_tree t = { 0 };
        struct reg_entry e[] = {
                { .path = "dri/renderD128", .mode = S_IFCHR | 0666, .rdev = makedev(226, 128) },
                { .path = "dri/card0", .mode = S_IFCHR | 0660, .rdev = makedev(226, 0) },
                { .path = "null", .mode = S_IFCHR | 0666, .rdev = makedev(1, 3) },
        };
        size_t bad = 99;
        assert_int_equal(devs_tree_add(&t, 0, "", DNODE_DIR, S_IFDIR | 0755, 0, NULL), 0);
        assert_int_equal(devs_tree_add(&t, 0, "null", DNODE_DEV, S_IFCHR | 0666, makedev(1, 3), NULL), 1);
        assert_int_equal(devs_tree_add_entries(&t, e, 2, &bad), 0);
        int dri = devs_tree_find(&t, 0, "dri");
        assert_true(dri > 0);
        assert_int_equal(t.n[dri].mode, S_IFDIR | 0755);
        int r = devs_tree_find(&t, dri, "renderD128");
        assert_true(r > 0);
        assert_true(t.n[r].rdev == makedev(226, 128));
        assert_true(devs_tree_find(&t, dri, "card0") > 0);
        assert_int_equal(devs_tree_find(&t, 0, "card0"), -ENOENT);
        assert_int_equal(devs_tree_add_entries(&t, e + 2, 1, &bad), -EEXIST);
        assert_int_equal(bad, 0);
        struct reg_entry through = { .path = "null/x", .mode = S_IFCHR | 0666, .rdev = makedev(1, 3) };
        assert_int_equal(devs_tree_add_entries(&t, &through, 1, &bad), -EEXIST);
        devs_tree_done(&t);
}

/* a node that keeps its index but is not there (a device the host lacks):
 * never found, so a registered node may take its name */
static void test_tree_hidden(void **state) {
        struct devs_tree t = { 0 };
        struct reg_entry tty = { .path = "tty", .mode = S_IFCHR | 0666, .rdev = makedev(5, 0) };
        size_t bad = 99;
        assert_int_equal(devs_tree_add(&t, 0, "", DNODE_DIR, S_IFDIR | 0755, 0, NULL), 0);
        assert_int_equal(devs_tree_add(&t, 0, "tty", DNODE_DEV, S_IFCHR, 0, NULL), 1);
        t.n[1].hidden = true;
        assert_int_equal(devs_tree_add(&t, 0, "pts", DNODE_DIR, S_IFDIR | 0755, 0, NULL), 2);
        assert_int_equal(devs_tree_find(&t, 0, "tty"), -ENOENT);
        assert_int_equal(devs_tree_find(&t, 0, "pts"), 2);
        assert_int_equal(devs_tree_add_entries(&t, &tty, 1, &bad), 0);
        assert_int_equal(devs_tree_find(&t, 0, "tty"), 3);
        devs_tree_done(&t);
}

/* serials are the same in every process (a pure function of their input),
 * nonzero and below 2^47; inodes split back into serial and index */
static void test_serial_ino(void **state) {
        uint64_t a = devs_hash(DEVS_HASH_INIT, "run-1", 6), b = devs_hash(DEVS_HASH_INIT, "run-2", 6);
        assert_true(a != b);
        assert_true(devs_hash(DEVS_HASH_INIT, "run-1", 6) == a);
        assert_true(devs_hash(devs_hash(DEVS_HASH_INIT, "run-", 4), "1", 2) == a);
        assert_true(devs_serial_of_hash(a) == devs_serial_of_hash(a));
        assert_true(devs_serial_of_hash(a) != devs_serial_of_hash(b));
        for (uint64_t h = 0; h < 100000; h++) {
                uint64_t s = devs_serial_of_hash(h * 0x9e3779b97f4a7c15ULL);
                assert_true(s > 0 && s < (1ULL << DEVS_SERIAL_BITS));
        }
        assert_true(devs_serial_of_hash(0) > 0);
        uint64_t serial = 0, max = (1ULL << DEVS_SERIAL_BITS) - 1;
        size_t index = 0;
        assert_true(devs_ino_split(devs_ino_make(max, 65535), &serial, &index));
        assert_true(serial == max);
        assert_int_equal(index, 65535);
        assert_true(devs_ino_make(max, 65535) > DEVS_INO_BASE); /* no wrap */
        assert_true(devs_ino_split(devs_ino_make(1, 0), &serial, &index));
        assert_true(serial == 1 && index == 0);
        /* serial 0 is no tree's: below the first serial's inodes */
        assert_false(devs_ino_split(DEVS_INO_BASE + 5, &serial, &index));
        assert_false(devs_ino_split(42, &serial, &index));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_parse_bad),
                cmocka_unit_test(test_write_read),
                cmocka_unit_test(test_id),
                cmocka_unit_test(test_reader),
                cmocka_unit_test(test_tree),
                cmocka_unit_test(test_tree_hidden),
                cmocka_unit_test(test_serial_ino),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
