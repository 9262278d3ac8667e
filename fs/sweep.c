#include "config.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include "curatefs.h"
#include "registration.h"

/* The curate/run-PID cgroups that killed launchers left behind.
 *
 * A launcher removes its run's cgroups as it ends. One killed with SIGKILL
 * cannot; its command dies with it (PR_SET_PDEATHSIG), so what is left is
 * curate/run-PID, empty, in every hierarchy. The sampler's pass removes
 * such a run when
 *   - it is empty in every hierarchy (its delegated child cgroups too): a
 *     cgroup with a process is never touched (and rmdir refuses one
 *     anyway: EBUSY), and
 *   - PID is not a curate process that could have made it: no process, a
 *     process that is not curate (the pid was reused), or a curate that
 *     started after the run's directory was first seen here (reused by
 *     another launch; a launcher makes its cgroup after it starts).
 * Only directories named run-<digits> directly beneath curate/ are looked
 * at; nothing else there is ours to remove (the shared daemon's cgroup,
 * names given with --name, other tools'). A run with a device registration
 * is left to the registrations' sweep (server.c) when the daemon has one:
 * it drops the registration and these cgroups together. */

#define RUNS_PARENT "curate"
#define RUN_PREFIX "run-"
#define SEEN_MAX 4096

/* When a run's directory was first seen, by its name and the identity of
 * its first directory (a launcher that reuses the pid makes a new one). */
struct run_seen {
        char name[24];
        struct cg_ident ident;
        uint64_t ticks; /* clock ticks since boot, as /proc/PID/stat's starttime */
        bool present;   /* seen in this pass */
};

/* "run-" and a pid as the launcher prints it ("%d": no sign, no leading 0) */
static bool run_name_pid(const char *name, pid_t *ret) {
        const char *d = name + strlen(RUN_PREFIX);
        long long v = 0;

        if (strncmp(name, RUN_PREFIX, strlen(RUN_PREFIX)) != 0 || *d < '1' || *d > '9' || strlen(d) > 10)
                return false;
        for (; *d; d++) {
                if (*d < '0' || *d > '9')
                        return false;
                v = v * 10 + (*d - '0');
        }
        if (v > INT32_MAX)
                return false;
        *ret = (pid_t)v;
        return true;
}

static uint64_t boot_ticks(void) {
        struct timespec ts;
        long hz = sysconf(_SC_CLK_TCK);
        clock_gettime(CLOCK_BOOTTIME, &ts);
        if (hz <= 0)
                hz = USER_HZ;
        return (uint64_t)ts.tv_sec * hz + (uint64_t)ts.tv_nsec / (1000000000L / hz);
}

/* The names of the run-PID directories beneath curate/ in any hierarchy. */
static int list_runs(struct curate *c, char (**ret)[24], size_t *ret_n) {
        char (*names)[24] = NULL;
        size_t n = 0;

        for (int i = 0; i < c->layout.n; i++) {
                int fd = open_beneath(c->layout.hier[i].fd, RUNS_PARENT, O_RDONLY | O_DIRECTORY);
                _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
                if (!d) {
                        if (fd >= 0)
                                close(fd);
                        continue;
                }
                for (struct dirent *de; (de = readdir(d));) {
                        pid_t pid;
                        bool dup = false;
                        if (de->d_type != DT_DIR || !run_name_pid(de->d_name, &pid))
                                continue;
                        for (size_t k = 0; k < n && !dup; k++)
                                dup = streq(names[k], de->d_name);
                        if (dup)
                                continue;
                        char (*nn)[24] = reallocarray(names, n + 1, sizeof(*names));
                        if (!nn) {
                                free(names);
                                return -ENOMEM;
                        }
                        names = nn;
                        /* run_name_pid allows 14 bytes at most */
                        memcpy(names[n++], de->d_name, strlen(de->d_name) + 1);
                }
        }
        *ret = names;
        *ret_n = n;
        return 0;
}

static bool left_to_devs_sweep(struct curate *c, const char *name) {
        char path[4096];
        return c->sweep && reg_path(name, path, sizeof(path)) == 0 && access(path, F_OK) == 0;
}

/* Where curate/NAME is, and what is in it. */
struct run_dirs {
        struct cg_ident ident[CG_HIER_MAX]; /* { 0, 0 }: not in that hierarchy */
        struct cg_ident first;              /* of the first one found */
        bool empty;                         /* no process or thread in any */
};

static int run_look(struct curate *c, const char *name, struct run_dirs *ret) {
        char path[64];
        struct run_dirs rd = { .empty = true };

        snprintf(path, sizeof(path), RUNS_PARENT "/%s", name);
        for (int i = 0; i < c->layout.n; i++) {
                const struct cg_hier *h = &c->layout.hier[i];
                struct stat st;
                _cleanup_free_ pid_t *procs = NULL, *threads = NULL;
                size_t np = 0, nt = 0;

                if (fstatat(h->fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (!S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                rd.ident[i] = (struct cg_ident){ .dev = st.st_dev, .ino = st.st_ino };
                if (!rd.first.ino)
                        rd.first = rd.ident[i];
                /* both lists: a v1 process may have threads elsewhere */
                int r = h->ops->procs(h, path, &procs, &np);
                if (r >= 0)
                        r = h->ops->threads(h, path, &threads, &nt);
                if (r < 0)
                        return r;
                rd.empty &= np == 0 && nt == 0;
        }
        *ret = rd;
        return 0;
}

/* When NAME (whose first directory is IDENT) was first seen, noting it now
 * when it is new. */
static uint64_t run_first_seen(struct curate *c, const char *name, const struct cg_ident *ident) {
        struct run_seen *s = c->runs_seen;
        for (size_t i = 0; i < c->nruns_seen; i++)
                if (streq(s[i].name, name) && s[i].ident.dev == ident->dev && s[i].ident.ino == ident->ino) {
                        s[i].present = true;
                        return s[i].ticks;
                }
        uint64_t now = boot_ticks();
        if (c->nruns_seen < SEEN_MAX) {
                s = reallocarray(c->runs_seen, c->nruns_seen + 1, sizeof(*s));
                if (s) {
                        c->runs_seen = s;
                        s[c->nruns_seen] = (struct run_seen){ .ident = *ident, .ticks = now, .present = true };
                        snprintf(s[c->nruns_seen].name, sizeof(s->name), "%s", name);
                        c->nruns_seen++;
                }
        }
        return now;
}

/* Forget the runs not seen in this pass. */
static void seen_prune(struct curate *c) {
        size_t k = 0;
        for (size_t i = 0; i < c->nruns_seen; i++)
                if (c->runs_seen[i].present) {
                        c->runs_seen[i].present = false;
                        c->runs_seen[k++] = c->runs_seen[i];
                }
        c->nruns_seen = k;
}

/* Could PID be the launcher that made a run first seen at tick SEEN? Only
 * a live curate process started no later than that. Unknown is "yes". */
static bool launcher_may_live(struct curate *c, pid_t pid, uint64_t seen) {
        char path[64], text[1024], exe[4096];
        snprintf(path, sizeof(path), "proc/%d/stat", (int)pid);
        _cleanup_close_ int fd = open_beneath(c->root_fd, path, O_RDONLY);
        if (fd == -ENOENT || fd == -ESRCH)
                return false;
        int n = fd < 0 ? fd : read_fd_into(fd, text, sizeof(text));
        if (n == -ESRCH || n == 0)
                return false; /* exited between the open and the read */
        if (n < 0)
                return true;
        /* "PID (COMM) STATE ..." with COMM up to 15 bytes; the last ')' ends it */
        char *lp = strchr(text, '('), *rp = strrchr(text, ')');
        if (!lp || !rp || rp < lp)
                return true;
        bool curate = rp - lp - 1 == 6 && strncmp(lp + 1, "curate", 6) == 0;
        if (!curate) {
                /* started under another name (a link): the binary's */
                snprintf(path, sizeof(path), "proc/%d/exe", (int)pid);
                ssize_t l = readlinkat(c->root_fd, path, exe, sizeof(exe) - 1);
                if (l > 0) {
                        exe[l] = 0;
                        const char *base = strrchr(exe, '/');
                        curate = streq(base ? base + 1 : exe, "curate");
                }
        }
        if (!curate)
                return false;
        /* field 22 (starttime), counting from the state (field 3) */
        char *p = rp + 2;
        for (int field = 3; field < 22 && p; field++) {
                p = strchr(p, ' ');
                p = p ? p + 1 : NULL;
        }
        if (!p)
                return true;
        uint64_t start = strtoull(p, NULL, 10);
        return start <= seen;
}

/* rmdir NAME's directories (their empty child cgroups first) where they
 * still are the directories RD found: a launcher that took the name since
 * has made new ones. A cgroup a process joined meanwhile stays: rmdir
 * answers EBUSY. */
static void remove_tree(int parent_fd, const char *name) {
        int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                if (fd >= 0)
                        close(fd);
        } else
                for (struct dirent *de; (de = readdir(d));)
                        if (de->d_type == DT_DIR && !streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                remove_tree(dirfd(d), de->d_name);
        (void)unlinkat(parent_fd, name, AT_REMOVEDIR);
}

static int run_remove(struct curate *c, const char *name, const struct run_dirs *rd) {
        int removed = 0;
        for (int i = 0; i < c->layout.n; i++) {
                struct stat st;
                if (!rd->ident[i].ino)
                        continue;
                _cleanup_close_ int parent = open_beneath(c->layout.hier[i].fd, RUNS_PARENT, O_PATH | O_DIRECTORY);
                if (parent < 0 || fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    st.st_dev != rd->ident[i].dev || st.st_ino != rd->ident[i].ino)
                        continue;
                remove_tree(parent, name);
                removed += faccessat(parent, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0;
        }
        return removed;
}

int runs_sweep(struct curate *c) {
        _cleanup_free_ char (*names)[24] = NULL;
        size_t n = 0;
        int swept = 0;

        if (list_runs(c, &names, &n) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct run_dirs rd;
                pid_t pid;
                char msg[256];

                if (!run_name_pid(names[i], &pid) || left_to_devs_sweep(c, names[i]) ||
                    run_look(c, names[i], &rd) < 0 || !rd.first.ino)
                        continue;
                uint64_t seen = run_first_seen(c, names[i], &rd.first);
                if (!rd.empty || launcher_may_live(c, pid, seen))
                        continue;
                /* looked at again last: a launch may have begun meanwhile */
                struct run_dirs again;
                if (run_look(c, names[i], &again) < 0 || !again.empty ||
                    memcmp(again.ident, rd.ident, sizeof(rd.ident)) != 0 || launcher_may_live(c, pid, seen))
                        continue;
                int removed = run_remove(c, names[i], &rd);
                if (removed <= 0)
                        continue;
                swept++;
                snprintf(msg, sizeof(msg), "removed the cgroups of %s in %d hierarchies: its launcher is gone "
                         "and they held no process", names[i], removed);
                if (c->log)
                        c->log(msg);
        }
        seen_prune(c);
        return swept;
}
