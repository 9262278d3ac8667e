#include "config.h"
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include "cgroup.h"

/* v1 controller names, indexed by enum cg_controller. */
static const char *const controller_names[_CG_CONTROLLER_MAX] = {
        [CG_MEMORY] = "memory",
        [CG_CPU] = "cpu",
        [CG_CPUACCT] = "cpuacct",
        [CG_CPUSET] = "cpuset",
        [CG_BLKIO] = "blkio",
        [CG_PIDS] = "pids",
};

const struct cg_v2_controller cg_v2_controllers[5] = {
        { "memory", 1u << CG_MEMORY },
        { "cpu", 1u << CG_CPU | 1u << CG_CPUACCT },
        { "cpuset", 1u << CG_CPUSET },
        { "io", 1u << CG_BLKIO },
        { "pids", 1u << CG_PIDS },
};

const char *cg_controller_name(enum cg_controller c) {
        if ((unsigned)c >= _CG_CONTROLLER_MAX)
                return NULL;
        return controller_names[c];
}

static unsigned v1_mask(const char *name, size_t len) {
        for (unsigned c = 0; c < _CG_CONTROLLER_MAX; c++)
                if (strlen(controller_names[c]) == len && strncmp(name, controller_names[c], len) == 0)
                        return 1u << c;
        return 0;
}

static unsigned devices_mask(const char *name, size_t len) {
        return len == strlen("devices") && strncmp(name, "devices", len) == 0;
}

static unsigned v2_mask(const char *name, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(cg_v2_controllers); i++)
                if (strlen(cg_v2_controllers[i].name) == len && strncmp(name, cg_v2_controllers[i].name, len) == 0)
                        return cg_v2_controllers[i].mask;
        return 0;
}

/* Mask of the controllers named in a list separated by any of SEPS. */
static unsigned names_mask(const char *list, const char *seps, unsigned (*lookup)(const char *, size_t)) {
        unsigned mask = 0;

        for (const char *p = list; *p;) {
                size_t n = strcspn(p, seps);
                mask |= lookup(p, n);
                p += n;
                p += strspn(p, seps);
        }
        return mask;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo (proc(5)). */
static char *unescape_octal(const char *s, size_t len) {
        char *out = malloc(len + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
                    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
                        *o++ = (char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
                        i += 3;
                } else
                        *o++ = s[i];
        }
        *o = 0;
        return out;
}

struct mount_line {
        const char *root, *mountpoint, *fstype, *superopts;
        size_t root_len, mountpoint_len, fstype_len, superopts_len;
};

/* Split one mountinfo line: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS". */
static int split_mount_line(const char *line, size_t len, struct mount_line *ret) {
        const char *f[32];
        size_t fl[32], n = 0, dash = 0;

        for (size_t i = 0; i < len;) {
                while (i < len && line[i] == ' ')
                        i++;
                if (i >= len)
                        break;
                if (n == ELEMENTSOF(f))
                        return -EINVAL;
                f[n] = line + i;
                while (i < len && line[i] != ' ')
                        i++;
                fl[n] = line + i - f[n];
                if (!dash && n >= 6 && fl[n] == 1 && f[n][0] == '-')
                        dash = n;
                n++;
        }
        if (!dash || n < dash + 4)
                return -EINVAL;
        *ret = (struct mount_line){
                .root = f[3], .root_len = fl[3],
                .mountpoint = f[4], .mountpoint_len = fl[4],
                .fstype = f[dash + 1], .fstype_len = fl[dash + 1],
                .superopts = f[dash + 3], .superopts_len = fl[dash + 3],
        };
        return 0;
}

static bool field_is(const char *f, size_t len, const char *s) {
        return strlen(s) == len && strncmp(f, s, len) == 0;
}

/* Record one cgroup mount in l->hier; 0 when it is skipped. */
static int add_mount(int root_fd, const struct mount_line *m, struct cg_layout *l) {
        int version = field_is(m->fstype, m->fstype_len, "cgroup2") ? 2 : 1;
        unsigned mask = 0;
        bool devices = false;

        if (version == 1) {
                _cleanup_free_ char *opts = strndup(m->superopts, m->superopts_len);
                if (!opts)
                        return -ENOMEM;
                /* "rw,name=systemd" and "rw,freezer" carry none of ours;
                 * "devices" is kept apart for the launcher's device rules */
                mask = names_mask(opts, ",", v1_mask);
                devices = l->devices < 0 && names_mask(opts, ",", devices_mask);
                if (!mask && !devices)
                        return 0;
        } else if (l->unified >= 0)
                return 0; /* the same hierarchy mounted twice */
        if (l->n == CG_HIER_MAX)
                return 0; /* only duplicates get this far: we use the first */

        _cleanup_free_ char *mp = unescape_octal(m->mountpoint, m->mountpoint_len);
        _cleanup_free_ char *root = unescape_octal(m->root, m->root_len);
        if (!mp || !root)
                return -ENOMEM;
        _cleanup_close_ int fd = open_beneath(root_fd, mp, O_PATH | O_DIRECTORY);
        if (fd == -ENOENT || fd == -ENOTDIR || fd == -EACCES)
                return 0; /* mounted outside what we can see */
        if (fd < 0)
                return fd;
        if (version == 2) {
                _cleanup_free_ char *ctl = NULL;
                int r = read_file_at(fd, "cgroup.controllers", &ctl, NULL);
                if (r < 0 && r != -ENOENT)
                        return r;
                mask = ctl ? names_mask(ctl, " \t\n", v2_mask) : 0;
                l->unified = l->n;
        }
        if (devices)
                l->devices = l->n;
        l->hier[l->n++] = (struct cg_hier){
                .version = version,
                .fd = TAKE_FD(fd),
                .mount_root = TAKE_PTR(root),
                .controllers = mask,
                .ops = version == 2 ? &cg_v2_ops : &cg_v1_ops,
        };
        return 0;
}

/* v2 wins over v1 for a controller it offers; among v1 mounts the first
 * wins. Afterwards each hierarchy's mask lists only what it serves. */
static void assign_controllers(struct cg_layout *l) {
        for (unsigned c = 0; c < _CG_CONTROLLER_MAX; c++) {
                l->by_controller[c] = -1;
                if (l->unified >= 0 && l->hier[l->unified].controllers & 1u << c) {
                        l->by_controller[c] = l->unified;
                        continue;
                }
                for (int i = 0; i < l->n; i++)
                        if (l->hier[i].version == 1 && l->hier[i].controllers & 1u << c) {
                                l->by_controller[c] = i;
                                break;
                        }
        }
        for (int i = 0; i < l->n; i++) {
                unsigned served = 0;
                for (unsigned c = 0; c < _CG_CONTROLLER_MAX; c++)
                        if (l->by_controller[c] == i)
                                served |= 1u << c;
                l->hier[i].controllers = served;
        }
}

int cg_layout_parse(int root_fd, const char *mountinfo, struct cg_layout *ret) {
        _cleanup_(cg_layout_done) struct cg_layout l = { .unified = -1, .devices = -1 };

        for (const char *p = mountinfo; *p;) {
                size_t len = strcspn(p, "\n");
                struct mount_line m;

                if (split_mount_line(p, len, &m) == 0 &&
                    (field_is(m.fstype, m.fstype_len, "cgroup") || field_is(m.fstype, m.fstype_len, "cgroup2"))) {
                        int r = add_mount(root_fd, &m, &l);
                        if (r < 0)
                                return r;
                }
                p += len;
                if (*p == '\n')
                        p++;
        }
        assign_controllers(&l);
        for (unsigned c = 0; c < _CG_CONTROLLER_MAX; c++)
                if (l.by_controller[c] >= 0) {
                        *ret = l;
                        l = (struct cg_layout){ .n = 0 };
                        return 0;
                }
        return -ENOENT;
}

int cg_layout_discover(int root_fd, struct cg_layout *ret) {
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(root_fd, "proc/self/mountinfo", &text, NULL);
        if (r < 0)
                return r;
        return cg_layout_parse(root_fd, text, ret);
}

void cg_layout_done(struct cg_layout *l) {
        for (int i = 0; i < l->n; i++) {
                if (l->hier[i].fd >= 0)
                        close(l->hier[i].fd);
                free(l->hier[i].mount_root);
        }
        *l = (struct cg_layout){ .unified = -1, .devices = -1 };
        for (unsigned c = 0; c < _CG_CONTROLLER_MAX; c++)
                l->by_controller[c] = -1;
}

/* A path as seen inside the hierarchy: MOUNT_ROOT stripped, "/" leading,
 * no trailing "/". A path outside MOUNT_ROOT is kept as is; cg_open_dir
 * refuses the "/.." form a cgroup namespace gives those. */
static char *cgroup_path(const char *mount_root, const char *path, size_t len) {
        size_t rl = strlen(mount_root);

        if (rl > 1 && len >= rl && strncmp(path, mount_root, rl) == 0 && (len == rl || path[rl] == '/')) {
                path += rl;
                len -= rl;
        }
        while (len > 1 && path[len - 1] == '/')
                len--;
        while (len > 0 && *path == '/') {
                path++;
                len--;
        }
        char *out = malloc(len + 2);
        if (!out)
                return NULL;
        out[0] = '/';
        memcpy(out + 1, path, len);
        out[len + 1] = 0;
        return out;
}

static int set_path(struct cg_reader *r, const struct cg_layout *l, unsigned c, const char *path, size_t len) {
        char *p = cgroup_path(l->hier[l->by_controller[c]].mount_root, path, len);
        if (!p)
                return -ENOMEM;
        free(r->path[c]);
        r->path[c] = p;
        return 0;
}

/* One "ID:CONTROLLERS:PATH" line of /proc/PID/cgroup (cgroups(7)). */
static int parse_cgroup_line(const struct cg_layout *l, const char *line, size_t len, struct cg_reader *r) {
        const char *c1 = memchr(line, ':', len);
        if (!c1 || c1 == line)
                return -EINVAL;
        for (const char *d = line; d < c1; d++)
                if (*d < '0' || *d > '9')
                        return -EINVAL;
        const char *ctl = c1 + 1;
        const char *c2 = memchr(ctl, ':', line + len - ctl);
        if (!c2)
                return -EINVAL;
        const char *path = c2 + 1;
        size_t plen = line + len - path;
        if (plen == 0 || path[0] != '/')
                return -EINVAL;

        if (c2 == ctl) {
                if (c1 - line != 1 || line[0] != '0')
                        return -EINVAL; /* only hierarchy 0 is unnamed */
                for (unsigned c = 0; c < _CG_CONTROLLER_MAX; c++)
                        if (l->unified >= 0 && l->by_controller[c] == l->unified) {
                                int k = set_path(r, l, c, path, plen);
                                if (k < 0)
                                        return k;
                        }
                return 0;
        }
        for (const char *p = ctl; p < c2;) {
                size_t n = strcspn(p, ",:");
                unsigned mask = v1_mask(p, n);
                for (unsigned c = 0; c < _CG_CONTROLLER_MAX; c++) {
                        if (!(mask & 1u << c) || l->by_controller[c] < 0 || l->hier[l->by_controller[c]].version != 1)
                                continue;
                        int k = set_path(r, l, c, path, plen);
                        if (k < 0)
                                return k;
                }
                p += n;
                if (*p == ',')
                        p++;
        }
        return 0;
}

int cg_reader_parse(const struct cg_layout *l, const char *text, struct cg_reader *ret) {
        _cleanup_(cg_reader_done) struct cg_reader r = { 0 };

        for (const char *p = text; *p;) {
                size_t len = strcspn(p, "\n");
                if (len > 0) {
                        int k = parse_cgroup_line(l, p, len, &r);
                        if (k < 0)
                                return k;
                }
                p += len;
                if (*p == '\n')
                        p++;
        }
        *ret = r;
        r = (struct cg_reader){ 0 };
        return 0;
}

int cg_reader_from_pid(const struct cg_layout *l, int root_fd, pid_t pid, struct cg_reader *ret) {
        char path[sizeof("proc//cgroup") + 3 * sizeof(pid_t)];
        _cleanup_free_ char *text = NULL;

        if (pid <= 0)
                return -EINVAL;
        snprintf(path, sizeof(path), "proc/%d/cgroup", (int)pid);
        int r = read_file_at(root_fd, path, &text, NULL);
        if (r < 0)
                return r;
        return cg_reader_parse(l, text, ret);
}

void cg_reader_done(struct cg_reader *r) {
        for (unsigned c = 0; c < _CG_CONTROLLER_MAX; c++) {
                free(r->path[c]);
                r->path[c] = NULL;
        }
}

bool cg_reader_is_root(const struct cg_reader *r, enum cg_controller c) {
        return !r->path[c] || streq(r->path[c], "/");
}

/* RESOLVE_IN_ROOT already confines "..", but a ".." would silently name a
 * different cgroup than the reader's, so refuse it outright. */
bool cg_path_has_dotdot(const char *path) {
        for (const char *p = path; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return true;
                p += n;
                p += strspn(p, "/");
        }
        return false;
}

static int cg_open_dir_flags(const struct cg_hier *h, const char *path, int flags) {
        if (!path || cg_path_has_dotdot(path))
                return -EINVAL;
        return open_beneath(h->fd, path, flags | O_DIRECTORY);
}

int cg_open_dir(const struct cg_hier *h, const char *path) {
        return cg_open_dir_flags(h, path, O_PATH);
}

int cg_read(const struct cg_hier *h, const char *path, const char *file, char **ret) {
        _cleanup_close_ int fd = cg_open_dir(h, path);
        if (fd < 0)
                return fd;
        return read_file_at(fd, file, ret, NULL);
}

bool cg_path_up(char *path) {
        char *slash = strrchr(path, '/');

        if (!slash || streq(path, "/"))
                return false;
        if (slash == path)
                slash[1] = 0;
        else
                *slash = 0;
        return true;
}

/* The next blank-separated decimal at *P, advancing *P past it. */
int cg_next_u64(const char **p, uint64_t *ret) {
        char num[24];

        *p += strspn(*p, " \t");
        size_t len = strcspn(*p, " \t\n");
        if (len == 0 || len >= sizeof(num))
                return -EINVAL;
        memcpy(num, *p, len);
        num[len] = 0;
        *p += len;
        return parse_u64(num, ret);
}

/* "MAJ:MIN" at *P. */
int cg_next_devnum(const char **p, unsigned *ret_major, unsigned *ret_minor) {
        const char *s = *p;
        uint64_t major, minor;
        char num[12];
        size_t len = strspn(s, "0123456789");

        if (len == 0 || len >= sizeof(num) || s[len] != ':')
                return -EINVAL;
        memcpy(num, s, len);
        num[len] = 0;
        if (parse_u64(num, &major) < 0 || major > UINT32_MAX)
                return -EINVAL;
        s += len + 1;
        len = strspn(s, "0123456789");
        if (len == 0 || len >= sizeof(num))
                return -EINVAL;
        memcpy(num, s, len);
        num[len] = 0;
        if (parse_u64(num, &minor) < 0 || minor > UINT32_MAX)
                return -EINVAL;
        *p = s + len;
        *ret_major = major;
        *ret_minor = minor;
        return 0;
}

bool cg_at_line_end(const char *p) {
        p += strspn(p, " \t");
        return *p == 0 || *p == '\n';
}

/* ---- pids of a subtree ---- */

struct pid_list {
        pid_t *v;
        size_t n, cap;
};

static int pid_list_add(struct pid_list *l, pid_t p) {
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 64;
                pid_t *v = reallocarray(l->v, cap, sizeof(*v));
                if (!v)
                        return -ENOMEM;
                l->v = v;
                l->cap = cap;
        }
        l->v[l->n++] = p;
        return 0;
}

static int parse_pid_lines(const char *text, struct pid_list *l) {
        for (const char *p = text; *p;) {
                size_t len = strcspn(p, "\n");
                if (len > 0) {
                        char num[24];
                        uint64_t v;
                        if (len >= sizeof(num))
                                return -EINVAL;
                        memcpy(num, p, len);
                        num[len] = 0;
                        int r = parse_u64(num, &v);
                        if (r < 0)
                                return r;
                        if (v == 0 || v > INT_MAX)
                                return -EINVAL;
                        r = pid_list_add(l, (pid_t)v);
                        if (r < 0)
                                return r;
                }
                p += len;
                if (*p == '\n')
                        p++;
        }
        return 0;
}

/* Cgroup trees are shallow in practice; the bound keeps a hostile tree
 * from exhausting the stack. */
#define PID_WALK_MAX_DEPTH 64

static int collect_dir(int dfd, const char *file, struct pid_list *l, unsigned depth) {
        _cleanup_free_ char *text = NULL;

        if (depth > PID_WALK_MAX_DEPTH)
                return -ELOOP;
        int r = read_file_at(dfd, file, &text, NULL);
        if (r < 0)
                return r;
        r = parse_pid_lines(text, l);
        if (r < 0)
                return r;

        int own = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (own < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(own);
        if (!d) {
                r = -errno;
                close(own);
                return r;
        }
        for (struct dirent *de; (errno = 0, de = readdir(d));) {
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue; /* cgroupfs always fills d_type */
                _cleanup_close_ int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) {
                        if (errno == ENOENT)
                                continue; /* removed while we walked */
                        return -errno;
                }
                r = collect_dir(sub, file, l, depth + 1);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
        }
        return errno ? -errno : 0;
}

int cg_collect_pids(const struct cg_hier *h, const char *path, const char *file, pid_t **ret, size_t *ret_n) {
        struct pid_list l = { 0 };
        _cleanup_close_ int dfd = cg_open_dir_flags(h, path, O_RDONLY);
        if (dfd < 0)
                return dfd;
        int r = collect_dir(dfd, file, &l, 0);
        if (r < 0) {
                free(l.v);
                return r;
        }
        *ret = l.v;
        *ret_n = l.n;
        return 0;
}

void cg_cpu_usage_done(struct cg_cpu_usage *u) {
        free(u->user_ns);
        free(u->system_ns);
        *u = (struct cg_cpu_usage){ 0 };
}

void cg_io_done(struct cg_io *io) {
        free(io->dev);
        *io = (struct cg_io){ 0 };
}

static bool ratio_lower(uint64_t q1, uint64_t p1, uint64_t q2, uint64_t p2) {
        return (unsigned __int128)q1 * p2 < (unsigned __int128)q2 * p1;
}

int cg_lowest_quota(const struct cg_hier *h, const char *path, cg_level_quota_fn read_level,
                    uint64_t *ret_quota, uint64_t *ret_period) {
        uint64_t best_q = CG_NONE, best_p = 100000;
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        /* the walk skips levels lacking the file, but the cgroup itself must exist */
        _cleanup_close_ int fd = cg_open_dir(h, path);
        if (fd < 0)
                return fd;
        do {
                uint64_t q, per;
                int r = read_level(h, p, &q, &per);
                if (r == -ENOENT)
                        continue; /* no CPU bandwidth control at this level */
                if (r < 0)
                        return r;
                if (q != CG_NONE && (best_q == CG_NONE || ratio_lower(q, per, best_q, best_p))) {
                        best_q = q;
                        best_p = per;
                }
        } while (cg_path_up(p));
        *ret_quota = best_q;
        *ret_period = best_p;
        return 0;
}
