#include "config.h"
/* Policy files: systemd-style INI read with libinih, applied over a copy of
 * the policy so that a failed load leaves the caller's policy untouched.
 *
 * libinih's handler is not told the line number (Debian builds it without
 * INI_HANDLER_LINENO), so the text is fed through our own reader: the handler
 * runs while the line the reader handed out last is being parsed, which makes
 * st->line the handler's line. The reader also refuses lines longer than
 * inih's buffer (inih would split them silently) and unknown [Section]s
 * (inih reports no empty sections to the handler). */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include "macro.h"
#include "policy.h"

#define POLICY_FILE_MAX (1024 * 1024)
#define PATH_SEPARATORS " \t"
#define LIST_SEPARATORS " \t,"

enum key_id {
        KEY_MEMORY, KEY_MEMORY_SWAP, KEY_CPUS, KEY_CPUSET, KEY_PIDS, KEY_CGROUP, KEY_DELEGATE,
        KEY_PID, KEY_IPC, KEY_UTS, KEY_CGROUP_NS, KEY_NETWORK, KEY_HOSTNAME, KEY_USER, KEY_PROPAGATION, KEY_ROOTFS,
        KEY_VIEWS, KEY_CURATED_DEV,
        KEY_PRIVATE_TMP, KEY_READ_ONLY_ROOT, KEY_MASK, KEY_READ_ONLY, KEY_BIND, KEY_RO_BIND, KEY_TMPFS,
        KEY_CAPS, KEY_CAP_ADD, KEY_CAP_DROP, KEY_SECCOMP, KEY_ALLOW_USERNS, KEY_SYSINFO,
        KEY_DEVICE, KEY_GPU,
        KEY_WORKDIR, KEY_ENV, KEY_UNSETENV, KEY_CLEARENV, KEY_UID, KEY_GID,
        _KEY_MAX,
};

struct cap_edit {
        bool add;
        uint64_t caps;
};

struct load_state {
        const char *name;              /* the file, for the origins of checked fields */
        const char *pos;               /* the reader's position in the text */
        unsigned line;                 /* the line the reader handed out last */
        struct policy *p;              /* the copy being built */
        unsigned key_line[_KEY_MAX];   /* where each key was last set in this file */
        bool caps_replaced;            /* Capabilities= seen: caps_value replaces p->caps */
        uint64_t caps_value;
        struct cap_edit *cap_edits;    /* CapabilityAdd=/Drop=, in file order, applied last */
        size_t n_cap_edits;
        int error;                     /* the first error: -errno, its line and text */
        unsigned error_line;
        char *error_text;
};

struct key_info;
typedef int (*key_setter)(struct load_state *st, const struct key_info *k, const char *value);
struct key_info {
        const char *section;
        const char *name;
        key_setter set;
        size_t offset; /* of the field, for the setters shared by several keys */
        enum policy_mount_kind kind;
        int origin;    /* enum policy_origin + 1 for fields checked against the host; 0 */
};

static const char *const sections[] = { "Resources", "Namespaces", "Views", "Filesystem", "Security", "Devices", "Process" };

/* ---- errors ---- */

static int load_error_at(struct load_state *st, unsigned line, int error, const char *fmt, ...) _printf_(4, 5);
static int load_error_at(struct load_state *st, unsigned line, int error, const char *fmt, ...) {
        va_list ap;

        if (st->error) /* only the first error is reported */
                return st->error;
        st->error = error;
        st->error_line = line;
        va_start(ap, fmt);
        if (vasprintf(&st->error_text, fmt, ap) < 0)
                st->error_text = NULL;
        va_end(ap);
        return error;
}
#define load_error(st, error, ...) load_error_at((st), (st)->line, (error), __VA_ARGS__)

static int bad_value(struct load_state *st, const struct key_info *k, const char *value, const char *what) {
        return load_error(st, -EINVAL, "%s: '%s' %s", k->name, value, what);
}

static const char *path_problem(const char *path) {
        return path[0] != '/' ? "is not an absolute path" : "must not contain '..'";
}

/* -EINVAL from the list edits is a bad path; anything else is -ENOMEM */
static int edit_error(struct load_state *st, const struct key_info *k, const char *word, int r) {
        if (r == -EINVAL)
                return bad_value(st, k, word, path_problem(word));
        return load_error(st, r, "%s", strerror(-r));
}

/* ---- setters, one per kind of value ---- */

#define FIELD(st, k, type) ((type *)((char *)(st)->p + (k)->offset))

static int set_size(struct load_state *st, const struct key_info *k, const char *value) {
        uint64_t v = POLICY_UNSET;

        if (*value && policy_parse_size(value, &v) < 0)
                return bad_value(st, k, value, "is not a size (bytes, or a number with K, M, G or T)");
        *FIELD(st, k, uint64_t) = v;
        return 0;
}

/* Memory=: a size not below POLICY_MEMORY_MIN (or max) */
static int set_memory(struct load_state *st, const struct key_info *k, const char *value) {
        uint64_t v = POLICY_UNSET;

        if (*value && policy_parse_size(value, &v) < 0)
                return bad_value(st, k, value, "is not a size (bytes, or a number with K, M, G or T)");
        if (v < POLICY_MEMORY_MIN)
                return bad_value(st, k, value, "is below the minimum memory limit, 6M (a command would be "
                                 "killed before it could run)");
        *FIELD(st, k, uint64_t) = v;
        return 0;
}

/* Pids=: at least 1 (0 would leave COMMAND no task to run as) */
static int set_count(struct load_state *st, const struct key_info *k, const char *value) {
        uint64_t v = POLICY_UNSET;

        if (*value && policy_parse_count(value, &v) < 0)
                return bad_value(st, k, value, "is not a number or max");
        if (v == 0)
                return bad_value(st, k, value, "is below the minimum, 1 (COMMAND itself is a task)");
        *FIELD(st, k, uint64_t) = v;
        return 0;
}

static int set_cpus(struct load_state *st, const struct key_info *k, const char *value) {
        uint64_t v = POLICY_UNSET;
        int r = *value ? policy_parse_cpus(value, &v) : 0;

        if (r == -ERANGE)
                return bad_value(st, k, value, "is below the minimum, 0.01 (the kernel's smallest CPU quota: "
                                 "1 ms per 100 ms period)");
        if (r < 0)
                return bad_value(st, k, value, "is not a number of CPUs above 0 with at most 3 decimals (e.g. 0.5, 2)");
        *FIELD(st, k, uint64_t) = v;
        return 0;
}

static int set_cpuset(struct load_state *st, const struct key_info *k, const char *value) {
        char *v = NULL;
        int r;

        if (*value) {
                r = policy_parse_cpuset(value, &v);
                if (r == -ENOMEM)
                        return load_error(st, r, "%s", strerror(-r));
                if (r < 0)
                        return bad_value(st, k, value, "is not a CPU list (e.g. 0-3,8)");
        }
        free(st->p->cpuset);
        st->p->cpuset = v;
        return 0;
}

static int set_path(struct load_state *st, const struct key_info *k, const char *value) {
        char **field = FIELD(st, k, char *);
        char *v = NULL;
        int r;

        if (*value) {
                r = policy_parse_path(value, &v);
                if (r < 0)
                        return edit_error(st, k, value, r);
        }
        free(*field);
        *field = v;
        return 0;
}

static int set_bool(struct load_state *st, const struct key_info *k, const char *value) {
        if (policy_parse_bool(value, FIELD(st, k, bool)) < 0)
                return bad_value(st, k, value, "is not a boolean (yes/no, true/false, on/off, 1/0)");
        return 0;
}

static int set_propagation(struct load_state *st, const struct key_info *k, const char *value) {
        if (policy_parse_propagation(value, &st->p->propagation) < 0)
                return bad_value(st, k, value, "is not private or slave");
        return 0;
}

static int set_network(struct load_state *st, const struct key_info *k, const char *value) {
        if (policy_parse_net(value, &st->p->net) < 0)
                return bad_value(st, k, value, "is not host or none");
        return 0;
}

static int set_seccomp(struct load_state *st, const struct key_info *k, const char *value) {
        if (policy_parse_seccomp(value, &st->p->seccomp) < 0)
                return bad_value(st, k, value, "is not default or unconfined");
        return 0;
}

/* Hostname=: empty keeps the host's name */
static int set_hostname(struct load_state *st, const struct key_info *k, const char *value) {
        char *v = NULL;

        if (*value && !policy_hostname_valid(value))
                return bad_value(st, k, value, "is not a host name (1-64 letters, digits, '-' and '.')");
        if (*value && !(v = strdup(value)))
                return load_error(st, -ENOMEM, "%s", strerror(ENOMEM));
        free(st->p->hostname);
        st->p->hostname = v;
        return 0;
}

/* Parse each word of a list alone, so that the message names the bad one. */
static int for_each_word(struct load_state *st, const struct key_info *k, const char *value, const char *sep,
                         int (*fn)(struct load_state *st, const struct key_info *k, const char *word)) {
        _cleanup_free_ char *copy = strdup(value);
        char *save = NULL;
        int r;

        if (!copy)
                return load_error(st, -ENOMEM, "%s", strerror(ENOMEM));
        for (char *w = strtok_r(copy, sep, &save); w; w = strtok_r(NULL, sep, &save)) {
                r = fn(st, k, w);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_view(struct load_state *st, const struct key_info *k, const char *word) {
        unsigned v;

        if (policy_parse_views(word, &v) < 0)
                return load_error(st, -EINVAL, "%s: unknown view '%s' (known: meminfo, cpuinfo, stat, uptime, "
                                  "loadavg, swaps, diskstats, cpu-online, all, none)", k->name, word);
        st->p->views |= v;
        return 0;
}

/* Views= names the views wanted: each assignment replaces the set. */
static int set_views(struct load_state *st, const struct key_info *k, const char *value) {
        st->p->views = 0;
        return for_each_word(st, k, value, LIST_SEPARATORS, add_view);
}

static int add_mask(struct load_state *st, const struct key_info *k, const char *word) {
        int r = policy_add_mask(st->p, word);
        return r < 0 ? edit_error(st, k, word, r) : 0;
}

static int add_read_only(struct load_state *st, const struct key_info *k, const char *word) {
        int r = policy_add_read_only(st->p, word);
        return r < 0 ? edit_error(st, k, word, r) : 0;
}

/* SRC:DST, split at the first ':'. Unlike systemd's BindPaths=, a lone
 * PATH is refused: the command line's --bind takes both too. */
static int add_bind(struct load_state *st, const struct key_info *k, const char *word) {
        _cleanup_free_ char *src = strdup(word);
        char *colon;
        int r;

        if (!src)
                return load_error(st, -ENOMEM, "%s", strerror(ENOMEM));
        colon = strchr(src, ':');
        if (!colon || src[0] != '/' || colon[1] != '/')
                return bad_value(st, k, word, "is not SRC:DST with two absolute paths");
        *colon = 0;
        r = policy_add_mount(st->p, k->kind, src, colon + 1);
        return r < 0 ? edit_error(st, k, word, r) : 0;
}

static int add_tmpfs(struct load_state *st, const struct key_info *k, const char *word) {
        int r = policy_add_mount(st->p, POLICY_TMPFS, NULL, word);
        return r < 0 ? edit_error(st, k, word, r) : 0;
}

static int set_mask(struct load_state *st, const struct key_info *k, const char *value) {
        if (!*value)
                policy_clear_masks(st->p);
        return for_each_word(st, k, value, PATH_SEPARATORS, add_mask);
}

static int set_read_only(struct load_state *st, const struct key_info *k, const char *value) {
        if (!*value)
                policy_clear_read_only(st->p);
        return for_each_word(st, k, value, PATH_SEPARATORS, add_read_only);
}

static int set_mount(struct load_state *st, const struct key_info *k, const char *value) {
        if (!*value)
                policy_clear_mounts(st->p, k->kind);
        return for_each_word(st, k, value, PATH_SEPARATORS, k->kind == POLICY_TMPFS ? add_tmpfs : add_bind);
}

static int parse_caps(struct load_state *st, const struct key_info *k, const char *value, uint64_t *ret) {
        _cleanup_free_ char *copy = strdup(value);
        char *save = NULL;
        uint64_t caps = 0, c;

        if (!copy)
                return load_error(st, -ENOMEM, "%s", strerror(ENOMEM));
        for (char *w = strtok_r(copy, LIST_SEPARATORS, &save); w; w = strtok_r(NULL, LIST_SEPARATORS, &save)) {
                if (policy_parse_capabilities(w, &c) < 0)
                        return load_error(st, -EINVAL, "%s: unknown capability '%s' (e.g. CAP_NET_RAW, or ALL)",
                                          k->name, w);
                caps |= c;
        }
        *ret = caps;
        return 0;
}

static int set_caps(struct load_state *st, const struct key_info *k, const char *value) {
        uint64_t caps;
        int r = parse_caps(st, k, value, &caps);

        if (r < 0)
                return r;
        st->caps_replaced = true;
        st->caps_value = caps;
        return 0;
}

/* CapabilityAdd=/CapabilityDrop=: kept in order and applied after
 * Capabilities=, wherever that stands; an empty value forgets this
 * file's earlier edits of the same kind. */
static int edit_caps(struct load_state *st, const struct key_info *k, const char *value, bool add) {
        struct cap_edit *e;
        uint64_t caps;
        size_t kept = 0;
        int r;

        if (!*value) {
                for (size_t i = 0; i < st->n_cap_edits; i++)
                        if (st->cap_edits[i].add != add)
                                st->cap_edits[kept++] = st->cap_edits[i];
                st->n_cap_edits = kept;
                return 0;
        }
        r = parse_caps(st, k, value, &caps);
        if (r < 0)
                return r;
        e = reallocarray(st->cap_edits, st->n_cap_edits + 1, sizeof(*e));
        if (!e)
                return load_error(st, -ENOMEM, "%s", strerror(ENOMEM));
        st->cap_edits = e;
        e[st->n_cap_edits++] = (struct cap_edit){ .add = add, .caps = caps };
        return 0;
}

static int set_cap_add(struct load_state *st, const struct key_info *k, const char *value) {
        return edit_caps(st, k, value, true);
}

static int set_cap_drop(struct load_state *st, const struct key_info *k, const char *value) {
        return edit_caps(st, k, value, false);
}

static int add_device(struct load_state *st, const struct key_info *k, const char *word) {
        const char *why = policy_device_problem(st->p, word);
        int r = policy_add_device(st->p, word);
        if ((r == -EINVAL || r == -EEXIST) && why)
                return bad_value(st, k, word, why);
        return r < 0 ? load_error(st, r, "%s", strerror(-r)) : 0;
}

/* Device=: a list, like Mask=; an empty value clears it */
static int set_device(struct load_state *st, const struct key_info *k, const char *value) {
        if (!*value)
                policy_clear_devices(st->p);
        return for_each_word(st, k, value, PATH_SEPARATORS, add_device);
}

/* GPU=: one selection (checked by the launcher's GPU parser); empty: none */
static int set_gpu(struct load_state *st, const struct key_info *k, const char *value) {
        char *v = NULL;

        if (*value && !(v = strdup(value)))
                return load_error(st, -ENOMEM, "%s", strerror(ENOMEM));
        free(st->p->gpu);
        st->p->gpu = v;
        return 0;
}

/* ---- [Process] ---- */

static int add_env(struct load_state *st, const struct key_info *k, const char *word) {
        int r = policy_add_env(st->p, word);
        if (r == -EINVAL)
                return bad_value(st, k, word, "is not KEY=VALUE (KEY non-empty, without '=')");
        return r < 0 ? load_error(st, r, "%s", strerror(-r)) : 0;
}

static int add_unsetenv(struct load_state *st, const struct key_info *k, const char *word) {
        int r = policy_add_unsetenv(st->p, word);
        if (r == -EINVAL)
                return bad_value(st, k, word, "is not a variable name (non-empty, without '=')");
        return r < 0 ? load_error(st, r, "%s", strerror(-r)) : 0;
}

/* Environment=/UnsetEnvironment=: blank-separated words (no quoting),
 * kept in one list in file order; an empty value clears the list. */
static int set_env(struct load_state *st, const struct key_info *k, const char *value) {
        if (!*value)
                policy_clear_env(st->p);
        return for_each_word(st, k, value, PATH_SEPARATORS, streq(k->name, "Environment") ? add_env : add_unsetenv);
}

/* User=/Group=: numeric only (see policy_parse_id); empty: root */
static int set_id(struct load_state *st, const struct key_info *k, const char *value) {
        uint32_t v = POLICY_ID_UNSET;

        if (*value && policy_parse_id(value, &v) < 0)
                return bad_value(st, k, value, "is not a numeric id (0-4294967294; names are not looked up)");
        *FIELD(st, k, uint32_t) = v;
        return 0;
}

#define AT(field) offsetof(struct policy, field)
static const struct key_info keys[_KEY_MAX] = {
        [KEY_MEMORY]      = { "Resources",  "Memory",         set_memory,      AT(memory) },
        [KEY_MEMORY_SWAP] = { "Resources",  "MemorySwap",     set_size,        AT(memory_swap) },
        [KEY_CPUS]        = { "Resources",  "CPUs",           set_cpus,        AT(cpus_milli), .origin = POLICY_AT_CPUS + 1 },
        [KEY_CPUSET]      = { "Resources",  "CPUSet",         set_cpuset,      AT(cpuset), .origin = POLICY_AT_CPUSET + 1 },
        [KEY_PIDS]        = { "Resources",  "Pids",           set_count,       AT(pids) },
        [KEY_CGROUP]      = { "Resources",  "Cgroup",         set_path,        AT(cgroup) },
        [KEY_DELEGATE]    = { "Resources",  "Delegate",       set_bool,        AT(delegate) },
        [KEY_PID]         = { "Namespaces", "PID",            set_bool,        AT(pid_ns) },
        [KEY_IPC]         = { "Namespaces", "IPC",            set_bool,        AT(ipc_ns) },
        [KEY_UTS]         = { "Namespaces", "UTS",            set_bool,        AT(uts_ns) },
        [KEY_CGROUP_NS]   = { "Namespaces", "CgroupNS",       set_bool,        AT(cgroup_ns) },
        [KEY_NETWORK]     = { "Namespaces", "Network",        set_network,     AT(net) },
        [KEY_HOSTNAME]    = { "Namespaces", "Hostname",       set_hostname,    AT(hostname) },
        [KEY_USER]        = { "Namespaces", "User",           set_bool,        AT(user_ns) },
        [KEY_PROPAGATION] = { "Namespaces", "Propagation",    set_propagation, AT(propagation) },
        [KEY_ROOTFS]      = { "Namespaces", "RootFS",         set_path,        AT(rootfs), .origin = POLICY_AT_ROOTFS + 1 },
        [KEY_VIEWS]       = { "Views",      "Views",          set_views,       AT(views) },
        [KEY_CURATED_DEV] = { "Views",      "CuratedDev",     set_bool,        AT(curated_dev) },
        [KEY_PRIVATE_TMP] = { "Filesystem", "PrivateTmp",     set_bool,        AT(private_tmp) },
        [KEY_READ_ONLY_ROOT] = { "Filesystem", "ReadOnlyRoot", set_bool,       AT(read_only_root) },
        [KEY_MASK]        = { "Filesystem", "Mask",           set_mask,        AT(masks) },
        [KEY_READ_ONLY]   = { "Filesystem", "ReadOnly",       set_read_only,   AT(read_only) },
        [KEY_BIND]        = { "Filesystem", "Bind",           set_mount,       AT(mounts), POLICY_BIND },
        [KEY_RO_BIND]     = { "Filesystem", "ReadOnlyBind",   set_mount,       AT(mounts), POLICY_RO_BIND },
        [KEY_TMPFS]       = { "Filesystem", "TmpFS",          set_mount,       AT(mounts), POLICY_TMPFS },
        [KEY_CAPS]        = { "Security",   "Capabilities",   set_caps,        AT(caps) },
        [KEY_CAP_ADD]     = { "Security",   "CapabilityAdd",  set_cap_add,     AT(caps) },
        [KEY_CAP_DROP]    = { "Security",   "CapabilityDrop", set_cap_drop,    AT(caps) },
        [KEY_SECCOMP]     = { "Security",   "Seccomp",        set_seccomp,     AT(seccomp) },
        [KEY_ALLOW_USERNS] = { "Security",  "AllowUserNamespaces", set_bool,   AT(allow_userns) },
        [KEY_SYSINFO]     = { "Security",   "Sysinfo",        set_bool,        AT(sysinfo) },
        [KEY_DEVICE]      = { "Devices",    "Device",         set_device,      AT(devices) },
        [KEY_GPU]         = { "Devices",    "GPU",            set_gpu,         AT(gpu) },
        [KEY_WORKDIR]     = { "Process",    "WorkingDirectory", set_path,      AT(workdir), .origin = POLICY_AT_WORKDIR + 1 },
        [KEY_ENV]         = { "Process",    "Environment",    set_env,         AT(env) },
        [KEY_UNSETENV]    = { "Process",    "UnsetEnvironment", set_env,       AT(env) },
        [KEY_CLEARENV]    = { "Process",    "ClearEnvironment", set_bool,      AT(clear_env) },
        [KEY_UID]         = { "Process",    "User",           set_id,          AT(uid) },
        [KEY_GID]         = { "Process",    "Group",          set_id,          AT(gid) },
};

/* ---- the inih callbacks ---- */

static const struct key_info *key_find(const char *section, const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                if ((!section || streq(keys[i].section, section)) && streq(keys[i].name, name))
                        return &keys[i];
        return NULL;
}

static bool section_known(const char *name, size_t n) {
        for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                if (strlen(sections[i]) == n && strncmp(sections[i], name, n) == 0)
                        return true;
        return false;
}

static int unknown_key(struct load_state *st, const char *section, const char *name) {
        const struct key_info *elsewhere = key_find(NULL, name);
        char hint[64] = "";

        if (elsewhere)
                snprintf(hint, sizeof(hint), " (it belongs in [%s])", elsewhere->section);
        if (!*section)
                return load_error(st, -EINVAL, "key '%s' outside of a section%s", name, hint);
        return load_error(st, -EINVAL, "unknown key '%s' in section [%s]%s", name, section, hint);
}

/* "FILE:LINE: Key=" for the fields the launcher checks later; an empty
 * value unsets the field, and with it its origin */
static int record_origin(struct load_state *st, const struct key_info *k, const char *value) {
        _cleanup_free_ char *where = NULL;
        int r;

        if (!k->origin)
                return 0;
        if (*value && asprintf(&where, "%s:%u: %s=", st->name, st->line, k->name) < 0)
                return load_error(st, -ENOMEM, "%s", strerror(ENOMEM));
        r = policy_set_origin(st->p, k->origin - 1, where);
        return r < 0 ? load_error(st, r, "%s", strerror(-r)) : 0;
}

static int handle_key(void *user, const char *section, const char *name, const char *value) {
        struct load_state *st = user;
        const struct key_info *k;

        if (st->error)
                return 1; /* keep inih's error line at the first error */
        k = key_find(section, name);
        if (!k) {
                unknown_key(st, section, name);
                return 0;
        }
        st->key_line[k - keys] = st->line;
        if (k->set(st, k, value) < 0)
                return 0;
        return record_origin(st, k, value) < 0 ? 0 : 1;
}

static void check_section_line(struct load_state *st, const char *line) {
        const char *end;

        if (line[0] != '[')
                return;
        end = strchr(line, ']');
        if (end && !section_known(line + 1, end - line - 1))
                load_error(st, -EINVAL, "unknown section [%.*s] (known: [Resources], [Namespaces], [Views], "
                           "[Filesystem], [Security], [Devices], [Process])", (int)(end - line - 1), line + 1);
        /* without ']' inih reports the line itself */
}

/* inih's fgets-style reader, over the text in memory. Leading blanks are
 * dropped, as systemd does: inih would take an indented line for the
 * continuation of the previous key's value. Returning NULL ends the parse. */
static char *read_line(char *str, int num, void *stream) {
        struct load_state *st = stream;
        const char *p = st->pos;
        size_t len;

        if (st->error || !*p)
                return NULL;
        len = strcspn(p, "\n");
        st->pos = p + len + (p[len] == '\n');
        st->line++;
        if (st->line == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0) {
                p += 3; /* a UTF-8 byte order mark */
                len -= 3;
        }
        size_t blanks = strspn(p, " \t");
        p += blanks;
        len -= blanks;
        if (len >= (size_t)num) {
                load_error(st, -EINVAL, "line too long (more than %d characters)", num - 1);
                return NULL;
        }
        memcpy(str, p, len);
        str[len] = 0;
        check_section_line(st, str);
        return str;
}

/* inih found line LINE malformed: say how, from the line itself */
static void syntax_error(struct load_state *st, const char *text, unsigned line) {
        const char *p = text;
        size_t len;

        for (unsigned i = 1; i < line && *p; i++) {
                len = strcspn(p, "\n");
                p += len + (p[len] == '\n');
        }
        if (line == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
                p += 3;
        p += strspn(p, " \t");
        len = strcspn(p, "\n");
        while (len > 0 && strchr(" \t\r", p[len - 1]))
                len--;
        /* an error of ours on a later line gives way to this one */
        free(st->error_text);
        st->error_text = NULL;
        st->error = 0;
        if (*p == '[')
                load_error_at(st, line, -EINVAL, "'%.*s': a section header needs a closing ']'", (int)len, p);
        else
                load_error_at(st, line, -EINVAL, "'%.*s' is not Key=value, [Section] or a comment", (int)len, p);
}

/* ---- after the last line ---- */

static void apply_caps(struct load_state *st) {
        uint64_t caps = st->caps_replaced ? st->caps_value : st->p->caps;

        for (size_t i = 0; i < st->n_cap_edits; i++)
                caps = st->cap_edits[i].add ? caps | st->cap_edits[i].caps : caps & ~st->cap_edits[i].caps;
        st->p->caps = caps;
}

static unsigned max_line(const struct load_state *st, const enum key_id *ids, size_t n) {
        unsigned line = 0;

        for (size_t i = 0; i < n; i++)
                if (st->key_line[ids[i]] > line)
                        line = st->key_line[ids[i]];
        return line;
}

/* The cross-key checks, reported at the line that completed the conflict
 * (0, "NAME: ...", when none of the keys is set in this file). */
static int check_policy(struct load_state *st) {
        static const enum key_id swap_keys[] = { KEY_MEMORY, KEY_MEMORY_SWAP };
        const struct policy *p = st->p;
        enum key_id cg_keys[6] = { KEY_CGROUP };
        const char *reason;
        size_t n = 1;

        if (policy_check(p, &reason) >= 0)
                return 0;
        if (p->memory != POLICY_UNSET && p->memory_swap != POLICY_UNSET && p->memory_swap < p->memory)
                return load_error_at(st, max_line(st, swap_keys, 2), -EINVAL, "%s", reason);
        if (p->memory != POLICY_UNSET)
                cg_keys[n++] = KEY_MEMORY;
        if (p->memory_swap != POLICY_UNSET)
                cg_keys[n++] = KEY_MEMORY_SWAP;
        if (p->cpus_milli != POLICY_UNSET)
                cg_keys[n++] = KEY_CPUS;
        if (p->cpuset)
                cg_keys[n++] = KEY_CPUSET;
        if (p->pids != POLICY_UNSET)
                cg_keys[n++] = KEY_PIDS;
        return load_error_at(st, max_line(st, cg_keys, n), -EINVAL, "%s", reason);
}

static void report(const struct load_state *st, const char *name, char **ret_error) {
        char *s;
        int r;

        if (!ret_error || !st->error_text)
                return;
        if (st->error_line > 0)
                r = asprintf(&s, "%s:%u: %s", name, st->error_line, st->error_text);
        else
                r = asprintf(&s, "%s: %s", name, st->error_text);
        if (r >= 0)
                *ret_error = s;
}

static void policy_donep(struct policy *p) {
        policy_done(p);
}

int policy_load_string(struct policy *p, const char *name, const char *text, char **ret_error) {
        _cleanup_(policy_donep) struct policy copy;
        struct load_state st = { .name = name, .pos = text, .p = &copy };
        int r;

        policy_init_empty(&copy);
        r = policy_copy(p, &copy);
        if (r < 0)
                return r;
        r = ini_parse_stream(read_line, &st, handle_key, &st);
        if (r < 0) /* -2: inih's allocation failed (heap builds only) */
                load_error_at(&st, 0, -ENOMEM, "%s", strerror(ENOMEM));
        else if (r > 0 && (st.error_line == 0 || (unsigned)r < st.error_line))
                syntax_error(&st, text, r);
        if (!st.error) {
                apply_caps(&st);
                check_policy(&st);
        }
        free(st.cap_edits);
        if (st.error) {
                report(&st, name, ret_error);
                free(st.error_text);
                return st.error;
        }
        policy_done(p);
        *p = copy;
        policy_init_empty(&copy);
        return 0;
}

/* The whole file, NUL-terminated; -EFBIG past POLICY_FILE_MAX, -EBADMSG
 * when it holds a NUL byte (not a text file). */
static int read_policy_file(const char *path, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *data = NULL;
        size_t len = 0;

        if (fd < 0)
                return -errno;
        data = malloc(POLICY_FILE_MAX + 1);
        if (!data)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, data + len, POLICY_FILE_MAX + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += n;
                if (len > POLICY_FILE_MAX)
                        return -EFBIG;
        }
        if (memchr(data, 0, len))
                return -EBADMSG;
        data[len] = 0;
        *ret = TAKE_PTR(data);
        return 0;
}

int policy_load_file(struct policy *p, const char *path, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_policy_file(path, &text);
        if (r < 0) {
                if (ret_error && asprintf(ret_error, "%s: %s", path,
                                          r == -EFBIG ? "larger than 1 MiB, not a policy file" :
                                          r == -EBADMSG ? "holds a NUL byte, not a policy file" :
                                          strerror(-r)) < 0)
                        *ret_error = NULL;
                return r;
        }
        return policy_load_string(p, path, text, ret_error);
}

/* ---- --policy NAME ---- */

static int try_policy_dir(const char *dir, size_t dir_len, const char *name, char **ret_path) {
        struct stat stbuf;
        char *path;

        if (dir_len == 0)
                return 0;
        if (asprintf(&path, "%.*s/%s.conf", (int)dir_len, dir, name) < 0)
                return -ENOMEM;
        if (stat(path, &stbuf) < 0 || !S_ISREG(stbuf.st_mode)) {
                free(path);
                return 0;
        }
        *ret_path = path;
        return 1;
}

static const char *const policy_dirs[] = {
        "/etc/curate/policies",
        CURATE_POLICY_DIR,
        CURATE_SOURCE_POLICY_DIR, /* last: an uninstalled build finds its own */
};

int policy_find(const char *name, char **ret_path) {
        const char *env = secure_getenv("CURATE_POLICY_PATH");
        char *path;
        int r;

        if (!name || !*name)
                return -EINVAL;
        if (strchr(name, '/') || (strlen(name) >= 5 && streq(name + strlen(name) - 5, ".conf"))) {
                path = strdup(name);
                if (!path)
                        return -ENOMEM;
                *ret_path = path;
                return 0;
        }
        for (const char *p = env ? env : ""; *p; p += strcspn(p, ":"), p += *p == ':') {
                r = try_policy_dir(p, strcspn(p, ":"), name, ret_path);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(policy_dirs); i++) {
                r = try_policy_dir(policy_dirs[i], strlen(policy_dirs[i]), name, ret_path);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
        return -ENOENT;
}
