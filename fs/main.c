#include "config.h"
#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <syslog.h>
#include "curatefs.h"
#include "server.h"

static bool log_to_stderr = true;

static void log_message(const char *msg) {
        if (log_to_stderr)
                fprintf(stderr, "curatefs: %s\n", msg);
        syslog(LOG_WARNING, "%s", msg);
}

static void help(void) {
        printf("Usage: curatefs [OPTIONS] [MOUNTPOINT]\n"
               "\n"
               "Serve cgroup-aware /proc and /sys views over FUSE (default mount point\n"
               "%s). Each read is answered for the cgroup of the process that reads:\n"
               "\n"
               "  MOUNTPOINT/proc/{meminfo,cpuinfo,stat,uptime,loadavg,swaps,diskstats}\n"
               "  MOUNTPOINT/sys/devices/system/cpu/online\n"
               "\n"
               "Bind-mount them over the real paths inside a container (the layout is\n"
               "LXCFS's). Readers in the host's root cgroup see the host's files unchanged.\n"
               "\n"
               "Options:\n"
               "  -f, --foreground     stay in the foreground (default: detach once mounted)\n"
               "  -t, --threads N      request-serving threads (default 2, at most 64)\n"
               "  -d, --debug          print every FUSE request (implies --foreground)\n"
               "  -h, --help           show this help and exit\n"
               "  -V, --version        show the version and exit\n"
               "\n"
               "Environment:\n"
               "  CURATE_HOST_ROOT     read host /proc, /sys and cgroup files beneath this\n"
               "                       directory instead of / (a testing aid)\n",
               CURATEFS_DEFAULT_MOUNTPOINT);
}

struct options {
        bool foreground, debug;
        unsigned threads;
        const char *mountpoint;
};

static int parse_options(int argc, char **argv, struct options *ret) {
        static const struct option longopts[] = {
                { "foreground", no_argument, NULL, 'f' },
                { "threads", required_argument, NULL, 't' },
                { "debug", no_argument, NULL, 'd' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        struct options o = { .threads = 2, .mountpoint = CURATEFS_DEFAULT_MOUNTPOINT };
        int c;

        while ((c = getopt_long(argc, argv, "ft:dhV", longopts, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        o.foreground = true;
                        break;
                case 'd':
                        o.debug = o.foreground = true;
                        break;
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

int main(int argc, char **argv) {
        struct options o;
        struct curate c;
        const char *root = getenv("CURATE_HOST_ROOT");
        int r = parse_options(argc, argv, &o);

        if (r <= 0)
                return r < 0 ? 2 : 0;
        if (!root || !*root)
                root = "/";
        openlog("curatefs", LOG_PID, LOG_DAEMON);
        r = mkdir_p(o.mountpoint);
        if (r < 0) {
                fprintf(stderr, "curatefs: cannot create mount point %s: %s\n", o.mountpoint, strerror(-r));
                return 1;
        }
        if (curatefs_mounted_at(o.mountpoint)) {
                fprintf(stderr, "curatefs: a curatefs is already mounted on %s (stop it with 'umount %s')\n",
                        o.mountpoint, o.mountpoint);
                return 1;
        }
        r = curate_init(&c, root, log_message);
        if (r < 0) {
                fprintf(stderr, "curatefs: cannot read the cgroup layout from %s/proc/self/mountinfo: %s\n",
                        streq(root, "/") ? "" : root, strerror(-r));
                return 1;
        }
        char *fargv[] = { argv[0], "-o", "allow_other,ro,default_permissions,fsname=curatefs,subtype=curatefs",
                          o.debug ? "-d" : NULL, NULL };
        struct fuse_args args = FUSE_ARGS_INIT(o.debug ? 4 : 3, fargv);
        struct fuse_session *se = fuse_session_new(&args, &curatefs_ops, sizeof(curatefs_ops), &c);
        /* libfuse copies what it keeps; the parsed argument vector is ours */
        fuse_opt_free_args(&args);
        if (!se) {
                fprintf(stderr, "curatefs: cannot create the FUSE session\n");
                curate_done(&c);
                return 1;
        }
        if (fuse_session_mount(se, o.mountpoint) < 0) {
                fprintf(stderr, "curatefs: cannot mount on %s (is /dev/fuse there and are we root?)\n", o.mountpoint);
                fuse_session_destroy(se);
                curate_done(&c);
                return 1;
        }
        /* detach only now, so that when the parent exits the mount is ready */
        if (fuse_daemonize(o.foreground) < 0) {
                fuse_session_unmount(se);
                fuse_session_destroy(se);
                curate_done(&c);
                return 1;
        }
        log_to_stderr = o.foreground;
        /* SIGUSR1 only interrupts a worker's read(); SIGTERM, SIGINT and
         * SIGHUP are taken by curatefs_serve with sigwait; a reader gone
         * before its reply must not kill us with SIGPIPE */
        struct sigaction sa = { .sa_handler = sigusr1_noop };
        sigaction(SIGUSR1, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);
        /* before any thread starts, so that none takes them by default action */
        sigset_t term;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        sigaddset(&term, SIGINT);
        sigaddset(&term, SIGHUP);
        sigaddset(&term, SIGUSR2);
        pthread_sigmask(SIG_BLOCK, &term, NULL);
        r = curate_start_sampler(&c);
        if (r < 0)
                log_message("cannot start the load average sampler; loadavg will not advance");
        r = curatefs_serve(se, o.threads);
        fuse_session_unmount(se);
        fuse_session_destroy(se);
        curate_done(&c);
        return r < 0 ? 1 : 0;
}
