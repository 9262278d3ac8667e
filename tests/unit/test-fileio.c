#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <fcntl.h>
#include "fileio.h"

static void test_parse_u64(void **state) {
        uint64_t v;
        assert_int_equal(parse_u64("123\n", &v), 0);
        assert_int_equal(v, 123);
        assert_int_equal(parse_u64("18446744073709551615", &v), 0);
        assert_true(v == UINT64_MAX);
        assert_int_equal(parse_u64("18446744073709551616", &v), -ERANGE);
        assert_int_equal(parse_u64("12a", &v), -EINVAL);
        assert_int_equal(parse_u64("", &v), -EINVAL);
        assert_int_equal(parse_u64("-1", &v), -EINVAL);
        assert_int_equal(parse_u64_or_max("max\n", &v), 0);
        assert_true(v == UINT64_MAX);
        assert_int_equal(parse_u64_or_max("maxi", &v), -EINVAL);
}

static void test_keyed(void **state) {
        const char *mi = "MemTotal:       24563224 kB\nMemFree:        23000000 kB\nHugePages_Total:       0\n";
        const char *st = "cache 10\nrss 20\ntotal_rss 30\nbad x\n";
        uint64_t v;
        assert_int_equal(keyed_u64(mi, "MemFree", &v), 0);
        assert_int_equal(v, 23000000);
        assert_int_equal(keyed_u64(mi, "HugePages_Total", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(keyed_u64(st, "rss", &v), 0);
        assert_int_equal(v, 20); /* "total_rss" must not match "rss" */
        assert_int_equal(keyed_u64(st, "swap", &v), -ENOENT);
        assert_int_equal(keyed_u64(st, "bad", &v), -EINVAL);
}

static void test_cpu_list(void **state) {
        struct cpu_set_bits s;
        assert_int_equal(parse_cpu_list("0-3,8,10-11\n", &s), 0);
        assert_int_equal(cpu_count(&s), 7);
        assert_true(cpu_bit(&s, 3) && cpu_bit(&s, 8) && cpu_bit(&s, 11));
        assert_false(cpu_bit(&s, 4) || cpu_bit(&s, 9) || cpu_bit(&s, 12));
        assert_int_equal(parse_cpu_list("\n", &s), 0);
        assert_int_equal(cpu_count(&s), 0);
        assert_int_equal(parse_cpu_list("3-1", &s), -ERANGE);
        assert_int_equal(parse_cpu_list("0-99999", &s), -ERANGE);
        assert_int_equal(parse_cpu_list("1,x", &s), -EINVAL);
}

static void test_buf(void **state) {
        struct buf b = { 0 };
        for (int i = 0; i < 1000; i++)
                assert_int_equal(buf_printf(&b, "%04d", i), 0);
        assert_int_equal(b.len, 4000);
        assert_memory_equal(b.data + 3996, "0999", 4);
        char big[1000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        assert_int_equal(buf_printf(&b, "%s", big), 0);
        assert_int_equal(b.len, 4999);
        assert_int_equal(b.data[b.len], 0);
        buf_free(&b);
}

static void test_read_file_beneath(void **state) {
        char dir[] = "/tmp/curate-fileio-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char path[256];
        snprintf(path, sizeof(path), "%s/f", dir);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs("hello\n", f);
        fclose(f);
        snprintf(path, sizeof(path), "%s/link", dir);
        assert_int_equal(symlink("/etc/hostname", path), 0);
        int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        char *text = NULL;
        size_t len;
        assert_int_equal(read_file_at(fd, "/f", &text, &len), 0);
        assert_string_equal(text, "hello\n");
        assert_int_equal(len, 6);
        free(text);
        /* an absolute symlink resolves inside the root, not to the host's file */
        assert_int_equal(read_file_at(fd, "link", &text, &len), -ENOENT);
        assert_int_equal(read_file_at(fd, "../../etc/hostname", &text, &len), -ENOENT);
        close(fd);
        unlink(path);
        snprintf(path, sizeof(path), "%s/f", dir);
        unlink(path);
        rmdir(dir);
}

/* AT_FDCWD has no root: an absolute path is read as given, whatever the
 * working directory (it used to be taken relative to it) */
static void test_at_fdcwd(void **state) {
        char dir[] = "/tmp/test-fileio.XXXXXX", path[64], *text = NULL, old[4096];
        FILE *f;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/x", dir);
        assert_non_null(f = fopen(path, "w"));
        fputs("hello\n", f);
        fclose(f);
        assert_non_null(getcwd(old, sizeof(old)));
        assert_int_equal(chdir("/usr"), 0);
        assert_int_equal(read_file_at(AT_FDCWD, path, &text, NULL), 0);
        assert_string_equal(text, "hello\n");
        free(text);
        assert_int_equal(chdir(old), 0);
        unlink(path);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_at_fdcwd),
                cmocka_unit_test(test_parse_u64),
                cmocka_unit_test(test_keyed),
                cmocka_unit_test(test_cpu_list),
                cmocka_unit_test(test_buf),
                cmocka_unit_test(test_read_file_beneath),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
