#include "config.h"
/* `curate daemon start --transport/--enable-uring`: the transport words,
 * the journal's transport state, and the io_uring switch, read and turned
 * on in a stand-in file (a test never flips the host's switch). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>
#include "daemon-transport.h"

static void test_parse(void **state) {
        static const struct {
                const char *text;
                int r;
                enum daemon_transport t;
        } cases[] = {
                { "auto", 0, DAEMON_TRANSPORT_AUTO },
                { "uring", 0, DAEMON_TRANSPORT_URING },
                { "dev", 0, DAEMON_TRANSPORT_DEV },
                { "", -EINVAL, 0 },
                { "bogus", -EINVAL, 0 },
                { "Auto", -EINVAL, 0 },     /* exact words, as curatefs takes them */
                { "io_uring", -EINVAL, 0 },
                { "dev ", -EINVAL, 0 },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                enum daemon_transport t = DAEMON_TRANSPORT_DEFAULT;
                assert_int_equal(daemon_transport_parse(cases[i].text, &t), cases[i].r);
                if (cases[i].r == 0) {
                        assert_int_equal(t, cases[i].t);
                        /* the word goes back to curatefs unchanged */
                        assert_string_equal(daemon_transport_name(t), cases[i].text);
                } else
                        assert_int_equal(t, DAEMON_TRANSPORT_DEFAULT); /* untouched on failure */
        }
        assert_int_equal(daemon_transport_parse(NULL, &(enum daemon_transport){ 0 }), -EINVAL);
        /* nothing asked for: nothing passed to curatefs */
        assert_null(daemon_transport_name(DAEMON_TRANSPORT_DEFAULT));
}

static void test_state_name(void **state) {
        assert_string_equal(daemon_transport_state_name(0), "dev");
        assert_string_equal(daemon_transport_state_name(1), "uring");
        assert_null(daemon_transport_state_name(2));
        assert_null(daemon_transport_state_name(UINT64_MAX));
}

/* A stand-in switch holding TEXT; its path in BUF. */
static void make_switch(char buf[static 64], const char *text) {
        snprintf(buf, 64, "/tmp/test-daemon-transport.XXXXXX");
        int fd = mkostemp(buf, O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

static char *slurp(const char *path) {
        static char text[64];
        FILE *f = fopen(path, "re");
        size_t n;

        assert_non_null(f);
        n = fread(text, 1, sizeof(text) - 1, f);
        text[n] = 0;
        fclose(f);
        return text;
}

static void test_switch_read(void **state) {
        static const struct {
                const char *text;
                bool on;
        } cases[] = { { "Y\n", true }, { "N\n", false }, { "1\n", true }, { "0\n", false }, { "", false } };
        char path[64];
        bool on;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                make_switch(path, cases[i].text);
                on = !cases[i].on;
                assert_int_equal(fuse_uring_switch_read(path, &on), 0);
                assert_int_equal(on, cases[i].on);
                unlink(path);
        }
        assert_int_equal(fuse_uring_switch_read("/nonexistent/enable_uring", &on), -ENOENT);
}

static void test_switch_enable(void **state) {
        char path[64], *error = NULL;
        bool changed = false;

        /* off: written, read back on */
        make_switch(path, "N\n");
        assert_int_equal(fuse_uring_switch_enable(path, &changed, &error), 0);
        assert_true(changed);
        assert_int_equal(slurp(path)[0], 'Y');
        /* on already: nothing written, not reported as changed */
        changed = true;
        assert_int_equal(fuse_uring_switch_enable(path, &changed, &error), 0);
        assert_false(changed);
        assert_null(error);
        unlink(path);

        /* a kernel without the switch: the message says so, names the file,
         * and nothing is created there */
        assert_int_equal(fuse_uring_switch_enable("/tmp/test-daemon-transport-none", &changed, &error), -ENOENT);
        assert_non_null(strstr(error, "/tmp/test-daemon-transport-none is missing"));
        assert_non_null(strstr(error, "CONFIG_FUSE_IO_URING"));
        assert_int_equal(access("/tmp/test-daemon-transport-none", F_OK), -1);
        free(error), error = NULL;

        /* a switch that cannot be written (a directory stands for a
         * read-only /sys): the error names it */
        assert_int_equal(fuse_uring_switch_enable("/", &changed, &error) < 0, 1);
        assert_non_null(error);
        assert_non_null(strstr(error, "/"));
        free(error);
}

/* What `curate daemon start` does before curatefs starts, on a stand-in
 * switch (CURATE_FUSE_URING_SWITCH). */
static void test_prepare(void **state) {
        char path[64], *error = NULL;
        struct daemon_start o;

        make_switch(path, "N\n");
        setenv("CURATE_FUSE_URING_SWITCH", path, 1);
        /* dev, auto, none: the switch is not looked at, nor written */
        for (enum daemon_transport t = DAEMON_TRANSPORT_DEFAULT; t <= DAEMON_TRANSPORT_DEV; t++) {
                if (t == DAEMON_TRANSPORT_URING)
                        continue;
                o = (struct daemon_start){ .transport = t };
                assert_int_equal(daemon_transport_prepare(&o, &error), 0);
                assert_false(o.switched_on);
        }
        assert_int_equal(slurp(path)[0], 'N');
        /* uring with the switch off: refused, naming the option, unchanged */
        o = (struct daemon_start){ .transport = DAEMON_TRANSPORT_URING };
        assert_int_equal(daemon_transport_prepare(&o, &error), -EOPNOTSUPP);
        assert_non_null(strstr(error, "--transport uring: "));
        assert_non_null(strstr(error, "reads N"));
        assert_int_equal(slurp(path)[0], 'N');
        free(error), error = NULL;
        /* --enable-uring (uring implied by the caller): on, then accepted */
        o = (struct daemon_start){ .transport = DAEMON_TRANSPORT_URING, .enable_uring = true };
        assert_int_equal(daemon_transport_prepare(&o, &error), 0);
        assert_true(o.switched_on);
        assert_int_equal(slurp(path)[0], 'Y');
        /* again: on already, nothing to report */
        assert_int_equal(daemon_transport_prepare(&o, &error), 0);
        assert_false(o.switched_on);
        unlink(path);
        /* no switch: both options say so */
        o = (struct daemon_start){ .transport = DAEMON_TRANSPORT_DEV, .enable_uring = true };
        assert_int_equal(daemon_transport_prepare(&o, &error), -ENOENT);
        assert_non_null(strstr(error, "--enable-uring: "));
        assert_non_null(strstr(error, "this kernel has no FUSE over io_uring"));
        free(error), error = NULL;
        o = (struct daemon_start){ .transport = DAEMON_TRANSPORT_URING };
        assert_int_equal(daemon_transport_prepare(&o, &error), -ENOENT);
        assert_non_null(strstr(error, "--transport uring: "));
        free(error);
        unsetenv("CURATE_FUSE_URING_SWITCH");
}

static void test_switch_path(void **state) {
        unsetenv("CURATE_FUSE_URING_SWITCH");
        assert_string_equal(fuse_uring_switch_path(), "/sys/module/fuse/parameters/enable_uring");
        setenv("CURATE_FUSE_URING_SWITCH", "", 1);
        assert_string_equal(fuse_uring_switch_path(), "/sys/module/fuse/parameters/enable_uring");
        setenv("CURATE_FUSE_URING_SWITCH", "/tmp/x", 1);
        assert_string_equal(fuse_uring_switch_path(), "/tmp/x");
        unsetenv("CURATE_FUSE_URING_SWITCH");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),         cmocka_unit_test(test_state_name),
                cmocka_unit_test(test_switch_read),   cmocka_unit_test(test_switch_enable),
                cmocka_unit_test(test_prepare),       cmocka_unit_test(test_switch_path),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
