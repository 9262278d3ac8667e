#include "config.h"
#include <stdbool.h>
#include "fileio.h"
#include "gpu-select.h"
#include "macro.h"
#include "nvidia-proc.h"

#define MODIFY_KEY "ModifyDeviceFiles"

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* When the line [P, END) is "<blanks>ModifyDeviceFiles<blanks>:<blanks>VALUE..."
 * return where VALUE starts (after the blanks) and set *RET_VALUE_END to
 * where it ends (before trailing blanks and a '\r'); NULL otherwise. */
static const char *modify_value(const char *p, const char *end, const char **ret_value_end) {
        const char *v, *e;

        while (p < end && is_blank(*p))
                p++;
        if ((size_t)(end - p) < strlen(MODIFY_KEY) || memcmp(p, MODIFY_KEY, strlen(MODIFY_KEY)) != 0)
                return NULL;
        p += strlen(MODIFY_KEY);
        while (p < end && is_blank(*p))
                p++;
        if (p == end || *p != ':')
                return NULL;
        for (v = p + 1; v < end && is_blank(*v); v++)
                ;
        for (e = end; e > v && (is_blank(e[-1]) || e[-1] == '\r'); e--)
                ;
        *ret_value_end = e;
        return v;
}

int nvidia_params_rewrite(const char *text, char **ret) {
        _cleanup_buf_ struct buf b = { .data = NULL };
        bool found = false;

        for (const char *p = text; *p;) {
                const char *nl = strchrnul(p, '\n'), *next = *nl ? nl + 1 : nl;
                const char *v_end, *v = modify_value(p, nl, &v_end);

                if (!v) {
                        buf_append(&b, p, next - p);
                } else {
                        found = true;
                        buf_append(&b, p, v - p);
                        /* "ModifyDeviceFiles:1" has no blank to keep: add one */
                        if (v[-1] == ':')
                                buf_append(&b, " ", 1);
                        buf_append(&b, "0", 1);
                        buf_append(&b, v_end, next - v_end);
                }
                p = next;
        }
        if (!found) {
                if (b.len > 0 && b.data[b.len - 1] != '\n')
                        buf_append(&b, "\n", 1);
                buf_append(&b, MODIFY_KEY ": 0\n", strlen(MODIFY_KEY ": 0\n"));
        }
        if (b.err)
                return b.err;
        *ret = TAKE_PTR(b.data);
        return 0;
}

/* Append a copy of S to V (N entries, NULL-terminated) unless it is there. */
static int strv_add_unique(char ***v, size_t *n, const char *s) {
        for (size_t i = 0; i < *n; i++)
                if (streq((*v)[i], s))
                        return 0;
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        *v = nv;
        if (!(nv[*n] = strdup(s)))
                return -ENOMEM;
        nv[++*n] = NULL;
        return 0;
}

/* An empty strv to start from. */
static char **strv_new(void) {
        return calloc(1, sizeof(char *));
}

static bool has_node(const struct device_list *l, unsigned major, unsigned minor) {
        for (size_t i = 0; i < l->n; i++)
                if (l->nodes[i].type == 'c' && l->nodes[i].major == major && l->nodes[i].minor == minor)
                        return true;
        return false;
}

int nvidia_proc_gpus(const struct nvidia_host *h, const struct device_list *l, char ***ret_bus_ids) {
        char **v = strv_new();
        size_t n = 0;
        int r = 0;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < h->n_gpus; i++)
                /* the frontend's fixed minors are control nodes, never a GPU */
                if (h->gpus[i].minor < NVIDIA_MODESET_MINOR && has_node(l, h->major, h->gpus[i].minor))
                        r = strv_add_unique(&v, &n, h->gpus[i].bus_id);
        if (r < 0) {
                gpu_select_strv_free(v);
                return r;
        }
        *ret_bus_ids = v;
        return 0;
}

static int add_cap(const struct nvidia_host *h, const struct device_list *l, unsigned minor, const char *path,
                   char ***v, size_t *n) {
        return has_node(l, h->caps_major, minor) ? strv_add_unique(v, n, path) : 0;
}

static int add_mig_caps(const struct nvidia_host *h, const struct device_list *l, const struct nvidia_gpu *g,
                        char ***v, size_t *n) {
        int r = 0;

        for (size_t j = 0; r >= 0 && j < g->n_migs; j++) {
                const struct nvidia_mig *m = &g->migs[j];
                char gi[128], ci[128];
                snprintf(gi, sizeof(gi), "capabilities/gpu%u/mig/gi%u/access", g->minor, m->gi);
                snprintf(ci, sizeof(ci), "capabilities/gpu%u/mig/gi%u/ci%u/access", g->minor, m->gi, m->ci);
                r = add_cap(h, l, m->gi_cap_minor, gi, v, n);
                if (r >= 0)
                        r = add_cap(h, l, m->ci_cap_minor, ci, v, n);
        }
        return r;
}

int nvidia_proc_caps(const struct nvidia_host *h, const struct device_list *l, char ***ret_paths) {
        char **v = strv_new();
        size_t n = 0;
        int r = 0;

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; h->has_caps && r >= 0 && i < h->n_gpus; i++)
                r = add_mig_caps(h, l, &h->gpus[i], &v, &n);
        if (r >= 0 && h->has_caps && h->has_mig_config)
                r = add_cap(h, l, h->mig_config_minor, "capabilities/mig/config", &v, &n);
        if (r >= 0 && h->has_caps && h->has_mig_monitor)
                r = add_cap(h, l, h->mig_monitor_minor, "capabilities/mig/monitor", &v, &n);
        if (r < 0) {
                gpu_select_strv_free(v);
                return r;
        }
        *ret_paths = v;
        return 0;
}
