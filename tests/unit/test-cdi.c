#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "cdi.h"
#include "fileio.h"

#define CDI FIXTURES "/cdi"

static int root(void) {
        int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static void parse_fixture(const char *rel, struct cdi_spec *s) {
        _cleanup_close_ int fd = root();
        _cleanup_free_ char *path = NULL, *text = NULL, *err = NULL;
        size_t len;

        assert_true(asprintf(&path, "%s/%s", CDI, rel) > 0);
        assert_int_equal(read_file_at(fd, path, &text, &len), 0);
        assert_int_equal(cdi_spec_parse(path, text, len, s, &err), 0);
        assert_null(err);
}

static void load(const char *case_dir, struct cdi_registry *r) {
        _cleanup_close_ int fd = root();
        _cleanup_free_ char *a = NULL, *b = NULL, *err = NULL;

        assert_true(asprintf(&a, "%s/%s/etc/cdi", CDI, case_dir) > 0);
        assert_true(asprintf(&b, "%s/%s/var/run/cdi", CDI, case_dir) > 0);
        const char *const dirs[] = { a, b, NULL };
        assert_int_equal(cdi_registry_load(fd, dirs, r, &err), 0);
        assert_null(err);
}

static void test_json_every_field(void **state) {
        struct cdi_spec s;

        parse_fixture("basic/etc/cdi/nvidia.json", &s);
        assert_string_equal(s.version, "0.5.0");
        assert_string_equal(s.kind, "nvidia.com/gpu");
        assert_int_equal(s.n_devices, 3);
        assert_string_equal(s.devices[0].name, "0");
        assert_string_equal(s.devices[2].name, "all");
        const struct cdi_spec_edits *e = &s.devices[0].edits;
        assert_int_equal(e->n_env, 1);
        assert_string_equal(e->env[0], "NVIDIA_VISIBLE_DEVICES=0");
        assert_int_equal(e->n_nodes, 1);
        const struct cdi_spec_node *n = &e->nodes[0];
        assert_string_equal(n->path, "/dev/nvidia0");
        assert_string_equal(n->host_path, "/dev/null");
        assert_int_equal(n->type, 'c');
        assert_true(n->has_major && n->has_minor);
        assert_int_equal(n->major, 1);
        assert_int_equal(n->minor, 3);
        assert_string_equal(n->permissions, "rw"); /* "wr" normalised */
        assert_int_equal(n->file_mode, 0666);
        assert_int_equal(n->uid, 0);
        assert_int_equal(n->gid, 44);
        assert_int_equal(e->n_mounts, 1);
        assert_string_equal(e->mounts[0].host_path, "/run/gpu0");
        assert_string_equal(e->mounts[0].container_path, "/run/gpu");
        assert_string_equal(e->mounts[0].type, "bind");
        assert_int_equal(e->mounts[0].n_options, 2);
        assert_string_equal(e->mounts[0].options[1], "nosuid");
        n = &s.devices[1].edits.nodes[0];
        assert_string_equal(n->host_path, "/dev/zero");
        assert_int_equal(n->type, 0);
        assert_false(n->has_major || n->has_minor);
        assert_int_equal(n->uid, (uid_t)-1);
        assert_int_equal(n->gid, (gid_t)-1);
        assert_string_equal(n->permissions, "");
        e = &s.edits;
        assert_string_equal(e->env[0], "NVIDIA_DRIVER_CAPABILITIES=compute,utility");
        assert_int_equal(e->n_nodes, 1);
        assert_null(e->mounts[0].type);
        assert_int_equal(e->mounts[0].n_options, 4);
        assert_int_equal(e->n_hooks, 1);
        assert_string_equal(e->hooks[0].hook_name, "createContainer");
        assert_string_equal(e->hooks[0].path, "/usr/bin/nvidia-ctk");
        assert_int_equal(e->hooks[0].n_args, 3);
        assert_string_equal(e->hooks[0].args[2], "update-ldcache");
        assert_int_equal(e->hooks[0].n_env, 1);
        assert_int_equal(e->hooks[0].timeout, 5);
        assert_int_equal(e->n_additional_gids, 3);
        assert_int_equal(e->additional_gids[1], 44);
        assert_int_equal(e->additional_gids[2], 0);
        cdi_spec_done(&s);
}

static void test_yaml_every_field(void **state) {
        struct cdi_spec s;

        parse_fixture("basic/var/run/cdi/example.yaml", &s);
        assert_string_equal(s.version, "1.1.0");
        assert_string_equal(s.kind, "example.com/net-dev");
        assert_int_equal(s.n_devices, 2);
        assert_string_equal(s.devices[0].name, "7");
        const struct cdi_spec_node *n = &s.devices[0].edits.nodes[0];
        assert_string_equal(n->path, "/dev/net/tun");
        assert_int_equal(n->type, 'c'); /* "u" */
        assert_int_equal(n->major, 1);
        assert_int_equal(n->minor, 5);
        assert_int_equal(n->file_mode, 0660); /* YAML 1.1 octal */
        assert_string_equal(n->permissions, "rwm");
        assert_int_equal(n->uid, 1000);
        assert_int_equal(n->gid, 16); /* 0x10 */
        assert_string_equal(s.devices[0].edits.env[0], "TUN=7");
        assert_string_equal(s.devices[1].name, "vf:0.1");
        assert_int_equal(s.devices[1].edits.n_mounts, 1);
        assert_string_equal(s.devices[1].edits.mounts[0].options[1], "rbind");
        assert_string_equal(s.edits.env[0], "NET=1");
        assert_int_equal(s.edits.n_additional_gids, 1);
        assert_int_equal(s.edits.additional_gids[0], 27);
        assert_string_equal(s.edits.hooks[0].hook_name, "poststop");
        assert_int_equal(s.edits.hooks[0].timeout, -1);
        assert_int_equal(s.edits.hooks[0].n_args, 0);
        cdi_spec_done(&s);
}

static int parse_text(const char *path, const char *text, char **err) {
        struct cdi_spec s;
        int r = cdi_spec_parse(path, text, strlen(text), &s, err);
        if (r == 0)
                cdi_spec_done(&s);
        return r;
}

static void test_versions(void **state) {
        static const char *const good[] = { "0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0",
                                            "0.6.0", "0.7.0", "0.8.0", "1.0.0", "1.1.0" };
        static const char *const bad[] = { "1.2.0", "2.0.0", "0.9.0", "1.0", "v1.0.0", "" };
        char text[256];

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ char *err = NULL;
                snprintf(text, sizeof(text), "{\"cdiVersion\":\"%s\",\"kind\":\"a.com/b\",\"devices\":[{\"name\":\"d\",\"containerEdits\":{\"env\":[\"A=1\"]}}]}", good[i]);
                assert_int_equal(parse_text("v.json", text, &err), 0);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *err = NULL, *want = NULL;
                snprintf(text, sizeof(text), "{\"cdiVersion\":\"%s\",\"kind\":\"a.com/b\",\"devices\":[]}", bad[i]);
                assert_int_equal(parse_text("v.json", text, &err), -EINVAL);
                assert_true(asprintf(&want, "v.json: cdiVersion: %s", bad[i][0] ? "unsupported version" : "must not be empty") > 0);
                if (!strstr(err, want))
                        fail_msg("%s: got \"%s\"", bad[i], err);
        }
}

static void test_names(void **state) {
        static const char *const kinds_ok[] = { "nvidia.com/gpu", "a/b", "x-y_z.io/c-1_2.x", "V9/Q" };
        static const char *const kinds_bad[] = { "nvidia.com", "/gpu", "nvidia.com/", "1a.com/gpu",
                                                 "a.com-/gpu", "a.com/g:pu", "a.com/_g", "a com/g",
                                                 "a.com/gpu/x" };
        static const char *const names_ok[] = { "0", "all", "GPU-1:2.3_x-y", "a" };
        static const char *const names_bad[] = { "", "-0", "0-", ":a", "a b", "a/b", "a=b" };
        _cleanup_free_ char *err = NULL, *buf = NULL;
        const char *v, *c, *n;

        for (size_t i = 0; i < ELEMENTSOF(kinds_ok); i++)
                assert_int_equal(cdi_validate_kind(kinds_ok[i], NULL), 0);
        for (size_t i = 0; i < ELEMENTSOF(kinds_bad); i++)
                if (cdi_validate_kind(kinds_bad[i], NULL) != -EINVAL)
                        fail_msg("kind %s accepted", kinds_bad[i]);
        for (size_t i = 0; i < ELEMENTSOF(names_ok); i++)
                assert_int_equal(cdi_validate_device_name(names_ok[i], NULL), 0);
        for (size_t i = 0; i < ELEMENTSOF(names_bad); i++)
                if (cdi_validate_device_name(names_bad[i], NULL) != -EINVAL)
                        fail_msg("name %s accepted", names_bad[i]);
        assert_int_equal(cdi_validate_kind("1a.com/gpu", &err), -EINVAL);
        assert_string_equal(err, "invalid vendor \"1a.com\": must start with a letter");
        assert_int_equal(cdi_validate_kind("a.com/g:pu", &err), -EINVAL);
        assert_string_equal(err, "invalid class \"g:pu\": invalid character ':'");
        assert_int_equal(cdi_validate_device_name("0-", &err), -EINVAL);
        assert_string_equal(err, "invalid device name \"0-\": must end with a letter or digit");
        assert_int_equal(cdi_validate_device_name("", &err), -EINVAL);
        assert_string_equal(err, "empty device name");
        assert_int_equal(cdi_parse_qualified_name("nvidia.com/gpu=GPU-1", &buf, &v, &c, &n), 0);
        assert_string_equal(v, "nvidia.com");
        assert_string_equal(c, "gpu");
        assert_string_equal(n, "GPU-1");
        assert_int_equal(cdi_parse_qualified_name("nvidia.com/gpu", &buf, &v, &c, &n), -EINVAL);
        assert_int_equal(cdi_parse_qualified_name("nvidia.com=0", &buf, &v, &c, &n), -EINVAL);
        assert_int_equal(cdi_parse_qualified_name("nvidia.com/gpu=", &buf, &v, &c, &n), -EINVAL);
}

#define SPEC_JSON(edits) "{\"cdiVersion\":\"0.5.0\",\"kind\":\"a.com/b\",\"devices\":[{\"name\":\"d\",\"containerEdits\":" edits "}]}"

static const struct {
        const char *path, *text, *want;
} error_cases[] = {
        { "x.txt", "{}", "x.txt: not a .json, .yaml or .yml file" },
        { "x.json", "{\"cdiVersion\": ", "x.json: offset 15: unexpected end of data" },
        { "x.json", "{\"cdiVersion\" 1}", "x.json: offset 14: " },
        { "x.json", "{} x", "x.json: offset 3: trailing data" },
        { "x.json", "[]", "x.json: : the document must be a mapping" },
        { "x.json", "{\"kind\":\"a.com/b\",\"devices\":[]}", "x.json: cdiVersion: missing" },
        { "x.json", "{\"cdiVersion\":5,\"kind\":\"a.com/b\",\"devices\":[]}", "x.json: cdiVersion: unsupported version \"5\"" },
        { "x.json", "{\"cdiVersion\":[],\"kind\":\"a.com/b\",\"devices\":[]}", "x.json: cdiVersion: must be a string" },
        { "x.json", "{\"cdiVersion\":\"0.5.0\",\"devices\":[]}", "x.json: kind: missing" },
        { "x.json", "{\"cdiVersion\":\"0.5.0\",\"kind\":\"ab\",\"devices\":[]}", "x.json: kind: invalid kind \"ab\": want vendor/class" },
        { "x.json", "{\"cdiVersion\":\"0.5.0\",\"kind\":\"a.com/b\"}", "x.json: devices: missing" },
        { "x.json", "{\"cdiVersion\":\"0.5.0\",\"kind\":\"a.com/b\",\"devices\":{}}", "x.json: devices: must be a list" },
        { "x.json", "{\"cdiVersion\":\"0.5.0\",\"kind\":\"a.com/b\",\"devices\":[1]}", "x.json: devices[0]: must be a mapping" },
        { "x.json", "{\"cdiVersion\":\"0.5.0\",\"kind\":\"a.com/b\",\"devices\":[{\"containerEdits\":{}}]}", "x.json: devices[0].name: missing" },
        { "x.json", "{\"cdiVersion\":\"0.5.0\",\"kind\":\"a.com/b\",\"devices\":[{\"name\":\"-x\",\"containerEdits\":{}}]}", "x.json: devices[0].name: invalid device name \"-x\": must start with a letter or digit" },
        { "x.json", "{\"cdiVersion\":\"0.5.0\",\"kind\":\"a.com/b\",\"devices\":[{\"name\":\"x\"}]}", "x.json: devices[0].containerEdits: missing" },
        { "x.json", "{\"cdiVersion\":\"0.5.0\",\"kind\":\"a.com/b\",\"devices\":[{\"name\":\"x\",\"containerEdits\":{\"env\":[\"A=1\"]}},{\"name\":\"x\",\"containerEdits\":{\"env\":[\"A=1\"]}}]}", "x.json: devices[1].name: device \"x\" defined twice" },
        { "x.json", "{\"cdiVersion\":\"0.5.0\",\"kind\":\"a.com/b\",\"devices\":[],\"containerEdits\":[]}", "x.json: containerEdits: must be a mapping" },
        { "x.json", SPEC_JSON("{\"env\":\"A=1\"}"), "x.json: devices[0].containerEdits.env: must be a list" },
        { "x.json", SPEC_JSON("{\"env\":[true]}"), "x.json: devices[0].containerEdits.env: item 0 must be a string" },
        { "x.json", SPEC_JSON("{\"env\":[\"A=1\",\"NOEQUALS\"]}"), "x.json: devices[0].containerEdits.env: invalid environment variable \"NOEQUALS\" (want KEY=VALUE)" },
        { "x.json", SPEC_JSON("{\"env\":[\"=1\"]}"), "invalid environment variable \"=1\"" },
        { "x.json", SPEC_JSON("{\"deviceNodes\":[{\"hostPath\":\"/dev/null\"}]}"), "x.json: devices[0].containerEdits.deviceNodes[0].path: missing" },
        { "x.json", SPEC_JSON("{\"deviceNodes\":[{\"path\":\"\"}]}"), "x.json: devices[0].containerEdits.deviceNodes[0].path: must not be empty" },
        { "x.json", SPEC_JSON("{\"deviceNodes\":[\"/dev/null\"]}"), "x.json: devices[0].containerEdits.deviceNodes[0]: must be a mapping" },
        { "x.json", SPEC_JSON("{\"deviceNodes\":[{\"path\":\"/d\",\"type\":\"x\"}]}"), "x.json: devices[0].containerEdits.deviceNodes[0].type: invalid device type \"x\" (want b, c or u)" },
        { "x.json", SPEC_JSON("{\"deviceNodes\":[{\"path\":\"/d\",\"type\":\"p\"}]}"), "deviceNodes[0].type: fifo nodes are not supported" },
        { "x.json", SPEC_JSON("{\"deviceNodes\":[{\"path\":\"/d\",\"permissions\":\"rx\"}]}"), "deviceNodes[0].permissions: invalid permissions \"rx\" (want a subset of rwm)" },
        { "x.json", SPEC_JSON("{\"deviceNodes\":[{\"path\":\"/d\",\"major\":-1}]}"), "deviceNodes[0].major: must be a non-negative integer" },
        { "x.json", SPEC_JSON("{\"deviceNodes\":[{\"path\":\"/d\",\"minor\":\"3\"}]}"), "deviceNodes[0].minor: must be a non-negative integer" },
        { "x.json", SPEC_JSON("{\"deviceNodes\":[{\"path\":\"/d\",\"minor\":1.5}]}"), "deviceNodes[0].minor: must be a non-negative integer" },
        { "x.json", SPEC_JSON("{\"deviceNodes\":[{\"path\":\"/d\",\"major\":4294967296}]}"), "deviceNodes[0].major: out of range" },
        { "x.json", SPEC_JSON("{\"deviceNodes\":[{\"path\":\"/d\",\"fileMode\":4096}]}"), "deviceNodes[0].fileMode: out of range" },
        { "x.json", SPEC_JSON("{\"deviceNodes\":[{\"path\":\"/d\",\"uid\":4294967295}]}"), "deviceNodes[0].uid: out of range" },
        { "x.json", SPEC_JSON("{\"deviceNodes\":[{\"path\":\"/d\",\"gid\":true}]}"), "deviceNodes[0].gid: must be a non-negative integer" },
        { "x.json", SPEC_JSON("{\"mounts\":[{\"containerPath\":\"/c\"}]}"), "devices[0].containerEdits.mounts[0].hostPath: missing" },
        { "x.json", SPEC_JSON("{\"mounts\":[{\"hostPath\":\"/h\"}]}"), "devices[0].containerEdits.mounts[0].containerPath: missing" },
        { "x.json", SPEC_JSON("{\"mounts\":[{\"hostPath\":\"/h\",\"containerPath\":\"/c\",\"options\":\"ro\"}]}"), "mounts[0].options: must be a list" },
        { "x.json", SPEC_JSON("{\"mounts\":[{\"hostPath\":\"/h\",\"containerPath\":\"c\"}]}"), "mounts[0]: containerPath \"c\" is not absolute" },
        /* issue 10: found when the spec loads, named with the spec file, not at mount time */
        { "x.json", SPEC_JSON("{\"deviceNodes\":[{\"path\":\"dev/x\"}]}"), "x.json: devices[0].containerEdits.deviceNodes[0]: path \"dev/x\" is not absolute" },
        { "x.json", SPEC_JSON("{\"deviceNodes\":[{\"path\":\"/dev/x\",\"hostPath\":\"dev/null\"}]}"), "x.json: devices[0].containerEdits.deviceNodes[0]: hostPath \"dev/null\" is not absolute" },
        { "x.json", SPEC_JSON("{\"mounts\":[{\"hostPath\":\"/h\",\"containerPath\":\"/c\",\"options\":[\"ro\",\"size=1m\"]}]}"), "x.json: devices[0].containerEdits.mounts[0]: option \"size=1m\" is not supported for a bind mount (known: bind, rbind, ro, rw, nosuid, nodev, noexec, propagation and atime options)" },
        { "x.json", SPEC_JSON("{\"mounts\":[{\"hostPath\":\"h\",\"containerPath\":\"/c\",\"type\":\"bind\"}]}"), "x.json: devices[0].containerEdits.mounts[0]: hostPath \"h\" of a bind mount is not absolute" },
        { "x.json", SPEC_JSON("{\"hooks\":[{\"path\":\"/bin/true\"}]}"), "devices[0].containerEdits.hooks[0].hookName: missing" },
        { "x.json", SPEC_JSON("{\"hooks\":[{\"hookName\":\"onCrash\",\"path\":\"/bin/true\"}]}"), "hooks[0].hookName: invalid hook name \"onCrash\"" },
        { "x.json", SPEC_JSON("{\"hooks\":[{\"hookName\":\"prestart\"}]}"), "hooks[0].path: missing" },
        { "x.json", SPEC_JSON("{\"hooks\":[{\"hookName\":\"prestart\",\"path\":\"/p\",\"env\":[\"X\"]}]}"), "hooks[0].env: invalid environment variable \"X\"" },
        { "x.json", "{\"cdiVersion\":\"0.5.0\",\"kind\":\"a.com/b\",\"devices\":[]}", "x.json: devices: no devices" },
        { "x.json", SPEC_JSON("{}"), "x.json: devices[0].containerEdits: empty container edits" },
        { "x.yaml", "cdiVersion: \"0.5.0\"\nkind: a.com/b\ndevices:\n  - name: d\n    containerEdits:\n      env: []\n", "x.yaml:6: devices[0].containerEdits: empty container edits" },
        { "x.json", SPEC_JSON("{\"additionalGIDs\":[\"video\"]}"), "additionalGIDs[0]: must be a group id" },
        { "x.yaml", "", "x.yaml: empty document" },
        { "x.yaml", "cdiVersion: 0.5.0\nkind: [\n", "x.yaml:3: " },
        { "x.yml", "cdiVersion: \"9.9.9\"\nkind: a.com/b\ndevices: []\n", "x.yml:1: cdiVersion: unsupported version \"9.9.9\"" },
        { "x.yaml", "cdiVersion: \"0.5.0\"\nkind: a.com/b\ndevices:\n  - name: d\n    containerEdits:\n      deviceNodes:\n        - type: c\n", "x.yaml:7: devices[0].containerEdits.deviceNodes[0].path: missing" },
        { "x.yaml", "cdiVersion: \"0.5.0\"\nkind: a.com/b\ndevices:\n  - name: d\n    containerEdits:\n      deviceNodes:\n        - path: /d\n          major: \"1\"\n", "x.yaml:8: devices[0].containerEdits.deviceNodes[0].major: must be a non-negative integer" },
        { "x.yaml", "cdiVersion: \"0.5.0\"\nkind: a.com/b\ndevices:\n  - name: d\n    containerEdits:\n      env: [A]\n", "x.yaml:6: devices[0].containerEdits.env: invalid environment variable \"A\"" },
        { "x.yaml", "a: &x [*x]\n", "x.yaml: document too deep or too large" },
        { "x.yaml", "? [a]\n: b\n", "x.yaml: unsupported YAML construct" },
};

static void test_errors(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(error_cases); i++) {
                _cleanup_free_ char *err = NULL;
                int r = parse_text(error_cases[i].path, error_cases[i].text, &err);
                if (r != -EINVAL || !err || !strstr(err, error_cases[i].want))
                        fail_msg("case %zu (%s): r=%d err=\"%s\", want \"%s\"", i, error_cases[i].text,
                                 r, err ? err : "(null)", error_cases[i].want);
        }
}

static void test_registry_basic(void **state) {
        struct cdi_registry r;
        static const char *const want[] = { "example.com/net-dev=7", "example.com/net-dev=vf:0.1",
                                            "nvidia.com/gpu=0", "nvidia.com/gpu=1", "nvidia.com/gpu=all" };

        load("basic", &r);
        assert_int_equal(r.n_specs, 2);
        assert_int_equal(r.n_errors, 0);
        assert_int_equal(r.n_devices, ELEMENTSOF(want));
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                assert_string_equal(r.devices[i].qualified, want[i]);
        assert_string_equal(r.specs[0].path, CDI "/basic/etc/cdi/nvidia.json");
        assert_int_equal(r.specs[0].priority, 0);
        assert_int_equal(r.specs[1].priority, 1);
        cdi_registry_done(&r);
}

static void test_resolve_gpu0(void **state) {
        struct cdi_registry r;
        struct cdi_edits e;
        _cleanup_free_ char *err = NULL;

        load("basic", &r);
        assert_int_equal(cdi_resolve(&r, "nvidia.com/gpu=0", &e, &err), 0);
        assert_int_equal(e.nodes.n, 2);
        struct device_node *n = &e.nodes.nodes[1]; /* the spec's edits first */
        assert_string_equal(n->path, "/dev/nvidia0");
        assert_string_equal(n->host_path, "/dev/null");
        assert_int_equal(n->type, 'c');
        assert_int_equal(n->major, 1);
        assert_int_equal(n->minor, 3);
        assert_string_equal(n->access, "rw");
        assert_int_equal(n->file_mode, 0666);
        assert_int_equal(n->uid, 0);
        assert_int_equal(n->gid, 44);
        n = &e.nodes.nodes[0];
        assert_string_equal(n->path, "/dev/nvidiactl");
        assert_string_equal(n->host_path, "/dev/full");
        assert_int_equal(n->major, 1);
        assert_int_equal(n->minor, 7);
        assert_int_equal(e.n_env, 2);
        assert_string_equal(e.env[0], "NVIDIA_DRIVER_CAPABILITIES=compute,utility");
        assert_string_equal(e.env[1], "NVIDIA_VISIBLE_DEVICES=0");
        assert_null(e.env[2]);
        assert_int_equal(e.n_mounts, 2);
        assert_string_equal(e.mounts[0].container_path, "/usr/lib/libcuda.so.1");
        assert_string_equal(e.mounts[0].options[3], "bind");
        assert_string_equal(e.mounts[1].container_path, "/run/gpu");
        /* each mount names its spec, for the launcher's messages (issue 10) */
        assert_string_equal(e.mounts[0].spec_path, CDI "/basic/etc/cdi/nvidia.json");
        assert_string_equal(e.mounts[1].spec_path, CDI "/basic/etc/cdi/nvidia.json");
        assert_int_equal(e.n_hooks, 1);
        assert_string_equal(e.hooks[0].args[1], "hook");
        assert_string_equal(e.hooks[0].env[0], "DEBUG=1");
        assert_int_equal(e.hooks[0].timeout, 5);
        assert_int_equal(e.n_additional_gids, 1); /* 44 given twice, 0 skipped */
        assert_int_equal(e.additional_gids[0], 44);
        cdi_edits_done(&e);
        cdi_registry_done(&r);
}

/* Two devices' edits merged as the launcher merges --device specs: the
 * shared control node once, env appended, the shared mount once (the later
 * replaces), hooks appended, GID 44 once; one path with other numbers is an
 * error naming it. */
static void test_merge(void **state) {
        struct cdi_registry r;
        struct cdi_edits e0, e1, dst = { 0 }, bad = { 0 };
        struct device_node other = { .path = "/dev/nvidia0", .host_path = "/dev/nvidia0", .type = 'c',
                                     .major = 195, .minor = 9, .access = "rwm", .uid = (uid_t)-1, .gid = (gid_t)-1 };
        _cleanup_free_ char *err = NULL;

        load("basic", &r);
        assert_int_equal(cdi_resolve(&r, "nvidia.com/gpu=0", &e0, &err), 0);
        assert_int_equal(cdi_resolve(&r, "nvidia.com/gpu=1", &e1, &err), 0);
        assert_int_equal(cdi_edits_merge(&dst, &e0, &err), 0);
        assert_int_equal(cdi_edits_merge(&dst, &e1, &err), 0);
        assert_int_equal(dst.nodes.n, 3);
        assert_string_equal(dst.nodes.nodes[0].path, "/dev/nvidiactl");
        assert_string_equal(dst.nodes.nodes[2].path, "/dev/nvidia1");
        assert_int_equal(dst.n_env, e0.n_env + e1.n_env);
        assert_string_equal(dst.env[dst.n_env - 1], "NVIDIA_VISIBLE_DEVICES=1");
        assert_int_equal(dst.n_mounts, 2);
        assert_int_equal(dst.n_hooks, e0.n_hooks + e1.n_hooks);
        assert_int_equal(dst.n_additional_gids, 1);
        assert_int_equal(device_list_add(&bad.nodes, &other), 0);
        assert_int_equal(cdi_edits_merge(&dst, &bad, &err), -EEXIST);
        assert_non_null(strstr(err, "/dev/nvidia0: conflicts with another device of the same path"));
        cdi_edits_done(&bad);
        cdi_edits_done(&dst);
        cdi_edits_done(&e0);
        cdi_edits_done(&e1);
        cdi_registry_done(&r);
}

static void test_resolve_fill(void **state) {
        struct cdi_registry r;
        struct cdi_edits e;
        _cleanup_free_ char *err = NULL;

        load("basic", &r);
        assert_int_equal(cdi_resolve(&r, "nvidia.com/gpu=1", &e, &err), 0);
        assert_int_equal(e.nodes.n, 2);
        struct device_node *n = &e.nodes.nodes[1];
        assert_string_equal(n->path, "/dev/nvidia1");
        assert_int_equal(n->type, 'c');
        assert_int_equal(n->major, 1);
        assert_int_equal(n->minor, 5);
        assert_string_equal(n->access, "rwm");
        assert_int_equal(n->file_mode, 0);
        assert_int_equal(n->uid, (uid_t)-1);
        assert_int_equal(n->gid, (gid_t)-1);
        cdi_edits_done(&e);
        assert_int_equal(cdi_resolve(&r, "nvidia.com/gpu=all", &e, &err), 0);
        assert_int_equal(e.nodes.n, 3);
        assert_string_equal(e.nodes.nodes[0].path, "/dev/nvidiactl");
        assert_string_equal(e.nodes.nodes[1].path, "/dev/nvidia0");
        assert_string_equal(e.nodes.nodes[2].path, "/dev/nvidia1");
        assert_int_equal(e.n_env, 1);
        cdi_edits_done(&e);
        assert_int_equal(cdi_resolve(&r, "example.com/net-dev=7", &e, &err), 0);
        assert_string_equal(e.nodes.nodes[0].path, "/dev/net/tun");
        assert_int_equal(e.nodes.nodes[0].minor, 5);
        assert_int_equal(e.nodes.nodes[0].file_mode, 0660);
        assert_string_equal(e.env[0], "NET=1");
        assert_string_equal(e.env[1], "TUN=7");
        assert_int_equal(e.additional_gids[0], 27);
        assert_string_equal(e.hooks[0].hook_name, "poststop");
        cdi_edits_done(&e);
        assert_null(err);
        cdi_registry_done(&r);
}

static void test_resolve_unknown(void **state) {
        struct cdi_registry r;
        struct cdi_edits e = { .n_env = 99 };
        _cleanup_free_ char *err = NULL;

        load("basic", &r);
        assert_int_equal(cdi_resolve(&r, "nvidia.com/gpu=7", &e, &err), -ENOENT);
        assert_string_equal(err, "unknown CDI device \"nvidia.com/gpu=7\"; known devices of this kind: 0, 1, all");
        assert_int_equal(e.n_env, 99); /* untouched on failure */
        assert_int_equal(cdi_resolve(&r, "amd.com/gpu=0", &e, &err), -ENOENT);
        assert_string_equal(err, "unknown CDI device \"amd.com/gpu=0\"; no spec of that kind; known kinds: nvidia.com/gpu, example.com/net-dev");
        assert_int_equal(cdi_resolve(&r, "nvidia.com/gpu", &e, &err), -EINVAL);
        assert_string_equal(err, "invalid CDI device name \"nvidia.com/gpu\" (want vendor/class=name)");
        cdi_registry_done(&r);
}

static void expect_env(const struct cdi_registry *r, const char *dev, const char *env) {
        struct cdi_edits e;
        _cleanup_free_ char *err = NULL;

        assert_int_equal(cdi_resolve(r, dev, &e, &err), 0);
        assert_int_equal(e.n_env, 1);
        assert_string_equal(e.env[0], env);
        cdi_edits_done(&e);
}

static void test_override(void **state) {
        _cleanup_close_ int fd = open(CDI "/override", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        static const char *const reversed[] = { "var/run/cdi", "/etc/cdi", NULL };
        struct cdi_registry r;

        assert_true(fd >= 0);
        /* the default dirs beneath a root: var/run/cdi wins */
        assert_int_equal(cdi_registry_load(fd, NULL, &r, NULL), 0);
        assert_int_equal(r.n_errors, 0);
        assert_int_equal(r.n_devices, 2);
        expect_env(&r, "acme.io/fpga=x", "WHO=run");
        expect_env(&r, "acme.io/fpga=y", "WHO=etc-y");
        assert_string_equal(r.specs[r.devices[0].spec].path, "/var/run/cdi/fpga.yml");
        cdi_registry_done(&r);
        /* the order of DIRS decides, not the names */
        assert_int_equal(cdi_registry_load(fd, reversed, &r, NULL), 0);
        expect_env(&r, "acme.io/fpga=x", "WHO=etc");
        cdi_registry_done(&r);
}

static void test_conflict(void **state) {
        struct cdi_registry r;
        struct cdi_edits e;
        _cleanup_free_ char *err = NULL;

        load("conflict", &r);
        /* dup is in one.json and two.yaml of one dir: dropped, as the reference
         * does, even though var/run/cdi/three.json defines it too */
        assert_int_equal(r.n_devices, 2);
        assert_string_equal(r.devices[0].qualified, "acme.io/fpga=other");
        assert_string_equal(r.devices[1].qualified, "acme.io/fpga=solo");
        assert_int_equal(r.n_errors, 2);
        assert_string_equal(r.errors[0].path, CDI "/conflict/etc/cdi/two.yaml");
        assert_string_equal(r.errors[1].path, CDI "/conflict/etc/cdi/one.json");
        assert_string_equal(r.errors[0].message,
                            "conflicting device \"acme.io/fpga=dup\" (specs " CDI "/conflict/etc/cdi/two.yaml, " CDI "/conflict/etc/cdi/one.json)");
        assert_int_equal(cdi_resolve(&r, "acme.io/fpga=dup", &e, &err), -ENOENT);
        /* not "no spec of that kind; known kinds: acme.io/fpga" (issue 10) */
        assert_string_equal(err, "CDI device \"acme.io/fpga=dup\" is not used: conflicting device \"acme.io/fpga=dup\" "
                                 "(specs " CDI "/conflict/etc/cdi/two.yaml, " CDI "/conflict/etc/cdi/one.json): two specs "
                                 "in one directory define it (remove or rename one of them)");
        expect_env(&r, "acme.io/fpga=solo", "FROM=one");
        expect_env(&r, "acme.io/fpga=other", "FROM=two");
        cdi_registry_done(&r);
}

static void test_invalid_files(void **state) {
        static const struct {
                const char *file, *want;
        } want[] = {
                { "bad-kind.json", "bad-kind.json: kind: invalid kind \"nvidia.com\": want vendor/class" },
                { "bad-name.yaml", "bad-name.yaml:4: devices[0].name: invalid device name \"-x\": must start with a letter or digit" },
                { "bad-version.json", "bad-version.json: cdiVersion: unsupported version \"1.2.0\" (curate knows 0.1.0 to 1.1.0)" },
                { "malformed.json", "malformed.json: offset 56: unexpected end of data" },
                { "malformed.yaml", "malformed.yaml:5: " },
                { "no-path.json", "no-path.json: devices[0].containerEdits.deviceNodes[0].path: missing" },
        };
        struct cdi_registry r;

        load("invalid", &r);
        assert_int_equal(r.n_specs, 1); /* good.json, loaded despite the others */
        assert_string_equal(r.devices[0].qualified, "good.com/dev=ok");
        assert_int_equal(r.n_errors, ELEMENTSOF(want));
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                _cleanup_free_ char *path = NULL;
                assert_true(asprintf(&path, "%s/invalid/etc/cdi/%s", CDI, want[i].file) > 0);
                assert_string_equal(r.errors[i].path, path);
                if (!strstr(r.errors[i].message, want[i].want) ||
                    strncmp(r.errors[i].message, path, strlen(path)) != 0)
                        fail_msg("%s: got \"%s\"", want[i].file, r.errors[i].message);
        }
        /* a device asked for names the specs skipped, with their errors */
        _cleanup_free_ char *err = NULL;
        struct cdi_edits e;
        assert_int_equal(cdi_resolve(&r, "nvidia.com/gpu=0", &e, &err), -ENOENT);
        assert_non_null(strstr(err, "unknown CDI device \"nvidia.com/gpu=0\"; no spec of that kind; known kinds: "
                                    "good.com/dev; skipped for errors: " CDI "/invalid/etc/cdi/bad-kind.json: kind: "
                                    "invalid kind \"nvidia.com\": want vendor/class; " CDI "/invalid/etc/cdi/bad-name.yaml:4: "));
        assert_non_null(strstr(err, CDI "/invalid/etc/cdi/no-path.json: devices[0].containerEdits.deviceNodes[0].path: missing"));
        cdi_registry_done(&r);
}

static void test_nodes(void **state) {
        static const struct {
                const char *dev;
                int r;
                const char *want;
        } cases[] = {
                { "test.com/node=wrongtype", -EINVAL, "nodes.json: device node /dev/x: spec says block device, host node /dev/null is a char device" },
                { "test.com/node=wrongnum", -EINVAL, "nodes.json: device node /dev/x: spec says 195:0, host node /dev/null is 1:3" },
                { "test.com/node=missing", -ENOENT, "nodes.json: device node /dev/curate-no-such-node: host node /dev/curate-no-such-node: No such file or directory" },
                { "test.com/node=notdev", -ENODEV, "nodes.json: device node /dev/x: host node /etc is not a device node" },
                { "test.com/node=twice", -EEXIST, "nodes.json: device node /dev/x: given twice with different numbers" },
        };
        struct cdi_registry r;
        struct cdi_edits e;

        load("nodes", &r);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *err = NULL;
                int k = cdi_resolve(&r, cases[i].dev, &e, &err);
                if (k != cases[i].r || !err || !strstr(err, cases[i].want))
                        fail_msg("%s: r=%d err=\"%s\"", cases[i].dev, k, err ? err : "(null)");
        }
        assert_int_equal(cdi_resolve(&r, "test.com/node=merge", &e, NULL), 0);
        assert_int_equal(e.nodes.n, 1);
        assert_string_equal(e.nodes.nodes[0].access, "rm");
        cdi_edits_done(&e);
        /* a later mount on the same containerPath replaces the earlier */
        assert_int_equal(cdi_resolve(&r, "test.com/node=mounts", &e, NULL), 0);
        assert_int_equal(e.n_mounts, 2);
        assert_string_equal(e.mounts[0].container_path, "/b");
        assert_string_equal(e.mounts[1].container_path, "/a");
        assert_string_equal(e.mounts[1].host_path, "/h2");
        cdi_edits_done(&e);
        cdi_registry_done(&r);
}

static void test_no_specs(void **state) {
        _cleanup_close_ int fd = root();
        static const char *const dirs[] = { CDI "/no-such-dir", NULL };
        struct cdi_registry r;
        struct cdi_edits e;
        _cleanup_free_ char *err = NULL;

        assert_int_equal(cdi_registry_load(fd, dirs, &r, &err), 0);
        assert_int_equal(r.n_specs + r.n_devices + r.n_errors, 0);
        assert_int_equal(cdi_resolve(&r, "a.com/b=c", &e, &err), -ENOENT);
        assert_string_equal(err, "unknown CDI device \"a.com/b=c\"; no CDI specs loaded");
        cdi_registry_done(&r);
        /* a zeroed registry (a failed load) is safe to clean up: fd 0 stays */
        struct cdi_registry z = { 0 };
        int stdin_open = fcntl(0, F_GETFD) >= 0;
        cdi_registry_done(&z);
        assert_int_equal(fcntl(0, F_GETFD) >= 0, stdin_open);
        static const char *const file_dir[] = { CDI "/README.md", NULL };
        assert_int_equal(cdi_registry_load(fd, file_dir, &r, &err), -ENOTDIR);
        assert_string_equal(err, CDI "/README.md: Not a directory");
}

/* As root: a fake host tree with a node made by mknod, as the integration
 * tests will use (major 195 is NVIDIA's). */
static void test_fake_root(void **state) {
        char tmp[] = "/tmp/test-cdi-XXXXXX";
        static const char spec[] = "{\"cdiVersion\":\"0.5.0\",\"kind\":\"nvidia.com/gpu\",\"devices\":[{\"name\":\"0\",\"containerEdits\":{\"deviceNodes\":[{\"path\":\"/dev/nvidia0\"}]}}]}";
        struct cdi_registry r;
        struct cdi_edits e;

        if (geteuid() != 0)
                skip();
        assert_non_null(mkdtemp(tmp));
        _cleanup_close_ int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(mkdirat(fd, "dev", 0755), 0);
        assert_int_equal(mknodat(fd, "dev/nvidia0", S_IFCHR | 0666, makedev(195, 0)), 0);
        assert_int_equal(mkdirat(fd, "etc", 0755), 0);
        assert_int_equal(mkdirat(fd, "etc/cdi", 0755), 0);
        int sfd = openat(fd, "etc/cdi/gpu.json", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(sfd >= 0);
        assert_int_equal(write(sfd, spec, sizeof(spec) - 1), (ssize_t)sizeof(spec) - 1);
        close(sfd);
        assert_int_equal(cdi_registry_load(fd, NULL, &r, NULL), 0);
        assert_int_equal(cdi_resolve(&r, "nvidia.com/gpu=0", &e, NULL), 0);
        assert_int_equal(e.nodes.nodes[0].major, 195);
        assert_int_equal(e.nodes.nodes[0].minor, 0);
        cdi_edits_done(&e);
        cdi_registry_done(&r);
        unlinkat(fd, "etc/cdi/gpu.json", 0);
        unlinkat(fd, "etc/cdi", AT_REMOVEDIR);
        unlinkat(fd, "etc", AT_REMOVEDIR);
        unlinkat(fd, "dev/nvidia0", 0);
        unlinkat(fd, "dev", AT_REMOVEDIR);
        rmdir(tmp);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_every_field),
                cmocka_unit_test(test_yaml_every_field),
                cmocka_unit_test(test_versions),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_registry_basic),
                cmocka_unit_test(test_resolve_gpu0),
                cmocka_unit_test(test_resolve_fill),
                cmocka_unit_test(test_resolve_unknown),
                cmocka_unit_test(test_override),
                cmocka_unit_test(test_merge),
                cmocka_unit_test(test_conflict),
                cmocka_unit_test(test_invalid_files),
                cmocka_unit_test(test_nodes),
                cmocka_unit_test(test_no_specs),
                cmocka_unit_test(test_fake_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
