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
#include "nvidia.h"

#define GPU_1A "GPU-1a1a1a1a-4444-5555-6666-777777777777"
#define GPU_3B "GPU-3b3b3b3b-0000-1111-2222-333333333333"
#define GPU_07 "GPU-07070707-aaaa-bbbb-cccc-dddddddddddd"

static int open_fixture(const char *name) {
        char path[512];
        snprintf(path, sizeof(path), FIXTURES "/gpu/%s", name);
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static void discover(const char *name, struct nvidia_host *h) {
        _cleanup_close_ int fd = open_fixture(name);
        _cleanup_free_ char *err = NULL;
        int r = nvidia_discover(fd, h, &err);
        if (r < 0)
                print_error("discover %s: %s\n", name, err ? err : "?");
        assert_int_equal(r, 0);
}

static const struct device_node *find_node(const struct device_list *l, const char *path) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->nodes[i].path, path))
                        return &l->nodes[i];
        return NULL;
}

static void assert_node(const struct device_list *l, const char *path, unsigned major, unsigned minor) {
        const struct device_node *n = find_node(l, path);
        if (!n)
                print_error("missing node %s\n", path);
        assert_non_null(n);
        assert_int_equal(n->type, 'c');
        assert_int_equal(n->major, major);
        assert_int_equal(n->minor, minor);
        assert_string_equal(n->access, "rwm");
        assert_string_equal(n->host_path, path);
        assert_int_equal(n->file_mode, 0);
        assert_true(n->uid == (uid_t)-1 && n->gid == (gid_t)-1);
}

static size_t strv_len(char **v) {
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

/* Parse SPEC, resolve on H; return the result of resolve. */
static int resolve(const char *spec, const struct nvidia_host *h, struct device_list *l, char ***proc, char **err) {
        struct gpu_selection sel;
        assert_int_equal(gpu_select_parse(spec, &sel, err), 0);
        int r = gpu_select_resolve(&sel, h, l, proc, err);
        gpu_selection_done(&sel);
        return r;
}

/* ---- /proc parsers ---- */

static const char info_text[] =
        "Model: \t\t NVIDIA A100-SXM4-40GB\n"
        "IRQ:   \t\t 142\n"
        "GPU UUID: \t GPU-07070707-aaaa-bbbb-cccc-dddddddddddd\n"
        "Bus Location: \t 0000:07:00.0\n"
        "Device Minor: \t 3\n"
        "GPU Excluded:\t No\n";

static void test_parse_information(void **state) {
        struct nvidia_gpu g = { .minor = 77 };

        assert_int_equal(nvidia_parse_information(info_text, &g), 0);
        assert_string_equal(g.model, "NVIDIA A100-SXM4-40GB");
        assert_string_equal(g.uuid, GPU_07);
        assert_string_equal(g.bus_id, "0000:07:00.0"); /* split at the first ':' only */
        assert_int_equal(g.minor, 3);
        assert_int_equal(g.n_migs, 0);
        nvidia_gpu_done(&g);

        /* no Model, no Bus Location, no final newline: still a GPU */
        assert_int_equal(nvidia_parse_information("GPU UUID: GPU-x\nDevice Minor:\t12", &g), 0);
        assert_null(g.model);
        assert_null(g.bus_id);
        assert_string_equal(g.uuid, "GPU-x");
        assert_int_equal(g.minor, 12);
        nvidia_gpu_done(&g);
}

static void test_parse_information_errors(void **state) {
        static const char *const bad[] = {
                "Model: x\nGPU UUID: GPU-x\n",                      /* no Device Minor */
                "Model: x\nDevice Minor: 0\n",                      /* no UUID */
                "GPU UUID: \t\nDevice Minor: 0\n",                  /* empty UUID */
                "GPU UUID: GPU-x\nDevice Minor: zero\n",            /* not a number */
                "GPU UUID: GPU-x\nDevice Minor: -1\n",
                "GPU UUID: GPU-x\nDevice Minor: 1048576\n",         /* beyond 20 bits */
                "GPU UUID: GPU-x\nDevice Minor 0\n",                /* no colon */
                "",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct nvidia_gpu g = { .minor = 77 };
                assert_int_equal(nvidia_parse_information(bad[i], &g), -EINVAL);
                assert_int_equal(g.minor, 77); /* untouched on failure */
                assert_null(g.uuid);
        }
}

static const char devices_text[] =
        "Character devices:\n"
        "  1 mem\n"
        "195 nvidia-frontend\n"
        "235 nvidia-caps\n"
        "510 nvidia-uvm\n"
        "\n"
        "Block devices:\n"
        "  8 sd\n"
        "300 nvidia\n";

static void test_parse_proc_devices(void **state) {
        unsigned major = 7;

        assert_int_equal(parse_proc_devices(devices_text, "nvidia-frontend", &major), 0);
        assert_int_equal(major, 195);
        assert_int_equal(parse_proc_devices(devices_text, "nvidia-uvm", &major), 0);
        assert_int_equal(major, 510);
        assert_int_equal(parse_proc_devices(devices_text, "nvidia-caps", &major), 0);
        assert_int_equal(major, 235);
        assert_int_equal(parse_proc_devices(devices_text, "mem", &major), 0);
        assert_int_equal(major, 1);
        major = 7;
        /* "nvidia" is only a block device here, and no prefix of nvidia-*. */
        assert_int_equal(parse_proc_devices(devices_text, "nvidia", &major), -ENOENT);
        assert_int_equal(parse_proc_devices(devices_text, "sd", &major), -ENOENT);
        assert_int_equal(parse_proc_devices(devices_text, "nvidia-uv", &major), -ENOENT);
        assert_int_equal(parse_proc_devices("", "nvidia", &major), -ENOENT);
        assert_int_equal(major, 7);
        assert_int_equal(parse_proc_devices("Character devices:\n195 nvidia\n", "nvidia", &major), 0);
        assert_int_equal(major, 195);
        assert_int_equal(parse_proc_devices("Character devices:\nx nvidia\n", "nvidia", &major), -EINVAL);
        assert_int_equal(parse_proc_devices("Character devices:\n9999 nvidia\n", "nvidia", &major), -EINVAL);
        /* a line of white space other than blanks is no number: strtoul
         * would skip to the next line and its name would end before it
         * began (found by tests/fuzz/fuzz-proc-devices) */
        assert_int_equal(parse_proc_devices("Character devices:\n\v\n195 nvidia\n", "nvidia", &major), -EINVAL);
        assert_int_equal(parse_proc_devices("Character devices:\n \r\n4 x\n", "x", &major), -EINVAL);
        assert_int_equal(major, 195);
}

static void test_parse_cap_minor(void **state) {
        unsigned minor = 7;
        assert_int_equal(nvidia_parse_cap_minor("DeviceFileMinor: 41\nDeviceFileMode: 292\n", &minor), 0);
        assert_int_equal(minor, 41);
        assert_int_equal(nvidia_parse_cap_minor("DeviceFileMode: 292\n", &minor), -EINVAL);
        assert_int_equal(nvidia_parse_cap_minor("DeviceFileMinor: x\n", &minor), -EINVAL);
        assert_int_equal(nvidia_parse_cap_minor("", &minor), -EINVAL);
        assert_int_equal(minor, 41);
}

/* ---- discovery on fixture trees ---- */

static void test_discover_two(void **state) {
        struct nvidia_host h;
        discover("two", &h);

        assert_int_equal(h.n_gpus, 2);
        /* PCI bus order, not directory order; minor from the driver */
        assert_string_equal(h.gpus[0].bus_id, "0000:1a:00.0");
        assert_string_equal(h.gpus[0].uuid, GPU_1A);
        assert_int_equal(h.gpus[0].minor, 1);
        assert_string_equal(h.gpus[1].bus_id, "0000:3b:00.0");
        assert_string_equal(h.gpus[1].uuid, GPU_3B);
        assert_int_equal(h.gpus[1].minor, 0);
        assert_string_equal(h.gpus[1].model, "NVIDIA A40");
        assert_int_equal(h.gpus[0].n_migs + h.gpus[1].n_migs, 0);
        assert_int_equal(h.major, 195);
        assert_true(h.has_uvm);
        assert_int_equal(h.uvm_major, 510);
        assert_true(h.has_caps);
        assert_int_equal(h.caps_major, 235);
        assert_true(h.has_modeset);
        assert_false(h.has_mig_config || h.has_mig_monitor);
        nvidia_host_done(&h);
        assert_int_equal(h.n_gpus, 0);
}

static void test_discover_mig(void **state) {
        struct nvidia_host h;
        discover("mig", &h);

        assert_int_equal(h.n_gpus, 1);
        const struct nvidia_gpu *g = &h.gpus[0];
        assert_int_equal(g->minor, 3);
        /* gi5 has no compute instance: no MIG device */
        assert_int_equal(g->n_migs, 4);
        /* numeric (gi, ci) order: gi10 after gi2 */
        static const unsigned want[4][4] = { { 1, 0, 30, 31 }, { 2, 0, 39, 40 }, { 2, 1, 39, 41 }, { 10, 0, 140, 141 } };
        for (size_t j = 0; j < 4; j++) {
                assert_int_equal(g->migs[j].gi, want[j][0]);
                assert_int_equal(g->migs[j].ci, want[j][1]);
                assert_int_equal(g->migs[j].gi_cap_minor, want[j][2]);
                assert_int_equal(g->migs[j].ci_cap_minor, want[j][3]);
                assert_null(g->migs[j].uuid);
        }
        assert_true(h.has_caps);
        assert_int_equal(h.caps_major, 236);
        assert_int_equal(h.uvm_major, 508);
        assert_true(h.has_mig_config && h.has_mig_monitor);
        assert_int_equal(h.mig_config_minor, 1);
        assert_int_equal(h.mig_monitor_minor, 2);
        assert_false(h.has_modeset);
        nvidia_host_done(&h);
}

static void test_discover_nouvm(void **state) {
        struct nvidia_host h;
        discover("nouvm", &h);
        assert_int_equal(h.major, 195); /* registered as plain "nvidia" */
        assert_false(h.has_uvm);
        assert_false(h.has_caps);
        assert_false(h.has_modeset);
        assert_int_equal(h.n_gpus, 1);
        nvidia_host_done(&h);
}

static void test_discover_excluded(void **state) {
        struct nvidia_host h;
        struct device_list l = { 0 };
        _cleanup_free_ char *err = NULL;
        discover("excluded", &h);

        /* 0000:01:00.0 is excluded: no index, and 0000:02:00.0 becomes GPU 0 */
        assert_int_equal(h.n_gpus, 1);
        assert_string_equal(h.gpus[0].bus_id, "0000:02:00.0");
        assert_int_equal(h.gpus[0].minor, 1);
        assert_int_equal(resolve("all", &h, &l, NULL, NULL), 0);
        assert_node(&l, "/dev/nvidia1", 195, 1);
        assert_null(find_node(&l, "/dev/nvidia0"));
        device_list_done(&l);
        assert_int_equal(resolve("1", &h, &l, NULL, &err), -ENOENT);
        nvidia_host_done(&h);
}

static void expect_discover_error(const char *tree, int want, const char *const *parts) {
        _cleanup_close_ int fd = open_fixture(tree);
        _cleanup_free_ char *err = NULL;
        struct nvidia_host h = { .n_gpus = 99 };

        assert_int_equal(nvidia_discover(fd, &h, &err), want);
        assert_int_equal(h.n_gpus, 99); /* untouched on failure */
        assert_non_null(err);
        for (; *parts; parts++)
                if (!strstr(err, *parts)) {
                        print_error("\"%s\" lacks \"%s\"\n", err, *parts);
                        fail();
                }
}

static void test_discover_errors(void **state) {
        expect_discover_error("broken", -EINVAL, (const char *const[]){
                "proc/driver/nvidia/gpus/0000:1a:00.0/information", "\"Device Minor:\"", NULL });
        expect_discover_error("badcap", -EINVAL, (const char *const[]){
                "capabilities/gpu0/mig/gi1/access", "DeviceFileMinor", NULL });
        expect_discover_error("nodriver", -ENODEV, (const char *const[]){
                "proc/devices", "nvidia-frontend", NULL });
}

/* ---- selection parser ---- */

static void test_parse_keywords(void **state) {
        static const struct {
                const char *spec;
                enum gpu_select_mode mode;
        } cases[] = {
                { "all", GPU_SELECT_ALL }, { " ALL\n", GPU_SELECT_ALL },
                { "none", GPU_SELECT_NONE }, { "None", GPU_SELECT_NONE },
                { "void", GPU_SELECT_VOID }, { "\tvoid ", GPU_SELECT_VOID },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct gpu_selection sel;
                assert_int_equal(gpu_select_parse(cases[i].spec, &sel, NULL), 0);
                assert_int_equal(sel.mode, cases[i].mode);
                assert_int_equal(sel.n_tokens, 0);
                assert_false(sel.mig_config || sel.mig_monitor);
                gpu_selection_done(&sel);
        }
}

static void test_parse_list(void **state) {
        struct gpu_selection sel;
        assert_int_equal(gpu_select_parse(" 1 , 0,GPU-AbC-12,MIG-0f-e1, 2:10,MIG-GPU-ab/1/0", &sel, NULL), 0);
        assert_int_equal(sel.mode, GPU_SELECT_LIST);
        assert_int_equal(sel.n_tokens, 6);
        assert_int_equal(sel.tokens[0].kind, GPU_TOKEN_INDEX);
        assert_int_equal(sel.tokens[0].index, 1);
        assert_int_equal(sel.tokens[1].kind, GPU_TOKEN_INDEX);
        assert_int_equal(sel.tokens[1].index, 0);
        assert_int_equal(sel.tokens[2].kind, GPU_TOKEN_UUID);
        assert_string_equal(sel.tokens[2].uuid, "GPU-AbC-12");
        assert_int_equal(sel.tokens[3].kind, GPU_TOKEN_MIG_UUID);
        assert_string_equal(sel.tokens[3].uuid, "MIG-0f-e1");
        assert_int_equal(sel.tokens[4].kind, GPU_TOKEN_MIG_INDEX);
        assert_int_equal(sel.tokens[4].index, 2);
        assert_int_equal(sel.tokens[4].mig_index, 10);
        assert_int_equal(sel.tokens[5].kind, GPU_TOKEN_MIG_UUID);
        assert_string_equal(sel.tokens[5].uuid, "MIG-GPU-ab/1/0");
        gpu_selection_done(&sel);
        assert_int_equal(sel.n_tokens, 0);
        assert_null(sel.tokens);
}

static void test_parse_errors(void **state) {
        static const struct {
                const char *spec, *msg;
        } cases[] = {
                { "", "empty GPU selection" },
                { " \t", "empty GPU selection" },
                { "0,,1", "\"0,,1\": empty entry" },
                { "0,", "empty entry" },
                { ",0", "empty entry" },
                { "x", "bad entry \"x\" (expected all, none, void" },
                { "-1", "bad entry \"-1\"" },
                { "+1", "bad entry \"+1\"" },
                { "1:", "bad entry \"1:\"" },
                { ":1", "bad entry \":1\"" },
                { "1:2:3", "bad entry \"1:2:3\"" },
                { "4294967296", "bad entry \"4294967296\"" },
                { "GPU-", "bad entry \"GPU-\"" },
                { "MIG-", "bad entry \"MIG-\"" },
                { "GPU-a/b", "bad entry \"GPU-a/b\"" },
                { "GPU-a b", "bad entry \"GPU-a b\"" },
                { "0 1", "bad entry \"0 1\"" },
                { "0,1,0", "\"0\" is listed twice" },
                { "1:0, 1:0", "\"1:0\" is listed twice" },
                { "GPU-ab,gpu-AB", "\"gpu-AB\" is listed twice" },
                { "all,0", "\"all\" cannot be combined" },
                { "0,none", "\"none\" cannot be combined" },
                { "void,void", "\"void\" cannot be combined" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct gpu_selection sel = { .n_tokens = 99 };
                _cleanup_free_ char *err = NULL;
                assert_int_equal(gpu_select_parse(cases[i].spec, &sel, &err), -EINVAL);
                assert_int_equal(sel.n_tokens, 99);
                assert_non_null(err);
                if (!strstr(err, cases[i].msg)) {
                        print_error("\"%s\": \"%s\" lacks \"%s\"\n", cases[i].spec, err, cases[i].msg);
                        fail();
                }
        }
}

/* ---- resolution ---- */

static void test_resolve_index_uses_minor(void **state) {
        struct nvidia_host h;
        struct device_list l = { 0 };
        char **proc = NULL;
        discover("two", &h);

        /* index 1 is 0000:3b:00.0, whose Device Minor is 0 */
        assert_int_equal(resolve("1", &h, &l, &proc, NULL), 0);
        assert_int_equal(l.n, 5);
        assert_node(&l, "/dev/nvidiactl", 195, 255);
        assert_node(&l, "/dev/nvidia-uvm", 510, 0);
        assert_node(&l, "/dev/nvidia-uvm-tools", 510, 1);
        assert_node(&l, "/dev/nvidia-modeset", 195, 254);
        assert_node(&l, "/dev/nvidia0", 195, 0);
        assert_null(find_node(&l, "/dev/nvidia1"));
        assert_int_equal(strv_len(proc), 1);
        assert_string_equal(proc[0], "0000:3b:00.0");
        device_list_done(&l);
        gpu_select_strv_free(proc);

        assert_int_equal(resolve("0", &h, &l, &proc, NULL), 0);
        assert_node(&l, "/dev/nvidia1", 195, 1);
        assert_null(find_node(&l, "/dev/nvidia0"));
        assert_string_equal(proc[0], "0000:1a:00.0");
        device_list_done(&l);
        gpu_select_strv_free(proc);
        nvidia_host_done(&h);
}

static void test_resolve_uuid(void **state) {
        struct nvidia_host h;
        struct device_list l = { 0 };
        char **proc = NULL;
        _cleanup_free_ char *err = NULL;
        discover("two", &h);

        /* case-insensitive, like libnvidia-container */
        assert_int_equal(resolve("gpu-3B3B3B3B-0000-1111-2222-333333333333", &h, &l, &proc, NULL), 0);
        assert_node(&l, "/dev/nvidia0", 195, 0);
        assert_string_equal(proc[0], "0000:3b:00.0");
        device_list_done(&l);
        gpu_select_strv_free(proc);

        /* a prefix is no match */
        l.n = 42;
        assert_int_equal(resolve("GPU-3b3b3b3b", &h, &l, &proc, &err), -ENOENT);
        assert_int_equal(l.n, 42);
        assert_string_equal(err, "unknown GPU GPU-3b3b3b3b; the host has 0 (" GPU_1A ", 0000:1a:00.0), 1 ("
                            GPU_3B ", 0000:3b:00.0)");
        nvidia_host_done(&h);
}

static void test_resolve_unknown_index(void **state) {
        struct nvidia_host h;
        struct device_list l = { .n = 42 };
        char **proc = (char **)&h;
        _cleanup_free_ char *err = NULL;
        discover("two", &h);

        assert_int_equal(resolve("0,2", &h, &l, &proc, &err), -ENOENT);
        assert_int_equal(l.n, 42);
        assert_ptr_equal(proc, (char **)&h);
        assert_non_null(strstr(err, "unknown GPU 2; the host has 0 (" GPU_1A));
        nvidia_host_done(&h);

        struct nvidia_host empty = { .major = 195 };
        assert_int_equal(resolve("0", &empty, &l, NULL, &err), -ENOENT);
        assert_string_equal(err, "unknown GPU 0; the host has no NVIDIA GPU");
}

static void test_resolve_keywords(void **state) {
        struct nvidia_host h;
        struct device_list l = { 0 };
        char **proc = NULL;
        discover("two", &h);

        assert_int_equal(resolve("all", &h, &l, &proc, NULL), 0);
        assert_int_equal(l.n, 6);
        assert_node(&l, "/dev/nvidia0", 195, 0);
        assert_node(&l, "/dev/nvidia1", 195, 1);
        assert_node(&l, "/dev/nvidiactl", 195, 255);
        assert_int_equal(strv_len(proc), 2);
        assert_string_equal(proc[0], "0000:1a:00.0");
        assert_string_equal(proc[1], "0000:3b:00.0");
        device_list_done(&l);
        gpu_select_strv_free(proc);

        assert_int_equal(resolve("none", &h, &l, &proc, NULL), 0);
        assert_int_equal(l.n, 4);
        assert_node(&l, "/dev/nvidiactl", 195, 255);
        assert_node(&l, "/dev/nvidia-uvm", 510, 0);
        assert_node(&l, "/dev/nvidia-uvm-tools", 510, 1);
        assert_node(&l, "/dev/nvidia-modeset", 195, 254);
        assert_int_equal(strv_len(proc), 0);
        assert_non_null(proc);
        device_list_done(&l);
        gpu_select_strv_free(proc);

        assert_int_equal(resolve("void", &h, &l, &proc, NULL), 0);
        assert_int_equal(l.n, 0);
        assert_int_equal(strv_len(proc), 0);
        device_list_done(&l);
        gpu_select_strv_free(proc);
        nvidia_host_done(&h);
}

static void test_resolve_same_gpu_twice(void **state) {
        struct nvidia_host h;
        struct device_list l = { 0 };
        char **proc = NULL;
        discover("two", &h);

        assert_int_equal(resolve("0," GPU_1A, &h, &l, &proc, NULL), 0);
        assert_int_equal(l.n, 5);
        assert_node(&l, "/dev/nvidia1", 195, 1);
        assert_int_equal(strv_len(proc), 1);
        device_list_done(&l);
        gpu_select_strv_free(proc);
        nvidia_host_done(&h);
}

static void test_resolve_nouvm(void **state) {
        struct nvidia_host h;
        struct device_list l = { 0 };
        discover("nouvm", &h);

        assert_int_equal(resolve("0", &h, &l, NULL, NULL), 0);
        assert_int_equal(l.n, 2);
        assert_node(&l, "/dev/nvidiactl", 195, 255);
        assert_node(&l, "/dev/nvidia0", 195, 0);
        assert_null(find_node(&l, "/dev/nvidia-uvm"));
        assert_null(find_node(&l, "/dev/nvidia-modeset"));
        device_list_done(&l);
        nvidia_host_done(&h);
}

static void test_resolve_mig_index(void **state) {
        struct nvidia_host h;
        struct device_list l = { 0 };
        char **proc = NULL;
        _cleanup_free_ char *err = NULL;
        discover("mig", &h);

        assert_int_equal(resolve("0:1", &h, &l, &proc, NULL), 0);
        assert_int_equal(l.n, 6);
        assert_node(&l, "/dev/nvidia3", 195, 3);
        assert_node(&l, "/dev/nvidia-caps/nvidia-cap39", 236, 39);
        assert_node(&l, "/dev/nvidia-caps/nvidia-cap40", 236, 40);
        assert_node(&l, "/dev/nvidia-uvm", 508, 0);
        assert_null(find_node(&l, "/dev/nvidia-caps/nvidia-cap41"));
        assert_int_equal(strv_len(proc), 1);
        assert_string_equal(proc[0], "0000:07:00.0");
        device_list_done(&l);
        gpu_select_strv_free(proc);

        l.n = 42;
        assert_int_equal(resolve("0:4", &h, &l, &proc, &err), -ENOENT);
        assert_int_equal(l.n, 42);
        assert_string_equal(err, "unknown MIG device 0:4; the host has 0:0 (gi 1 ci 0), 0:1 (gi 2 ci 0), "
                                 "0:2 (gi 2 ci 1), 0:3 (gi 10 ci 0)");
        assert_int_equal(resolve("1:0", &h, &l, &proc, &err), -ENOENT);
        assert_non_null(strstr(err, "unknown MIG device 1:0"));
        nvidia_host_done(&h);
}

static void test_resolve_mig_all(void **state) {
        struct nvidia_host h;
        struct device_list l = { 0 };
        discover("mig", &h);

        assert_int_equal(resolve("all", &h, &l, NULL, NULL), 0);
        /* ctl, uvm, uvm-tools, nvidia3, caps 30 31 39 40 41 140 141 */
        assert_int_equal(l.n, 11);
        static const unsigned caps[] = { 30, 31, 39, 40, 41, 140, 141 };
        for (size_t i = 0; i < ELEMENTSOF(caps); i++) {
                char path[64];
                snprintf(path, sizeof(path), "/dev/nvidia-caps/nvidia-cap%u", caps[i]);
                assert_node(&l, path, 236, caps[i]);
        }
        assert_null(find_node(&l, "/dev/nvidia-caps/nvidia-cap66"));
        assert_null(find_node(&l, "/dev/nvidia-caps/nvidia-cap1")); /* config: only on request */
        device_list_done(&l);
        nvidia_host_done(&h);
}

static void test_resolve_mig_uuid(void **state) {
        struct nvidia_host h;
        struct device_list l = { 0 };
        _cleanup_free_ char *err = NULL;
        discover("mig", &h);

        /* legacy form names GPU, gi and ci */
        assert_int_equal(resolve("MIG-" GPU_07 "/2/1", &h, &l, NULL, NULL), 0);
        assert_node(&l, "/dev/nvidia3", 195, 3);
        assert_node(&l, "/dev/nvidia-caps/nvidia-cap39", 236, 39);
        assert_node(&l, "/dev/nvidia-caps/nvidia-cap41", 236, 41);
        assert_null(find_node(&l, "/dev/nvidia-caps/nvidia-cap40"));
        device_list_done(&l);

        assert_int_equal(resolve("MIG-" GPU_07 "/5/0", &h, &l, NULL, &err), -ENOENT);
        assert_int_equal(resolve("MIG-4ff1-99", &h, &l, NULL, &err), -ENOENT);
        assert_non_null(strstr(err, "unknown MIG device MIG-4ff1-99 (/proc/driver/nvidia does not show MIG UUIDs"));

        /* a UUID the caller learnt elsewhere (NVML) */
        h.gpus[0].migs[0].uuid = strdup("MIG-4ff1-99");
        assert_int_equal(resolve("mig-4FF1-99", &h, &l, NULL, NULL), 0);
        assert_node(&l, "/dev/nvidia-caps/nvidia-cap30", 236, 30);
        assert_node(&l, "/dev/nvidia-caps/nvidia-cap31", 236, 31);
        device_list_done(&l);
        nvidia_host_done(&h);
}

static void test_resolve_mig_without_caps(void **state) {
        struct nvidia_mig mig = { .gi = 1, .ci = 0, .gi_cap_minor = 30, .ci_cap_minor = 31 };
        struct nvidia_gpu gpu = { .uuid = (char *)"GPU-x", .bus_id = (char *)"0000:07:00.0",
                                  .minor = 0, .migs = &mig, .n_migs = 1 };
        struct nvidia_host h = { .gpus = &gpu, .n_gpus = 1, .major = 195 };
        struct device_list l = { .n = 42 };
        _cleanup_free_ char *err = NULL;

        assert_int_equal(resolve("0:0", &h, &l, NULL, &err), -ENODEV);
        assert_int_equal(l.n, 42);
        assert_non_null(strstr(err, "no \"nvidia-caps\""));
        /* the whole GPU needs no caps */
        l = (struct device_list){ 0 };
        assert_int_equal(resolve("0", &h, &l, NULL, NULL), 0);
        assert_int_equal(l.n, 2);
        device_list_done(&l);
}

static void test_resolve_mig_management(void **state) {
        struct nvidia_host h, two;
        struct device_list l = { 0 };
        struct gpu_selection sel;
        _cleanup_free_ char *err = NULL;
        discover("mig", &h);
        discover("two", &two);

        assert_int_equal(gpu_select_parse("all", &sel, NULL), 0);
        sel.mig_config = sel.mig_monitor = true;
        assert_int_equal(gpu_select_resolve(&sel, &h, &l, NULL, NULL), 0);
        assert_node(&l, "/dev/nvidia-caps/nvidia-cap1", 236, 1);
        assert_node(&l, "/dev/nvidia-caps/nvidia-cap2", 236, 2);
        device_list_done(&l);
        sel.mig_monitor = false;
        assert_int_equal(gpu_select_resolve(&sel, &two, &l, NULL, &err), -ENODEV);
        assert_non_null(strstr(err, "capabilities/mig/config"));
        gpu_selection_done(&sel);

        assert_int_equal(gpu_select_parse("0:0", &sel, NULL), 0);
        sel.mig_monitor = true;
        assert_int_equal(gpu_select_resolve(&sel, &h, &l, NULL, &err), -EINVAL);
        assert_string_equal(err, "MIG monitor cannot be given with specific MIG devices selected");
        gpu_selection_done(&sel);
        nvidia_host_done(&h);
        nvidia_host_done(&two);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_information),
                cmocka_unit_test(test_parse_information_errors),
                cmocka_unit_test(test_parse_proc_devices),
                cmocka_unit_test(test_parse_cap_minor),
                cmocka_unit_test(test_discover_two),
                cmocka_unit_test(test_discover_mig),
                cmocka_unit_test(test_discover_nouvm),
                cmocka_unit_test(test_discover_errors),
                cmocka_unit_test(test_discover_excluded),
                cmocka_unit_test(test_parse_keywords),
                cmocka_unit_test(test_parse_list),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_resolve_index_uses_minor),
                cmocka_unit_test(test_resolve_uuid),
                cmocka_unit_test(test_resolve_unknown_index),
                cmocka_unit_test(test_resolve_keywords),
                cmocka_unit_test(test_resolve_same_gpu_twice),
                cmocka_unit_test(test_resolve_nouvm),
                cmocka_unit_test(test_resolve_mig_index),
                cmocka_unit_test(test_resolve_mig_all),
                cmocka_unit_test(test_resolve_mig_uuid),
                cmocka_unit_test(test_resolve_mig_without_caps),
                cmocka_unit_test(test_resolve_mig_management),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
