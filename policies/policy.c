#include "config.h"
/* The policy model: life cycle, comparison, value parsers and the list
 * edits shared by policy files and the command line. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include "fileio.h"
#include "macro.h"
#include "cgroup.h"
#include "policy.h"

#define DIGITS "0123456789"
#define LIST_SEPARATORS " \t,"

void policy_init_empty(struct policy *ret) {
        *ret = (struct policy){
                .memory = POLICY_UNSET,
                .memory_swap = POLICY_UNSET,
                .cpus_milli = POLICY_UNSET,
                .pids = POLICY_UNSET,
                .propagation = POLICY_PROPAGATION_PRIVATE,
                .uid = POLICY_ID_UNSET,
                .gid = POLICY_ID_UNSET,
        };
}

static void strv_free(char **l, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(l[i]);
        free(l);
}

static void mounts_free(struct policy_mount *m, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(m[i].src);
                free(m[i].dst);
        }
        free(m);
}

void policy_done(struct policy *p) {
        free(p->cpuset);
        free(p->cgroup);
        free(p->rootfs);
        free(p->hostname);
        strv_free(p->masks, p->n_masks);
        strv_free(p->read_only, p->n_read_only);
        mounts_free(p->mounts, p->n_mounts);
        strv_free(p->devices, p->n_devices);
        free(p->gpu);
        free(p->workdir);
        strv_free(p->env, p->n_env);
        for (size_t i = 0; i < _POLICY_AT_MAX; i++)
                free(p->origin[i]);
        policy_init_empty(p); /* a second policy_done() is harmless */
}

static int strdup_or_null(const char *s, char **ret) {
        char *c = NULL;

        if (s) {
                c = strdup(s);
                if (!c)
                        return -ENOMEM;
        }
        *ret = c;
        return 0;
}

static int strv_copy(char *const *l, size_t n, char ***ret) {
        char **c = NULL;

        if (n > 0) {
                c = calloc(n, sizeof(char *));
                if (!c)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++)
                        if (!(c[i] = strdup(l[i]))) {
                                strv_free(c, n);
                                return -ENOMEM;
                        }
        }
        *ret = c;
        return 0;
}

static int mounts_copy(const struct policy_mount *m, size_t n, struct policy_mount **ret) {
        struct policy_mount *c = NULL;

        if (n > 0) {
                c = calloc(n, sizeof(*c));
                if (!c)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        c[i].kind = m[i].kind;
                        if (strdup_or_null(m[i].src, &c[i].src) < 0 || !(c[i].dst = strdup(m[i].dst))) {
                                mounts_free(c, n);
                                return -ENOMEM;
                        }
                }
        }
        *ret = c;
        return 0;
}

int policy_copy(const struct policy *p, struct policy *ret) {
        struct policy c = *p;

        /* own nothing yet, so that policy_done(&c) on failure frees only copies */
        c.cpuset = c.cgroup = c.rootfs = c.hostname = NULL;
        c.masks = c.read_only = NULL;
        c.mounts = NULL;
        c.n_masks = c.n_read_only = c.n_mounts = 0;
        c.devices = NULL;
        c.n_devices = 0;
        c.gpu = NULL;
        c.workdir = NULL;
        c.env = NULL;
        c.n_env = 0;
        for (size_t i = 0; i < _POLICY_AT_MAX; i++)
                c.origin[i] = NULL;
        if (strdup_or_null(p->cpuset, &c.cpuset) < 0 ||
            strdup_or_null(p->cgroup, &c.cgroup) < 0 ||
            strdup_or_null(p->rootfs, &c.rootfs) < 0 ||
            strdup_or_null(p->hostname, &c.hostname) < 0 ||
            strv_copy(p->masks, p->n_masks, &c.masks) < 0)
                goto fail;
        c.n_masks = p->n_masks;
        if (strv_copy(p->read_only, p->n_read_only, &c.read_only) < 0)
                goto fail;
        c.n_read_only = p->n_read_only;
        if (mounts_copy(p->mounts, p->n_mounts, &c.mounts) < 0)
                goto fail;
        c.n_mounts = p->n_mounts;
        if (strv_copy(p->devices, p->n_devices, &c.devices) < 0)
                goto fail;
        c.n_devices = p->n_devices;
        if (strdup_or_null(p->gpu, &c.gpu) < 0 || strdup_or_null(p->workdir, &c.workdir) < 0 ||
            strv_copy(p->env, p->n_env, &c.env) < 0)
                goto fail;
        c.n_env = p->n_env;
        for (size_t i = 0; i < _POLICY_AT_MAX; i++)
                if (strdup_or_null(p->origin[i], &c.origin[i]) < 0)
                        goto fail;
        *ret = c;
        return 0;
fail:
        policy_done(&c);
        return -ENOMEM;
}

static bool streq_ptr(const char *a, const char *b) {
        return a == b || (a && b && streq(a, b));
}

static bool strv_contains(char *const *l, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

/* Masks and read-only paths are sets (kept free of duplicates): their order
 * does not change the container. Mounts stack, so their order counts. */
static bool strv_same_set(char *const *a, size_t na, char *const *b, size_t nb) {
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (!strv_contains(b, nb, a[i]))
                        return false;
        return true;
}

static bool mount_equal(const struct policy_mount *a, const struct policy_mount *b) {
        return a->kind == b->kind && streq_ptr(a->src, b->src) && streq_ptr(a->dst, b->dst);
}

bool policy_equal(const struct policy *a, const struct policy *b) {
        if (a->memory != b->memory || a->memory_swap != b->memory_swap ||
            a->cpus_milli != b->cpus_milli || a->pids != b->pids ||
            !streq_ptr(a->cpuset, b->cpuset) || !streq_ptr(a->cgroup, b->cgroup) ||
            a->pid_ns != b->pid_ns || a->user_ns != b->user_ns ||
            a->propagation != b->propagation || !streq_ptr(a->rootfs, b->rootfs) ||
            a->views != b->views || a->curated_dev != b->curated_dev ||
            a->private_tmp != b->private_tmp || a->caps != b->caps ||
            a->delegate != b->delegate || a->ipc_ns != b->ipc_ns || a->uts_ns != b->uts_ns ||
            a->cgroup_ns != b->cgroup_ns || a->net != b->net || !streq_ptr(a->hostname, b->hostname) ||
            a->read_only_root != b->read_only_root || a->seccomp != b->seccomp ||
            a->allow_userns != b->allow_userns || !streq_ptr(a->workdir, b->workdir) ||
            a->clear_env != b->clear_env || a->uid != b->uid || a->gid != b->gid || a->n_env != b->n_env ||
            a->sysinfo != b->sysinfo)
                return false;
        for (size_t i = 0; i < a->n_env; i++) /* in order: a later edit wins */
                if (!streq(a->env[i], b->env[i]))
                        return false;
        if (!strv_same_set(a->masks, a->n_masks, b->masks, b->n_masks) ||
            !strv_same_set(a->read_only, a->n_read_only, b->read_only, b->n_read_only) ||
            !strv_same_set(a->devices, a->n_devices, b->devices, b->n_devices) ||
            !streq_ptr(a->gpu, b->gpu) || a->n_mounts != b->n_mounts)
                return false;
        for (size_t i = 0; i < a->n_mounts; i++)
                if (!mount_equal(&a->mounts[i], &b->mounts[i]))
                        return false;
        return true;
}

/* ---- value parsers ---- */

/* Decimal digits at S (at least one) to *ret; *ret_end after them. Signs,
 * blanks and overflow are refused: strtoull() would take "-1" and " 1". */
static int parse_digits(const char *s, const char **ret_end, uint64_t *ret) {
        size_t n = strspn(s, DIGITS);
        uint64_t v = 0;

        if (n == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                unsigned d = s[i] - '0';
                if (v > (UINT64_MAX - d) / 10)
                        return -EINVAL;
                v = v * 10 + d;
        }
        *ret_end = s + n;
        *ret = v;
        return 0;
}

static const struct {
        char suffix;
        unsigned shift;
} size_suffixes[] = {
        { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 },
};

static int size_shift(const char *s, unsigned *ret) {
        if (!*s) {
                *ret = 0;
                return 0;
        }
        if (s[1])
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(size_suffixes); i++)
                if (size_suffixes[i].suffix == s[0] || size_suffixes[i].suffix == s[0] - 'a' + 'A') {
                        *ret = size_suffixes[i].shift;
                        return 0;
                }
        return -EINVAL;
}

int policy_parse_size(const char *s, uint64_t *ret) {
        const char *end;
        unsigned shift;
        uint64_t v;

        if (streq(s, "max")) {
                *ret = POLICY_MAX;
                return 0;
        }
        if (parse_digits(s, &end, &v) < 0 || size_shift(end, &shift) < 0)
                return -EINVAL;
        if (v > (UINT64_MAX >> shift))
                return -EINVAL;
        v <<= shift;
        if (v >= POLICY_MAX) /* would read as "max" or "unset" */
                return -EINVAL;
        *ret = v;
        return 0;
}

int policy_parse_count(const char *s, uint64_t *ret) {
        const char *end;
        uint64_t v;

        if (streq(s, "max")) {
                *ret = POLICY_MAX;
                return 0;
        }
        if (parse_digits(s, &end, &v) < 0 || *end || v >= POLICY_MAX)
                return -EINVAL;
        *ret = v;
        return 0;
}

int policy_parse_cpus(const char *s, uint64_t *ret_milli) {
        uint64_t whole, frac = 0, milli;
        const char *end;

        if (parse_digits(s, &end, &whole) < 0)
                return -EINVAL;
        if (*end == '.') {
                size_t n = strspn(end + 1, DIGITS);
                if (n < 1 || n > 3)
                        return -EINVAL;
                for (size_t i = 0; i < 3; i++)
                        frac = frac * 10 + (i < n ? (unsigned)(end[1 + i] - '0') : 0);
                end += 1 + n;
        }
        if (*end || whole > (POLICY_MAX - 1 - 999) / 1000)
                return -EINVAL;
        milli = whole * 1000 + frac;
        if (milli == 0)
                return -EINVAL;
        if (milli < POLICY_CPUS_MILLI_MIN)
                return -ERANGE; /* the kernel's smallest quota */
        *ret_milli = milli;
        return 0;
}

static int cpu_set_format(const struct cpu_set_bits *set, char **ret) {
        _cleanup_buf_ struct buf b = { 0 };

        for (unsigned i = 0; i < CPU_LIST_MAX; i++) {
                if (!cpu_bit(set, i))
                        continue;
                unsigned j = i;
                while (cpu_bit(set, j + 1))
                        j++;
                if (j > i)
                        buf_printf(&b, "%s%u-%u", b.len ? "," : "", i, j);
                else
                        buf_printf(&b, "%s%u", b.len ? "," : "", i);
                i = j;
        }
        if (b.err)
                return b.err;
        if (!b.data)
                return -EINVAL;
        *ret = TAKE_PTR(b.data);
        return 0;
}

int policy_parse_cpuset(const char *s, char **ret) {
        struct cpu_set_bits set;
        size_t n = strlen(s);

        /* parse_cpu_list() reads cgroup files and so takes "" and blanks;
         * a policy value must be a plain list. */
        if (n == 0 || strspn(s, DIGITS ",-") != n || !strchr(DIGITS, s[0]) || !strchr(DIGITS, s[n - 1]))
                return -EINVAL;
        if (parse_cpu_list(s, &set) < 0)
                return -EINVAL;
        return cpu_set_format(&set, ret);
}

/* The next word of *s between separators SEP; NULL after the last. */
static const char *word_next(const char **s, const char *sep, size_t *ret_len) {
        const char *p = *s + strspn(*s, sep);
        size_t n = strcspn(p, sep);

        if (n == 0)
                return NULL;
        *s = p + n;
        *ret_len = n;
        return p;
}

static bool word_is(const char *w, size_t n, const char *s) {
        return strlen(s) == n && strncmp(w, s, n) == 0;
}

static int view_from_word(const char *w, size_t n, unsigned *ret) {
        if (word_is(w, n, "all")) {
                *ret = POLICY_VIEWS_ALL;
                return 0;
        }
        if (word_is(w, n, "none")) {
                *ret = 0;
                return 0;
        }
        for (unsigned v = 0; v < _POLICY_VIEW_MAX; v++)
                if (word_is(w, n, policy_views[v].name)) {
                        *ret = 1u << v;
                        return 0;
                }
        return -EINVAL;
}

int policy_parse_views(const char *s, unsigned *ret) {
        unsigned views = 0, v;
        const char *w;
        size_t n;

        while ((w = word_next(&s, LIST_SEPARATORS, &n)))
                if (view_from_word(w, n, &v) < 0)
                        return -EINVAL;
                else
                        views |= v;
        *ret = views;
        return 0;
}

uint64_t policy_caps_all(void) {
        return CAP_LAST_CAP >= 63 ? UINT64_MAX : (1ULL << (CAP_LAST_CAP + 1)) - 1;
}

int policy_parse_capability(const char *s, int *ret_cap) {
        char name[64] = "cap_";
        cap_value_t v;
        size_t n;

        if (strncasecmp(s, "cap_", 4) == 0)
                s += 4;
        n = strlen(s);
        /* cap_from_name() also takes numbers, and stops at the first
         * character that cannot be in a name ("cap_chown,x" is CAP_CHOWN) */
        if (n == 0 || n + 5 > sizeof(name) || strspn(s, DIGITS) == n ||
            strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_" DIGITS) != n)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                name[4 + i] = s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i];
        if (cap_from_name(name, &v) < 0 || v < 0 || v > CAP_LAST_CAP || v > 63)
                return -EINVAL;
        char *canon = cap_to_name(v);
        bool same = canon && streq(canon, name);
        cap_free(canon);
        if (!same)
                return -EINVAL;
        *ret_cap = v;
        return 0;
}

int policy_parse_capabilities(const char *s, uint64_t *ret) {
        uint64_t caps = 0;
        char word[64];
        const char *w;
        size_t n;
        int cap;

        while ((w = word_next(&s, LIST_SEPARATORS, &n))) {
                if (n >= sizeof(word))
                        return -EINVAL;
                memcpy(word, w, n);
                word[n] = 0;
                if (strcasecmp(word, "ALL") == 0)
                        caps |= policy_caps_all();
                else if (policy_parse_capability(word, &cap) < 0)
                        return -EINVAL;
                else
                        caps |= 1ULL << cap;
        }
        *ret = caps;
        return 0;
}

static const struct {
        const char *word;
        bool value;
} bool_words[] = {
        { "yes", true }, { "no", false }, { "true", true }, { "false", false },
        { "on", true },  { "off", false }, { "1", true },   { "0", false },
};

int policy_parse_bool(const char *s, bool *ret) {
        for (size_t i = 0; i < ELEMENTSOF(bool_words); i++)
                if (strcasecmp(s, bool_words[i].word) == 0) {
                        *ret = bool_words[i].value;
                        return 0;
                }
        return -EINVAL;
}

static const char *const propagation_names[] = {
        [POLICY_PROPAGATION_PRIVATE] = "private",
        [POLICY_PROPAGATION_SLAVE] = "slave",
};

/* The index of S in NAMES (an enum's spellings), or -EINVAL. */
static int name_index(const char *s, const char *const *names, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (streq(s, names[i]))
                        return (int)i;
        return -EINVAL;
}

int policy_parse_propagation(const char *s, enum policy_propagation *ret) {
        int i = name_index(s, propagation_names, ELEMENTSOF(propagation_names));
        if (i < 0)
                return i;
        *ret = i;
        return 0;
}

static const char *const net_names[] = {
        [POLICY_NET_HOST] = "host",
        [POLICY_NET_NONE] = "none",
};

int policy_parse_net(const char *s, enum policy_net *ret) {
        int i = name_index(s, net_names, ELEMENTSOF(net_names));
        if (i < 0)
                return i;
        *ret = i;
        return 0;
}

static const char *const seccomp_names[] = {
        [POLICY_SECCOMP_DEFAULT] = "default",
        [POLICY_SECCOMP_UNCONFINED] = "unconfined",
};

int policy_parse_seccomp(const char *s, enum policy_seccomp *ret) {
        int i = name_index(s, seccomp_names, ELEMENTSOF(seccomp_names));
        if (i < 0)
                return i;
        *ret = i;
        return 0;
}

bool policy_hostname_valid(const char *s) {
        size_t n = strlen(s);

        /* HOST_NAME_MAX is 64 on Linux (sethostname(2)) */
        if (n == 0 || n > 64 || s[0] == '-' || s[0] == '.')
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == n;
}

int policy_parse_share(struct policy *p, const char *s) {
        struct policy q = *p;
        _cleanup_free_ char *copy = strdup(s);
        char *save = NULL;
        bool any = false;

        if (!copy)
                return -ENOMEM;
        for (char *w = strtok_r(copy, LIST_SEPARATORS, &save); w; w = strtok_r(NULL, LIST_SEPARATORS, &save)) {
                any = true;
                if (streq(w, "pid"))
                        q.pid_ns = false;
                else if (streq(w, "ipc"))
                        q.ipc_ns = false;
                else if (streq(w, "uts"))
                        q.uts_ns = false;
                else if (streq(w, "cgroup"))
                        q.cgroup_ns = false;
                else if (streq(w, "none"))
                        q.pid_ns = q.ipc_ns = q.uts_ns = q.cgroup_ns = true;
                else
                        return -EINVAL;
        }
        if (!any)
                return -EINVAL;
        *p = q;
        return 0;
}

int policy_parse_path(const char *s, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t len = 0, n;

        if (s[0] != '/' || strlen(s) >= PATH_MAX)
                return -EINVAL;
        out = malloc(strlen(s) + 1);
        if (!out)
                return -ENOMEM;
        for (s += strspn(s, "/"); (n = strcspn(s, "/")) > 0; s += n, s += strspn(s, "/")) {
                if (n == 1 && s[0] == '.')
                        continue;
                /* ".." would make the path mean something else once the
                 * launcher resolves it inside the container's root */
                if (n == 2 && s[0] == '.' && s[1] == '.')
                        return -EINVAL;
                out[len++] = '/';
                memcpy(out + len, s, n);
                len += n;
        }
        if (len == 0)
                out[len++] = '/';
        out[len] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

/* ---- list edits ---- */

static int strv_add_path(char ***l, size_t *n, const char *path) {
        _cleanup_free_ char *norm = NULL;
        char **nl;
        int r;

        r = policy_parse_path(path, &norm);
        if (r < 0)
                return r;
        if (strv_contains(*l, *n, norm))
                return 0;
        nl = reallocarray(*l, *n + 1, sizeof(char *));
        if (!nl)
                return -ENOMEM;
        *l = nl;
        nl[(*n)++] = TAKE_PTR(norm);
        return 0;
}

int policy_add_mask(struct policy *p, const char *path) {
        return strv_add_path(&p->masks, &p->n_masks, path);
}

int policy_add_read_only(struct policy *p, const char *path) {
        return strv_add_path(&p->read_only, &p->n_read_only, path);
}

int policy_add_mount(struct policy *p, enum policy_mount_kind kind, const char *src, const char *dst) {
        _cleanup_free_ char *s = NULL, *d = NULL;
        struct policy_mount *m;

        if (kind != POLICY_BIND && kind != POLICY_RO_BIND && kind != POLICY_TMPFS)
                return -EINVAL;
        if ((kind == POLICY_TMPFS) != !src || !dst)
                return -EINVAL;
        if ((src && policy_parse_path(src, &s) < 0) || policy_parse_path(dst, &d) < 0)
                return -EINVAL;
        struct policy_mount new = { .kind = kind, .src = s, .dst = d };
        for (size_t i = 0; i < p->n_mounts; i++)
                if (mount_equal(&p->mounts[i], &new))
                        return 0;
        m = reallocarray(p->mounts, p->n_mounts + 1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        p->mounts = m;
        m[p->n_mounts++] = (struct policy_mount){ .kind = kind, .src = TAKE_PTR(s), .dst = TAKE_PTR(d) };
        return 0;
}

void policy_clear_masks(struct policy *p) {
        strv_free(p->masks, p->n_masks);
        p->masks = NULL;
        p->n_masks = 0;
}

void policy_clear_read_only(struct policy *p) {
        strv_free(p->read_only, p->n_read_only);
        p->read_only = NULL;
        p->n_read_only = 0;
}

void policy_clear_mounts(struct policy *p, enum policy_mount_kind kind) {
        size_t kept = 0;

        for (size_t i = 0; i < p->n_mounts; i++) {
                if (p->mounts[i].kind == kind) {
                        free(p->mounts[i].src);
                        free(p->mounts[i].dst);
                } else
                        p->mounts[kept++] = p->mounts[i];
        }
        p->n_mounts = kept;
        if (kept == 0) {
                free(p->mounts);
                p->mounts = NULL;
        }
}

/* ---- checks across fields ---- */

static bool has_limits(const struct policy *p) {
        return p->memory != POLICY_UNSET || p->memory_swap != POLICY_UNSET ||
               p->cpus_milli != POLICY_UNSET || p->cpuset || p->pids != POLICY_UNSET;
}

int policy_check(const struct policy *p, const char **ret_reason) {
        const char *reason = NULL;

        /* POLICY_MAX is above every size, so "max" compares as infinite */
        if (p->memory != POLICY_UNSET && p->memory_swap != POLICY_UNSET && p->memory_swap < p->memory)
                reason = "MemorySwap (memory + swap) must not be below Memory";
        else if (p->cgroup && has_limits(p))
                reason = "Cgroup (join an existing cgroup) cannot be combined with Memory, MemorySwap, "
                         "CPUs, CPUSet or Pids: the joined cgroup's own limits apply";
        if (!reason)
                return 0;
        if (ret_reason)
                *ret_reason = reason;
        return -EINVAL;
}

/* A ".." component in S up to END (NULL: the whole string). */
static bool path_has_dotdot_before(const char *s, const char *end) {
        _cleanup_free_ char *path = strndup(s, end ? (size_t)(end - s) : strlen(s));
        return !path || cg_path_has_dotdot(path);
}

#define DEVICE_SHAPE "is not a device node under /dev (PATH[:rwm]) or a CDI name (vendor/class=name)"

/* NULL, or why S is no device spec (text to follow S in a message) */
static const char *device_spec_problem(const char *s) {
        const char *colon;

        if (s[0] != '/')
                /* CDI: the launcher checks the name itself with cdi_resolve() */
                return strchr(s, '/') && strchr(s, '=') && !strpbrk(s, " \t:") ? NULL : DEVICE_SHAPE;
        if (strncmp(s, "/dev/", 5) != 0 || s[5] == '\0' || s[5] == ':' || strpbrk(s, " \t"))
                return DEVICE_SHAPE;
        colon = strchr(s, ':');
        if (path_has_dotdot_before(s, colon))
                return "must not contain '..'";
        if (colon && (!colon[1] || strspn(colon + 1, "rwm") != strlen(colon + 1)))
                return "has a bad access mode: valid is a non-empty subset of rwm (read, write, mknod)";
        return NULL;
}

/* The access of a node spec as a bit set (r 1, w 2, m 4); no ":ACCESS"
 * is rwm, as device_list_add() reads it */
static unsigned device_access(const char *colon) {
        unsigned a = 0;

        if (!colon)
                return 7;
        for (const char *c = colon + 1; *c; c++)
                a |= *c == 'r' ? 1 : *c == 'w' ? 2 : 4;
        return a;
}

/* The index of a node spec of the same path as SPEC, or -1 */
static ssize_t device_same_node(const struct policy *p, const char *spec) {
        size_t len = strcspn(spec, ":");

        if (spec[0] != '/')
                return -1;
        for (size_t i = 0; i < p->n_devices; i++)
                if (strcspn(p->devices[i], ":") == len && strncmp(p->devices[i], spec, len) == 0)
                        return (ssize_t)i;
        return -1;
}

const char *policy_device_problem(const struct policy *p, const char *spec) {
        const char *why = device_spec_problem(spec);
        ssize_t i;

        if (why)
                return why;
        i = device_same_node(p, spec);
        if (i >= 0 && device_access(strchr(p->devices[i], ':')) != device_access(strchr(spec, ':')))
                return "is given already with another access: give each node once, with all the access it needs";
        return NULL;
}

/* The same node twice with the same access is kept once (a policy and the
 * command line may both name it); with another access it is refused
 * rather than merged: which of the two was meant cannot be told. */
int policy_add_device(struct policy *p, const char *spec) {
        char **nl, *c;
        ssize_t i;

        if (device_spec_problem(spec))
                return -EINVAL;
        i = device_same_node(p, spec);
        if (i >= 0)
                return device_access(strchr(p->devices[i], ':')) == device_access(strchr(spec, ':')) ? 0 : -EEXIST;
        for (size_t k = 0; k < p->n_devices; k++)
                if (streq(p->devices[k], spec))
                        return 0;
        c = strdup(spec);
        if (!c)
                return -ENOMEM;
        nl = reallocarray(p->devices, p->n_devices + 1, sizeof(char *));
        if (!nl) {
                free(c);
                return -ENOMEM;
        }
        p->devices = nl;
        p->devices[p->n_devices++] = c;
        return 0;
}

void policy_clear_devices(struct policy *p) {
        strv_free(p->devices, p->n_devices);
        p->devices = NULL;
        p->n_devices = 0;
}

/* ---- [Process] (issue 10) ---- */

static int strv_append(char ***l, size_t *n, const char *s) {
        char **nl, *c = strdup(s);

        if (!c)
                return -ENOMEM;
        nl = reallocarray(*l, *n + 1, sizeof(char *));
        if (!nl) {
                free(c);
                return -ENOMEM;
        }
        *l = nl;
        nl[(*n)++] = c;
        return 0;
}

static bool env_name_valid(const char *s, size_t n) {
        return n > 0 && memchr(s, '=', n) == NULL && memchr(s, '\0', n) == NULL;
}

int policy_add_env(struct policy *p, const char *assignment) {
        const char *eq = strchr(assignment, '=');

        if (!eq || !env_name_valid(assignment, eq - assignment))
                return -EINVAL;
        return strv_append(&p->env, &p->n_env, assignment);
}

int policy_add_unsetenv(struct policy *p, const char *key) {
        if (!env_name_valid(key, strlen(key)))
                return -EINVAL;
        return strv_append(&p->env, &p->n_env, key);
}

void policy_clear_env(struct policy *p) {
        strv_free(p->env, p->n_env);
        p->env = NULL;
        p->n_env = 0;
}

int policy_parse_id(const char *s, uint32_t *ret) {
        const char *end;
        uint64_t v;

        /* (uid_t)-1 means "unchanged" to setresuid(2): not an id */
        if (parse_digits(s, &end, &v) < 0 || *end || v >= POLICY_ID_UNSET)
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

int policy_set_origin(struct policy *p, enum policy_origin f, const char *where) {
        char *c = NULL;

        if (where && !(c = strdup(where)))
                return -ENOMEM;
        free(p->origin[f]);
        p->origin[f] = c;
        return 0;
}
