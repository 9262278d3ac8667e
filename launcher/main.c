#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "launcher.h"
#include "macro.h"
#include "run.h"

/* The command line: `curate run`, `curate daemon`, --help, --version.
 * Everything is parsed and validated before anything is created, so a bad
 * option or policy leaves the host untouched. */

int error_printf(char **ret_error, int err, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        free(*ret_error);
        *ret_error = s;
        return err;
}

static void help_main(void) {
        printf("Usage: curate run [OPTIONS] [--] COMMAND [ARG...]\n"
               "       curate daemon start|stop|status [--mountpoint DIR]\n"
               "       curate --help | --version\n"
               "\n"
               "Run COMMAND so that its /proc, /sys and /dev are its own: its memory, CPUs,\n"
               "load, uptime and disks as its cgroup sees them (served by curatefs), only\n"
               "harmless device nodes, host internals masked, privileges dropped.\n"
               "\n"
               "Commands:\n"
               "  run      run a command in a new mount namespace with curated views\n"
               "  daemon   start, stop or query the shared curatefs daemon\n"
               "\n"
               "`curate run --help` and `curate daemon --help` describe their options.\n");
}

static void help_run(void) {
        printf("Usage: curate run [OPTIONS] [--] COMMAND [ARG...]\n"
               "\n"
               "Run COMMAND in a new mount namespace whose /proc/{meminfo,cpuinfo,stat,uptime,\n"
               "loadavg,swaps,diskstats} and /sys/devices/system/cpu/online are curatefs views\n"
               "answered for COMMAND's cgroup, whose /dev holds only null, zero, full, random,\n"
               "urandom, tty, a private devpts, shm and mqueue, with host internals masked and\n"
               "the capability bounding set cut to container runtimes' default. If no curatefs\n"
               "serves the mount point, one is started (detached, shared by later runs).\n"
               "\n"
               "Resources: as root, COMMAND runs in a transient cgroup curate/run-PID (under\n"
               "each hierarchy's root) holding these limits; it is removed, and whatever COMMAND\n"
               "left running in it killed, when COMMAND ends:\n"
               "  -m, --memory SIZE        memory limit: bytes, or K, M, G, T (binary) suffixes\n"
               "      --memory-swap SIZE   limit on memory plus swap (>= --memory), or \"max\"\n"
               "  -c, --cpus N             CPU quota in CPUs, fractional allowed (0.5, 1.5)\n"
               "      --cpuset LIST        CPUs COMMAND may run on (\"0\", \"0-3,8\")\n"
               "      --pids N             most tasks COMMAND may have\n"
               "      --cgroup PATH        join the existing cgroup PATH (relative to each\n"
               "                           hierarchy's root) instead; no limits with it\n"
               "\n"
               "Namespaces:\n"
               "  -p, --pid                a new pid namespace with a fresh /proc; curate's init\n"
               "                           is pid 1 there and COMMAND pid 2\n"
               "  -U, --user               a new user namespace mapping the caller's uid and gid\n"
               "                           to themselves (works for a non-root caller where the\n"
               "                           host allows unprivileged user namespaces)\n"
               "      --rootfs DIR         pivot_root into DIR; views and /dev are applied inside\n"
               "                           and the old root is detached\n"
               "      --propagation MODE   private (default: nothing mounted inside reaches the\n"
               "                           host, nor the reverse) or slave (host mounts made\n"
               "                           later appear inside)\n"
               "\n"
               "Views and devices:\n"
               "      --views LIST         views to bind (comma list, \"all\" or \"none\"; default\n"
               "                           all): meminfo cpuinfo stat uptime loadavg swaps\n"
               "                           diskstats cpu-online\n"
               "      --host-dev           keep the host's /dev instead of the curated one\n"
               "      --mountpoint DIR     the curatefs mount point (default %s)\n"
               "\n"
               "Filesystem:\n"
               "      --bind SRC DST       bind-mount host path SRC at DST (DST must exist)\n"
               "      --ro-bind SRC DST    the same, read-only\n"
               "      --tmpfs DST          a private tmpfs at DST\n"
               "      --mask PATH          hide PATH: /dev/null over a file, an empty read-only\n"
               "                           tmpfs over a directory\n"
               "      --ro PATH            make PATH (and what is mounted below it) read-only\n"
               "      --share-tmp          keep the host's /tmp (default: a private tmpfs)\n"
               "\n"
               "Security:\n"
               "      --cap-add CAP        keep CAP in the bounding set (CAP_NET_RAW or net_raw;\n"
               "                           ALL keeps every capability)\n"
               "      --cap-drop CAP       drop CAP from it; ALL drops every capability\n"
               "                           (no_new_privs is always set and every fd but 0, 1\n"
               "                           and 2 is closed)\n"
               "\n"
               "Policy:\n"
               "  -P, --policy NAME|FILE   load a policy (systemd-style INI): a path, or NAME.conf\n"
               "                           from $CURATE_POLICY_PATH, /etc/curate/policies or\n"
               "                           %s; options given on the command line\n"
               "                           override it, whatever their order\n"
               "  -h, --help               show this help and exit\n"
               "\n"
               "Exit status: COMMAND's; 128+N when signal N killed it; 125 when curate itself\n"
               "failed; 126 when COMMAND cannot be executed; 127 when it was not found.\n"
               "Signals sent to curate (SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,\n"
               "SIGWINCH) are passed on to COMMAND; a terminal's Ctrl-C reaches it once.\n"
               "\n"
               "Environment:\n"
               "  CURATEFS                 the curatefs binary to start (default: next to curate)\n"
               "  CURATE_POLICY_PATH       colon-separated directories searched for NAME.conf\n",
               CURATEFS_DEFAULT_MOUNTPOINT, CURATE_POLICY_DIR);
}

enum {
        OPT_MEMORY_SWAP = 0x100,
        OPT_CPUSET,
        OPT_PIDS,
        OPT_CGROUP,
        OPT_ROOTFS,
        OPT_PROPAGATION,
        OPT_VIEWS,
        OPT_HOST_DEV,
        OPT_MOUNTPOINT,
        OPT_BIND,
        OPT_RO_BIND,
        OPT_TMPFS,
        OPT_MASK,
        OPT_RO,
        OPT_SHARE_TMP,
        OPT_CAP_ADD,
        OPT_CAP_DROP,
};

static const struct option run_longopts[] = {
        { "memory", required_argument, NULL, 'm' },
        { "memory-swap", required_argument, NULL, OPT_MEMORY_SWAP },
        { "cpus", required_argument, NULL, 'c' },
        { "cpuset", required_argument, NULL, OPT_CPUSET },
        { "pids", required_argument, NULL, OPT_PIDS },
        { "cgroup", required_argument, NULL, OPT_CGROUP },
        { "pid", no_argument, NULL, 'p' },
        { "user", no_argument, NULL, 'U' },
        { "rootfs", required_argument, NULL, OPT_ROOTFS },
        { "propagation", required_argument, NULL, OPT_PROPAGATION },
        { "views", required_argument, NULL, OPT_VIEWS },
        { "host-dev", no_argument, NULL, OPT_HOST_DEV },
        { "mountpoint", required_argument, NULL, OPT_MOUNTPOINT },
        { "bind", required_argument, NULL, OPT_BIND },
        { "ro-bind", required_argument, NULL, OPT_RO_BIND },
        { "tmpfs", required_argument, NULL, OPT_TMPFS },
        { "mask", required_argument, NULL, OPT_MASK },
        { "ro", required_argument, NULL, OPT_RO },
        { "share-tmp", no_argument, NULL, OPT_SHARE_TMP },
        { "cap-add", required_argument, NULL, OPT_CAP_ADD },
        { "cap-drop", required_argument, NULL, OPT_CAP_DROP },
        { "policy", required_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        {},
};
/* '+': stop at the first non-option, so COMMAND's own options are its own */
#define RUN_SHORTOPTS "+m:c:pUP:h"

static int bad_value(const char *opt, const char *value, const char *what) {
        fprintf(stderr, "curate: %s: '%s' is not %s\n", opt, value, what);
        return -EINVAL;
}

static int need_absolute(const char *opt, const char *path) {
        if (path[0] == '/')
                return 0;
        fprintf(stderr, "curate: %s: '%s' is not an absolute path\n", opt, path);
        return -EINVAL;
}

/* --bind SRC DST: the second operand is the next argument */
static int take_second(int argc, char **argv, const char *opt, const char **ret) {
        if (optind >= argc) {
                fprintf(stderr, "curate: %s needs two arguments: SRC DST\n", opt);
                return -EINVAL;
        }
        *ret = argv[optind++];
        return 0;
}

static int apply_cap(struct policy *p, const char *opt, const char *value, bool add) {
        int cap;

        if (strcasecmp(value, "ALL") == 0) {
                p->caps = add ? policy_caps_all() : 0;
                return 0;
        }
        if (policy_parse_capability(value, &cap) < 0)
                return bad_value(opt, value, "a capability name (e.g. CAP_NET_RAW)");
        if (add)
                p->caps |= 1ULL << cap;
        else
                p->caps &= ~(1ULL << cap);
        return 0;
}

static int apply_mount_option(struct policy *p, int c, const char *opt, const char *src, const char *dst) {
        enum policy_mount_kind kind = c == OPT_BIND ? POLICY_BIND : c == OPT_RO_BIND ? POLICY_RO_BIND : POLICY_TMPFS;
        int r;

        if ((src && need_absolute(opt, src) < 0) || need_absolute(opt, dst) < 0)
                return -EINVAL;
        r = policy_add_mount(p, kind, src, dst);
        if (r < 0)
                fprintf(stderr, "curate: %s %s%s%s: %s\n", opt, src ? src : "", src ? " " : "", dst, strerror(-r));
        return r;
}

static int apply_path_option(struct policy *p, int c, const char *opt, const char *path) {
        int r;

        if (need_absolute(opt, path) < 0)
                return -EINVAL;
        r = c == OPT_MASK ? policy_add_mask(p, path) : policy_add_read_only(p, path);
        if (r < 0)
                fprintf(stderr, "curate: %s %s: %s\n", opt, path, strerror(-r));
        return r;
}

/* One option of the second pass onto cfg; 0 or -EINVAL (already reported). */
static int apply_option(struct run_config *cfg, int c, const char *opt, int argc, char **argv) {
        struct policy *p = &cfg->policy;
        const char *dst;
        uint64_t v;
        char *s;

        switch (c) {
        case 'm':
                if (policy_parse_size(optarg, &v) < 0)
                        return bad_value(opt, optarg, "a size (bytes, or a number with K, M, G or T)");
                p->memory = v;
                return 0;
        case OPT_MEMORY_SWAP:
                if (policy_parse_size(optarg, &v) < 0)
                        return bad_value(opt, optarg, "a size (bytes, or a number with K, M, G or T) or max");
                p->memory_swap = v;
                return 0;
        case 'c':
                if (policy_parse_cpus(optarg, &v) < 0)
                        return bad_value(opt, optarg, "a number of CPUs above 0 (e.g. 0.5, 2)");
                p->cpus_milli = v;
                return 0;
        case OPT_CPUSET:
                if (policy_parse_cpuset(optarg, &s) < 0)
                        return bad_value(opt, optarg, "a CPU list (e.g. 0-3,8)");
                free(p->cpuset);
                p->cpuset = s;
                return 0;
        case OPT_PIDS:
                if (policy_parse_count(optarg, &v) < 0)
                        return bad_value(opt, optarg, "a number of tasks or max");
                p->pids = v;
                return 0;
        case OPT_CGROUP:
                if (optarg[0] != '/')
                        return bad_value(opt, optarg, "a cgroup path starting with /");
                free(p->cgroup);
                p->cgroup = strdup(optarg);
                return p->cgroup ? 0 : -ENOMEM;
        case 'p':
                p->pid_ns = true;
                return 0;
        case 'U':
                p->user_ns = true;
                return 0;
        case OPT_ROOTFS:
                if (need_absolute(opt, optarg) < 0)
                        return -EINVAL;
                free(p->rootfs);
                p->rootfs = strdup(optarg);
                return p->rootfs ? 0 : -ENOMEM;
        case OPT_PROPAGATION:
                if (streq(optarg, "private"))
                        p->propagation = POLICY_PROPAGATION_PRIVATE;
                else if (streq(optarg, "slave"))
                        p->propagation = POLICY_PROPAGATION_SLAVE;
                else
                        return bad_value(opt, optarg, "private or slave");
                return 0;
        case OPT_VIEWS:
                if (policy_parse_views(optarg, &p->views) < 0)
                        return bad_value(opt, optarg, "a list of views (meminfo,cpuinfo,stat,uptime,loadavg,swaps,diskstats,cpu-online), all or none");
                return 0;
        case OPT_HOST_DEV:
                p->curated_dev = false;
                return 0;
        case OPT_MOUNTPOINT:
                if (need_absolute(opt, optarg) < 0)
                        return -EINVAL;
                cfg->mountpoint = optarg;
                return 0;
        case OPT_BIND:
        case OPT_RO_BIND:
                if (take_second(argc, argv, opt, &dst) < 0)
                        return -EINVAL;
                return apply_mount_option(p, c, opt, optarg, dst);
        case OPT_TMPFS:
                return apply_mount_option(p, c, opt, NULL, optarg);
        case OPT_MASK:
        case OPT_RO:
                return apply_path_option(p, c, opt, optarg);
        case OPT_SHARE_TMP:
                p->private_tmp = false;
                return 0;
        case OPT_CAP_ADD:
        case OPT_CAP_DROP:
                return apply_cap(p, opt, optarg, c == OPT_CAP_ADD);
        }
        return -EINVAL;
}

static const char *option_name(int c) {
        static char shortname[3];
        for (const struct option *o = run_longopts; o->name; o++)
                if (o->val == c) {
                        static char buf[64];
                        snprintf(buf, sizeof(buf), "--%s", o->name);
                        return buf;
                }
        snprintf(shortname, sizeof(shortname), "-%c", c);
        return shortname;
}

static int load_policy(struct policy *p, const char *name) {
        _cleanup_free_ char *path = NULL, *error = NULL;
        int r = policy_find(name, &path);

        if (r < 0) {
                fprintf(stderr, "curate: --policy %s: no such policy (a path, or NAME.conf in $CURATE_POLICY_PATH, "
                        "/etc/curate/policies or %s)\n", name, CURATE_POLICY_DIR);
                return r;
        }
        r = policy_load_file(p, path, &error);
        if (r < 0)
                fprintf(stderr, "curate: policy %s\n", error ? error : strerror(-r));
        return r;
}

/* Two passes: policies first (in the order given), then every other option
 * over them, so the command line wins wherever --policy appears. Returns 0,
 * 1 for --help, or -EINVAL (reported). */
static int parse_run(int argc, char **argv, struct run_config *cfg) {
        int c, r;

        for (int pass = 0; pass < 2; pass++) {
                optind = 0; /* glibc: 0 re-initializes getopt */
                opterr = pass == 0;
                while ((c = getopt_long(argc, argv, RUN_SHORTOPTS, run_longopts, NULL)) >= 0) {
                        if (c == '?')
                                return -EINVAL;
                        if (c == 'h')
                                return 1;
                        if (pass == 0) {
                                if (c == 'P' && load_policy(&cfg->policy, optarg) < 0)
                                        return -EINVAL;
                                if ((c == OPT_BIND || c == OPT_RO_BIND) && optind < argc)
                                        optind++;
                                continue;
                        }
                        if (c == 'P')
                                continue;
                        r = apply_option(cfg, c, option_name(c), argc, argv);
                        if (r < 0)
                                return r;
                }
        }
        if (optind >= argc) {
                fprintf(stderr, "curate run: no command given (curate run [OPTIONS] [--] COMMAND [ARG...])\n");
                return -EINVAL;
        }
        cfg->argv = argv + optind;
        return 0;
}

static int cmd_run(int argc, char **argv) {
        struct run_config cfg = { .mountpoint = CURATEFS_DEFAULT_MOUNTPOINT };
        _cleanup_free_ char *error = NULL;
        int r;

        r = policy_init_default(&cfg.policy);
        if (r < 0) {
                fprintf(stderr, "curate: %s\n", strerror(-r));
                return EXIT_CURATE;
        }
        argv[0] = (char *)"curate run"; /* getopt's messages name it */
        r = parse_run(argc, argv, &cfg);
        if (r == 1) {
                help_run();
                policy_done(&cfg.policy);
                return 0;
        }
        if (r >= 0)
                r = run_validate(&cfg, &error);
        if (r < 0) {
                if (error)
                        fprintf(stderr, "curate: %s\n", error);
                policy_done(&cfg.policy);
                return EXIT_CURATE;
        }
        r = run_main(&cfg);
        policy_done(&cfg.policy);
        return r;
}

int main(int argc, char **argv) {
        if (argc < 2) {
                help_main();
                return EXIT_CURATE;
        }
        if (streq(argv[1], "-h") || streq(argv[1], "--help") || streq(argv[1], "help")) {
                help_main();
                return 0;
        }
        if (streq(argv[1], "-V") || streq(argv[1], "--version")) {
                printf("curate %s\n", PACKAGE_VERSION);
                return 0;
        }
        if (streq(argv[1], "run"))
                return cmd_run(argc - 1, argv + 1);
        if (streq(argv[1], "daemon"))
                return daemon_main(argc - 1, argv + 1);
        fprintf(stderr, "curate: unknown command '%s' (try curate --help)\n", argv[1]);
        return EXIT_CURATE;
}
