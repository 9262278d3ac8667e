#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>
#include "cdi-gen.h"
#include "fileio.h"
#include "gpu-select.h"
#include "macro.h"

/* The views an engine's runtime accepts (see cdi-gen.h); "all" takes the
 * whole CPU tree, which holds cpu/online, so cpu-online stays out of it
 * (two mounts on one path would be one too many). */
const struct cdi_gen_view cdi_gen_views[] = {
        { "meminfo", "proc/meminfo", "/proc/meminfo", false, true },
        { "cpuinfo", "proc/cpuinfo", "/proc/cpuinfo", false, true },
        { "stat", "proc/stat", "/proc/stat", false, true },
        { "uptime", "proc/uptime", "/proc/uptime", false, true },
        { "loadavg", "proc/loadavg", "/proc/loadavg", false, true },
        { "swaps", "proc/swaps", "/proc/swaps", false, true },
        { "diskstats", "proc/diskstats", "/proc/diskstats", false, true },
        { "cpu-online", "sys/devices/system/cpu/online", "/sys/devices/system/cpu/online", false, false },
        { "cpu-tree", "sys/devices/system/cpu", "/sys/devices/system/cpu", true, true },
};
const size_t cdi_gen_n_views = ELEMENTSOF(cdi_gen_views);

static void json_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

/* json-c's adders fail only on allocation: one check at the end of a
 * builder (json_object_new_* of a failed allocation gives NULL, and adding
 * NULL is a JSON null) is replaced by checking each new object here. */
static int add(json_object *obj, const char *key, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(obj, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int push(json_object *arr, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(arr, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int spec_new(const char *kind, json_object **ret_spec, json_object **ret_devices) {
        _cleanup_json_ json_object *spec = json_object_new_object();
        json_object *devices = json_object_new_array();
        int r;

        if (!spec)
                return -ENOMEM;
        if ((r = add(spec, "cdiVersion", json_object_new_string(CDI_GEN_VERSION))) < 0 ||
            (r = add(spec, "kind", json_object_new_string(kind))) < 0 || (r = add(spec, "devices", devices)) < 0)
                return r;
        *ret_devices = devices;
        *ret_spec = TAKE_PTR(spec);
        return 0;
}

/* {name: NAME, containerEdits: {KEY: LIST}}, appended to DEVICES */
static int device_add(json_object *devices, const char *name, const char *key, json_object *list) {
        json_object *dev = json_object_new_object(), *edits = json_object_new_object();
        int r;

        if (!dev || !edits || !list) {
                json_object_put(dev);
                json_object_put(edits);
                json_object_put(list);
                return -ENOMEM;
        }
        if ((r = add(edits, key, list)) < 0) {
                json_object_put(dev);
                json_object_put(edits);
                return r;
        }
        if ((r = add(dev, "name", json_object_new_string(name))) < 0 || (r = add(dev, "containerEdits", edits)) < 0) {
                json_object_put(dev);
                return r;
        }
        return push(devices, dev);
}

/* A read-only bind of MOUNTPOINT/V->source over V->target. nosuid and
 * nodev as the FUSE mount has them; ro so that no container writes a view
 * (curatefs refuses writes anyway). */
static json_object *view_mount(const char *mountpoint, const struct cdi_gen_view *v) {
        _cleanup_json_ json_object *m = json_object_new_object();
        json_object *opts = json_object_new_array();
        _cleanup_free_ char *host = NULL;

        if (!m || !opts || asprintf(&host, "%s/%s", mountpoint, v->source) < 0) {
                json_object_put(opts);
                return NULL;
        }
        if (add(m, "hostPath", json_object_new_string(host)) < 0 ||
            add(m, "containerPath", json_object_new_string(v->target)) < 0 ||
            add(m, "type", json_object_new_string("bind")) < 0 || add(m, "options", opts) < 0 ||
            push(opts, json_object_new_string("ro")) < 0 || push(opts, json_object_new_string("nosuid")) < 0 ||
            push(opts, json_object_new_string("nodev")) < 0 ||
            push(opts, json_object_new_string(v->dir ? "rbind" : "bind")) < 0)
                return NULL;
        return TAKE_PTR(m);
}

int cdi_gen_views_spec(const char *mountpoint, json_object **ret, char **ret_error) {
        _cleanup_json_ json_object *spec = NULL;
        json_object *devices, *all;
        _cleanup_free_ char *mp = NULL;
        size_t len;
        int r;

        if (mountpoint[0] != '/')
                return error_printf(ret_error, -EINVAL, "mount point \"%s\" is not absolute", mountpoint);
        mp = strdup(mountpoint);
        if (!mp)
                return -ENOMEM;
        /* "/run/curatefs/" and "/run/curatefs" name one place: no "//" in paths */
        for (len = strlen(mp); len > 1 && mp[len - 1] == '/'; len--)
                mp[len - 1] = '\0';
        if ((r = spec_new(CDI_GEN_VIEWS_KIND, &spec, &devices)) < 0)
                return r;
        all = json_object_new_array();
        for (size_t i = 0; all && i < cdi_gen_n_views; i++)
                if (cdi_gen_views[i].in_all && (r = push(all, view_mount(mp, &cdi_gen_views[i]))) < 0) {
                        json_object_put(all);
                        return r;
                }
        if ((r = device_add(devices, "all", "mounts", all)) < 0)
                return r;
        for (size_t i = 0; i < cdi_gen_n_views; i++) {
                json_object *one = json_object_new_array();
                if (one && (r = push(one, view_mount(mp, &cdi_gen_views[i]))) < 0) {
                        json_object_put(one);
                        return r;
                }
                if ((r = device_add(devices, cdi_gen_views[i].name, "mounts", one)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(spec);
        return 0;
}

/* deviceNodes for L: path, hostPath where it differs, type, numbers,
 * permissions, fileMode where curate sets one */
static json_object *nodes_json(const struct device_list *l) {
        _cleanup_json_ json_object *arr = json_object_new_array();

        if (!arr)
                return NULL;
        for (size_t i = 0; i < l->n; i++) {
                const struct device_node *d = &l->nodes[i];
                json_object *n = json_object_new_object();
                char type[2] = { d->type, '\0' };
                if (push(arr, n) < 0 || add(n, "path", json_object_new_string(d->path)) < 0 ||
                    (d->host_path && !streq(d->host_path, d->path) &&
                     add(n, "hostPath", json_object_new_string(d->host_path)) < 0) ||
                    add(n, "type", json_object_new_string(type)) < 0 ||
                    add(n, "major", json_object_new_int64(d->major)) < 0 ||
                    add(n, "minor", json_object_new_int64(d->minor)) < 0 ||
                    add(n, "permissions", json_object_new_string(d->access)) < 0 ||
                    (d->file_mode && add(n, "fileMode", json_object_new_int64(d->file_mode)) < 0))
                        return NULL;
        }
        return TAKE_PTR(arr);
}

static void gpu_selection_donep(struct gpu_selection *s) { gpu_selection_done(s); }
static void device_list_donep(struct device_list *l) { device_list_done(l); }

/* Device NAME of DEVICES: what `--gpu NAME` gives on HOST (a CDI device is
 * named by the selector it stands for). */
static int nvidia_device(json_object *devices, const struct nvidia_host *host, const char *name,
                         char **ret_error) {
        _cleanup_(gpu_selection_donep) struct gpu_selection sel = { .n_tokens = 0 };
        _cleanup_(device_list_donep) struct device_list l = { .n = 0 };
        int r;

        if ((r = gpu_select_parse(name, &sel, ret_error)) < 0 ||
            (r = gpu_select_resolve(&sel, host, &l, NULL, ret_error)) < 0)
                return r;
        return device_add(devices, name, "deviceNodes", nodes_json(&l));
}

int cdi_gen_nvidia_spec(const struct nvidia_host *host, json_object **ret, char **ret_error) {
        _cleanup_json_ json_object *spec = NULL;
        json_object *devices;
        char name[64];
        int r;

        if (host->n_gpus == 0)
                return error_printf(ret_error, -ENODEV, "no NVIDIA GPU on this host");
        if ((r = spec_new(CDI_GEN_NVIDIA_KIND, &spec, &devices)) < 0 ||
            (r = nvidia_device(devices, host, "all", ret_error)) < 0)
                return r;
        for (size_t i = 0; i < host->n_gpus; i++) {
                const struct nvidia_gpu *g = &host->gpus[i];
                snprintf(name, sizeof(name), "%zu", i);
                if ((r = nvidia_device(devices, host, name, ret_error)) < 0 ||
                    (r = nvidia_device(devices, host, g->uuid, ret_error)) < 0)
                        return r;
                for (size_t m = 0; m < g->n_migs; m++) {
                        snprintf(name, sizeof(name), "%zu:%zu", i, m);
                        if ((r = nvidia_device(devices, host, name, ret_error)) < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(spec);
        return 0;
}

static int amd_device(json_object *devices, const struct amd_host *host, const char *name, char **ret_error) {
        _cleanup_(device_list_donep) struct device_list l = { .n = 0 };
        int r = amd_select_resolve(name, host, &l, ret_error);

        if (r < 0)
                return r;
        return device_add(devices, name, "deviceNodes", nodes_json(&l));
}

int cdi_gen_amd_spec(const struct amd_host *host, json_object **ret, char **ret_error) {
        _cleanup_json_ json_object *spec = NULL;
        json_object *devices;
        char name[32];
        int r;

        if (host->n_gpus == 0)
                return error_printf(ret_error, -ENODEV, "no AMD GPU on this host");
        if ((r = spec_new(CDI_GEN_AMD_KIND, &spec, &devices)) < 0 ||
            (r = amd_device(devices, host, "all", ret_error)) < 0)
                return r;
        for (size_t i = 0; i < host->n_gpus; i++) {
                snprintf(name, sizeof(name), "%zu", i);
                if ((r = amd_device(devices, host, name, ret_error)) < 0 ||
                    (r = amd_device(devices, host, host->gpus[i].bus_id, ret_error)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(spec);
        return 0;
}

/* ---- YAML ---- */

/* A plain scalar S would be read back as something other than a string
 * (Go's YAML, which engines use, reads "0" and "0.5.0"-like words by YAML
 * 1.1 rules, and sigs.k8s.io/yaml then refuses a number for a string
 * field): quote whatever starts like a number or is a YAML 1.1 keyword. */
static bool needs_quotes(const char *s) {
        static const char *const words[] = { "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~" };

        if (!*s || strchr("0123456789+-.~!&*@`'\"%|>[]{},#?: ", s[0]))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strcasecmp(s, words[i]) == 0)
                        return true;
        return strstr(s, ": ") || strstr(s, " #") || s[strlen(s) - 1] == ':';
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev) {
        return yaml_emitter_emit(e, ev) ? 0 : -EIO;
}

static int emit_scalar(yaml_emitter_t *e, const char *s, bool quote) {
        yaml_event_t ev;

        if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), !quote, quote,
                                          quote ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_PLAIN_SCALAR_STYLE))
                return -ENOMEM;
        return emit(e, &ev);
}

static int emit_node(yaml_emitter_t *e, json_object *o) {
        yaml_event_t ev;
        int r;

        switch (json_object_get_type(o)) {
        case json_type_object:
                if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE))
                        return -ENOMEM;
                if ((r = emit(e, &ev)) < 0)
                        return r;
                json_object_object_foreach(o, key, val) {
                        if ((r = emit_scalar(e, key, needs_quotes(key))) < 0 || (r = emit_node(e, val)) < 0)
                                return r;
                }
                yaml_mapping_end_event_initialize(&ev);
                return emit(e, &ev);
        case json_type_array:
                if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE))
                        return -ENOMEM;
                if ((r = emit(e, &ev)) < 0)
                        return r;
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        if ((r = emit_node(e, json_object_array_get_idx(o, i))) < 0)
                                return r;
                yaml_sequence_end_event_initialize(&ev);
                return emit(e, &ev);
        case json_type_string:
                return emit_scalar(e, json_object_get_string(o), needs_quotes(json_object_get_string(o)));
        case json_type_null:
                return emit_scalar(e, "null", false);
        default: /* numbers and booleans: their JSON text is plain YAML */
                return emit_scalar(e, json_object_to_json_string(o), false);
        }
}

static int yaml_out(void *data, unsigned char *buffer, size_t size) {
        return buf_append(data, (const char *)buffer, size) == 0;
}

static int to_yaml(json_object *spec, char **ret_text) {
        _cleanup_buf_ struct buf b = { 0 };
        yaml_emitter_t e;
        yaml_event_t ev;
        int r = -ENOMEM;

        if (!yaml_emitter_initialize(&e))
                return -ENOMEM;
        yaml_emitter_set_output(&e, yaml_out, &b);
        yaml_emitter_set_unicode(&e, 1);
        if (yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && (r = emit(&e, &ev)) == 0 &&
            (r = yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ? emit(&e, &ev) : -ENOMEM) == 0 &&
            (r = emit_node(&e, spec)) == 0 &&
            (r = yaml_document_end_event_initialize(&ev, 1) ? emit(&e, &ev) : -ENOMEM) == 0 &&
            (r = yaml_stream_end_event_initialize(&ev) ? emit(&e, &ev) : -ENOMEM) == 0)
                r = yaml_emitter_flush(&e) ? 0 : -EIO;
        yaml_emitter_delete(&e);
        if (r < 0)
                return r;
        if (buf_append(&b, "", 1) < 0)
                return -ENOMEM;
        *ret_text = TAKE_PTR(b.data);
        return 0;
}

int cdi_gen_format(json_object *spec, bool yaml, char **ret_text, char **ret_error) {
        const char *s;
        int r;

        if (yaml) {
                r = to_yaml(spec, ret_text);
                return r < 0 ? error_printf(ret_error, r, "cannot write YAML: %s", strerror(-r)) : 0;
        }
        s = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s || asprintf(ret_text, "%s\n", s) < 0)
                return -ENOMEM;
        return 0;
}
