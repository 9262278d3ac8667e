#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <time.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "fileio.h"
#include "launcher.h"
#include "macro.h"
#include "oci-state.h"
#include "policy.h"
#include "registration.h"

/* `curate oci-hook`: an OCI createContainer hook that binds curatefs's views
 * over the container's /proc files and /sys/devices/system/cpu.
 *
 * Where it runs: runc (1.1) runs createContainer hooks from its init
 * process, inside the container's mount and pid namespaces, before
 * pivot_root; the state's pid is then 1 (runc init in its own pid
 * namespace) and the rootfs is mounted at root.path with its /proc and
 * /sys below it. The runtime spec asks for the runtime's namespaces
 * instead. Both are covered by taking the pid as the hook's own pid
 * namespace numbers it (pidfd_open resolves it there), entering that
 * process's mount namespace, and finding the rootfs under that process's
 * root: at root.path when the process has not pivoted yet, the root itself
 * when it has.
 *
 * The container's own views: curatefs answers a lookup of its shared
 * names (proc, sys) made by a reader outside the root cgroup with that
 * cgroup's own copies: sized, so busybox cat (sendfile) reads them whole,
 * and an inode of that cgroup's, whose page cache no other cgroup's reader
 * meets or fills. So the views are cloned by a process in the container's
 * cgroups: the hook itself when it is in them (runc runs createContainer
 * hooks from its init, which is), else a child that joins them, clones
 * and hands the clones back (the runtime spec's runtime namespaces). When
 * the cgroup is /curate/ID (runc's linux.cgroupsPath "/curate/NAME",
 * podman --cgroup-parent /curate) the sources are MOUNTPOINT/c/ID/, as
 * curate run binds them.
 *
 * All or nothing: every view is cloned (open_tree) and every target opened
 * before the first attach; an attach that fails detaches those made. The
 * hook never starts a daemon: under runc it runs in the container's
 * namespaces and cgroup, where a daemon would neither be seen by the host
 * nor outlive the container. */

struct hook_view {
        char source[PATH_MAX]; /* beneath the mount point: "proc/meminfo", "c/ID/proc/meminfo" */
        const char *target;    /* in the container: "/proc/meminfo" */
        bool named;            /* named in the annotation: a missing target is an error */
        int tree;              /* the detached clone of the daemon's file */
        bool dir;              /* it is a directory (as the cloning process saw it: curatefs
                                * shows a cgroup's copies to readers in that cgroup only) */
        int target_fd;         /* O_PATH fd of the container's file or directory */
        bool attached;
};

struct hook {
        const char *id; /* for messages */
        const char *mountpoint;
        unsigned views;
        bool explicit_views; /* named in the annotation: a missing target is an error */
        char own[REG_ID_MAX + 1]; /* the container's curate id: use c/ID/; "" none */
        struct hook_view view[_POLICY_VIEW_MAX];
        size_t n;
};

static int hook_error(const struct hook *h, const char *fmt, ...) _printf_(2, 3);
static int hook_error(const struct hook *h, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "curate oci-hook: %s: ", h->id ? h->id : "(no container id)");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return 1;
}

static void hook_done(struct hook *h) {
        for (size_t i = 0; i < h->n; i++) {
                closep(&h->view[i].tree);
                closep(&h->view[i].target_fd);
        }
        h->n = 0;
}

static int read_stdin(char **ret, size_t *ret_len) {
        _cleanup_free_ char *data = NULL;
        size_t len = 0, cap = 0;

        for (;;) {
                if (len + 1 >= cap) {
                        if (cap >= OCI_JSON_MAX)
                                return -EFBIG;
                        cap = cap ? cap * 2 : 4096;
                        char *d = realloc(data, cap);
                        if (!d)
                                return -ENOMEM;
                        data = d;
                }
                ssize_t n = read(STDIN_FILENO, data + len, cap - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += n;
        }
        if (!data && !(data = calloc(1, 1)))
                return -ENOMEM;
        data[len] = 0;
        *ret = TAKE_PTR(data);
        *ret_len = len;
        return 0;
}

/* The views: the annotation (state, else config.json), else --views, else all. */
static int hook_views(struct hook *h, const struct oci_state *s, const struct oci_config *c, const char *opt_views) {
        _cleanup_free_ char *error = NULL;
        const char *value = s->views ? s->views : c->views ? c->views : opt_views;

        h->explicit_views = value && !strstr(value, "all");
        if (!value) {
                h->views = oci_hook_views_all();
                return 0;
        }
        if (oci_hook_parse_views(value, &h->views, &error) < 0)
                return hook_error(h, "%s", error);
        /* the whole cpu tree holds online already */
        if (h->views & (1u << POLICY_VIEW_CPU_TREE))
                h->views &= ~(1u << POLICY_VIEW_CPU_ONLINE);
        return 0;
}

/* The views to bind, in the table's order. */
static void hook_plan(struct hook *h) {
        for (unsigned v = 0; v < _POLICY_VIEW_MAX; v++) {
                if (!(h->views & (1u << v)))
                        continue;
                struct hook_view *hv = &h->view[h->n++];
                *hv = (struct hook_view){ .target = policy_views[v].target, .named = h->explicit_views,
                                          .tree = -EBADF, .target_fd = -EBADF };
                if (h->own[0])
                        snprintf(hv->source, sizeof(hv->source), "c/%s/%s", h->own, policy_views[v].source);
                else
                        snprintf(hv->source, sizeof(hv->source), "%s", policy_views[v].source);
        }
}

/* A read-only clone of view HV, in the caller's mount namespace (the
 * daemon's): its fd and whether it is a directory, or -1 with the reason
 * in MSG. */
static int clone_view(const struct hook *h, int mp, const struct hook_view *hv, bool *ret_dir, char *msg,
                      size_t size) {
        struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                             MOUNT_ATTR_NOEXEC };
        _cleanup_close_ int tree = open_tree(mp, hv->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

        if (tree < 0) {
                snprintf(msg, size, "%s/%s: cannot clone: %s", h->mountpoint, hv->source, strerror(errno));
                return -1;
        }
        if (mount_setattr(tree, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0) {
                snprintf(msg, size, "%s/%s: cannot make it read-only: %s", h->mountpoint, hv->source,
                         strerror(errno));
                return -1;
        }
        struct stat st;
        if (fstat(tree, &st) < 0) {
                snprintf(msg, size, "%s/%s: %s", h->mountpoint, hv->source, strerror(errno));
                return -1;
        }
        *ret_dir = S_ISDIR(st.st_mode);
        return TAKE_FD(tree);
}

/* What the cloning child sends for each view: 0 and the clone's fd, or an
 * errno and the message (then nothing more). */
struct clone_reply {
        int err;
        bool dir;
        char msg[PATH_MAX + 128];
};

static int send_reply(int sock, const struct clone_reply *m, int fd) {
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } control = { 0 };
        struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (fd >= 0) {
                mh.msg_control = control.buf;
                mh.msg_controllen = sizeof(control.buf);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                *c = (struct cmsghdr){ .cmsg_level = SOL_SOCKET, .cmsg_type = SCM_RIGHTS,
                                       .cmsg_len = CMSG_LEN(sizeof(int)) };
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(*m) ? 0 : -errno;
}

/* 0 and the fd of one reply (-EBADF with an error reply), or -errno. */
static int recv_reply(int sock, struct clone_reply *m, int *ret_fd) {
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } control;
        struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf) };
        ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

        *ret_fd = -EBADF;
        if (n < 0)
                return -errno;
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
                memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
        if (n != (ssize_t)sizeof(*m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
                closep(ret_fd);
                *ret_fd = -EBADF;
                return -EPROTO;
        }
        m->msg[sizeof(m->msg) - 1] = 0;
        return 0;
}

/* The child: into each of the container's cgroups that a mount here shows
 * (CGROUP_TEXT, beneath MOUNTINFO's), then a clone of each view, each
 * sent over SOCK. Its exit status does not matter: the replies do. */
static _Noreturn void clone_child(const struct hook *h, int mp, const char *cgroup_text, const char *mountinfo,
                                  int sock) {
        struct clone_reply m = { 0 };

        for (const char *l = cgroup_text; *l;) {
                const char *nl = strchrnul(l, '\n');
                char procs[PATH_MAX];
                int r = nl > l ? oci_cgroup_procs_path(mountinfo, l, nl - l, procs, sizeof(procs)) : -ENOENT;
                if (r == -ENAMETOOLONG)
                        snprintf(m.msg, sizeof(m.msg), "the container's cgroup %.*s: %s", (int)(nl - l), l,
                                 strerror(-r));
                else if (r == 0) {
                        _cleanup_close_ int fd = open(procs, O_WRONLY | O_CLOEXEC);
                        if (fd < 0 || write(fd, "0", 1) != 1)
                                snprintf(m.msg, sizeof(m.msg), "cannot join the container's cgroup %s: %s", procs,
                                         strerror(errno));
                }
                if (m.msg[0]) {
                        m.err = EIO;
                        (void)send_reply(sock, &m, -EBADF);
                        _exit(1);
                }
                l = *nl ? nl + 1 : nl;
        }
        for (size_t i = 0; i < h->n; i++) {
                _cleanup_close_ int tree = clone_view(h, mp, &h->view[i], &m.dir, m.msg, sizeof(m.msg));
                m.err = tree < 0 ? EIO : 0;
                if (send_reply(sock, &m, tree) < 0 || tree < 0)
                        _exit(1);
        }
        _exit(0);
}

/* The clones made by a child that joins the container's cgroups first,
 * for a hook run outside them: curatefs answers each cgroup with its own
 * copies (see the top). The child exits once they are sent; nothing is
 * bound yet, so a failure leaves nothing behind. */
static int hook_clone_joined(struct hook *h, int mp, const char *cgroup_text) {
        _cleanup_free_ char *mountinfo = NULL;
        _cleanup_close_ int mine = -EBADF, theirs = -EBADF;
        int sv[2], status, r = 0;

        if ((r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", &mountinfo, NULL)) < 0)
                return hook_error(h, "/proc/self/mountinfo: %s", strerror(-r));
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return hook_error(h, "socketpair: %s", strerror(errno));
        mine = sv[0];
        theirs = sv[1];
        fflush(NULL);
        pid_t child = fork();
        if (child < 0)
                return hook_error(h, "fork: %s", strerror(errno));
        if (child == 0) {
                close(TAKE_FD(mine));
                clone_child(h, mp, cgroup_text, mountinfo, theirs);
        }
        close(TAKE_FD(theirs));
        for (size_t i = 0; i < h->n && r == 0; i++) {
                struct clone_reply m;
                int fd;
                int k = recv_reply(mine, &m, &fd);
                if (k < 0)
                        r = hook_error(h, "the child cloning in the container's cgroups: %s", strerror(-k));
                else if (m.err || fd < 0)
                        r = hook_error(h, "%s", m.msg[0] ? m.msg : "the child cloning in the container's cgroups "
                                                                     "sent no clone");
                else {
                        h->view[i].tree = fd;
                        h->view[i].dir = m.dir;
                }
        }
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                ;
        return r;
}

/* Clone every view, read-only, in a process in the container's cgroups
 * (those of the process in /proc as PROC_PID). */
static int hook_clone(struct hook *h, int mp, int proc_pid) {
        _cleanup_free_ char *theirs = NULL, *mine = NULL;
        char path[64], msg[PATH_MAX + 128];
        int r;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", proc_pid);
        if ((r = read_file_at(AT_FDCWD, path, &theirs, NULL)) < 0)
                return hook_error(h, "%s: %s", path, strerror(-r));
        if ((r = read_file_at(AT_FDCWD, "/proc/self/cgroup", &mine, NULL)) < 0)
                return hook_error(h, "/proc/self/cgroup: %s", strerror(-r));
        if (!streq(theirs, mine))
                return hook_clone_joined(h, mp, theirs);
        for (size_t i = 0; i < h->n; i++)
                if ((h->view[i].tree = clone_view(h, mp, &h->view[i], &h->view[i].dir, msg, sizeof(msg))) < 0)
                        return hook_error(h, "%s", msg);
        return 0;
}

/* The container's own views when its cgroup is /curate/ID and the hook
 * may see c/ID/ (it is in that cgroup). */
static void hook_find_own(struct hook *h, int mp, int proc_pid) {
        _cleanup_free_ char *text = NULL;
        char path[PATH_MAX];

        h->own[0] = 0;
        snprintf(path, sizeof(path), "/proc/%d/cgroup", proc_pid);
        if (read_file_at(AT_FDCWD, path, &text, NULL) < 0 ||
            oci_cgroup_curate_id(text, h->own, sizeof(h->own)) < 0)
                return;
        snprintf(path, sizeof(path), "c/%s", h->own);
        if (faccessat(mp, path, F_OK, 0) < 0)
                h->own[0] = 0;
}

/* The process the state names, as a pidfd, and its root as an O_PATH fd.
 * pidfd_open takes the pid in the hook's own pid namespace, the one the
 * runtime numbered it in; /proc numbers it in /proc's, read from the
 * pidfd's fdinfo. The pidfd still open after the root was opened proves
 * the root is that process's and not a successor's on a reused pid. */
static int hook_open_process(struct hook *h, pid_t pid, int *ret_pidfd, int *ret_root, int *ret_proc_pid) {
        _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        _cleanup_free_ char *info = NULL;
        char path[64];
        int proc_pid = -1;

        if (pidfd < 0)
                return hook_error(h, "container process %d: %s", (int)pid, strerror(errno));
        snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
        if (read_file_at(AT_FDCWD, path, &info, NULL) < 0 || !strstr(info, "\nPid:") ||
            sscanf(strstr(info, "\nPid:") + 5, "%d", &proc_pid) != 1 || proc_pid <= 0)
                return hook_error(h, "container process %d: cannot find it in /proc", (int)pid);
        snprintf(path, sizeof(path), "/proc/%d/root", proc_pid);
        _cleanup_close_ int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return hook_error(h, "%s: %s", path, strerror(errno));
        if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
                return hook_error(h, "container process %d: gone (%s)", (int)pid, strerror(errno));
        *ret_pidfd = TAKE_FD(pidfd);
        *ret_root = TAKE_FD(root);
        *ret_proc_pid = proc_pid;
        return 0;
}

static bool same_dir(int a, int b) {
        struct statx x, y;

        if (statx(a, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &x) < 0 ||
            statx(b, "", AT_EMPTY_PATH, STATX_INO | STATX_MNT_ID, &y) < 0)
                return false;
        return x.stx_mnt_id == y.stx_mnt_id && x.stx_ino == y.stx_ino && x.stx_dev_major == y.stx_dev_major &&
               x.stx_dev_minor == y.stx_dev_minor;
}

/* Enter the process's mount namespace (setns resets our root to the
 * namespace's) and open the container's rootfs there:
 *  - root.path (absolute, or relative to the bundle) when it is there and
 *    is not the process's root: the runtime has not pivoted yet (runc);
 *  - else the process's root when it is not the namespace's: it changed
 *    its root (pivot_root into a root below, chroot);
 *  - else nothing tells where the container's root is: refused, rather
 *    than binding over the /proc of what may be the host's tree. */
static int hook_enter(struct hook *h, int pidfd, int proc_root, const struct oci_state *s,
                      const struct oci_config *c, int *ret_rootfs) {
        _cleanup_close_ int ns_root = -EBADF, rootfs = -EBADF;
        _cleanup_free_ char *path = NULL;

        if (setns(pidfd, CLONE_NEWNS) < 0)
                return hook_error(h, "cannot enter the container's mount namespace: %s", strerror(errno));
        ns_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ns_root < 0)
                return hook_error(h, "/: %s", strerror(errno));
        if (c->root_path[0] == '/')
                path = strdup(c->root_path);
        else if (asprintf(&path, "%s/%s", s->bundle, c->root_path) < 0)
                path = NULL;
        if (!path)
                return hook_error(h, "%s", strerror(ENOMEM));
        rootfs = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfs < 0 && errno != ENOENT)
                return hook_error(h, "root.path %s: %s", path, strerror(errno));
        if (rootfs >= 0 && !same_dir(rootfs, proc_root)) {
                *ret_rootfs = TAKE_FD(rootfs);
                return 0;
        }
        if (rootfs < 0 && same_dir(ns_root, proc_root))
                return hook_error(h, "root.path %s is not in the container's mount namespace and the "
                                  "container process has not changed its root: cannot tell the container's root",
                                  path);
        *ret_rootfs = fcntl(proc_root, F_DUPFD_CLOEXEC, 3);
        return *ret_rootfs < 0 ? hook_error(h, "dup: %s", strerror(errno)) : 0;
}

/* Open each view's target beneath the rootfs; drop the views whose target
 * the container lacks unless they were named. */
static int hook_targets(struct hook *h, int rootfs) {
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };

        for (size_t i = 0; i < h->n; i++) {
                struct hook_view *hv = &h->view[i];
                struct stat st;

                hv->target_fd = (int)syscall(SYS_openat2, rootfs, hv->target + 1, &how, sizeof(how));
                if (hv->target_fd < 0 && errno == ENOENT && !hv->named) {
                        closep(&hv->tree);
                        hv->tree = -EBADF;
                        continue;
                }
                if (hv->target_fd < 0)
                        return hook_error(h, "%s in the container: %s", hv->target, strerror(errno));
                if (fstat(hv->target_fd, &st) < 0)
                        return hook_error(h, "%s in the container: %s", hv->target, strerror(errno));
                if (S_ISDIR(st.st_mode) != hv->dir)
                        return hook_error(h, "%s in the container is not a %s", hv->target,
                                          hv->dir ? "directory" : "file");
        }
        return 0;
}

/* Undo the attaches made: the clone's fd now names the attached mount. */
static void hook_detach(struct hook *h) {
        char path[64];

        for (size_t i = h->n; i-- > 0;)
                if (h->view[i].attached) {
                        snprintf(path, sizeof(path), "/proc/self/fd/%d", h->view[i].tree);
                        (void)umount2(path, MNT_DETACH);
                        h->view[i].attached = false;
                }
}

/* A testing aid, as CURATE_HOST_ROOT is: $CURATE_OCI_HOOK_FAIL_ATTACH=N
 * makes the Nth attach fail with EIO, so that the undo of the ones before
 * it is tested (nothing on a real host makes a move_mount fail on cue). */
static bool attach_fails(unsigned nth) {
        const char *e = getenv("CURATE_OCI_HOOK_FAIL_ATTACH");
        uint64_t n;

        return e && parse_u64(e, &n) == 0 && n == nth;
}

/* Attach every clone; all or nothing. (A clone's source lies below
 * c/<id>/, a name no other cgroup's reader is answered for: curatefs's top
 * links proc and sys send each reader there, so no other container's start
 * makes the kernel drop a directory entry above it, which move_mount would
 * refuse with ENOENT.) */
static int hook_attach(struct hook *h) {
        unsigned nth = 0;

        for (size_t i = 0; i < h->n; i++) {
                struct hook_view *hv = &h->view[i];

                if (hv->tree < 0) /* skipped: no target */
                        continue;
                if ((attach_fails(++nth) && (errno = EIO)) ||
                    move_mount(hv->tree, "", hv->target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
                        int e = errno;
                        hook_detach(h);
                        return hook_error(h, "cannot bind %s/%s over %s: %s (nothing bound)", h->mountpoint,
                                          hv->source, hv->target, strerror(e));
                }
                hv->attached = true;
        }
        return 0;
}

static int hook_run(struct hook *h, const struct oci_state *s, const struct oci_config *c) {
        _cleanup_close_ int mp = -EBADF, pidfd = -EBADF, proc_root = -EBADF, rootfs = -EBADF;
        int r, proc_pid = -1;

        if (!daemon_serving(h->mountpoint))
                return hook_error(h, "no curatefs serves %s (start it with `curate daemon start`; the hook "
                                  "does not start one)", h->mountpoint);
        mp = open(h->mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (mp < 0)
                return hook_error(h, "%s: %s", h->mountpoint, strerror(errno));
        if ((r = hook_open_process(h, s->pid, &pidfd, &proc_root, &proc_pid)) != 0)
                return r;
        hook_find_own(h, mp, proc_pid);
        hook_plan(h);
        if ((r = hook_clone(h, mp, proc_pid)) != 0)
                return r;
        if ((r = hook_enter(h, pidfd, proc_root, s, c, &rootfs)) != 0)
                return r;
        if ((r = hook_targets(h, rootfs)) != 0)
                return r;
        return hook_attach(h);
}

static void help_oci_hook(void) {
        printf("Usage: curate oci-hook [--mountpoint DIR] [--views LIST] < STATE\n"
               "\n"
               "An OCI runtime createContainer hook (runc, crun config.json \"hooks\"; podman\n"
               "and CRI-O through the hooks.d definition 50-curate.json): reads the OCI state\n"
               "on stdin, enters the container's mount namespace and binds curatefs's views\n"
               "read-only over its /proc/{meminfo,cpuinfo,stat,uptime,loadavg,swaps,diskstats}\n"
               "and /sys/devices/system/cpu. Views whose target the container lacks are skipped\n"
               "(unless named). All or nothing: on a failure nothing stays bound.\n"
               "Every container gets curatefs's copies made for its cgroup (cloned by a process\n"
               "in the container's cgroups: the hook under runc, else a child that joins\n"
               "them), sized, so busybox cat reads them whole, and no other container's\n"
               "reader meets their page cache; a cgroup /curate/ID gets MOUNTPOINT/c/ID/'s.\n"
               "\n"
               "The views come from the annotation " OCI_HOOK_ANNOTATION " (all, none, or a comma\n"
               "list of meminfo cpuinfo stat uptime loadavg swaps diskstats cpu-online cpu-tree\n"
               "vmstat), else --views, else all. A curatefs must serve the mount point (`curate\n"
               "daemon start`): the hook does not start one.\n"
               "\n"
               "      --mountpoint DIR     the curatefs mount point (default %s)\n"
               "      --views LIST         views when the container has no annotation\n"
               "  -h, --help               show this help and exit\n"
               "\n"
               "Errors go to stderr as \"curate oci-hook: ID: reason\"; exit status 1 (the\n"
               "runtime then fails the container), 2 for a usage error.\n",
               CURATEFS_DEFAULT_MOUNTPOINT);
}

int oci_hook_main(int argc, char **argv) {
        static const struct option opts[] = {
                { "mountpoint", required_argument, NULL, 'M' },
                { "views", required_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct hook h = { .mountpoint = CURATEFS_DEFAULT_MOUNTPOINT };
        _cleanup_free_ char *input = NULL, *config = NULL, *error = NULL;
        struct oci_state s = {};
        struct oci_config c = {};
        const char *opt_views = NULL;
        size_t len = 0, clen = 0;
        int o, r;

        while ((o = getopt_long(argc, argv, "+h", opts, NULL)) >= 0)
                switch (o) {
                case 'M': h.mountpoint = optarg; break;
                case 'v': opt_views = optarg; break;
                case 'h': help_oci_hook(); return 0;
                default: return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "curate oci-hook: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }
        if ((r = read_stdin(&input, &len)) < 0)
                return hook_error(&h, "stdin: %s", strerror(-r));
        if (oci_state_parse(input, len, &s, &error) < 0)
                return hook_error(&h, "%s", error);
        h.id = s.id;
        _cleanup_close_ int bundle = open(s.bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (bundle < 0)
                r = hook_error(&h, "bundle %s: %s", s.bundle, strerror(errno));
        else if ((r = read_file_at(bundle, "config.json", &config, &clen)) < 0)
                r = hook_error(&h, "%s/config.json: %s", s.bundle, strerror(-r));
        else if (oci_config_parse(config, clen, &c, &error) < 0)
                r = hook_error(&h, "%s/%s", s.bundle, error);
        else
                r = hook_views(&h, &s, &c, opt_views);
        if (r == 0 && h.views)
                r = hook_run(&h, &s, &c);
        hook_done(&h);
        oci_config_done(&c);
        oci_state_done(&s);
        return r;
}
