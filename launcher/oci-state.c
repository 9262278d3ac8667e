#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "fileio.h"
#include "macro.h"
#include "oci-state.h"
#include "policy.h"
#include "registration.h"

static inline void json_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)
static inline void tokener_freep(json_tokener **t) {
        if (*t)
                json_tokener_free(*t);
}

/* The document's top-level object, or -EINVAL naming WHAT ("state on
 * stdin", "config.json") and json-c's reason. */
static int parse_object(const char *json, size_t len, const char *what, json_object **ret, char **ret_error) {
        _cleanup_(tokener_freep) json_tokener *tok = NULL;
        json_object *o;

        if (len == 0)
                return error_printf(ret_error, -EINVAL, "%s: empty", what);
        if (len > OCI_JSON_MAX || len > INT_MAX)
                return error_printf(ret_error, -EINVAL, "%s: larger than %u bytes", what, OCI_JSON_MAX);
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, json, (int)len);
        enum json_tokener_error e = json_tokener_get_error(tok);
        if (!o || e != json_tokener_success) {
                json_object_put(o);
                return error_printf(ret_error, -EINVAL, "%s: not JSON: %s", what,
                                    e == json_tokener_continue ? "truncated" : json_tokener_error_desc(e));
        }
        /* json-c stops after the first value: anything but white space after it is an error */
        size_t end = json_tokener_get_parse_end(tok);
        while (end < len && strchr(" \t\r\n", json[end]) && json[end])
                end++;
        if (end < len && json[end]) {
                json_object_put(o);
                return error_printf(ret_error, -EINVAL, "%s: text after the JSON value", what);
        }
        if (!json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return error_printf(ret_error, -EINVAL, "%s: not a JSON object", what);
        }
        *ret = o;
        return 0;
}

/* KEY of O as a non-empty string without NULs: 0 with a copy, -ENOENT when
 * absent (or null), -EINVAL when of another type or empty. */
static int get_string(json_object *o, const char *key, char **ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !v)
                return -ENOENT;
        if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0 ||
            strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
                return -EINVAL;
        char *s = strdup(json_object_get_string(v));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* annotations[OCI_HOOK_ANNOTATION]: *ret stays NULL when absent. */
static int get_views_annotation(json_object *o, const char *what, char **ret, char **ret_error) {
        json_object *a, *v;

        if (!json_object_object_get_ex(o, "annotations", &a) || !a)
                return 0;
        if (!json_object_is_type(a, json_type_object))
                return error_printf(ret_error, -EINVAL, "%s: annotations is not an object", what);
        if (!json_object_object_get_ex(a, OCI_HOOK_ANNOTATION, &v) || !v)
                return 0;
        if (!json_object_is_type(v, json_type_string))
                return error_printf(ret_error, -EINVAL, "%s: annotation %s is not a string", what,
                                    OCI_HOOK_ANNOTATION);
        char *s = strdup(json_object_get_string(v));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int required_string(json_object *o, const char *key, const char *what, char **ret, char **ret_error) {
        int r = get_string(o, key, ret);
        if (r == -ENOENT)
                return error_printf(ret_error, -EINVAL, "%s: no \"%s\"", what, key);
        if (r == -EINVAL)
                return error_printf(ret_error, r, "%s: \"%s\" is not a non-empty string", what, key);
        return r;
}

int oci_state_parse(const char *json, size_t len, struct oci_state *ret, char **ret_error) {
        static const char what[] = "OCI state on stdin";
        _cleanup_json_ json_object *o = NULL;
        struct oci_state s = {};
        json_object *pid;
        int r;

        r = parse_object(json, len, what, &o, ret_error);
        if (r < 0)
                return r;
        r = required_string(o, "id", what, &s.id, ret_error);
        if (r >= 0)
                r = required_string(o, "bundle", what, &s.bundle, ret_error);
        if (r >= 0 && s.bundle[0] != '/')
                r = error_printf(ret_error, -EINVAL, "%s: bundle \"%s\" is not an absolute path", what, s.bundle);
        if (r >= 0 && (!json_object_object_get_ex(o, "pid", &pid) || !json_object_is_type(pid, json_type_int)))
                r = error_printf(ret_error, -EINVAL, "%s: no \"pid\" number (the hook runs at createContainer, "
                                 "when the container has a process)", what);
        if (r >= 0) {
                errno = 0;
                int64_t p = json_object_get_int64(pid);
                if (p <= 0 || p > INT_MAX || errno)
                        r = error_printf(ret_error, -EINVAL, "%s: pid %s out of range", what,
                                         json_object_get_string(pid));
                else
                        s.pid = (pid_t)p;
        }
        if (r >= 0)
                r = get_views_annotation(o, what, &s.views, ret_error);
        if (r < 0) {
                oci_state_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

void oci_state_done(struct oci_state *s) {
        free(s->id);
        free(s->bundle);
        free(s->views);
        *s = (struct oci_state){};
}

int oci_config_parse(const char *json, size_t len, struct oci_config *ret, char **ret_error) {
        static const char what[] = "config.json";
        _cleanup_json_ json_object *o = NULL;
        struct oci_config c = {};
        json_object *root;
        int r;

        r = parse_object(json, len, what, &o, ret_error);
        if (r < 0)
                return r;
        if (!json_object_object_get_ex(o, "root", &root) || !json_object_is_type(root, json_type_object))
                r = error_printf(ret_error, -EINVAL, "%s: no \"root\" object", what);
        else
                r = required_string(root, "path", "config.json root", &c.root_path, ret_error);
        if (r >= 0)
                r = get_views_annotation(o, what, &c.views, ret_error);
        if (r < 0) {
                oci_config_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

void oci_config_done(struct oci_config *c) {
        free(c->root_path);
        free(c->views);
        *c = (struct oci_config){};
}

unsigned oci_hook_views_all(void) {
        static const enum policy_view all[] = {
                POLICY_VIEW_MEMINFO, POLICY_VIEW_CPUINFO, POLICY_VIEW_STAT,      POLICY_VIEW_UPTIME,
                POLICY_VIEW_LOADAVG, POLICY_VIEW_SWAPS,   POLICY_VIEW_DISKSTATS, POLICY_VIEW_CPU_TREE,
        };
        unsigned m = 0;

        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                m |= 1u << all[i];
        return m;
}

static int view_word(const char *w, unsigned *ret, char **ret_error) {
        if (streq(w, "all")) {
                *ret = oci_hook_views_all();
                return 0;
        }
        if (streq(w, "pressure"))
                return error_printf(ret_error, -EINVAL, "annotation %s: view \"pressure\" is not "
                                    "available through the hook", OCI_HOOK_ANNOTATION);
        if (policy_parse_views(w, ret) < 0)
                return error_printf(ret_error, -EINVAL, "annotation %s: unknown view \"%s\" "
                                    "(expected all, none, meminfo, cpuinfo, stat, uptime, loadavg, "
                                    "swaps, diskstats, cpu-online, cpu-tree, vmstat)",
                                    OCI_HOOK_ANNOTATION, w);
        return 0;
}

int oci_hook_parse_views(const char *value, unsigned *ret, char **ret_error) {
        _cleanup_free_ char *copy = strdup(value);
        unsigned views = 0, v;
        char *p, *piece, *w, *save;
        int r;

        if (!copy)
                return -ENOMEM;
        /* commas separate, and so do blanks: podman's --annotation splits
         * its value at commas unless it is quoted, "meminfo stat" needs no
         * quoting; an empty piece between commas is a mistake, not "none" */
        p = copy;
        do {
                piece = strsep(&p, ",");
                if (!*strtrim(piece))
                        return error_printf(ret_error, -EINVAL, "annotation %s=\"%s\": empty view name "
                                            "(expected all, none or a comma list of views)",
                                            OCI_HOOK_ANNOTATION, value);
                for (w = strtok_r(piece, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                        if ((r = view_word(w, &v, ret_error)) < 0)
                                return r;
                        views |= v;
                }
        } while (p);
        *ret = views;
        return 0;
}

/* Is each comma-separated word of WANT (LEN bytes) one of OPTS's? */
static bool options_hold(const char *opts, size_t opts_len, const char *want, size_t len) {
        for (const char *w = want; w < want + len;) {
                const char *wend = memchr(w, ',', want + len - w);
                size_t wn = wend ? (size_t)(wend - w) : (size_t)(want + len - w);
                bool found = false;
                for (const char *o = opts; o < opts + opts_len && !found;) {
                        const char *oend = memchr(o, ',', opts + opts_len - o);
                        size_t on = oend ? (size_t)(oend - o) : (size_t)(opts + opts_len - o);
                        found = on == wn && memcmp(o, w, wn) == 0;
                        o += on + 1;
                }
                if (!found)
                        return false;
                w += wn + 1;
        }
        return true;
}

int oci_cgroup_procs_path(const char *mountinfo, const char *line, size_t len, char *ret, size_t size) {
        const char *c1 = memchr(line, ':', len);
        const char *c2 = c1 ? memchr(c1 + 1, ':', len - (c1 + 1 - line)) : NULL;
        if (!c2 || c1 == line)
                return -ENOENT;
        const char *ctl = c1 + 1, *path = c2 + 1;
        size_t ctl_len = c2 - ctl, path_len = len - (path - line);
        bool v2 = c1 - line == 1 && *line == '0' && ctl_len == 0;

        if (!v2 && ctl_len == 0)
                return -ENOENT;
        for (const char *l = mountinfo; *l;) {
                const char *nl = strchrnul(l, '\n');
                char root[PATH_MAX], mnt[PATH_MAX], fstype[32], opts[512];
                const char *dash = NULL;
                /* the fields after the optional ones: " - FSTYPE SOURCE OPTIONS" */
                for (const char *p = l; p + 3 <= nl && !dash; p++)
                        if (p[0] == ' ' && p[1] == '-' && p[2] == ' ')
                                dash = p + 3;
                if (dash && sscanf(l, "%*s %*s %*s %4095s %4095s", root, mnt) == 2 &&
                    sscanf(dash, "%31s %*s %511s", fstype, opts) == 2) {
                        bool match = v2 ? strcmp(fstype, "cgroup2") == 0
                                        : strcmp(fstype, "cgroup") == 0 && options_hold(opts, strlen(opts), ctl, ctl_len);
                        size_t rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
                        if (match && path_len >= rl && memcmp(path, root, rl) == 0 &&
                            (path_len == rl || path[rl] == '/' || rl == 0)) {
                                int k = snprintf(ret, size, "%s%.*s/cgroup.procs", mnt, (int)(path_len - rl), path + rl);
                                return k < 0 || (size_t)k >= size ? -ENAMETOOLONG : 0;
                        }
                }
                l = *nl ? nl + 1 : nl;
        }
        return -ENOENT;
}

int oci_cgroup_curate_id(const char *cgroup_text, char *ret, size_t size) {
        static const char top[] = "/curate/";

        for (const char *l = cgroup_text; *l;) {
                const char *nl = strchrnul(l, '\n');
                const char *c1 = memchr(l, ':', nl - l);
                const char *c2 = c1 ? memchr(c1 + 1, ':', nl - (c1 + 1)) : NULL;
                if (c2 && (size_t)(nl - c2 - 1) > strlen(top) && strncmp(c2 + 1, top, strlen(top)) == 0) {
                        const char *id = c2 + 1 + strlen(top);
                        size_t n = strcspn(id, "/\n");
                        if (n < size && n <= REG_ID_MAX) {
                                char buf[REG_ID_MAX + 1];
                                memcpy(buf, id, n);
                                buf[n] = 0;
                                if (reg_id_valid(buf)) {
                                        memcpy(ret, buf, n + 1);
                                        return 0;
                                }
                        }
                }
                l = *nl ? nl + 1 : nl;
        }
        return -ENOENT;
}
