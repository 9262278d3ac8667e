#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <json-c/json.h>
#include "cgroup.h"
#include "fileio.h"
#include "launcher.h"
#include "macro.h"
#include "ps-parse.h"
#include "registration.h"

/* `curate ps [--json]`: the containers running now. First from their
 * cgroups: `curate run` makes curate/run-PID in every hierarchy, and
 * runc/podman containers started with the cgroup parent /curate (the OCI
 * hook's per-container views) sit in curate/ID. A container is "run" when
 * the launcher whose pid its id names is alive (a process named curate),
 * "engine" otherwise. The launcher's own cgroup curate/daemon is skipped,
 * and so are empty cgroups (nothing runs there). Then from their mount
 * namespaces (collect_ns below): a container in a cgroup elsewhere that
 * binds curatefs's files (a CDI spec, an LXCFS-style -v bind), which
 * curatefs keeps no record of that the launcher could read. */

#define PS_MAX 4096

struct ps_container {
        char id[REG_ID_MAX + 1];
        size_t id_width;     /* the table shows this much of id (0: all) */
        const char *started; /* "run" or "engine" */
        pid_t launcher;      /* 0: none */
        pid_t init;          /* the earliest-started process of the cgroup */
        size_t nprocs;
        int64_t age;         /* seconds, -1 unknown */
        char *command;
        char *cgroup[CG_HIER_MAX]; /* "/curate/ID" where it exists, else NULL */
        uint64_t memory, memory_swap, cpus_milli, pids;
        char *cpuset;
        struct reg_entry *dev;
        size_t n_dev;
        char **views; /* where curatefs's files are bound in its mount namespace */
        size_t n_views;
};

static void strv_free(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static void container_done(struct ps_container *c) {
        free(c->command);
        for (int i = 0; i < CG_HIER_MAX; i++)
                free(c->cgroup[i]);
        free(c->cpuset);
        reg_entries_free(c->dev, c->n_dev);
        strv_free(c->views, c->n_views);
}

/* "memory", "cpu,cpuacct", "devices", "unified": a hierarchy's name as
 * /proc/PID/cgroup lists v1 controllers. */
static void hier_name(const struct cg_layout *l, int i, char *buf, size_t size) {
        const struct cg_hier *h = &l->hier[i];
        size_t len = 0;

        buf[0] = '\0';
        if (h->version == 2) {
                snprintf(buf, size, "unified");
                return;
        }
        for (int c = 0; c < _CG_CONTROLLER_MAX; c++)
                if (h->controllers & (1u << c))
                        len += snprintf(buf + len, len < size ? size - len : 0, "%s%s", len ? "," : "",
                                        cg_controller_name(c));
        if (i == l->devices)
                len += snprintf(buf + len, len < size ? size - len : 0, "%sdevices", len ? "," : "");
        if (len == 0)
                snprintf(buf, size, "hierarchy%d", i);
}

static int cmp_id(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The ids below curate/ in every hierarchy, sorted, each once. */
static int collect_ids(const struct cg_layout *l, char ***ret, size_t *ret_n) {
        char **ids = NULL;
        size_t n = 0;

        for (int i = 0; i < l->n; i++) {
                int fd = openat(l->hier[i].fd, "curate", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                DIR *d;
                struct dirent *de;

                if (fd < 0)
                        continue;
                d = fdopendir(fd);
                if (!d) {
                        close(fd);
                        continue;
                }
                while ((de = readdir(d))) {
                        if (de->d_type != DT_DIR || !reg_id_valid(de->d_name) || streq(de->d_name, "daemon"))
                                continue;
                        if (n >= PS_MAX)
                                break;
                        bool seen = false;
                        for (size_t k = 0; k < n && !seen; k++)
                                seen = streq(ids[k], de->d_name);
                        if (seen)
                                continue;
                        char **grown = realloc(ids, (n + 1) * sizeof(char *));
                        if (!grown || !(grown[n] = strdup(de->d_name))) {
                                ids = grown ? grown : ids;
                                closedir(d);
                                for (size_t k = 0; k < n; k++)
                                        free(ids[k]);
                                free(ids);
                                return -ENOMEM;
                        }
                        ids = grown;
                        n++;
                }
                closedir(d);
        }
        if (n > 0)
                qsort(ids, n, sizeof(char *), cmp_id);
        *ret = ids;
        *ret_n = n;
        return 0;
}

static int read_proc(pid_t pid, const char *file, char **ret, size_t *ret_len) {
        char path[64];

        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
        return read_file_at(AT_FDCWD, path, ret, ret_len);
}

/* Where PID's mount namespace binds curatefs's files (ps_mountinfo_view):
 * their count, the targets in *RET. 0 with none; -ESRCH/-ENOENT/-EACCES
 * when PID's mountinfo cannot be read (it ended, or is not ours to see). */
static int views_of(pid_t pid, char ***ret, size_t *ret_n) {
        _cleanup_free_ char *text = NULL;
        char **v = NULL;
        size_t n = 0;
        int r = read_proc(pid, "mountinfo", &text, NULL);

        if (r < 0)
                return r;
        for (char *line = text, *next; line && *line; line = next) {
                char *target;
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                r = ps_mountinfo_view(line, &target);
                if (r == 0 || r == -EINVAL)
                        continue;
                char **grown = r < 0 || n >= PS_MAX ? NULL : realloc(v, (n + 1) * sizeof(char *));
                if (!grown) {
                        if (r > 0)
                                free(target);
                        strv_free(v, n);
                        return r < 0 ? r : -ENOMEM;
                }
                v = grown;
                v[n++] = target;
        }
        *ret = v;
        *ret_n = n;
        return (int)n;
}

static int start_ticks(pid_t pid, uint64_t *ret) {
        _cleanup_free_ char *text = NULL;
        int r = read_proc(pid, "stat", &text, NULL);

        return r < 0 ? r : ps_stat_starttime(text, ret);
}

static char *cmdline_of(pid_t pid) {
        _cleanup_free_ char *text = NULL;
        size_t len;

        if (read_proc(pid, "cmdline", &text, &len) < 0)
                return NULL;
        return ps_cmdline_join(text, len);
}

static int64_t age_of(uint64_t start) {
        struct timespec now;
        long hz = sysconf(_SC_CLK_TCK);

        if (hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &now) < 0)
                return -1;
        int64_t now_ticks = (int64_t)now.tv_sec * hz + (int64_t)now.tv_nsec * hz / 1000000000;
        int64_t d = now_ticks - (int64_t)start;
        return d < 0 ? 0 : d / hz;
}

/* The live `curate run` whose pid the id "run-PID" names, or 0. */
static pid_t launcher_of(const char *id) {
        _cleanup_free_ char *comm = NULL;
        char *end;
        long pid;

        if (strncmp(id, "run-", 4) != 0)
                return 0;
        errno = 0;
        pid = strtol(id + 4, &end, 10);
        if (errno || *end || pid <= 0 || pid > INT32_MAX)
                return 0;
        if (read_proc((pid_t)pid, "comm", &comm, NULL) < 0 || !streq(strtrim(comm), "curate"))
                return 0;
        return (pid_t)pid;
}

static void read_limits(const struct cg_layout *l, struct ps_container *c) {
        const struct cg_hier *h;
        _cleanup_free_ char *a = NULL, *b = NULL;

        c->memory = c->memory_swap = c->cpus_milli = c->pids = PS_NONE;
        if ((h = cg_layout_hier(l, CG_MEMORY))) {
                bool v1 = h->version == 1;
                if (cg_read(h, c->cgroup[h - l->hier], v1 ? "memory.limit_in_bytes" : "memory.max", &a) >= 0)
                        (void)ps_parse_memory(a, &c->memory);
                if (cg_read(h, c->cgroup[h - l->hier], v1 ? "memory.memsw.limit_in_bytes" : "memory.swap.max", &b) >= 0 &&
                    ps_parse_memory(b, &c->memory_swap) >= 0 && !v1)
                        /* v2 limits swap alone: report memory plus swap, as --memory-swap */
                        c->memory_swap = c->memory == PS_NONE || c->memory_swap == PS_NONE ? PS_NONE
                                                                                         : c->memory + c->memory_swap;
                free(a), a = NULL;
                free(b), b = NULL;
        }
        if ((h = cg_layout_hier(l, CG_CPU))) {
                if (h->version == 1) {
                        if (cg_read(h, c->cgroup[h - l->hier], "cpu.cfs_quota_us", &a) >= 0 &&
                            cg_read(h, c->cgroup[h - l->hier], "cpu.cfs_period_us", &b) >= 0)
                                (void)ps_parse_cpus(a, b, &c->cpus_milli);
                } else if (cg_read(h, c->cgroup[h - l->hier], "cpu.max", &a) >= 0)
                        (void)ps_parse_cpus(a, NULL, &c->cpus_milli);
                free(a), a = NULL;
                free(b), b = NULL;
        }
        if ((h = cg_layout_hier(l, CG_CPUSET)) && cg_read(h, c->cgroup[h - l->hier], "cpuset.cpus", &a) >= 0 &&
            *strtrim(a))
                c->cpuset = strdup(a);
        free(a), a = NULL;
        if ((h = cg_layout_hier(l, CG_PIDS)) && cg_read(h, c->cgroup[h - l->hier], "pids.max", &a) >= 0)
                (void)ps_parse_pids(a, &c->pids);
}

/* C's processes PIDS (N of them): their count, its init (the
 * earliest-started) and its start in *RET_START; -ESRCH when none is alive. */
static int container_members(struct ps_container *c, const pid_t *pids, size_t n, uint64_t *ret_start) {
        uint64_t best = UINT64_MAX;

        /* v1 cgroup.procs may list a pid twice; count each once */
        for (size_t i = 0; i < n; i++) {
                uint64_t t;
                bool dup = false;
                for (size_t k = 0; k < i && !dup; k++)
                        dup = pids[k] == pids[i];
                if (dup || start_ticks(pids[i], &t) < 0)
                        continue;
                c->nprocs++;
                if (t < best || (t == best && pids[i] < c->init))
                        best = t, c->init = pids[i];
        }
        if (c->nprocs == 0)
                return -ESRCH;
        *ret_start = best;
        return 0;
}

/* Fill C for ID; -ESRCH when its cgroup holds no process (not running). */
static int container_read(const struct cg_layout *l, const char *id, struct ps_container *c) {
        _cleanup_free_ pid_t *pids = NULL;
        _cleanup_free_ char *launcher_cmd = NULL;
        size_t n = 0;
        uint64_t best;
        int r;

        snprintf(c->id, sizeof(c->id), "%s", id);
        for (int i = 0; i < l->n; i++) {
                char path[REG_ID_MAX + 16];
                _cleanup_close_ int fd = -EBADF;

                snprintf(path, sizeof(path), "/curate/%s", id);
                fd = cg_open_dir(&l->hier[i], path);
                if (fd < 0)
                        continue;
                if (!(c->cgroup[i] = strdup(path)))
                        return -ENOMEM;
                if (!pids && l->hier[i].ops->procs(&l->hier[i], path, &pids, &n) < 0)
                        pids = NULL, n = 0;
        }
        r = container_members(c, pids, n, &best);
        if (r < 0)
                return r;
        c->launcher = launcher_of(id);
        c->started = c->launcher ? "run" : "engine";
        if (c->launcher && start_ticks(c->launcher, &best) < 0)
                best = UINT64_MAX;
        c->age = best == UINT64_MAX ? -1 : age_of(best);
        /* curate run: the init is a fork of the launcher (same cmdline); the
         * command is the first member that exec'd something else */
        if (c->launcher)
                launcher_cmd = cmdline_of(c->launcher);
        for (size_t i = 0; launcher_cmd && i < n && !c->command; i++) {
                char *cmd = cmdline_of(pids[i]);
                if (cmd && *cmd && !streq(cmd, launcher_cmd))
                        c->command = cmd;
                else
                        free(cmd);
        }
        if (!c->command)
                c->command = cmdline_of(c->init);
        read_limits(l, c);
        r = reg_read(id, &c->dev, NULL);
        c->n_dev = r > 0 ? (size_t)r : 0;
        if (r <= 0)
                c->dev = NULL;
        r = views_of(c->init, &c->views, &c->n_views);
        return r == -ENOMEM ? r : 0;
}

/* ---- containers found by their mount namespace ----
 * A container in a cgroup elsewhere (podman or runc with a CDI spec, an
 * LXCFS-style -v bind of MOUNTPOINT/proc/meminfo) leaves no cgroup under
 * curate/, but its mount namespace binds curatefs's files: every process
 * of /proc is grouped by its mount namespace, and each namespace that binds
 * part of the views (ps_mountinfo_view: not the whole mount, as a copy of
 * the host's table has) is one container. Processes that end mid-scan are
 * skipped; those ps may not inspect (another user's, as non-root) are not
 * seen (stat of /proc/PID/ns/mnt asks PTRACE_MODE_READ, proc(5)). */

struct mntns {
        dev_t dev;
        ino_t ino;
        pid_t *pids;
        size_t n;
};

static void mntns_free(struct mntns *ns, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(ns[i].pids);
        free(ns);
}

static int mntns_of(const char *pid_dir, struct stat *ret) {
        char path[sizeof("/proc//ns/mnt") + 256]; /* a d_name: 255 at most */

        snprintf(path, sizeof(path), "/proc/%s/ns/mnt", pid_dir);
        return stat(path, ret) < 0 ? -errno : 0;
}

static int mntns_add(struct mntns **nss, size_t *n, const struct stat *st, pid_t pid) {
        struct mntns *ns = NULL;
        pid_t *grown;

        for (size_t i = 0; i < *n && !ns; i++)
                if ((*nss)[i].dev == st->st_dev && (*nss)[i].ino == st->st_ino)
                        ns = &(*nss)[i];
        if (!ns) {
                struct mntns *more = realloc(*nss, (*n + 1) * sizeof(**nss));
                if (!more)
                        return -ENOMEM;
                *nss = more;
                ns = &more[(*n)++];
                *ns = (struct mntns){ .dev = st->st_dev, .ino = st->st_ino };
        }
        if (!(grown = realloc(ns->pids, (ns->n + 1) * sizeof(pid_t))))
                return -ENOMEM;
        ns->pids = grown;
        ns->pids[ns->n++] = pid;
        return 0;
}

/* The mount namespaces of /proc's processes, the host's (pid 1's) and
 * ps's own left out: the FUSE mount lives there, no container. */
static int scan_mntns(struct mntns **ret, size_t *ret_n) {
        _cleanup_closedir_ DIR *d = opendir("/proc");
        struct mntns *nss = NULL;
        struct stat host, self, st;
        bool have_host = mntns_of("1", &host) >= 0, have_self = mntns_of("self", &self) >= 0;
        struct dirent *de;
        size_t n = 0;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                long pid = strtol(de->d_name, NULL, 10);
                if (pid <= 0 || strspn(de->d_name, "0123456789") != strlen(de->d_name) || pid > INT32_MAX)
                        continue;
                if (mntns_of(de->d_name, &st) < 0) /* ended, or not ours to see */
                        continue;
                if ((have_host && st.st_dev == host.st_dev && st.st_ino == host.st_ino) ||
                    (have_self && st.st_dev == self.st_dev && st.st_ino == self.st_ino))
                        continue;
                if (n >= PS_MAX || mntns_add(&nss, &n, &st, (pid_t)pid) < 0) {
                        mntns_free(nss, n);
                        return -ENOMEM;
                }
        }
        *ret = nss;
        *ret_n = n;
        return 0;
}

/* The id `curate device add` takes: the engine's container id (64 hex
 * digits, the table shows 12) from the cgroup's leaf, else "pid:N". */
static void ns_container_id(const char *cgroup, struct ps_container *c) {
        const char *leaf = cgroup ? strrchr(cgroup, '/') : NULL;
        char hex[65];

        if (leaf && ps_engine_id(leaf + 1, hex) >= 0) {
                snprintf(c->id, sizeof(c->id), "%s", hex);
                c->id_width = 12;
        } else
                snprintf(c->id, sizeof(c->id), "pid:%d", (int)c->init);
}

/* The v1 device cgroup's path from /proc/PID/cgroup's TEXT into C, as
 * the cgroup scan shows it for curate/ID; -EEXIST when under /curate/. */
static int devices_cgroup(const struct cg_layout *l, const char *text, struct ps_container *c) {
        _cleanup_free_ char *p = NULL;
        const char *root;
        size_t rl;
        int r;

        if (l->devices < 0)
                return 0;
        r = ps_proc_cgroup_v1(text, "devices", &p);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        root = l->hier[l->devices].mount_root;
        rl = root ? strlen(root) : 0;
        /* a cgroup namespace's mount shows paths below its root (cg_reader) */
        if (rl > 1 && strncmp(p, root, rl) == 0 && (p[rl] == '/' || p[rl] == '\0'))
                memmove(p, p + rl, strlen(p + rl) + 1);
        if (!*p)
                strcpy(p, "/");
        if (strncmp(p, "/curate/", 8) == 0)
                return -EEXIST;
        c->cgroup[l->devices] = TAKE_PTR(p);
        return 0;
}

/* Fill C for the namespace NS; -ESRCH when no process of it is left,
 * -EEXIST when its cgroup is under curate/ (listed from there already, or
 * the daemon's), -ENOENT when it binds no views. */
static int container_from_ns(const struct cg_layout *l, const struct mntns *ns, struct ps_container *c) {
        _cleanup_(cg_reader_done) struct cg_reader rd = { 0 };
        _cleanup_free_ char *text = NULL;
        const char *first = NULL;
        uint64_t start;
        int r = container_members(c, ns->pids, ns->n, &start);

        if (r < 0)
                return r;
        r = views_of(c->init, &c->views, &c->n_views);
        if (r <= 0)
                return r == 0 ? -ENOENT : r;
        r = read_proc(c->init, "cgroup", &text, NULL);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        r = cg_reader_parse(l, text, &rd);
        if (r < 0)
                return r;
        r = devices_cgroup(l, text, c);
        if (r < 0)
                return r;
        for (int k = 0; k < _CG_CONTROLLER_MAX; k++) {
                int i = l->by_controller[k];
                if (!rd.path[k] || i < 0 || c->cgroup[i])
                        continue;
                if (strncmp(rd.path[k], "/curate/", 8) == 0)
                        return -EEXIST;
                if (!(c->cgroup[i] = strdup(rd.path[k])))
                        return -ENOMEM;
                if (!first || k == CG_MEMORY)
                        first = c->cgroup[i];
        }
        ns_container_id(first, c);
        c->started = "engine";
        c->age = start == UINT64_MAX ? -1 : age_of(start);
        c->command = cmdline_of(c->init);
        read_limits(l, c);
        return 0;
}

/* Append to CS (N so far) the containers found by their
 * mount namespaces. */
static int collect_ns(const struct cg_layout *l, struct ps_container **cs, size_t *n) {
        struct mntns *nss = NULL;
        size_t n_ns = 0;
        int r = scan_mntns(&nss, &n_ns);

        for (size_t i = 0; i < n_ns && r >= 0; i++) {
                struct ps_container c = { 0 };
                int q = container_from_ns(l, &nss[i], &c);
                struct ps_container *grown = q < 0 ? NULL : realloc(*cs, (*n + 1) * sizeof(**cs));
                if (q == -ENOMEM || (q >= 0 && !grown))
                        r = -ENOMEM;
                if (q < 0 || !grown) {
                        container_done(&c);
                        continue;
                }
                *cs = grown;
                (*cs)[(*n)++] = c;
        }
        mntns_free(nss, n_ns);
        return r;
}

static json_object *limit_json(uint64_t v) {
        return v == PS_NONE ? NULL : json_object_new_int64((int64_t)v);
}

static json_object *container_json(const struct cg_layout *l, const struct ps_container *c) {
        json_object *o = json_object_new_object(), *cg = json_object_new_object(), *lim = json_object_new_object(),
                    *devs = json_object_new_array();
        char name[128];

        json_object_object_add(o, "id", json_object_new_string(c->id));
        json_object_object_add(o, "started", json_object_new_string(c->started));
        json_object_object_add(o, "launcher_pid", c->launcher ? json_object_new_int(c->launcher) : NULL);
        json_object_object_add(o, "pid", json_object_new_int(c->init));
        json_object_object_add(o, "processes", json_object_new_int64((int64_t)c->nprocs));
        for (int i = 0; i < l->n; i++)
                if (c->cgroup[i]) {
                        hier_name(l, i, name, sizeof(name));
                        json_object_object_add(cg, name, json_object_new_string(c->cgroup[i]));
                }
        json_object_object_add(o, "cgroup", cg);
        json_object_object_add(lim, "memory_bytes", limit_json(c->memory));
        json_object_object_add(lim, "memory_swap_bytes", limit_json(c->memory_swap));
        json_object_object_add(lim, "cpus",
                               c->cpus_milli == PS_NONE ? NULL : json_object_new_double(c->cpus_milli / 1000.0));
        json_object_object_add(lim, "cpuset", c->cpuset ? json_object_new_string(c->cpuset) : NULL);
        json_object_object_add(lim, "pids", limit_json(c->pids));
        json_object_object_add(o, "limits", lim);
        for (size_t i = 0; i < c->n_dev; i++) {
                json_object *d = json_object_new_object();
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "/dev/%s", c->dev[i].path);
                json_object_object_add(d, "path", json_object_new_string(path));
                json_object_object_add(d, "type", json_object_new_string(S_ISBLK(c->dev[i].mode) ? "b" : "c"));
                json_object_object_add(d, "major", json_object_new_int((int)major(c->dev[i].rdev)));
                json_object_object_add(d, "minor", json_object_new_int((int)minor(c->dev[i].rdev)));
                json_object_object_add(d, "access", json_object_new_string(c->dev[i].access));
                json_object_array_add(devs, d);
        }
        json_object_object_add(o, "devices", devs);
        json_object *views = json_object_new_array();
        for (size_t i = 0; i < c->n_views; i++)
                json_object_array_add(views, json_object_new_string(c->views[i]));
        json_object_object_add(o, "views", views);
        json_object_object_add(o, "age_s", c->age < 0 ? NULL : json_object_new_int64(c->age));
        json_object_object_add(o, "command", json_object_new_string(c->command ? c->command : ""));
        return o;
}

/* ---- the table ---- */

enum { COL_ID, COL_STARTED, COL_PID, COL_LAUNCHER, COL_AGE, COL_MEMORY, COL_CPUS, COL_CPUSET, COL_PIDS, COL_DEVICES,
       COL_COMMAND, _COL_MAX };
static const char *const col_head[_COL_MAX] = { "ID",  "STARTED", "PID",    "LAUNCHER", "AGE",    "MEMORY",
                                                "CPUS", "CPUSET", "PIDS", "DEVICES", "COMMAND" };

static void bytes_text(uint64_t v, char *buf, size_t size) {
        static const char units[] = "KMGT";
        int u = -1;

        if (v == PS_NONE) {
                snprintf(buf, size, "-");
                return;
        }
        while (u < 3 && v >= 1024 && v % 1024 == 0)
                v /= 1024, u++;
        if (u < 0)
                snprintf(buf, size, "%llu", (unsigned long long)v);
        else
                snprintf(buf, size, "%llu%c", (unsigned long long)v, units[u]);
}

static int row_text(const struct ps_container *c, char *cell[_COL_MAX]) {
        char b[64], s[64];
        _cleanup_buf_ struct buf devs = { 0 };

        char m[160];

        bytes_text(c->memory, b, sizeof(b));
        bytes_text(c->memory_swap, s, sizeof(s));
        /* "256M", or "256M/512M" with a limit on memory plus swap */
        snprintf(m, sizeof(m), c->memory_swap == PS_NONE ? "%s" : "%s/%s", b, s);
        cell[COL_MEMORY] = strdup(m);
        if (c->cpus_milli == PS_NONE)
                snprintf(s, sizeof(s), "-");
        else
                snprintf(s, sizeof(s), "%llu.%02llu", (unsigned long long)c->cpus_milli / 1000,
                         (unsigned long long)(c->cpus_milli % 1000) / 10);
        cell[COL_CPUS] = strdup(s);
        cell[COL_CPUSET] = strdup(c->cpuset ? c->cpuset : "-");
        if (c->pids == PS_NONE)
                snprintf(s, sizeof(s), "-");
        else
                snprintf(s, sizeof(s), "%llu", (unsigned long long)c->pids);
        cell[COL_PIDS] = strdup(s);
        cell[COL_ID] = c->id_width ? strndup(c->id, c->id_width) : strdup(c->id);
        cell[COL_STARTED] = strdup(c->started);
        snprintf(s, sizeof(s), "%d", (int)c->init);
        cell[COL_PID] = strdup(s);
        if (c->launcher)
                snprintf(s, sizeof(s), "%d", (int)c->launcher);
        else
                snprintf(s, sizeof(s), "-");
        cell[COL_LAUNCHER] = strdup(s);
        ps_format_age(c->age, s, sizeof(s));
        cell[COL_AGE] = strdup(s);
        for (size_t i = 0; i < c->n_dev; i++)
                buf_printf(&devs, "%s/dev/%s:%s", i ? "," : "", c->dev[i].path, c->dev[i].access);
        cell[COL_DEVICES] = strdup(c->n_dev && devs.data ? devs.data : "-");
        cell[COL_COMMAND] = strdup(c->command ? c->command : "");
        for (int k = 0; k < _COL_MAX; k++)
                if (!cell[k])
                        return -ENOMEM;
        return devs.err;
}

static int print_table(const struct ps_container *cs, size_t n) {
        char *(*cells)[_COL_MAX] = calloc(n + 1, sizeof(*cells));
        size_t width[_COL_MAX] = { 0 };
        int r = 0;

        if (!cells)
                return -ENOMEM;
        for (int k = 0; k < _COL_MAX; k++)
                cells[0][k] = strdup(col_head[k]);
        for (size_t i = 0; i < n && r >= 0; i++)
                r = row_text(&cs[i], cells[i + 1]);
        for (size_t i = 0; i <= n && r >= 0; i++)
                for (int k = 0; k < _COL_MAX; k++) {
                        if (!cells[i][k]) {
                                r = -ENOMEM;
                                break;
                        }
                        size_t w = strlen(cells[i][k]);
                        width[k] = w > width[k] ? w : width[k];
                }
        for (size_t i = 0; i <= n && r >= 0; i++)
                for (int k = 0; k < _COL_MAX; k++) {
                        if (k == COL_COMMAND)
                                printf("%s\n", cells[i][k]);
                        else
                                printf("%-*s  ", (int)width[k], cells[i][k]);
                }
        for (size_t i = 0; i <= n; i++)
                for (int k = 0; k < _COL_MAX; k++)
                        free(cells[i][k]);
        free(cells);
        return r;
}

static void ps_help(void) {
        printf("Usage: curate ps [--json]\n"
               "\n"
               "List the running containers: those of `curate run` (cgroup curate/run-PID)\n"
               "and those an engine (runc, podman) started with the cgroup parent /curate\n"
               "(curate/ID, whose views the OCI hook serves), found from the cgroups under\n"
               "curate/ in every hierarchy. STARTED is \"run\" when the `curate run` the id\n"
               "names is alive (LAUNCHER, its pid), \"engine\" otherwise; PID is the\n"
               "container's first process (its init); MEMORY (limit/limit with swap),\n"
               "CPUS, CPUSET and PIDS are read from its cgroup files (\"-\": no limit);\n"
               "DEVICES from its device registration; AGE from its start; COMMAND is the\n"
               "command's command line. Containers in cgroups elsewhere that bind\n"
               "curatefs's files (podman --device curate.dev/views=all, an LXCFS-style\n"
               "-v MOUNTPOINT/proc/meminfo bind) are found by their mount namespaces:\n"
               "STARTED \"engine\", ID the engine's container id (12 digits shown; the\n"
               "JSON has all 64, and `curate device add` takes either) or pid:PID;\n"
               "--json's \"views\" lists where curatefs's files are bound. As non-root\n"
               "only the containers of processes you may inspect are seen.\n"
               "\n"
               "Options:\n"
               "  --json       print a JSON array, one object per container\n"
               "  -h, --help   show this help and exit\n");
}

static int list(bool json) {
        _cleanup_free_ char *error = NULL;
        struct cg_layout layout;
        struct ps_container *cs = NULL;
        char **ids = NULL;
        size_t n_ids = 0, n = 0;
        int r = run_cgroup_layout(&layout, &error);

        if (r < 0) {
                fprintf(stderr, "curate: ps: %s\n", error);
                return 1;
        }
        r = collect_ids(&layout, &ids, &n_ids);
        if (r >= 0 && n_ids > 0 && !(cs = calloc(n_ids, sizeof(*cs))))
                r = -ENOMEM;
        for (size_t i = 0; i < n_ids && r >= 0; i++) {
                int q = container_read(&layout, ids[i], &cs[n]);
                if (q == -ENOMEM)
                        r = q;
                if (q < 0)
                        container_done(&cs[n]), memset(&cs[n], 0, sizeof(cs[n]));
                else
                        n++;
        }
        if (r >= 0)
                r = collect_ns(&layout, &cs, &n);
        if (r >= 0 && json) {
                json_object *a = json_object_new_array();
                for (size_t i = 0; i < n; i++)
                        json_object_array_add(a, container_json(&layout, &cs[i]));
                puts(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(a);
        } else if (r >= 0)
                r = print_table(cs, n);
        for (size_t i = 0; i < n; i++)
                container_done(&cs[i]);
        free(cs);
        for (size_t i = 0; i < n_ids; i++)
                free(ids[i]);
        free(ids);
        cg_layout_done(&layout);
        if (r < 0) {
                fprintf(stderr, "curate: ps: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}

int ps_main(int argc, char **argv) {
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool json = false;
        int c;

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'j':
                        json = true;
                        break;
                case 'h':
                        ps_help();
                        return 0;
                default:
                        return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "curate: ps: unexpected argument '%s' (try curate ps --help)\n", argv[optind]);
                return 2;
        }
        return list(json);
}
