#include "config.h"
/* `curate oci-hook`'s inputs: the OCI state on stdin, the bundle's
 * config.json and the io.curate.views annotation, good and bad, and the
 * message each bad one gets. No privileges, nothing created. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "macro.h"
#include "oci-state.h"
#include "policy.h"
#include "registration.h"

#define V(x) (1u << POLICY_VIEW_##x)

static int state(const char *json, struct oci_state *s, char **error) {
        return oci_state_parse(json, strlen(json), s, error);
}

static void test_state_runc(void **unused) {
        /* what runc 1.1 hands a createContainer hook (seen on this host) */
        const char *j = "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"exp1\",\"status\":\"creating\",\"pid\":1,"
                        "\"bundle\":\"/tmp/b\",\"annotations\":{\"io.curate.views\":\"all\",\"x\":\"y\"}}\n";
        struct oci_state s = {};
        char *error = NULL;

        assert_int_equal(state(j, &s, &error), 0);
        assert_null(error);
        assert_string_equal(s.id, "exp1");
        assert_int_equal(s.pid, 1);
        assert_string_equal(s.bundle, "/tmp/b");
        assert_string_equal(s.views, "all");
        oci_state_done(&s);
}

static void test_state_no_annotations(void **unused) {
        struct oci_state s = {};
        char *error = NULL;

        assert_int_equal(state("{\"id\":\"c\",\"pid\":4242,\"bundle\":\"/b\"}", &s, &error), 0);
        assert_null(s.views);
        assert_int_equal(s.pid, 4242);
        oci_state_done(&s);
        assert_int_equal(state("{\"id\":\"c\",\"pid\":1,\"bundle\":\"/b\",\"annotations\":{}}", &s, &error), 0);
        assert_null(s.views);
        oci_state_done(&s);
}

static void test_state_bad(void **unused) {
        static const struct {
                const char *json, *message;
        } bad[] = {
                { "", "OCI state on stdin: empty" },
                { "{\"id\":", "OCI state on stdin: not JSON: truncated" },
                { "[1,2]", "OCI state on stdin: not a JSON object" },
                { "{\"id\":\"c\",\"pid\":1,\"bundle\":\"/b\"} x", "OCI state on stdin: text after the JSON value" },
                { "{\"pid\":1,\"bundle\":\"/b\"}", "OCI state on stdin: no \"id\"" },
                { "{\"id\":\"\",\"pid\":1,\"bundle\":\"/b\"}", "OCI state on stdin: \"id\" is not a non-empty string" },
                { "{\"id\":7,\"pid\":1,\"bundle\":\"/b\"}", "OCI state on stdin: \"id\" is not a non-empty string" },
                { "{\"id\":\"c\",\"pid\":1}", "OCI state on stdin: no \"bundle\"" },
                { "{\"id\":\"c\",\"pid\":1,\"bundle\":\"b\"}",
                  "OCI state on stdin: bundle \"b\" is not an absolute path" },
                { "{\"id\":\"c\",\"bundle\":\"/b\"}", "OCI state on stdin: no \"pid\" number (the hook runs at "
                  "createContainer, when the container has a process)" },
                { "{\"id\":\"c\",\"pid\":\"1\",\"bundle\":\"/b\"}", "OCI state on stdin: no \"pid\" number (the hook "
                  "runs at createContainer, when the container has a process)" },
                { "{\"id\":\"c\",\"pid\":0,\"bundle\":\"/b\"}", "OCI state on stdin: pid 0 out of range" },
                { "{\"id\":\"c\",\"pid\":-5,\"bundle\":\"/b\"}", "OCI state on stdin: pid -5 out of range" },
                { "{\"id\":\"c\",\"pid\":4294967297,\"bundle\":\"/b\"}",
                  "OCI state on stdin: pid 4294967297 out of range" },
                { "{\"id\":\"c\",\"pid\":1,\"bundle\":\"/b\",\"annotations\":[]}",
                  "OCI state on stdin: annotations is not an object" },
                { "{\"id\":\"c\",\"pid\":1,\"bundle\":\"/b\",\"annotations\":{\"io.curate.views\":true}}",
                  "OCI state on stdin: annotation io.curate.views is not a string" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct oci_state s = {};
                char *error = NULL;

                assert_int_equal(state(bad[i].json, &s, &error), -EINVAL);
                assert_non_null(error);
                assert_string_equal(error, bad[i].message);
                assert_null(s.id); /* written only on success */
                free(error);
        }
}

static void test_state_embedded_nul(void **unused) {
        static const char j[] = "{\"id\":\"a\\u0000b\",\"pid\":1,\"bundle\":\"/b\"}";
        struct oci_state s = {};
        char *error = NULL;

        assert_int_equal(oci_state_parse(j, sizeof(j) - 1, &s, &error), -EINVAL);
        assert_string_equal(error, "OCI state on stdin: \"id\" is not a non-empty string");
        free(error);
}

static void test_config(void **unused) {
        struct oci_config c = {};
        char *error = NULL;

        assert_int_equal(oci_config_parse("{\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
                                          "\"annotations\":{\"io.curate.views\":\"meminfo\"}}",
                                          0, &c, &error), -EINVAL);
        assert_string_equal(error, "config.json: empty");
        free(error);
        error = NULL;
        const char *j = "{\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
                        "\"annotations\":{\"io.curate.views\":\"meminfo\"}}";
        assert_int_equal(oci_config_parse(j, strlen(j), &c, &error), 0);
        assert_string_equal(c.root_path, "rootfs");
        assert_string_equal(c.views, "meminfo");
        oci_config_done(&c);
        j = "{\"root\":{\"path\":\"/var/lib/containers/x/merged\"}}";
        assert_int_equal(oci_config_parse(j, strlen(j), &c, &error), 0);
        assert_string_equal(c.root_path, "/var/lib/containers/x/merged");
        assert_null(c.views);
        oci_config_done(&c);
}

static void test_config_bad(void **unused) {
        static const struct {
                const char *json, *message;
        } bad[] = {
                { "{}", "config.json: no \"root\" object" },
                { "{\"root\":\"rootfs\"}", "config.json: no \"root\" object" },
                { "{\"root\":{}}", "config.json root: no \"path\"" },
                { "{\"root\":{\"path\":\"\"}}", "config.json root: \"path\" is not a non-empty string" },
                { "{\"root\":{\"path\":\"r\"},\"annotations\":{\"io.curate.views\":1}}",
                  "config.json: annotation io.curate.views is not a string" },
                { "{\"root\":{\"path\":\"r\"}", "config.json: not JSON: truncated" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct oci_config c = {};
                char *error = NULL;

                assert_int_equal(oci_config_parse(bad[i].json, strlen(bad[i].json), &c, &error), -EINVAL);
                assert_string_equal(error, bad[i].message);
                assert_null(c.root_path);
                free(error);
        }
}

static void test_views(void **unused) {
        static const struct {
                const char *value;
                unsigned views;
        } good[] = {
                { "all", V(MEMINFO) | V(CPUINFO) | V(STAT) | V(UPTIME) | V(LOADAVG) | V(SWAPS) | V(DISKSTATS) |
                         V(CPU_TREE) },
                { "none", 0 },
                { "meminfo", V(MEMINFO) },
                { "meminfo,cpu-online", V(MEMINFO) | V(CPU_ONLINE) },
                { " meminfo , stat ", V(MEMINFO) | V(STAT) },
                { "meminfo stat\tuptime", V(MEMINFO) | V(STAT) | V(UPTIME) },
                { "vmstat,all", V(MEMINFO) | V(CPUINFO) | V(STAT) | V(UPTIME) | V(LOADAVG) | V(SWAPS) |
                                V(DISKSTATS) | V(CPU_TREE) | V(VMSTAT) },
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                unsigned v = 12345;
                char *error = NULL;

                assert_int_equal(oci_hook_parse_views(good[i].value, &v, &error), 0);
                assert_int_equal(v, good[i].views);
                assert_null(error);
        }
}

static void test_views_bad(void **unused) {
        static const struct {
                const char *value, *message;
        } bad[] = {
                { "", "annotation io.curate.views=\"\": empty view name (expected all, none or a comma list of "
                      "views)" },
                { "meminfo,", "annotation io.curate.views=\"meminfo,\": empty view name (expected all, none or a "
                              "comma list of views)" },
                { "bogus", "annotation io.curate.views: unknown view \"bogus\" (expected all, none, meminfo, "
                           "cpuinfo, stat, uptime, loadavg, swaps, diskstats, cpu-online, cpu-tree, vmstat)" },
                { "meminfo mem", "annotation io.curate.views: unknown view \"mem\" (expected all, none, "
                                 "meminfo, cpuinfo, stat, uptime, loadavg, swaps, diskstats, cpu-online, "
                                 "cpu-tree, vmstat)" },
                { " , ", "annotation io.curate.views=\" , \": empty view name (expected all, none or a comma "
                         "list of views)" },
                { "pressure", "annotation io.curate.views: view \"pressure\" is not available through the hook" },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                unsigned v = 12345;
                char *error = NULL;

                assert_int_equal(oci_hook_parse_views(bad[i].value, &v, &error), -EINVAL);
                assert_string_equal(error, bad[i].message);
                assert_int_equal(v, 12345);
                free(error);
        }
}

/* the cgroup.procs a container's cgroup line names, beneath the host's
 * cgroup mounts: v1 by controllers (all of them, or name=), v2 by 0:: */
static void test_cgroup_procs(void **unused) {
        const char *mi =
                "25 1 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
                "26 25 0:23 / /sys/fs/cgroup/unified rw shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
                "27 25 0:24 / /sys/fs/cgroup/systemd rw shared:10 - cgroup cgroup rw,xattr,name=systemd\n"
                "30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw shared:13 - cgroup cgroup rw,cpu,cpuacct\n"
                "31 25 0:28 / /sys/fs/cgroup/memory rw shared:14 - cgroup cgroup rw,memory\n"
                "32 25 0:29 /sub /mnt/memsub rw - cgroup cgroup rw,memorysomething\n";
        char p[256];
#define LINE(s) s, strlen(s)
        assert_int_equal(oci_cgroup_procs_path(mi, LINE("4:memory:/libpod_parent/libpod-1"), p, sizeof(p)), 0);
        assert_string_equal(p, "/sys/fs/cgroup/memory/libpod_parent/libpod-1/cgroup.procs");
        assert_int_equal(oci_cgroup_procs_path(mi, LINE("2:cpu,cpuacct:/a"), p, sizeof(p)), 0);
        assert_string_equal(p, "/sys/fs/cgroup/cpu,cpuacct/a/cgroup.procs");
        assert_int_equal(oci_cgroup_procs_path(mi, LINE("1:name=systemd:/a"), p, sizeof(p)), 0);
        assert_string_equal(p, "/sys/fs/cgroup/systemd/a/cgroup.procs");
        assert_int_equal(oci_cgroup_procs_path(mi, LINE("0::/a/b"), p, sizeof(p)), 0);
        assert_string_equal(p, "/sys/fs/cgroup/unified/a/b/cgroup.procs");
        /* a hierarchy not mounted, a controller only a prefix of one */
        assert_int_equal(oci_cgroup_procs_path(mi, LINE("5:pids:/a"), p, sizeof(p)), -ENOENT);
        assert_int_equal(oci_cgroup_procs_path(mi, LINE("6:cpu:/a"), p, sizeof(p)), 0);
        assert_int_equal(oci_cgroup_procs_path(mi, LINE("7:memorysome:/a"), p, sizeof(p)), -ENOENT);
        /* a mount of a sub-tree: the path below its root, else none */
        assert_int_equal(oci_cgroup_procs_path(mi, LINE("8:memorysomething:/sub/x"), p, sizeof(p)), 0);
        assert_string_equal(p, "/mnt/memsub/x/cgroup.procs");
        assert_int_equal(oci_cgroup_procs_path(mi, LINE("8:memorysomething:/subx"), p, sizeof(p)), -ENOENT);
        assert_int_equal(oci_cgroup_procs_path(mi, LINE("garbage"), p, sizeof(p)), -ENOENT);
        assert_int_equal(oci_cgroup_procs_path(mi, LINE("4:memory:/a"), p, 10), -ENAMETOOLONG);
#undef LINE
}

static void test_cgroup_id(void **unused) {
        static const struct {
                const char *text, *id; /* NULL: -ENOENT */
        } cases[] = {
                { "12:memory:/curate/c1\n11:cpu,cpuacct:/curate/c1\n0::/\n", "c1" },
                { "0::/curate/run-42/container\n", "run-42" },
                { "5:pids:/user.slice\n4:memory:/curate/libpod-0a1b\n", "libpod-0a1b" },
                { "0::/\n", NULL },
                { "0::/curate/\n", NULL },
                { "0::/curate/..\n", NULL },
                { "0::/curate/a b\n", NULL },
                { "0::/curatex/a\n", NULL },
                { "0::/x/curate/a\n", NULL },
                { "no colons /curate/a\n", NULL },
                { "", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char id[REG_ID_MAX + 1] = "unchanged";
                int r = oci_cgroup_curate_id(cases[i].text, id, sizeof(id));

                if (cases[i].id) {
                        assert_int_equal(r, 0);
                        assert_string_equal(id, cases[i].id);
                } else {
                        assert_int_equal(r, -ENOENT);
                        assert_string_equal(id, "unchanged");
                }
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_state_runc),   cmocka_unit_test(test_state_no_annotations),
                cmocka_unit_test(test_state_bad),    cmocka_unit_test(test_state_embedded_nul),
                cmocka_unit_test(test_config),       cmocka_unit_test(test_config_bad),
                cmocka_unit_test(test_views),        cmocka_unit_test(test_views_bad),
                cmocka_unit_test(test_cgroup_id),      cmocka_unit_test(test_cgroup_procs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
