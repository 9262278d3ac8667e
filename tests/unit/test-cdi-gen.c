#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <string.h>
#include <unistd.h>
#include "cdi-gen.h"
#include "cdi.h"
#include "gpu-select.h"
#include "macro.h"

/* The generators' output, written as YAML and as JSON, is read back by
 * curate's own CDI parser (devices/cdi.c) and compared field by field with
 * what it must hold: the device names, the mounts, the nodes `curate run
 * --gpu` would give. */

static int fixture(const char *dir) {
        char path[512];
        snprintf(path, sizeof(path), FIXTURES "/%s", dir);
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

/* SPEC written in FORMAT, parsed back into *RET */
static void roundtrip(json_object *spec, bool yaml, struct cdi_spec *ret) {
        _cleanup_free_ char *text = NULL, *err = NULL;

        assert_int_equal(cdi_gen_format(spec, yaml, &text, &err), 0);
        int r = cdi_spec_parse(yaml ? "gen.yaml" : "gen.json", text, strlen(text), ret, &err);
        if (r < 0)
                fprintf(stderr, "%s\n%s\n", err, text);
        assert_int_equal(r, 0);
}

static const struct cdi_spec_device *device(const struct cdi_spec *s, const char *name) {
        for (size_t i = 0; i < s->n_devices; i++)
                if (streq(s->devices[i].name, name))
                        return &s->devices[i];
        fail_msg("no device %s", name);
        return NULL;
}

static void check_names(const struct cdi_spec *s, const char *const *names, size_t n) {
        assert_int_equal(s->n_devices, n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(s->devices[i].name, names[i]);
}

static void check_view_mount(const struct cdi_mount *m, const char *mp, const struct cdi_gen_view *v) {
        char host[512];
        unsigned attrs;
        bool bind, rec;
        const char *fs[8];

        snprintf(host, sizeof(host), "%s/%s", mp, v->source);
        assert_string_equal(m->host_path, host);
        assert_string_equal(m->container_path, v->target);
        /* read the way the launcher mounts it: a read-only bind, recursive
         * only for the CPU tree, no filesystem options */
        assert_int_equal(cdi_mount_options(m, &attrs, &bind, &rec, fs, ELEMENTSOF(fs)), 0);
        assert_true(bind);
        assert_int_equal(rec, v->dir);
        assert_true(attrs & MOUNT_ATTR_RDONLY);
        assert_true(attrs & MOUNT_ATTR_NOSUID);
        assert_true(attrs & MOUNT_ATTR_NODEV);
}

static void views_in(bool yaml) {
        static const char *const names[] = { "all", "meminfo", "cpuinfo", "stat", "uptime", "loadavg",
                                             "swaps", "diskstats", "cpu-online", "cpu-tree" };
        static const char *const all_targets[] = { "/proc/meminfo", "/proc/cpuinfo", "/proc/stat",
                                                   "/proc/uptime", "/proc/loadavg", "/proc/swaps",
                                                   "/proc/diskstats", "/sys/devices/system/cpu" };
        _cleanup_free_ char *err = NULL;
        json_object *spec = NULL;
        struct cdi_spec s;

        /* a trailing slash gives the same paths */
        assert_int_equal(cdi_gen_views_spec("/var/lib/curatefs/", &spec, &err), 0);
        roundtrip(spec, yaml, &s);
        json_object_put(spec);
        assert_string_equal(s.version, CDI_GEN_VERSION);
        assert_string_equal(s.kind, "curate.dev/views");
        check_names(&s, names, ELEMENTSOF(names));
        assert_int_equal(s.edits.n_mounts, 0);

        const struct cdi_spec_device *all = device(&s, "all");
        assert_int_equal(all->edits.n_mounts, ELEMENTSOF(all_targets));
        assert_int_equal(all->edits.n_nodes, 0);
        assert_int_equal(all->edits.n_env, 0);
        for (size_t i = 0, k = 0; i < cdi_gen_n_views; i++) {
                if (!cdi_gen_views[i].in_all)
                        continue;
                assert_string_equal(all->edits.mounts[k].container_path, all_targets[k]);
                check_view_mount(&all->edits.mounts[k++], "/var/lib/curatefs", &cdi_gen_views[i]);
        }
        /* no /proc path an OCI runtime refuses (runc's allow list) */
        for (size_t i = 0; i < cdi_gen_n_views; i++) {
                const char *t = cdi_gen_views[i].target;
                static const char *const runc_ok[] = { "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo",
                                                       "/proc/stat", "/proc/swaps", "/proc/uptime",
                                                       "/proc/loadavg", "/proc/slabinfo" };
                bool ok = strncmp(t, "/proc/", 6) != 0;
                for (size_t k = 0; k < ELEMENTSOF(runc_ok); k++)
                        ok |= streq(t, runc_ok[k]);
                assert_true(ok);
                const struct cdi_spec_device *d = device(&s, cdi_gen_views[i].name);
                assert_int_equal(d->edits.n_mounts, 1);
                check_view_mount(&d->edits.mounts[0], "/var/lib/curatefs", &cdi_gen_views[i]);
        }
        cdi_spec_done(&s);
}

static void test_views_yaml(void **state) {
        (void)state;
        views_in(true);
}

static void test_views_json(void **state) {
        (void)state;
        views_in(false);
}

static void test_views_relative(void **state) {
        _cleanup_free_ char *err = NULL;
        json_object *spec = NULL;
        (void)state;

        assert_int_equal(cdi_gen_views_spec("var/lib/curatefs", &spec, &err), -EINVAL);
        assert_non_null(strstr(err, "not absolute"));
        assert_null(spec);
}

/* D's nodes equal what --gpu SELECTOR gives, in order, field by field */
static void check_nodes(const struct cdi_spec_device *d, const struct device_list *want) {
        assert_int_equal(d->edits.n_nodes, want->n);
        for (size_t i = 0; i < want->n; i++) {
                const struct cdi_spec_node *n = &d->edits.nodes[i];
                const struct device_node *w = &want->nodes[i];
                assert_string_equal(n->path, w->path);
                assert_true(!n->host_path || streq(n->host_path, w->host_path));
                assert_int_equal(n->type, w->type);
                assert_true(n->has_major && n->has_minor);
                assert_int_equal(n->major, w->major);
                assert_int_equal(n->minor, w->minor);
                assert_string_equal(n->permissions, w->access);
                assert_int_equal(n->file_mode, w->file_mode);
        }
}

static void check_nvidia(const struct cdi_spec *s, const struct nvidia_host *h, const char *name, const char *sel) {
        _cleanup_free_ char *err = NULL;
        struct gpu_selection gs;
        struct device_list want = { .n = 0 };

        assert_int_equal(gpu_select_parse(sel, &gs, &err), 0);
        assert_int_equal(gpu_select_resolve(&gs, h, &want, NULL, &err), 0);
        check_nodes(device(s, name), &want);
        device_list_done(&want);
        gpu_selection_done(&gs);
}

static bool has_node(const struct cdi_spec_device *d, const char *path, unsigned major, unsigned minor) {
        for (size_t i = 0; i < d->edits.n_nodes; i++)
                if (streq(d->edits.nodes[i].path, path))
                        return d->edits.nodes[i].major == major && d->edits.nodes[i].minor == minor;
        return false;
}

static void test_nvidia_two(void **state) {
        static const char *const names[] = { "all", "0", "GPU-1a1a1a1a-4444-5555-6666-777777777777", "1",
                                             "GPU-3b3b3b3b-0000-1111-2222-333333333333" };
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int root = fixture("gpu/two");
        struct nvidia_host h;
        json_object *spec = NULL;
        (void)state;

        assert_int_equal(nvidia_discover(root, &h, &err), 0);
        assert_int_equal(cdi_gen_nvidia_spec(&h, &spec, &err), 0);
        for (int yaml = 0; yaml <= 1; yaml++) {
                struct cdi_spec s;
                roundtrip(spec, yaml, &s);
                assert_string_equal(s.kind, "nvidia.com/gpu");
                check_names(&s, names, ELEMENTSOF(names));
                for (size_t i = 0; i < ELEMENTSOF(names); i++)
                        check_nvidia(&s, &h, names[i], names[i]);
                /* index 0 is Device Minor 1; the control nodes come along */
                const struct cdi_spec_device *d = device(&s, "0");
                assert_true(has_node(d, "/dev/nvidia1", 195, 1));
                assert_false(has_node(d, "/dev/nvidia0", 195, 0));
                assert_true(has_node(d, "/dev/nvidiactl", 195, 255));
                assert_true(has_node(d, "/dev/nvidia-uvm", 510, 0));
                assert_true(has_node(d, "/dev/nvidia-uvm-tools", 510, 1));
                assert_true(has_node(device(&s, "all"), "/dev/nvidia0", 195, 0));
                cdi_spec_done(&s);
        }
        json_object_put(spec);
        nvidia_host_done(&h);
}

static void test_nvidia_mig(void **state) {
        static const char *const names[] = { "all", "0", "GPU-07070707-aaaa-bbbb-cccc-dddddddddddd",
                                             "0:0", "0:1", "0:2", "0:3" };
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int root = fixture("gpu/mig");
        struct nvidia_host h;
        json_object *spec = NULL;
        struct cdi_spec s;
        (void)state;

        assert_int_equal(nvidia_discover(root, &h, &err), 0);
        assert_int_equal(cdi_gen_nvidia_spec(&h, &spec, &err), 0);
        roundtrip(spec, true, &s);
        check_names(&s, names, ELEMENTSOF(names));
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                check_nvidia(&s, &h, names[i], names[i]);
        /* 0:1 is gi2/ci0: caps 39 and 40 */
        assert_true(has_node(device(&s, "0:1"), "/dev/nvidia-caps/nvidia-cap39", 236, 39));
        assert_true(has_node(device(&s, "0:1"), "/dev/nvidia-caps/nvidia-cap40", 236, 40));
        assert_false(has_node(device(&s, "0:1"), "/dev/nvidia-caps/nvidia-cap31", 236, 31));
        cdi_spec_done(&s);
        json_object_put(spec);
        nvidia_host_done(&h);
}

static void test_amd_two(void **state) {
        static const char *const names[] = { "all", "0", "0000:03:00.0", "1", "0000:83:00.0" };
        _cleanup_free_ char *err = NULL;
        _cleanup_close_ int root = fixture("amd/two");
        struct amd_host h;
        json_object *spec = NULL;
        (void)state;

        assert_int_equal(amd_discover(root, &h, &err), 0);
        assert_int_equal(cdi_gen_amd_spec(&h, &spec, &err), 0);
        for (int yaml = 0; yaml <= 1; yaml++) {
                struct cdi_spec s;
                roundtrip(spec, yaml, &s);
                assert_string_equal(s.kind, "amd.com/gpu");
                check_names(&s, names, ELEMENTSOF(names));
                for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                        struct device_list want = { .n = 0 };
                        assert_int_equal(amd_select_resolve(names[i], &h, &want, &err), 0);
                        check_nodes(device(&s, names[i]), &want);
                        device_list_done(&want);
                }
                assert_true(has_node(device(&s, "0"), "/dev/kfd", 235, 0));
                assert_true(has_node(device(&s, "0"), "/dev/dri/renderD129", 226, 129));
                cdi_spec_done(&s);
        }
        json_object_put(spec);
        amd_host_done(&h);
}

static void test_no_gpu(void **state) {
        _cleanup_free_ char *err = NULL;
        struct nvidia_host nv = { .n_gpus = 0 };
        struct amd_host amd = { .n_gpus = 0 };
        json_object *spec = NULL;
        (void)state;

        assert_int_equal(cdi_gen_nvidia_spec(&nv, &spec, &err), -ENODEV);
        assert_int_equal(cdi_gen_amd_spec(&amd, &spec, &err), -ENODEV);
        assert_null(spec);
}

/* strings YAML would read as numbers, booleans or null stay strings */
static void test_yaml_quoting(void **state) {
        _cleanup_free_ char *text = NULL, *err = NULL;
        json_object *o = json_object_new_object();
        (void)state;

        json_object_object_add(o, "a", json_object_new_string("0"));
        json_object_object_add(o, "b", json_object_new_string("yes"));
        json_object_object_add(o, "c", json_object_new_string("0:1"));
        json_object_object_add(o, "d", json_object_new_string("meminfo"));
        json_object_object_add(o, "e", json_object_new_int(195));
        assert_int_equal(cdi_gen_format(o, true, &text, &err), 0);
        assert_non_null(strstr(text, "a: \"0\"\n"));
        assert_non_null(strstr(text, "b: \"yes\"\n"));
        assert_non_null(strstr(text, "c: \"0:1\"\n"));
        assert_non_null(strstr(text, "d: meminfo\n"));
        assert_non_null(strstr(text, "e: 195\n"));
        json_object_put(o);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_views_yaml),
                cmocka_unit_test(test_views_json),
                cmocka_unit_test(test_views_relative),
                cmocka_unit_test(test_nvidia_two),
                cmocka_unit_test(test_nvidia_mig),
                cmocka_unit_test(test_amd_two),
                cmocka_unit_test(test_no_gpu),
                cmocka_unit_test(test_yaml_quoting),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
