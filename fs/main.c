#include "config.h"
#define FUSE_USE_VERSION 35
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <syslog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <systemd/sd-daemon.h>
#include "curatefs.h"
#include "fuse-uring.h"
#include "holder.h"
#include "seccomp-agent.h"
#include "journal.h"
#include "serve-loop.h"
#include "serve-uring.h"
#include "server.h"
#include "sysinfo-listen.h"

static bool log_to_stderr = true;

static void log_message(const char *msg) {
        if (log_to_stderr)
                fprintf(stderr, "curatefs: %s\n", msg);
        syslog(LOG_WARNING, "%s", msg);
}

static void log_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_printf(const char *fmt, ...) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        log_message(msg);
}

static void help(void) {
        printf("Usage: curatefs [OPTIONS] [MOUNTPOINT]\n"
               "\n"
               "Serve cgroup-aware /proc and /sys views over FUSE (default mount point\n"
               "%s). Each read is answered for the cgroup of the process that reads:\n"
               "\n"
               "  MOUNTPOINT/proc/{meminfo,cpuinfo,stat,uptime,loadavg,swaps,diskstats,vmstat}\n"
               "  MOUNTPOINT/proc/pressure/{cpu,memory,io}   (cgroup v2 pressure; the host's /proc/pressure)\n"
               "  MOUNTPOINT/sys/devices/system/cpu/         (online, possible, present, offline and\n"
               "                                             the host's tree cut to the reader's CPUs)\n"
               "\n"
               "Bind-mount them over the real paths inside a container (the layout is\n"
               "LXCFS's). Readers in the host's root cgroup see the host's files unchanged.\n"
               "\n"
               "MOUNTPOINT/dev is a container's /dev: the host's null, zero, full, random,\n"
               "urandom and tty nodes (those it has), the links fd, stdin, stdout, stderr\n"
               "and ptmx -> pts/ptmx, and empty pts, shm and mqueue to mount on. The mount\n"
               "allows device nodes (dev,nosuid).\n"
               "\n"
               "MOUNTPOINT/devs/ID is container ID's /dev: dev's entries plus the nodes the\n"
               "launcher registered in %s/ID (lines \"PATH c|b MAJOR MINOR MODE\"),\n"
               "shown only to readers in the cgroup curate/ID or in the root cgroup.\n"
               "\n"
               "MOUNTPOINT/c/ID holds container ID's own copies of proc/ and sys/'s views,\n"
               "each reporting its exact size (so sendfile and busybox cat read them) and\n"
               "shown only to readers in the cgroup curate/ID: no page cache of theirs is\n"
               "shared with another container or filled by the host.\n"
               "\n"
               "Options:\n"
               "  -f, --foreground     stay in the foreground (default: detach once mounted)\n"
               "  -p, --pidfile FILE   write the daemon's pid to FILE once it serves;\n"
               "                       removed when it exits cleanly\n"
               "  -t, --threads N      request-serving threads (default 2, at most 64)\n"
               "  -r, --recovery MODE  how a replacement serving process recovers the requests\n"
               "                       a dead one had read: resend (the kernel resends them;\n"
               "                       Linux >= 6.9), journal (replayed from the journal; any\n"
               "                       kernel), auto (default: resend where the kernel offers\n"
               "                       it and has the stable fixes to it, else journal)\n"
               "  -T, --transport auto|uring|dev\n"
               "                       how requests reach curatefs: uring (FUSE over io_uring,\n"
               "                       Linux >= 6.14 with /sys/module/fuse/parameters/enable_uring\n"
               "                       on: a queue per CPU, no read/write per request; refused\n"
               "                       when the kernel does not offer it), dev (/dev/fuse only),\n"
               "                       auto (default: uring where the kernel offers it, else dev).\n"
               "                       /dev/fuse serves as well in every case (before the queues\n"
               "                       are registered, and what the kernel sends only there)\n"
               "  -s, --seccomp-agent PATH\n"
               "                       listen on the unix socket PATH for the seccomp listener\n"
               "                       fds of OCI containers whose seccomp profile names PATH as\n"
               "                       its listenerPath (curate seccomp-profile), and answer\n"
               "                       their sysinfo(2) for their cgroup; \"none\": no socket\n"
               "                       (default: %s for the daemon on\n"
               "                       %s, none for another mount point)\n"
               "  -d, --debug          print every FUSE request (implies --foreground)\n"
               "  -h, --help           show this help and exit\n"
               "  -V, --version        show the version and exit\n"
               "\n"
               "The process whose pid is in the pid file holds the mount and the /dev/fuse\n"
               "connection and serves nothing itself: its children, the serving processes\n"
               "(this binary executed anew), answer the requests. One that dies is replaced\n"
               "at once, losing no request. SIGHUP replaces them with the binary now on disk\n"
               "(curate daemon restart); SIGTERM stops serving and unmounts. Under systemd\n"
               "the connection goes to the unit's fd store and a restarted holder takes it\n"
               "back (curatefs.service).\n"
               "\n"
               "Environment:\n"
               "  CURATE_HOST_ROOT     read host /proc, /sys, /dev and cgroup files beneath this\n"
               "                       directory instead of / (a testing aid)\n"
               "  CURATE_DEVICES_DIR   where containers' device sets are registered\n"
               "                       (default %s; a testing aid)\n"
               "  CURATE_SECCOMP_AGENT the seccomp agent's socket when --seccomp-agent is not\n"
               "                       given, whatever the mount point (a testing aid)\n"
               "  CURATE_SYSINFO_DIR   where sysinfo(2) listeners are registered (default\n"
               "                       %s/sysinfo; a testing aid)\n",
               CURATEFS_DEFAULT_MOUNTPOINT, seccomp_agent_default_path(), CURATEFS_DEFAULT_MOUNTPOINT,
               CURATE_RUN_DIR "/devices", CURATE_RUN_DIR "/devices", CURATE_RUN_DIR);
}

static const char *const recovery_names[] = {
        [RECOVERY_AUTO] = "auto", [RECOVERY_RESEND] = "resend", [RECOVERY_JOURNAL] = "journal",
};

static int recovery_from_name(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(recovery_names); i++)
                if (streq(name, recovery_names[i]))
                        return (int)i;
        return -EINVAL;
}

struct options {
        bool foreground, debug;
        unsigned threads;
        enum recovery recovery;
        enum transport transport;
        const char *mountpoint;
        const char *pidfile;
        const char *seccomp_agent; /* NULL: the default for the mount point */
};

static int parse_options(int argc, char **argv, struct options *ret) {
        static const struct option longopts[] = {
                { "foreground", no_argument, NULL, 'f' },
                { "threads", required_argument, NULL, 't' },
                { "pidfile", required_argument, NULL, 'p' },
                { "debug", no_argument, NULL, 'd' },
                { "recovery", required_argument, NULL, 'r' },
                { "seccomp-agent", required_argument, NULL, 's' },
                { "transport", required_argument, NULL, 'T' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        struct options o = { .threads = 2, .mountpoint = CURATEFS_DEFAULT_MOUNTPOINT };
        int c;

        while ((c = getopt_long(argc, argv, "ft:p:dr:s:T:hV", longopts, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        o.foreground = true;
                        break;
                case 'd':
                        o.debug = o.foreground = true;
                        break;
                case 'p':
                        o.pidfile = optarg;
                        break;
                case 's':
                        if (!*optarg || (!streq(optarg, "none") && optarg[0] != '/')) {
                                fprintf(stderr, "curatefs: --seccomp-agent: '%s' is not an absolute path or none\n",
                                        optarg);
                                return -EINVAL;
                        }
                        o.seccomp_agent = optarg;
                        break;
                case 'r': {
                        int m = recovery_from_name(optarg);
                        if (m < 0) {
                                fprintf(stderr, "curatefs: --recovery: '%s' is not auto, resend or journal\n", optarg);
                                return -EINVAL;
                        }
                        o.recovery = m;
                        break;
                }
                case 'T': {
                        size_t i;
                        for (i = 0; i < ELEMENTSOF(transport_names) && !streq(optarg, transport_names[i]); i++)
                                ;
                        if (i == ELEMENTSOF(transport_names)) {
                                fprintf(stderr, "curatefs: --transport: '%s' is not auto, uring or dev\n", optarg);
                                return -EINVAL;
                        }
                        o.transport = i;
                        break;
                }
                case 't': {
                        char *e;
                        errno = 0;
                        long v = strtol(optarg, &e, 10);
                        if (errno || *e || e == optarg || v < 1 || v > 64) {
                                fprintf(stderr, "curatefs: --threads: '%s' is not a number from 1 to 64\n", optarg);
                                return -EINVAL;
                        }
                        o.threads = v;
                        break;
                }
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("curatefs %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        fprintf(stderr, "Try 'curatefs --help' for more information.\n");
                        return -EINVAL;
                }
        }
        if (optind < argc)
                o.mountpoint = argv[optind++];
        if (optind < argc) {
                fprintf(stderr, "curatefs: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        *ret = o;
        return 1;
}

static int mkdir_p(const char *path) {
        char tmp[PATH_MAX];
        if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;
        for (char *p = tmp + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_octal(char *s) {
        char *w = s;
        for (char *r = s; *r; r++, w++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
                        *w = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 3;
                } else
                        *w = *r;
        }
        *w = 0;
}

/* Is a curatefs already mounted on PATH? (A second one would stack on top.) */
static bool curatefs_mounted_at(const char *path) {
        char real[PATH_MAX], line[8192], mp[PATH_MAX];
        _cleanup_fclose_ FILE *f = NULL;

        if (!realpath(path, real) || !(f = fopen("/proc/self/mountinfo", "re")))
                return false;
        while (fgets(line, sizeof(line), f)) {
                if (!strstr(line, " - fuse.curatefs ") || sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
                        continue;
                unescape_octal(mp);
                if (streq(mp, real))
                        return true;
        }
        return false;
}

static void sigusr1_noop(int sig) {
        /* only interrupts a worker's read() so it sees the session end */
}

/* The pid file lives in a directory opened at startup: the daemon moves to
 * "/" before serving, and a relative FILE must still mean what it meant. */
struct pidfile {
        const char *path;  /* as given, for messages */
        int dir_fd;
        char *name;        /* its name in dir_fd */
        pid_t written;     /* 0: nothing written yet */
};
#define PIDFILE_NULL { .dir_fd = -EBADF }

static int pidfile_prepare(const char *path, struct pidfile *ret) {
        _cleanup_free_ char *dir = strdup(path);
        char *slash;
        int fd;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        const char *base = slash ? slash + 1 : dir;
        if (!*base || streq(base, ".") || streq(base, ".."))
                return -EISDIR;
        char *name = strdup(base);
        if (!name)
                return -ENOMEM;
        if (slash)
                slash[slash == dir ? 1 : 0] = 0;
        fd = open(slash ? dir : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                free(name);
                return -errno;
        }
        *ret = (struct pidfile){ .path = path, .dir_fd = fd, .name = name };
        return 0;
}

/* Write our pid under a temporary name beside it, then rename: a reader sees
 * either no file or the whole pid, never a half-written one. */
static int pidfile_write(struct pidfile *pf) {
        char tmp[NAME_MAX + 1], text[32];
        pid_t pid = getpid();
        int r, len = snprintf(text, sizeof(text), "%d\n", (int)pid);

        if (snprintf(tmp, sizeof(tmp), ".%s.%d.tmp", pf->name, (int)pid) >= (int)sizeof(tmp))
                return -ENAMETOOLONG;
        /* a leftover of an earlier process that had our pid */
        (void)unlinkat(pf->dir_fd, tmp, 0);
        _cleanup_close_ int fd = openat(pf->dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        r = write_all(fd, text, len);
        if (r == 0 && renameat(pf->dir_fd, tmp, pf->dir_fd, pf->name) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlinkat(pf->dir_fd, tmp, 0);
                return r;
        }
        pf->written = pid;
        return 0;
}

/* Remove the file only while it still holds our pid: a daemon started after
 * us with the same FILE owns it now. */
static void pidfile_remove(struct pidfile *pf) {
        char text[32];
        uint64_t pid;

        if (!pf->written)
                return;
        _cleanup_close_ int fd = openat(pf->dir_fd, pf->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || read_fd_into(fd, text, sizeof(text)) < 0 || parse_u64(text, &pid) < 0 ||
            pid != (uint64_t)pf->written)
                return;
        (void)unlinkat(pf->dir_fd, pf->name, 0);
        pf->written = 0;
}

static void pidfile_done(struct pidfile *pf) {
        if (pf->dir_fd >= 0)
                close(TAKE_FD(pf->dir_fd));
        free(TAKE_PTR(pf->name));
}

/* Fork and start a session as fuse_daemonize does, but the parent exits only
 * when the child reports, through the returned pipe, that it is ready (or
 * with 1 once the child exits without saying so): whoever started us then
 * finds the mount served and the pid file written. The parent never returns. */
static int detach(int *ret_ready) {
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(p[0]);
                close(p[1]);
                return r;
        }
        if (pid > 0) {
                unsigned char status = 1;
                ssize_t n;
                close(p[1]);
                while ((n = read(p[0], &status, 1)) < 0 && errno == EINTR)
                        ;
                /* _exit: the child owns the session, the mount and the state */
                _exit(n == 1 ? status : 1);
        }
        close(p[0]);
        if (setsid() < 0) {
                int r = -errno;
                close(p[1]);
                return r;
        }
        *ret_ready = p[1];
        return 0;
}

static int stdio_to_null(void) {
        _cleanup_close_ int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (int i = 0; i <= 2; i++)
                if (dup2(fd, i) < 0)
                        return -errno;
        if (fd <= 2)
                TAKE_FD(fd); /* it is one of 0-2 now */
        return 0;
}

/* Detach unless FOREGROUND, write the pid file (the pid is the final one
 * now), leave the terminal and the working directory. On failure the mount
 * is still up: the caller unmounts, and the parent learns of it by the ready
 * pipe (*ready_fd) closing when we exit. */
static int go_background(bool foreground, struct pidfile *pf, int *ready_fd) {
        int r;

        if (!foreground) {
                r = detach(ready_fd);
                if (r < 0) {
                        fprintf(stderr, "curatefs: cannot detach: %s\n", strerror(-r));
                        return r;
                }
        }
        if (pf->dir_fd >= 0) {
                r = pidfile_write(pf);
                if (r < 0) {
                        fprintf(stderr, "curatefs: cannot write the pid file %s: %s\n", pf->path, strerror(-r));
                        return r;
                }
        }
        if (!foreground) {
                r = stdio_to_null();
                if (r < 0) {
                        fprintf(stderr, "curatefs: cannot put stdio on /dev/null: %s\n", strerror(-r));
                        return r;
                }
        }
        /* hold no directory busy (fuse_daemonize does the same) */
        (void)chdir("/");
        return 0;
}

/* Create the mount point, make it absolute (the daemon leaves for "/" and
 * unmounts by this path at exit) and refuse one that has a curatefs. */
static int prepare_mountpoint(const char *path, char ret[static PATH_MAX]) {
        int r = mkdir_p(path);
        if (r < 0) {
                fprintf(stderr, "curatefs: cannot create mount point %s: %s\n", path, strerror(-r));
                return r;
        }
        if (!realpath(path, ret)) {
                r = -errno;
                fprintf(stderr, "curatefs: cannot resolve mount point %s: %s\n", path, strerror(-r));
                return r;
        }
        if (curatefs_mounted_at(ret)) {
                fprintf(stderr, "curatefs: a curatefs is already mounted on %s (stop it with 'umount %s')\n",
                        path, path);
                return -EBUSY;
        }
        return 0;
}

/* nodev would be the default, and device nodes on a nodev mount cannot be
 * opened (may_open_dev): dev/ needs the mount without it; nosuid and ro are
 * mount flags (holder_mount). */
#define MOUNT_OPTIONS "allow_other,default_permissions"

/* SIGUSR1 only interrupts a worker's read(); SIGTERM, SIGINT and SIGUSR2
 * are taken by serve_run with sigwait, so they are blocked before any
 * thread starts and none takes them by default action; a reader gone
 * before its reply must not kill us with SIGPIPE. */
static void setup_signals(void) {
        struct sigaction sa = { .sa_handler = sigusr1_noop };
        sigset_t term;

        sigaction(SIGUSR1, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        sigaddset(&term, SIGINT);
        sigaddset(&term, SIGUSR2);
        pthread_sigmask(SIG_BLOCK, &term, NULL);
}


/* ---- a serving process: the holder's child ---- */

struct serving_env {
        unsigned generation, region, recover;
        int fuse_fd, journal_fd, ready_fd;
};

static int serving_env(struct serving_env *ret) {
        const char *gen = getenv("CURATEFS_SERVE"), *fds = getenv("CURATEFS_SERVE_FDS");
        struct serving_env e;

        if (!gen || !fds || sscanf(gen, "%u", &e.generation) != 1 ||
            sscanf(fds, "%d,%d,%d,%u,%u", &e.fuse_fd, &e.journal_fd, &e.ready_fd, &e.region, &e.recover) != 5 ||
            e.region >= JOURNAL_REGIONS || e.generation == 0)
                return -EINVAL;
        unsetenv("CURATEFS_SERVE");
        unsetenv("CURATEFS_SERVE_FDS");
        *ret = e;
        return 0;
}

/* Serve the holder's connection; exit status 0 when told to stop (every
 * request read answered), 3 when the mount went away, 1 on failure. */
/* The readers by cgroup `curate daemon status --json` reports (journal.h) */
static size_t nreaders_of(void *userdata) {
        return curate_nrecords(userdata);
}

static int serving_main(const struct options *o, const char *root) {
        struct serving_env e;
        struct curate c;
        const char *mnt = getenv("CURATEFS_SERVE_MNT");
        struct serve s = { .nthreads = o->threads, .recovery = o->recovery, .transport = o->transport,
                           .mnt = mnt ? strdup(mnt) : NULL, .log = log_message };
        char *fargv[] = { "curatefs", o->debug ? "-d" : NULL, NULL };
        struct fuse_args args = FUSE_ARGS_INIT(o->debug ? 2 : 1, fargv);
        struct fuse_session *se;
        struct sysinfo_listener *si = NULL;
        /* a fixture tree (CURATE_HOST_ROOT) is not the host the calls come from */
        bool sysinfo = streq(root, "/");
        int r;

        unsetenv("CURATEFS_SERVE_MNT");
        if (serving_env(&e) < 0) {
                fprintf(stderr, "curatefs: CURATEFS_SERVE is set by the holder for its serving processes only\n");
                return 1;
        }
        log_to_stderr = o->foreground;
        (void)fcntl(e.fuse_fd, F_SETFD, FD_CLOEXEC);
        (void)fcntl(e.journal_fd, F_SETFD, FD_CLOEXEC);
        (void)fcntl(e.ready_fd, F_SETFD, FD_CLOEXEC);
        s.region = e.region;
        s.journal_fd = e.journal_fd;
        s.j = mmap(NULL, JOURNAL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, e.journal_fd, 0);
        if (s.j == MAP_FAILED || s.j->head.magic != JOURNAL_MAGIC) {
                log_printf("cannot map the holder's journal (fd %d): %s", e.journal_fd,
                           s.j == MAP_FAILED ? strerror(errno) : "not a curatefs journal");
                return 1;
        }
        atomic_store(&s.j->region[e.region].pid, getpid());
        r = curate_init(&c, root, log_message);
        if (r < 0) {
                log_printf("cannot read the cgroup layout from %s/proc/self/mountinfo: %s",
                           streq(root, "/") ? "" : root, strerror(-r));
                return 1;
        }
        (void)curate_probe_devices(&c);
        curatefs_set_generation(e.generation);
        s.nreaders = nreaders_of;
        s.userdata = &c;
        c.heap_in_use = &s.j->stats.heap_in_use;
        se = fuse_session_new(&args, &curatefs_ops, sizeof(curatefs_ops), &c);
        fuse_opt_free_args(&args);
        if (!se || serve_attach(&s, se, e.fuse_fd) < 0) {
                log_message("cannot create the FUSE session");
                return 1;
        }
        setup_signals();
        serve_begin(&s);
        if (e.recover)
                (void)serve_replay_orphans(&s, e.recover);
        curatefs_enable_sweep(&c);
        if (curate_start_sampler(&c) < 0)
                log_message("cannot start the load average sampler; loadavg will not advance");
        if (sysinfo && (r = sysinfo_listener_start(&c, &si)) < 0)
                log_printf("cannot listen for the containers' sysinfo(2) calls: %s; their launchers answer them",
                           strerror(-r));
        r = serve_run(&s, e.ready_fd);
        sysinfo_listener_stop(si);
        if (r >= 0)
                /* every request read was answered: nothing to recover */
                atomic_store(&s.j->region[e.region].state, REGION_FREE);
        curatefs_drop_handles();
        fuse_session_destroy(se);
        curate_done(&c);
        return r < 0 ? 1 : r == 1 ? 3 : 0;
}

/* ---- the holder ---- */

struct holding {
        int ready_fd;
        bool notify;
};

static void holder_ready(void *userdata) {
        struct holding *h = userdata;
        if (h->ready_fd >= 0) {
                unsigned char ok = 0;
                (void)write_all(h->ready_fd, (const char *)&ok, 1);
                close(TAKE_FD(h->ready_fd));
        }
        if (h->notify)
                (void)sd_notify(0, "READY=1");
}

/* The seccomp agent's socket: --seccomp-agent, else $CURATE_SECCOMP_AGENT
 * (a testing aid: `curate daemon start` passes its environment on), else
 * the default one for the daemon on the default mount point only (a daemon
 * on a private mount point must not take the host's socket). NULL: none. */
static const char *agent_path(const struct options *o, const char *mnt) {
        const char *env = getenv("CURATE_SECCOMP_AGENT");
        char def[PATH_MAX];

        if (o->seccomp_agent)
                return streq(o->seccomp_agent, "none") ? NULL : o->seccomp_agent;
        if (env && *env)
                return env;
        if (!realpath(CURATEFS_DEFAULT_MOUNTPOINT, def) || !streq(def, mnt))
                return NULL;
        return seccomp_agent_default_path();
}

/* The binary serving processes run: this one's path, resolved now, so a
 * file replaced at that path later is what a restart executes. */
static int own_binary(char ret[static PATH_MAX]) {
        ssize_t n = readlink("/proc/self/exe", ret, PATH_MAX - 1);
        if (n < 0)
                return -errno;
        ret[n] = 0;
        return 0;
}

int main(int argc, char **argv) {
        struct options o;
        struct pidfile pf = PIDFILE_NULL;
        char mnt[PATH_MAX], binary[PATH_MAX], threads[16];
        struct holding hd = { .ready_fd = -EBADF, .notify = getenv("NOTIFY_SOCKET") != NULL };
        const char *root = getenv("CURATE_HOST_ROOT");
        int fuse_fd = -EBADF, journal_fd = -EBADF, r = parse_options(argc, argv, &o);
        struct holder_stored listeners = { 0 };
        bool adopted = false;

        if (r <= 0)
                return r < 0 ? 2 : 0;
        if (!root || !*root)
                root = "/";
        openlog("curatefs", LOG_PID, LOG_DAEMON);
        if (getenv("CURATEFS_SERVE"))
                return serving_main(&o, root);
        if (o.transport == TRANSPORT_URING) {
                bool on = false;
                r = fuse_uring_switch_read(FUSE_URING_SWITCH, &on);
                if (r < 0 || !on) {
                        fprintf(stderr, "curatefs: --transport uring: %s%s\n",
                                r == -ENOENT ? "this kernel has no FUSE over io_uring (Linux >= 6.14 built with "
                                               "CONFIG_FUSE_IO_URING): there is no " FUSE_URING_SWITCH
                                : r < 0 ? "cannot read " FUSE_URING_SWITCH ": "
                                        : "the kernel does not offer FUSE over io_uring: " FUSE_URING_SWITCH
                                          " is N (write Y there, or use curate daemon start --enable-uring)",
                                r < 0 && r != -ENOENT ? strerror(-r) : "");
                        return 1;
                }
        }
        if (own_binary(binary) < 0) {
                fprintf(stderr, "curatefs: cannot find its own binary in /proc/self/exe: %s\n", strerror(errno));
                return 1;
        }
        r = holder_adopt(&fuse_fd, &journal_fd, &listeners);
        adopted = r > 0;
        if (adopted) {
                /* systemd kept the connection: it is still mounted */
                if (!realpath(o.mountpoint, mnt) || !curatefs_mounted_at(mnt)) {
                        fprintf(stderr, "curatefs: systemd handed back a connection but %s has no curatefs\n",
                                o.mountpoint);
                        return 1;
                }
        } else if (prepare_mountpoint(o.mountpoint, mnt) < 0)
                return 1;
        if (o.pidfile) {
                r = pidfile_prepare(o.pidfile, &pf);
                if (r < 0) {
                        fprintf(stderr, "curatefs: cannot use %s as the pid file: %s\n", o.pidfile, strerror(-r));
                        return 1;
                }
        }
        if (!adopted) {
                r = holder_mount(mnt, MOUNT_OPTIONS, &fuse_fd);
                if (r < 0) {
                        fprintf(stderr, "curatefs: cannot mount on %s: %s (is /dev/fuse there and are we root?)\n",
                                mnt, strerror(-r));
                        pidfile_done(&pf);
                        return 1;
                }
                r = holder_journal_create(&journal_fd);
                if (r < 0) {
                        fprintf(stderr, "curatefs: cannot create the journal: %s\n", strerror(-r));
                        goto unmount;
                }
        }
        /* detach only now, so that when the parent exits the mount is ready */
        r = go_background(o.foreground, &pf, &hd.ready_fd);
        if (r >= 0) {
                char *cargv[12] = { "curatefs", "-t", threads, "-r", (char *)recovery_names[o.recovery],
                                    "-T", (char *)transport_names[o.transport] };
                size_t n = 7;
                struct holder_config cfg = { .binary = binary, .argv = cargv, .log = log_message,
                                             .ready = holder_ready, .userdata = &hd,
                                             .seccomp_agent = agent_path(&o, mnt) };
                if (o.foreground)
                        cargv[n++] = "-f";
                if (o.debug)
                        cargv[n++] = "-d";
                /* the mount point, for the io_uring queues' kick
                 * (serve-uring.c): in the environment, so that a serving
                 * process's command line does not end with it as the
                 * holder's does (pgrep -f "curatefs.* MNT$" finds the holder) */
                setenv("CURATEFS_SERVE_MNT", mnt, 1);
                snprintf(threads, sizeof(threads), "%u", o.threads);
                log_to_stderr = o.foreground;
                signal(SIGPIPE, SIG_IGN);
                r = holder_run(&cfg, fuse_fd, journal_fd, adopted, &listeners);
                if (r < 0)
                        log_printf("cannot keep serving processes running on %s: %s", mnt, strerror(-r));
        }
unmount:
        if (umount2(mnt, MNT_DETACH) < 0 && errno != EINVAL)
                fprintf(stderr, "curatefs: cannot unmount %s: %s\n", mnt, strerror(errno));
        if (hd.notify)
                /* stopping on purpose: the fd store must not keep a dead connection */
                (void)(sd_notify(0, "FDSTOREREMOVE=1\nFDNAME=fuse") + sd_notify(0, "FDSTOREREMOVE=1\nFDNAME=journal"));
        if (fuse_fd >= 0)
                close(fuse_fd);
        if (journal_fd >= 0)
                close(journal_fd);
        if (hd.ready_fd >= 0)
                close(hd.ready_fd);
        pidfile_remove(&pf);
        pidfile_done(&pf);
        return r < 0 ? 1 : 0;
}
