#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <linux/magic.h>
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
        const struct cg_shown *cg; /* the command's cgroups; n == 0: none */
        int root_fd;    /* the container's root: / or the --rootfs bind */
        int mp_fd;      /* the curatefs mount point (host path) */
        int devnull_fd; /* the host's /dev/null, bound over masked files */
        int cgroupfs_fd; /* the host's /sys/fs/cgroup, read before /sys is replaced */
        int cg_fd[CG_HIER_MAX]; /* cg's directories, opened in this namespace */
        /* each --bind/--ro-bind source (host path), opened before any
         * mount here could hide it (the private /tmp over a source under
         * /tmp); -EBADF for a tmpfs */
        int *src_fd;
        /* each CDI bind mount's hostPath, opened as early and for the same
         * reason; -EBADF for a mount of a new filesystem */
        int *cdi_src_fd;
        /* the root of the FUSE file system a CDI hostPath is on, and the
         * path below it, looked up again once the command is in its
         * cgroups: curatefs's top links (proc, sys) send each reader to
         * its own cgroup's copies, which only readers in it may open;
         * -EBADF for the others */
        int *cdi_dir_fd;
        const char **cdi_rel;
        bool views_own; /* the views are MOUNTPOINT/c/<id>/'s, bound in mounts_finish */
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
 * with ATTRS (MOUNT_ATTR_*, recursively) set on the copy, CLEAR cleared. */
static int bind_onto(int from_fd, const char *from, int target_fd, bool recursive, unsigned attrs, unsigned clear) {
        unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
        _cleanup_close_ int tree = -EBADF;

        if (!*from)
                flags |= AT_EMPTY_PATH;
        tree = open_tree(from_fd, from, flags);
        if (tree < 0)
                return -errno;
        if (attrs || clear) {
                struct mount_attr attr = { .attr_set = attrs, .attr_clr = clear };
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
        bool rw;          /* OP_BIND: writable even where the source is read-only here (--read-only) */
        const char *fstype; /* OP_NEW */
        const char *const *opts;
        unsigned attrs;   /* OP_NEW: of the new mount; OP_BIND: set on the copy */
};

/* The first masked directory's empty read-only tmpfs, attached: later
 * masked directories get a copy of it (two system calls instead of six,
 * for a dozen masks on every launch). An empty read-only instance shows
 * the same wherever it is shared. Child state, as ctx below. */
static int mask_fd = -EBADF;

static int mask_dir(int target_fd) {
        static const char *const mask_opts[] = { "mode=0555", NULL };
        int mnt, r;

        if (mask_fd >= 0)
                return bind_onto(mask_fd, "", target_fd, false, 0, 0);
        mnt = mount_fs_new("tmpfs", mask_opts, ATTR_LOCKED_DOWN);
        if (mnt < 0)
                return mnt;
        r = attach(mnt, target_fd);
        if (r < 0) {
                close(mnt);
                return r;
        }
        /* attached now, in this namespace: open_tree() may clone it */
        mask_fd = mnt;
        return 0;
}

static int apply_op(const struct mount_ctx *c, const struct mount_op *op, int target_fd) {
        struct stat st;

        switch (op->kind) {
        case OP_BIND:
                return bind_onto(op->from_fd, op->from, target_fd, op->recursive,
                                 op->attrs | (op->ro ? MOUNT_ATTR_RDONLY : 0), op->rw ? MOUNT_ATTR_RDONLY : 0);
        case OP_BIND_SELF:
                return bind_onto(target_fd, "", target_fd, op->recursive, op->ro ? MOUNT_ATTR_RDONLY : 0, 0);
        case OP_NEW:
                return mount_new(op->fstype, op->opts, op->attrs, target_fd);
        case OP_MASK:
                if (fstat(target_fd, &st) < 0)
                        return -errno;
                if (S_ISDIR(st.st_mode))
                        return mask_dir(target_fd);
                return bind_onto(c->devnull_fd, "", target_fd, false, 0, 0);
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

/* --read-only: the root and everything mounted below it read-only in this
 * mount namespace (the host's mounts are not touched: these are copies).
 * Made first, so that what curate mounts afterwards (/tmp, /dev/shm,
 * --bind, --tmpfs) stays writable, as systemd's ProtectSystem=strict. */
static int setup_read_only_root(const struct mount_ctx *c) {
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

        if (!c->p->read_only_root)
                return 0;
        if (mount_setattr(c->root_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return fail(c, -errno, "making the root read-only", c->p->rootfs ? c->p->rootfs : "/");
        return 0;
}

/* The host's /proc kept (--share pid without --rootfs) stays writable under
 * --read-only (/proc/self/oom_score_adj, attr/): an API filesystem, as
 * ProtectSystem= leaves it; its knobs are made read-only with the default
 * read-only paths later. */
static int read_write_again(const struct mount_ctx *c, const char *path) {
        struct mount_attr attr = { .attr_clr = MOUNT_ATTR_RDONLY };
        _cleanup_close_ int fd = -EBADF;

        if (!c->p->read_only_root)
                return 0;
        fd = target(c, path);
        if (fd < 0)
                return fail(c, fd, "opening", path);
        if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return fail(c, -errno, "making writable again", path);
        return 0;
}

static int setup_proc(const struct mount_ctx *c) {
        static const char *const none[] = { NULL };
        const struct mount_op fresh = { .kind = OP_NEW, .fstype = "proc", .opts = none,
                                        .attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC };
        const struct mount_op host = { .kind = OP_BIND, .from_fd = AT_FDCWD, .from = "/proc", .recursive = true };
        int r;

        if (!c->p->pid_ns && !c->p->rootfs)
                return read_write_again(c, "/proc");
        r = mount_on(c, "/proc", c->p->pid_ns ? &fresh : &host);
        if (r == 1)
                r = -ENOENT;
        return r < 0 ? fail(c, r, "mounting proc", "/proc") : 0;
}

/* /sys read-only, as runc mounts it: a fresh sysfs, with none of the
 * host's submounts (debugfs, tracefs, securityfs, fusectl, bpffs, pstore,
 * configfs) below it. Where the caller may not mount one (a user namespace
 * that does not own the network namespace: sysfs_get_tree() asks for it),
 * the host's, bound recursively and read-only. Kernel tunables under /sys
 * then fail with EROFS. */
static int setup_sys(const struct mount_ctx *c) {
        static const char *const none[] = { NULL };
        const struct mount_op fresh = { .kind = OP_NEW, .fstype = "sysfs", .opts = none, .attrs = ATTR_LOCKED_DOWN };
        const struct mount_op host = { .kind = OP_BIND, .from_fd = AT_FDCWD, .from = "/sys", .recursive = true,
                                       .ro = true, .attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC };
        int r;

        r = mount_on(c, "/sys", &fresh);
        if (r == -EPERM)
                r = mount_on(c, "/sys", &host);
        if (r == 1 && c->p->rootfs)
                return 0; /* a rootfs without /sys */
        return r != 0 ? fail(c, r == 1 ? -ENOENT : r, "mounting sysfs read-only", "/sys") : 0;
}

/* The index in CG of the hierarchy mounted at /sys/fs/cgroup/MOUNT ("":
 * at /sys/fs/cgroup itself), or -1. */
static int cg_index(const struct cg_shown *cg, const char *mount) {
        for (int i = 0; i < cg->n; i++)
                if (streq(cg->mount[i], mount))
                        return i;
        return -1;
}

static bool any_writable(const struct cg_shown *cg) {
        for (int i = 0; i < cg->n; i++)
                if (cg->writable[i])
                        return true;
        return false;
}

/* NAME in the container's new /sys/fs/cgroup (at DIR_FD): the host entry's
 * twin. A hierarchy holding the command's cgroup shows that cgroup and what
 * is below it, read-only; one where curate made no cgroup (on this hybrid
 * host: freezer, name=systemd) stays an empty directory rather than show
 * the host's tree. Symbolic links (cpu -> cpu,cpuacct) are copied. */
static int cgroupfs_entry(const struct mount_ctx *c, int dir_fd, const struct dirent *de) {
        const struct mount_op ro = { .kind = OP_BIND, .from = "", .ro = true,
                                     .attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC };
        char link[PATH_MAX];
        _cleanup_close_ int fd = -EBADF;
        struct mount_op op = ro;
        ssize_t n;
        int i;

        if (de->d_type == DT_LNK) {
                n = readlinkat(c->cgroupfs_fd, de->d_name, link, sizeof(link) - 1);
                if (n < 0)
                        return -errno;
                link[n] = 0;
                return symlinkat(link, dir_fd, de->d_name) < 0 ? -errno : 0;
        }
        if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                return 0;
        if (mkdirat(dir_fd, de->d_name, 0555) < 0)
                return -errno;
        i = cg_index(c->cg, de->d_name);
        if (i < 0)
                return 0;
        fd = openat(dir_fd, de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        op.from_fd = c->cg_fd[i];
        if (!any_writable(c->cg))
                op = (struct mount_op){ .kind = OP_BIND, .from_fd = c->cg_fd[i], .from = "" }; /* see setup_cgroupfs */
        else
                op.ro = !c->cg->writable[i]; /* --delegate: its own subtree, writable */
        return apply_op(c, &op, fd);
}

/* /sys/fs/cgroup: the command's own cgroup subtree, read-only, as runc
 * gives it. On cgroup v2 (a cgroup2 mount at /sys/fs/cgroup) the cgroup is
 * bound there, the root the cgroup namespace shows too; on v1 and hybrid
 * hosts a read-only tmpfs holds each hierarchy's directory, with the
 * command's cgroup bound in each. Writing a limit or cgroup.procs fails
 * with EROFS, and no other cgroup is in sight. Without a cgroup of its own
 * (a non-root --user run) nothing is bound: the fresh sysfs's
 * /sys/fs/cgroup is empty. */
static int setup_cgroupfs(struct mount_ctx *c) {
        static const char *const opts[] = { "mode=0755", NULL };
        const struct mount_op tmpfs = { .kind = OP_NEW, .fstype = "tmpfs", .opts = opts,
                                        .attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC };
        struct mount_attr ro = { .attr_set = ATTR_LOCKED_DOWN };
        _cleanup_closedir_ DIR *d = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        int i, r;

        if (c->cgroupfs_fd < 0 || c->cg->n == 0)
                return 0;
        for (i = 0; i < c->cg->n; i++) {
                c->cg_fd[i] = openat(c->cgroupfs_fd, c->cg->path[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (c->cg_fd[i] < 0)
                        return fail(c, -errno, "opening the cgroup", c->cg->path[i]);
        }
        i = cg_index(c->cg, "");
        if (i >= 0) {
                const struct mount_op bind = { .kind = OP_BIND, .from_fd = c->cg_fd[i], .from = "",
                                               .ro = !c->cg->writable[i],
                                               .attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC };
                r = mount_on(c, "/sys/fs/cgroup", &bind);
                return r < 0 ? fail(c, r, "binding the cgroup read-only", "/sys/fs/cgroup") : 0;
        }
        r = mount_on(c, "/sys/fs/cgroup", &tmpfs);
        if (r == 1)
                return 0; /* a --rootfs whose /sys has no fs/cgroup */
        if (r < 0)
                return fail(c, r, "mounting tmpfs", "/sys/fs/cgroup");
        dir_fd = target(c, "/sys/fs/cgroup");
        if (dir_fd < 0)
                return fail(c, dir_fd, "opening", "/sys/fs/cgroup");
        /* a copy: closedir() closes the fd it reads */
        r = fcntl(c->cgroupfs_fd, F_DUPFD_CLOEXEC, 3);
        if (r < 0 || !(d = fdopendir(r))) {
                r = -errno;
                return fail(c, r, "reading the host's", "/sys/fs/cgroup");
        }
        for (struct dirent *de; (de = readdir(d));)
                if ((r = cgroupfs_entry(c, dir_fd, de)) < 0)
                        return fail(c, r, "populating /sys/fs/cgroup with", de->d_name);
        /* read-only, nosuid, nodev, noexec: with every cgroup below it in
         * one call (a bind each otherwise), unless one is delegated */
        if (mount_setattr(dir_fd, "", AT_EMPTY_PATH | (any_writable(c->cg) ? 0 : AT_RECURSIVE), &ro, sizeof(ro)) < 0)
                return fail(c, -errno, "making read-only", "/sys/fs/cgroup");
        return 0;
}

/* Does every cgroup the command can be in keep pressure figures (PSI)?
 * Only the unified hierarchy does, so only a host whose /sys/fs/cgroup is
 * cgroup2 with cpu, memory and io in it: elsewhere curatefs has no figures
 * of the container's to show, and the host's must not show instead. */
static bool cgroups_have_psi(const struct mount_ctx *c) {
        _cleanup_free_ char *text = NULL;
        char *save = NULL;
        unsigned found = 0;

        if (c->cgroupfs_fd < 0 || read_file_at(c->cgroupfs_fd, "cgroup.controllers", &text, NULL) < 0)
                return false;
        for (char *w = strtok_r(text, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
                found |= streq(w, "cpu") ? 1 : streq(w, "memory") ? 2 : streq(w, "io") ? 4 : 0;
        return found == 7;
}

/* The view's mount: a bind of curatefs's file, but /proc/pressure is
 * masked where the container's cgroups have no pressure figures. */
static struct mount_op view_op(const struct mount_ctx *c, int v) {
        if (v == POLICY_VIEW_PRESSURE && !cgroups_have_psi(c))
                return (struct mount_op){ .kind = OP_MASK };
        return (struct mount_op){ .kind = OP_BIND, .from_fd = c->mp_fd, .from = policy_views[v].source };
}

/* With a cgroup of its own, the container gets curatefs's copies of the
 * views made for it alone, MOUNTPOINT/c/<id>/: they report their size, so
 * sendfile (busybox cat) reads them, and no page cache of theirs is shared
 * with another container. curatefs shows them only to readers in the
 * cgroup, so they are bound once the command is in it (mounts_finish). A
 * curatefs without c/ (one started before it had them) serves the shared
 * files, as before. Without an id (--cgroup, or no cgroup of curate's),
 * MOUNTPOINT/proc and /sys are links to the copies of the cgroup that
 * follows them: bound in mounts_finish too, from the cgroup the command
 * runs in, not the one curate was started from. */
static bool views_per_container(const struct mount_ctx *c) {
        struct stat st;
        return c->cfg->views_id[0] && c->p->views && fstatat(c->mp_fd, "c", &st, 0) == 0 && S_ISDIR(st.st_mode);
}

static int setup_views(const struct mount_ctx *c) {
        char own[PATH_MAX];

        for (int v = 0; v < _POLICY_VIEW_MAX; v++) {
                const struct policy_view_info *info = &policy_views[v];
                struct mount_op op = view_op(c, v);
                int r;

                if (!(c->p->views & (1u << v)))
                        continue;
                /* the tree serves online too */
                if (v == POLICY_VIEW_CPU_ONLINE && (c->p->views & (1u << POLICY_VIEW_CPU_TREE)))
                        continue;
                /* c/<id>/ holds every view, the cpu tree whole too: files
                 * with exact sizes and inodes of the container's own */
                if (c->views_own && op.kind == OP_BIND) {
                        snprintf(own, sizeof(own), "c/%s/%s", c->cfg->views_id, info->source);
                        op.from = own;
                }
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
                /* --bind under --read-only: the source is a copy made
                 * read-only here, and its clone would be too */
                const struct mount_op bind = { .kind = OP_BIND, .from_fd = c->src_fd[i], .from = "", .recursive = true,
                                               .ro = m->kind == POLICY_RO_BIND,
                                               .rw = m->kind == POLICY_BIND && c->p->read_only_root };
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

/* the spec file a CDI mount came from, for messages */
#define SPEC(m) ((m)->spec_path ? (m)->spec_path : "CDI spec")
static int cdi_mount_one(const struct mount_ctx *c, int src, const struct cdi_mount *m) {
        const char *fs_opts[32];
        struct mount_op op = { .kind = OP_NEW };
        struct stat st = { .st_mode = S_IFDIR };
        bool bind, rec;
        unsigned attrs;
        int r;

        /* checked when the spec was loaded (cdi_mount_options) */
        r = cdi_mount_options(m, &attrs, &bind, &rec, fs_opts, ELEMENTSOF(fs_opts));
        if (r < 0 || (bind && r > 0))
                return error_printf(c->ret_error, -EINVAL, "%s: CDI mount %s: unsupported option \"%s\"",
                                    SPEC(m), m->container_path, r < 0 ? "(too many)" : fs_opts[0]);
        if (bind) {
                /* opened by open_cdi_sources(), before any mount here */
                if (src < 0 || fstat(src, &st) < 0)
                        return error_printf(c->ret_error, src < 0 ? -EBADF : -errno, "%s: CDI mount %s: host path %s: %s",
                                            SPEC(m), m->container_path, m->host_path, strerror(src < 0 ? EBADF : errno));
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
                                    "%s: CDI mount %s: no such mount point in the container (curate creates them "
                                    "only inside --rootfs)", SPEC(m), m->container_path);
        return r < 0 ? error_printf(c->ret_error, r, "%s: CDI mount %s: %s", SPEC(m), m->container_path,
                                   strerror(-r)) : 0;
}

/* CDI mount I's source as the command (now in its cgroups) finds it: its
 * path below the root of the FUSE file system it is on looked up again
 * (cdi_dir_fd); -EBADF when the one opened first stands. */
static int cdi_source_again(const struct mount_ctx *c, size_t i) {
        if (!c->cdi_dir_fd || c->cdi_dir_fd[i] < 0)
                return -EBADF;
        int fd = open_beneath(c->cdi_dir_fd[i], c->cdi_rel[i], O_PATH);
        return fd < 0 ? -EBADF : fd;
}

/* The root of the file system SRC (opened at PATH beneath HOST_FD) is on:
 * the shortest prefix of PATH on SRC's device, and the rest of PATH below
 * it; -errno when there is none. */
static int fs_root_of(int host_fd, const char *path, int src, const char **ret_rel) {
        struct stat want, st;
        char prefix[PATH_MAX];

        if (fstat(src, &want) < 0 || strlen(path) >= sizeof(prefix))
                return -EINVAL;
        for (size_t n = 1; path[n - 1]; n++) {
                if (path[n] != '/' && path[n])
                        continue;
                memcpy(prefix, path, n);
                prefix[n] = 0;
                int fd = open_beneath(host_fd, prefix, O_PATH | O_DIRECTORY);
                if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == want.st_dev) {
                        const char *rel = path + n;
                        while (*rel == '/')
                                rel++;
                        *ret_rel = rel;
                        return fd;
                }
                if (fd >= 0)
                        close(fd);
        }
        return -ENOENT;
}

static int setup_cdi_mounts(const struct mount_ctx *c) {
        const struct cdi_edits *e = &c->cfg->dev;
        size_t max = 0;
        int r;

        if (e->n_mounts == 0)
                return 0;
        for (size_t i = 0; i < e->n_mounts; i++)
                max = MAX(max, depth(e->mounts[i].container_path));
        for (size_t d = 0; d <= max; d++)
                for (size_t i = 0; i < e->n_mounts; i++)
                        if (depth(e->mounts[i].container_path) == d) {
                                _cleanup_close_ int again = cdi_source_again(c, i);
                                if ((r = cdi_mount_one(c, again >= 0 ? again : c->cdi_src_fd[i], &e->mounts[i])) < 0)
                                        return r;
                        }
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

/* curate's own state, out of every container's reach whatever its policy
 * (a policy cannot clear these): masked, what the launcher and curatefs
 * trust at run time (registrations, which curatefs turns into /dev nodes;
 * pid files, the daemon lock) and the curatefs mount point (its devs/ trees
 * and a place to stack a fake under); read-only, the policies and CDI
 * specs later runs load. Paths that do not exist are skipped; the launcher
 * creates CURATE_RUN_DIR and the registration directory before any
 * container starts, so a container cannot plant them first. */
static int setup_curate_state(const struct mount_ctx *c) {
        char *const masked[] = { (char *)CURATE_RUN_DIR, (char *)device_registration_dir(),
                                 (char *)c->cfg->mountpoint };
        char *const read_only[] = { (char *)"/etc/curate", (char *)"/etc/cdi", (char *)"/var/run/cdi",
                                    (char *)CURATE_POLICY_DIR, (char *)CURATE_SOURCE_POLICY_DIR };
        const struct mount_op mask = { .kind = OP_MASK };
        const struct mount_op ro = { .kind = OP_BIND_SELF, .recursive = true, .ro = true };
        const char *env = getenv("CURATE_POLICY_PATH");
        _cleanup_free_ char *copy = NULL;
        char *save = NULL;
        int r;

        r = mount_each(c, masked, ELEMENTSOF(masked), &mask, "masking curate's state");
        if (r >= 0)
                r = mount_each(c, read_only, ELEMENTSOF(read_only), &ro, "making curate's policies read-only");
        if (r < 0 || !env || !*env)
                return r;
        copy = strdup(env);
        if (!copy)
                return -ENOMEM;
        for (char *dir = strtok_r(copy, ":", &save); dir && r >= 0; dir = strtok_r(NULL, ":", &save))
                if (dir[0] == '/')
                        r = mount_each(c, &dir, 1, &ro, "making curate's policies read-only");
        return r;
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
        r = bind_onto(fd, "", fd, true, 0, 0);
        if (r < 0)
                return fail(c, r, "binding --rootfs", c->p->rootfs);
        c->root_fd = open(c->p->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return c->root_fd < 0 ? fail(c, -errno, "opening --rootfs", c->p->rootfs) : 0;
}

static int open_bind_sources(struct mount_ctx *c) {
        c->src_fd = malloc(sizeof(int) * (c->p->n_mounts + 1));
        if (!c->src_fd)
                return error_printf(c->ret_error, -ENOMEM, "%s", strerror(ENOMEM));
        for (size_t i = 0; i < c->p->n_mounts; i++)
                c->src_fd[i] = -EBADF;
        for (size_t i = 0; i < c->p->n_mounts; i++) {
                const struct policy_mount *m = &c->p->mounts[i];
                if (!m->src)
                        continue;
                c->src_fd[i] = open(m->src, O_PATH | O_CLOEXEC);
                if (c->src_fd[i] < 0)
                        return error_printf(c->ret_error, -errno, "%s %s %s: %s: %s",
                                            m->kind == POLICY_RO_BIND ? "--ro-bind" : "--bind", m->src, m->dst,
                                            m->src, strerror(errno));
        }
        return 0;
}

/* The host paths of the CDI bind mounts, opened beneath the host root
 * (CURATE_HOST_ROOT) before anything is mounted here: sources are host
 * paths, and the private /tmp would hide one under /tmp. */
static int open_cdi_sources(struct mount_ctx *c) {
        const struct cdi_edits *e = &c->cfg->dev;
        _cleanup_close_ int host_fd = -EBADF;

        c->cdi_src_fd = malloc(sizeof(int) * (e->n_mounts + 1));
        c->cdi_dir_fd = malloc(sizeof(int) * (e->n_mounts + 1));
        c->cdi_rel = calloc(e->n_mounts + 1, sizeof(char *));
        for (size_t i = 0; i < e->n_mounts; i++) {
                if (c->cdi_src_fd)
                        c->cdi_src_fd[i] = -EBADF;
                if (c->cdi_dir_fd)
                        c->cdi_dir_fd[i] = -EBADF;
        }
        if (!c->cdi_src_fd || !c->cdi_dir_fd || !c->cdi_rel)
                return error_printf(c->ret_error, -ENOMEM, "%s", strerror(ENOMEM));
        for (size_t i = 0; i < e->n_mounts; i++) {
                const struct cdi_mount *m = &e->mounts[i];
                const char *fs_opts[32];
                unsigned attrs;
                bool bind, rec;

                if (cdi_mount_options(m, &attrs, &bind, &rec, fs_opts, ELEMENTSOF(fs_opts)) < 0 || !bind)
                        continue; /* cdi_mount_one() reports it */
                if (m->host_path[0] != '/')
                        return error_printf(c->ret_error, -EINVAL, "%s: CDI mount %s: host path %s is not absolute",
                                            SPEC(m), m->container_path, m->host_path);
                if (host_fd < 0 && (host_fd = host_root_open(c->ret_error)) < 0)
                        return host_fd;
                c->cdi_src_fd[i] = open_beneath(host_fd, m->host_path, O_PATH);
                if (c->cdi_src_fd[i] < 0)
                        return error_printf(c->ret_error, c->cdi_src_fd[i], "%s: CDI mount %s: host path %s: %s",
                                            SPEC(m), m->container_path, m->host_path, strerror(-c->cdi_src_fd[i]));
                struct statfs sf;
                /* -errno when there is none: the first open stands */
                if (fstatfs(c->cdi_src_fd[i], &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC)
                        c->cdi_dir_fd[i] = fs_root_of(host_fd, m->host_path, c->cdi_src_fd[i], &c->cdi_rel[i]);
        }
        return 0;
}

static int open_sources(struct mount_ctx *c, const char *mountpoint) {
        struct stat st;
        int r;

        c->devnull_fd = open("/dev/null", O_PATH | O_CLOEXEC);
        if (c->devnull_fd < 0 || fstat(c->devnull_fd, &st) < 0 || !S_ISCHR(st.st_mode))
                return error_printf(c->ret_error, -ENODEV, "the host's /dev/null is missing or not a device");
        /* before /sys is replaced: the host's entries, copied by
         * setup_cgroupfs, and the way to the command's cgroups through
         * this namespace's copies of their mounts (open_tree() clones only
         * mounts of the caller's namespace: not the parent's dir_fd). The
         * cgroups themselves may not exist yet (see mounts_prepare). */
        if (geteuid() == 0 && !c->p->user_ns) {
                c->cgroupfs_fd = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (c->cgroupfs_fd < 0 && errno != ENOENT)
                        return error_printf(c->ret_error, -errno, "/sys/fs/cgroup: %s", strerror(errno));
        }
        r = open_bind_sources(c);
        if (r >= 0)
                r = open_cdi_sources(c);
        if (r < 0)
                return r;
        if (!c->p->views && !c->p->curated_dev)
                return 0;
        c->mp_fd = open(mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (c->mp_fd < 0)
                return error_printf(c->ret_error, -errno, "curatefs mount point %s: %s", mountpoint, strerror(errno));
        return 0;
}

/* The two phases share one context: the child builds the table in one
 * process, single-threaded. */
static struct mount_ctx ctx;

static void ctx_done(struct mount_ctx *c) {
        int *fds[] = { &c->root_fd, &c->mp_fd, &c->devnull_fd, &c->cgroupfs_fd, &mask_fd };

        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                if (*fds[i] >= 0) {
                        close(*fds[i]);
                        *fds[i] = -EBADF;
                }
        for (int i = 0; i < CG_HIER_MAX; i++)
                if (c->cg_fd[i] >= 0) {
                        close(c->cg_fd[i]);
                        c->cg_fd[i] = -EBADF;
                }
        for (size_t i = 0; c->src_fd && i < c->p->n_mounts; i++)
                if (c->src_fd[i] >= 0)
                        close(c->src_fd[i]);
        free(c->src_fd);
        c->src_fd = NULL;
        for (size_t i = 0; c->cdi_src_fd && i < c->cfg->dev.n_mounts; i++)
                if (c->cdi_src_fd[i] >= 0)
                        close(c->cdi_src_fd[i]);
        free(c->cdi_src_fd);
        c->cdi_src_fd = NULL;
        for (size_t i = 0; c->cdi_dir_fd && i < c->cfg->dev.n_mounts; i++)
                if (c->cdi_dir_fd[i] >= 0)
                        close(c->cdi_dir_fd[i]);
        free(c->cdi_dir_fd);
        c->cdi_dir_fd = NULL;
        free(c->cdi_rel);
        c->cdi_rel = NULL;
}

int mounts_prepare(const struct run_config *cfg, char **ret_error) {
        unsigned long prop = cfg->policy.propagation == POLICY_PROPAGATION_SLAVE ? MS_SLAVE : MS_PRIVATE;
        struct mount_ctx *c = &ctx;
        int r;

        *c = (struct mount_ctx){ .p = &cfg->policy, .cfg = cfg, .root_fd = -EBADF, .mp_fd = -EBADF,
                                 .devnull_fd = -EBADF, .cgroupfs_fd = -EBADF, .ret_error = ret_error };
        for (int i = 0; i < CG_HIER_MAX; i++)
                c->cg_fd[i] = -EBADF;
        /* first: nothing below may propagate back to the host */
        if (mount(NULL, "/", NULL, MS_REC | prop, NULL) < 0)
                return error_printf(ret_error, -errno, "making the mounts private: %s", strerror(errno));
        r = open_sources(c, cfg->mountpoint);
        if (r >= 0)
                r = open_root(c);
        if (r >= 0)
                r = setup_read_only_root(c);
        if (r >= 0)
                r = setup_proc(c);
        if (r >= 0)
                r = setup_sys(c);
        if (r >= 0)
                c->views_own = views_per_container(c);
        if (r >= 0)
                r = setup_tmp(c);
        if (r < 0)
                ctx_done(c);
        return r;
}

/* The working directory: --chdir (WorkingDirectory=) wherever it is,
 * else the caller's, kept where the container has it (not with --rootfs:
 * the host's path means nothing there; "/" as in image runtimes), and a
 * clear refusal where it has not (a cwd under the private /tmp). Resolved
 * again through the container's mounts: the old cwd may be covered. */
static int enter_workdir(const struct mount_ctx *c, const char *cwd, int cwd_errno) {
        if (c->p->workdir) {
                if (chdir(c->p->workdir) < 0)
                        return error_printf(c->ret_error, -errno, "%s%s: %s in the container",
                                            c->p->origin[POLICY_AT_WORKDIR] ? c->p->origin[POLICY_AT_WORKDIR] : "--chdir ",
                                            c->p->workdir, strerror(errno));
                return 0;
        }
        if (c->p->rootfs)
                return 0; /* enter_rootfs() went to its / */
        if (!cwd)
                return error_printf(c->ret_error, -cwd_errno, "the working directory: %s (give --chdir DIR)",
                                    strerror(cwd_errno));
        if (chdir(cwd) < 0)
                return error_printf(c->ret_error, -errno, "the working directory %s: %s in the container%s; "
                                    "give --chdir DIR", cwd, strerror(errno),
                                    c->p->private_tmp && (streq(cwd, "/tmp") || !strncmp(cwd, "/tmp/", 5))
                                            ? ", whose /tmp is a private tmpfs (--share-tmp keeps the host's)" : "");
        return 0;
}

int mounts_finish(const struct cg_shown *cg, char **ret_error) {
        _cleanup_free_ char *cwd = get_current_dir_name();
        int cwd_errno = errno;
        struct mount_ctx *c = &ctx;
        int r;

        c->cg = cg;
        c->ret_error = ret_error;
        r = setup_views(c);
        if (r >= 0)
                r = setup_cgroupfs(c);
        if (r >= 0)
                r = setup_dev(c);
        if (r >= 0)
                r = setup_nvidia_proc(c);
        if (r >= 0)
                r = setup_user_mounts(c);
        if (r >= 0)
                r = setup_cdi_mounts(c);
        if (r >= 0)
                r = setup_masks(c);
        if (r >= 0)
                r = setup_read_only(c);
        if (r >= 0)
                r = setup_curate_state(c);
        if (r >= 0 && c->p->rootfs)
                r = enter_rootfs(c);
        if (r >= 0)
                r = enter_workdir(c, cwd, cwd_errno);
        ctx_done(c);
        return r;
}
