#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "cdi.h"
#include "cgroup.h"
#include "devrules.h"
#include "fileio.h"
#include "launcher.h"
#include "macro.h"
#include "registration.h"
#include "gpu-select.h"
#include "hotplug.h"
#include "nvidia-proc.h"
#include "nvidia.h"

/* `curate device add|remove CONTAINER [--gpu SPEC] [DEVICE...]`: change a
 * running container's device set. The set lives in two places that must
 * agree: the registration curatefs serves the container's /dev from, and the
 * device cgroup of its cgroup curate/<id>. Both are rewritten here, under a
 * lock, in the order that never grants more than the old or the new set:
 *   add:    device cgroup first, then the registration (the node appears)
 *   remove: registration first (the node vanishes), then the device cgroup
 * and when the second step fails the first is undone. An fd the command
 * opened before a remove stays usable: the device cgroup checks open(2),
 * as it does for every container runtime. */

static void device_help(void) {
        printf("Usage: curate device add|remove CONTAINER [--gpu SPEC] [DEVICE...]\n"
               "\n"
               "Add devices to, or remove them from, a running container without restarting\n"
               "it: the nodes appear in (or vanish from) its /dev and its device cgroup\n"
               "follows. CONTAINER is the id curate gave it (run-PID, PID being that of\n"
               "`curate run`; the command sees it as $CURATE_CONTAINER) or just that PID.\n"
               "It may also be a container podman or runc started: its id (or a unique\n"
               "prefix of 12 characters or more) as runc keeps it in /run/runc, or pid:PID\n"
               "of a process in it. Its own /dev gets (or loses) the node, with the host\n"
               "node's mode and owner, and its cgroup v1 device list follows; --mountpoint\n"
               "plays no part there, and cgroup v2 is refused.\n"
               "\n"
               "DEVICE is what `curate run --device` takes: a host node /dev/PATH[:rwm] or a\n"
               "CDI device vendor/class=name. --gpu SPEC is `curate run --gpu`'s: NVIDIA\n"
               "indices, UUIDs, i:j MIG devices, or amd:N. Removing a GPU keeps the shared\n"
               "control nodes (nvidiactl, nvidia-uvm, kfd ...) while another GPU of the same\n"
               "vendor remains; removing one by its path removes it.\n"
               "\n"
               "A container started without devices shares curatefs's cached /dev until its\n"
               "first add puts a /dev of its own in place (its pts, shm and mqueue mounts\n"
               "moved onto it).\n"
               "\n"
               "/proc/driver/nvidia follows on Linux 6.15 and later (a warning says when it\n"
               "cannot). Not changed in a running container: its environment (a CDI device's\n"
               "env is reported, not applied), its supplementary groups; CDI mounts are\n"
               "refused. Files the command opened before a remove stay open.\n"
               "\n"
               "Options:\n"
               "      --gpu SPEC        GPUs, as for curate run --gpu\n"
               "      --mountpoint DIR  the curatefs serving the container (default\n"
               "                        %s)\n"
               "  -h, --help            show this help and exit\n"
               "\n"
               "Exit status: 0 done, 1 failed (nothing changed), 2 bad usage.\n",
               CURATEFS_DEFAULT_MOUNTPOINT);
}

#define fail(status, ...) curate_report(status, "device: ", __VA_ARGS__)

static ssize_t find_path(const struct device_list *l, const char *path) {
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->nodes[i].path, path))
                        return (ssize_t)i;
        return -1;
}

/* ---- which nodes a remove takes ---- */

/* Nodes every GPU of a vendor shares, kept while one of its GPUs remains. */
static const struct {
        const char *path, *family;
} shared_nodes[] = {
        { "/dev/nvidiactl", "nvidia" },  { "/dev/nvidia-uvm", "nvidia" }, { "/dev/nvidia-uvm-tools", "nvidia" },
        { "/dev/nvidia-modeset", "nvidia" }, { "/dev/kfd", "amd" },
};

static const char *shared_family(const char *path) {
        for (size_t i = 0; i < ELEMENTSOF(shared_nodes); i++)
                if (streq(path, shared_nodes[i].path))
                        return shared_nodes[i].family;
        return NULL;
}

/* the family of a per-GPU node: /dev/nvidiaN, /dev/nvidia-caps/..., /dev/dri/... */
static const char *gpu_family(const char *path) {
        if (strncmp(path, "/dev/nvidia", 11) == 0 && isdigit((unsigned char)path[11]))
                return "nvidia";
        if (strncmp(path, "/dev/nvidia-caps/", 17) == 0)
                return "nvidia";
        if (strncmp(path, "/dev/dri/", 9) == 0)
                return "amd";
        return NULL;
}

static bool family_remains(const struct device_list *l, const char *family) {
        for (size_t i = 0; i < l->n; i++) {
                const char *f = gpu_family(l->nodes[i].path);
                if (f && streq(f, family))
                        return true;
        }
        return false;
}

/* OLD minus the nodes named: a /dev path spec by its path (it must be in the
 * set), resolved ones (GPUs, CDI) by their paths, their shared nodes kept
 * while another GPU of the vendor remains. */
static int subtract(const struct device_list *old, char *const *specs, size_t n_specs, const struct device_list *resolved,
                    struct device_list *ret, char **ret_error) {
        bool *drop = calloc(old->n + 1, sizeof(bool));
        struct device_list l = {};
        int r = 0;

        if (!drop)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n_specs; i++) {
                if (specs[i][0] != '/')
                        continue;
                _cleanup_free_ char *path = strndup(specs[i], strcspn(specs[i], ":"));
                ssize_t k = path ? find_path(old, path) : -1;
                if (!path)
                        r = -ENOMEM;
                else if (k < 0)
                        r = error_printf(ret_error, -ENOENT, "%s is not in the container's device set", path);
                else
                        drop[k] = true;
        }
        for (size_t i = 0; r >= 0 && i < resolved->n; i++) {
                ssize_t k = find_path(old, resolved->nodes[i].path);
                if (k < 0 && !shared_family(resolved->nodes[i].path))
                        r = error_printf(ret_error, -ENOENT, "%s is not in the container's device set",
                                         resolved->nodes[i].path);
                else if (k >= 0)
                        drop[k] = true;
        }
        for (size_t i = 0; r >= 0 && i < old->n; i++)
                if (!drop[i])
                        r = device_list_add(&l, &old->nodes[i]);
        /* shared nodes a resolved GPU brought back while its vendor has a GPU left */
        for (size_t i = 0; r >= 0 && i < old->n; i++) {
                const char *f = shared_family(old->nodes[i].path);
                bool by_path = false;
                for (size_t s = 0; s < n_specs; s++)
                        by_path |= specs[s][0] == '/' && strncmp(specs[s], old->nodes[i].path, strlen(old->nodes[i].path)) == 0 &&
                                   (specs[s][strlen(old->nodes[i].path)] == 0 || specs[s][strlen(old->nodes[i].path)] == ':');
                if (drop[i] && f && !by_path && family_remains(&l, f))
                        r = device_list_add(&l, &old->nodes[i]);
        }
        free(drop);
        if (r < 0) {
                device_list_done(&l);
                return r == -ENOMEM ? error_printf(ret_error, r, "%s", strerror(-r)) : r;
        }
        *ret = l;
        return 0;
}

/* ---- the device cgroup ---- */

struct dev_rule hotplug_node_rule(const struct device_node *n) {
        struct dev_rule r = { .type = n->type, .major = (int)n->major, .minor = (int)n->minor, .allow = true };
        memcpy(r.access, n->access[0] ? n->access : "rwm", sizeof(r.access));
        return r;
}

int hotplug_write_rule(int dir_fd, const char *file, const struct dev_rule *rule, char **ret_error) {
        char line[DEVRULE_LINE_MAX];
        _cleanup_close_ int fd = openat(dir_fd, file, O_WRONLY | O_CLOEXEC);
        int r = devrules_format(rule, line);

        if (r < 0)
                return error_printf(ret_error, r, "device rule: %s", strerror(-r));
        if (fd < 0 || write(fd, line, strlen(line)) < 0)
                return error_printf(ret_error, -errno, "%s \"%s\": %s", file, line, strerror(errno));
        return 0;
}

/* cgroup v1: allow what NEW has beyond OLD, deny what OLD had that NEW's
 * rules (defaults included) no longer allow, letter by letter: a deny strips
 * only an exception with exactly its numbers (the kernel's
 * dev_exception_rm), so one shared with a default rule must stay. */
static int update_v1(int dir_fd, const struct device_list *old, const struct device_list *new, char **ret_error) {
        _cleanup_free_ struct dev_rule *rules = NULL;
        size_t n_rules;
        int r = devrules_build(new, &rules, &n_rules);

        if (r < 0)
                return error_printf(ret_error, r, "device rules: %s", strerror(-r));
        for (size_t i = 0; i < new->n; i++) {
                struct dev_rule rule = hotplug_node_rule(&new->nodes[i]);
                ssize_t k = find_path(old, new->nodes[i].path);
                if (k >= 0 && streq(old->nodes[k].access, new->nodes[i].access))
                        continue; /* allowed already */
                if ((r = hotplug_write_rule(dir_fd, "devices.allow", &rule, ret_error)) < 0)
                        return r;
        }
        for (size_t i = 0; i < old->n; i++) {
                struct dev_rule rule = hotplug_node_rule(&old->nodes[i]);
                char *a = rule.access;
                for (const char *k = old->nodes[i].access[0] ? old->nodes[i].access : "rwm"; *k; k++) {
                        char one[2] = { *k, 0 };
                        if (devrules_eval(rules, n_rules, rule.type, (unsigned)rule.major, (unsigned)rule.minor, one) == 0)
                                *a++ = *k;
                }
                *a = 0;
                if (rule.access[0] && (r = hotplug_write_rule(dir_fd, "devices.deny", &rule, ret_error)) < 0)
                        return r;
        }
        return 0;
}

/* cgroup v2: a new program for the whole set replaces the old one */
static int update_v2(int dir_fd, const struct device_list *new, char **ret_error) {
        _cleanup_free_ struct dev_rule *rules = NULL;
        _cleanup_free_ struct bpf_insn *prog = NULL;
        size_t n_rules, n_prog;
        int r = devrules_build(new, &rules, &n_rules);

        if (r >= 0)
                r = devrules_bpf_program(rules, n_rules, &prog, &n_prog);
        if (r < 0)
                return error_printf(ret_error, r, "device program: %s", strerror(-r));
        return devrules_bpf_replace(dir_fd, prog, n_prog, ret_error);
}

static int update_cgroup(const struct run_cgroup *cg, const struct device_list *old, const struct device_list *new,
                         char **ret_error) {
        /* v1 copies a parent's device list into a child cgroup when the
         * child is made and never adds to it later: the cgroups of a
         * --delegate container would not follow an add */
        if (cg->devices_at >= 0 && faccessat(cg->dir_fd[cg->devices_at], RUN_CGROUP_DELEGATED, F_OK, 0) == 0)
                return error_printf(ret_error, -EOPNOTSUPP,
                                    "its cgroup is delegated (--delegate): on cgroup v1 the cgroups below it keep "
                                    "the device list they were made with, so its devices cannot change while it "
                                    "runs; give them at start");
        if (cg->devices_at >= 0)
                return update_v1(cg->dir_fd[cg->devices_at], old, new, ret_error);
        return update_v2(cg->dir_fd[cg->unified_at], new, ret_error);
}

static int open_container_cgroup(const char *id, struct run_cgroup *ret, char **ret_error) {
        struct cg_layout layout;
        char path[REG_ID_MAX + 16];
        int r = run_cgroup_layout(&layout, ret_error);

        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "/curate/%s", id);
        r = run_cgroup_join(&layout, path, ret, ret_error);
        cg_layout_done(&layout);
        if (r == -ENOENT)
                return error_printf(ret_error, r, "container %s has no cgroup %s: has it ended?", id, path);
        if (r >= 0 && ret->devices_at < 0 && ret->unified_at < 0) {
                run_cgroup_destroy(ret);
                return error_printf(ret_error, -ENODEV, "container %s: no device cgroup (v1 devices or cgroup2) here", id);
        }
        return r;
}

/* ---- add / remove ---- */

/* What the specs name on the host; for a remove, /dev paths are matched in
 * the registration and need no host node. */
int hotplug_resolve(const struct hotplug *h, struct cdi_edits *ret, char **ret_error) {
        _cleanup_free_ char **specs = calloc(h->n_specs + 1, sizeof(char *));
        _cleanup_close_ int root_fd = -EBADF;
        size_t n = 0;
        int r;

        if (!specs)
                return -ENOMEM;
        for (size_t i = 0; i < h->n_specs; i++)
                if (h->add || h->specs[i][0] != '/')
                        specs[n++] = h->specs[i];
        if (n == 0 && !h->gpu) {
                *ret = (struct cdi_edits){};
                return 0;
        }
        root_fd = host_root_open(ret_error);
        if (root_fd < 0)
                return root_fd;
        r = devices_resolve(root_fd, specs, n, h->gpu, ret, ret_error);
        if (r < 0)
                return r;
        if (h->add && ret->n_mounts > 0) {
                cdi_edits_done(ret);
                return error_printf(ret_error, -EOPNOTSUPP,
                                    "CDI mounts cannot be added to a running container (restart it with the device)");
        }
        return 0;
}

static void report(const struct hotplug *h, const struct device_list *old, const struct device_list *new,
                   const struct cdi_edits *edits) {
        const struct device_list *from = h->add ? new : old, *other = h->add ? old : new;

        for (size_t i = 0; i < from->n; i++)
                if (find_path(other, from->nodes[i].path) < 0)
                        printf("%s %s (%c %u:%u %s)\n", h->add ? "added" : "removed", from->nodes[i].path,
                               from->nodes[i].type, from->nodes[i].major, from->nodes[i].minor,
                               from->nodes[i].access);
        if (h->add && edits->n_env > 0)
                fprintf(stderr, "curate: warning: the CDI env (%s ...) is not applied to a running container\n",
                        edits->env[0]);
        if (h->add && edits->n_additional_gids > 0)
                fprintf(stderr, "curate: warning: CDI additionalGIDs are not applied to a running container\n");
        if (h->add && edits->n_hooks > 0)
                fprintf(stderr, "curate: warning: %zu CDI hook(s) not run: curate runs no OCI hooks\n", edits->n_hooks);
}

/* ---- a container started without devices ----
 * Its /dev is curatefs's shared dev/ (cached, so a plain launch costs no
 * extra FUSE requests) and it has no registration. The first add switches
 * it to devs/<id>: inside its mount namespace the new tree is mounted over
 * /dev and the mounts on the old one (pts, shm, mqueue) are moved onto it,
 * or, when a move fails, moved back and the new tree taken off again. The
 * old /dev stays covered below (detaching it would take the new one too). */

/* The cgroup the container's processes are in: its transient cgroup, or
 * with --delegate the child of it the command was started in. */
static int members_fd(const struct run_cgroup *cg) {
        int at = cg->devices_at >= 0 ? cg->devices_at : cg->unified_at;
        int fd = openat(cg->dir_fd[at], RUN_CGROUP_DELEGATED, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0 && errno == ENOENT)
                fd = fcntl(cg->dir_fd[at], F_DUPFD_CLOEXEC, 3);
        return fd < 0 ? -errno : fd;
}

/* The first process of the container's cgroup: its mount namespace is the
 * container's (curate's init, or the command with --share pid). */
static int container_pid(const struct run_cgroup *cg, pid_t *ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = members_fd(cg);
        int r = fd < 0 ? fd : read_file_at(fd, "cgroup.procs", &text, NULL);
        long pid;

        if (r < 0)
                return r;
        pid = strtol(text, NULL, 10);
        if (pid <= 0)
                return -ESRCH;
        *ret = (pid_t)pid;
        return 0;
}

/* FN(ARG) in a forked child (setns(CLONE_NEWNS) wants a single-threaded
 * caller: a fork is one, and our own namespace stays as it is). 0 or the
 * child's -errno. */
int hotplug_in_child(int (*fn)(void *arg), void *arg) {
        int status, r;
        pid_t child = fork();

        if (child < 0)
                return -errno;
        if (child == 0) {
                r = fn(arg);
                _exit(r < 0 ? -r : 0);
        }
        while ((r = waitpid(child, &status, 0)) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return -errno;
        return WIFEXITED(status) ? -WEXITSTATUS(status) : -EIO;
}

/* The mount namespace of PID, to enter with enter_mntns(). */
static int open_mntns(pid_t pid) {
        char path[64];
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static int enter_mntns(int ns_fd) {
        return setns(ns_fd, CLONE_NEWNS) < 0 || chdir("/") < 0 ? -errno : 0;
}

struct submount {
        char path[256];
        int fd;
};

/* The mounts directly on /dev (the topmost /dev mount), from mountinfo:
 * "ID PARENT MAJ:MIN ROOT MOUNTPOINT ...". PROC_FD is our own namespace's
 * /proc: the container's /proc (its own pid namespace) has no entry for
 * us, while a mountinfo opened now lists the namespace we are in now. */
static int dev_submounts(int proc_fd, struct submount *subs, size_t max, size_t *ret_n) {
        int fd = openat(proc_fd, "self/mountinfo", O_RDONLY | O_CLOEXEC);
        _cleanup_fclose_ FILE *f = fd < 0 ? NULL : fdopen(fd, "re");
        char line[4096];
        long dev_id = -1;
        size_t n = 0;

        if (!f) {
                int r = -errno;
                if (fd >= 0)
                        close(fd);
                return r;
        }
        while (fgets(line, sizeof(line), f)) {
                long id, parent;
                char mp[256];
                if (sscanf(line, "%ld %ld %*s %*s %255s", &id, &parent, mp) != 3)
                        continue;
                if (streq(mp, "/dev")) {
                        dev_id = id; /* a later one is on top */
                        n = 0;
                } else if (parent == dev_id && strncmp(mp, "/dev/", 5) == 0 && !strchr(mp + 5, '/')) {
                        if (n == max)
                                return -E2BIG;
                        snprintf(subs[n].path, sizeof(subs[n].path), "%s", mp);
                        subs[n++].fd = -EBADF;
                }
        }
        if (dev_id < 0)
                return -ENOENT;
        *ret_n = n;
        return 0;
}

/* In the container's mount namespace: TREE over /dev, the submounts moved
 * onto it. 0 or -errno, with the container's /dev as it was on failure. */
static int switch_dev_here(int proc_fd, int tree) {
        struct submount subs[16];
        _cleanup_close_ int old = -EBADF;
        size_t n = 0, moved = 0;
        int r = dev_submounts(proc_fd, subs, ELEMENTSOF(subs), &n);

        if (r < 0)
                return r;
        old = open_tree(AT_FDCWD, "/dev", OPEN_TREE_CLOEXEC);
        if (old < 0)
                return -errno;
        for (size_t i = 0; i < n; i++)
                if ((subs[i].fd = open_tree(AT_FDCWD, subs[i].path, OPEN_TREE_CLOEXEC)) < 0)
                        return -errno;
        if (move_mount(tree, "", AT_FDCWD, "/dev", MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return -errno;
        for (; moved < n; moved++)
                if (move_mount(subs[moved].fd, "", AT_FDCWD, subs[moved].path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        break;
        if (moved == n)
                return 0;
        r = -errno;
        /* undo: the moved ones back onto the covered old /dev, then the new tree off */
        for (size_t i = 0; i < moved; i++)
                (void)move_mount(subs[i].fd, "", old, subs[i].path + 5, MOVE_MOUNT_F_EMPTY_PATH);
        (void)umount2("/dev", MNT_DETACH);
        return r;
}

struct switch_args {
        int cgroup_fd, mp, ns;
        const char *devs;
};

static int switch_in_child(void *arg) {
        const struct switch_args *a = arg;
        _cleanup_close_ int procs = openat(a->cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
        _cleanup_close_ int tree = -EBADF, proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        char self[32];
        int r;

        if (proc < 0)
                return -errno;
        /* curatefs shows devs/<id> to the container's cgroup only: join it,
         * then clone the tree here, in our namespace (open_tree refuses to
         * clone another namespace's mounts), then enter the container's */
        snprintf(self, sizeof(self), "%d\n", (int)getpid());
        if (procs < 0 || write(procs, self, strlen(self)) < 0)
                return -errno;
        tree = open_tree(a->mp, a->devs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (tree < 0)
                return -errno;
        if ((r = enter_mntns(a->ns)) < 0)
                return r;
        return switch_dev_here(proc, tree);
}

static int switch_dev(const struct hotplug *h, const struct run_cgroup *cg, char **ret_error) {
        _cleanup_close_ int mp = -EBADF, ns = -EBADF;
        char path[64], devs[REG_ID_MAX + 8];
        struct stat in_container, served;
        pid_t pid;
        int r;

        if ((r = container_pid(cg, &pid)) < 0)
                return error_printf(ret_error, r, "container %s: no process in its cgroup: %s", h->id, strerror(-r));
        mp = open(h->mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (mp < 0 || fstat(mp, &served) < 0)
                return error_printf(ret_error, -errno, "curatefs mount point %s: %s", h->mountpoint, strerror(errno));
        snprintf(path, sizeof(path), "/proc/%d/root/dev", (int)pid);
        if (stat(path, &in_container) < 0)
                return error_printf(ret_error, -errno, "%s: %s", path, strerror(errno));
        if (in_container.st_dev != served.st_dev)
                return error_printf(ret_error, -EXDEV,
                                    "container %s: its /dev is not served by the curatefs at %s (--mountpoint?)", h->id,
                                    h->mountpoint);
        if ((ns = open_mntns(pid)) < 0)
                return error_printf(ret_error, ns, "container %s: its mount namespace: %s", h->id, strerror(-ns));
        snprintf(devs, sizeof(devs), "devs/%s", h->id);
        _cleanup_close_ int members = members_fd(cg);
        if (members < 0)
                return error_printf(ret_error, members, "container %s: its cgroup: %s", h->id, strerror(-members));
        struct switch_args a = { .cgroup_fd = members, .mp = mp, .ns = ns, .devs = devs };
        r = hotplug_in_child(switch_in_child, &a);
        return r < 0 ? error_printf(ret_error, r, "container %s: putting its own /dev in place: %s", h->id,
                                    strerror(-r))
                     : 0;
}

struct view_args {
        int ns, tree;
};

static int view_in_child(void *arg) {
        const struct view_args *a = arg;
        int r = enter_mntns(a->ns);

        if (r < 0)
                return r;
        return move_mount(a->tree, "", AT_FDCWD, "/proc/driver/nvidia", MOVE_MOUNT_F_EMPTY_PATH) < 0 ? -errno : 0;
}

/* /proc/driver/nvidia follows the new set, where curate made the view (a
 * tmpfs there): a new view, built detached here (it binds host paths, which
 * only our namespace can clone), is mounted over the old one inside the
 * container's namespace. A failure is a warning: the nodes and the device
 * cgroup, which decide what the container can open, are already in place. */
static int update_nvidia_view(const struct hotplug *h, const struct run_cgroup *cg, const struct device_list *set,
                              char **ret_error) {
        _cleanup_close_ int host = -EBADF, croot = -EBADF, nv = -EBADF, ns = -EBADF, tree = -EBADF;
        _cleanup_free_ char *error = NULL;
        struct nvidia_host nvh = {};
        char **gpus = NULL, **caps = NULL, path[64];
        struct statfs sf;
        struct view_args a;
        pid_t pid;
        int r;

        host = host_root_open(ret_error);
        if (host < 0)
                return host;
        r = nvidia_discover(host, &nvh, &error);
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return error_printf(ret_error, r, "%s", error ? error : strerror(-r));
        if ((r = container_pid(cg, &pid)) < 0)
                goto out;
        snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
        croot = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        nv = croot < 0 ? -errno : open_beneath(croot, "proc/driver/nvidia", O_PATH | O_DIRECTORY);
        if (nv < 0 || fstatfs(nv, &sf) < 0 || sf.f_type != TMPFS_MAGIC) {
                r = 0; /* no view of curate's there (it started before the driver loaded) */
                goto out;
        }
        if ((r = nvidia_proc_gpus(&nvh, set, &gpus)) < 0 || (r = nvidia_proc_caps(&nvh, set, &caps)) < 0)
                goto out;
        r = proc_nvidia_build(host, croot, gpus, caps, &tree, ret_error);
        if (r < 0 || tree < 0)
                goto out;
        if ((ns = open_mntns(pid)) < 0) {
                r = ns;
                goto out;
        }
        a = (struct view_args){ .ns = ns, .tree = tree };
        r = hotplug_in_child(view_in_child, &a);
out:
        gpu_select_strv_free(gpus);
        gpu_select_strv_free(caps);
        nvidia_host_done(&nvh);
        return r < 0 && !*ret_error ? error_printf(ret_error, r, "%s", strerror(-r)) : r;
}

static int hotplug_locked(const struct hotplug *h, char **ret_error) {
        struct device_list old = {}, new = {};
        struct cdi_edits edits = {};
        struct run_cgroup cg = { .devices_at = -1, .unified_at = -1 };
        bool shared_dev;
        int r;

        _cleanup_free_ char *reg_error = NULL;
        r = device_list_registered(h->id, &old, &reg_error);
        shared_dev = r == -ENOENT; /* started without devices: /dev is curatefs's dev/ */
        if (r < 0 && !shared_dev)
                return error_printf(ret_error, r, "%s", reg_error ? reg_error : strerror(-r));
        r = open_container_cgroup(h->id, &cg, ret_error);
        if (r == -ENOENT && shared_dev)
                r = error_printf(ret_error, r, "no running container %s", h->id);
        if (r < 0)
                goto out;
        r = hotplug_resolve(h, &edits, ret_error);
        if (r < 0)
                goto out;
        if (h->add) {
                for (size_t i = 0; r >= 0 && i < old.n; i++)
                        r = device_list_add(&new, &old.nodes[i]);
                for (size_t i = 0; r >= 0 && i < edits.nodes.n; i++)
                        if ((r = device_list_add(&new, &edits.nodes.nodes[i])) == -EEXIST)
                                r = error_printf(ret_error, r, "%s: the container has another device at that path",
                                                 edits.nodes.nodes[i].path);
        } else {
                r = subtract(&old, h->specs, h->n_specs, &edits.nodes, &new, ret_error);
        }
        if (r < 0)
                goto out;
        /* the order that never grants more than the old or the new set */
        /* a step that fails half-way (one rule of several written) is
         * undone with the rest: the cgroup is put back to the old set */
        if (h->add) {
                r = update_cgroup(&cg, &old, &new, ret_error);
                if (r >= 0)
                        r = device_list_register(h->id, &new, ret_error);
                if (r >= 0 && shared_dev && (r = switch_dev(h, &cg, ret_error)) < 0)
                        (void)reg_remove(h->id);
                if (r < 0)
                        (void)update_cgroup(&cg, &new, &old, NULL);
        } else {
                r = device_list_register(h->id, &new, ret_error);
                if (r >= 0 && (r = update_cgroup(&cg, &old, &new, ret_error)) < 0) {
                        (void)device_list_register(h->id, &old, NULL);
                        (void)update_cgroup(&cg, &new, &old, NULL);
                }
        }
        if (r >= 0) {
                _cleanup_free_ char *error = NULL;
                report(h, &old, &new, &edits);
                if (update_nvidia_view(h, &cg, &new, &error) < 0)
                        fprintf(stderr, "curate: warning: %s: /proc/driver/nvidia not updated: %s\n", h->id,
                                error ? error : "?");
        }
out:
        if (cg.n > 0)
                run_cgroup_destroy(&cg);
        cdi_edits_done(&edits);
        device_list_done(&old);
        device_list_done(&new);
        return r;
}

static int hotplug(const struct hotplug *h, char **ret_error) {
        _cleanup_close_ int lock = -EBADF;

        if (geteuid() != 0)
                return error_printf(ret_error, -EPERM, "curate device needs root (it changes a device cgroup)");
        /* one change at a time, against curate run's own registrations too */
        if (!getenv("CURATE_DEVICES_DIR"))
                (void)mkdir(CURATE_RUN_DIR, 0755);
        (void)mkdir(device_registration_dir(), 0755);
        lock = open(device_registration_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (lock < 0)
                return error_printf(ret_error, -errno, "no running container %s (%s: %s)", h->id,
                                    device_registration_dir(), strerror(errno));
        if (flock(lock, LOCK_EX) < 0)
                return error_printf(ret_error, -errno, "locking %s: %s", device_registration_dir(), strerror(errno));
        return hotplug_locked(h, ret_error);
}

/* CONTAINER: an id ("run-123"), or the pid of `curate run` ("123") */
static int container_id(const char *arg, char id[static REG_ID_MAX + 1]) {
        if (!*arg || strlen(arg) > REG_ID_MAX)
                return -EINVAL;
        if (strspn(arg, "0123456789") == strlen(arg)) {
                if (strlen(arg) > 10)
                        return -EINVAL;
                snprintf(id, REG_ID_MAX + 1, "run-%.10s", arg);
        }
        else
                snprintf(id, REG_ID_MAX + 1, "%s", arg);
        return reg_id_valid(id) ? 0 : -EINVAL;
}

int device_main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "gpu", required_argument, NULL, 'g' },
                { "mountpoint", required_argument, NULL, 'm' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_free_ char *error = NULL;
        struct hotplug h = { .mountpoint = CURATEFS_DEFAULT_MOUNTPOINT };
        char id[REG_ID_MAX + 1];
        int c, r;

        optind = 0; /* GNU: start afresh, main.c may have parsed before */
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) >= 0) {
                switch (c) {
                case 'g':
                        if (h.gpu)
                                return fail(2, "--gpu given twice\nTry 'curate device --help'.");
                        h.gpu = optarg;
                        break;
                case 'm':
                        h.mountpoint = optarg;
                        break;
                case 'h':
                        device_help();
                        return 0;
                case ':':
                        return fail(2, "option '%s' needs an argument\nTry 'curate device --help'.", argv[optind - 1]);
                default:
                        return fail(2, "unknown option '%s'\nTry 'curate device --help'.", argv[optind - 1]);
                }
        }
        if (optind >= argc || (!streq(argv[optind], "add") && !streq(argv[optind], "remove")))
                return fail(2, "add or remove?\nTry 'curate device --help'.");
        h.add = streq(argv[optind], "add");
        if (optind + 1 >= argc)
                return fail(2, "which container?\nTry 'curate device --help'.");
        if (hotplug_engine_arg(argv[optind + 1])) {
                h.specs = argv + optind + 2;
                h.n_specs = (size_t)(argc - optind - 2);
                if (h.n_specs == 0 && !h.gpu)
                        return fail(2, "no device given: name DEVICEs or --gpu SPEC\nTry 'curate device --help'.");
                r = hotplug_engine(&h, argv[optind + 1], &error);
                if (r < 0)
                        return fail(1, "%s: %s", argv[optind + 1], error ? error : strerror(-r));
                return 0;
        }
        if (container_id(argv[optind + 1], id) < 0)
                return fail(2, "'%s' is not a container id (run-PID, an engine's id) or a pid", argv[optind + 1]);
        h.id = id;
        h.specs = argv + optind + 2;
        h.n_specs = (size_t)(argc - optind - 2);
        if (h.n_specs == 0 && !h.gpu)
                return fail(2, "no device given: name DEVICEs or --gpu SPEC\nTry 'curate device --help'.");
        if (!*h.mountpoint)
                return fail(2, "--mountpoint: empty path");
        r = hotplug(&h, &error);
        if (r < 0)
                return fail(1, "%s: %s", id, error ? error : strerror(-r));
        return 0;
}
