#include "config.h"
#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <strings.h>
#include "fileio.h"
#include "macro.h"
#include "nvidia.h"

#define GPUS_DIR "proc/driver/nvidia/gpus"
#define CAPS_DIR "proc/driver/nvidia/capabilities"
/* Minors are 20 bits (MINORBITS in linux/kdev_t.h). */
#define MINOR_MAX ((1u << 20) - 1)

static void nvidia_mig_done(struct nvidia_mig *m) {
        free(m->uuid);
        m->uuid = NULL;
}

void nvidia_gpu_done(struct nvidia_gpu *g) {
        free(g->model);
        free(g->uuid);
        free(g->bus_id);
        for (size_t i = 0; i < g->n_migs; i++)
                nvidia_mig_done(&g->migs[i]);
        free(g->migs);
        *g = (struct nvidia_gpu){ .model = NULL };
}

void nvidia_host_done(struct nvidia_host *h) {
        for (size_t i = 0; i < h->n_gpus; i++)
                nvidia_gpu_done(&h->gpus[i]);
        free(h->gpus);
        *h = (struct nvidia_host){ .gpus = NULL };
}

static void nvidia_host_donep(struct nvidia_host *h) { nvidia_host_done(h); }
static void nvidia_gpu_donep(struct nvidia_gpu *g) { nvidia_gpu_done(g); }

static int parse_minor(const char *s, unsigned *ret) {
        uint64_t v;
        int r = parse_u64(s, &v);
        if (r < 0)
                return r;
        if (v > MINOR_MAX)
                return -ERANGE;
        *ret = (unsigned)v;
        return 0;
}

/* Split "Key:  \t value\n" at the first ':' (values such as "Bus Location"
 * contain colons themselves); both sides trimmed. 0, or -EINVAL with no ':'. */
static int split_key_value(const char *line, size_t len, char **ret_key, char **ret_value) {
        const char *colon = memchr(line, ':', len);
        const char *k_end, *v, *v_end = line + len;

        if (!colon)
                return -EINVAL;
        for (k_end = colon; k_end > line && isblank((unsigned char)k_end[-1]); k_end--)
                ;
        for (v = colon + 1; v < v_end && isblank((unsigned char)*v); v++)
                ;
        while (v_end > v && isspace((unsigned char)v_end[-1]))
                v_end--;
        _cleanup_free_ char *k = strndup(line, k_end - line);
        char *val = strndup(v, v_end - v);
        if (!k || !val) {
                free(val);
                return -ENOMEM;
        }
        *ret_key = TAKE_PTR(k);
        *ret_value = val;
        return 0;
}

/* The value of KEY in a "Key: value" text, malloc'd; -ENOENT if absent. */
static int keyed_string(const char *text, const char *key, char **ret) {
        for (const char *p = text; *p;) {
                const char *nl = strchrnul(p, '\n');
                _cleanup_free_ char *k = NULL;
                char *v = NULL;
                int r = split_key_value(p, nl - p, &k, &v);
                if (r == -ENOMEM)
                        return r;
                if (r == 0 && streq(k, key)) {
                        *ret = v;
                        return 0;
                }
                free(v);
                p = *nl ? nl + 1 : nl;
        }
        return -ENOENT;
}

/* Shared by the public parser and discovery, which names the missing field. */
static int parse_information(const char *text, struct nvidia_gpu *ret, const char **ret_what) {
        _cleanup_(nvidia_gpu_donep) struct nvidia_gpu g = { .model = NULL };
        _cleanup_free_ char *minor = NULL;
        int r;

        *ret_what = "GPU UUID";
        r = keyed_string(text, "GPU UUID", &g.uuid);
        if (r < 0)
                return r == -ENOENT ? -EINVAL : r;
        if (!*g.uuid)
                return -EINVAL;
        *ret_what = "Device Minor";
        r = keyed_string(text, "Device Minor", &minor);
        if (r < 0)
                return r == -ENOENT ? -EINVAL : r;
        if (parse_minor(minor, &g.minor) < 0)
                return -EINVAL;
        *ret_what = NULL;
        r = keyed_string(text, "Model", &g.model);
        if (r < 0 && r != -ENOENT)
                return r;
        r = keyed_string(text, "Bus Location", &g.bus_id);
        if (r < 0 && r != -ENOENT)
                return r;
        *ret = g;
        g = (struct nvidia_gpu){ .model = NULL };
        return 0;
}

int nvidia_parse_information(const char *text, struct nvidia_gpu *ret) {
        const char *what;
        return parse_information(text, ret, &what);
}

int parse_proc_devices(const char *text, const char *name, unsigned *ret_major) {
        bool chr = false;

        for (const char *p = text; *p;) {
                const char *nl = strchrnul(p, '\n');
                size_t len = nl - p;
                if (strspn(p, " \t") == len)
                        ; /* the blank line between the sections */
                else if (len > 0 && !isspace((unsigned char)*p) && p[len - 1] == ':')
                        /* a section header: "Character devices:", "Block devices:" */
                        chr = len == strlen("Character devices:") && memcmp(p, "Character devices:", len) == 0;
                else if (chr) {
                        /* strtoul would skip any white space, the line's
                         * end included, and read the next line's number */
                        const char *num = p + strspn(p, " \t");
                        char *end;
                        if (!isdigit((unsigned char)*num))
                                return -EINVAL;
                        errno = 0;
                        unsigned long major = strtoul(num, &end, 10);
                        if (!isblank((unsigned char)*end))
                                return -EINVAL;
                        while (isblank((unsigned char)*end))
                                end++;
                        size_t nlen = nl - end;
                        while (nlen > 0 && isspace((unsigned char)end[nlen - 1]))
                                nlen--;
                        if (nlen == strlen(name) && memcmp(end, name, nlen) == 0) {
                                if (errno || major > 4095) /* majors are 12 bits */
                                        return -EINVAL;
                                *ret_major = (unsigned)major;
                                return 0;
                        }
                }
                p = *nl ? nl + 1 : nl;
        }
        return -ENOENT;
}

int nvidia_parse_cap_minor(const char *text, unsigned *ret_minor) {
        _cleanup_free_ char *v = NULL;
        int r = keyed_string(text, "DeviceFileMinor", &v);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || parse_minor(v, ret_minor) < 0)
                return -EINVAL;
        return 0;
}

/* "gi12" with PREFIX "gi": 12. Digits only, so "gi1x" or "gi" are skipped. */
static bool parse_numbered(const char *name, const char *prefix, unsigned *ret) {
        size_t n = strlen(prefix);
        uint64_t v;

        if (strncmp(name, prefix, n) != 0 || !isdigit((unsigned char)name[n]))
                return false;
        for (const char *p = name + n; *p; p++)
                if (!isdigit((unsigned char)*p))
                        return false;
        if (parse_u64(name + n, &v) < 0 || v > UINT32_MAX)
                return false;
        *ret = (unsigned)v;
        return true;
}

/* DeviceFileMinor of the access file PATH beneath DIRFD; SHOWN names it. */
static int read_cap_minor(int dirfd, const char *path, const char *shown, unsigned *ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(dirfd, path, &text, NULL);
        if (r < 0)
                return error_printf(ret_error, r, "%s: %s", shown, strerror(-r));
        r = nvidia_parse_cap_minor(text, ret);
        if (r < 0)
                return error_printf(ret_error, r, "%s: no valid \"DeviceFileMinor: N\" line", shown);
        return 0;
}

static int open_dir_beneath(int dirfd, const char *path, DIR **ret) {
        _cleanup_close_ int fd = open_beneath(dirfd, path, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return fd;
        DIR *d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        *ret = d;
        return 0;
}

static int mig_append(struct nvidia_gpu *g, const struct nvidia_mig *m) {
        struct nvidia_mig *migs = realloc(g->migs, (g->n_migs + 1) * sizeof(*migs));
        if (!migs)
                return -ENOMEM;
        g->migs = migs;
        g->migs[g->n_migs++] = *m;
        return 0;
}

/* The compute instances ci<M> of GPU instance GI_DIR (gpu<minor>/mig/gi<N>). */
static int scan_gi(int root_fd, const char *gi_dir, struct nvidia_mig tmpl,
                   struct nvidia_gpu *g, char **ret_error) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r = open_dir_beneath(root_fd, gi_dir, &d);

        if (r < 0)
                return error_printf(ret_error, r, "%s: %s", gi_dir, strerror(-r));
        while ((errno = 0, de = readdir(d))) {
                struct nvidia_mig m = tmpl;
                char path[PATH_MAX];
                if (!parse_numbered(de->d_name, "ci", &m.ci))
                        continue;
                if (snprintf(path, sizeof(path), "%s/%s/access", gi_dir, de->d_name) >= (int)sizeof(path))
                        return -ENAMETOOLONG;
                r = read_cap_minor(root_fd, path, path, &m.ci_cap_minor, ret_error);
                if (r < 0)
                        return r;
                r = mig_append(g, &m);
                if (r < 0)
                        return r;
        }
        return -errno;
}

static int mig_cmp(const void *a, const void *b) {
        const struct nvidia_mig *x = a, *y = b;
        if (x->gi != y->gi)
                return x->gi < y->gi ? -1 : 1;
        return x->ci < y->ci ? -1 : x->ci > y->ci;
}

/* MIG devices of G: capabilities/gpu<minor>/mig/gi<N>/ci<M>/access (the path
 * uses the Device Minor, as libnvidia-container's NV_GPU_CAPS_PATH does). A
 * GPU instance without compute instances is no usable device and is skipped. */
static int scan_migs(int root_fd, struct nvidia_gpu *g, char **ret_error) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        char mig_dir[PATH_MAX];
        int r;

        snprintf(mig_dir, sizeof(mig_dir), CAPS_DIR "/gpu%u/mig", g->minor);
        r = open_dir_beneath(root_fd, mig_dir, &d);
        if (r == -ENOENT)
                return 0; /* MIG not enabled */
        if (r < 0)
                return error_printf(ret_error, r, "%s: %s", mig_dir, strerror(-r));
        while ((errno = 0, de = readdir(d))) {
                struct nvidia_mig m = { .uuid = NULL };
                char gi_dir[PATH_MAX], path[PATH_MAX];
                if (!parse_numbered(de->d_name, "gi", &m.gi))
                        continue;
                if (snprintf(gi_dir, sizeof(gi_dir), "%s/%s", mig_dir, de->d_name) >= (int)sizeof(gi_dir) ||
                    snprintf(path, sizeof(path), "%s/access", gi_dir) >= (int)sizeof(path))
                        return -ENAMETOOLONG;
                r = read_cap_minor(root_fd, path, path, &m.gi_cap_minor, ret_error);
                if (r < 0)
                        return r;
                r = scan_gi(root_fd, gi_dir, m, g, ret_error);
                if (r < 0)
                        return r;
        }
        if (errno)
                return -errno;
        if (g->n_migs > 0)
                qsort(g->migs, g->n_migs, sizeof(*g->migs), mig_cmp);
        return 0;
}

/* A PCI bus id "dddd:bb:dd.f" (hex) as one number; false if it is not one. */
static bool bus_key(const char *s, uint64_t *ret) {
        unsigned dom, bus, dev, fn;
        int n = 0;
        if (sscanf(s, "%x:%x:%x.%x%n", &dom, &bus, &dev, &fn, &n) != 4 || s[n])
                return false;
        *ret = (uint64_t)dom << 32 | (uint64_t)bus << 16 | dev << 8 | fn;
        return true;
}

/* PCI bus id order, nvidia-smi's default enumeration; names that are no bus
 * id (never seen from the driver) sort after, by name. */
static int gpu_cmp(const void *a, const void *b) {
        const struct nvidia_gpu *x = a, *y = b;
        uint64_t kx, ky;
        bool ox = bus_key(x->bus_id, &kx), oy = bus_key(y->bus_id, &ky);
        if (ox && oy && kx != ky)
                return kx < ky ? -1 : 1;
        if (ox != oy)
                return ox ? -1 : 1;
        return strcasecmp(x->bus_id, y->bus_id);
}

/* "GPU Excluded: Yes" (NVreg_ExcludedGpus): the driver leaves the GPU
 * uninitialised and NVML does not enumerate it, so it has no index. */
static bool gpu_excluded(const char *text) {
        _cleanup_free_ char *v = NULL;
        return keyed_string(text, "GPU Excluded", &v) == 0 && strcasecmp(v, "Yes") == 0;
}

/* 0 and *RET; 1 when the GPU is excluded; -errno. */
static int read_gpu(int root_fd, int gpus_fd, const char *name, struct nvidia_gpu *ret, char **ret_error) {
        _cleanup_(nvidia_gpu_donep) struct nvidia_gpu g = { .model = NULL };
        _cleanup_free_ char *text = NULL;
        char path[PATH_MAX];
        const char *what;
        int r;

        if (snprintf(path, sizeof(path), "%s/information", name) >= (int)sizeof(path))
                return -ENAMETOOLONG;
        r = read_file_at(gpus_fd, path, &text, NULL);
        if (r < 0)
                return error_printf(ret_error, r, GPUS_DIR "/%s: %s", path, strerror(-r));
        if (gpu_excluded(text))
                return 1;
        r = parse_information(text, &g, &what);
        if (r == -EINVAL)
                return error_printf(ret_error, r, GPUS_DIR "/%s: missing or malformed \"%s:\" line", path, what);
        if (r < 0)
                return r;
        free(g.bus_id);
        g.bus_id = strdup(name); /* the entry name is what /proc/driver/nvidia/gpus shows */
        if (!g.bus_id)
                return -ENOMEM;
        r = scan_migs(root_fd, &g, ret_error);
        if (r < 0)
                return r;
        *ret = g;
        g = (struct nvidia_gpu){ .model = NULL };
        return 0;
}

static int read_gpus(int root_fd, struct nvidia_host *h, char **ret_error) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r = open_dir_beneath(root_fd, GPUS_DIR, &d);

        if (r == -ENOENT)
                return 0; /* driver loaded, no GPU bound */
        if (r < 0)
                return error_printf(ret_error, r, GPUS_DIR ": %s", strerror(-r));
        while ((errno = 0, de = readdir(d))) {
                struct nvidia_gpu *gpus;
                if (de->d_name[0] == '.')
                        continue;
                gpus = realloc(h->gpus, (h->n_gpus + 1) * sizeof(*gpus));
                if (!gpus)
                        return -ENOMEM;
                h->gpus = gpus;
                r = read_gpu(root_fd, dirfd(d), de->d_name, &h->gpus[h->n_gpus], ret_error);
                if (r < 0)
                        return r;
                if (r == 0)
                        h->n_gpus++;
        }
        if (errno)
                return -errno;
        if (h->n_gpus > 0)
                qsort(h->gpus, h->n_gpus, sizeof(*h->gpus), gpu_cmp);
        return 0;
}

static int read_majors(int root_fd, struct nvidia_host *h, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(root_fd, "proc/devices", &text, NULL);

        if (r < 0)
                return error_printf(ret_error, r, "proc/devices: %s", strerror(-r));
        /* Newer drivers register "nvidia-frontend", older ones "nvidia". */
        r = parse_proc_devices(text, "nvidia-frontend", &h->major);
        if (r == -ENOENT)
                r = parse_proc_devices(text, "nvidia", &h->major);
        if (r == -ENOENT)
                return error_printf(ret_error, -ENODEV,
                                    "proc/devices: no \"nvidia-frontend\" or \"nvidia\" character device (NVIDIA driver not loaded)");
        if (r < 0)
                return error_printf(ret_error, r, "proc/devices: malformed line");
        r = parse_proc_devices(text, "nvidia-uvm", &h->uvm_major);
        if (r < 0 && r != -ENOENT)
                return error_printf(ret_error, r, "proc/devices: malformed line");
        h->has_uvm = r == 0;
        r = parse_proc_devices(text, "nvidia-caps", &h->caps_major);
        if (r < 0 && r != -ENOENT)
                return error_printf(ret_error, r, "proc/devices: malformed line");
        h->has_caps = r == 0;
        return 0;
}

/* capabilities/mig/{config,monitor}: MIG management, given only on request. */
static int read_mig_global(int root_fd, const char *path, bool *ret_has, unsigned *ret_minor, char **ret_error) {
        _cleanup_close_ int fd = open_beneath(root_fd, path, O_PATH);
        if (fd == -ENOENT) {
                *ret_has = false;
                return 0;
        }
        int r = read_cap_minor(root_fd, path, path, ret_minor, ret_error);
        if (r < 0)
                return r;
        *ret_has = true;
        return 0;
}

int nvidia_discover(int root_fd, struct nvidia_host *ret, char **ret_error) {
        _cleanup_(nvidia_host_donep) struct nvidia_host h = { .gpus = NULL };
        int r;

        r = read_majors(root_fd, &h, ret_error);
        if (r < 0)
                return r;
        r = read_gpus(root_fd, &h, ret_error);
        if (r < 0)
                return r;
        r = read_mig_global(root_fd, CAPS_DIR "/mig/config", &h.has_mig_config, &h.mig_config_minor, ret_error);
        if (r < 0)
                return r;
        r = read_mig_global(root_fd, CAPS_DIR "/mig/monitor", &h.has_mig_monitor, &h.mig_monitor_minor, ret_error);
        if (r < 0)
                return r;
        /* libnvidia-container gives nvidia-modeset only where the node exists. */
        _cleanup_close_ int fd = open_beneath(root_fd, "dev/nvidia-modeset", O_PATH);
        h.has_modeset = fd >= 0;
        *ret = h;
        h = (struct nvidia_host){ .gpus = NULL };
        return 0;
}
