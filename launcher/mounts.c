#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "fileio.h"
#include "macro.h"
#include "launcher.h"
#include "run.h"

/* The container's mount table, built in the child inside its new mount
 * namespace. Every destination is resolved beneath the container's root
 * with openat2(RESOLVE_IN_ROOT), so a symlink in a --rootfs tree cannot
 * send a mount outside it; mounts are made with the new mount API
 * (open_tree/fsopen + move_mount), attached to those fds. */

struct mount_ctx {
        const struct policy *p;
        const struct run_config *cfg;
        int root_fd;    /* the container's root: / or the --rootfs bind */
        int mp_fd;      /* the curatefs mount point (host path) */
        int devnull_fd; /* the host's /dev/null, bound over masked files */
        char **ret_error;
};

/* Masked directories become an empty tmpfs nobody can write to. */
#define ATTR_LOCKED_DOWN (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)

static int attach(int tree_fd, int target_fd) {
        if (move_mount(tree_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

/* A copy of the mount(s) at FROM_FD (+ FROM, may be "") attached on TARGET_FD;
 * with ATTRS (MOUNT_ATTR_*, recursively) set on the copy. */
static int bind_onto(int from_fd, const char *from, int target_fd, bool recursive, unsigned attrs) {
        unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
        _cleanup_close_ int tree = -EBADF;

        if (!*from)
                flags |= AT_EMPTY_PATH;
        tree = open_tree(from_fd, from, flags);
        if (tree < 0)
                return -errno;
        if (attrs) {
                struct mount_attr attr = { .attr_set = attrs };
                if (mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0)
                        return -errno;
        }
        return attach(tree, target_fd);
}

int mount_fs_new(const char *fstype, const char *const *opts, unsigned attrs) {
        _cleanup_close_ int fs = fsopen(fstype, FSOPEN_CLOEXEC);
        int mnt;

        if (fs < 0)
                return -errno;
        /* the source column of mountinfo, as mount(8) would name it */
        if (fsconfig(fs, FSCONFIG_SET_STRING, "source", fstype, 0) < 0)
                return -errno;
        for (; opts && *opts; opts++) {
                char key[64];
                const char *eq = strchr(*opts, '=');
                int r;
                if (!eq) {
                        r = fsconfig(fs, FSCONFIG_SET_FLAG, *opts, NULL, 0);
                } else {
                        snprintf(key, sizeof(key), "%.*s", (int)(eq - *opts), *opts);
                        r = fsconfig(fs, FSCONFIG_SET_STRING, key, eq + 1, 0);
                }
                if (r < 0)
                        return -errno;
        }
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
        return mnt < 0 ? -errno : mnt;
}

/* A new filesystem instance attached on TARGET_FD. */
static int mount_new(const char *fstype, const char *const *opts, unsigned attrs, int target_fd) {
        _cleanup_close_ int mnt = mount_fs_new(fstype, opts, attrs);

        return mnt < 0 ? mnt : attach(mnt, target_fd);
}

/* The container's PATH as an O_PATH fd; -ENOENT when it does not exist. */
static int target(const struct mount_ctx *c, const char *path) {
        return open_beneath(c->root_fd, path, O_PATH);
}

/* One mount to make on a target: a copy of a mount tree, or a new
 * filesystem. A mask picks between them by the target's type. */
struct mount_op {
        enum { OP_BIND, OP_BIND_SELF, OP_NEW, OP_MASK } kind;
        int from_fd;      /* OP_BIND: FROM_FD + FROM (may be "") */
        const char *from;
        bool recursive, ro;
        const char *fstype; /* OP_NEW */
        const char *const *opts;
        unsigned attrs;   /* OP_NEW: of the new mount; OP_BIND: set on the copy */
};

static int apply_op(const struct mount_ctx *c, const struct mount_op *op, int target_fd) {
        static const char *const mask_opts[] = { "mode=0555", NULL };
        struct stat st;

        switch (op->kind) {
        case OP_BIND:
                return bind_onto(op->from_fd, op->from, target_fd, op->recursive,
                                 op->attrs | (op->ro ? MOUNT_ATTR_RDONLY : 0));
        case OP_BIND_SELF:
                return bind_onto(target_fd, "", target_fd, op->recursive, op->ro ? MOUNT_ATTR_RDONLY : 0);
        case OP_NEW:
                return mount_new(op->fstype, op->opts, op->attrs, target_fd);
        case OP_MASK:
                if (fstat(target_fd, &st) < 0)
                        return -errno;
                if (S_ISDIR(st.st_mode))
                        return mount_new("tmpfs", mask_opts, ATTR_LOCKED_DOWN, target_fd);
                return bind_onto(c->devnull_fd, "", target_fd, false, 0);
        }
        return -EINVAL;
}

/* Make OP on the container's PATH. Returns 0, 1 when PATH does not exist
 * (the caller decides whether that matters), or -errno.
 *
 * Every container mounts over the same procfs dentries (/proc/meminfo,
 * /proc/kcore...). While another mount namespace is tearing down its own
 * mounts there (a container exiting as this one starts), move_mount(2)
 * onto the dentry this lookup found can fail with ENOENT, the same fd
 * failing again however long one waits, while a fresh lookup of the path
 * succeeds at once (measured here: about 1 run in 50 when three start
 * together on a fresh daemon). So ENOENT from the mount itself is retried
 * with a new lookup. */
#define MOUNT_TRIES 8
static int mount_on(const struct mount_ctx *c, const char *path, const struct mount_op *op) {
        int r = -ENOENT;

        for (int try = 0; try < MOUNT_TRIES && r == -ENOENT; try++) {
                _cleanup_close_ int fd = target(c, path);
                if (fd == -ENOENT)
                        return 1;
                if (fd < 0)
                        return fd;
                r = apply_op(c, op, fd);
        }
        return r;
}

static int fail(const struct mount_ctx *c, int r, const char *what, const char *path) {
        return error_printf(c->ret_error, r, "%s on %s: %s", what, path, strerror(-r));
}

static int setup_proc(const struct mount_ctx *c) {
        static const char *const none[] = { NULL };
        const struct mount_op fresh = { .kind = OP_NEW, .fstype = "proc", .opts = none,
                                        .attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC };
        const struct mount_op host = { .kind = OP_BIND, .from_fd = AT_FDCWD, .from = "/proc", .recursive = true };
        int r;

        if (!c->p->pid_ns && !c->p->rootfs)
                return 0;
        r = mount_on(c, "/proc", c->p->pid_ns ? &fresh : &host);
        if (r == 1)
                r = -ENOENT;
        return r < 0 ? fail(c, r, "mounting proc", "/proc") : 0;
}

/* Inside a --rootfs: the host's /sys, read-only (as runc mounts sysfs). */
static int setup_sys(const struct mount_ctx *c) {
        const struct mount_op op = { .kind = OP_BIND, .from_fd = AT_FDCWD, .from = "/sys", .recursive = true, .ro = true };
        int r;

        if (!c->p->rootfs)
                return 0;
        r = mount_on(c, "/sys", &op);
        return r < 0 ? fail(c, r, "mounting sysfs", "/sys") : 0;
}

static int setup_views(const struct mount_ctx *c) {
        for (int v = 0; v < _POLICY_VIEW_MAX; v++) {
                const struct policy_view_info *info = &policy_views[v];
                const struct mount_op op = { .kind = OP_BIND, .from_fd = c->mp_fd, .from = info->source };
                int r;

                if (!(c->p->views & (1u << v)))
                        continue;
                /* 1: a rootfs without /sys, nothing to curate there */
                r = mount_on(c, info->target, &op);
                if (r < 0)
                        return fail(c, r, "binding the curatefs view", info->target);
        }
        return 0;
}

/* The curated /dev: curatefs's MOUNTPOINT/dev, then a private devpts (ptmx
 * is its "pts/ptmx" through curatefs's symlink), a private tmpfs on shm and
 * mqueue where the host has it. */
static int setup_dev_mounts(const struct mount_ctx *c) {
        const char *pts_opts[] = { "newinstance", "ptmxmode=0666", "mode=0620", c->p->user_ns ? NULL : "gid=5", NULL };
        static const char *const shm_opts[] = { "mode=1777", NULL };
        static const char *const no_opts[] = { NULL };
        const struct mount_op pts = { .kind = OP_NEW, .fstype = "devpts", .opts = pts_opts,
                                      .attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC };
        const struct mount_op shm = { .kind = OP_NEW, .fstype = "tmpfs", .opts = shm_opts,
                                      .attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
        const struct mount_op mq = { .kind = OP_NEW, .fstype = "mqueue", .opts = no_opts,
                                     .attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC };
        int r;

        r = mount_on(c, "/dev/pts", &pts);
        if (r != 0)
                return fail(c, r == 1 ? -ENOENT : r, "mounting devpts", "/dev/pts");
        r = mount_on(c, "/dev/shm", &shm);
        if (r != 0)
                return fail(c, r == 1 ? -ENOENT : r, "mounting tmpfs", "/dev/shm");
        r = mount_on(c, "/dev/mqueue", &mq);
        /* the host has no mqueue, or (user namespace) the IPC namespace is
         * not ours to mount: /dev/mqueue stays an empty directory */
        if (r < 0 && r != -ENODEV && r != -EPERM)
                return fail(c, r, "mounting mqueue", "/dev/mqueue");
        return 0;
}

static int setup_dev(const struct mount_ctx *c) {
        const struct mount_op host = { .kind = OP_BIND, .from_fd = AT_FDCWD, .from = "/dev", .recursive = true };
        char devs[64];
        struct mount_op curated = { .kind = OP_BIND, .from_fd = c->mp_fd, .from = "dev" };
        int r;

        /* with --device/--gpu: curatefs's per-container tree, the curated
         * set plus the registered nodes, served to this cgroup only */
        if (c->cfg->dev.nodes.n > 0) {
                snprintf(devs, sizeof(devs), "devs/%s", c->cfg->devices_id);
                curated.from = devs;
        }

        if (!c->p->curated_dev) {
                if (!c->p->rootfs)
                        return 0;
                r = mount_on(c, "/dev", &host);
                return r != 0 ? fail(c, r == 1 ? -ENOENT : r, "binding the host's /dev", "/dev") : 0;
        }
        r = mount_on(c, "/dev", &curated);
        if (r != 0)
                return fail(c, r == 1 ? -ENOENT : r,
                            c->cfg->dev.nodes.n > 0 ? "binding the curatefs per-container /dev (devs/ID: does curatefs serve it?)"
                                                  : "binding the curatefs /dev", "/dev");
        return setup_dev_mounts(c);
}

/* /proc/driver/nvidia: the container's GPUs only (proc-nvidia.c) */
static int setup_nvidia_proc(const struct mount_ctx *c) {
        _cleanup_close_ int host_fd = -EBADF;

        if (!c->cfg->nvidia_view)
                return 0;
        host_fd = host_root_open(c->ret_error);
        if (host_fd < 0)
                return host_fd;
        return proc_nvidia_setup(host_fd, c->root_fd, c->cfg->nvidia_gpus, c->cfg->nvidia_caps, c->ret_error);
}

static int setup_tmp(const struct mount_ctx *c) {
        static const char *const opts[] = { "mode=1777", NULL };
        const struct mount_op op = { .kind = OP_NEW, .fstype = "tmpfs", .opts = opts,
                                     .attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
        int r;

        if (!c->p->private_tmp)
                return 0;
        r = mount_on(c, "/tmp", &op);
        if (r == 1 && c->p->rootfs)
                return 0; /* a rootfs without /tmp */
        return r != 0 ? fail(c, r == 1 ? -ENOENT : r, "mounting tmpfs", "/tmp") : 0;
}

static int setup_user_mounts(const struct mount_ctx *c) {
        static const char *const tmpfs_opts[] = { "mode=0755", NULL };
        static const char *const names[] = { [POLICY_BIND] = "--bind", [POLICY_RO_BIND] = "--ro-bind", [POLICY_TMPFS] = "--tmpfs" };

        for (size_t i = 0; i < c->p->n_mounts; i++) {
                const struct policy_mount *m = &c->p->mounts[i];
                const struct mount_op tmpfs = { .kind = OP_NEW, .fstype = "tmpfs", .opts = tmpfs_opts,
                                                .attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
                const struct mount_op bind = { .kind = OP_BIND, .from_fd = AT_FDCWD, .from = m->src, .recursive = true,
                                               .ro = m->kind == POLICY_RO_BIND };
                int r = mount_on(c, m->dst, m->kind == POLICY_TMPFS ? &tmpfs : &bind);

                if (r == 1)
                        return error_printf(c->ret_error, -ENOENT, "%s %s%s%s: %s: %s", names[m->kind],
                                            m->src ? m->src : "", m->src ? " " : "", m->dst, m->dst, strerror(ENOENT));
                if (r < 0)
                        return error_printf(c->ret_error, r, "%s %s%s%s: %s", names[m->kind], m->src ? m->src : "",
                                            m->src ? " " : "", m->dst, strerror(-r));
        }
        return 0;
}

/* ---- CDI mounts (containerEdits.mounts) ----
 * hostPath is read beneath the host root (CURATE_HOST_ROOT), like every
 * other device source. A "bind"/"rbind" type or option makes a bind mount;
 * any other type a new filesystem of that type. ro, nosuid, nodev, noexec
 * become mount attributes; rbind makes the bind recursive; the propagation
 * and *atime options of OCI mounts change nothing here (the namespace is
 * private already); anything else goes to a new filesystem as an option, or
 * is refused for a bind. Mounts are made parents first (by depth), as the
 * reference sorts them. A missing mount point is created inside --rootfs
 * only: without one the container's root is the host's, not ours to change. */
static const struct {
        const char *name;
        unsigned attr;
} cdi_attr_options[] = {
        { "ro", MOUNT_ATTR_RDONLY }, { "nosuid", MOUNT_ATTR_NOSUID }, { "nodev", MOUNT_ATTR_NODEV },
        { "noexec", MOUNT_ATTR_NOEXEC }, { "rw", 0 }, { "suid", 0 }, { "dev", 0 }, { "exec", 0 },
        { "private", 0 }, { "rprivate", 0 }, { "slave", 0 }, { "rslave", 0 }, { "shared", 0 },
        { "rshared", 0 }, { "relatime", 0 }, { "noatime", 0 }, { "strictatime", 0 }, { "nodiratime", 0 },
};

static int cdi_options(const struct cdi_mount *m, unsigned *ret_attrs, bool *ret_bind, bool *ret_rec,
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

/* Create PATH (a directory, or an empty file when FILE) beneath the
 * container's root, its parents as directories. */
static int make_mount_point(const struct mount_ctx *c, const char *path, bool file) {
        _cleanup_free_ char *copy = strdup(path);
        int r = 0;

        if (!copy)
                return -ENOMEM;
        for (char *slash = copy + 1; r >= 0; slash++) {
                bool last = !(slash = strchr(slash, '/'));
                if (!last)
                        *slash = 0;
                _cleanup_close_ int fd = target(c, copy);
                if (fd == -ENOENT) {
                        _cleanup_close_ int parent = -EBADF;
                        char *base = strrchr(copy, '/');
                        *base = 0;
                        parent = open_beneath(c->root_fd, *copy ? copy : "/", O_PATH | O_DIRECTORY);
                        *base = '/';
                        if (parent < 0)
                                return parent;
                        if (last && file) {
                                _cleanup_close_ int f = openat(parent, base + 1, O_WRONLY | O_CREAT | O_EXCL |
                                                               O_NOFOLLOW | O_CLOEXEC, 0644);
                                r = f < 0 ? -errno : 0;
                        } else {
                                r = mkdirat(parent, base + 1, 0755) < 0 ? -errno : 0;
                        }
                } else if (fd < 0) {
                        r = fd;
                }
                if (last)
                        break;
                *slash = '/';
        }
        return r;
}

static size_t depth(const char *p) {
        size_t d = 0;
        for (; *p; p++)
                d += *p == '/' && p[1] && p[1] != '/';
        return d;
}

static int cdi_mount_one(const struct mount_ctx *c, int host_fd, const struct cdi_mount *m) {
        const char *fs_opts[32];
        _cleanup_close_ int src = -EBADF;
        struct mount_op op = { .kind = OP_NEW };
        struct stat st = { .st_mode = S_IFDIR };
        bool bind, rec;
        unsigned attrs;
        int r;

        r = cdi_options(m, &attrs, &bind, &rec, fs_opts, ELEMENTSOF(fs_opts));
        if (r < 0 || (bind && r > 0))
                return error_printf(c->ret_error, -EINVAL, "CDI mount %s: unsupported option \"%s\"",
                                    m->container_path, r < 0 ? "(too many)" : fs_opts[0]);
        if (bind) {
                if (m->host_path[0] != '/')
                        return error_printf(c->ret_error, -EINVAL, "CDI mount %s: host path %s is not absolute",
                                            m->container_path, m->host_path);
                src = open_beneath(host_fd, m->host_path, O_PATH);
                if (src < 0 || fstat(src, &st) < 0)
                        return error_printf(c->ret_error, src < 0 ? src : -errno, "CDI mount %s: host path %s: %s",
                                            m->container_path, m->host_path, strerror(src < 0 ? -src : errno));
                op = (struct mount_op){ .kind = OP_BIND, .from_fd = src, .from = "", .recursive = rec, .attrs = attrs };
        } else {
                op = (struct mount_op){ .kind = OP_NEW, .fstype = m->type, .opts = fs_opts, .attrs = attrs };
        }
        r = mount_on(c, m->container_path, &op);
        if (r == 1 && c->p->rootfs) {
                r = make_mount_point(c, m->container_path, !S_ISDIR(st.st_mode));
                if (r >= 0)
                        r = mount_on(c, m->container_path, &op);
        }
        if (r == 1)
                return error_printf(c->ret_error, -ENOENT,
                                    "CDI mount %s: no such mount point in the container (curate creates them "
                                    "only inside --rootfs)", m->container_path);
        return r < 0 ? error_printf(c->ret_error, r, "CDI mount %s: %s", m->container_path, strerror(-r)) : 0;
}

static int setup_cdi_mounts(const struct mount_ctx *c) {
        const struct cdi_edits *e = &c->cfg->dev;
        _cleanup_close_ int host_fd = -EBADF;
        size_t max = 0;
        int r;

        if (e->n_mounts == 0)
                return 0;
        host_fd = host_root_open(c->ret_error);
        if (host_fd < 0)
                return host_fd;
        for (size_t i = 0; i < e->n_mounts; i++)
                max = MAX(max, depth(e->mounts[i].container_path));
        for (size_t d = 0; d <= max; d++)
                for (size_t i = 0; i < e->n_mounts; i++)
                        if (depth(e->mounts[i].container_path) == d &&
                            (r = cdi_mount_one(c, host_fd, &e->mounts[i])) < 0)
                                return r;
        return 0;
}

/* Paths that do not exist are skipped, as runc skips them: the lists name
 * what some kernels have. */
/* OP on each of PATHS; WHAT names it in errors. */
static int mount_each(const struct mount_ctx *c, char *const *paths, size_t n, const struct mount_op *op,
                      const char *what) {
        for (size_t i = 0; i < n; i++) {
                int r = mount_on(c, paths[i], op);
                if (r < 0)
                        return fail(c, r, what, paths[i]);
        }
        return 0;
}

static int setup_masks(const struct mount_ctx *c) {
        const struct mount_op op = { .kind = OP_MASK };
        return mount_each(c, c->p->masks, c->p->n_masks, &op, "masking");
}

static int setup_read_only(const struct mount_ctx *c) {
        const struct mount_op op = { .kind = OP_BIND_SELF, .recursive = true, .ro = true };
        return mount_each(c, c->p->read_only, c->p->n_read_only, &op, "making read-only");
}

/* Make the --rootfs bind the root; the old root is detached, so ".." from /
 * stays at / and nothing of the host's tree is reachable. */
static int enter_rootfs(const struct mount_ctx *c) {
        if (fchdir(c->root_fd) < 0)
                return fail(c, -errno, "entering", c->p->rootfs);
        if (syscall(SYS_pivot_root, ".", ".") < 0) {
                /* pivot_root(2) refuses to move the initial ramfs (EINVAL):
                 * on a host booted into it, move the new root over / and
                 * chroot into it, as switch_root(8) and runc do there */
                if (errno != EINVAL)
                        return fail(c, -errno, "pivot_root", c->p->rootfs);
                if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
                        return fail(c, -errno, "moving the new root over /", c->p->rootfs);
                if (chroot(".") < 0 || chdir("/") < 0)
                        return fail(c, -errno, "chroot", c->p->rootfs);
                return 0;
        }
        if (umount2(".", MNT_DETACH) < 0)
                return fail(c, -errno, "detaching the old root", "/");
        if (chdir("/") < 0)
                return fail(c, -errno, "chdir", "/");
        return 0;
}

static int open_root(struct mount_ctx *c) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!c->p->rootfs) {
                c->root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                return c->root_fd < 0 ? fail(c, -errno, "opening", "/") : 0;
        }
        /* pivot_root needs the new root to be a mount point: bind it on itself */
        fd = open(c->p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return fail(c, -errno, "opening --rootfs", c->p->rootfs);
        r = bind_onto(fd, "", fd, true, 0);
        if (r < 0)
                return fail(c, r, "binding --rootfs", c->p->rootfs);
        c->root_fd = open(c->p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return c->root_fd < 0 ? fail(c, -errno, "opening --rootfs", c->p->rootfs) : 0;
}

static int open_sources(struct mount_ctx *c, const char *mountpoint) {
        struct stat st;

        c->devnull_fd = open("/dev/null", O_PATH | O_CLOEXEC);
        if (c->devnull_fd < 0 || fstat(c->devnull_fd, &st) < 0 || !S_ISCHR(st.st_mode))
                return error_printf(c->ret_error, -ENODEV, "the host's /dev/null is missing or not a device");
        if (!c->p->views && !c->p->curated_dev)
                return 0;
        c->mp_fd = open(mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (c->mp_fd < 0)
                return error_printf(c->ret_error, -errno, "curatefs mount point %s: %s", mountpoint, strerror(errno));
        return 0;
}

int mounts_setup(const struct run_config *cfg, char **ret_error) {
        struct mount_ctx c = { .p = &cfg->policy, .cfg = cfg, .root_fd = -EBADF, .mp_fd = -EBADF, .devnull_fd = -EBADF,
                               .ret_error = ret_error };
        _cleanup_free_ char *cwd = get_current_dir_name();
        unsigned long prop = cfg->policy.propagation == POLICY_PROPAGATION_SLAVE ? MS_SLAVE : MS_PRIVATE;
        int r;

        /* first: nothing below may propagate back to the host */
        if (mount(NULL, "/", NULL, MS_REC | prop, NULL) < 0)
                return error_printf(ret_error, -errno, "making the mounts private: %s", strerror(errno));
        r = open_sources(&c, cfg->mountpoint);
        if (r >= 0)
                r = open_root(&c);
        if (r >= 0)
                r = setup_proc(&c);
        if (r >= 0)
                r = setup_sys(&c);
        if (r >= 0)
                r = setup_views(&c);
        if (r >= 0)
                r = setup_dev(&c);
        if (r >= 0)
                r = setup_nvidia_proc(&c);
        if (r >= 0)
                r = setup_tmp(&c);
        if (r >= 0)
                r = setup_user_mounts(&c);
        if (r >= 0)
                r = setup_cdi_mounts(&c);
        if (r >= 0)
                r = setup_masks(&c);
        if (r >= 0)
                r = setup_read_only(&c);
        if (r >= 0 && cfg->policy.rootfs)
                r = enter_rootfs(&c);
        else if (r >= 0 && cwd && chdir(cwd) < 0 && chdir("/") < 0)
                /* re-resolve the working directory through the new mounts
                 * (a cwd under /tmp would otherwise stay the host's /tmp) */
                r = fail(&c, -errno, "chdir", "/");
        if (c.root_fd >= 0)
                close(c.root_fd);
        if (c.mp_fd >= 0)
                close(c.mp_fd);
        if (c.devnull_fd >= 0)
                close(c.devnull_fd);
        return r;
}
