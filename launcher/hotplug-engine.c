#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <json-c/json.h>
#include "fileio.h"
#include "hotplug.h"
#include "macro.h"

/* ---- a container an engine started (podman, runc) ----
 * It has a /dev of its own (runc's tmpfs with nodes) and a device cgroup of
 * its own, both outside curate's registrations. It is found by its runc
 * state (RUNC_STATE_DIR/<id>/state.json: init_process_pid, cgroup_paths;
 * podman with runc keeps it there too, whatever its --runroot) or by a pid
 * in it. An add makes the node inside (the host node's type, numbers, mode
 * and owner) and then allows it in the device cgroup, a remove unlinks it
 * and then denies it: either order never grants what neither set grants,
 * and a failed second step undoes the first. Only cgroup v1 is done: on v2
 * runc attaches a BPF device program of its own, and one attached beside it
 * can only narrow what it allows. */

#define RUNC_STATE_DIR "/run/runc"
/* CURATE_RUNC_ROOT replaces it (tests: a state that points elsewhere) */
static const char *runc_root(void) {
        const char *e = getenv("CURATE_RUNC_ROOT");
        return e && *e ? e : RUNC_STATE_DIR;
}
#define DEVICES_V1 "/sys/fs/cgroup/devices"

struct engine {
        char name[80]; /* the full id, or "pid:N" */
        pid_t pid;
        char devices[PATH_MAX]; /* its v1 devices cgroup directory */
};

bool hotplug_engine_arg(const char *arg) {
        size_t n = strlen(arg);
        return strncmp(arg, "pid:", 4) == 0 || (n >= 12 && n <= 64 && strspn(arg, "0123456789abcdef") == n);
}

static inline void json_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}

/* the runc container whose id is or starts with PREFIX */
static int engine_by_id(const char *prefix, struct engine *e, char **ret_error) {
        _cleanup_closedir_ DIR *d = opendir(runc_root());
        _cleanup_(json_putp) json_object *state = NULL;
        json_object *pid, *paths, *dev;
        char path[PATH_MAX];
        struct dirent *de;
        int found = 0;

        if (!d)
                return error_printf(ret_error, errno == ENOENT ? -ENOENT : -errno, "no runc container %s (%s: %s)",
                                    prefix, runc_root(), strerror(errno));
        while ((de = readdir(d)))
                if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 && strlen(de->d_name) < sizeof(e->name)) {
                        if (found++)
                                return error_printf(ret_error, -ENOTUNIQ, "%s is ambiguous: %s and %s", prefix,
                                                    e->name, de->d_name);
                        snprintf(e->name, sizeof(e->name), "%s", de->d_name);
                }
        if (!found)
                return error_printf(ret_error, -ENOENT, "no running container %s (neither curate's nor one in %s)",
                                    prefix, runc_root());
        snprintf(path, sizeof(path), "%s/%s/state.json", runc_root(), e->name);
        state = json_object_from_file(path);
        if (!state || !json_object_object_get_ex(state, "init_process_pid", &pid) ||
            !json_object_object_get_ex(state, "cgroup_paths", &paths))
                return error_printf(ret_error, -EINVAL, "%s: no init_process_pid or cgroup_paths", path);
        e->pid = (pid_t)json_object_get_int(pid);
        if (!json_object_object_get_ex(paths, "devices", &dev))
                return error_printf(ret_error, -EOPNOTSUPP,
                                    "container %s: no v1 devices cgroup (cgroup v2: runc's own device program "
                                    "decides there, and one attached beside it can only narrow it)", e->name);
        snprintf(e->devices, sizeof(e->devices), "%s", json_object_get_string(dev));
        if (e->pid <= 0 || strncmp(e->devices, DEVICES_V1 "/", strlen(DEVICES_V1) + 1) != 0)
                return error_printf(ret_error, -EINVAL, "%s: odd init_process_pid or devices path", path);
        return 0;
}

/* the container PID is in: its v1 devices cgroup, from /proc/PID/cgroup */
static int engine_by_pid(const char *arg, struct engine *e, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        char path[64], *p, *end;
        long pid = strtol(arg + 4, &end, 10);
        struct stat ours, theirs;

        if (pid <= 0 || *end || end == arg + 4)
                return error_printf(ret_error, -EINVAL, "'%s': pid:PID wants a pid", arg);
        snprintf(path, sizeof(path), "/proc/%ld/cgroup", pid);
        if (read_file_at(AT_FDCWD, path, &text, NULL) < 0)
                return error_printf(ret_error, -ESRCH, "no process %ld", pid);
        p = strstr(text, ":devices:");
        if (!p)
                return error_printf(ret_error, -EOPNOTSUPP, "pid %ld: no v1 devices cgroup (cgroup v2 is not supported "
                                    "for engine containers)", pid);
        p += strlen(":devices:");
        p[strcspn(p, "\n")] = 0;
        snprintf(path, sizeof(path), "/proc/%ld/ns/mnt", pid);
        if (streq(p, "/") || stat("/proc/self/ns/mnt", &ours) < 0 || stat(path, &theirs) < 0 || ours.st_ino == theirs.st_ino)
                return error_printf(ret_error, -EINVAL, "pid %ld is not in a container (root device cgroup or our mount "
                                    "namespace)", pid);
        snprintf(e->name, sizeof(e->name), "pid:%ld", pid);
        snprintf(e->devices, sizeof(e->devices), DEVICES_V1 "%s", p);
        e->pid = (pid_t)pid;
        return 0;
}

/* After the pidfd is open (it pins the process): the process is still in
 * the container's devices cgroup or below it, so a pid the state names is
 * no other process's now that has taken the number. */
static int engine_pid_check(const struct engine *e, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        char path[64], *p;
        size_t n = strlen(e->devices) - strlen(DEVICES_V1);

        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)e->pid);
        p = read_file_at(AT_FDCWD, path, &text, NULL) < 0 ? NULL : strstr(text, ":devices:");
        if (p) {
                p += strlen(":devices:");
                p[strcspn(p, "\n")] = 0;
        }
        if (!p || strncmp(p, e->devices + strlen(DEVICES_V1), n) != 0 || (p[n] && p[n] != '/'))
                return error_printf(ret_error, -ESRCH, "container %s: process %d is not in its cgroup %s (has it ended?)",
                                    e->name, (int)e->pid, e->devices);
        return 0;
}

/* directories below /dev an add makes for its nodes (a GPU's /dev/dri,
 * /dev/nvidia-caps), listed before it, shallowest first: the undo takes
 * them away again */
struct made_dirs {
        char path[16][PATH_MAX];
        size_t n;
};

struct engine_args {
        int pidfd;
        const struct device_list *nodes;
        bool add;
        const struct made_dirs *dirs;
};

static int make_parents(const char *path) {
        char dir[PATH_MAX];

        snprintf(dir, sizeof(dir), "%s", path);
        for (char *slash = dir + strlen("/dev/"); (slash = strchr(slash, '/')); slash++) {
                *slash = 0;
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *slash = '/';
        }
        return 0;
}

/* in the container's mount namespace: make the nodes, or unlink them (and
 * the directories an add made, when undoing one); an add that fails
 * half-way unlinks what it made */
static int engine_nodes_in_child(void *arg) {
        const struct engine_args *a = arg;
        size_t i;
        int r = 0;

        if (setns(a->pidfd, CLONE_NEWNS) < 0 || chdir("/") < 0)
                return -errno;
        umask(0);
        for (i = 0; i < a->nodes->n; i++) {
                const struct device_node *n = &a->nodes->nodes[i];
                if (!a->add) {
                        if (unlink(n->path) < 0 && errno != ENOENT)
                                return -errno;
                        continue;
                }
                if ((r = make_parents(n->path)) < 0)
                        break;
                if (mknod(n->path, (n->type == 'b' ? S_IFBLK : S_IFCHR) | (n->file_mode & 07777),
                          makedev(n->major, n->minor)) < 0 ||
                    lchown(n->path, n->uid, n->gid) < 0) {
                        r = -errno;
                        break;
                }
        }
        if (a->add && i == a->nodes->n)
                return 0;
        for (size_t k = 0; a->add && k <= i && k < a->nodes->n; k++)
                if (k < i || r != -EEXIST)
                        (void)unlink(a->nodes->nodes[k].path);
        for (size_t k = a->dirs ? a->dirs->n : 0; k > 0; k--)
                (void)rmdir(a->dirs->path[k - 1]);
        return r;
}

static int engine_cgroup(int dir_fd, const struct device_list *l, bool allow, size_t *done, char **ret_error) {
        for (*done = 0; *done < l->n; (*done)++) {
                struct dev_rule rule = hotplug_node_rule(&l->nodes[*done]);
                int r = hotplug_write_rule(dir_fd, allow ? "devices.allow" : "devices.deny", &rule, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* the directories of PATH below /dev that CROOT lacks, appended to DIRS */
static int missing_parents(int croot, const char *path, struct made_dirs *dirs) {
        char dir[PATH_MAX];
        struct stat st;

        if (strncmp(path, "/dev/", 5) != 0)
                return -EINVAL; /* nodes go under /dev only */
        snprintf(dir, sizeof(dir), "%s", path);
        for (char *slash = dir + strlen("/dev/"); (slash = strchr(slash, '/')); slash++) {
                *slash = 0;
                if (fstatat(croot, dir + 1, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        bool listed = false;
                        for (size_t k = 0; k < dirs->n; k++)
                                listed |= streq(dirs->path[k], dir);
                        if (!listed && dirs->n == ELEMENTSOF(dirs->path))
                                return -E2BIG;
                        if (!listed)
                                snprintf(dirs->path[dirs->n++], PATH_MAX, "%s", dir);
                } else if (!S_ISDIR(st.st_mode)) {
                        return -ENOTDIR;
                }
                *slash = '/';
        }
        return 0;
}

/* NODES with what the host (add) or the container (remove) has at each path */
static int engine_fill(const struct engine *e, bool add, struct device_list *nodes, struct made_dirs *dirs,
                       char **ret_error) {
        _cleanup_close_ int host = add ? host_root_open(ret_error) : -EBADF, croot = -EBADF;
        char path[64];
        struct stat st;
        int r;

        if (add && host < 0)
                return host;
        snprintf(path, sizeof(path), "/proc/%d/root", (int)e->pid);
        if ((croot = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
                return error_printf(ret_error, -errno, "%s: %s", path, strerror(errno));
        for (size_t i = 0; i < nodes->n; i++) {
                struct device_node *n = &nodes->nodes[i];
                bool inside = fstatat(croot, n->path + 1, &st, AT_SYMLINK_NOFOLLOW) == 0;
                if (add && inside)
                        return error_printf(ret_error, -EEXIST, "container %s already has %s", e->name, n->path);
                if (!add && (!inside || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))))
                        return error_printf(ret_error, -ENOENT, "container %s has no device node %s", e->name, n->path);
                if (add && fstatat(host, n->host_path + 1, &st, 0) < 0)
                        return error_printf(ret_error, -ENODEV, "the host has no %s", n->host_path);
                if (add && (r = missing_parents(croot, n->path, dirs)) < 0)
                        return error_printf(ret_error, r, "%s: %s", n->path, strerror(-r));
                n->type = S_ISBLK(st.st_mode) ? 'b' : 'c';
                n->major = major(st.st_rdev);
                n->minor = minor(st.st_rdev);
                n->file_mode = n->file_mode ? n->file_mode : st.st_mode & 07777;
                n->uid = n->uid == (uid_t)-1 ? st.st_uid : n->uid;
                n->gid = n->gid == (gid_t)-1 ? st.st_gid : n->gid;
        }
        return 0;
}

int hotplug_engine(const struct hotplug *h, const char *arg, char **ret_error) {
        _cleanup_close_ int pidfd = -EBADF, cg = -EBADF;
        struct engine e = {};
        struct cdi_edits edits = {};
        struct device_list nodes = {};
        static struct made_dirs dirs;
        size_t done = 0;
        int r;

        if (geteuid() != 0)
                return error_printf(ret_error, -EPERM, "curate device needs root (it changes a device cgroup)");
        r = strncmp(arg, "pid:", 4) == 0 ? engine_by_pid(arg, &e, ret_error) : engine_by_id(arg, &e, ret_error);
        if (r < 0)
                return r;
        pidfd = (int)syscall(SYS_pidfd_open, e.pid, 0);
        if (pidfd < 0)
                return error_printf(ret_error, -errno, "container %s: its process %d: %s", e.name, (int)e.pid,
                                    strerror(errno));
        if ((r = engine_pid_check(&e, ret_error)) < 0)
                return r;
        cg = open(e.devices, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg < 0)
                return error_printf(ret_error, -errno, "container %s: %s: %s", e.name, e.devices, strerror(errno));
        r = hotplug_resolve(h, &edits, ret_error);
        for (size_t i = 0; r >= 0 && i < edits.nodes.n; i++)
                r = device_list_add(&nodes, &edits.nodes.nodes[i]);
        for (size_t i = 0; r >= 0 && !h->add && i < h->n_specs; i++) {
                _cleanup_free_ char *path = h->specs[i][0] == '/' ? strndup(h->specs[i], strcspn(h->specs[i], ":")) : NULL;
                if (path)
                        r = device_list_add(&nodes, &(struct device_node){ .path = path, .host_path = path,
                                                                             .type = 'c', .uid = (uid_t)-1,
                                                                             .gid = (gid_t)-1 });
        }
        if (r >= 0)
                r = engine_fill(&e, h->add, &nodes, &dirs, ret_error);
        if (r < 0)
                goto out;
        struct engine_args a = { .pidfd = pidfd, .nodes = &nodes, .add = h->add, .dirs = h->add ? &dirs : NULL };
        if (h->add) {
                if ((r = hotplug_in_child(engine_nodes_in_child, &a)) < 0) {
                        r = error_printf(ret_error, r, "container %s: making the nodes: %s", e.name, strerror(-r));
                } else if ((r = engine_cgroup(cg, &nodes, true, &done, ret_error)) < 0) {
                        struct device_list made = { .nodes = nodes.nodes, .n = done };
                        size_t ignored;
                        (void)engine_cgroup(cg, &made, false, &ignored, NULL);
                        a.add = false;
                        (void)hotplug_in_child(engine_nodes_in_child, &a);
                }
        } else {
                if ((r = hotplug_in_child(engine_nodes_in_child, &a)) < 0) {
                        r = error_printf(ret_error, r, "container %s: removing the nodes: %s", e.name, strerror(-r));
                } else if ((r = engine_cgroup(cg, &nodes, false, &done, ret_error)) < 0) {
                        size_t ignored;
                        (void)engine_cgroup(cg, &nodes, true, &ignored, NULL);
                        a.add = true;
                        (void)hotplug_in_child(engine_nodes_in_child, &a);
                }
        }
        for (size_t i = 0; r >= 0 && i < nodes.n; i++)
                printf("%s %s (%c %u:%u %s) %s %s\n", h->add ? "added" : "removed", nodes.nodes[i].path,
                       nodes.nodes[i].type, nodes.nodes[i].major, nodes.nodes[i].minor,
                       nodes.nodes[i].access[0] ? nodes.nodes[i].access : "rwm", h->add ? "to" : "from", e.name);
out:
        cdi_edits_done(&edits);
        device_list_done(&nodes);
        return r;
}
