#include "config.h"
/* `curate ps`'s parsers: cgroup v1 and v2 limit files, /proc/PID/cmdline
 * and /proc/PID/stat, in the kernel's formats, good and bad. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
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

static void test_mountinfo_view(void **state) {
        char *t = NULL;

        /* a CDI/-v bind of one file: its root is the file inside the views */
        assert_int_equal(ps_mountinfo_view("812 790 0:61 /c/@ab12/proc/meminfo /proc/meminfo ro,nosuid - fuse.curatefs "
                                           "curatefs rw,user_id=0\n", &t), 1);
        assert_string_equal(t, "/proc/meminfo");
        free(t), t = NULL;
        /* optional fields, and a target with a space (\040) */
        assert_int_equal(ps_mountinfo_view("1 2 0:61 /.proc/cpuinfo /my\\040dir ro shared:5 master:1 - fuse.curatefs "
                                           "curatefs ro", &t), 1);
        assert_string_equal(t, "/my dir");
        free(t), t = NULL;
        /* the mount itself (a copy of the host's table) reads nothing */
        assert_int_equal(ps_mountinfo_view("1 2 0:61 / /var/lib/curate ro - fuse.curatefs curatefs ro", &t), 0);
        /* other file systems, lxcfs included */
        assert_int_equal(ps_mountinfo_view("1 2 0:62 /proc/meminfo /proc/meminfo rw - fuse.lxcfs lxcfs rw", &t), 0);
        assert_int_equal(ps_mountinfo_view("1 2 0:62 /x /y rw - fuse.curatefsx c rw", &t), 0);
        assert_null(t);
        assert_int_equal(ps_mountinfo_view("garbage", &t), -EINVAL);
        assert_int_equal(ps_mountinfo_view("1 2 0:61 /a /b rw", &t), -EINVAL);
}

static void test_engine_id(void **state) {
        const char *hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        char leaf[128], id[65];

        snprintf(leaf, sizeof(leaf), "libpod-%s", hex);
        assert_int_equal(ps_engine_id(leaf, id), 0);
        assert_string_equal(id, hex);
        snprintf(leaf, sizeof(leaf), "docker-%s.scope", hex);
        assert_int_equal(ps_engine_id(leaf, id), 0);
        assert_string_equal(id, hex);
        assert_int_equal(ps_engine_id(hex, id), 0);
        snprintf(leaf, sizeof(leaf), "libpod-%s.slice", hex);
        assert_int_equal(ps_engine_id(leaf, id), -ENOENT);
        assert_int_equal(ps_engine_id("libpod-0123", id), -ENOENT);
        assert_int_equal(ps_engine_id("user@0.service", id), -ENOENT);
        snprintf(leaf, sizeof(leaf), "libpod-%sA", hex);
        assert_int_equal(ps_engine_id(leaf, id), -ENOENT);
}

static void test_proc_cgroup_v1(void **state) {
        const char *text = "12:pids:/libpod_parent/libpod-ab\n"
                           "7:cpu,cpuacct:/libpod_parent/libpod-ab\n"
                           "5:devices:/libpod_parent/libpod-ab\n"
                           "1:name=systemd:/user.slice\n"
                           "0::/\n";
        char *p = NULL;

        assert_int_equal(ps_proc_cgroup_v1(text, "devices", &p), 0);
        assert_string_equal(p, "/libpod_parent/libpod-ab");
        free(p), p = NULL;
        assert_int_equal(ps_proc_cgroup_v1(text, "cpuacct", &p), 0);
        assert_string_equal(p, "/libpod_parent/libpod-ab");
        free(p), p = NULL;
        /* a whole item only: "cpu" is not "cpuset", "device" not "devices" */
        assert_int_equal(ps_proc_cgroup_v1(text, "device", &p), -ENOENT);
        assert_int_equal(ps_proc_cgroup_v1(text, "cpuset", &p), -ENOENT);
        assert_int_equal(ps_proc_cgroup_v1("", "devices", &p), -ENOENT);
        assert_int_equal(ps_proc_cgroup_v1("garbage", "devices", &p), -ENOENT);
        assert_null(p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_memory), cmocka_unit_test(test_pids), cmocka_unit_test(test_cpus),
                cmocka_unit_test(test_cmdline), cmocka_unit_test(test_stat), cmocka_unit_test(test_age),
                cmocka_unit_test(test_mountinfo_view), cmocka_unit_test(test_engine_id),
                cmocka_unit_test(test_proc_cgroup_v1),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
