#include "config.h"
/* The device list every device source (GPU, CDI, --device) feeds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include "device.h"

static struct device_node node(const char *path, char type, unsigned major, unsigned minor, const char *access) {
        struct device_node n = { .path = (char *)path, .type = type, .major = major, .minor = minor,
                                 .uid = (uid_t)-1, .gid = (gid_t)-1 };
        snprintf(n.access, sizeof(n.access), "%s", access);
        return n;
}

static void test_add_copies(void **state) {
        struct device_list l = { .n = 0 };
        char path[] = "/dev/nvidia0";
        struct device_node n = node(path, 'c', 195, 1, "rw");

        assert_int_equal(device_list_add(&l, &n), 0);
        path[5] = 'X'; /* the list holds its own copy */
        assert_int_equal(l.n, 1);
        assert_string_equal(l.nodes[0].path, "/dev/nvidia0");
        assert_string_equal(l.nodes[0].host_path, "/dev/nvidia0"); /* defaults to path */
        assert_int_equal(l.nodes[0].major, 195);
        assert_int_equal(l.nodes[0].minor, 1);
        assert_string_equal(l.nodes[0].access, "rw");
        device_list_done(&l);
        assert_int_equal(l.n, 0);
        assert_null(l.nodes);
}

static void test_same_path_merges_access(void **state) {
        struct device_list l = { .n = 0 };
        struct device_node a = node("/dev/nvidiactl", 'c', 195, 255, "r");
        struct device_node b = node("/dev/nvidiactl", 'c', 195, 255, "mw");

        assert_int_equal(device_list_add(&l, &a), 0);
        assert_int_equal(device_list_add(&l, &b), 0);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.nodes[0].access, "rwm"); /* canonical order */
        device_list_done(&l);
}

static void test_same_path_other_device_refused(void **state) {
        struct device_list l = { .n = 0 };
        struct device_node a = node("/dev/nvidia0", 'c', 195, 0, "rwm");
        struct device_node b = node("/dev/nvidia0", 'c', 195, 1, "rwm");
        struct device_node c = node("/dev/nvidia0", 'b', 195, 0, "rwm");

        assert_int_equal(device_list_add(&l, &a), 0);
        assert_int_equal(device_list_add(&l, &b), -EEXIST);
        assert_int_equal(device_list_add(&l, &c), -EEXIST);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.nodes[0].minor, 0);
        device_list_done(&l);
}

static void test_host_path_kept(void **state) {
        struct device_list l = { .n = 0 };
        struct device_node a = node("/dev/gpu0", 'c', 226, 128, "rw");

        a.host_path = (char *)"/dev/dri/renderD128";
        assert_int_equal(device_list_add(&l, &a), 0);
        assert_string_equal(l.nodes[0].host_path, "/dev/dri/renderD128");
        assert_string_equal(l.nodes[0].path, "/dev/gpu0");
        device_list_done(&l);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_add_copies),
                cmocka_unit_test(test_same_path_merges_access),
                cmocka_unit_test(test_same_path_other_device_refused),
                cmocka_unit_test(test_host_path_kept),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
