#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include "amd.h"
#include "device.h"
#include "fileio.h"

static int open_fixture(const char *name) {
        char path[512];
        snprintf(path, sizeof(path), FIXTURES "/amd/%s", name);
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static void discover(const char *name, struct amd_host *h) {
        _cleanup_close_ int fd = open_fixture(name);
        _cleanup_free_ char *err = NULL;
        int r = amd_discover(fd, h, &err);
        if (r < 0)
                print_error("discover %s: %s\n", name, err ? err : "?");
        assert_int_equal(r, 0);
}

static void assert_contains(const char *s, const char *part) {
        assert_non_null(s);
        if (!strstr(s, part)) {
                print_error("\"%s\" lacks \"%s\"\n", s, part);
                fail();
        }
}

/* Node I of L is exactly PATH, c MAJOR:MINOR, rwm, MODE, the host's owner. */
static void assert_node(const struct device_list *l, size_t i, const char *path, unsigned major, unsigned minor,
                        mode_t mode) {
        assert_true(i < l->n);
        const struct device_node *n = &l->nodes[i];
        assert_string_equal(n->path, path);
        assert_string_equal(n->host_path, path);
        assert_int_equal(n->type, 'c');
        assert_int_equal(n->major, major);
        assert_int_equal(n->minor, minor);
        assert_string_equal(n->access, "rwm");
        assert_int_equal(n->file_mode, mode);
        assert_true(n->uid == (uid_t)-1 && n->gid == (gid_t)-1);
}

/* The nodes of fixture "two": GPU 0 is 0000:03:00.0 (card1, renderD129),
 * GPU 1 is 0000:83:00.0 (card0, renderD128). */
static void assert_gpu0(const struct device_list *l, size_t i) {
        assert_node(l, i, "/dev/dri/card1", 226, 1, 0660);
        assert_node(l, i + 1, "/dev/dri/renderD129", 226, 129, 0666);
}

static void assert_gpu1(const struct device_list *l, size_t i) {
        assert_node(l, i, "/dev/dri/card0", 226, 0, 0660);
        assert_node(l, i + 1, "/dev/dri/renderD128", 226, 128, 0666);
}

/* ---- sysfs parsers ---- */

static void test_parse_dev(void **state) {
        unsigned major = 7, minor = 7;

        assert_int_equal(amd_parse_dev("226:128\n", &major, &minor), 0);
        assert_int_equal(major, 226);
        assert_int_equal(minor, 128);
        assert_int_equal(amd_parse_dev("235:0", &major, &minor), 0);
        assert_int_equal(major, 235);
        assert_int_equal(minor, 0);
        assert_int_equal(amd_parse_dev("4095:1048575\n", &major, &minor), 0);
        assert_int_equal(major, 4095);
        assert_int_equal(minor, 1048575);

        static const char *const bad[] = {
                "", "\n", "226", "226:", ":0", "226:x", "x:0", "226-128", "226:128x", "226:1 2",
                " 226:0", "226 :0", "226: 0", "-1:0", "226:-1", "+226:0", "0x1:0",
                "4096:0",        /* majors are 12 bits */
                "226:1048576",   /* minors 20 */
                "99999999999999999999:0",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                major = minor = 7;
                if (amd_parse_dev(bad[i], &major, &minor) != -EINVAL) {
                        print_error("\"%s\" parsed\n", bad[i]);
                        fail();
                }
                assert_int_equal(major, 7); /* untouched on failure */
                assert_int_equal(minor, 7);
        }
}

static void test_parse_vendor(void **state) {
        unsigned v = 7;

        assert_int_equal(amd_parse_vendor("0x1002\n", &v), 0);
        assert_int_equal(v, AMD_PCI_VENDOR);
        assert_int_equal(amd_parse_vendor("0x10de", &v), 0);
        assert_int_equal(v, 0x10de);
        assert_int_equal(amd_parse_vendor("0X10DE\n", &v), 0);
        assert_int_equal(v, 0x10de);

        static const char *const bad[] = {
                "", "\n", "1002", "0x", "0x\n", "AMD", "0x10g2", "0x10020", " 0x1002", "0x1002 x", "-0x1002",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                v = 7;
                if (amd_parse_vendor(bad[i], &v) != -EINVAL) {
                        print_error("\"%s\" parsed\n", bad[i]);
                        fail();
                }
                assert_int_equal(v, 7);
        }
}

/* ---- discovery on fixture trees ---- */

static void test_discover_two(void **state) {
        struct amd_host h;
        discover("two", &h);

        /* Intel's card2/renderD130, the card0-DP-1 connector and controlD64
         * are left out */
        assert_int_equal(h.n_gpus, 2);
        /* PCI bus order, not card order: card1 is GPU 0 */
        const struct amd_gpu *g = &h.gpus[0];
        assert_string_equal(g->bus_id, "0000:03:00.0");
        assert_true(g->has_card && g->has_render);
        assert_string_equal(g->card_name, "card1");
        assert_string_equal(g->render_name, "renderD129");
        assert_int_equal(g->card_major, 226);
        assert_int_equal(g->card_minor, 1);
        assert_int_equal(g->render_major, 226);
        assert_int_equal(g->render_minor, 129);
        g = &h.gpus[1];
        assert_string_equal(g->bus_id, "0000:83:00.0");
        assert_true(g->has_card && g->has_render);
        assert_string_equal(g->card_name, "card0");
        assert_string_equal(g->render_name, "renderD128");
        assert_int_equal(g->card_minor, 0);
        assert_int_equal(g->render_minor, 128);
        assert_true(h.has_kfd);
        assert_int_equal(h.kfd_major, 235);
        assert_int_equal(h.kfd_minor, 0);
        amd_host_done(&h);
        assert_int_equal(h.n_gpus, 0);
        assert_null(h.gpus);
}

static void test_discover_nokfd(void **state) {
        struct amd_host h = { .has_kfd = true, .kfd_major = 7 };
        discover("nokfd", &h);

        assert_int_equal(h.n_gpus, 1);
        assert_string_equal(h.gpus[0].bus_id, "0000:e5:00.0");
        assert_string_equal(h.gpus[0].card_name, "card0");
        assert_string_equal(h.gpus[0].render_name, "renderD128");
        assert_int_equal(h.gpus[0].render_minor, 128);
        assert_false(h.has_kfd);
        amd_host_done(&h);
}

static void expect_discover_error(const char *tree, int want, const char *const *parts) {
        _cleanup_close_ int fd = open_fixture(tree);
        _cleanup_free_ char *err = NULL;
        struct amd_host h = { .n_gpus = 99 };

        assert_int_equal(amd_discover(fd, &h, &err), want);
        assert_int_equal(h.n_gpus, 99); /* untouched on failure */
        assert_null(h.gpus);
        for (; *parts; parts++)
                assert_contains(err, *parts);
}

static void test_discover_errors(void **state) {
        /* Intel and NVIDIA (nouveau) cards only */
        expect_discover_error("none", -ENODEV, (const char *const[]){
                "sys/class/drm: no card or render node of an AMD (vendor 0x1002) PCI device", NULL });
        /* no sys/class/drm at all (the fixtures directory itself) */
        expect_discover_error(".", -ENODEV, (const char *const[]){ "sys/class/drm", NULL });
        expect_discover_error("broken", -EINVAL, (const char *const[]){
                "sys/class/drm/renderD128/dev: expected \"MAJOR:MINOR\", got \"226-128\"", NULL });
        expect_discover_error("badvendor", -EINVAL, (const char *const[]){
                "sys/class/drm/card0/device/vendor: expected a PCI vendor id such as \"0x1002\", got \"AMD\"", NULL });
        expect_discover_error("badkfd", -EINVAL, (const char *const[]){
                "sys/class/kfd/kfd/dev: expected \"MAJOR:MINOR\", got \"235\"", NULL });
        /* which of card0 and card1 is named second depends on readdir order */
        expect_discover_error("dupcard", -EINVAL, (const char *const[]){
                "sys/class/drm/card", ": PCI device 0000:03:00.0 already has card", NULL });
}

static void test_discover_without_error_pointer(void **state) {
        _cleanup_close_ int fd = open_fixture("broken");
        struct amd_host h = { .n_gpus = 99 };
        assert_int_equal(amd_discover(fd, &h, NULL), -EINVAL);
        assert_int_equal(h.n_gpus, 99);
}

/* ---- selection ---- */

static void test_resolve_all(void **state) {
        struct amd_host h;
        struct device_list l = { 0 };
        discover("two", &h);

        static const char *const specs[] = { "all", " ALL\n", "All", "1,0", "0,1", "0000:83:00.0, 0" };
        for (size_t i = 0; i < ELEMENTSOF(specs); i++) {
                _cleanup_free_ char *err = NULL;
                int r = amd_select_resolve(specs[i], &h, &l, &err);
                if (r < 0)
                        print_error("\"%s\": %s\n", specs[i], err ? err : "?");
                assert_int_equal(r, 0);
                /* kfd first, then GPU by GPU in index order, card before render */
                assert_int_equal(l.n, 5);
                assert_node(&l, 0, "/dev/kfd", 235, 0, 0666);
                assert_gpu0(&l, 1);
                assert_gpu1(&l, 3);
                device_list_done(&l);
                assert_int_equal(l.n, 0);
        }
        amd_host_done(&h);
}

static void test_resolve_index(void **state) {
        struct amd_host h;
        struct device_list l = { 0 };
        discover("two", &h);

        /* index 1 is 0000:83:00.0, whose nodes are card0 and renderD128 */
        assert_int_equal(amd_select_resolve("1", &h, &l, NULL), 0);
        assert_int_equal(l.n, 3);
        assert_node(&l, 0, "/dev/kfd", 235, 0, 0666);
        assert_gpu1(&l, 1);
        device_list_done(&l);

        assert_int_equal(amd_select_resolve(" 0 ", &h, &l, NULL), 0);
        assert_int_equal(l.n, 3);
        assert_node(&l, 0, "/dev/kfd", 235, 0, 0666);
        assert_gpu0(&l, 1);
        device_list_done(&l);
        amd_host_done(&h);
}

static void test_resolve_bus_id(void **state) {
        struct amd_host h;
        struct device_list l = { 0 };
        discover("two", &h);

        assert_int_equal(amd_select_resolve("0000:03:00.0", &h, &l, NULL), 0);
        assert_int_equal(l.n, 3);
        assert_gpu0(&l, 1);
        device_list_done(&l);

        /* an index and a bus id naming one GPU give it once */
        assert_int_equal(amd_select_resolve("1,0000:83:00.0", &h, &l, NULL), 0);
        assert_int_equal(l.n, 3);
        assert_gpu1(&l, 1);
        device_list_done(&l);
        amd_host_done(&h);
}

static void test_resolve_bus_id_case(void **state) {
        struct amd_gpu gpu = { .bus_id = (char *)"0000:c1:00.0", .has_render = true,
                               .render_name = (char *)"renderD128", .render_major = 226, .render_minor = 128 };
        struct amd_host h = { .gpus = &gpu, .n_gpus = 1 };
        struct device_list l = { 0 };

        assert_int_equal(amd_select_resolve("0000:C1:00.0", &h, &l, NULL), 0);
        /* no kfd, and a render-only GPU: just its render node */
        assert_int_equal(l.n, 1);
        assert_node(&l, 0, "/dev/dri/renderD128", 226, 128, 0666);
        device_list_done(&l);
}

static void test_resolve_nokfd(void **state) {
        struct amd_host h;
        struct device_list l = { 0 };
        discover("nokfd", &h);

        assert_int_equal(amd_select_resolve("all", &h, &l, NULL), 0);
        assert_int_equal(l.n, 2);
        assert_node(&l, 0, "/dev/dri/card0", 226, 0, 0660);
        assert_node(&l, 1, "/dev/dri/renderD128", 226, 128, 0666);
        device_list_done(&l);
        amd_host_done(&h);
}

static void test_resolve_spec_errors(void **state) {
        static const struct {
                const char *spec, *msg;
        } cases[] = {
                { "", "empty AMD GPU selection (expected all, a GPU index or a PCI bus id" },
                { " \t\n", "empty AMD GPU selection" },
                { "0,,1", "AMD GPU selection \"0,,1\": empty entry" },
                { "0,", "\"0,\": empty entry" },
                { ",0", "\",0\": empty entry" },
                { "0, ", "empty entry" },
                { "0,0", "\"0,0\": \"0\" is listed twice" },
                { "1, 0 ,1", "\"1\" is listed twice" },
                { "0000:03:00.0,0000:03:00.0", "\"0000:03:00.0\" is listed twice" },
                { "0000:83:00.0,0000:83:00.0", "\"0000:83:00.0\" is listed twice" },
                { "0000:0a:00.0, 0000:0A:00.0", "\"0000:0A:00.0\" is listed twice" },
                { "all,0", "\"all\" cannot be combined with other entries" },
                { "0,ALL", "\"ALL\" cannot be combined" },
                { "all,all", "\"all\" cannot be combined" },
                { "x", "bad entry \"x\" (expected all, a GPU index or a PCI bus id such as 0000:03:00.0)" },
                { "-1", "bad entry \"-1\"" },
                { "+1", "bad entry \"+1\"" },
                { "1.0", "bad entry \"1.0\"" },
                { "0 1", "bad entry \"0 1\"" },
                { "0x1", "bad entry \"0x1\"" },
                { "4294967296", "bad entry \"4294967296\"" },
                { "03:00.0", "bad entry \"03:00.0\"" },          /* no domain */
                { "0000:03:00", "bad entry \"0000:03:00\"" },
                { "0000:03:00.8", "bad entry \"0000:03:00.8\"" }, /* functions are 0-7 */
                { "0000:03:20.0", "bad entry \"0000:03:20.0\"" }, /* devices 0-1f */
                { "0000:3:00.0", "bad entry \"0000:3:00.0\"" },
                { "amd:0", "bad entry \"amd:0\"" },
                { "none", "bad entry \"none\"" },
                /* a malformed entry wins over an unknown one before it */
                { "7,x", "bad entry \"x\"" },
        };
        struct amd_host h;
        discover("two", &h);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct device_list l = { .n = 42 };
                _cleanup_free_ char *err = NULL;
                int r = amd_select_resolve(cases[i].spec, &h, &l, &err);
                if (r != -EINVAL) {
                        print_error("\"%s\": %d (%s)\n", cases[i].spec, r, err ? err : "no error");
                        fail();
                }
                assert_int_equal(l.n, 42); /* untouched on failure */
                assert_contains(err, cases[i].msg);
        }
        amd_host_done(&h);
}

static void test_resolve_unknown(void **state) {
        struct amd_host h;
        struct device_list l = { .n = 42 };
        _cleanup_free_ char *err = NULL;
        discover("two", &h);

        assert_int_equal(amd_select_resolve("0,2", &h, &l, &err), -ENOENT);
        assert_int_equal(l.n, 42);
        assert_string_equal(err, "unknown AMD GPU 2; the host has 2 AMD GPUs: 0 (0000:03:00.0), 1 (0000:83:00.0)");
        /* the Intel iGPU is no AMD GPU, whatever its bus id */
        assert_int_equal(amd_select_resolve("0000:00:02.0", &h, &l, &err), -ENOENT);
        assert_string_equal(err, "unknown AMD GPU 0000:00:02.0; the host has 2 AMD GPUs: 0 (0000:03:00.0), "
                                 "1 (0000:83:00.0)");
        assert_int_equal(amd_select_resolve("4294967295", &h, &l, &err), -ENOENT);
        assert_contains(err, "unknown AMD GPU 4294967295;");
        assert_int_equal(l.n, 42);
        amd_host_done(&h);

        discover("nokfd", &h);
        assert_int_equal(amd_select_resolve("1", &h, &l, &err), -ENOENT);
        assert_string_equal(err, "unknown AMD GPU 1; the host has 1 AMD GPU: 0 (0000:e5:00.0)");
        amd_host_done(&h);

        struct amd_host empty = { .has_kfd = true, .kfd_major = 235 };
        assert_int_equal(amd_select_resolve("0", &empty, &l, &err), -ENOENT);
        assert_string_equal(err, "unknown AMD GPU 0; the host has no AMD GPU");
        assert_int_equal(amd_select_resolve("all", &empty, &l, &err), -ENODEV);
        assert_string_equal(err, "AMD GPU selection \"all\": the host has no AMD GPU");
        assert_int_equal(l.n, 42);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_dev),
                cmocka_unit_test(test_parse_vendor),
                cmocka_unit_test(test_discover_two),
                cmocka_unit_test(test_discover_nokfd),
                cmocka_unit_test(test_discover_errors),
                cmocka_unit_test(test_discover_without_error_pointer),
                cmocka_unit_test(test_resolve_all),
                cmocka_unit_test(test_resolve_index),
                cmocka_unit_test(test_resolve_bus_id),
                cmocka_unit_test(test_resolve_bus_id_case),
                cmocka_unit_test(test_resolve_nokfd),
                cmocka_unit_test(test_resolve_spec_errors),
                cmocka_unit_test(test_resolve_unknown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
