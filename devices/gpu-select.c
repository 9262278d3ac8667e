#include "config.h"
#include <ctype.h>
#include <stdint.h>
#include <strings.h>
#include "fileio.h"
#include "gpu-select.h"
#include "macro.h"

#define SPEC_FORMS "all, none, void, an index, GPU-<uuid>, MIG-<uuid> or GPU:MIG indices"

static const struct {
        const char *word;
        enum gpu_select_mode mode;
} keywords[] = {
        { "all", GPU_SELECT_ALL },
        { "none", GPU_SELECT_NONE },
        { "void", GPU_SELECT_VOID },
};

void gpu_selection_done(struct gpu_selection *sel) {
        for (size_t i = 0; i < sel->n_tokens; i++)
                free(sel->tokens[i].uuid);
        free(sel->tokens);
        *sel = (struct gpu_selection){ .tokens = NULL };
}

static void gpu_selection_donep(struct gpu_selection *sel) { gpu_selection_done(sel); }

void gpu_select_strv_free(char **v) {
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

static bool all_digits(const char *s, size_t n) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isdigit((unsigned char)s[i]))
                        return false;
        return true;
}

static bool parse_index(const char *s, size_t n, unsigned *ret) {
        char tmp[16];
        uint64_t v;
        if (!all_digits(s, n) || n >= sizeof(tmp))
                return false;
        memcpy(tmp, s, n);
        tmp[n] = 0;
        if (parse_u64(tmp, &v) < 0 || v > UINT32_MAX)
                return false;
        *ret = (unsigned)v;
        return true;
}

/* After PREFIX ("GPU-", "MIG-"): at least one of [0-9A-Za-z-/]; the '/' is
 * for the legacy MIG-GPU-<uuid>/<gi>/<ci>. */
static bool is_uuid(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        if (strncasecmp(s, prefix, n) != 0 || !s[n])
                return false;
        for (const char *p = s + n; *p; p++)
                if (!isalnum((unsigned char)*p) && *p != '-' && (*p != '/' || prefix[0] != 'M'))
                        return false;
        return true;
}

/* One entry, already trimmed and NUL-terminated. 0 or -EINVAL/-ENOMEM. */
static int parse_token(const char *s, struct gpu_token *ret) {
        const char *colon = strchr(s, ':');
        struct gpu_token t = { .uuid = NULL };

        if (parse_index(s, strlen(s), &t.index))
                t.kind = GPU_TOKEN_INDEX;
        else if (colon && parse_index(s, colon - s, &t.index) &&
                 parse_index(colon + 1, strlen(colon + 1), &t.mig_index))
                t.kind = GPU_TOKEN_MIG_INDEX;
        else if (is_uuid(s, "GPU-") || is_uuid(s, "MIG-")) {
                t.kind = toupper((unsigned char)s[0]) == 'G' ? GPU_TOKEN_UUID : GPU_TOKEN_MIG_UUID;
                t.uuid = strdup(s);
                if (!t.uuid)
                        return -ENOMEM;
        } else
                return -EINVAL;
        *ret = t;
        return 0;
}

static bool token_eq(const struct gpu_token *a, const struct gpu_token *b) {
        if (a->kind != b->kind)
                return false;
        switch (a->kind) {
        case GPU_TOKEN_INDEX:
                return a->index == b->index;
        case GPU_TOKEN_MIG_INDEX:
                return a->index == b->index && a->mig_index == b->mig_index;
        default:
                return strcasecmp(a->uuid, b->uuid) == 0;
        }
}

/* A keyword alone: 1 and *RET_MODE; 0 when S is no keyword. */
static int keyword_mode(const char *s, enum gpu_select_mode *ret_mode) {
        for (size_t i = 0; i < ELEMENTSOF(keywords); i++)
                if (strcasecmp(s, keywords[i].word) == 0) {
                        *ret_mode = keywords[i].mode;
                        return 1;
                }
        return 0;
}

static int add_token(struct gpu_selection *sel, char *entry, const char *spec, char **ret_error) {
        struct gpu_token t, *tokens;
        enum gpu_select_mode mode;
        int r;

        if (!*entry)
                return error_printf(ret_error, -EINVAL, "GPU selection \"%s\": empty entry", spec);
        if (keyword_mode(entry, &mode))
                return error_printf(ret_error, -EINVAL,
                                    "GPU selection \"%s\": \"%s\" cannot be combined with other entries", spec, entry);
        r = parse_token(entry, &t);
        if (r == -EINVAL)
                return error_printf(ret_error, r, "GPU selection \"%s\": bad entry \"%s\" (expected %s)",
                                    spec, entry, SPEC_FORMS);
        if (r < 0)
                return r;
        for (size_t i = 0; i < sel->n_tokens; i++)
                if (token_eq(&sel->tokens[i], &t)) {
                        free(t.uuid);
                        return error_printf(ret_error, -EINVAL, "GPU selection \"%s\": \"%s\" is listed twice",
                                            spec, entry);
                }
        tokens = realloc(sel->tokens, (sel->n_tokens + 1) * sizeof(*tokens));
        if (!tokens) {
                free(t.uuid);
                return -ENOMEM;
        }
        sel->tokens = tokens;
        sel->tokens[sel->n_tokens++] = t;
        return 0;
}

int gpu_select_parse(const char *spec, struct gpu_selection *ret, char **ret_error) {
        _cleanup_(gpu_selection_donep) struct gpu_selection sel = { .mode = GPU_SELECT_LIST };
        _cleanup_free_ char *copy = strdup(spec);
        char *rest, *entry;
        int r;

        if (!copy)
                return -ENOMEM;
        if (!*strtrim(copy))
                return error_printf(ret_error, -EINVAL,
                                    "empty GPU selection (expected %s; \"void\" gives no GPU access at all)", SPEC_FORMS);
        if (keyword_mode(strtrim(copy), &sel.mode)) {
                *ret = sel;
                sel = (struct gpu_selection){ .tokens = NULL };
                return 0;
        }
        rest = copy;
        while ((entry = strsep(&rest, ",")))
                if ((r = add_token(&sel, strtrim(entry), spec, ret_error)) < 0)
                        return r;
        *ret = sel;
        sel = (struct gpu_selection){ .tokens = NULL };
        return 0;
}

struct resolver {
        const struct nvidia_host *host;
        struct device_list list;
        bool *selected; /* per GPU index */
        char **ret_error;
};

static int add_node(struct resolver *rs, const char *path, unsigned major, unsigned minor) {
        return device_list_add_char(&rs->list, path, major, minor, 0);
}

static int add_gpu(struct resolver *rs, size_t idx) {
        char path[64];
        int r;

        if (rs->selected[idx])
                return 0;
        snprintf(path, sizeof(path), "/dev/nvidia%u", rs->host->gpus[idx].minor);
        r = add_node(rs, path, rs->host->major, rs->host->gpus[idx].minor);
        if (r < 0)
                return r;
        rs->selected[idx] = true;
        return 0;
}

static int add_cap(struct resolver *rs, unsigned minor) {
        char path[64];
        snprintf(path, sizeof(path), "/dev/nvidia-caps/nvidia-cap%u", minor);
        return add_node(rs, path, rs->host->caps_major, minor);
}

/* MIG device M of GPU IDX: the parent's node and both access caps, as
 * libnvidia-container mounts gi_caps_path and ci_caps_path. */
static int add_mig(struct resolver *rs, size_t idx, const struct nvidia_mig *m) {
        int r;

        if (!rs->host->has_caps)
                return error_printf(rs->ret_error, -ENODEV,
                                    "MIG device gi %u ci %u of GPU %zu needs the nvidia-caps driver, but proc/devices has no \"nvidia-caps\"",
                                    m->gi, m->ci, idx);
        r = add_gpu(rs, idx);
        if (r >= 0)
                r = add_cap(rs, m->gi_cap_minor);
        if (r >= 0)
                r = add_cap(rs, m->ci_cap_minor);
        return r;
}

/* "0 (GPU-..., 0000:1a:00.0), 1 (...)": what the host has, for errors. */
static char *gpu_listing(const struct nvidia_host *h) {
        _cleanup_buf_ struct buf b = { 0 };
        for (size_t i = 0; i < h->n_gpus; i++)
                buf_printf(&b, "%s%zu (%s, %s)", i ? ", " : "", i, h->gpus[i].uuid, h->gpus[i].bus_id);
        if (h->n_gpus == 0)
                buf_printf(&b, "no NVIDIA GPU");
        return b.err ? NULL : TAKE_PTR(b.data);
}

static char *mig_listing(const struct nvidia_host *h) {
        _cleanup_buf_ struct buf b = { 0 };
        for (size_t i = 0; i < h->n_gpus; i++)
                for (size_t j = 0; j < h->gpus[i].n_migs; j++)
                        buf_printf(&b, "%s%zu:%zu (gi %u ci %u)", b.len ? ", " : "", i, j,
                                   h->gpus[i].migs[j].gi, h->gpus[i].migs[j].ci);
        if (b.len == 0)
                buf_printf(&b, "no MIG device");
        return b.err ? NULL : TAKE_PTR(b.data);
}

static int unknown_gpu(struct resolver *rs, const char *what) {
        _cleanup_free_ char *has = gpu_listing(rs->host);
        return error_printf(rs->ret_error, -ENOENT, "unknown GPU %s; the host has %s", what, has ? has : "?");
}

static int unknown_mig(struct resolver *rs, const char *what, const char *hint) {
        _cleanup_free_ char *has = mig_listing(rs->host);
        return error_printf(rs->ret_error, -ENOENT, "unknown MIG device %s%s; the host has %s",
                            what, hint, has ? has : "?");
}

static int find_gpu_uuid(const struct nvidia_host *h, const char *uuid, size_t len) {
        for (size_t i = 0; i < h->n_gpus; i++)
                if (strlen(h->gpus[i].uuid) == len && strncasecmp(h->gpus[i].uuid, uuid, len) == 0)
                        return (int)i;
        return -ENOENT;
}

/* A MIG UUID: one the caller filled in, or the legacy (R450)
 * "MIG-GPU-<gpu uuid>/<gi>/<ci>", which names the GPU and instances. */
static int resolve_mig_uuid(struct resolver *rs, const char *uuid) {
        const struct nvidia_host *h = rs->host;
        const char *gpu = uuid + strlen("MIG-"), *s1 = strchr(gpu, '/'), *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        unsigned gi, ci;

        for (size_t i = 0; i < h->n_gpus; i++)
                for (size_t j = 0; j < h->gpus[i].n_migs; j++)
                        if (h->gpus[i].migs[j].uuid && strcasecmp(h->gpus[i].migs[j].uuid, uuid) == 0)
                                return add_mig(rs, i, &h->gpus[i].migs[j]);
        if (s2 && parse_index(s1 + 1, s2 - s1 - 1, &gi) && parse_index(s2 + 1, strlen(s2 + 1), &ci)) {
                int i = find_gpu_uuid(h, gpu, s1 - gpu);
                for (size_t j = 0; i >= 0 && j < h->gpus[i].n_migs; j++)
                        if (h->gpus[i].migs[j].gi == gi && h->gpus[i].migs[j].ci == ci)
                                return add_mig(rs, i, &h->gpus[i].migs[j]);
        }
        return unknown_mig(rs, uuid, " (/proc/driver/nvidia does not show MIG UUIDs: select MIG devices as GPU:MIG indices)");
}

static int resolve_token(struct resolver *rs, const struct gpu_token *t) {
        const struct nvidia_host *h = rs->host;
        char what[32];
        int i;

        switch (t->kind) {
        case GPU_TOKEN_INDEX:
                if (t->index >= h->n_gpus) {
                        snprintf(what, sizeof(what), "%u", t->index);
                        return unknown_gpu(rs, what);
                }
                return add_gpu(rs, t->index);
        case GPU_TOKEN_UUID:
                i = find_gpu_uuid(h, t->uuid, strlen(t->uuid));
                return i < 0 ? unknown_gpu(rs, t->uuid) : add_gpu(rs, i);
        case GPU_TOKEN_MIG_INDEX:
                if (t->index >= h->n_gpus || t->mig_index >= h->gpus[t->index].n_migs) {
                        snprintf(what, sizeof(what), "%u:%u", t->index, t->mig_index);
                        return unknown_mig(rs, what, "");
                }
                return add_mig(rs, t->index, &h->gpus[t->index].migs[t->mig_index]);
        case GPU_TOKEN_MIG_UUID:
                return resolve_mig_uuid(rs, t->uuid);
        }
        return -EINVAL;
}

/* nvidiactl always; uvm and modeset where the host has them (libnvidia-container
 * lookup_devices()). */
static int add_control_nodes(struct resolver *rs) {
        const struct nvidia_host *h = rs->host;
        int r = add_node(rs, "/dev/nvidiactl", h->major, NVIDIA_CTL_MINOR);
        if (r >= 0 && h->has_uvm)
                r = add_node(rs, "/dev/nvidia-uvm", h->uvm_major, 0);
        if (r >= 0 && h->has_uvm)
                r = add_node(rs, "/dev/nvidia-uvm-tools", h->uvm_major, 1);
        if (r >= 0 && h->has_modeset)
                r = add_node(rs, "/dev/nvidia-modeset", h->major, NVIDIA_MODESET_MINOR);
        return r;
}

static int add_all(struct resolver *rs) {
        const struct nvidia_host *h = rs->host;
        int r;

        for (size_t i = 0; i < h->n_gpus; i++) {
                if ((r = add_gpu(rs, i)) < 0)
                        return r;
                for (size_t j = 0; j < h->gpus[i].n_migs; j++)
                        if ((r = add_mig(rs, i, &h->gpus[i].migs[j])) < 0)
                                return r;
        }
        return 0;
}

/* The management caps; like the toolkit, refused next to specific MIG devices
 * (config/monitor reach every MIG device of the GPU). */
static int add_mig_global(struct resolver *rs, const struct gpu_selection *sel, const char *name,
                          bool has, unsigned minor) {
        for (size_t i = 0; i < sel->n_tokens; i++)
                if (sel->tokens[i].kind == GPU_TOKEN_MIG_INDEX || sel->tokens[i].kind == GPU_TOKEN_MIG_UUID)
                        return error_printf(rs->ret_error, -EINVAL,
                                            "MIG %s cannot be given with specific MIG devices selected", name);
        if (!rs->host->has_caps || !has)
                return error_printf(rs->ret_error, -ENODEV,
                                    "MIG %s requested, but the host has no proc/driver/nvidia/capabilities/mig/%s or no nvidia-caps driver",
                                    name, name);
        return add_cap(rs, minor);
}

static int proc_entries(const struct resolver *rs, char ***ret) {
        size_t n = 0;
        char **v = calloc(rs->host->n_gpus + 1, sizeof(char *));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < rs->host->n_gpus; i++)
                if (rs->selected[i] && !(v[n++] = strdup(rs->host->gpus[i].bus_id))) {
                        gpu_select_strv_free(v);
                        return -ENOMEM;
                }
        *ret = v;
        return 0;
}

static int resolve_selection(struct resolver *rs, const struct gpu_selection *sel) {
        const struct nvidia_host *h = rs->host;
        int r = add_control_nodes(rs);

        if (r >= 0 && sel->mode == GPU_SELECT_ALL)
                r = add_all(rs);
        for (size_t i = 0; r >= 0 && sel->mode == GPU_SELECT_LIST && i < sel->n_tokens; i++)
                r = resolve_token(rs, &sel->tokens[i]);
        if (r >= 0 && sel->mig_config)
                r = add_mig_global(rs, sel, "config", h->has_mig_config, h->mig_config_minor);
        if (r >= 0 && sel->mig_monitor)
                r = add_mig_global(rs, sel, "monitor", h->has_mig_monitor, h->mig_monitor_minor);
        return r;
}

int gpu_select_resolve(const struct gpu_selection *sel, const struct nvidia_host *host,
                       struct device_list *ret, char ***ret_proc_gpus, char **ret_error) {
        struct resolver rs = { .host = host, .ret_error = ret_error };
        char **proc = NULL;
        int r = 0;

        rs.selected = calloc(host->n_gpus + 1, sizeof(bool));
        if (!rs.selected)
                return -ENOMEM;
        if (sel->mode != GPU_SELECT_VOID)
                r = resolve_selection(&rs, sel);
        if (r >= 0 && ret_proc_gpus)
                r = proc_entries(&rs, &proc);
        free(rs.selected);
        if (r < 0) {
                device_list_done(&rs.list);
                return r;
        }
        *ret = rs.list;
        if (ret_proc_gpus)
                *ret_proc_gpus = proc;
        return 0;
}
