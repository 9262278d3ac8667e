#include "config.h"
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <json-c/json.h>
#include <yaml.h>
#include "cdi.h"
#include "fileio.h"
#include "macro.h"

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif

/* ---- a small document tree both parsers produce, so one model builder
 * serves JSON and YAML alike ---- */

enum tkind { T_NULL, T_STRING, T_NUMBER, T_BOOL, T_SEQ, T_MAP };

struct tnode {
        enum tkind kind;
        char *text;          /* scalars */
        unsigned line;       /* 1-based YAML line; 0 for JSON */
        struct tnode *items; /* sequence items or mapping values */
        char **keys;         /* mapping keys */
        size_t n;
};

#define TREE_MAX_DEPTH 64
#define TREE_MAX_NODES 200000

static void tnode_done(struct tnode *t) {
        free(t->text);
        for (size_t i = 0; i < t->n; i++) {
                tnode_done(&t->items[i]);
                if (t->keys)
                        free(t->keys[i]);
        }
        free(t->items);
        free(t->keys);
        *t = (struct tnode){ 0 };
}

static int tnode_alloc(struct tnode *t, size_t n, bool map) {
        t->items = calloc(n ? n : 1, sizeof(*t->items));
        if (!t->items)
                return -ENOMEM;
        if (map) {
                t->keys = calloc(n ? n : 1, sizeof(*t->keys));
                if (!t->keys)
                        return -ENOMEM;
        }
        return 0;
}

static const struct tnode *tmap_get(const struct tnode *m, const char *key) {
        for (size_t i = 0; i < m->n; i++)
                if (streq(m->keys[i], key))
                        return &m->items[i];
        return NULL;
}

/* ---- JSON (json-c) ---- */

static int json_to_tree(struct json_object *o, struct tnode *t, unsigned depth, size_t *budget) {
        int r;

        if (depth > TREE_MAX_DEPTH || (*budget)-- == 0)
                return -E2BIG;
        switch (json_object_get_type(o)) {
        case json_type_null:
                t->kind = T_NULL;
                return 0;
        case json_type_boolean:
                t->kind = T_BOOL;
                t->text = strdup(json_object_get_boolean(o) ? "true" : "false");
                break;
        case json_type_int:
        case json_type_double:
                t->kind = T_NUMBER;
                t->text = strdup(json_object_get_string(o));
                break;
        case json_type_string:
                t->kind = T_STRING;
                t->text = strdup(json_object_get_string(o));
                break;
        case json_type_array:
                t->kind = T_SEQ;
                if ((r = tnode_alloc(t, json_object_array_length(o), false)) < 0)
                        return r;
                for (size_t i = 0; i < json_object_array_length(o); i++) {
                        if ((r = json_to_tree(json_object_array_get_idx(o, i), &t->items[t->n++],
                                              depth + 1, budget)) < 0)
                                return r;
                }
                return 0;
        case json_type_object:
                t->kind = T_MAP;
                if ((r = tnode_alloc(t, json_object_object_length(o), true)) < 0)
                        return r;
                json_object_object_foreach(o, key, val) {
                        size_t i = t->n++;
                        if (!(t->keys[i] = strdup(key)))
                                return -ENOMEM;
                        if ((r = json_to_tree(val, &t->items[i], depth + 1, budget)) < 0)
                                return r;
                }
                return 0;
        }
        return t->text ? 0 : -ENOMEM;
}

static int parse_json(const char *path, const char *text, size_t len, struct tnode *ret,
                      char **ret_error) {
        struct json_tokener *tok = json_tokener_new();
        struct json_object *o;
        size_t end, budget = TREE_MAX_NODES;
        int r;

        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, text, (int)len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!o || jerr != json_tokener_success) {
                json_object_put(o);
                return error_printf(ret_error, -EINVAL, "%s: offset %zu: %s", path, end,
                                    jerr == json_tokener_continue ? "unexpected end of data"
                                                                  : json_tokener_error_desc(jerr));
        }
        while (end < len && isspace((unsigned char)text[end]))
                end++;
        if (end < len) {
                json_object_put(o);
                return error_printf(ret_error, -EINVAL, "%s: offset %zu: trailing data", path, end);
        }
        r = json_to_tree(o, ret, 0, &budget);
        json_object_put(o);
        if (r == -E2BIG)
                return error_printf(ret_error, -EINVAL, "%s: document too deep or too large", path);
        return r;
}

/* ---- YAML (libyaml document API) ---- */

static bool yaml_plain_is(const char *s, const char *const *words) {
        for (; *words; words++)
                if (streq(s, *words))
                        return true;
        return false;
}

static enum tkind yaml_plain_kind(const char *s) {
        static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
        static const char *const bools[] = { "true", "True", "TRUE", "false", "False", "FALSE", NULL };
        char *end;

        if (yaml_plain_is(s, nulls))
                return T_NULL;
        if (yaml_plain_is(s, bools))
                return T_BOOL;
        if (s[0] == '0' && s[1] == 'o' && s[2]) {
                strtoull(s + 2, &end, 8);
                return *end ? T_STRING : T_NUMBER;
        }
        errno = 0;
        (void)strtod(s, &end);
        return *end || isspace((unsigned char)s[0]) ? T_STRING : T_NUMBER;
}

static int yaml_to_tree(yaml_document_t *doc, yaml_node_t *y, struct tnode *t, unsigned depth,
                        size_t *budget) {
        int r;

        if (depth > TREE_MAX_DEPTH || (*budget)-- == 0)
                return -E2BIG;
        t->line = y->start_mark.line + 1;
        switch (y->type) {
        case YAML_SCALAR_NODE:
                t->text = strndup((const char *)y->data.scalar.value, y->data.scalar.length);
                if (!t->text)
                        return -ENOMEM;
                t->kind = y->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? yaml_plain_kind(t->text)
                                                                          : T_STRING;
                return 0;
        case YAML_SEQUENCE_NODE:
                t->kind = T_SEQ;
                if ((r = tnode_alloc(t, y->data.sequence.items.top - y->data.sequence.items.start,
                                     false)) < 0)
                        return r;
                for (yaml_node_item_t *i = y->data.sequence.items.start;
                     i < y->data.sequence.items.top; i++)
                        if ((r = yaml_to_tree(doc, yaml_document_get_node(doc, *i),
                                              &t->items[t->n++], depth + 1, budget)) < 0)
                                return r;
                return 0;
        case YAML_MAPPING_NODE:
                t->kind = T_MAP;
                if ((r = tnode_alloc(t, y->data.mapping.pairs.top - y->data.mapping.pairs.start,
                                     true)) < 0)
                        return r;
                for (yaml_node_pair_t *p = y->data.mapping.pairs.start; p < y->data.mapping.pairs.top;
                     p++) {
                        yaml_node_t *k = yaml_document_get_node(doc, p->key);
                        size_t i = t->n++;
                        if (k->type != YAML_SCALAR_NODE)
                                return -EBADMSG;
                        t->keys[i] = strndup((const char *)k->data.scalar.value,
                                             k->data.scalar.length);
                        if (!t->keys[i])
                                return -ENOMEM;
                        if ((r = yaml_to_tree(doc, yaml_document_get_node(doc, p->value),
                                              &t->items[i], depth + 1, budget)) < 0)
                                return r;
                }
                return 0;
        default:
                return -EBADMSG;
        }
}

static int parse_yaml(const char *path, const char *text, size_t len, struct tnode *ret,
                      char **ret_error) {
        yaml_parser_t parser;
        yaml_document_t doc;
        size_t budget = TREE_MAX_NODES;
        int r;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        if (!yaml_parser_load(&parser, &doc)) {
                r = error_printf(ret_error, -EINVAL, "%s:%zu: %s", path,
                                 parser.problem_mark.line + 1,
                                 parser.problem ? parser.problem : "malformed YAML");
                yaml_parser_delete(&parser);
                return r;
        }
        yaml_parser_delete(&parser);
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root) {
                yaml_document_delete(&doc);
                return error_printf(ret_error, -EINVAL, "%s: empty document", path);
        }
        r = yaml_to_tree(&doc, root, ret, 0, &budget);
        yaml_document_delete(&doc);
        if (r == -E2BIG)
                return error_printf(ret_error, -EINVAL, "%s: document too deep or too large", path);
        if (r == -EBADMSG)
                return error_printf(ret_error, -EINVAL, "%s: unsupported YAML construct", path);
        return r;
}

/* ---- building the model, with "where" (the field path) for messages ---- */

struct pctx {
        const char *path;
        char **ret_error;
        char where[512];
        size_t wlen;
};

static size_t where_push(struct pctx *c, const char *fmt, ...) _printf_(2, 3);
static size_t where_push(struct pctx *c, const char *fmt, ...) {
        size_t old = c->wlen;
        va_list ap;

        va_start(ap, fmt);
        int n = vsnprintf(c->where + c->wlen, sizeof(c->where) - c->wlen, fmt, ap);
        va_end(ap);
        if (n > 0)
                c->wlen = MIN(c->wlen + (size_t)n, sizeof(c->where) - 1);
        return old;
}

static void where_pop(struct pctx *c, size_t old) {
        c->wlen = old;
        c->where[old] = 0;
}

static int perr(struct pctx *c, const struct tnode *t, const char *fmt, ...) _printf_(3, 4);
static int perr(struct pctx *c, const struct tnode *t, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        if (!msg)
                return -ENOMEM;
        if (t && t->line)
                return error_printf(c->ret_error, -EINVAL, "%s:%u: %s: %s", c->path, t->line,
                                    c->where, msg);
        return error_printf(c->ret_error, -EINVAL, "%s: %s: %s", c->path, c->where, msg);
}

/* FIELD of map M: NULL when absent or null. */
static const struct tnode *field(struct pctx *c, const struct tnode *m, const char *key,
                                 size_t *ret_old) {
        const struct tnode *t = tmap_get(m, key);
        *ret_old = where_push(c, "%s%s", c->wlen ? "." : "", key);
        return t && t->kind != T_NULL ? t : NULL;
}

static int get_string(struct pctx *c, const struct tnode *m, const char *key, bool required,
                      char **ret) {
        size_t old;
        const struct tnode *t = field(c, m, key, &old);
        int r = 0;

        if (!t) {
                if (required)
                        r = perr(c, m, "missing");
        } else if (t->kind != T_STRING && t->kind != T_NUMBER)
                r = perr(c, t, "must be a string");
        else if (!t->text[0] && required)
                r = perr(c, t, "must not be empty");
        else if (!(*ret = strdup(t->text)))
                r = -ENOMEM;
        where_pop(c, old);
        return r;
}

/* An unsigned integer up to MAX. JSON numbers are decimal; YAML also allows
 * 0o17, 017 (YAML 1.1 octal) and 0x1f. *ret_has says whether it was given. */
static int get_uint(struct pctx *c, const struct tnode *m, const char *key, uint64_t max,
                    bool *ret_has, uint64_t *ret) {
        size_t old;
        const struct tnode *t = field(c, m, key, &old);
        int r = 0;

        *ret_has = false;
        if (t) {
                const char *s = t->text ? t->text : ""; /* a mapping or list has none */
                int base = 10;
                char *end;
                if (t->line && s[0] == '0' && s[1] == 'o')
                        s += 2, base = 8;
                else if (t->line)
                        base = 0;
                errno = 0;
                unsigned long long v = t->kind == T_NUMBER && isdigit((unsigned char)s[0])
                                               ? strtoull(s, &end, base) : 0;
                if (t->kind != T_NUMBER || !isdigit((unsigned char)s[0]) || *end)
                        r = perr(c, t, "must be a non-negative integer");
                else if (errno == ERANGE || v > max)
                        r = perr(c, t, "out of range");
                else {
                        *ret = v;
                        *ret_has = true;
                }
        }
        where_pop(c, old);
        return r;
}

static void strv_free(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* A list of strings; ENV: each must be "KEY=VALUE" with a non-empty KEY. */
static int get_strings(struct pctx *c, const struct tnode *m, const char *key, bool env,
                       char ***ret, size_t *ret_n) {
        size_t old;
        const struct tnode *t = field(c, m, key, &old);
        char **v = NULL;
        size_t n = 0;
        int r = 0;

        if (t && t->kind != T_SEQ)
                r = perr(c, t, "must be a list");
        else if (t && !(v = calloc(t->n + 1, sizeof(*v))))
                r = -ENOMEM;
        for (size_t i = 0; r == 0 && t && i < t->n; i++) {
                const struct tnode *e = &t->items[i];
                if (e->kind != T_STRING && e->kind != T_NUMBER)
                        r = perr(c, e, "item %zu must be a string", i);
                else if (env && (!strchr(e->text, '=') || e->text[0] == '='))
                        r = perr(c, e, "invalid environment variable \"%s\" (want KEY=VALUE)",
                                 e->text);
                else if (!(v[n++] = strdup(e->text)))
                        r = -ENOMEM;
        }
        where_pop(c, old);
        if (r < 0) {
                strv_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static void spec_node_done(struct cdi_spec_node *n) {
        free(n->path);
        free(n->host_path);
}

static int parse_node_type(struct pctx *c, const struct tnode *m, struct cdi_spec_node *n) {
        _cleanup_free_ char *type = NULL;
        size_t old;
        int r = get_string(c, m, "type", false, &type);

        if (r < 0 || !type || !type[0])
                return r;
        old = where_push(c, ".type");
        if (streq(type, "c") || streq(type, "u"))
                n->type = 'c';
        else if (streq(type, "b"))
                n->type = 'b';
        else if (streq(type, "p"))
                r = perr(c, tmap_get(m, "type"), "fifo nodes are not supported");
        else
                r = perr(c, tmap_get(m, "type"), "invalid device type \"%s\" (want b, c or u)", type);
        where_pop(c, old);
        return r;
}

static int parse_node_permissions(struct pctx *c, const struct tnode *m, struct cdi_spec_node *n) {
        _cleanup_free_ char *perm = NULL;
        size_t k = 0, old;
        int r = get_string(c, m, "permissions", false, &perm);

        if (r < 0 || !perm)
                return r;
        for (const char *p = perm; *p; p++)
                if (!strchr("rwm", *p)) {
                        old = where_push(c, ".permissions");
                        r = perr(c, tmap_get(m, "permissions"),
                                 "invalid permissions \"%s\" (want a subset of rwm)", perm);
                        where_pop(c, old);
                        return r;
                }
        for (const char *o = "rwm"; *o; o++)
                if (strchr(perm, *o))
                        n->permissions[k++] = *o;
        n->permissions[k] = 0;
        return 0;
}

static int parse_node(struct pctx *c, const struct tnode *m, struct cdi_spec_node *n) {
        uint64_t v;
        bool has;
        int r;

        *n = (struct cdi_spec_node){ .uid = (uid_t)-1, .gid = (gid_t)-1 };
        if (m->kind != T_MAP)
                return perr(c, m, "must be a mapping");
        if ((r = get_string(c, m, "path", true, &n->path)) < 0 ||
            (r = get_string(c, m, "hostPath", false, &n->host_path)) < 0 ||
            (r = parse_node_type(c, m, n)) < 0 || (r = parse_node_permissions(c, m, n)) < 0)
                return r;
        /* the reference would join a relative path to /dev ("/dev/dev/..."
         * for "dev/x"): refused here, as containerPath of mounts is */
        if (n->path[0] != '/')
                return perr(c, m, "path \"%s\" is not absolute", n->path);
        if (n->host_path && n->host_path[0] != '/')
                return perr(c, m, "hostPath \"%s\" is not absolute", n->host_path);
        if ((r = get_uint(c, m, "major", UINT32_MAX, &n->has_major, &v)) < 0)
                return r;
        n->major = n->has_major ? v : 0;
        if ((r = get_uint(c, m, "minor", UINT32_MAX, &n->has_minor, &v)) < 0)
                return r;
        n->minor = n->has_minor ? v : 0;
        if ((r = get_uint(c, m, "fileMode", 07777, &has, &v)) < 0)
                return r;
        n->file_mode = has ? v : 0;
        if ((r = get_uint(c, m, "uid", UINT32_MAX - 1, &has, &v)) < 0)
                return r;
        if (has)
                n->uid = v;
        if ((r = get_uint(c, m, "gid", UINT32_MAX - 1, &has, &v)) < 0)
                return r;
        if (has)
                n->gid = v;
        return 0;
}

static void mount_done(struct cdi_mount *m) {
        free(m->spec_path);
        free(m->host_path);
        free(m->container_path);
        free(m->type);
        strv_free(m->options, m->n_options);
}

/* OCI mount options: ro, nosuid, nodev, noexec become mount attributes;
 * rw, suid, dev, exec, the propagation and *atime options change nothing
 * here (the container's namespace is private already). */
static const struct {
        const char *name;
        unsigned attr;
} cdi_attr_options[] = {
        { "ro", MOUNT_ATTR_RDONLY }, { "nosuid", MOUNT_ATTR_NOSUID }, { "nodev", MOUNT_ATTR_NODEV },
        { "noexec", MOUNT_ATTR_NOEXEC }, { "rw", 0 }, { "suid", 0 }, { "dev", 0 }, { "exec", 0 },
        { "private", 0 }, { "rprivate", 0 }, { "slave", 0 }, { "rslave", 0 }, { "shared", 0 },
        { "rshared", 0 }, { "relatime", 0 }, { "noatime", 0 }, { "strictatime", 0 }, { "nodiratime", 0 },
};

int cdi_mount_options(const struct cdi_mount *m, unsigned *ret_attrs, bool *ret_bind, bool *ret_rec,
                       const char **ret_fs_opts, size_t max) {
        size_t n = 0;

        *ret_attrs = 0;
        *ret_bind = !m->type || streq(m->type, "bind") || streq(m->type, "rbind");
        *ret_rec = m->type && streq(m->type, "rbind");
        for (size_t i = 0; i < m->n_options; i++) {
                const char *o = m->options[i];
                bool known = false;
                if (streq(o, "bind") || streq(o, "rbind")) {
                        *ret_bind = true;
                        *ret_rec |= streq(o, "rbind");
                        continue;
                }
                for (size_t k = 0; k < ELEMENTSOF(cdi_attr_options); k++)
                        if (streq(o, cdi_attr_options[k].name)) {
                                *ret_attrs |= cdi_attr_options[k].attr;
                                known = true;
                        }
                if (!known && n + 1 < max)
                        ret_fs_opts[n++] = o;
                else if (!known)
                        return -E2BIG;
        }
        ret_fs_opts[n] = NULL;
        return (int)n;
}

/* What the launcher would refuse at mount time, refused when the spec is
 * loaded instead, naming the spec: an option a bind cannot take, a
 * relative host path for a bind. */
static int check_mount(struct pctx *c, const struct tnode *m, const struct cdi_mount *mnt) {
        const char *fs_opts[32];
        unsigned attrs;
        bool bind, rec;
        int r = cdi_mount_options(mnt, &attrs, &bind, &rec, fs_opts, ELEMENTSOF(fs_opts));

        if (r < 0)
                return perr(c, m, "more than %zu filesystem options", ELEMENTSOF(fs_opts) - 1);
        if (bind && r > 0)
                return perr(c, m, "option \"%s\" is not supported for a bind mount (known: bind, rbind, ro, rw, "
                            "nosuid, nodev, noexec, propagation and atime options)", fs_opts[0]);
        if (bind && mnt->host_path[0] != '/')
                return perr(c, m, "hostPath \"%s\" of a bind mount is not absolute", mnt->host_path);
        return 0;
}

static int parse_mount(struct pctx *c, const struct tnode *m, struct cdi_mount *mnt) {
        int r;

        *mnt = (struct cdi_mount){ 0 };
        if (m->kind != T_MAP)
                return perr(c, m, "must be a mapping");
        if ((r = get_string(c, m, "hostPath", true, &mnt->host_path)) < 0 ||
            (r = get_string(c, m, "containerPath", true, &mnt->container_path)) < 0 ||
            (r = get_string(c, m, "type", false, &mnt->type)) < 0 ||
            (r = get_strings(c, m, "options", false, &mnt->options, &mnt->n_options)) < 0)
                return r;
        /* stricter than the reference: a relative path has no meaning in a
         * container (hostPath may be relative: a source such as "tmpfs") */
        if (mnt->container_path[0] != '/')
                return perr(c, m, "containerPath \"%s\" is not absolute", mnt->container_path);
        return check_mount(c, m, mnt);
}

static void hook_done(struct cdi_hook *h) {
        free(h->hook_name);
        free(h->path);
        strv_free(h->args, h->n_args);
        strv_free(h->env, h->n_env);
}

static const char *const hook_names[] = {
        "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

static int parse_hook(struct pctx *c, const struct tnode *m, struct cdi_hook *h) {
        uint64_t v;
        bool has, known = false;
        size_t old;
        int r;

        *h = (struct cdi_hook){ .timeout = -1 };
        if (m->kind != T_MAP)
                return perr(c, m, "must be a mapping");
        if ((r = get_string(c, m, "hookName", true, &h->hook_name)) < 0 ||
            (r = get_string(c, m, "path", true, &h->path)) < 0 ||
            (r = get_strings(c, m, "args", false, &h->args, &h->n_args)) < 0 ||
            (r = get_strings(c, m, "env", true, &h->env, &h->n_env)) < 0 ||
            (r = get_uint(c, m, "timeout", INT32_MAX, &has, &v)) < 0)
                return r;
        if (has)
                h->timeout = v;
        for (size_t i = 0; i < ELEMENTSOF(hook_names); i++)
                known |= streq(h->hook_name, hook_names[i]);
        if (!known) {
                old = where_push(c, ".hookName");
                r = perr(c, tmap_get(m, "hookName"), "invalid hook name \"%s\"", h->hook_name);
                where_pop(c, old);
        }
        return r;
}

static void spec_edits_done(struct cdi_spec_edits *e) {
        strv_free(e->env, e->n_env);
        for (size_t i = 0; i < e->n_nodes; i++)
                spec_node_done(&e->nodes[i]);
        free(e->nodes);
        for (size_t i = 0; i < e->n_mounts; i++)
                mount_done(&e->mounts[i]);
        free(e->mounts);
        for (size_t i = 0; i < e->n_hooks; i++)
                hook_done(&e->hooks[i]);
        free(e->hooks);
        free(e->additional_gids);
        *e = (struct cdi_spec_edits){ 0 };
}

/* Parse the list FIELD of M with ONE into an array of SIZE-byte items. */
static int parse_list(struct pctx *c, const struct tnode *m, const char *key, size_t size,
                      int (*one)(struct pctx *, const struct tnode *, void *), void **ret,
                      size_t *ret_n) {
        size_t old;
        const struct tnode *t = field(c, m, key, &old);
        char *v;
        int r = 0;

        if (!t)
                goto out;
        if (t->kind != T_SEQ) {
                r = perr(c, t, "must be a list");
                goto out;
        }
        if (!(v = calloc(t->n + 1, size))) {
                r = -ENOMEM;
                goto out;
        }
        *ret = v;
        for (size_t i = 0; i < t->n; i++) {
                size_t o = where_push(c, "[%zu]", i);
                r = one(c, &t->items[i], v + i * size);
                where_pop(c, o);
                (*ret_n)++; /* a half-parsed item is freed with the others */
                if (r < 0)
                        break;
        }
out:
        where_pop(c, old);
        return r;
}

static int one_node(struct pctx *c, const struct tnode *t, void *p) { return parse_node(c, t, p); }
static int one_mount(struct pctx *c, const struct tnode *t, void *p) { return parse_mount(c, t, p); }
static int one_hook(struct pctx *c, const struct tnode *t, void *p) { return parse_hook(c, t, p); }
static int one_gid(struct pctx *c, const struct tnode *t, void *p) {
        uint64_t v;
        char *end;

        errno = 0;
        v = t->kind == T_NUMBER && isdigit((unsigned char)t->text[0]) ? strtoull(t->text, &end, 10) : 0;
        if (t->kind != T_NUMBER || !isdigit((unsigned char)t->text[0]) || *end || errno ||
            v >= UINT32_MAX)
                return perr(c, t, "must be a group id");
        *(gid_t *)p = v;
        return 0;
}

static int parse_edits(struct pctx *c, const struct tnode *m, struct cdi_spec_edits *e) {
        int r;

        *e = (struct cdi_spec_edits){ 0 };
        if (!m)
                return 0;
        if (m->kind != T_MAP)
                return perr(c, m, "must be a mapping");
        if ((r = get_strings(c, m, "env", true, &e->env, &e->n_env)) < 0 ||
            (r = parse_list(c, m, "deviceNodes", sizeof(*e->nodes), one_node, (void **)&e->nodes,
                            &e->n_nodes)) < 0 ||
            (r = parse_list(c, m, "mounts", sizeof(*e->mounts), one_mount, (void **)&e->mounts,
                            &e->n_mounts)) < 0 ||
            (r = parse_list(c, m, "hooks", sizeof(*e->hooks), one_hook, (void **)&e->hooks,
                            &e->n_hooks)) < 0 ||
            (r = parse_list(c, m, "additionalGIDs", sizeof(*e->additional_gids), one_gid,
                            (void **)&e->additional_gids, &e->n_additional_gids)) < 0)
                return r;
        /* intelRdt: accepted and ignored, see cdi.h; it still makes edits non-empty */
        e->has_intel_rdt = tmap_get(m, "intelRdt") != NULL;
        return 0;
}

/* ---- names ---- */

static bool is_alpha(char ch) { return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'); }
static bool is_alnum(char ch) { return is_alpha(ch) || (ch >= '0' && ch <= '9'); }

/* The rules of the reference's parser.go: FIRST/LAST say what may start and
 * end the name, EXTRA which punctuation may appear inside. */
static int validate_part(const char *what, const char *s, size_t len, bool first_digit,
                         const char *extra, char **ret_error) {
        if (len == 0)
                return error_printf(ret_error, -EINVAL, "empty %s", what);
        if (!is_alpha(s[0]) && !(first_digit && is_alnum(s[0])))
                return error_printf(ret_error, -EINVAL, "invalid %s \"%.*s\": must start with a %s",
                                    what, (int)len, s, first_digit ? "letter or digit" : "letter");
        if (!is_alnum(s[len - 1]))
                return error_printf(ret_error, -EINVAL,
                                    "invalid %s \"%.*s\": must end with a letter or digit", what,
                                    (int)len, s);
        for (size_t i = 0; i < len; i++)
                if (!is_alnum(s[i]) && !strchr(extra, s[i]))
                        return error_printf(ret_error, -EINVAL,
                                            "invalid %s \"%.*s\": invalid character '%c'", what,
                                            (int)len, s, s[i]);
        return 0;
}

int cdi_validate_kind(const char *kind, char **ret_error) {
        const char *slash = strchr(kind, '/');
        int r;

        if (!slash)
                return error_printf(ret_error, -EINVAL, "invalid kind \"%s\": want vendor/class",
                                    kind);
        if ((r = validate_part("vendor", kind, slash - kind, false, "-_.", ret_error)) < 0)
                return r;
        return validate_part("class", slash + 1, strlen(slash + 1), false, "-_.", ret_error);
}

int cdi_validate_device_name(const char *name, char **ret_error) {
        return validate_part("device name", name, strlen(name), true, "-_.:", ret_error);
}

int cdi_parse_qualified_name(const char *qualified, char **ret_buf, const char **ret_vendor,
                             const char **ret_class, const char **ret_name) {
        _cleanup_free_ char *buf = strdup(qualified);
        char *slash, *eq;

        if (!buf)
                return -ENOMEM;
        eq = strchr(buf, '=');
        if (!eq)
                return -EINVAL;
        *eq = 0;
        if (cdi_validate_kind(buf, NULL) < 0 || cdi_validate_device_name(eq + 1, NULL) < 0)
                return -EINVAL;
        slash = strchr(buf, '/');
        *slash = 0;
        *ret_vendor = buf;
        *ret_class = slash + 1;
        *ret_name = eq + 1;
        *ret_buf = TAKE_PTR(buf);
        return 0;
}

/* ---- a spec ---- */

/* The versions SPEC.md defines; anything else (newer) is refused. */
static const char *const cdi_versions[] = {
        "0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0", "0.8.0", "1.0.0", "1.1.0",
};

static int check_version(struct pctx *c, const struct tnode *root, const char *v) {
        size_t old;
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(cdi_versions); i++)
                if (streq(v, cdi_versions[i]))
                        return 0;
        old = where_push(c, "cdiVersion");
        r = perr(c, tmap_get(root, "cdiVersion"),
                 "unsupported version \"%s\" (curate knows 0.1.0 to 1.1.0)", v);
        where_pop(c, old);
        return r;
}

/* Check a name with VALIDATE, reporting through C at node T. */
static int check_name(struct pctx *c, const struct tnode *t, const char *key, const char *v,
                      int (*validate)(const char *, char **)) {
        _cleanup_free_ char *why = NULL;
        size_t old;
        int r = validate(v, &why);

        if (r < 0) {
                old = where_push(c, "%s%s", c->wlen ? "." : "", key);
                r = perr(c, tmap_get(t, key), "%s", why ? why : "invalid");
                where_pop(c, old);
        }
        return r;
}

static int parse_device(struct pctx *c, const struct tnode *t, void *p) {
        struct cdi_spec_device *d = p;
        size_t old;
        int r;

        if (t->kind != T_MAP)
                return perr(c, t, "must be a mapping");
        if ((r = get_string(c, t, "name", true, &d->name)) < 0 ||
            (r = check_name(c, t, "name", d->name, cdi_validate_device_name)) < 0)
                return r;
        const struct tnode *e = field(c, t, "containerEdits", &old);
        r = e ? parse_edits(c, e, &d->edits) : perr(c, t, "missing");
        if (r >= 0 && !d->edits.n_env && !d->edits.n_nodes && !d->edits.n_mounts &&
            !d->edits.n_hooks && !d->edits.n_additional_gids && !d->edits.has_intel_rdt)
                r = perr(c, e, "empty container edits"); /* the reference refuses them too */
        where_pop(c, old);
        return r;
}

static int parse_spec_tree(struct pctx *c, const struct tnode *root, struct cdi_spec *s) {
        size_t old;
        int r;

        if (root->kind != T_MAP)
                return perr(c, root, "the document must be a mapping");
        if ((r = get_string(c, root, "cdiVersion", true, &s->version)) < 0 ||
            (r = check_version(c, root, s->version)) < 0 ||
            (r = get_string(c, root, "kind", true, &s->kind)) < 0 ||
            (r = check_name(c, root, "kind", s->kind, cdi_validate_kind)) < 0)
                return r;
        const struct tnode *e = field(c, root, "containerEdits", &old);
        r = parse_edits(c, e, &s->edits);
        where_pop(c, old);
        if (r < 0)
                return r;
        if ((r = parse_list(c, root, "devices", sizeof(*s->devices), parse_device,
                            (void **)&s->devices, &s->n_devices)) < 0)
                return r;
        if (!s->n_devices) {
                old = where_push(c, "devices");
                r = perr(c, tmap_get(root, "devices") ? tmap_get(root, "devices") : root,
                         "%s", tmap_get(root, "devices") ? "no devices" : "missing");
                where_pop(c, old);
                return r;
        }
        for (size_t i = 0; i < s->n_devices; i++)
                for (size_t j = 0; j < i; j++)
                        if (streq(s->devices[i].name, s->devices[j].name)) {
                                old = where_push(c, "devices[%zu].name", i);
                                r = perr(c, NULL, "device \"%s\" defined twice", s->devices[i].name);
                                where_pop(c, old);
                                return r;
                        }
        return 0;
}

static bool ends_with(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

void cdi_spec_done(struct cdi_spec *s) {
        free(s->path);
        free(s->version);
        free(s->kind);
        for (size_t i = 0; i < s->n_devices; i++) {
                free(s->devices[i].name);
                spec_edits_done(&s->devices[i].edits);
        }
        free(s->devices);
        spec_edits_done(&s->edits);
        *s = (struct cdi_spec){ 0 };
}

int cdi_spec_parse(const char *path, const char *text, size_t len, struct cdi_spec *ret,
                   char **ret_error) {
        struct pctx c = { .path = path, .ret_error = ret_error };
        struct tnode root = { 0 };
        struct cdi_spec s = { 0 };
        int r;

        if (ends_with(path, ".json"))
                r = parse_json(path, text, len, &root, ret_error);
        else if (ends_with(path, ".yaml") || ends_with(path, ".yml"))
                r = parse_yaml(path, text, len, &root, ret_error);
        else
                r = error_printf(ret_error, -EINVAL, "%s: not a .json, .yaml or .yml file", path);
        if (r >= 0)
                r = parse_spec_tree(&c, &root, &s);
        tnode_done(&root);
        if (r >= 0 && !(s.path = strdup(path)))
                r = -ENOMEM;
        if (r < 0) {
                cdi_spec_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

/* ---- the registry ---- */

const char *const cdi_default_dirs[] = { "etc/cdi", "var/run/cdi", NULL };

static int add_error(struct cdi_registry *r, const char *path, const char *message) {
        struct cdi_spec_error *e = realloc(r->errors, (r->n_errors + 1) * sizeof(*e));

        if (!e)
                return -ENOMEM;
        r->errors = e;
        e[r->n_errors] = (struct cdi_spec_error){ strdup(path), strdup(message) };
        if (!e[r->n_errors].path || !e[r->n_errors].message) {
                free(e[r->n_errors].path);
                free(e[r->n_errors].message);
                return -ENOMEM;
        }
        r->n_errors++;
        return 0;
}

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names of the spec files directly in DIR, sorted. */
static int list_spec_files(int root_fd, const char *dir, char ***ret, size_t *ret_n,
                           char **ret_error) {
        _cleanup_close_ int fd = open_beneath(root_fd, dir, O_RDONLY | O_DIRECTORY);
        _cleanup_closedir_ DIR *d = NULL;
        char **v = NULL;
        size_t n = 0;
        struct dirent *de;

        if (fd == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (fd < 0)
                return error_printf(ret_error, fd, "/%s: %s", dir, strerror(-fd));
        if (!(d = fdopendir(fd)))
                return -errno;
        TAKE_FD(fd);
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || de->d_type == DT_DIR ||
                    !(ends_with(de->d_name, ".json") || ends_with(de->d_name, ".yaml") ||
                      ends_with(de->d_name, ".yml")))
                        continue;
                char **nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv || !(nv[n] = strdup(de->d_name))) {
                        strv_free(nv ? nv : v, n);
                        return -ENOMEM;
                }
                v = nv;
                n++;
        }
        if (n)
                qsort(v, n, sizeof(*v), name_cmp);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* Read and parse one file; a bad one is recorded in R->errors and skipped. */
static int load_spec_file(struct cdi_registry *r, const char *path, int priority) {
        _cleanup_free_ char *text = NULL, *why = NULL;
        _cleanup_close_ int fd = open_beneath(r->root_fd, path, O_PATH);
        struct cdi_spec s;
        struct stat st;
        size_t len;
        int k;

        if (fd >= 0 && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode))
                return 0; /* a directory or node named *.json: not a spec */
        k = read_file_at(r->root_fd, path, &text, &len);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return asprintf(&why, "%s: %s", path, strerror(-k)) < 0 ? -ENOMEM
                                                                        : add_error(r, path, why);
        k = cdi_spec_parse(path, text, len, &s, &why);
        if (k == -ENOMEM)
                return k;
        if (k < 0)
                return add_error(r, path, why ? why : "invalid spec");
        struct cdi_spec *v = realloc(r->specs, (r->n_specs + 1) * sizeof(*v));
        if (!v) {
                cdi_spec_done(&s);
                return -ENOMEM;
        }
        s.priority = priority;
        r->specs = v;
        r->specs[r->n_specs++] = s;
        return 0;
}

static int load_dir(struct cdi_registry *r, const char *dir, int priority, char **ret_error) {
        char **names = NULL;
        size_t n = 0;
        int k;

        while (*dir == '/')
                dir++;
        k = list_spec_files(r->root_fd, dir, &names, &n, ret_error);
        for (size_t i = 0; k >= 0 && i < n; i++) {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "/%s/%s", dir, names[i]) < 0)
                        k = -ENOMEM;
                else
                        k = load_spec_file(r, path, priority);
        }
        strv_free(names, n);
        return k;
}

static ssize_t find_device(const struct cdi_registry *r, const char *qualified) {
        for (size_t i = 0; i < r->n_devices; i++)
                if (streq(r->devices[i].qualified, qualified))
                        return i;
        return -1;
}

/* The reference's Cache.refresh: a device of a higher-priority spec replaces
 * a lower one; the same name at the same priority (one directory) is a
 * conflict reported against both files, and every conflicting name is
 * removed at the end, even where a later directory also defines it. */
static int index_spec_devices(struct cdi_registry *r, size_t si, char ***conflicts,
                              size_t *n_conflicts) {
        const struct cdi_spec *s = &r->specs[si];
        int k;

        for (size_t di = 0; di < s->n_devices; di++) {
                _cleanup_free_ char *q = NULL;
                if (asprintf(&q, "%s=%s", s->kind, s->devices[di].name) < 0)
                        return -ENOMEM;
                ssize_t old = find_device(r, q);
                if (old >= 0) {
                        const struct cdi_spec *o = &r->specs[r->devices[old].spec];
                        if (o->priority < s->priority) {
                                r->devices[old].spec = si;
                                r->devices[old].device = di;
                        } else if (o->priority == s->priority) {
                                _cleanup_free_ char *why = NULL;
                                char **v = realloc(*conflicts, (*n_conflicts + 1) * sizeof(*v));
                                if (!v)
                                        return -ENOMEM;
                                *conflicts = v;
                                v[(*n_conflicts)++] = TAKE_PTR(q);
                                if (asprintf(&why, "conflicting device \"%s\" (specs %s, %s)",
                                             v[*n_conflicts - 1], s->path, o->path) < 0)
                                        return -ENOMEM;
                                if ((k = add_error(r, s->path, why)) < 0 ||
                                    (k = add_error(r, o->path, why)) < 0)
                                        return k;
                        }
                        continue;
                }
                struct cdi_registry_device *v = realloc(r->devices, (r->n_devices + 1) * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                r->devices = v;
                v[r->n_devices++] = (struct cdi_registry_device){ TAKE_PTR(q), si, di };
        }
        return 0;
}

static int dev_cmp(const void *a, const void *b) {
        return strcmp(((const struct cdi_registry_device *)a)->qualified,
                      ((const struct cdi_registry_device *)b)->qualified);
}

static int index_devices(struct cdi_registry *r) {
        char **conflicts = NULL;
        size_t n_conflicts = 0;
        int k = 0;

        for (size_t si = 0; k >= 0 && si < r->n_specs; si++)
                k = index_spec_devices(r, si, &conflicts, &n_conflicts);
        for (size_t i = 0; k >= 0 && i < n_conflicts; i++) {
                ssize_t d = find_device(r, conflicts[i]);
                if (d < 0)
                        continue; /* a name conflicting thrice */
                free(r->devices[d].qualified);
                r->devices[d] = r->devices[--r->n_devices];
        }
        strv_free(conflicts, n_conflicts);
        if (k >= 0 && r->n_devices)
                qsort(r->devices, r->n_devices, sizeof(*r->devices), dev_cmp);
        return k;
}

void cdi_registry_done(struct cdi_registry *r) {
        /* the dup is always >= 3 (F_DUPFD_CLOEXEC, 3): a zeroed registry must
         * not close stdin */
        if (r->root_fd >= 3)
                close(r->root_fd);
        for (size_t i = 0; i < r->n_specs; i++)
                cdi_spec_done(&r->specs[i]);
        free(r->specs);
        for (size_t i = 0; i < r->n_devices; i++)
                free(r->devices[i].qualified);
        free(r->devices);
        for (size_t i = 0; i < r->n_errors; i++) {
                free(r->errors[i].path);
                free(r->errors[i].message);
        }
        free(r->errors);
        *r = (struct cdi_registry){ .root_fd = -EBADF };
}

int cdi_registry_load(int root_fd, const char *const *dirs, struct cdi_registry *ret,
                      char **ret_error) {
        struct cdi_registry r = { .root_fd = fcntl(root_fd, F_DUPFD_CLOEXEC, 3) };
        int k = 0;

        if (r.root_fd < 0)
                return -errno;
        if (!dirs)
                dirs = cdi_default_dirs;
        for (int i = 0; k >= 0 && dirs[i]; i++)
                k = load_dir(&r, dirs[i], i, ret_error);
        if (k >= 0)
                k = index_devices(&r);
        if (k < 0) {
                cdi_registry_done(&r);
                return k;
        }
        *ret = r;
        return 0;
}

/* ---- resolving ---- */

static int strv_extend(char ***v, size_t *n, char *const *more, size_t n_more) {
        char **nv;

        if (!n_more)
                return 0;
        if (!(nv = realloc(*v, (*n + n_more + 1) * sizeof(*nv))))
                return -ENOMEM;
        *v = nv;
        for (size_t i = 0; i < n_more; i++) {
                if (!(nv[*n] = strdup(more[i])))
                        return -ENOMEM;
                (*n)++;
        }
        nv[*n] = NULL;
        return 0;
}

static int mount_copy(struct cdi_mount *dst, const struct cdi_mount *src) {
        *dst = (struct cdi_mount){ strdup(src->host_path), strdup(src->container_path),
                                   src->type ? strdup(src->type) : NULL, NULL, 0 };
        if (!dst->host_path || !dst->container_path || (src->type && !dst->type))
                return -ENOMEM;
        if (src->spec_path && !(dst->spec_path = strdup(src->spec_path)))
                return -ENOMEM;
        return strv_extend(&dst->options, &dst->n_options, src->options, src->n_options);
}

/* A later mount on the same containerPath replaces the earlier one (the
 * reference's RemoveMount before AddMount). */
static int add_mount(struct cdi_edits *e, const struct cdi_mount *m) {
        for (size_t i = 0; i < e->n_mounts; i++)
                if (streq(e->mounts[i].container_path, m->container_path)) {
                        mount_done(&e->mounts[i]);
                        memmove(&e->mounts[i], &e->mounts[i + 1],
                                (e->n_mounts - i - 1) * sizeof(*e->mounts));
                        e->n_mounts--;
                        break;
                }
        return mount_copy(&e->mounts[e->n_mounts++], m);
}

static int hook_copy(struct cdi_hook *dst, const struct cdi_hook *src) {
        *dst = (struct cdi_hook){ strdup(src->hook_name), strdup(src->path), NULL, 0, NULL, 0,
                                  src->timeout };
        if (!dst->hook_name || !dst->path)
                return -ENOMEM;
        int k = strv_extend(&dst->args, &dst->n_args, src->args, src->n_args);
        return k < 0 ? k : strv_extend(&dst->env, &dst->n_env, src->env, src->n_env);
}

static const char *type_name(char t) { return t == 'b' ? "block" : "char"; }

/* lstat the node beneath the root; fill what the spec left out, refuse what
 * it got wrong. */
static int complete_node(int root_fd, const char *spec_path, const struct cdi_spec_node *n,
                         struct device_node *ret, char **ret_error) {
        const char *host = n->host_path ? n->host_path : n->path;
        _cleanup_close_ int fd = open_beneath(root_fd, host, O_PATH | O_NOFOLLOW);
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0)
                return error_printf(ret_error, fd < 0 ? fd : -errno,
                                    "%s: device node %s: host node %s: %s", spec_path, n->path,
                                    host, strerror(fd < 0 ? -fd : errno));
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
                return error_printf(ret_error, -ENODEV,
                                    "%s: device node %s: host node %s is not a device node",
                                    spec_path, n->path, host);
        char type = S_ISBLK(st.st_mode) ? 'b' : 'c';
        if (n->type && n->type != type)
                return error_printf(ret_error, -EINVAL,
                                    "%s: device node %s: spec says %s device, host node %s is a %s device",
                                    spec_path, n->path, type_name(n->type), host, type_name(type));
        if ((n->has_major && n->major != major(st.st_rdev)) ||
            (n->has_minor && n->minor != minor(st.st_rdev)))
                return error_printf(ret_error, -EINVAL,
                                    "%s: device node %s: spec says %u:%u, host node %s is %u:%u",
                                    spec_path, n->path, n->has_major ? n->major : major(st.st_rdev),
                                    n->has_minor ? n->minor : minor(st.st_rdev), host,
                                    major(st.st_rdev), minor(st.st_rdev));
        *ret = (struct device_node){
                .path = n->path, .host_path = (char *)host, .type = type,
                .major = major(st.st_rdev), .minor = minor(st.st_rdev),
                .file_mode = n->file_mode, .uid = n->uid, .gid = n->gid,
        };
        memcpy(ret->access, n->permissions[0] ? n->permissions : "rwm", 4);
        return 0;
}

/* additionalGIDs deduplicated, 0 skipped (as the reference does) */
static int add_gids(struct cdi_edits *e, const gid_t *gids, size_t n) {
        for (size_t i = 0; i < n; i++) {
                bool seen = gids[i] == 0;
                for (size_t j = 0; j < e->n_additional_gids; j++)
                        seen |= e->additional_gids[j] == gids[i];
                if (seen)
                        continue;
                gid_t *g = realloc(e->additional_gids, (e->n_additional_gids + 1) * sizeof(*g));
                if (!g)
                        return -ENOMEM;
                e->additional_gids = g;
                g[e->n_additional_gids++] = gids[i];
        }
        return 0;
}

/* Everything but the nodes, in the reference's order: env appended, a
 * mount replacing one on the same containerPath, hooks appended, GIDs
 * deduplicated. */
static int add_rest(struct cdi_edits *e, char *const *env, size_t n_env, const struct cdi_mount *mounts,
                    size_t n_mounts, const struct cdi_hook *hooks, size_t n_hooks, const gid_t *gids, size_t n_gids) {
        int k = strv_extend(&e->env, &e->n_env, env, n_env);

        if (k < 0)
                return k;
        if (n_mounts) {
                struct cdi_mount *m = realloc(e->mounts, (e->n_mounts + n_mounts) * sizeof(*m));
                if (!m)
                        return -ENOMEM;
                e->mounts = m;
                for (size_t i = 0; i < n_mounts; i++)
                        if ((k = add_mount(e, &mounts[i])) < 0)
                                return k;
        }
        if (n_hooks) {
                struct cdi_hook *h = realloc(e->hooks, (e->n_hooks + n_hooks) * sizeof(*h));
                if (!h)
                        return -ENOMEM;
                e->hooks = h;
                for (size_t i = 0; i < n_hooks; i++)
                        if ((k = hook_copy(&e->hooks[e->n_hooks++], &hooks[i])) < 0)
                                return k;
        }
        return add_gids(e, gids, n_gids);
}

static int append_edits(int root_fd, const char *spec_path, const struct cdi_spec_edits *src,
                        struct cdi_edits *e, char **ret_error) {
        int k;


        for (size_t i = 0; i < src->n_nodes; i++) {
                struct device_node node;
                if ((k = complete_node(root_fd, spec_path, &src->nodes[i], &node, ret_error)) < 0)
                        return k;
                k = device_list_add(&e->nodes, &node);
                if (k == -EEXIST)
                        return error_printf(ret_error, k,
                                            "%s: device node %s: given twice with different numbers",
                                            spec_path, node.path);
                if (k < 0)
                        return k;
        }
        k = add_rest(e, src->env, src->n_env, src->mounts, src->n_mounts, src->hooks, src->n_hooks,
                        src->additional_gids, src->n_additional_gids);
        /* the mounts just added say which spec asked for them */
        for (size_t i = 0; k >= 0 && i < e->n_mounts; i++)
                if (!e->mounts[i].spec_path && !(e->mounts[i].spec_path = strdup(spec_path)))
                        k = -ENOMEM;
        return k;
}

int cdi_edits_merge(struct cdi_edits *dst, const struct cdi_edits *src, char **ret_error) {
        for (size_t i = 0; i < src->nodes.n; i++) {
                int k = device_list_add(&dst->nodes, &src->nodes.nodes[i]);
                if (k < 0)
                        return error_printf(ret_error, k, "%s: %s", src->nodes.nodes[i].path,
                                            k == -EEXIST ? "conflicts with another device of the same path"
                                                         : strerror(-k));
        }
        int k = add_rest(dst, src->env, src->n_env, src->mounts, src->n_mounts, src->hooks, src->n_hooks,
                         src->additional_gids, src->n_additional_gids);
        return k < 0 ? error_printf(ret_error, k, "%s", strerror(-k)) : 0;
}

void cdi_edits_done(struct cdi_edits *e) {
        device_list_done(&e->nodes);
        strv_free(e->env, e->n_env);
        for (size_t i = 0; i < e->n_mounts; i++)
                mount_done(&e->mounts[i]);
        free(e->mounts);
        for (size_t i = 0; i < e->n_hooks; i++)
                hook_done(&e->hooks[i]);
        free(e->hooks);
        free(e->additional_gids);
        *e = (struct cdi_edits){ 0 };
}

/* The conflict recorded for QUALIFIED (two specs of one directory define
 * it: neither is used), or NULL */
static const char *conflict_of(const struct cdi_registry *r, const char *qualified) {
        _cleanup_free_ char *prefix = NULL;

        if (asprintf(&prefix, "conflicting device \"%s\" ", qualified) < 0)
                return NULL;
        for (size_t i = 0; i < r->n_errors; i++)
                if (strncmp(r->errors[i].message, prefix, strlen(prefix)) == 0)
                        return r->errors[i].message;
        return NULL;
}

/* every spec skipped for an error of its own (not a conflict), whose
 * device this may have been */
static void skipped_specs(const struct cdi_registry *r, struct buf *b) {
        size_t n = 0;

        for (size_t i = 0; i < r->n_errors; i++)
                if (strncmp(r->errors[i].message, "conflicting device ", 19) != 0)
                        buf_printf(b, "%s%s", n++ ? "; " : "; skipped for errors: ", r->errors[i].message);
}

/* "unknown CDI device X; nvidia.com/gpu has: 0, 1, all" or, for an unknown
 * kind, the kinds there are; a device dropped for a conflict says which
 * specs; specs skipped for errors are named with their error. */
static int unknown_device(const struct cdi_registry *r, const char *qualified, const char *kind,
                          char **ret_error) {
        _cleanup_buf_ struct buf b = { 0 };
        size_t klen = strlen(kind), found = 0, kinds = 0;
        const char *conflict = conflict_of(r, qualified);
        bool kind_known = false;

        if (conflict)
                return error_printf(ret_error, -ENOENT, "CDI device \"%s\" is not used: %s: two specs in one "
                                    "directory define it (remove or rename one of them)", qualified, conflict);
        buf_printf(&b, "unknown CDI device \"%s\"", qualified);
        for (size_t i = 0; i < r->n_devices; i++) {
                const char *q = r->devices[i].qualified;
                if (strncmp(q, kind, klen) == 0 && q[klen] == '=')
                        buf_printf(&b, "%s%s", found++ ? ", " : "; known devices of this kind: ",
                                   q + klen + 1);
        }
        for (size_t i = 0; i < r->n_specs; i++)
                kind_known |= streq(r->specs[i].kind, kind);
        if (!found && kind_known)
                buf_printf(&b, "; the specs of that kind define no other device");
        for (size_t i = 0; !found && !kind_known && i < r->n_specs; i++) {
                bool dup = false;
                for (size_t j = 0; j < i; j++)
                        dup |= streq(r->specs[i].kind, r->specs[j].kind);
                if (!dup)
                        buf_printf(&b, "%s%s", kinds++ ? ", " : "; no spec of that kind; known kinds: ",
                                   r->specs[i].kind);
        }
        if (!found && !r->n_specs)
                buf_printf(&b, "; no CDI specs loaded");
        skipped_specs(r, &b);
        if (b.err)
                return b.err;
        return error_printf(ret_error, -ENOENT, "%s", b.data);
}

int cdi_resolve(const struct cdi_registry *r, const char *qualified_name, struct cdi_edits *ret,
                char **ret_error) {
        _cleanup_free_ char *buf = NULL, *kind = NULL;
        const char *vendor, *class, *name;
        struct cdi_edits e = { 0 };
        int k;

        if (cdi_parse_qualified_name(qualified_name, &buf, &vendor, &class, &name) < 0)
                return error_printf(ret_error, -EINVAL,
                                    "invalid CDI device name \"%s\" (want vendor/class=name)",
                                    qualified_name);
        if (asprintf(&kind, "%s/%s", vendor, class) < 0)
                return -ENOMEM;
        ssize_t d = find_device(r, qualified_name);
        if (d < 0)
                return unknown_device(r, qualified_name, kind, ret_error);
        const struct cdi_spec *s = &r->specs[r->devices[d].spec];
        /* the spec's edits, then the device's: the reference's InjectDevices order */
        k = append_edits(r->root_fd, s->path, &s->edits, &e, ret_error);
        if (k >= 0)
                k = append_edits(r->root_fd, s->path, &s->devices[r->devices[d].device].edits, &e,
                                 ret_error);
        if (k < 0) {
                cdi_edits_done(&e);
                return k;
        }
        *ret = e;
        return 0;
}
