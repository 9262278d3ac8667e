#include "config.h"
/* `curate ps`'s parsers: cgroup v1 and v2 limit files, /proc/PID/cmdline
 * and /proc/PID/stat, in the kernel's formats, good and bad. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <string.h>
#include "ps-parse.h"

static void test_memory(void **state) {
        uint64_t v;

        assert_int_equal(ps_parse_memory("67108864\n", &v), 0);
        assert_int_equal(v, 67108864);
        /* v1 "no limit": PAGE_COUNTER_MAX pages of 4K */
        assert_int_equal(ps_parse_memory("9223372036854771712\n", &v), 0);
        assert_true(v == PS_NONE);
        assert_int_equal(ps_parse_memory("max\n", &v), 0);
        assert_true(v == PS_NONE);
        assert_int_equal(ps_parse_memory("0\n", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(ps_parse_memory("", &v), -EINVAL);
        assert_int_equal(ps_parse_memory("-1\n", &v), -EINVAL);
        assert_int_equal(ps_parse_memory("12k\n", &v), -EINVAL);
}

static void test_pids(void **state) {
        uint64_t v;

        assert_int_equal(ps_parse_pids("50\n", &v), 0);
        assert_int_equal(v, 50);
        assert_int_equal(ps_parse_pids("max\n", &v), 0);
        assert_true(v == PS_NONE);
        assert_int_equal(ps_parse_pids("many\n", &v), -EINVAL);
}

static void test_cpus(void **state) {
        uint64_t v;

        assert_int_equal(ps_parse_cpus("50000\n", "100000\n", &v), 0);
        assert_int_equal(v, 500);
        assert_int_equal(ps_parse_cpus("150000\n", "100000\n", &v), 0);
        assert_int_equal(v, 1500);
        assert_int_equal(ps_parse_cpus("-1\n", "100000\n", &v), 0);
        assert_true(v == PS_NONE);
        assert_int_equal(ps_parse_cpus("-2\n", "100000\n", &v), -EINVAL);
        assert_int_equal(ps_parse_cpus("50000\n", "0\n", &v), -EINVAL);
        assert_int_equal(ps_parse_cpus("25000 100000\n", NULL, &v), 0);
        assert_int_equal(v, 250);
        assert_int_equal(ps_parse_cpus("max 100000\n", NULL, &v), 0);
        assert_true(v == PS_NONE);
        assert_int_equal(ps_parse_cpus("max\n", NULL, &v), -EINVAL);
        assert_int_equal(ps_parse_cpus("x 100000\n", NULL, &v), -EINVAL);
}

static void test_cmdline(void **state) {
        static const char argv[] = "sleep\0001001\0";
        static const char ctl[] = "a\nb\0c\0";
        char *s = ps_cmdline_join(argv, sizeof(argv) - 1);

        assert_string_equal(s, "sleep 1001");
        free(s);
        s = ps_cmdline_join(ctl, sizeof(ctl) - 1);
        assert_string_equal(s, "a?b c");
        free(s);
        s = ps_cmdline_join("", 0);
        assert_string_equal(s, "");
        free(s);
}

static void test_stat(void **state) {
        /* a name with spaces and ')' */
        static const char stat[] = "123 (a) b) S 1 123 123 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 4242 5000 100";
        uint64_t v;

        assert_int_equal(ps_stat_starttime(stat, &v), 0);
        assert_int_equal(v, 4242);
        assert_int_equal(ps_stat_starttime("123 (x) S 1 2", &v), -EINVAL);
        assert_int_equal(ps_stat_starttime("no paren", &v), -EINVAL);
}

static void test_age(void **state) {
        char b[16];

        ps_format_age(0, b, sizeof(b));
        assert_string_equal(b, "0s");
        ps_format_age(119, b, sizeof(b));
        assert_string_equal(b, "119s");
        ps_format_age(600, b, sizeof(b));
        assert_string_equal(b, "10m");
        ps_format_age(3 * 3600, b, sizeof(b));
        assert_string_equal(b, "3h");
        ps_format_age(3 * 86400, b, sizeof(b));
        assert_string_equal(b, "3d");
        ps_format_age(-1, b, sizeof(b));
        assert_string_equal(b, "-");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_memory), cmocka_unit_test(test_pids), cmocka_unit_test(test_cpus),
                cmocka_unit_test(test_cmdline), cmocka_unit_test(test_stat), cmocka_unit_test(test_age),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
