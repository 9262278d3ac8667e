#include "config.h"
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "fileio.h"
#include "macro.h"
#include "seccomp-profile.h"

#define SYSINFO "sysinfo"

const char *seccomp_profile_default_socket(void) {
        const char *p = getenv("CURATE_SECCOMP_AGENT");
        return p && *p ? p : CURATE_RUN_DIR "/seccomp-agent.sock";
}

static bool names_sysinfo(json_object *s) {
        return json_object_is_type(s, json_type_string) && streq(json_object_get_string(s), SYSINFO);
}

/* Check the rules first, so a malformed profile is left untouched. */
static int check_rules(json_object *rules, char **ret_error) {
        for (size_t i = 0; i < json_object_array_length(rules); i++) {
                json_object *rule = json_object_array_get_idx(rules, i), *names;
                if (!json_object_is_type(rule, json_type_object))
                        return error_printf(ret_error, -EINVAL, "syscalls[%zu] is not an object", i);
                if (json_object_object_get_ex(rule, "names", &names) && !json_object_is_type(names, json_type_array))
                        return error_printf(ret_error, -EINVAL, "syscalls[%zu].names is not a list", i);
        }
        return 0;
}

/* Take sysinfo out of RULE; true when the rule then names no syscall. */
static bool drop_sysinfo(json_object *rule) {
        json_object *names, *name;
        bool had_names = json_object_object_get_ex(rule, "names", &names), emptied = false;

        if (had_names) {
                size_t n = json_object_array_length(names);
                for (size_t i = n; i-- > 0;)
                        if (names_sysinfo(json_object_array_get_idx(names, i)))
                                json_object_array_del_idx(names, i, 1);
                emptied = n > 0 && json_object_array_length(names) == 0;
        }
        /* the old single "name" form (docker before 1.12, still parsed) */
        if (json_object_object_get_ex(rule, "name", &name) && names_sysinfo(name)) {
                json_object_object_del(rule, "name");
                return !had_names || json_object_array_length(names) == 0;
        }
        return emptied;
}

int seccomp_profile_route_sysinfo(json_object *profile, const char *socket, char **ret_error) {
        json_object *rules, *rule, *names;
        int r;

        if (!json_object_is_type(profile, json_type_object))
                return error_printf(ret_error, -EINVAL, "not a JSON object");
        if (!json_object_object_get_ex(profile, "syscalls", &rules)) {
                rules = json_object_new_array();
                if (!rules || json_object_object_add(profile, "syscalls", rules) < 0)
                        return -ENOMEM;
        }
        if (!json_object_is_type(rules, json_type_array))
                return error_printf(ret_error, -EINVAL, "syscalls is not a list");
        if ((r = check_rules(rules, ret_error)) < 0)
                return r;
        for (size_t i = json_object_array_length(rules); i-- > 0;)
                if (drop_sysinfo(json_object_array_get_idx(rules, i)))
                        json_object_array_del_idx(rules, i, 1);
        rule = json_object_new_object();
        names = json_object_new_array();
        if (!rule || !names || json_object_array_add(names, json_object_new_string(SYSINFO)) < 0 ||
            json_object_object_add(rule, "names", names) < 0) {
                json_object_put(rule);
                json_object_put(names);
                return -ENOMEM;
        }
        if (json_object_object_add(rule, "action", json_object_new_string("SCMP_ACT_NOTIFY")) < 0 ||
            json_object_array_add(rules, rule) < 0) {
                json_object_put(rule);
                return -ENOMEM;
        }
        return json_object_object_add(profile, "listenerPath", json_object_new_string(socket)) < 0 ? -ENOMEM : 0;
}

#define PROFILE_MAX (16 * 1024 * 1024)

/* BASE whole (the caller's path, any file the caller names) */
static int read_text(const char *base, char **ret, size_t *ret_len, char **ret_error) {
        _cleanup_close_ int fd = open(base, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0)
                return error_printf(ret_error, -errno, "%s: %s", base, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return error_printf(ret_error, -EINVAL, "%s: not a regular file", base);
        if (st.st_size > PROFILE_MAX)
                return error_printf(ret_error, -EFBIG, "%s: over 16 MiB: not a seccomp profile", base);
        text = malloc(st.st_size + 1);
        if (!text)
                return -ENOMEM;
        while (len < (size_t)st.st_size) {
                ssize_t n = read(fd, text + len, st.st_size - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return error_printf(ret_error, -errno, "%s: %s", base, strerror(errno));
                if (n == 0)
                        break;
                len += n;
        }
        text[len] = 0;
        *ret = TAKE_PTR(text);
        *ret_len = len;
        return 0;
}

static int read_profile(const char *base, json_object **ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        json_tokener *tok;
        json_object *o;
        size_t len = 0;
        int r = read_text(base, &text, &len, ret_error);

        if (r < 0)
                return r;
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, text, (int)len);
        if (!o) {
                enum json_tokener_error e = json_tokener_get_error(tok);
                r = error_printf(ret_error, -EINVAL, "%s: not JSON: %s", base,
                                 e == json_tokener_continue ? "it ends too early" : json_tokener_error_desc(e));
        }
        json_tokener_free(tok);
        if (!o)
                return r;
        *ret = o;
        return 0;
}

int seccomp_profile_write(const char *base, const char *socket, const char *output, char **ret_error) {
        json_object *profile = NULL;
        _cleanup_free_ char *error = NULL, *text = NULL;
        int r = read_profile(base, &profile, ret_error);

        if (r < 0)
                return r;
        r = seccomp_profile_route_sysinfo(profile, socket, &error);
        if (r < 0) {
                json_object_put(profile);
                return error_printf(ret_error, r, "%s: %s", base, error ? error : strerror(-r));
        }
        const char *s = json_object_to_json_string_ext(profile, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                         JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s || asprintf(&text, "%s\n", s) < 0) {
                json_object_put(profile);
                return -ENOMEM;
        }
        json_object_put(profile);
        return write_file_replace(output, text, ret_error);
}
