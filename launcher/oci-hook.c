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
#include <sys/mount.h>
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
 * The container's own views: when its cgroup is /curate/ID (runc's
 * linux.cgroupsPath "/curate/NAME", podman --cgroup-parent /curate) and the
 * hook can see MOUNTPOINT/c/ID/ (curatefs shows it only to readers in that
 * cgroup, which the hook runc forks from its init is), the views are those
 * copies: sized, so busybox cat (sendfile) reads them whole, as curate run
 * binds them. Otherwise the shared views, which every reader gets answered
 * for its own cgroup too, but which busybox cat reads as empty.
 *
 * All or nothing: every view is cloned (open_tree) and every target opened
 * before the first attach; an attach that fails detaches those made. The
 * hook never starts a daemon: under runc it runs in the container's
 * namespaces and cgroup, where a daemon would neither be seen by the host
 * nor outlive the container. */

struct hook_view {
        char source[PATH_MAX]; /* beneath the mount point: "proc/meminfo", "c/ID/proc/meminfo" */
        const char *target;    /* in the container: "/proc/meminfo"; "online" below PARENT's */
        int parent;            /* the cpu tree's index for its sized files, else -1 */
        bool named;            /* named in the annotation: a missing target is an error */
        int tree;              /* the detached clone of the daemon's file */
        int target_fd;         /* O_PATH fd of the container's file or directory */
        bool attached;
};

/* The cpu tree's files curatefs renders itself, which c/ID/ has sized copies
 * of (launcher/mounts.c binds the same over curate run's tree). */
static const char *const cpu_files[] = { "online", "possible", "present", "offline" };

struct hook {
        const char *id; /* for messages */
        const char *mountpoint;
        unsigned views;
        bool explicit_views; /* named in the annotation: a missing target is an error */
        char own[REG_ID_MAX + 1]; /* the container's curate id: use c/ID/; "" none */
        struct hook_view view[_POLICY_VIEW_MAX + ELEMENTSOF(cpu_files)];
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

/* The views to bind, in order: the cpu tree before the sized files over it. */
static void hook_plan(struct hook *h) {
        for (unsigned v = 0; v < _POLICY_VIEW_MAX; v++) {
                if (!(h->views & (1u << v)))
                        continue;
                struct hook_view *hv = &h->view[h->n++];
                *hv = (struct hook_view){ .target = policy_views[v].target, .parent = -1, .named = h->explicit_views,
                                          .tree = -EBADF, .target_fd = -EBADF };
                /* the tree's other files are the host's, cut per reader: the shared tree */
                if (h->own[0] && v != POLICY_VIEW_CPU_TREE)
                        snprintf(hv->source, sizeof(hv->source), "c/%s/%s", h->own, policy_views[v].source);
                else
                        snprintf(hv->source, sizeof(hv->source), "%s", policy_views[v].source);
                if (!h->own[0] || v != POLICY_VIEW_CPU_TREE)
                        continue;
                int tree = (int)h->n - 1;
                for (size_t i = 0; i < ELEMENTSOF(cpu_files); i++) {
                        hv = &h->view[h->n++];
                        *hv = (struct hook_view){ .target = cpu_files[i], .parent = tree, .tree = -EBADF,
                                                  .target_fd = -EBADF };
                        snprintf(hv->source, sizeof(hv->source), "c/%s/%s/%s", h->own, policy_views[v].source,
                                 cpu_files[i]);
                }
        }
}

/* Clone every view in the caller's (the daemon's) mount namespace, read-only. */
static int hook_clone(struct hook *h, int mp) {
        struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                             MOUNT_ATTR_NOEXEC };

        for (size_t i = 0; i < h->n; i++) {
                struct hook_view *hv = &h->view[i];

                hv->tree = open_tree(mp, hv->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
                if (hv->tree < 0)
                        return hook_error(h, "%s/%s: cannot clone: %s", h->mountpoint, hv->source, strerror(errno));
                if (mount_setattr(hv->tree, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
                        return hook_error(h, "%s/%s: cannot make it read-only: %s", h->mountpoint, hv->source,
                                          strerror(errno));
        }
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

/* Open each view's target beneath the rootfs (a cpu file's in the clone
 * of the tree it goes over); drop the views whose target the container
 * lacks unless they were named. */
static int hook_targets(struct hook *h, int rootfs) {
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };

        for (size_t i = 0; i < h->n; i++) {
                struct hook_view *hv = &h->view[i];
                struct stat st, src;

                if (hv->parent >= 0)
                        hv->target_fd = h->view[hv->parent].tree < 0 ? -ENOENT
                                : openat(h->view[hv->parent].tree, hv->target, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                else
                        hv->target_fd = (int)syscall(SYS_openat2, rootfs, hv->target + 1, &how, sizeof(how));
                if (hv->target_fd == -ENOENT)
                        errno = ENOENT;
                if (hv->target_fd < 0 && errno == ENOENT && !hv->named) {
                        closep(&hv->tree);
                        hv->tree = -EBADF;
                        continue;
                }
                if (hv->target_fd < 0)
                        return hook_error(h, "%s in the container: %s", hv->target, strerror(errno));
                if (fstat(hv->target_fd, &st) < 0 || fstat(hv->tree, &src) < 0)
                        return hook_error(h, "%s in the container: %s", hv->target, strerror(errno));
                if (S_ISDIR(st.st_mode) != S_ISDIR(src.st_mode))
                        return hook_error(h, "%s in the container is not a %s", hv->target,
                                          S_ISDIR(src.st_mode) ? "directory" : "file");
        }
        return 0;
}

/* Undo the attaches made: the clone's fd now names the attached mount. */
static void hook_detach(struct hook *h) {
        char path[64];

        for (size_t i = h->n; i-- > 0;) /* the cpu files before the tree under them */
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
        if ((r = hook_clone(h, mp)) != 0)
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
               "A container whose cgroup is /curate/ID (runc linux.cgroupsPath \"/curate/NAME\",\n"
               "podman --cgroup-parent /curate) gets curatefs's copies made for it, which\n"
               "busybox cat reads whole; others get the shared files (read them with head).\n"
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
