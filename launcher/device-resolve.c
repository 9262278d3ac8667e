#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "amd.h"
#include "cdi.h"
#include "fileio.h"
#include "gpu-select.h"
#include "launcher.h"
#include "macro.h"
#include "nvidia.h"

/* What --device and --gpu name, resolved against the host root (curate run
 * and curate device add|remove alike). */


/* --device /dev/X[:rwm]: the node must exist beneath the host root and be a
 * char or block device; its path inside the container is the same. */
static int resolve_host_node(int root_fd, const char *spec, struct device_list *list, char **ret_error) {
        _cleanup_free_ char *path = strdup(spec);
        _cleanup_close_ int fd = -EBADF;
        struct device_node node = { .uid = (uid_t)-1, .gid = (gid_t)-1 };
        const char *want;
        char *colon, *a = node.access;
        struct stat st;
        int r;

        if (!path)
                return -ENOMEM;
        colon = strchr(path, ':');
        want = colon ? colon + 1 : "rwm";
        /* `curate device add` comes here without the policy's shape check */
        if (!*want || strspn(want, "rwm") != strlen(want))
                return error_printf(ret_error, -EINVAL, "--device %s: bad access mode '%s': valid is a non-empty "
                                    "subset of rwm (read, write, mknod)", spec, want);
        for (const char *k = "rwm"; *k; k++) /* "rwm" order, as device_node wants it */
                if (strchr(want, *k))
                        *a++ = *k;
        if (colon)
                *colon = '\0';
        fd = open_beneath(root_fd, path + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return error_printf(ret_error, fd, "--device %s: %s", spec, strerror(-fd));
        if (fstat(fd, &st) < 0)
                return error_printf(ret_error, -errno, "--device %s: %s", spec, strerror(errno));
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
                return error_printf(ret_error, -ENODEV, "--device %s: %s is not a character or block device",
                                    spec, path);
        node.path = path;
        node.host_path = path;
        node.type = S_ISCHR(st.st_mode) ? 'c' : 'b';
        node.major = major(st.st_rdev);
        node.minor = minor(st.st_rdev);
        node.file_mode = st.st_mode & 07777;
        r = device_list_add(list, &node);
        if (r < 0)
                return error_printf(ret_error, r, "--device %s: %s", spec,
                                    r == -EEXIST ? "conflicts with another device of the same path" : strerror(-r));
        return 0;
}

static int add_nodes(struct device_list *list, const struct device_list *from, const char *what, char **ret_error) {
        for (size_t i = 0; i < from->n; i++) {
                int r = device_list_add(list, &from->nodes[i]);
                if (r < 0)
                        return error_printf(ret_error, r, "%s: %s: %s", what, from->nodes[i].path,
                                            r == -EEXIST ? "conflicts with another device of the same path" : strerror(-r));
        }
        return 0;
}

/* A CDI bind mount's source must be there when the device is asked for,
 * before anything is made, not found missing among the container's mounts
 * later: named with the spec that asks for it. */
static int check_cdi_mount_sources(int root_fd, const struct cdi_edits *edits, char **ret_error) {
        for (size_t i = 0; i < edits->n_mounts; i++) {
                const struct cdi_mount *m = &edits->mounts[i];
                const char *fs_opts[32];
                unsigned attrs;
                bool bind, rec;
                _cleanup_close_ int fd = -EBADF;

                if (cdi_mount_options(m, &attrs, &bind, &rec, fs_opts, ELEMENTSOF(fs_opts)) < 0 || !bind)
                        continue;
                fd = open_beneath(root_fd, m->host_path, O_PATH);
                if (fd < 0)
                        return error_printf(ret_error, fd, "%s: mount %s: hostPath %s: %s", m->spec_path,
                                            m->container_path, m->host_path, strerror(-fd));
        }
        return 0;
}

/* --device vendor/class=name: everything its spec gives (nodes, env, mounts,
 * additionalGIDs and hooks, which the caller reports as not run). */
static int resolve_cdi(int root_fd, const char *spec, struct cdi_edits *req, char **ret_error) {
        _cleanup_free_ char *error = NULL;
        struct cdi_registry reg = {};
        struct cdi_edits edits = {};
        int r;

        r = cdi_registry_load(root_fd, cdi_default_dirs, &reg, &error);
        if (r >= 0)
                r = cdi_resolve(&reg, spec, &edits, &error);
        if (r >= 0)
                r = check_cdi_mount_sources(root_fd, &edits, &error);
        if (r >= 0)
                r = cdi_edits_merge(req, &edits, &error);
        if (r < 0)
                r = error_printf(ret_error, r, "--device %s: %s", spec, error ? error : strerror(-r));
        cdi_edits_done(&edits);
        cdi_registry_done(&reg);
        return r;
}

/* --gpu amd:all|0,1|BUS-ID: /dev/kfd and the selected GPUs' DRI nodes */
static int resolve_amd(int root_fd, const char *spec, struct device_list *list, char **ret_error) {
        _cleanup_free_ char *error = NULL;
        struct amd_host host = {};
        struct device_list nodes = {};
        int r;

        r = amd_discover(root_fd, &host, &error);
        if (r < 0)
                return error_printf(ret_error, r, "--gpu %s: %s", spec,
                                    r == -ENODEV ? "this host has no AMD GPU (no AMD DRM node in /sys/class/drm)"
                                                 : error ? error : strerror(-r));
        r = amd_select_resolve(spec + 4, &host, &nodes, &error);
        if (r < 0)
                r = error_printf(ret_error, r, "--gpu %s: %s", spec, error ? error : strerror(-r));
        else
                r = add_nodes(list, &nodes, "--gpu", ret_error);
        device_list_done(&nodes);
        amd_host_done(&host);
        return r;
}

/* --gpu SPEC: NVIDIA (NVIDIA_VISIBLE_DEVICES semantics, optionally written
 * "nvidia:SPEC"), or AMD with "amd:SPEC" */
static int resolve_gpu(int root_fd, const char *spec, struct device_list *list, char **ret_error) {
        _cleanup_free_ char *error = NULL;
        struct gpu_selection sel = {};
        struct nvidia_host host = {};
        struct device_list nodes = {};
        int r;

        if (strncasecmp(spec, "amd:", 4) == 0)
                return resolve_amd(root_fd, spec, list, ret_error);
        r = gpu_select_parse(strncasecmp(spec, "nvidia:", 7) == 0 ? spec + 7 : spec, &sel, &error);
        if (r < 0)
                return error_printf(ret_error, r, "--gpu %s: %s", spec, error ? error : strerror(-r));
        r = nvidia_discover(root_fd, &host, &error);
        if (r < 0) {
                r = error_printf(ret_error, r, "--gpu %s: %s", spec,
                                 r == -ENODEV ? "this host has no NVIDIA driver (no nvidia in /proc/devices)"
                                              : error ? error : strerror(-r));
                goto out_sel;
        }
        r = gpu_select_resolve(&sel, &host, &nodes, NULL, &error);
        if (r < 0)
                r = error_printf(ret_error, r, "--gpu %s: %s", spec, error ? error : strerror(-r));
        else
                r = add_nodes(list, &nodes, "--gpu", ret_error);
        device_list_done(&nodes);
        nvidia_host_done(&host);
out_sel:
        gpu_selection_done(&sel);
        return r;
}

/* The nodes every curated /dev has (curatefs's dev/, allowed by the default
 * device rules): asking for one adds nothing, and registering it would
 * clash with the node curatefs already serves at that name. */
static const char *const curated_nodes[] = {
        "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
};

static void drop_curated(struct device_list *l) {
        size_t kept = 0;

        for (size_t i = 0; i < l->n; i++) {
                bool curated = false;
                for (size_t k = 0; k < ELEMENTSOF(curated_nodes); k++)
                        curated |= streq(l->nodes[i].path, curated_nodes[k]);
                if (curated) {
                        free(l->nodes[i].path);
                        free(l->nodes[i].host_path);
                } else {
                        l->nodes[kept++] = l->nodes[i];
                }
        }
        l->n = kept;
}

int devices_resolve(int root_fd, char *const *specs, size_t n_specs, const char *gpu, struct cdi_edits *ret,
                    char **ret_error) {
        struct cdi_edits req = {};
        int r = 0;

        for (size_t i = 0; r >= 0 && i < n_specs; i++)
                r = specs[i][0] == '/' ? resolve_host_node(root_fd, specs[i], &req.nodes, ret_error)
                                       : resolve_cdi(root_fd, specs[i], &req, ret_error);
        if (r >= 0 && gpu)
                r = resolve_gpu(root_fd, gpu, &req.nodes, ret_error);
        if (r >= 0)
                drop_curated(&req.nodes);
        if (r < 0) {
                cdi_edits_done(&req);
                return r;
        }
        *ret = req;
        return 0;
}
