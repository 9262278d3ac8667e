#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include "device.h"
#include "fileio.h"
#include "gpu-select.h"
#include "nvidia-proc.h"
#include "nvidia.h"

/* ---- params ---- */

static char *rewrite(const char *text) {
        char *out = NULL;
        assert_int_equal(nvidia_params_rewrite(text, &out), 0);
        assert_non_null(out);
        return out;
}

static void test_params_one_to_zero(void **state) {
        (void)state;
        _cleanup_free_ char *out = rewrite("RmLogonRC: 1\nModifyDeviceFiles: 1\nDeviceFileMode: 438\n");
        assert_string_equal(out, "RmLogonRC: 1\nModifyDeviceFiles: 0\nDeviceFileMode: 438\n");
}

static void test_params_already_zero(void **state) {
        (void)state;
        static const char text[] = "ModifyDeviceFiles: 0\nDeviceFileUID: 0\n";
        _cleanup_free_ char *out = rewrite(text);
        assert_string_equal(out, text);
}

static void test_params_absent_appended(void **state) {
        (void)state;
        _cleanup_free_ char *a = rewrite("RmLogonRC: 1\nRmMsg: \"\"\n");
        _cleanup_free_ char *b = rewrite("RmLogonRC: 1"); /* no final newline */
        _cleanup_free_ char *c = rewrite("");
        assert_string_equal(a, "RmLogonRC: 1\nRmMsg: \"\"\nModifyDeviceFiles: 0\n");
        assert_string_equal(b, "RmLogonRC: 1\nModifyDeviceFiles: 0\n");
        assert_string_equal(c, "ModifyDeviceFiles: 0\n");
}

/* Blanks around the value, CRLF and a value other than 1 are kept as they
 * are, apart from the value; keys that merely start with the name, and
 * the name inside another line's value, are left alone. */
static void test_params_spacing(void **state) {
        (void)state;
        _cleanup_free_ char *a = rewrite("ModifyDeviceFiles:\t 1 \r\nX: 2\r\n");
        _cleanup_free_ char *b = rewrite("  ModifyDeviceFiles : 42\nRmMsg: \"ModifyDeviceFiles: 1\"\n");
        _cleanup_free_ char *c = rewrite("ModifyDeviceFiles:1");
        _cleanup_free_ char *d = rewrite("ModifyDeviceFilesX: 1\n");
        _cleanup_free_ char *e = rewrite("ModifyDeviceFiles:\n");
        assert_string_equal(a, "ModifyDeviceFiles:\t 0 \r\nX: 2\r\n");
        assert_string_equal(b, "  ModifyDeviceFiles : 0\nRmMsg: \"ModifyDeviceFiles: 1\"\n");
        assert_string_equal(c, "ModifyDeviceFiles: 0");
        assert_string_equal(d, "ModifyDeviceFilesX: 1\nModifyDeviceFiles: 0\n");
        assert_string_equal(e, "ModifyDeviceFiles: 0\n");
}

/* The fixture's real-driver params: only that one line changes. */
static void test_params_fixture(void **state) {
        (void)state;
        _cleanup_close_ int fd = open(FIXTURES "/gpu/two", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *text = NULL, *out = NULL;
        assert_true(fd >= 0);
        assert_int_equal(read_file_at(fd, "proc/driver/nvidia/params", &text, NULL), 0);
        assert_non_null(strstr(text, "\nModifyDeviceFiles: 1\n"));
        assert_int_equal(nvidia_params_rewrite(text, &out), 0);
        assert_int_equal(strlen(out), strlen(text));
        char *at = strstr(text, "\nModifyDeviceFiles: 1\n");
        at[strlen("\nModifyDeviceFiles: ")] = '0';
        assert_string_equal(out, text);
}

/* ---- GPUs and capabilities from a device list ---- */

static void discover(const char *name, struct nvidia_host *h) {
        char path[512];
        _cleanup_free_ char *err = NULL;
        snprintf(path, sizeof(path), FIXTURES "/gpu/%s", name);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        int r = nvidia_discover(fd, h, &err);
        if (r < 0)
                print_error("discover %s: %s\n", name, err ? err : "?");
        assert_int_equal(r, 0);
}

static void add(struct device_list *l, const char *path, char type, unsigned major, unsigned minor) {
        const struct device_node n = { .path = (char *)path, .host_path = (char *)path, .type = type,
                                       .major = major, .minor = minor, .access = "rwm",
                                       .uid = (uid_t)-1, .gid = (gid_t)-1 };
        assert_int_equal(device_list_add(l, &n), 0);
}

/* Assert V is exactly the NULL-terminated EXPECTED. */
static void assert_strv(char **v, const char *const *expected) {
        size_t i = 0;
        assert_non_null(v);
        for (; expected[i]; i++) {
                if (!v[i])
                        print_error("missing entry %zu: %s\n", i, expected[i]);
                assert_non_null(v[i]);
                assert_string_equal(v[i], expected[i]);
        }
        if (v[i])
                print_error("unexpected entry %zu: %s\n", i, v[i]);
        assert_null(v[i]);
}

static void check_gpus(const struct nvidia_host *h, const struct device_list *l, const char *const *expected) {
        char **v = NULL;
        assert_int_equal(nvidia_proc_gpus(h, l, &v), 0);
        assert_strv(v, expected);
        gpu_select_strv_free(v);
}

static void test_gpus_by_minor(void **state) {
        (void)state;
        struct nvidia_host h;
        struct device_list a = { .n = 0 }, b = { .n = 0 }, both = { .n = 0 };
        discover("two", &h);
        add(&a, "/dev/nvidia0", 'c', 195, 0);
        check_gpus(&h, &a, (const char *const[]){ "0000:3b:00.0", NULL });
        add(&b, "/dev/nvidia1", 'c', 195, 1);
        check_gpus(&h, &b, (const char *const[]){ "0000:1a:00.0", NULL });
        /* given 0 then 1: shown in PCI order, each once */
        add(&both, "/dev/nvidia0", 'c', 195, 0);
        add(&both, "/dev/nvidia1", 'c', 195, 1);
        add(&both, "/dev/gpu-again", 'c', 195, 0);
        check_gpus(&h, &both, (const char *const[]){ "0000:1a:00.0", "0000:3b:00.0", NULL });
        device_list_done(&a);
        device_list_done(&b);
        device_list_done(&both);
        nvidia_host_done(&h);
}

static void test_gpus_none(void **state) {
        (void)state;
        struct nvidia_host h;
        struct device_list l = { .n = 0 }, empty = { .n = 0 };
        discover("two", &h);
        add(&l, "/dev/nvidiactl", 'c', 195, NVIDIA_CTL_MINOR);
        add(&l, "/dev/nvidia-modeset", 'c', 195, NVIDIA_MODESET_MINOR);
        add(&l, "/dev/nvidia-uvm", 'c', 510, 0);
        add(&l, "/dev/nvidia-uvm-tools", 'c', 510, 1);
        add(&l, "/dev/other1", 'c', 196, 1);      /* another major */
        add(&l, "/dev/block0", 'b', 195, 0);      /* a block device */
        add(&l, "/dev/nvidia-caps/nvidia-cap0", 'c', 235, 0);
        check_gpus(&h, &l, (const char *const[]){ NULL });
        check_gpus(&h, &empty, (const char *const[]){ NULL });
        device_list_done(&l);
        nvidia_host_done(&h);
}

/* What gpu-select gives is what /proc shows: "0" is index 0, 0000:1a. */
static void test_gpus_from_selection(void **state) {
        (void)state;
        struct nvidia_host h;
        struct gpu_selection sel;
        struct device_list l;
        char **proc = NULL;
        discover("two", &h);
        assert_int_equal(gpu_select_parse("0", &sel, NULL), 0);
        assert_int_equal(gpu_select_resolve(&sel, &h, &l, &proc, NULL), 0);
        check_gpus(&h, &l, (const char *const *)proc);
        check_gpus(&h, &l, (const char *const[]){ "0000:1a:00.0", NULL });
        gpu_select_strv_free(proc);
        device_list_done(&l);
        gpu_selection_done(&sel);
        nvidia_host_done(&h);
}

static void check_caps(const struct nvidia_host *h, const struct device_list *l, const char *const *expected) {
        char **v = NULL;
        assert_int_equal(nvidia_proc_caps(h, l, &v), 0);
        assert_strv(v, expected);
        gpu_select_strv_free(v);
}

static void check_caps_of(const struct nvidia_host *h, const char *spec, bool config, const char *const *expected) {
        struct gpu_selection sel;
        struct device_list l;
        char **proc = NULL;
        _cleanup_free_ char *err = NULL;
        assert_int_equal(gpu_select_parse(spec, &sel, &err), 0);
        sel.mig_config = config;
        int r = gpu_select_resolve(&sel, h, &l, &proc, &err);
        if (r < 0)
                print_error("%s: %s\n", spec, err ? err : "?");
        assert_int_equal(r, 0);
        check_caps(h, &l, expected);
        /* a MIG device shows its parent GPU */
        check_gpus(h, &l, (const char *const *)proc);
        gpu_select_strv_free(proc);
        device_list_done(&l);
        gpu_selection_done(&sel);
}

static void test_caps_mig(void **state) {
        (void)state;
        struct nvidia_host h;
        discover("mig", &h);
        check_caps_of(&h, "0:1", false, (const char *const[]){
                "capabilities/gpu3/mig/gi2/access", "capabilities/gpu3/mig/gi2/ci0/access", NULL });
        /* gi2 is shared by 0:1 and 0:2: once */
        check_caps_of(&h, "0:2,0:0,0:1", false, (const char *const[]){
                "capabilities/gpu3/mig/gi1/access", "capabilities/gpu3/mig/gi1/ci0/access",
                "capabilities/gpu3/mig/gi2/access", "capabilities/gpu3/mig/gi2/ci0/access",
                "capabilities/gpu3/mig/gi2/ci1/access", NULL });
        /* the whole GPU: no MIG access file, no management */
        check_caps_of(&h, "0", false, (const char *const[]){ NULL });
        check_caps_of(&h, "0", true, (const char *const[]){ "capabilities/mig/config", NULL });
        nvidia_host_done(&h);
}

static void test_caps_other_nodes(void **state) {
        (void)state;
        struct nvidia_host h, two;
        struct device_list l = { .n = 0 };
        discover("mig", &h);
        discover("two", &two);
        add(&l, "/dev/nvidia3", 'c', 195, 3);
        add(&l, "/dev/x", 'c', 195, 31);  /* a ci minor, but not the caps major */
        add(&l, "/dev/y", 'b', 236, 30); /* block */
        add(&l, "/dev/nvidia-caps/nvidia-cap2", 'c', 236, 2); /* monitor */
        check_caps(&h, &l, (const char *const[]){ "capabilities/mig/monitor", NULL });
        check_caps(&two, &l, (const char *const[]){ NULL }); /* no MIG there */
        device_list_done(&l);
        nvidia_host_done(&h);
        nvidia_host_done(&two);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_params_one_to_zero),
                cmocka_unit_test(test_params_already_zero),
                cmocka_unit_test(test_params_absent_appended),
                cmocka_unit_test(test_params_spacing),
                cmocka_unit_test(test_params_fixture),
                cmocka_unit_test(test_gpus_by_minor),
                cmocka_unit_test(test_gpus_none),
                cmocka_unit_test(test_gpus_from_selection),
                cmocka_unit_test(test_caps_mig),
                cmocka_unit_test(test_caps_other_nodes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
