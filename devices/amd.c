#include "config.h"
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <strings.h>
#include "amd.h"
#include "fileio.h"
#include "macro.h"

#define DRM_DIR "sys/class/drm"
#define KFD_DEV "sys/class/kfd/kfd/dev"
/* 12-bit majors, 20-bit minors (MINORBITS in linux/kdev_t.h). */
#define MAJOR_MAX 4095u
#define MINOR_MAX ((1u << 20) - 1)
#define SPEC_FORMS "all, a GPU index or a PCI bus id such as 0000:03:00.0"
/* systemd's 50-udev-default.rules: renderD* and kfd 0666 (group render),
 * card* 0660 (group video). */
#define KFD_MODE 0666
#define RENDER_MODE 0666
#define CARD_MODE 0660
/* How much of a malformed file an error message quotes. */
#define SHOWN_MAX 32

static void amd_gpu_done(struct amd_gpu *g) {
        free(g->bus_id);
        free(g->card_name);
        free(g->render_name);
        *g = (struct amd_gpu){ .bus_id = NULL };
}

void amd_host_done(struct amd_host *h) {
        for (size_t i = 0; i < h->n_gpus; i++)
                amd_gpu_done(&h->gpus[i]);
        free(h->gpus);
        *h = (struct amd_host){ .gpus = NULL };
}

static void amd_host_donep(struct amd_host *h) { amd_host_done(h); }

static bool only_space(const char *s) {
        while (isspace((unsigned char)*s))
                s++;
        return !*s;
}

/* Strip trailing whitespace in place, for quoting a file in a message. */
static const char *chomp(char *s) {
        size_t n = strlen(s);
        while (n > 0 && isspace((unsigned char)s[n - 1]))
                s[--n] = 0;
        return s;
}

/* Decimal digits at *P, at most MAX; *P moves past them. */
static bool take_decimal(const char **p, unsigned max, unsigned *ret) {
        const char *s = *p;
        uint64_t v = 0;

        if (!isdigit((unsigned char)*s))
                return false;
        for (; isdigit((unsigned char)*s); s++) {
                v = v * 10 + (unsigned)(*s - '0');
                if (v > max)
                        return false;
        }
        *p = s;
        *ret = (unsigned)v;
        return true;
}

/* MIN to MAX hex digits at *P; *P moves past them. */
static bool take_hex(const char **p, size_t min, size_t max, uint64_t *ret) {
        const char *s = *p;
        uint64_t v = 0;
        size_t n;

        for (n = 0; isxdigit((unsigned char)s[n]); n++) {
                if (n == max)
                        return false;
                v = v << 4 | (uint64_t)(isdigit((unsigned char)s[n]) ? s[n] - '0' : tolower((unsigned char)s[n]) - 'a' + 10);
        }
        if (n < min)
                return false;
        *p = s + n;
        *ret = v;
        return true;
}

int amd_parse_dev(const char *text, unsigned *ret_major, unsigned *ret_minor) {
        const char *p = text;
        unsigned major, minor;

        if (!take_decimal(&p, MAJOR_MAX, &major) || *p != ':')
                return -EINVAL;
        p++;
        if (!take_decimal(&p, MINOR_MAX, &minor) || !only_space(p))
                return -EINVAL;
        *ret_major = major;
        *ret_minor = minor;
        return 0;
}

int amd_parse_vendor(const char *text, unsigned *ret_vendor) {
        const char *p = text;
        uint64_t v;

        /* the kernel writes "0x%04x" (drivers/pci/pci-sysfs.c) */
        if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
                return -EINVAL;
        p += 2;
        if (!take_hex(&p, 1, 4, &v) || !only_space(p))
                return -EINVAL;
        *ret_vendor = (unsigned)v;
        return 0;
}

/* A PCI device name as the kernel writes it, "%04x:%02x:%02x.%d" (the domain
 * may be wider: VMD domains are 10000 and up), as one number that orders like
 * the bus. False when S is no such name. */
static bool bus_key(const char *s, uint64_t *ret) {
        uint64_t dom, bus, dev, fn;

        if (!take_hex(&s, 4, 8, &dom) || *s++ != ':' || !take_hex(&s, 2, 2, &bus) || *s++ != ':' ||
            !take_hex(&s, 2, 2, &dev) || *s++ != '.' || !take_hex(&s, 1, 1, &fn) || *s)
                return false;
        if (dev > 0x1f || fn > 7)
                return false;
        *ret = dom << 16 | bus << 8 | dev << 3 | fn;
        return true;
}

static int gpu_cmp(const void *a, const void *b) {
        const struct amd_gpu *x = a, *y = b;
        uint64_t kx = 0, ky = 0;

        /* discovery only keeps names bus_key() accepts */
        (void)bus_key(x->bus_id, &kx);
        (void)bus_key(y->bus_id, &ky);
        return kx < ky ? -1 : kx > ky;
}

/* "card1" or "renderD128": true, and whether it is a render node. Connectors
 * ("card0-DP-1"), "version" and the legacy controlD<N> are no node a
 * container gets. */
static bool drm_node_name(const char *name, bool *ret_render) {
        const char *digits;

        if (strncmp(name, "card", 4) == 0)
                digits = name + 4;
        else if (strncmp(name, "renderD", 7) == 0)
                digits = name + 7;
        else
                return false;
        if (!*digits)
                return false;
        for (const char *p = digits; *p; p++)
                if (!isdigit((unsigned char)*p))
                        return false;
        *ret_render = name[0] == 'r';
        return true;
}

/* 0 when node NAME belongs to an AMD PCI device; 1 when to another vendor's
 * or to no PCI device (no device/vendor: vgem, vkms, simpledrm); -errno. */
static int node_is_amd(int root_fd, const char *name, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        char path[PATH_MAX];
        unsigned vendor;
        int r;

        if (snprintf(path, sizeof(path), DRM_DIR "/%s/device/vendor", name) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        r = read_file_at(root_fd, path, &text, NULL);
        if (r == -ENOENT)
                return 1;
        if (r < 0)
                return error_printf(ret_error, r, "%s: %s", path, strerror(-r));
        if (amd_parse_vendor(text, &vendor) < 0)
                return error_printf(ret_error, -EINVAL, "%s: expected a PCI vendor id such as \"0x1002\", got \"%.*s\"",
                                    path, SHOWN_MAX, chomp(text));
        return vendor == AMD_PCI_VENDOR ? 0 : 1;
}

/* The PCI bus id of node NAME: the basename of its "device" link. The node
 * entry itself is a link too, resolved within the root by open_beneath(). */
static int node_bus_id(int root_fd, const char *name, char **ret, char **ret_error) {
        _cleanup_close_ int fd = -EBADF;
        char path[PATH_MAX], target[PATH_MAX];
        const char *base;
        uint64_t key;
        ssize_t n;

        if (snprintf(path, sizeof(path), DRM_DIR "/%s", name) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        fd = open_beneath(root_fd, path, O_PATH | O_DIRECTORY);
        if (fd < 0)
                return error_printf(ret_error, fd, "%s: %s", path, strerror(-fd));
        n = readlinkat(fd, "device", target, sizeof(target));
        if (n < 0)
                return error_printf(ret_error, -errno, "%s/device: %s", path, strerror(errno));
        if ((size_t)n >= sizeof(target))
                return error_printf(ret_error, -ENAMETOOLONG, "%s/device: link target too long", path);
        target[n] = 0;
        base = strrchr(target, '/');
        base = base ? base + 1 : target;
        if (!bus_key(base, &key))
                return error_printf(ret_error, -EINVAL, "%s/device: links to \"%s\", which is no PCI device",
                                    path, target);
        char *s = strdup(base);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static int node_numbers(int root_fd, const char *name, unsigned *ret_major, unsigned *ret_minor,
                        char **ret_error) {
        _cleanup_free_ char *text = NULL;
        char path[PATH_MAX];
        int r;

        if (snprintf(path, sizeof(path), DRM_DIR "/%s/dev", name) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        r = read_file_at(root_fd, path, &text, NULL);
        if (r < 0)
                return error_printf(ret_error, r, "%s: %s", path, strerror(-r));
        if (amd_parse_dev(text, ret_major, ret_minor) < 0)
                return error_printf(ret_error, -EINVAL, "%s: expected \"MAJOR:MINOR\", got \"%.*s\"",
                                    path, SHOWN_MAX, chomp(text));
        return 0;
}

/* The GPU of BUS_ID in H, appended (taking *BUS_ID) when new. */
static struct amd_gpu *host_gpu(struct amd_host *h, char **bus_id) {
        struct amd_gpu *gpus;

        for (size_t i = 0; i < h->n_gpus; i++)
                if (strcasecmp(h->gpus[i].bus_id, *bus_id) == 0)
                        return &h->gpus[i];
        gpus = realloc(h->gpus, (h->n_gpus + 1) * sizeof(*gpus));
        if (!gpus)
                return NULL;
        h->gpus = gpus;
        h->gpus[h->n_gpus] = (struct amd_gpu){ .bus_id = TAKE_PTR(*bus_id) };
        return &h->gpus[h->n_gpus++];
}

/* Add DRM node NAME to H when it is an AMD GPU's. */
static int add_drm_node(int root_fd, struct amd_host *h, const char *name, bool render, char **ret_error) {
        _cleanup_free_ char *bus_id = NULL, *copy = NULL;
        struct amd_gpu *g;
        unsigned major, minor;
        int r;

        r = node_is_amd(root_fd, name, ret_error);
        if (r != 0)
                return r < 0 ? r : 0;
        r = node_bus_id(root_fd, name, &bus_id, ret_error);
        if (r < 0)
                return r;
        r = node_numbers(root_fd, name, &major, &minor, ret_error);
        if (r < 0)
                return r;
        copy = strdup(name);
        g = copy ? host_gpu(h, &bus_id) : NULL;
        if (!g)
                return -ENOMEM;
        /* one card and one render node per device (drm_dev_register()) */
        if (render ? g->has_render : g->has_card)
                return error_printf(ret_error, -EINVAL, DRM_DIR "/%s: PCI device %s already has %s", name,
                                    g->bus_id, render ? g->render_name : g->card_name);
        if (render) {
                g->has_render = true;
                g->render_name = TAKE_PTR(copy);
                g->render_major = major;
                g->render_minor = minor;
        } else {
                g->has_card = true;
                g->card_name = TAKE_PTR(copy);
                g->card_major = major;
                g->card_minor = minor;
        }
        return 0;
}

static int read_drm(int root_fd, struct amd_host *h, char **ret_error) {
        _cleanup_close_ int fd = open_beneath(root_fd, DRM_DIR, O_RDONLY | O_DIRECTORY);
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        bool render;
        int r;

        if (fd == -ENOENT)
                return 0; /* no DRM at all: no GPU */
        if (fd < 0)
                return error_printf(ret_error, fd, DRM_DIR ": %s", strerror(-fd));
        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        while ((errno = 0, de = readdir(d)))
                if (drm_node_name(de->d_name, &render) &&
                    (r = add_drm_node(root_fd, h, de->d_name, render, ret_error)) < 0)
                        return r;
        return -errno;
}

/* amdkfd registers one "kfd" class device; its absence is no error (see
 * struct amd_host). */
static int read_kfd(int root_fd, struct amd_host *h, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(root_fd, KFD_DEV, &text, NULL);

        if (r == -ENOENT) {
                h->has_kfd = false;
                return 0;
        }
        if (r < 0)
                return error_printf(ret_error, r, KFD_DEV ": %s", strerror(-r));
        if (amd_parse_dev(text, &h->kfd_major, &h->kfd_minor) < 0)
                return error_printf(ret_error, -EINVAL, KFD_DEV ": expected \"MAJOR:MINOR\", got \"%.*s\"",
                                    SHOWN_MAX, chomp(text));
        h->has_kfd = true;
        return 0;
}

int amd_discover(int root_fd, struct amd_host *ret, char **ret_error) {
        _cleanup_(amd_host_donep) struct amd_host h = { .gpus = NULL };
        int r;

        r = read_drm(root_fd, &h, ret_error);
        if (r < 0)
                return r;
        if (h.n_gpus == 0)
                return error_printf(ret_error, -ENODEV,
                                    DRM_DIR ": no card or render node of an AMD (vendor 0x1002) PCI device");
        qsort(h.gpus, h.n_gpus, sizeof(*h.gpus), gpu_cmp);
        r = read_kfd(root_fd, &h, ret_error);
        if (r < 0)
                return r;
        *ret = h;
        h = (struct amd_host){ .gpus = NULL };
        return 0;
}

/* ---- selection ---- */

struct amd_token {
        const char *text; /* as written, trimmed; points into the spec's copy */
        bool is_bus_id;
        unsigned index;
};

static bool parse_index(const char *s, unsigned *ret) {
        const char *p = s;
        unsigned v;

        if (!take_decimal(&p, UINT32_MAX, &v) || *p)
                return false;
        *ret = v;
        return true;
}

static bool token_eq(const struct amd_token *a, const struct amd_token *b) {
        if (a->is_bus_id != b->is_bus_id)
                return false;
        return a->is_bus_id ? strcasecmp(a->text, b->text) == 0 : a->index == b->index;
}

static int add_token(struct amd_token **tokens, size_t *n, const char *entry, const char *spec,
                     char **ret_error) {
        struct amd_token t = { .text = entry }, *v;
        uint64_t key;

        if (!*entry)
                return error_printf(ret_error, -EINVAL, "AMD GPU selection \"%s\": empty entry", spec);
        if (strcasecmp(entry, "all") == 0)
                return error_printf(ret_error, -EINVAL,
                                    "AMD GPU selection \"%s\": \"%s\" cannot be combined with other entries", spec, entry);
        if (bus_key(entry, &key))
                t.is_bus_id = true;
        else if (!parse_index(entry, &t.index))
                return error_printf(ret_error, -EINVAL, "AMD GPU selection \"%s\": bad entry \"%s\" (expected %s)",
                                    spec, entry, SPEC_FORMS);
        for (size_t i = 0; i < *n; i++)
                if (token_eq(&(*tokens)[i], &t))
                        return error_printf(ret_error, -EINVAL, "AMD GPU selection \"%s\": \"%s\" is listed twice",
                                            spec, entry);
        v = realloc(*tokens, (*n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        *tokens = v;
        v[(*n)++] = t;
        return 0;
}

/* "2 AMD GPUs: 0 (0000:03:00.0), 1 (0000:83:00.0)": what the host has. */
static char *gpu_listing(const struct amd_host *h) {
        _cleanup_buf_ struct buf b = { 0 };

        if (h->n_gpus == 0)
                buf_printf(&b, "no AMD GPU");
        else
                buf_printf(&b, "%zu AMD GPU%s:", h->n_gpus, h->n_gpus == 1 ? "" : "s");
        for (size_t i = 0; i < h->n_gpus; i++)
                buf_printf(&b, "%s %zu (%s)", i ? "," : "", i, h->gpus[i].bus_id);
        return b.err ? NULL : TAKE_PTR(b.data);
}

static int select_token(const struct amd_token *t, const struct amd_host *h, bool *selected, char **ret_error) {
        _cleanup_free_ char *has = NULL;

        for (size_t i = 0; i < h->n_gpus; i++)
                if (t->is_bus_id ? strcasecmp(h->gpus[i].bus_id, t->text) == 0 : t->index == i) {
                        selected[i] = true;
                        return 0;
                }
        has = gpu_listing(h);
        return error_printf(ret_error, -ENOENT, "unknown AMD GPU %s; the host has %s", t->text, has ? has : "?");
}

static int add_gpu_nodes(struct device_list *l, const struct amd_gpu *g) {
        char path[PATH_MAX];
        int r;

        if (g->has_card) {
                snprintf(path, sizeof(path), "/dev/dri/%s", g->card_name);
                if ((r = device_list_add_char(l, path, g->card_major, g->card_minor, CARD_MODE)) < 0)
                        return r;
        }
        if (g->has_render) {
                snprintf(path, sizeof(path), "/dev/dri/%s", g->render_name);
                if ((r = device_list_add_char(l, path, g->render_major, g->render_minor, RENDER_MODE)) < 0)
                        return r;
        }
        return 0;
}

/* Parse the list form of SPEC (in COPY, split in place) into *RET. */
static int parse_list(char *copy, const char *spec, struct amd_token **ret, size_t *ret_n, char **ret_error) {
        _cleanup_free_ struct amd_token *tokens = NULL;
        size_t n = 0;
        char *entry;
        int r;

        while ((entry = strsep(&copy, ",")))
                if ((r = add_token(&tokens, &n, strtrim(entry), spec, ret_error)) < 0)
                        return r;
        *ret = TAKE_PTR(tokens);
        *ret_n = n;
        return 0;
}

/* Which GPUs SPEC names, as flags per index in *SELECTED. */
static int select_gpus(const char *spec, const struct amd_host *h, bool *selected, char **ret_error) {
        _cleanup_free_ char *copy = strdup(spec);
        _cleanup_free_ struct amd_token *tokens = NULL;
        size_t n = 0;
        char *s;
        int r;

        if (!copy)
                return -ENOMEM;
        s = strtrim(copy);
        if (!*s)
                return error_printf(ret_error, -EINVAL, "empty AMD GPU selection (expected %s)", SPEC_FORMS);
        if (strcasecmp(s, "all") == 0) {
                if (h->n_gpus == 0)
                        return error_printf(ret_error, -ENODEV, "AMD GPU selection \"all\": the host has no AMD GPU");
                for (size_t i = 0; i < h->n_gpus; i++)
                        selected[i] = true;
                return 0;
        }
        /* every entry is checked before any is resolved: a malformed spec is
         * -EINVAL whatever the host has */
        r = parse_list(s, spec, &tokens, &n, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if ((r = select_token(&tokens[i], h, selected, ret_error)) < 0)
                        return r;
        return 0;
}

int amd_select_resolve(const char *spec, const struct amd_host *host, struct device_list *ret,
                       char **ret_error) {
        _cleanup_free_ bool *selected = calloc(host->n_gpus + 1, sizeof(bool));
        struct device_list l = { .n = 0 };
        int r;

        if (!selected)
                return -ENOMEM;
        r = select_gpus(spec, host, selected, ret_error);
        if (r < 0)
                return r;
        /* ROCm's documented "docker run --device=/dev/kfd --device=/dev/dri/...":
         * kfd first, then the DRI nodes, GPU by GPU in index order */
        if (host->has_kfd)
                r = device_list_add_char(&l, "/dev/kfd", host->kfd_major, host->kfd_minor, KFD_MODE);
        for (size_t i = 0; r >= 0 && i < host->n_gpus; i++)
                if (selected[i])
                        r = add_gpu_nodes(&l, &host->gpus[i]);
        if (r < 0) {
                device_list_done(&l);
                return r;
        }
        *ret = l;
        return 0;
}
