#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "devs.h"

static void test_parse(void **state) {
        struct devs_entry *e = NULL;
        unsigned line = 0;
        int n = devs_parse("# GPU 0\n\nnvidia0 c 195 0 0666\n  nvidia-caps/nvidia-cap1\tc 236 1 0444\n"
                           "loop0 b 7 0 660\n", &e, &line);
        assert_int_equal(n, 3);
        assert_string_equal(e[0].path, "nvidia0");
        assert_int_equal(e[0].mode, S_IFCHR | 0666);
        assert_true(e[0].rdev == makedev(195, 0));
        assert_string_equal(e[1].path, "nvidia-caps/nvidia-cap1");
        assert_true(e[1].rdev == makedev(236, 1));
        assert_int_equal(e[2].mode, S_IFBLK | 0660);
        devs_entries_free(e, n);
        assert_int_equal(devs_parse("", &e, &line), 0);
        devs_entries_free(e, 0);
}

static void test_parse_bad(void **state) {
        static const char *const bad[] = {
                "../x c 1 3 0666", "a/../b c 1 3 0666", "/null c 1 3 0666", "a//b c 1 3 0666",
                "null x 1 3 0666", "null c -1 3 0666", "null c 1 3 0999", "null c 1 3",
                "null c 1 3 0666 extra", "null c 4096 3 0666", "null c 1 3 010000", "./x c 1 3 0666",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char text[128];
                struct devs_entry *e = NULL;
                unsigned line = 0;
                snprintf(text, sizeof(text), "ok c 1 3 0666\n\n%s\n", bad[i]);
                assert_int_equal(devs_parse(text, &e, &line), -EINVAL);
                assert_int_equal(line, 3);
        }
}

static void test_id(void **state) {
        assert_true(devs_id_valid("run-1234"));
        assert_true(devs_id_valid("a.b_C-9"));
        assert_false(devs_id_valid(""));
        assert_false(devs_id_valid("."));
        assert_false(devs_id_valid(".."));
        assert_false(devs_id_valid("a/b"));
        assert_false(devs_id_valid("a b"));
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
        struct devs_entry e[] = {
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
        struct devs_entry through = { .path = "null/x", .mode = S_IFCHR | 0666, .rdev = makedev(1, 3) };
        assert_int_equal(devs_tree_add_entries(&t, &through, 1, &bad), -EEXIST);
        devs_tree_done(&t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_parse_bad),
                cmocka_unit_test(test_id),
                cmocka_unit_test(test_reader),
                cmocka_unit_test(test_tree),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
