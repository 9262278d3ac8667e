#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/magic.h>
#include "daemon-parts.h"
#include "daemon-transport.h"
#include "fileio.h"
#include "launcher.h"
#include "macro.h"

/* The shared curatefs daemon. One serves every `curate run` on the host:
 * the first run that needs it starts it (daemon_ensure), and it stays.
 * Its parts (the holder and the serving processes) and their replacement
 * are in daemon-parts.c. */

#define CURATEFS_FSTYPE "fuse.curatefs"
#define DAEMON_LOCK CURATE_RUN_DIR "/daemon.lock"
#define START_TIMEOUT_MS 10000 /* curatefs mounts in milliseconds; this is for a hung one */
#define START_OUTPUT_MAX 4096  /* what is kept of its stderr for the message */
#define STATUS_NOT_RUNNING 3   /* as systemctl status and LSB init scripts */
#define RESTART_TIMEOUT_MS 10000 /* a new serving process is ready in milliseconds */


/* ---- the binary ---- */

static bool is_executable(const char *path) {
        struct stat st;
        return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Beside this executable: installed (bin/ or sbin/), or the build tree. */
static bool find_near_self(char found[static PATH_MAX]) {
        static const char *const rel[] = { "curatefs", "../fs/curatefs", "../sbin/curatefs" };
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        char *slash;

        if (n <= 0)
                return false;
        self[n] = 0;
        if (!(slash = strrchr(self, '/')))
                return false;
        *slash = 0;
        for (size_t i = 0; i < ELEMENTSOF(rel); i++)
                if (snprintf(found, PATH_MAX, "%s/%s", self, rel[i]) < PATH_MAX && is_executable(found))
                        return true;
        return false;
}

static bool find_in_path(char found[static PATH_MAX]) {
        const char *path = getenv("PATH");

        if (!path || !*path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (const char *p = path; *p;) {
                size_t n = strcspn(p, ":");
                if (n > 0 && snprintf(found, PATH_MAX, "%.*s/curatefs", (int)n, p) < PATH_MAX && is_executable(found))
                        return true;
                p += n;
                p += strspn(p, ":");
        }
        return false;
}

const char *curatefs_binary(void) {
        static char found[PATH_MAX];
        const char *env = getenv("CURATEFS");

        if (env && *env)
                return env;
        if (!found[0] && !find_near_self(found) && !find_in_path(found))
                snprintf(found, sizeof(found), "curatefs"); /* exec reports it missing */
        return found;
}

/* ---- is it serving? ---- */

/* The whole of /proc/self/mountinfo in one buffer: read(2) in big chunks
 * costs half of what stdio's line by line does, and this runs on every
 * `curate run`. */
static int read_mountinfo(char **ret) {
        return read_file_at(AT_FDCWD, "/proc/self/mountinfo", ret, NULL);
}

/* mountinfo escapes blanks, newline and backslash as \ooo (proc(5)). */
static void unescape_octal(char *s) {
        char *w = s;
        for (char *r = s; *r; r++, w++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' &&
                    r[3] <= '7') {
                        *w = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 3;
                } else
                        *w = *r;
        }
        *w = 0;
}

struct mount_entry {
        unsigned long id;
        char mountpoint[PATH_MAX];
        char fstype[64];
};

/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS",
 * LINE ending at its newline or NUL. */
static bool parse_mount_line(const char *line, struct mount_entry *ret) {
        _cleanup_free_ char *copy = strndup(line, strcspn(line, "\n"));
        char mp[PATH_MAX];

        if (!copy)
                return false;
        const char *dash = strstr(copy, " - ");
        if (!dash || sscanf(copy, "%lu %*s %*s %*s %4095s", &ret->id, mp) != 2 ||
            sscanf(dash + 3, "%63s", ret->fstype) != 1)
                return false;
        unescape_octal(mp);
        memcpy(ret->mountpoint, mp, sizeof(mp));
        return true;
}

/* With PATH NULL, the mount with ID (only its line is parsed: the fast
 * path); else the topmost mount on PATH (the last listed: mounts stacked on
 * one point appear in mount order). */
static bool find_mount(unsigned long id, const char *path, struct mount_entry *ret) {
        _cleanup_free_ char *text = NULL;
        struct mount_entry e;
        bool found = false;

        if (read_mountinfo(&text) < 0)
                return false;
        for (const char *line = text; *line;) {
                const char *nl = strchr(line, '\n');
                if (path ? parse_mount_line(line, &e) && streq(e.mountpoint, path)
                         : strtoul(line, NULL, 10) == id && parse_mount_line(line, &e)) {
                        *ret = e;
                        found = true;
                        if (!path)
                                break;
                }
                if (!nl)
                        break;
                line = nl + 1;
        }
        return found;
}

/* statfs() reaches the daemon (FUSE_STATFS), so FUSE_SUPER_MAGIC means a
 * live FUSE server; a dead one's mount answers ENOTCONN. Only then is
 * mountinfo read, to tell curatefs from another FUSE filesystem and
 * MOUNTPOINT itself from a directory inside one. */
bool daemon_serving(const char *mountpoint) {
        struct statfs sf;
        struct statx sx;
        struct mount_entry e;

        if (statfs(mountpoint, &sf) < 0 || sf.f_type != FUSE_SUPER_MAGIC)
                return false;
        if (statx(AT_FDCWD, mountpoint, AT_NO_AUTOMOUNT, STATX_MNT_ID, &sx) < 0 || !(sx.stx_mask & STATX_MNT_ID))
                return false;
        if ((sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && !(sx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
                return false;
        return find_mount(sx.stx_mnt_id, NULL, &e) && streq(e.fstype, CURATEFS_FSTYPE);
}

enum daemon_state {
        DAEMON_NONE,
        DAEMON_SERVING,
        DAEMON_STALE,      /* a curatefs mount whose daemon is gone */
        DAEMON_OTHER_DEAD, /* another FUSE filesystem's dead mount */
};

static enum daemon_state probe(const char *canonical) {
        struct statfs sf;
        struct mount_entry e;

        if (statfs(canonical, &sf) == 0)
                return daemon_serving(canonical) ? DAEMON_SERVING : DAEMON_NONE;
        if (errno != ENOTCONN && errno != ECONNABORTED)
                return DAEMON_NONE;
        return find_mount(0, canonical, &e) && streq(e.fstype, CURATEFS_FSTYPE) ? DAEMON_STALE : DAEMON_OTHER_DEAD;
}

/* ---- paths ---- */

static int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *tmp = strdup(path);

        if (!tmp)
                return -ENOMEM;
        for (char *p = tmp + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* The absolute path without symlinks. A dead FUSE mount cannot be resolved
 * itself (ENOTCONN): its parent is, and the name appended. */
static int canonicalize(const char *path, char ret[static PATH_MAX]) {
        _cleanup_free_ char *copy = strdup(path);
        char parent[PATH_MAX];

        if (!copy)
                return -ENOMEM;
        if (realpath(path, ret))
                return 0;
        if (errno != ENOTCONN && errno != ECONNABORTED)
                return -errno;
        char *slash = strrchr(copy, '/');
        const char *name = slash ? slash + 1 : copy;
        if (slash)
                *slash = 0;
        if (!realpath(slash ? (*copy ? copy : "/") : ".", parent))
                return -errno;
        if (snprintf(ret, PATH_MAX, "%s/%s", streq(parent, "/") ? "" : parent, name) >= PATH_MAX)
                return -ENAMETOOLONG;
        return 0;
}

/* CURATE_RUN_DIR/curatefs-<MOUNTPOINT>.pid, '/' as '_' and every byte but
 * [A-Za-z0-9.-] as %XX, so that two mount points never share a file. */
static int pidfile_path(const char *canonical, char ret[static PATH_MAX]) {
        char name[NAME_MAX + 1];
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *)canonical; *p; p++) {
                if (n + 4 >= sizeof(name) - sizeof(".pid"))
                        return -ENAMETOOLONG;
                if (*p == '/')
                        name[n++] = '_';
                else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                         *p == '.' || *p == '-')
                        name[n++] = *p;
                else
                        n += snprintf(name + n, 4, "%%%02X", *p);
        }
        name[n] = 0;
        if (snprintf(ret, PATH_MAX, "%s/curatefs-%s.pid", CURATE_RUN_DIR, name) >= PATH_MAX)
                return -ENAMETOOLONG;
        return 0;
}

/* ---- the daemon's pid ---- */

/* Whether the process is named "curatefs" (what a caller who may not look
 * at its fds can check). */
static bool named_curatefs(pid_t pid) {
        char path[64], comm[32];
        _cleanup_close_ int fd = -EBADF;

        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        return fd >= 0 && read_fd_into(fd, comm, sizeof(comm)) > 0 && streq(comm, "curatefs\n");
}

/* A live process that holds /dev/fuse open: what the pid file names is a
 * FUSE server, not a recycled pid (its name may not be "curatefs": tests
 * run it under valgrind). Only root may look at its fds; others get the
 * name checked. */
static bool is_fuse_server(pid_t pid) {
        char dir[64], target[32];
        _cleanup_closedir_ DIR *d = NULL;

        snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
        if (!(d = opendir(dir)))
                return errno == EACCES && named_curatefs(pid);
        for (struct dirent *de; (de = readdir(d));) {
                ssize_t n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
                if (n > 0 && (target[n] = 0, streq(target, "/dev/fuse")))
                        return true;
        }
        return false;
}

/* The daemon's pid from its pid file; 0 when unknown. */
static pid_t daemon_pid(const char *canonical) {
        char path[PATH_MAX], text[32];
        _cleanup_close_ int fd = -EBADF;
        uint64_t v;

        if (pidfile_path(canonical, path) < 0 || (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
            read_fd_into(fd, text, sizeof(text)) < 0 || parse_u64(text, &v) < 0 || v == 0 || v > INT_MAX)
                return 0;
        return is_fuse_server((pid_t)v) ? (pid_t)v : 0;
}

/* ---- starting it ---- */

static int take_lock(char **ret_error) {
        int r = mkdir_p(CURATE_RUN_DIR, 0755);

        if (r < 0)
                return error_printf(ret_error, r, "cannot create %s: %s", CURATE_RUN_DIR, strerror(-r));
        int fd = open(DAEMON_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return error_printf(ret_error, -errno, "cannot open %s: %s", DAEMON_LOCK, strerror(errno));
        while (flock(fd, LOCK_EX) < 0) {
                if (errno == EINTR)
                        continue;
                r = -errno;
                close(fd);
                return error_printf(ret_error, r, "cannot lock %s: %s", DAEMON_LOCK, strerror(-r));
        }
        return fd;
}

/* Keep FD clear of 0-2, which the child overwrites with its stdio. */
static int above_stdio(int fd) {
        if (fd < 0 || fd > 2)
                return fd;
        int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        int r = moved < 0 ? -errno : moved;
        close(fd);
        return r;
}

/* In the forked child: only async-signal-safe calls. Every signal back to
 * its default action (exec keeps ignored ones; run.c blocks and may ignore
 * some) and unblocked, stdin from /dev/null, stdout and stderr into the
 * pipe, and every other fd close-on-exec, including any that curate
 * inherited without the flag: the daemon outlives us, and one holding the
 * lock or a pipe of ours would hang later runs. On exec failure the errno
 * goes back through ERR_FD. */
static _Noreturn void exec_child(char *const argv[], int null_fd, int out_fd, int err_fd, int max_fd) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigset_t none;
        int e;

        for (int sig = 1; sig < _NSIG; sig++)
                (void)sigaction(sig, &dfl, NULL); /* EINVAL for SIGKILL, SIGSTOP, glibc's own */
        if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
                goto fail;
        if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                for (int fd = 3; fd < max_fd; fd++) /* Linux < 5.11 */
                        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(argv[0], argv);
fail:
        e = errno;
        (void)!write(err_fd, &e, sizeof(e));
        _exit(127);
}

/* Read the child's output until every writer is gone (the foreground
 * process exited, the daemon put its stdio on /dev/null) or DEADLINE. */
static bool collect_output(int fd, char *buf, size_t size, const struct timespec *deadline) {
        size_t len = 0;

        for (;;) {
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                long ms = (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
                if (ms <= 0)
                        return false;
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int k = poll(&pfd, 1, (int)ms);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k == 0)
                        return false;
                if (k < 0)
                        break;
                char chunk[512];
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                size_t take = (size_t)n < size - 1 - len ? (size_t)n : size - 1 - len;
                memcpy(buf + len, chunk, take);
                len += take;
        }
        while (len > 0 && strchr(" \t\n", buf[len - 1]))
                len--;
        buf[len] = 0;
        return true;
}

static int wait_child(pid_t pid, int *ret_status) {
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        *ret_status = status;
        return 0;
}

struct start_pipes {
        int null_fd, out[2], err[2];
};

static void start_pipes_done(struct start_pipes *p) {
        int *fds[] = { &p->null_fd, &p->out[0], &p->out[1], &p->err[0], &p->err[1] };
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                if (*fds[i] >= 0)
                        close(TAKE_FD(*fds[i]));
}

static int start_pipes_open(struct start_pipes *p) {
        if (pipe2(p->out, O_CLOEXEC) < 0 || pipe2(p->err, O_CLOEXEC) < 0)
                return -errno;
        p->null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (p->null_fd < 0)
                return -errno;
        p->null_fd = above_stdio(p->null_fd);
        p->out[1] = above_stdio(p->out[1]);
        p->err[1] = above_stdio(p->err[1]);
        return p->null_fd < 0 ? p->null_fd : p->out[1] < 0 ? p->out[1] : p->err[1] < 0 ? p->err[1] : 0;
}

/* Why the foreground curatefs failed, from its exit status and output. */
static int start_failed(const char *binary, int status, const char *output, char **ret_error) {
        if (WIFSIGNALED(status))
                return error_printf(ret_error, -EIO, "%s was killed by signal %d while starting%s%s", binary,
                                 WTERMSIG(status), *output ? ": " : "", output);
        return error_printf(ret_error, -EIO, "%s failed to start (exit status %d)%s%s", binary, WEXITSTATUS(status),
                         *output ? ": " : "", *output ? output : "");
}

/* Run curatefs [--transport T] --pidfile PIDFILE MOUNTPOINT and wait for its foreground
 * process, which exits 0 once the mount is served and the pid file written.
 * Called in curate's own mount namespace and cgroups: run.c starts the
 * daemon before it creates the run's cgroup and namespaces (and only the
 * command is ever moved into that cgroup), so the daemon stays in the
 * host's and outlives the run. */
static int start_daemon(const char *mountpoint, const char *pidfile, enum daemon_transport transport,
                        char **ret_error) {
        const char *binary = curatefs_binary();
        const char *tname = daemon_transport_name(transport);
        /* --transport only when asked for: curatefs's default is auto, and a
         * curatefs older than io_uring (CURATEFS=) still starts */
        char *argv[8] = { (char *)binary }, **a = argv + 1;
        if (tname) {
                *a++ = "--transport";
                *a++ = (char *)tname;
        }
        *a++ = "--pidfile";
        *a++ = (char *)pidfile;
        *a++ = "--";
        *a++ = (char *)mountpoint;
        _cleanup_(start_pipes_done) struct start_pipes p = { .null_fd = -EBADF, .out = { -EBADF, -EBADF },
                                                             .err = { -EBADF, -EBADF } };
        char output[START_OUTPUT_MAX] = "";
        struct timespec deadline;
        sigset_t all, old;
        int r, status, exec_errno = 0;
        struct rlimit rl;

        r = start_pipes_open(&p);
        if (r < 0)
                return error_printf(ret_error, r, "cannot start %s: %s", binary, strerror(-r));
        int max_fd = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
        /* no handler of ours may run in the child before its reset */
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, &old);
        pid_t pid = fork();
        if (pid == 0)
                exec_child(argv, p.null_fd, p.out[1], p.err[1], max_fd);
        r = -errno;
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (pid < 0)
                return error_printf(ret_error, r, "cannot start %s: fork: %s", binary, strerror(-r));
        close(TAKE_FD(p.out[1]));
        close(TAKE_FD(p.err[1]));

        /* EOF: exec succeeded (the pipe is close-on-exec) */
        while (read(p.err[0], &exec_errno, sizeof(exec_errno)) < 0 && errno == EINTR)
                ;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += START_TIMEOUT_MS / 1000;
        bool done = exec_errno == 0 && collect_output(p.out[0], output, sizeof(output), &deadline);
        if (!done && exec_errno == 0)
                kill(pid, SIGKILL);
        r = wait_child(pid, &status);
        if (r < 0)
                return error_printf(ret_error, r, "waiting for %s: %s", binary, strerror(-r));
        if (exec_errno)
                return error_printf(ret_error, -exec_errno, "cannot execute %s: %s", binary, strerror(exec_errno));
        if (!done)
                return error_printf(ret_error, -ETIMEDOUT, "%s did not finish starting within %d s", binary,
                                 START_TIMEOUT_MS / 1000);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return start_failed(binary, status, output, ret_error);
        return 0;
}

/* Detach whatever dead curatefs mounts sit on CANONICAL (they may stack). */
static int detach_stale(const char *canonical, char **ret_error) {
        for (int i = 0; i < 16 && probe(canonical) == DAEMON_STALE; i++)
                if (umount2(canonical, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                        return error_printf(ret_error, -errno, "cannot detach the stale curatefs mount at %s: %s",
                                         canonical, strerror(errno));
        return 0;
}

/* Under the lock: serving already, or clear the way and start it. */
/* The daemon outlives the run that started it: it must not share the fate
 * of that caller's cgroup (a login session's scope is killed at logout, a
 * limited one would throttle every container's reads). It moves to the
 * long-lived "curate/daemon" in every hierarchy; best effort: a host where
 * that fails keeps it where it was. */
static void move_to_own_cgroup(pid_t pid) {
        _cleanup_close_ int root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *error = NULL;
        struct run_cgroup cg = { .n = 0 };
        struct cg_layout layout;

        if (pid <= 0 || root_fd < 0 || cg_layout_discover(root_fd, &layout) < 0)
                return;
        if (run_cgroup_open_shared(&layout, "daemon", &cg, &error) >= 0) {
                (void)run_cgroup_attach(&cg, pid);
                run_cgroup_destroy(&cg); /* not transient: only closes */
        }
        cg_layout_done(&layout);
}

static int ensure_locked(const char *canonical, struct daemon_start *opts, bool *ret_started, char **ret_error) {
        char pidfile[PATH_MAX];
        int r;

        switch (probe(canonical)) {
        case DAEMON_SERVING:
                *ret_started = false;
                return 0;
        case DAEMON_OTHER_DEAD:
                return error_printf(ret_error, -EBUSY,
                                 "%s: a dead FUSE filesystem other than curatefs is mounted there "
                                 "(Transport endpoint is not connected); unmount it first",
                                 canonical);
        case DAEMON_STALE:
                r = detach_stale(canonical, ret_error);
                if (r < 0)
                        return r;
                break;
        case DAEMON_NONE:
                break;
        }
        r = pidfile_path(canonical, pidfile);
        if (r < 0)
                return error_printf(ret_error, r, "%s: mount point path too long for a pid file name", canonical);
        r = daemon_transport_prepare(opts, ret_error);
        if (r < 0)
                return r;
        r = start_daemon(canonical, pidfile, opts->transport, ret_error);
        if (r < 0)
                return r;
        if (!daemon_serving(canonical))
                return error_printf(ret_error, -EIO, "%s exited as ready, but no curatefs serves %s",
                                 curatefs_binary(), canonical);
        move_to_own_cgroup(daemon_pid(canonical));
        *ret_started = true;
        return 0;
}

static int ensure_canonical(const char *mountpoint, struct daemon_start *opts, char canonical[static PATH_MAX],
                            bool *ret_started, char **ret_error) {
        int r;

        if (geteuid() != 0)
                return error_printf(ret_error, -EPERM, "only root can start curatefs on %s", mountpoint);
        r = mkdir_p(mountpoint, 0755);
        if (r < 0 && r != -ENOTCONN && r != -ECONNABORTED)
                return error_printf(ret_error, r, "cannot create the mount point %s: %s", mountpoint, strerror(-r));
        r = canonicalize(mountpoint, canonical);
        if (r < 0)
                return error_printf(ret_error, r, "%s: %s", mountpoint, strerror(-r));
        _cleanup_close_ int lock = take_lock(ret_error);
        if (lock < 0)
                return lock;
        return ensure_locked(canonical, opts, ret_started, ret_error);
}

int daemon_ensure(const char *mountpoint, bool *ret_started, char **ret_error) {
        char canonical[PATH_MAX];
        struct daemon_start defaults = { .transport = DAEMON_TRANSPORT_DEFAULT };
        bool started = false;

        if (daemon_serving(mountpoint)) {
                if (ret_started)
                        *ret_started = false;
                return 0;
        }
        int r = ensure_canonical(mountpoint, &defaults, canonical, &started, ret_error);
        if (r < 0)
                return r;
        if (ret_started)
                *ret_started = started;
        return 0;
}

/* ---- curate daemon start|stop|restart|status ---- */

static void daemon_help(void) {
        printf("Usage: curate daemon start|stop|restart|status [OPTIONS]\n"
               "       curate daemon start|restart [--transport auto|uring|dev] [--enable-uring]\n"
               "\n"
               "Manage the shared curatefs daemon that serves the views of every\n"
               "`curate run` on this host. `curate run` starts it when it is needed;\n"
               "these commands do it by hand.\n"
               "\n"
               "Commands:\n"
               "  start    start curatefs unless one already serves the mount point (root)\n"
               "  stop     detach the mount point (lazy unmount, root): no new container\n"
               "           gets the views, while running containers keep theirs; the\n"
               "           daemon exits by itself when the last of them is gone.\n"
               "           With --kill it is also sent SIGTERM and exits now; the views\n"
               "           in running containers then fail with ENOTCONN\n"
               "  restart  replace the serving processes (SIGHUP to the holder) and wait\n"
               "           until the old ones have exited and a new one serves: running\n"
               "           containers keep their views, and a curatefs binary replaced on\n"
               "           disk is picked up (root). Starts curatefs when none runs. An\n"
               "           old-style single-process curatefs cannot be replaced in place\n"
               "  status   exit 0 when curatefs serves the mount point, 3 when it does\n"
               "           not (or only a stale mount of a dead daemon is left); lists the\n"
               "           holder (the pid file's process: it keeps the mount) and the\n"
               "           serving processes, with their binaries and whether each binary\n"
               "           was replaced on disk since it started, and the transport\n"
               "\n"
               "Options:\n"
               "  -m, --mountpoint DIR  the mount point (default %s)\n"
               "  -k, --kill            with stop: end the daemon now (SIGTERM)\n"
               "  -T, --transport MODE  with start, and restart when it starts curatefs:\n"
               "                        how the kernel hands it requests, passed as\n"
               "                        curatefs --transport MODE: auto (default: FUSE\n"
               "                        over io_uring where the kernel offers it, else\n"
               "                        /dev/fuse), uring (io_uring, or no start) or dev\n"
               "                        (/dev/fuse only). Fixed when the mount is made: a\n"
               "                        daemon that already serves keeps its transport, and\n"
               "                        restart does not change it (stop, then start)\n"
               "      --enable-uring    with start or restart: before curatefs starts,\n"
               "                        write Y to %s,\n"
               "                        the kernel's host-wide switch (Linux >= 6.14 with\n"
               "                        CONFIG_FUSE_IO_URING; N by default) for every FUSE\n"
               "                        mount made afterwards; curate never switches it\n"
               "                        back. Implies --transport uring unless given\n"
               "  -j, --json            with status: one JSON object (mountpoint, state,\n"
               "                        holder_pid, holder and serving processes with\n"
               "                        their binaries, RSS and age, rss_kib_total, unit,\n"
               "                        requests_served, requests_failed, restarts,\n"
               "                        readers, transport, uring_queues,\n"
               "                        requests_served_uring, heap_in_use_bytes)\n"
               "  -h, --help            show this help and exit\n"
               "\n"
               "Environment:\n"
               "  CURATEFS              the curatefs binary to start (default: beside curate,\n"
               "                        else in PATH)\n"
               "\n"
               "The daemon's pid is kept in %s/curatefs-<mount point>.pid.\n",
               CURATEFS_DEFAULT_MOUNTPOINT, FUSE_URING_SWITCH, CURATE_RUN_DIR);
}

#define fail(...) curate_report(EXIT_CURATE, "daemon: ", __VA_ARGS__)

static void print_running(const char *what, const char *canonical) {
        pid_t pid = daemon_pid(canonical);
        if (pid > 0)
                printf("curatefs %s at %s (pid %d)\n", what, canonical, (int)pid);
        else
                printf("curatefs %s at %s\n", what, canonical);
}

/* --enable-uring turned the switch on: said also when curatefs then
 * failed, as the switch stays on either way. */
static void report_switched(const struct daemon_start *opts) {
        if (opts->switched_on)
                (void)curate_report(0, "daemon: ",
                                    "--enable-uring: wrote Y to %s: FUSE over io_uring is on for every FUSE mount "
                                    "made from now on, host-wide (curate does not switch it back; writing N there does)",
                                    fuse_uring_switch_path());
}

/* --transport or --enable-uring given while a daemon already serves: the
 * transport was negotiated when its mount was made, and neither a start
 * nor a restart (new serving processes, same mount) changes it. Say so
 * rather than let the options pass unnoticed. */
static void note_transport_kept(const char *canonical, const struct daemon_start *opts) {
        struct daemon_stats st;
        pid_t pid = daemon_pid(canonical);
        const char *now = pid > 0 && daemon_stats_read(pid, &st) == 0 ? daemon_transport_state_name(st.transport) : NULL;

        if (!opts->asked[0])
                return;
        (void)curate_report(0, "daemon: ",
                            "note: the running curatefs keeps its transport (%s): it is fixed when the mount is "
                            "made, and `curate daemon restart` does not change it; %s had no effect%s. "
                            "`curate daemon stop` then `curate daemon start %s` mounts anew with it",
                            !now ? "unknown" : streq(now, "uring") ? "io_uring" : "/dev/fuse", opts->asked,
                            opts->enable_uring ? " (the io_uring switch was not written)" : "", opts->asked);
}

static int cmd_start(const char *mountpoint, struct daemon_start *opts) {
        char canonical[PATH_MAX];
        _cleanup_free_ char *error = NULL;
        bool started;

        if (geteuid() != 0)
                return fail("starting curatefs needs root");
        int r = ensure_canonical(mountpoint, opts, canonical, &started, &error);
        report_switched(opts);
        if (r < 0)
                return fail("%s", error ? error : strerror(-r));
        print_running(started ? "running" : "already running", canonical);
        if (!started)
                note_transport_kept(canonical, opts);
        cdi_daemon_started(canonical);
        seccomp_profile_daemon_started(canonical);
        return 0;
}

/* Wait up to MS for PID to exit; true when it did (or is unknown). */
static bool wait_exit(pid_t pid, int ms) {
        _cleanup_close_ int fd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -EBADF;
        struct pollfd pfd = { .fd = fd, .events = POLLIN };

        if (pid <= 0 || (fd < 0 && errno == ESRCH))
                return true;
        if (fd < 0)
                return false;
        /* a pidfd polls readable once the process has exited, reaped or not */
        while (poll(&pfd, 1, ms) < 0 && errno == EINTR)
                ;
        return pfd.revents & POLLIN;
}

static int stop_serving(const char *canonical, bool kill_it) {
        pid_t pid = daemon_pid(canonical);

        if (umount2(canonical, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                return fail("cannot unmount %s: %s", canonical, strerror(errno));
        if (kill_it && pid > 0 && kill(pid, SIGTERM) < 0 && errno != ESRCH)
                return fail("cannot signal curatefs (pid %d): %s", (int)pid, strerror(errno));
        if (pid <= 0 && kill_it)
                return fail("%s detached, but the daemon's pid is unknown (no valid pid file): "
                            "it exits when the last container using it ends", canonical);
        if (pid <= 0) {
                printf("curatefs at %s detached; it exits when the last container using it ends\n", canonical);
                return 0;
        }
        /* with nothing else holding the filesystem the kernel ends the
         * connection at once and curatefs exits */
        if (wait_exit(pid, kill_it ? 5000 : 300)) {
                printf("curatefs at %s stopped\n", canonical);
                return 0;
        }
        if (kill_it)
                return fail("curatefs (pid %d) did not exit within 5 s of SIGTERM", (int)pid);
        printf("curatefs at %s detached; pid %d keeps serving the running containers that use it "
               "and exits after the last one (--kill ends it now)\n", canonical, (int)pid);
        return 0;
}

static int cmd_stop(const char *mountpoint, bool kill_it) {
        char canonical[PATH_MAX];
        _cleanup_free_ char *error = NULL;

        if (geteuid() != 0)
                return fail("stopping curatefs needs root");
        if (canonicalize(mountpoint, canonical) < 0) {
                printf("curatefs not running at %s\n", mountpoint);
                return 0;
        }
        _cleanup_close_ int lock = take_lock(&error);
        if (lock < 0)
                return fail("%s", error);
        switch (probe(canonical)) {
        case DAEMON_SERVING:
                return stop_serving(canonical, kill_it);
        case DAEMON_STALE:
                if (detach_stale(canonical, &error) < 0)
                        return fail("%s", error);
                printf("curatefs at %s: removed a stale mount (daemon gone)\n", canonical);
                return 0;
        default:
                printf("curatefs not running at %s\n", canonical);
                return 0;
        }
}

/* One JSON object on stdout, for tools that scrape it: the mount point,
 * "state" (serving, stale or stopped), "holder_pid" and the parts
 * (daemon_parts_json). Same exit status as the text form. */
static int status_json(const char *mountpoint, const char *canonical, enum daemon_state state) {
        static const char *const names[] = {
                [DAEMON_NONE] = "stopped", [DAEMON_SERVING] = "serving",
                [DAEMON_STALE] = "stale", [DAEMON_OTHER_DEAD] = "stopped",
        };
        json_object *o = json_object_new_object();
        pid_t pid = state == DAEMON_SERVING ? daemon_pid(canonical) : -1;
        int r;

        if (!o)
                return fail("%s", strerror(ENOMEM));
        json_object_object_add(o, "mountpoint", json_object_new_string(canonical ? canonical : mountpoint));
        json_object_object_add(o, "state", json_object_new_string(names[state]));
        json_object_object_add(o, "serving", json_object_new_boolean(state == DAEMON_SERVING));
        json_object_object_add(o, "holder_pid", pid > 0 ? json_object_new_int64(pid) : NULL);
        if (pid > 0 && (r = daemon_parts_json(pid, o)) < 0 && r != -ESRCH) {
                json_object_put(o);
                return fail("status of pid %d: %s", (int)pid, strerror(-r));
        }
        if (pid > 0) {
                (void)daemon_stats_json(pid, o); /* null figures where unreadable */
                (void)daemon_agent_json(pid, o);
        }
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return state == DAEMON_SERVING ? 0 : STATUS_NOT_RUNNING;
}

static int cmd_status(const char *mountpoint, bool json) {
        char canonical[PATH_MAX];

        if (json)
                return canonicalize(mountpoint, canonical) < 0 ? status_json(mountpoint, NULL, DAEMON_NONE)
                                                               : status_json(mountpoint, canonical, probe(canonical));
        if (canonicalize(mountpoint, canonical) < 0) {
                printf("curatefs not running at %s\n", mountpoint);
                return STATUS_NOT_RUNNING;
        }
        switch (probe(canonical)) {
        case DAEMON_SERVING: {
                pid_t pid = daemon_pid(canonical);
                print_running("running", canonical);
                if (pid > 0) {
                        daemon_parts_print(stdout, pid);
                        daemon_transport_print(stdout, pid);
                }
                return 0;
        }
        case DAEMON_STALE:
                printf("curatefs not running at %s: stale mount (daemon gone; `curate daemon start` replaces it)\n",
                       canonical);
                return STATUS_NOT_RUNNING;
        default:
                printf("curatefs not running at %s\n", canonical);
                return STATUS_NOT_RUNNING;
        }
}

/* Under the lock, CANONICAL served: replace the serving processes. */
static int restart_serving(const char *canonical) {
        pid_t old[DAEMON_PARTS_MAX], fresh[DAEMON_PARTS_MAX];
        size_t n_old = 0, n_fresh = 0;
        _cleanup_free_ char *error = NULL;
        char a[256], b[256], pidfile[PATH_MAX];
        pid_t pid = daemon_pid(canonical);

        if (pid <= 0)
                return fail("curatefs serves %s, but its pid is unknown (no valid pid file %s): cannot restart it",
                            canonical, pidfile_path(canonical, pidfile) == 0 ? pidfile : CURATE_RUN_DIR);
        int r = daemon_replace_serving(pid, RESTART_TIMEOUT_MS, old, &n_old, fresh, &n_fresh, &error);
        if (r < 0)
                return fail("restart of curatefs at %s: %s", canonical, error ? error : strerror(-r));
        /* statfs reaches the serving process (FUSE_STATFS) */
        if (!daemon_serving(canonical))
                return fail("restart of curatefs at %s: new serving process %s runs, but the mount does not answer",
                            canonical, pid_list(fresh, n_fresh, a, sizeof(a)));
        printf("curatefs restarted at %s (pid %d): serving process %s replaces %s\n", canonical, (int)pid,
               pid_list(fresh, n_fresh, a, sizeof(a)), pid_list(old, n_old, b, sizeof(b)));
        return 0;
}

/* As systemctl restart: a daemon that does not run is started. */
static int cmd_restart(const char *mountpoint, struct daemon_start *opts) {
        char canonical[PATH_MAX];
        _cleanup_free_ char *error = NULL;
        bool started = false;

        if (geteuid() != 0)
                return fail("restarting curatefs needs root");
        enum daemon_state state = canonicalize(mountpoint, canonical) < 0 ? DAEMON_NONE : probe(canonical);
        if (state != DAEMON_SERVING) {
                bool stale = state == DAEMON_STALE;
                int r = ensure_canonical(mountpoint, opts, canonical, &started, &error);
                report_switched(opts);
                if (r < 0)
                        return fail("%s", error ? error : strerror(-r));
                if (started) {
                        printf("curatefs was not running at %s%s: started it",
                               canonical, stale ? " (a stale mount of a dead daemon was detached)" : "");
                        pid_t pid = daemon_pid(canonical);
                        if (pid > 0)
                                printf(" (pid %d)", (int)pid);
                        printf("\n");
                        return 0;
                }
                /* another caller started it meanwhile: it is replaced as any */
        }
        _cleanup_close_ int lock = take_lock(&error);
        if (lock < 0)
                return fail("%s", error);
        if (probe(canonical) != DAEMON_SERVING)
                return fail("curatefs at %s stopped while the restart waited for %s", canonical, DAEMON_LOCK);
        note_transport_kept(canonical, opts);
        return restart_serving(canonical);
}

#define ARG_ENABLE_URING 0x100 /* long only */

int daemon_main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "mountpoint", required_argument, NULL, 'm' },
                { "kill", no_argument, NULL, 'k' },
                { "json", no_argument, NULL, 'j' },
                { "transport", required_argument, NULL, 'T' },
                { "enable-uring", no_argument, NULL, ARG_ENABLE_URING },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *mountpoint = CURATEFS_DEFAULT_MOUNTPOINT;
        struct daemon_start opts = { .transport = DAEMON_TRANSPORT_DEFAULT };
        bool kill_it = false, json = false;
        int c;

        optind = 0; /* GNU: start afresh, main.c may have parsed before */
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":m:kjT:h", longopts, NULL)) >= 0) {
                switch (c) {
                case 'm':
                        mountpoint = optarg;
                        break;
                case 'k':
                        kill_it = true;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'T':
                        if (daemon_transport_parse(optarg, &opts.transport) < 0)
                                return fail("--transport: '%s' is not auto, uring or dev\nTry 'curate daemon --help'.",
                                            optarg);
                        break;
                case ARG_ENABLE_URING:
                        opts.enable_uring = true;
                        break;
                case 'h':
                        daemon_help();
                        return 0;
                case ':':
                        return fail("option '%s' needs an argument\nTry 'curate daemon --help'.", argv[optind - 1]);
                default:
                        if (optopt)
                                return fail("unknown option '-%c'\nTry 'curate daemon --help'.", optopt);
                        return fail("unknown option '%s'\nTry 'curate daemon --help'.", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return fail("start, stop, restart or status?\nTry 'curate daemon --help'.");
        if (optind + 1 < argc)
                return fail("unexpected argument '%s'\nTry 'curate daemon --help'.", argv[optind + 1]);
        if (!*mountpoint)
                return fail("--mountpoint: empty path");
        const char *cmd = argv[optind];
        if (kill_it && !streq(cmd, "stop"))
                return fail("--kill goes with stop only");
        if (json && !streq(cmd, "status"))
                return fail("--json goes with status only");
        if (opts.transport != DAEMON_TRANSPORT_DEFAULT || opts.enable_uring) {
                if (!streq(cmd, "start") && !streq(cmd, "restart"))
                        return fail("%s goes with start or restart only",
                                    opts.transport != DAEMON_TRANSPORT_DEFAULT ? "--transport" : "--enable-uring");
                const char *t = daemon_transport_name(opts.transport);
                snprintf(opts.asked, sizeof(opts.asked), "%s%s%s%s", opts.enable_uring ? "--enable-uring" : "",
                         opts.enable_uring && t ? " " : "", t ? "--transport " : "", t ? t : "");
                /* --enable-uring asks for io_uring: implied unless chosen */
                if (opts.enable_uring && opts.transport == DAEMON_TRANSPORT_DEFAULT)
                        opts.transport = DAEMON_TRANSPORT_URING;
        }
        if (streq(cmd, "start"))
                return cmd_start(mountpoint, &opts);
        if (streq(cmd, "stop"))
                return cmd_stop(mountpoint, kill_it);
        if (streq(cmd, "restart"))
                return cmd_restart(mountpoint, &opts);
        if (streq(cmd, "status"))
                return cmd_status(mountpoint, json);
        return fail("unknown command '%s' (start, stop, restart or status)\nTry 'curate daemon --help'.", cmd);
}
