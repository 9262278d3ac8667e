#include "config.h"
/* `curate seccomp-profile`'s rewrite (launcher/seccomp-profile.c) and the
 * seccomp agent's message (fs/seccomp-agent-msg.c): profiles good and bad,
 * runtimes' messages good and bad. No privileges, files only in a temp dir. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "macro.h"
#include "registration.h"
#include "seccomp-agent-msg.h"
#include "seccomp-profile.h"

#define SOCK "/run/curate/seccomp-agent.sock"

static json_object *parse(const char *s) {
        json_object *o = json_tokener_parse(s);
        assert_non_null(o);
        return o;
}

/* the rules naming sysinfo, as compact JSON */
static char *sysinfo_rules(json_object *p) {
        json_object *rules, *out = json_object_new_array();
        char *s;

        assert_true(json_object_object_get_ex(p, "syscalls", &rules));
        for (size_t i = 0; i < json_object_array_length(rules); i++) {
                json_object *r = json_object_array_get_idx(rules, i), *names;
                const char *text = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN);
                if ((json_object_object_get_ex(r, "names", &names) || json_object_object_get_ex(r, "name", &names)) &&
                    strstr(text, "\"sysinfo\""))
                        json_object_array_add(out, json_object_get(r));
        }
        s = strdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
        json_object_put(out);
        return s;
}

static const char *plain(json_object *o) {
        return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

static void test_profile_route(void **unused) {
        /* the shape of podman's default profile: sysinfo in the big allow list */
        json_object *p = parse("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                               "\"syscalls\":[{\"names\":[\"read\",\"sysinfo\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                               "{\"names\":[\"sysinfo\"],\"action\":\"SCMP_ACT_ERRNO\",\"includes\":{\"arches\":[\"x86\"]}},"
                               "{\"name\":\"sysinfo\",\"action\":\"SCMP_ACT_ALLOW\"},"
                               "{\"names\":[\"reboot\"],\"action\":\"SCMP_ACT_ALLOW\"}]}");
        _cleanup_free_ char *error = NULL, *rules = NULL;
        json_object *v;

        assert_int_equal(seccomp_profile_route_sysinfo(p, SOCK, &error), 0);
        rules = sysinfo_rules(p);
        assert_string_equal(rules, "[{\"names\":[\"sysinfo\"],\"action\":\"SCMP_ACT_NOTIFY\"}]");
        assert_true(json_object_object_get_ex(p, "listenerPath", &v));
        assert_string_equal(json_object_get_string(v), SOCK);
        /* the rest as it was: the allow list without sysinfo, reboot kept,
         * the rules that named sysinfo alone gone */
        assert_non_null(strstr(plain(p), "{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"}"));
        assert_non_null(strstr(plain(p), "{\"names\":[\"reboot\"]"));
        assert_non_null(strstr(plain(p), "\"defaultErrnoRet\":38"));
        assert_true(json_object_object_get_ex(p, "syscalls", &v));
        assert_int_equal(json_object_array_length(v), 3);
        json_object_put(p);
}

static void test_profile_twice(void **unused) {
        json_object *p = parse("{\"syscalls\":[{\"names\":[\"sysinfo\",\"uname\"],\"action\":\"SCMP_ACT_ALLOW\"}]}");
        _cleanup_free_ char *rules = NULL;

        /* a profile already rewritten (another socket) gets one rule, the new path */
        assert_int_equal(seccomp_profile_route_sysinfo(p, "/a.sock", NULL), 0);
        assert_int_equal(seccomp_profile_route_sysinfo(p, SOCK, NULL), 0);
        rules = sysinfo_rules(p);
        assert_string_equal(rules, "[{\"names\":[\"sysinfo\"],\"action\":\"SCMP_ACT_NOTIFY\"}]");
        json_object *v;
        assert_true(json_object_object_get_ex(p, "listenerPath", &v));
        assert_string_equal(json_object_get_string(v), SOCK);
        json_object_put(p);
}

static void test_profile_no_syscalls(void **unused) {
        json_object *p = parse("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}");

        assert_int_equal(seccomp_profile_route_sysinfo(p, SOCK, NULL), 0);
        assert_non_null(strstr(plain(p), "\"syscalls\":[{\"names\":[\"sysinfo\"],\"action\":\"SCMP_ACT_NOTIFY\"}]"));
        json_object_put(p);
}

static void test_profile_malformed(void **unused) {
        static const struct {
                const char *json, *error;
        } bad[] = {
                { "[]", "not a JSON object" },
                { "{\"syscalls\":{}}", "syscalls is not a list" },
                { "{\"syscalls\":[{\"names\":[\"sysinfo\"]},3]}", "syscalls[1] is not an object" },
                { "{\"syscalls\":[{\"names\":[\"sysinfo\"]},{\"names\":\"sysinfo\"}]}", "syscalls[1].names is not a list" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                json_object *p = parse(bad[i].json);
                _cleanup_free_ char *before = strdup(plain(p)), *error = NULL;
                assert_int_equal(seccomp_profile_route_sysinfo(p, SOCK, &error), -EINVAL);
                assert_string_equal(error, bad[i].error);
                assert_string_equal(plain(p), before); /* untouched */
                json_object_put(p);
        }
}

static void test_profile_files(void **unused) {
        char dir[] = "/tmp/test-seccomp-profile.XXXXXX", base[64], out[64], cmd[128];
        _cleanup_free_ char *error = NULL;
        FILE *f;

        assert_non_null(mkdtemp(dir));
        snprintf(base, sizeof(base), "%s/base.json", dir);
        snprintf(out, sizeof(out), "%s/out.json", dir);
        assert_int_equal(seccomp_profile_write(base, SOCK, out, &error), -ENOENT);
        assert_non_null(strstr(error, base));
        free(TAKE_PTR(error));
        f = fopen(base, "we");
        fputs("{\"syscalls\": [", f);
        fclose(f);
        assert_int_equal(seccomp_profile_write(base, SOCK, out, &error), -EINVAL);
        assert_string_equal(error + strlen(base), ": not JSON: it ends too early");
        free(TAKE_PTR(error));
        assert_int_equal(access(out, F_OK), -1); /* nothing written */
        f = fopen(base, "we");
        fputs("{\"syscalls\": 1}", f);
        fclose(f);
        assert_int_equal(seccomp_profile_write(base, SOCK, out, &error), -EINVAL);
        assert_non_null(strstr(error, "syscalls is not a list"));
        free(TAKE_PTR(error));
        f = fopen(base, "we");
        fputs("{\"syscalls\": []}", f);
        fclose(f);
        assert_int_equal(seccomp_profile_write(base, SOCK, out, &error), 0);
        json_object *o = json_object_from_file(out);
        assert_non_null(o);
        assert_non_null(strstr(plain(o), "SCMP_ACT_NOTIFY"));
        json_object_put(o);
        snprintf(out, sizeof(out), "%s/no/such/dir.json", dir);
        assert_int_equal(seccomp_profile_write(base, SOCK, out, &error), -ENOENT);
        assert_non_null(strstr(error, out));
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

/* ---- the agent's message ---- */

static int msg(const char *json, unsigned n_fds, struct agent_msg *m) {
        return agent_msg_parse(json, strlen(json), n_fds, m);
}

static void test_msg_runc(void **unused) {
        /* what runc 1.1.5 sent here for `runc run` (tests/fuzz/corpus/seccomp-agent/runc-1.1.5) */
        const char *j = "{\"ociVersion\":\"1.0.2-dev\",\"fds\":[\"seccompFd\"],\"pid\":20772,\"state\":{\"ociVersion\":"
                        "\"1.0.2-dev\",\"id\":\"ocilcap\",\"status\":\"creating\",\"pid\":20772,\"bundle\":\"/tmp/b\"}}";
        struct agent_msg m;
        char name[REG_ID_MAX + 1];

        assert_int_equal(msg(j, 1, &m), 0);
        assert_int_equal(m.seccomp_index, 0);
        assert_int_equal(m.pid, 20772);
        assert_string_equal(m.id, "ocilcap");
        agent_reg_name(&m, 7, name, sizeof(name));
        assert_string_equal(name, "oci-ocilcap-7");
        assert_int_equal(msg(j, 0, &m), -EINVAL); /* named, but no fd came */
}

static void test_msg_index_and_id(void **unused) {
        struct agent_msg m;
        char name[REG_ID_MAX + 1], long_id[300];

        assert_int_equal(msg("{\"fds\":[\"x\",\"seccompFd\"],\"pid\":3,\"state\":{\"id\":\"../a/..\"}}", 2, &m), 0);
        assert_int_equal(m.seccomp_index, 1);
        assert_string_equal(m.id, ".._a_..");
        agent_reg_name(&m, 1, name, sizeof(name));
        assert_true(reg_id_valid(name));
        assert_int_equal(msg("{\"fds\":[\"x\",\"seccompFd\"],\"pid\":3,\"state\":{\"id\":\"a\"}}", 1, &m), -EINVAL);
        snprintf(long_id, sizeof(long_id), "{\"fds\":[\"seccompFd\"],\"pid\":3,\"state\":{\"id\":\"%0200d\"}}", 0);
        assert_int_equal(msg(long_id, 1, &m), 0);
        assert_int_equal(strlen(m.id), AGENT_ID_MAX);
        agent_reg_name(&m, ~0UL, name, sizeof(name));
        assert_true(reg_id_valid(name));
}

static void test_msg_bad(void **unused) {
        static const char *const bad[] = {
                "", "nope", "[]", "{}", "{\"fds\":\"seccompFd\",\"pid\":1,\"state\":{\"id\":\"a\"}}",
                "{\"fds\":[],\"pid\":1,\"state\":{\"id\":\"a\"}}",
                "{\"fds\":[\"seccompFd\"],\"pid\":1}",
                "{\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"id\":\"\"}}",
                "{\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"id\":5}}",
                "{\"fds\":[\"seccompFd\"],\"pid\":0,\"state\":{\"id\":\"a\"}}",
                "{\"fds\":[\"seccompFd\"],\"pid\":-4,\"state\":{\"id\":\"a\"}}",
                "{\"fds\":[\"seccompFd\"],\"pid\":4294967297,\"state\":{\"id\":\"a\"}}",
                "{\"fds\":[\"seccompFd\"],\"pid\":\"1\",\"state\":{\"id\":\"a\"}}",
                "{\"fds\":[\"seccompFd\"],\"pid\":1,\"state\":{\"id\":\"a\"}", /* cut short */
        };
        struct agent_msg m;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(msg(bad[i], 1, &m), -EINVAL);
        assert_int_equal(msg("{\"fds\":[\"a\",\"b\",\"c\",\"d\",\"seccompFd\"],\"pid\":1,\"state\":{\"id\":\"a\"}}", 5, &m),
                         -E2BIG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_profile_route),    cmocka_unit_test(test_profile_twice),
                cmocka_unit_test(test_profile_no_syscalls), cmocka_unit_test(test_profile_malformed),
                cmocka_unit_test(test_profile_files),    cmocka_unit_test(test_msg_runc),
                cmocka_unit_test(test_msg_index_and_id), cmocka_unit_test(test_msg_bad),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
