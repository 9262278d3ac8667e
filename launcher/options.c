#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "launcher.h"
#include "macro.h"
#include "run.h"

/* `curate run`'s options onto a run_config: policies first, then every
 * other option over them. Nothing is created here; errors come back as
 * text naming the option. */

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
        OPT_DEVICE,
        OPT_GPU,
        OPT_SHARE,
        OPT_NET,
        OPT_HOSTNAME,
        OPT_READ_ONLY,
        OPT_SECCOMP,
        OPT_ALLOW_USERNS,
        OPT_NO_SYSINFO,
        OPT_DELEGATE,
        OPT_CHDIR,
        OPT_ENV,
        OPT_UNSETENV,
        OPT_CLEARENV,
        OPT_UID,
        OPT_GID,
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
        { "device", required_argument, NULL, OPT_DEVICE },
        { "gpu", required_argument, NULL, OPT_GPU },
        { "share", required_argument, NULL, OPT_SHARE },
        { "net", required_argument, NULL, OPT_NET },
        { "hostname", required_argument, NULL, OPT_HOSTNAME },
        { "read-only", no_argument, NULL, OPT_READ_ONLY },
        { "seccomp", required_argument, NULL, OPT_SECCOMP },
        { "allow-userns", no_argument, NULL, OPT_ALLOW_USERNS },
        { "no-sysinfo", no_argument, NULL, OPT_NO_SYSINFO },
        { "delegate", no_argument, NULL, OPT_DELEGATE },
        { "chdir", required_argument, NULL, OPT_CHDIR },
        { "env", required_argument, NULL, OPT_ENV },
        { "unsetenv", required_argument, NULL, OPT_UNSETENV },
        { "clearenv", no_argument, NULL, OPT_CLEARENV },
        { "uid", required_argument, NULL, OPT_UID },
        { "gid", required_argument, NULL, OPT_GID },
        { "policy", required_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' },
        {},
};
/* '+': stop at the first non-option, so COMMAND's own options are its own */
#define RUN_SHORTOPTS "+m:c:pUP:h"

static int bad_value(char **e, const char *opt, const char *value, const char *what) {
        return error_printf(e, -EINVAL, "%s: '%s' is not %s", opt, value, what);
}

static int need_absolute(char **e, const char *opt, const char *path) {
        if (path[0] == '/')
                return 0;
        return error_printf(e, -EINVAL, "%s: '%s' is not an absolute path", opt, path);
}

/* --bind SRC DST: the second operand is the next argument */
static int take_second(char **e, int argc, char **argv, const char *opt, const char **ret) {
        if (optind >= argc)
                return error_printf(e, -EINVAL, "%s needs two arguments: SRC DST", opt);
        *ret = argv[optind++];
        return 0;
}

static int apply_cap(char **e, struct policy *p, const char *opt, const char *value, bool add) {
        int cap;

        if (strcasecmp(value, "ALL") == 0) {
                p->caps = add ? policy_caps_all() : 0;
                return 0;
        }
        if (policy_parse_capability(value, &cap) < 0)
                return bad_value(e, opt, value, "a capability name (e.g. CAP_NET_RAW)");
        if (add)
                p->caps |= 1ULL << cap;
        else
                p->caps &= ~(1ULL << cap);
        return 0;
}

static int apply_mount_option(char **e, struct policy *p, int c, const char *opt, const char *src, const char *dst) {
        enum policy_mount_kind kind = c == OPT_BIND ? POLICY_BIND : c == OPT_RO_BIND ? POLICY_RO_BIND : POLICY_TMPFS;
        int r;

        if ((src && need_absolute(e, opt, src) < 0) || need_absolute(e, opt, dst) < 0)
                return -EINVAL;
        r = policy_add_mount(p, kind, src, dst);
        if (r < 0)
                error_printf(e, r, "%s %s%s%s: %s", opt, src ? src : "", src ? " " : "", dst, strerror(-r));
        return r;
}

static int apply_path_option(char **e, struct policy *p, int c, const char *opt, const char *path) {
        int r;

        if (need_absolute(e, opt, path) < 0)
                return -EINVAL;
        r = c == OPT_MASK ? policy_add_mask(p, path) : policy_add_read_only(p, path);
        if (r < 0)
                error_printf(e, r, "%s %s: %s", opt, path, strerror(-r));
        return r;
}

/* --device PATH[:rwm] or vendor/class=name: checked for shape here, resolved
 * against the host by run_validate(). */
static int apply_device(char **e, struct policy *p, const char *opt, const char *value) {
        const char *why = policy_device_problem(p, value);
        int r = policy_add_device(p, value);

        if ((r == -EINVAL || r == -EEXIST) && why)
                return error_printf(e, -EINVAL, "%s: '%s' %s", opt, value, why);
        if (r < 0)
                error_printf(e, r, "%s %s: %s", opt, value, strerror(-r));
        return r;
}

/* The command line sets a field a policy may have set: messages about it
 * name the option, not the policy's line. */
static int set_by_option(struct policy *p, enum policy_origin f) {
        return policy_set_origin(p, f, NULL);
}

/* --chdir, --env, --unsetenv, --clearenv, --uid, --gid */
static int apply_process_option(char **e, struct policy *p, int c, const char *opt) {
        char *path;
        int r;

        switch (c) {
        case OPT_CHDIR:
                if (policy_parse_path(optarg, &path) < 0)
                        return bad_value(e, opt, optarg, "an absolute path without '..'");
                free(p->workdir);
                p->workdir = path;
                return set_by_option(p, POLICY_AT_WORKDIR);
        case OPT_ENV:
                r = policy_add_env(p, optarg);
                return r == -EINVAL ? bad_value(e, opt, optarg, "KEY=VALUE (KEY non-empty, without '=')") : r;
        case OPT_UNSETENV:
                r = policy_add_unsetenv(p, optarg);
                return r == -EINVAL ? bad_value(e, opt, optarg, "a variable name (non-empty, without '=')") : r;
        case OPT_CLEARENV:
                p->clear_env = true;
                return 0;
        case OPT_UID:
        case OPT_GID:
                if (policy_parse_id(optarg, c == OPT_UID ? &p->uid : &p->gid) < 0)
                        return bad_value(e, opt, optarg, "a numeric id (0-4294967294; names are not looked up)");
                return 0;
        }
        return -EINVAL;
}

/* One option of the second pass onto cfg; 0 or -EINVAL (already reported). */
static int apply_option(char **e, struct run_config *cfg, int c, const char *opt, int argc, char **argv) {
        struct policy *p = &cfg->policy;
        const char *dst = NULL;
        uint64_t v;
        char *s;
        int r;

        switch (c) {
        case 'm':
                if (policy_parse_size(optarg, &v) < 0)
                        return bad_value(e, opt, optarg, "a size (bytes, or a number with K, M, G or T)");
                if (v < POLICY_MEMORY_MIN)
                        return error_printf(e, -EINVAL, "%s: '%s' is below the minimum memory limit, 6M (a command "
                                            "would be killed before it could run)", opt, optarg);
                p->memory = v;
                return 0;
        case OPT_MEMORY_SWAP:
                if (policy_parse_size(optarg, &v) < 0)
                        return bad_value(e, opt, optarg, "a size (bytes, or a number with K, M, G or T) or max");
                p->memory_swap = v;
                return 0;
        case 'c':
                r = policy_parse_cpus(optarg, &v);
                if (r == -ERANGE)
                        return error_printf(e, -EINVAL, "%s: '%s' is below the minimum, 0.01 (the kernel's smallest "
                                            "CPU quota: 1 ms per 100 ms period)", opt, optarg);
                if (r < 0)
                        return bad_value(e, opt, optarg, "a number of CPUs above 0 (e.g. 0.5, 2)");
                p->cpus_milli = v;
                return set_by_option(p, POLICY_AT_CPUS);
        case OPT_CPUSET:
                if (policy_parse_cpuset(optarg, &s) < 0)
                        return bad_value(e, opt, optarg, "a CPU list (e.g. 0-3,8)");
                free(p->cpuset);
                p->cpuset = s;
                return set_by_option(p, POLICY_AT_CPUSET);
        case OPT_PIDS:
                if (policy_parse_count(optarg, &v) < 0)
                        return bad_value(e, opt, optarg, "a number of tasks or max");
                if (v == 0)
                        return error_printf(e, -EINVAL, "%s: '%s' is below the minimum, 1 (COMMAND itself is a task)",
                                            opt, optarg);
                p->pids = v;
                return 0;
        case OPT_CGROUP:
                if (optarg[0] != '/')
                        return bad_value(e, opt, optarg, "a cgroup path starting with /");
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
                if (need_absolute(e, opt, optarg) < 0)
                        return -EINVAL;
                free(p->rootfs);
                p->rootfs = strdup(optarg);
                return p->rootfs ? set_by_option(p, POLICY_AT_ROOTFS) : -ENOMEM;
        case OPT_PROPAGATION:
                if (streq(optarg, "private"))
                        p->propagation = POLICY_PROPAGATION_PRIVATE;
                else if (streq(optarg, "slave"))
                        p->propagation = POLICY_PROPAGATION_SLAVE;
                else
                        return bad_value(e, opt, optarg, "private or slave");
                return 0;
        case OPT_VIEWS:
                if (policy_parse_views(optarg, &p->views) < 0)
                        return bad_value(e, opt, optarg, "a list of views (meminfo,cpuinfo,stat,uptime,loadavg,swaps,diskstats,cpu-online), all or none");
                return 0;
        case OPT_HOST_DEV:
                p->curated_dev = false;
                return 0;
        case OPT_MOUNTPOINT:
                if (need_absolute(e, opt, optarg) < 0)
                        return -EINVAL;
                cfg->mountpoint = optarg;
                return 0;
        case OPT_BIND:
        case OPT_RO_BIND:
                if (take_second(e, argc, argv, opt, &dst) < 0)
                        return -EINVAL;
                return apply_mount_option(e, p, c, opt, optarg, dst);
        case OPT_TMPFS:
                return apply_mount_option(e, p, c, opt, NULL, optarg);
        case OPT_MASK:
        case OPT_RO:
                return apply_path_option(e, p, c, opt, optarg);
        case OPT_SHARE_TMP:
                p->private_tmp = false;
                return 0;
        case OPT_CAP_ADD:
        case OPT_CAP_DROP:
                return apply_cap(e, p, opt, optarg, c == OPT_CAP_ADD);
        case OPT_DEVICE:
                return apply_device(e, p, opt, optarg);
        case OPT_SHARE:
                if (policy_parse_share(p, optarg) < 0)
                        return bad_value(e, opt, optarg, "a list of namespaces to share with the host (pid, ipc, uts, cgroup) or none");
                return 0;
        case OPT_NET:
                if (policy_parse_net(optarg, &p->net) < 0)
                        return bad_value(e, opt, optarg, "host or none");
                return 0;
        case OPT_HOSTNAME:
                if (!policy_hostname_valid(optarg))
                        return bad_value(e, opt, optarg, "a host name (1-64 letters, digits, '-' and '.')");
                free(p->hostname);
                p->hostname = strdup(optarg);
                return p->hostname ? 0 : -ENOMEM;
        case OPT_READ_ONLY:
                p->read_only_root = true;
                return 0;
        case OPT_SECCOMP:
                if (policy_parse_seccomp(optarg, &p->seccomp) < 0)
                        return bad_value(e, opt, optarg, "default or unconfined");
                return 0;
        case OPT_ALLOW_USERNS:
                p->allow_userns = true;
                return 0;
        case OPT_NO_SYSINFO:
                p->sysinfo = false;
                return 0;
        case OPT_DELEGATE:
                p->delegate = true;
                return 0;
        case OPT_GPU:
                if (optarg[0] == '\0')
                        return bad_value(e, opt, optarg, "a GPU selection (all, none, void, 0,1, GPU-<uuid>, MIG-<uuid>, i:j)");
                free(p->gpu);
                p->gpu = strdup(optarg);
                return p->gpu ? 0 : -ENOMEM;
        case OPT_CHDIR:
        case OPT_ENV:
        case OPT_UNSETENV:
        case OPT_CLEARENV:
        case OPT_UID:
        case OPT_GID:
                return apply_process_option(e, p, c, opt);
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

static int load_policy(char **e, struct policy *p, const char *name) {
        _cleanup_free_ char *path = NULL, *error = NULL;
        int r = policy_find(name, &path);

        if (r < 0)
                return error_printf(e, r, "--policy %s: no such policy (a path, or NAME.conf in $CURATE_POLICY_PATH, "
                                    "/etc/curate/policies or %s)", name, CURATE_POLICY_DIR);
        r = policy_load_file(p, path, &error);
        if (r < 0)
                error_printf(e, r, "policy %s", error ? error : strerror(-r));
        return r;
}

/* getopt leaves the offending word at argv[optind - 1] (a long option, or a
 * cluster of short ones) and the short option letter in optopt. */
static int unknown_option(char **e, int argc, char **argv, int opt) {
        const char *word = optind - 1 < argc ? argv[optind - 1] : "";

        if (opt == 0) /* a long option getopt does not know */
                return error_printf(e, -EINVAL, "unknown option '%s' (try curate run --help)", word);
        if (!strncmp(word, "--", 2) && strchr(word, '=')) /* a flag given a value */
                return error_printf(e, -EINVAL, "option '%.*s' takes no value (try curate run --help)",
                                    (int)(strchr(word, '=') - word), word);
        if (opt >= 0x100 || !strncmp(word, "--", 2)) /* a known long option without its value */
                return error_printf(e, -EINVAL, "option '%s' needs a value (try curate run --help)", word);
        if (strchr(RUN_SHORTOPTS, opt))
                return error_printf(e, -EINVAL, "option '-%c' needs a value (try curate run --help)", opt);
        return error_printf(e, -EINVAL, "unknown option '-%c' (try curate run --help)", opt);
}

/* Two passes: policies first (in the order given), then every other option
 * over them, so the command line wins wherever --policy appears. Returns 0,
 * 1 for --help, or -EINVAL (reported). */
int run_parse_options(int argc, char **argv, struct run_config *cfg, char **ret_error) {
        char **e = ret_error;
        int c, r;

        for (int pass = 0; pass < 2; pass++) {
                optind = 0; /* glibc: 0 re-initializes getopt */
                opterr = 0; /* reported below, with the option named */
                while ((c = getopt_long(argc, argv, RUN_SHORTOPTS, run_longopts, NULL)) >= 0) {
                        if (c == '?')
                                return unknown_option(e, argc, argv, optopt);
                        if (c == 'h')
                                return 1;
                        if (pass == 0) {
                                if (c == 'P' && load_policy(e, &cfg->policy, optarg) < 0)
                                        return -EINVAL;
                                if ((c == OPT_BIND || c == OPT_RO_BIND) && optind < argc)
                                        optind++;
                                continue;
                        }
                        if (c == 'P')
                                continue;
                        r = apply_option(e, cfg, c, option_name(c), argc, argv);
                        if (r < 0)
                                return r;
                }
        }
        if (optind >= argc)
                return error_printf(e, -EINVAL, "no command given (curate run [OPTIONS] [--] COMMAND [ARG...])");
        cfg->argv = argv + optind;
        return 0;
}

