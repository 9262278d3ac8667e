/* The container's /proc/driver/nvidia: only its GPUs, and a params that
 * says "ModifyDeviceFiles: 0" (libnvidia-container's mount_procfs()).
 *
 * Declared in launcher.h as:
 *
 *   int proc_nvidia_setup(int host_root_fd, int container_root_fd, char *const *bus_ids,
 *                         char *const *cap_paths, char **ret_error);
 *
 * BUS_IDS (nvidia_proc_gpus()) and CAP_PATHS (nvidia_proc_caps(), may be
 * NULL: no capabilities/ directory) come from the container's final device
 * set. Called inside the container's mount namespace, as root, after its
 * /proc is mounted and before anything is made read-only. 0 (also when the
 * host has no proc/driver/nvidia: nothing to curate), or -errno with
 * *RET_ERROR naming the path and the reason, and nothing left mounted.
 *
 * The view is a small tmpfs:
 *   gpus/<bus id>/   read-only binds of the host's, one per given GPU
 *   params           a copy, ModifyDeviceFiles set to 0 (mode 0444)
 *   version, registry  copies (mode 0444), when the host has them
 *   capabilities/... read-only binds of the given access files only
 * made read-only as a whole and attached with one move_mount(2) onto the
 * container's proc/driver/nvidia. Where the container's procfs has no
 * proc/driver/nvidia (a fake $CURATE_HOST_ROOT on a host without the
 * driver; procfs refuses mkdir), the tmpfs goes on proc/driver instead,
 * the view in its nvidia/ and read-only binds of every entry proc/driver
 * had beside it, so nothing the host shows there disappears.
 *
 * The tree is built detached (fsmount(2) gives a detached mount) so a
 * failure leaves nothing behind. Mounting onto a detached mount needs
 * Linux 6.15 ("fs: mount detached mounts onto detached mounts"); older
 * kernels refuse it with EINVAL, and there the tmpfs is attached first,
 * filled in place, and detached again on failure. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include "fileio.h"
#include "run.h"
#include "launcher.h"
#include "macro.h"
#include "nvidia-proc.h"

#define NV_DIR "proc/driver/nvidia"
#define DRIVER_DIR "proc/driver"
#define VIEW_ATTRS (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)
/* see mounts.c's mount_on(): a procfs target can fail ENOENT transiently */
#define ATTACH_TRIES 8

/* One entry of the container's proc/driver, cloned to be shown again. */
struct driver_entry {
        char *name;
        int tree_fd; /* detached read-only copy; -EBADF once moved */
        bool dir;
};

struct build {
        int host_root_fd, container_root_fd;
        char *const *bus_ids, *const *cap_paths;
        bool wrap;             /* the tmpfs goes on proc/driver, the view in nvidia/ */
        bool in_place;         /* attached before it is filled (kernels before 6.15) */
        bool detached_refused; /* a mount onto the detached tmpfs failed EINVAL */
        int *ret_tree;         /* proc_nvidia_build(): hand the detached view back */
        int mnt_fd;            /* the tmpfs */
        int nv_fd;             /* the view's directory in it */
        struct driver_entry *entries;
        size_t n_entries;
        char **ret_error;
};

static int fail(const struct build *b, int r, const char *path, const char *what) {
        return error_printf(b->ret_error, r, "%s: %s: %s", path, what, strerror(-r));
}

static int new_tmpfs(int *ret) {
        static const char *const opts[] = { "mode=0555", "size=1m", NULL };
        int mnt = mount_fs_new("tmpfs", opts, VIEW_ATTRS);

        if (mnt < 0)
                return mnt;
        *ret = mnt;
        return 0;
}

/* A detached read-only copy of the mount tree at FD (an O_PATH fd). */
static int clone_ro(int fd, int *ret) {
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY | VIEW_ATTRS };
        _cleanup_close_ int tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
                                                     AT_EMPTY_PATH);

        if (tree < 0)
                return -errno;
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return -errno;
        *ret = TAKE_FD(tree);
        return 0;
}

/* An empty directory or file NAME beneath DIR_FD for a mount to go on. */
static int make_mount_point(int dir_fd, const char *name, bool dir) {
        if (dir)
                return mkdirat(dir_fd, name, 0555) < 0 ? -errno : 0;
        int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

/* Move the detached TREE onto NAME beneath DIR_FD, inside the tmpfs. */
static int graft(struct build *b, int *tree, int dir_fd, const char *name, bool dir) {
        int r = make_mount_point(dir_fd, name, dir);

        if (r < 0)
                return r;
        if (move_mount(*tree, "", dir_fd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
                b->detached_refused |= errno == EINVAL && !b->in_place;
                return -errno;
        }
        close(TAKE_FD(*tree));
        return 0;
}

/* The host's proc/driver/nvidia/PATH, read-only, at PATH in the view. */
static int bind_host(struct build *b, const char *path) {
        char host[PATH_MAX];
        _cleanup_close_ int src = -EBADF, tree = -EBADF, dir_fd = -EBADF;
        struct stat st;
        const char *slash = strrchr(path, '/');
        int r;

        if (snprintf(host, sizeof(host), NV_DIR "/%s", path) >= (int)sizeof(host))
                return fail(b, -ENAMETOOLONG, path, "bad path");
        src = open_beneath(b->host_root_fd, host, O_PATH | O_NOFOLLOW);
        if (src < 0)
                return fail(b, src, host, "on the host");
        if (fstat(src, &st) < 0)
                return fail(b, -errno, host, "on the host");
        r = clone_ro(src, &tree);
        if (r < 0)
                return fail(b, r, host, "copying the host's mount");
        if (slash) {
                char parent[PATH_MAX];
                snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
                dir_fd = openat(b->nv_fd, parent, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dir_fd < 0)
                        return fail(b, -errno, host, "opening its parent in the view");
        }
        r = graft(b, &tree, slash ? dir_fd : b->nv_fd, slash ? slash + 1 : path, S_ISDIR(st.st_mode));
        return r < 0 ? fail(b, r, host, "binding it into the view") : 0;
}

/* The directories leading to PATH in the view ("a/b/c": a and a/b). */
static int make_parents(struct build *b, const char *path) {
        char dir[PATH_MAX];

        for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
                snprintf(dir, sizeof(dir), "%.*s", (int)(s - path), path);
                if (mkdirat(b->nv_fd, dir, 0555) < 0 && errno != EEXIST)
                        return fail(b, -errno, dir, "creating it in the view");
        }
        return 0;
}

/* A copy of the host's proc/driver/nvidia/NAME (params rewritten), 0444;
 * nothing when the host has no such file. */
static int copy_host_file(struct build *b, const char *name) {
        _cleanup_free_ char *text = NULL, *rewritten = NULL;
        _cleanup_close_ int fd = -EBADF;
        char host[PATH_MAX];
        int r;

        snprintf(host, sizeof(host), NV_DIR "/%s", name);
        r = read_file_at(b->host_root_fd, host, &text, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return fail(b, r, host, "reading it on the host");
        if (streq(name, "params")) {
                r = nvidia_params_rewrite(text, &rewritten);
                if (r < 0)
                        return fail(b, r, host, "rewriting ModifyDeviceFiles");
        }
        fd = openat(b->nv_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
        if (fd < 0)
                return fail(b, -errno, host, "creating its copy");
        r = write_all(fd, rewritten ? rewritten : text, strlen(rewritten ? rewritten : text));
        return r < 0 ? fail(b, r, host, "writing its copy") : 0;
}

static int fill_view(struct build *b) {
        static const char *const files[] = { "params", "version", "registry" };
        char path[PATH_MAX];
        int r;

        if (mkdirat(b->nv_fd, "gpus", 0555) < 0)
                return fail(b, -errno, "gpus", "creating it in the view");
        for (char *const *id = b->bus_ids; id && *id; id++) {
                snprintf(path, sizeof(path), "gpus/%s", *id);
                if ((r = bind_host(b, path)) < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                if ((r = copy_host_file(b, files[i])) < 0)
                        return r;
        for (char *const *p = b->cap_paths; p && *p; p++)
                if ((r = make_parents(b, *p)) < 0 || (r = bind_host(b, *p)) < 0)
                        return r;
        return 0;
}

static void entries_free(struct build *b) {
        for (size_t i = 0; i < b->n_entries; i++) {
                free(b->entries[i].name);
                if (b->entries[i].tree_fd >= 0)
                        close(b->entries[i].tree_fd);
        }
        free(b->entries);
        b->entries = NULL;
        b->n_entries = 0;
}

static int add_entry(struct build *b, int dir_fd, const char *name) {
        _cleanup_close_ int src = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct driver_entry *e;
        struct stat st;
        int r;

        if (src < 0 || fstat(src, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                return 0; /* procfs shows none, and a link cannot be bound */
        e = realloc(b->entries, (b->n_entries + 1) * sizeof(*e));
        if (!e)
                return -ENOMEM;
        b->entries = e;
        e = &b->entries[b->n_entries];
        *e = (struct driver_entry){ .name = strdup(name), .tree_fd = -EBADF, .dir = S_ISDIR(st.st_mode) };
        if (!e->name)
                return -ENOMEM;
        b->n_entries++;
        r = clone_ro(src, &e->tree_fd);
        return r < 0 ? r : 0;
}

/* Read-only copies of what the container's proc/driver holds, taken before
 * the tmpfs hides it. */
static int clone_driver_entries(struct build *b) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd = open_beneath(b->container_root_fd, DRIVER_DIR, O_RDONLY | O_DIRECTORY);

        if (fd < 0)
                return fail(b, fd, "/" DRIVER_DIR, "in the container");
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return fail(b, -errno, "/" DRIVER_DIR, "in the container");
        }
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int r = add_entry(b, dirfd(d), de->d_name);
                if (r < 0)
                        return error_printf(b->ret_error, r, "/" DRIVER_DIR "/%s: copying it into the view: %s",
                                            de->d_name, strerror(-r));
        }
        return errno ? fail(b, -errno, "/" DRIVER_DIR, "reading it") : 0;
}

static int fill(struct build *b) {
        int r;

        if (!b->wrap) {
                b->nv_fd = b->mnt_fd;
                return fill_view(b);
        }
        for (size_t i = 0; i < b->n_entries; i++) {
                struct driver_entry *e = &b->entries[i];
                r = graft(b, &e->tree_fd, b->mnt_fd, e->name, e->dir);
                if (r < 0)
                        return error_printf(b->ret_error, r, "/" DRIVER_DIR "/%s: binding it into the view: %s",
                                            e->name, strerror(-r));
        }
        if (mkdirat(b->mnt_fd, "nvidia", 0555) < 0)
                return fail(b, -errno, "nvidia", "creating it in the view");
        b->nv_fd = openat(b->mnt_fd, "nvidia", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (b->nv_fd < 0)
                return fail(b, -errno, "nvidia", "opening it in the view");
        r = fill_view(b);
        close(TAKE_FD(b->nv_fd));
        return r;
}

/* Attach the tmpfs on the container's target, looked up afresh each try. */
static int attach(struct build *b) {
        const char *path = b->wrap ? DRIVER_DIR : NV_DIR;
        int r = -ENOENT;

        for (int try = 0; try < ATTACH_TRIES && r == -ENOENT; try++) {
                _cleanup_close_ int target = open_beneath(b->container_root_fd, path, O_PATH | O_DIRECTORY);
                if (target < 0)
                        return error_printf(b->ret_error, target, "/%s: in the container: %s", path, strerror(-target));
                r = move_mount(b->mnt_fd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0
                                    ? -errno : 0;
        }
        return r < 0 ? error_printf(b->ret_error, r, "/%s: mounting the NVIDIA view on it: %s", path, strerror(-r)) : 0;
}

/* Undo an in-place attach: there is no umount by fd, but the magic link
 * /proc/self/fd/N leads umount2(2) to the tmpfs itself. */
static void detach(const struct build *b) {
        char self[64];
        snprintf(self, sizeof(self), "/proc/self/fd/%d", b->mnt_fd);
        (void)umount2(self, MNT_DETACH);
}

static int build(struct build *b) {
        struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
        bool attached = false;
        int r;

        b->mnt_fd = b->nv_fd = -EBADF;
        r = new_tmpfs(&b->mnt_fd);
        if (r < 0)
                r = fail(b, r, "tmpfs", "creating the NVIDIA view");
        if (r >= 0 && b->wrap)
                r = clone_driver_entries(b);
        if (r >= 0 && b->in_place && (r = attach(b)) >= 0)
                attached = true;
        if (r >= 0)
                r = fill(b);
        if (r >= 0 && mount_setattr(b->mnt_fd, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
                r = fail(b, -errno, "tmpfs", "making the NVIDIA view read-only");
        if (r >= 0 && !b->in_place && b->ret_tree)
                *b->ret_tree = TAKE_FD(b->mnt_fd);
        else if (r >= 0 && !b->in_place)
                r = attach(b);
        else if (r < 0 && attached)
                detach(b);
        entries_free(b);
        if (b->mnt_fd >= 0)
                close(TAKE_FD(b->mnt_fd));
        return r;
}

/* Bus ids are directory names; capability paths are relative paths in the
 * driver's directory. Neither may climb out of it. */
static bool valid_path(const char *p, bool one_name) {
        if (!*p || *p == '/' || (one_name && strchr(p, '/')))
                return false;
        for (const char *c = p; c; c = strchr(c, '/')) {
                c += *c == '/';
                size_t n = strcspn(c, "/");
                if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
        }
        return true;
}

static int setup(int host_root_fd, int container_root_fd, char *const *bus_ids, char *const *cap_paths,
                 int *ret_tree, char **ret_error) {
        struct build b = { .host_root_fd = host_root_fd, .container_root_fd = container_root_fd,
                           .bus_ids = bus_ids, .cap_paths = cap_paths, .ret_tree = ret_tree, .ret_error = ret_error };
        _cleanup_close_ int host_nv = open_beneath(host_root_fd, NV_DIR, O_PATH | O_DIRECTORY);
        _cleanup_close_ int container_nv = -EBADF;
        int r;

        if (host_nv == -ENOENT)
                return 0; /* no NVIDIA driver: nothing to curate */
        if (host_nv < 0)
                return error_printf(ret_error, host_nv, NV_DIR ": on the host: %s", strerror(-host_nv));
        for (char *const *id = bus_ids; id && *id; id++)
                if (!valid_path(*id, true))
                        return error_printf(ret_error, -EINVAL, "GPU bus id \"%s\": not a directory name", *id);
        for (char *const *p = cap_paths; p && *p; p++)
                if (!valid_path(*p, false))
                        return error_printf(ret_error, -EINVAL, "capability path \"%s\": not a relative path", *p);
        container_nv = open_beneath(container_root_fd, NV_DIR, O_PATH | O_DIRECTORY);
        if (container_nv < 0 && container_nv != -ENOENT)
                return error_printf(ret_error, container_nv, "/" NV_DIR ": in the container: %s",
                                    strerror(-container_nv));
        b.wrap = container_nv == -ENOENT;
        if (ret_tree && b.wrap)
                return error_printf(ret_error, -EOPNOTSUPP, "/" NV_DIR ": the container has no view to replace");
        r = build(&b);
        if (r < 0 && b.detached_refused && ret_tree)
                return error_printf(ret_error, -EOPNOTSUPP,
                                    "this kernel cannot build the NVIDIA view detached (Linux 6.15 can)");
        if (r < 0 && b.detached_refused) {
                b.in_place = true;
                r = build(&b);
        }
        return r;
}

int proc_nvidia_setup(int host_root_fd, int container_root_fd, char *const *bus_ids, char *const *cap_paths,
                      char **ret_error) {
        return setup(host_root_fd, container_root_fd, bus_ids, cap_paths, NULL, ret_error);
}

int proc_nvidia_build(int host_root_fd, int container_root_fd, char *const *bus_ids, char *const *cap_paths,
                      int *ret_tree, char **ret_error) {
        *ret_tree = -EBADF;
        return setup(host_root_fd, container_root_fd, bus_ids, cap_paths, ret_tree, ret_error);
}
