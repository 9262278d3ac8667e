#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "macro.h"
#include "seccomp-agent-msg.h"

/* the fd name the runtime-spec gives the listener (specs.SeccompFdName) */
#define SECCOMP_FD_NAME "seccompFd"

static json_object *member(json_object *o, const char *key, json_type type) {
        json_object *v;
        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
                return NULL;
        return v;
}

static int seccomp_fd_index(json_object *root, unsigned n_fds, unsigned *ret) {
        json_object *fds = member(root, "fds", json_type_array);
        size_t n;

        if (!fds)
                return -EINVAL;
        n = json_object_array_length(fds);
        if (n > AGENT_FDS_MAX)
                return -E2BIG;
        for (size_t i = 0; i < n; i++) {
                json_object *name = json_object_array_get_idx(fds, i);
                if (json_object_is_type(name, json_type_string) && streq(json_object_get_string(name), SECCOMP_FD_NAME)) {
                        if (i >= n_fds)
                                return -EINVAL; /* named but not sent */
                        *ret = (unsigned)i;
                        return 0;
                }
        }
        return -EINVAL;
}

/* The id as a file name: the characters a registration name may hold
 * (lib/registration.c reg_id_valid), any other one as '_'. */
static int id_name(json_object *state, char *buf) {
        json_object *id = state ? member(state, "id", json_type_string) : NULL;
        const char *s = id ? json_object_get_string(id) : NULL;
        size_t n = 0;

        if (!s || !*s)
                return -EINVAL;
        for (; s[n] && n < AGENT_ID_MAX; n++)
                buf[n] = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", s[n]) ? s[n] : '_';
        buf[n] = 0;
        return 0;
}

int agent_msg_from_json(json_object *root, unsigned n_fds, struct agent_msg *ret) {
        struct agent_msg m = { 0 };
        json_object *pid;
        int64_t v;
        int r;

        if (!json_object_is_type(root, json_type_object))
                return -EINVAL;
        if ((r = seccomp_fd_index(root, n_fds, &m.seccomp_index)) < 0)
                return r;
        if ((r = id_name(member(root, "state", json_type_object), m.id)) < 0)
                return r;
        pid = member(root, "pid", json_type_int);
        v = pid ? json_object_get_int64(pid) : 0;
        if (v <= 0 || v > INT_MAX)
                return -EINVAL;
        m.pid = (pid_t)v;
        *ret = m;
        return 0;
}

int agent_msg_parse(const char *text, size_t len, unsigned n_fds, struct agent_msg *ret) {
        json_tokener *tok = json_tokener_new_ex(16);
        json_object *root;
        int r;

        if (!tok)
                return -ENOMEM;
        root = len > INT_MAX ? NULL : json_tokener_parse_ex(tok, text, (int)len);
        r = root ? agent_msg_from_json(root, n_fds, ret) : -EINVAL;
        json_object_put(root);
        json_tokener_free(tok);
        return r;
}

void agent_reg_name(const struct agent_msg *m, unsigned long seq, char *buf, size_t size) {
        snprintf(buf, size, "oci-%s-%lu", m->id, seq);
}
