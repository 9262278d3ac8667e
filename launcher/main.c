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

int curate_report(int status, const char *prefix, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "curate: %s", prefix);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return status;
}

static void help_main(void) {
        printf("Usage: curate run [OPTIONS] [--] COMMAND [ARG...]\n"
               "       curate daemon start|stop|restart|status [--mountpoint DIR] [--kill] [--json]\n"
               "       curate daemon start|restart [--transport auto|uring|dev] [--enable-uring]\n"
               "       curate devices list [--json]\n"
               "       curate device add|remove CONTAINER [--gpu SPEC] [DEVICE...]\n"
               "       curate cdi generate [--output FILE] [--mountpoint DIR] [--gpus]\n"
               "       curate oci-hook [--mountpoint DIR] [--views LIST] < STATE\n"
               "       curate ps [--json]\n"
               "       curate seccomp-profile [--base FILE] [--output FILE] [--socket PATH]\n"
               "       curate --help | --version\n"
               "\n"
               "Run COMMAND so that its /proc, /sys and /dev are its own: its memory, CPUs,\n"
               "load, uptime and disks as its cgroup sees them (served by curatefs), only\n"
               "harmless device nodes, host internals masked, privileges dropped.\n"
               "\n"
               "Commands:\n"
               "  run      run a command in a new mount namespace with curated views\n"
               "  daemon   start, stop, restart or query the shared curatefs daemon\n"
               "  devices  list the GPUs this host can pass through\n"
               "  device   add devices to or remove them from a running container\n"
               "  cdi      write CDI specs of the views and GPUs for podman, CRI-O, containerd\n"
               "  oci-hook an OCI createContainer hook binding the views (runc, podman)\n"
               "  ps       list the running containers: pids, cgroups, limits, devices\n"
               "  seccomp-profile  a seccomp profile sending sysinfo(2) to curatefs (podman, runc)\n"
               "\n"
               "`curate run --help`, `curate daemon --help`, `curate devices --help` and\n"
               "`curate device --help` describe their options (`curate cdi --help` too).\n");
}

static void help_run(void) {
        printf("Usage: curate run [OPTIONS] [--] COMMAND [ARG...]\n"
               "\n"
               "Run COMMAND in new mount, pid, IPC, UTS and cgroup namespaces whose\n"
               "/proc/{meminfo,cpuinfo,stat,uptime,loadavg,swaps,diskstats,vmstat,pressure}\n"
               "and /sys/devices/system/cpu are curatefs views answered for COMMAND's\n"
               "cgroup, whose /dev holds only null, zero, full, random, urandom, tty, a\n"
               "private devpts, shm and mqueue, with host internals masked, /sys read-only,\n"
               "a default seccomp filter and the capability bounding set cut to container\n"
               "runtimes' default. The host's root stays writable (see --read-only). If no\n"
               "curatefs serves the mount point, one is started (detached, shared by later\n"
               "runs).\n"
               "\n"
               "Resources: as root, COMMAND runs in a transient cgroup curate/run-PID (under\n"
               "each hierarchy's root) holding these limits; it is removed, and whatever COMMAND\n"
               "left running in it killed, when COMMAND ends:\n"
               "  -m, --memory SIZE        memory limit: bytes, or K, M, G, T (binary) suffixes;\n"
               "                           at least 6M. A command the OOM killer ends is\n"
               "                           reported (\"killed by the OOM killer\"), status 137\n"
               "      --memory-swap SIZE   limit on memory plus swap (>= --memory), or \"max\"\n"
               "  -c, --cpus N             CPU quota in CPUs, fractional allowed (0.5, 1.5): from\n"
               "                           0.01 to the number of CPUs curate may run on\n"
               "      --cpuset LIST        CPUs COMMAND may run on (\"0\", \"0-3,8\"), among\n"
               "                           those curate may run on\n"
               "      --pids N             most tasks COMMAND may have (at least 1)\n"
               "      --cgroup PATH        join the existing cgroup PATH (relative to each\n"
               "                           hierarchy's root) instead; no limits with it\n"
               "\n"
               "Namespaces (pid, IPC, UTS and cgroup are new by default; the network is the\n"
               "host's):\n"
               "      --share LIST         share these namespaces with the host (comma list of\n"
               "                           pid, ipc, uts, cgroup; \"none\" shares none), giving\n"
               "                           up what each hides: pid: host processes become\n"
               "                           visible and signalable (curatefs's too), /proc is\n"
               "                           the host's; ipc: the host's SysV IPC and POSIX\n"
               "                           queues; uts: a --hostname is refused; cgroup:\n"
               "                           /proc/self/cgroup shows host cgroup paths\n"
               "  -p, --pid                a new pid namespace (the default; undoes a policy's\n"
               "                           or an earlier --share pid): curate's init is pid 1\n"
               "                           and COMMAND pid 2, /proc is fresh\n"
               "      --hostname NAME      the host name inside (default: the host's, copied)\n"
               "      --net MODE           host (default) or none: an empty network namespace\n"
               "                           with only lo, up\n"
               "  -U, --user               a new user namespace mapping the caller's uid and gid\n"
               "                           to themselves (works for a non-root caller where the\n"
               "                           host allows unprivileged user namespaces)\n"
               "      --rootfs DIR         pivot_root into DIR (it needs /proc and /dev); views\n"
               "                           and /dev are applied inside\n"
               "                           and the old root is detached (not with --share pid:\n"
               "                           /proc/PID/root of host processes leads out)\n"
               "      --propagation MODE   private (default: nothing mounted inside reaches the\n"
               "                           host, nor the reverse) or slave (host mounts made\n"
               "                           later appear inside)\n"
               "\n"
               "Views and devices:\n"
               "      --views LIST         views to bind (comma list, \"all\" or \"none\"; default\n"
               "                           all): meminfo cpuinfo stat uptime loadavg swaps\n"
               "                           diskstats cpu-online (only cpu/online) cpu-tree\n"
               "                           (all of /sys/devices/system/cpu) vmstat pressure\n"
               "                           (/proc/pressure; masked where cgroups have no PSI)\n"
               "      --host-dev           keep the host's /dev instead of the curated one\n"
               "      --device PATH[:rwm]  add host device node PATH (under /dev) to /dev and\n"
               "                           the device cgroup (root, transient cgroup only);\n"
               "                           access: a non-empty subset of rwm (default rwm),\n"
               "                           one per node (the same node twice with another\n"
               "                           access is refused)\n"
               "      --device VENDOR/CLASS=NAME  a CDI device (/etc/cdi, /var/run/cdi): its\n"
               "                           nodes, env, mounts and groups (hooks are not run)\n"
               "      --gpu SPEC           NVIDIA GPUs, as NVIDIA_VISIBLE_DEVICES: all, none,\n"
               "                           void, 0,1, GPU-<uuid>, MIG-<uuid>, i:j; or AMD GPUs:\n"
               "                           amd:all, amd:0,1 (/dev/kfd and their DRI nodes).\n"
               "                           /proc/driver/nvidia shows only the given GPUs.\n"
               "                           The command sees its id as $CURATE_CONTAINER, for\n"
               "                           `curate device add|remove` while it runs\n"
               "      --mountpoint DIR     the curatefs mount point (default %s)\n"
               "\n"
               "Filesystem:\n"
               "      --bind SRC DST       bind-mount host path SRC (even under /tmp) at DST\n"
               "                           (DST must exist in the container)\n"
               "      --ro-bind SRC DST    the same, read-only\n"
               "      --tmpfs DST          a private tmpfs at DST\n"
               "      --mask PATH          hide PATH: /dev/null over a file, an empty read-only\n"
               "                           tmpfs over a directory\n"
               "      --ro PATH            make PATH (and what is mounted below it) read-only\n"
               "      --share-tmp          keep the host's /tmp (default: a private tmpfs)\n"
               "      --read-only          the root (the host's, or --rootfs) read-only, with\n"
               "                           what is mounted below it; /tmp stays a private\n"
               "                           tmpfs; write only through --bind and --tmpfs\n"
               "\n"
               "Security:\n"
               "      --cap-add CAP        keep CAP in the bounding set (CAP_NET_RAW or net_raw;\n"
               "                           ALL keeps every capability)\n"
               "      --cap-drop CAP       drop CAP from it; ALL drops every capability\n"
               "                           (no_new_privs is always set and every fd but 0, 1\n"
               "                           and 2 is closed)\n"
               "      --seccomp MODE       default (keyctl, bpf, perf_event_open, userfaultfd,\n"
               "                           kexec, modules, open_by_handle_at, swapon, clock\n"
               "                           setting, io_uring, new user namespaces... fail with\n"
               "                           EPERM) or unconfined (no filter)\n"
               "      --allow-userns       let COMMAND create user namespaces (the default\n"
               "                           filter refuses unshare/clone with CLONE_NEWUSER)\n"
               "      --no-sysinfo         sysinfo(2) shows the host (free/uptime of busybox,\n"
               "                           getloadavg, SC_PHYS_PAGES); by default the default\n"
               "                           filter has curatefs answer it with the container's\n"
               "                           memory, swap, uptime, load and task count (seccomp\n"
               "                           user notification, Linux >= 5.0)\n"
               "      --delegate           COMMAND's cgroup writable inside (systemd's Delegate=):\n"
               "                           it runs in a child of the transient cgroup and may make\n"
               "                           and limit cgroups below it, never above the limits\n"
               "                           given here, which stay on the transient cgroup\n"
               "\n"
               "/sys is read-only (a fresh sysfs) and /sys/fs/cgroup shows only COMMAND's own\n"
               "cgroup, read-only; curate's state (/run/curate, the curatefs mount point) is\n"
               "masked and its policy and CDI directories are read-only in every container.\n"
               "\n"
               "Process (run after the setup above):\n"
               "      --chdir DIR          COMMAND's working directory (default: the caller's,\n"
               "                           which must exist in the container; / with --rootfs)\n"
               "      --env KEY=VALUE      set a variable for COMMAND (repeatable)\n"
               "      --unsetenv KEY       remove a variable (applied in order with --env)\n"
               "      --clearenv           start from an empty environment (before --env)\n"
               "      --uid UID            run COMMAND (and the container's init) as numeric\n"
               "                           UID, supplementary groups cleared and no\n"
               "                           capabilities left; names are not looked up\n"
               "      --gid GID            its group (default: the number given to --uid)\n"
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

static int cmd_run(int argc, char **argv) {
        struct run_config cfg = { .mountpoint = CURATEFS_DEFAULT_MOUNTPOINT };
        _cleanup_free_ char *error = NULL;
        int r;

        r = policy_init_default(&cfg.policy);
        if (r < 0) {
                fprintf(stderr, "curate: %s\n", strerror(-r));
                return EXIT_CURATE;
        }
        r = run_parse_options(argc, argv, &cfg, &error);
        if (r == 1) {
                help_run();
                run_config_done(&cfg);
                policy_done(&cfg.policy);
                return 0;
        }
        if (r >= 0)
                r = run_validate(&cfg, &error);
        if (r < 0) {
                if (error)
                        fprintf(stderr, "curate: %s\n", error);
                run_config_done(&cfg);
                policy_done(&cfg.policy);
                return EXIT_CURATE;
        }
        r = run_main(&cfg);
        run_config_done(&cfg);
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
        if (streq(argv[1], "devices"))
                return devices_main(argc - 1, argv + 1);
        if (streq(argv[1], "device"))
                return device_main(argc - 1, argv + 1);
        if (streq(argv[1], "cdi"))
                return cdi_main(argc - 1, argv + 1);
        if (streq(argv[1], "ps"))
                return ps_main(argc - 1, argv + 1);
        if (streq(argv[1], "seccomp-profile"))
                return seccomp_profile_main(argc - 1, argv + 1);
        if (streq(argv[1], "oci-hook"))
                return oci_hook_main(argc - 1, argv + 1);
        fprintf(stderr, "curate: unknown command '%s' (try curate --help)\n", argv[1]);
        return EXIT_CURATE;
}
