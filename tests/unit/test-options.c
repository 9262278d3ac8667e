#include "config.h"
/* `curate run`'s command line: every option onto the policy it sets, the
 * order rules (policies first, then options; COMMAND's own options left
 * alone) and every error message. No privileges, nothing created. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/capability.h>
#include <stdio.h>
#include <unistd.h>
#include "macro.h"
#include "run.h"

struct parsed {
        char *argv[64]; /* cfg.argv points into it */
        struct run_config cfg;
        char *error;
        int r;
};

/* Parse "run" + the NULL-terminated words. */
static void parse_words(struct parsed *out, const char *const *words) {
        int argc = 0;

        *out = (struct parsed){ .cfg.mountpoint = CURATEFS_DEFAULT_MOUNTPOINT };
        out->argv[argc++] = (char *)"run";
        for (; *words; words++)
                out->argv[argc++] = (char *)*words;
        out->argv[argc] = NULL;
        assert_int_equal(policy_init_default(&out->cfg.policy), 0);
        out->r = run_parse_options(argc, out->argv, &out->cfg, &out->error);
}
#define PARSE(out, ...) parse_words((out), (const char *const[]){ __VA_ARGS__, NULL })

static void parsed_done(struct parsed *p) {
        policy_done(&p->cfg.policy); /* parsing resolves no devices: cfg.devices stays empty */
        free(p->error);
}

static void test_defaults(void **state) {
        struct parsed p;
        struct policy def;

        PARSE(&p, "--", "true", "x");
        assert_int_equal(p.r, 0);
        assert_null(p.error);
        assert_int_equal(policy_init_default(&def), 0);
        assert_true(policy_equal(&p.cfg.policy, &def));
        assert_string_equal(p.cfg.mountpoint, CURATEFS_DEFAULT_MOUNTPOINT);
        assert_string_equal(p.cfg.argv[0], "true");
        assert_string_equal(p.cfg.argv[1], "x");
        assert_null(p.cfg.argv[2]);
        policy_done(&def);
        parsed_done(&p);
}

static void test_resources(void **state) {
        struct parsed p;

        PARSE(&p, "-m", "256M", "--memory-swap", "max", "--cpus", "1.5", "--cpuset", "8,0-3", "--pids", "100", "true");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.cfg.policy.memory, 268435456);
        assert_int_equal(p.cfg.policy.memory_swap, POLICY_MAX);
        assert_int_equal(p.cfg.policy.cpus_milli, 1500);
        assert_string_equal(p.cfg.policy.cpuset, "0-3,8");
        assert_int_equal(p.cfg.policy.pids, 100);
        assert_null(p.cfg.policy.cgroup);
        parsed_done(&p);

        PARSE(&p, "--memory=1G", "-c", "0.5", "--cgroup", "/a/b", "true");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.cfg.policy.memory, 1ULL << 30);
        assert_int_equal(p.cfg.policy.cpus_milli, 500);
        assert_string_equal(p.cfg.policy.cgroup, "/a/b");
        parsed_done(&p);
}

static void test_namespaces_views(void **state) {
        struct parsed p;

        PARSE(&p, "-p", "-U", "--rootfs", "/srv/root", "--propagation", "slave", "--views", "meminfo,cpu-online",
              "--host-dev", "--mountpoint", "/m", "true");
        assert_int_equal(p.r, 0);
        assert_true(p.cfg.policy.pid_ns);
        assert_true(p.cfg.policy.user_ns);
        assert_string_equal(p.cfg.policy.rootfs, "/srv/root");
        assert_int_equal(p.cfg.policy.propagation, POLICY_PROPAGATION_SLAVE);
        assert_int_equal(p.cfg.policy.views, (1u << POLICY_VIEW_MEMINFO) | (1u << POLICY_VIEW_CPU_ONLINE));
        assert_false(p.cfg.policy.curated_dev);
        assert_string_equal(p.cfg.mountpoint, "/m");
        parsed_done(&p);

        PARSE(&p, "--views", "none", "--pid", "--user", "true");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.cfg.policy.views, 0);
        assert_true(p.cfg.policy.pid_ns && p.cfg.policy.user_ns);
        parsed_done(&p);
}

static bool has_path(char **list, size_t n, const char *path) {
        for (size_t i = 0; i < n; i++)
                if (streq(list[i], path))
                        return true;
        return false;
}

static void test_filesystem(void **state) {
        struct parsed p;

        PARSE(&p, "--bind", "/a", "/b", "--ro-bind", "/c", "/d", "--tmpfs", "/t", "--mask", "/proc/x", "--ro", "/usr",
              "--share-tmp", "true");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.cfg.policy.n_mounts, 3);
        assert_int_equal(p.cfg.policy.mounts[0].kind, POLICY_BIND);
        assert_string_equal(p.cfg.policy.mounts[0].src, "/a");
        assert_string_equal(p.cfg.policy.mounts[0].dst, "/b");
        assert_int_equal(p.cfg.policy.mounts[1].kind, POLICY_RO_BIND);
        assert_string_equal(p.cfg.policy.mounts[1].dst, "/d");
        assert_int_equal(p.cfg.policy.mounts[2].kind, POLICY_TMPFS);
        assert_null(p.cfg.policy.mounts[2].src);
        assert_string_equal(p.cfg.policy.mounts[2].dst, "/t");
        assert_true(has_path(p.cfg.policy.masks, p.cfg.policy.n_masks, "/proc/x"));
        assert_true(has_path(p.cfg.policy.masks, p.cfg.policy.n_masks, "/proc/kcore")); /* defaults kept */
        assert_true(has_path(p.cfg.policy.read_only, p.cfg.policy.n_read_only, "/usr"));
        assert_false(p.cfg.policy.private_tmp);
        parsed_done(&p);
}

static void test_capabilities(void **state) {
        struct parsed p;

        PARSE(&p, "--cap-add", "NET_RAW", "--cap-drop", "cap_chown", "true");
        assert_int_equal(p.r, 0);
        assert_true(p.cfg.policy.caps & (1ULL << CAP_NET_RAW));
        assert_false(p.cfg.policy.caps & (1ULL << CAP_CHOWN));
        assert_true(p.cfg.policy.caps & (1ULL << CAP_KILL));
        assert_false(p.cfg.policy.caps & (1ULL << CAP_SYS_ADMIN));
        parsed_done(&p);

        PARSE(&p, "--cap-drop", "ALL", "--cap-add", "kill", "true");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.cfg.policy.caps, 1ULL << CAP_KILL);
        parsed_done(&p);

        PARSE(&p, "--cap-add", "all", "true");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.cfg.policy.caps, policy_caps_all());
        parsed_done(&p);
}

/* COMMAND's own options are COMMAND's: parsing stops at the first word
 * that is not an option, with or without "--". */
static void test_command_options_untouched(void **state) {
        struct parsed p;

        PARSE(&p, "-m", "8M", "ls", "-m", "5", "--share", "pid");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.cfg.policy.memory, 8 << 20);
        assert_true(p.cfg.policy.pid_ns);
        assert_string_equal(p.cfg.argv[0], "ls");
        assert_string_equal(p.cfg.argv[1], "-m");
        assert_string_equal(p.cfg.argv[3], "--share");
        parsed_done(&p);

        PARSE(&p, "--", "--weird-name");
        assert_int_equal(p.r, 0);
        assert_string_equal(p.cfg.argv[0], "--weird-name");
        parsed_done(&p);
}

/* The isolation options: each sets what it names, later ones win. */
static void test_isolation_options(void **state) {
        struct parsed p;

        PARSE(&p, "true");
        assert_int_equal(p.r, 0);
        assert_true(p.cfg.policy.pid_ns && p.cfg.policy.ipc_ns && p.cfg.policy.uts_ns && p.cfg.policy.cgroup_ns);
        assert_int_equal(p.cfg.policy.net, POLICY_NET_HOST);
        assert_int_equal(p.cfg.policy.seccomp, POLICY_SECCOMP_DEFAULT);
        assert_false(p.cfg.policy.read_only_root || p.cfg.policy.allow_userns);
        assert_true(p.cfg.policy.sysinfo); /* sysinfo(2) answered by default */
        parsed_done(&p);

        PARSE(&p, "--no-sysinfo", "true");
        assert_int_equal(p.r, 0);
        assert_false(p.cfg.policy.sysinfo);
        parsed_done(&p);

        PARSE(&p, "--share", "ipc,uts", "--share", "cgroup", "--net", "none", "--read-only", "--seccomp", "unconfined",
              "--allow-userns", "true");
        assert_int_equal(p.r, 0);
        assert_true(p.cfg.policy.pid_ns);
        assert_false(p.cfg.policy.ipc_ns || p.cfg.policy.uts_ns || p.cfg.policy.cgroup_ns);
        assert_int_equal(p.cfg.policy.net, POLICY_NET_NONE);
        assert_true(p.cfg.policy.read_only_root && p.cfg.policy.allow_userns);
        assert_int_equal(p.cfg.policy.seccomp, POLICY_SECCOMP_UNCONFINED);
        parsed_done(&p);

        PARSE(&p, "--share", "pid", "-p", "--hostname", "box", "true");
        assert_int_equal(p.r, 0);
        assert_true(p.cfg.policy.pid_ns);
        assert_string_equal(p.cfg.policy.hostname, "box");
        parsed_done(&p);

        PARSE(&p, "--share", "pid", "--share", "none", "true");
        assert_int_equal(p.r, 0);
        assert_true(p.cfg.policy.pid_ns && p.cfg.policy.ipc_ns);
        parsed_done(&p);
}

static char *write_policy(const char *text);

/* The minimums are accepted; their neighbours above too. */
static void test_minimums(void **state) {
        struct parsed p;

        PARSE(&p, "--memory", "6M", "--cpus", "0.01", "--pids", "1", "true");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.cfg.policy.memory, 6 << 20);
        assert_int_equal(p.cfg.policy.cpus_milli, 10);
        assert_int_equal(p.cfg.policy.pids, 1);
        parsed_done(&p);

        PARSE(&p, "--memory", "max", "--cpus", "0.011", "true");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.cfg.policy.cpus_milli, 11);
        parsed_done(&p);

        /* the same node with the same access twice: kept once */
        PARSE(&p, "--device", "/dev/null:rw", "--device", "/dev/null:wr", "--device", "/dev/zero",
              "--device", "/dev/zero:mrw", "true");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.cfg.policy.n_devices, 2);
        parsed_done(&p);
}

/* --chdir, --env, --unsetenv, --clearenv, --uid, --gid (issue 10) */
static void test_process_options(void **state) {
        struct parsed p;

        PARSE(&p, "true");
        assert_int_equal(p.r, 0);
        assert_null(p.cfg.policy.workdir);
        assert_false(p.cfg.policy.clear_env);
        assert_int_equal(p.cfg.policy.n_env, 0);
        assert_int_equal(p.cfg.policy.uid, POLICY_ID_UNSET);
        assert_int_equal(p.cfg.policy.gid, POLICY_ID_UNSET);
        parsed_done(&p);

        PARSE(&p, "--chdir", "/srv//data/", "--env", "A=1", "--unsetenv", "HOME", "--env", "B=x=y", "--env", "C=",
              "--clearenv", "--uid", "65534", "--gid", "100", "true");
        assert_int_equal(p.r, 0);
        assert_string_equal(p.cfg.policy.workdir, "/srv/data");
        assert_true(p.cfg.policy.clear_env);
        assert_int_equal(p.cfg.policy.n_env, 4);
        assert_string_equal(p.cfg.policy.env[0], "A=1");
        assert_string_equal(p.cfg.policy.env[1], "HOME");
        assert_string_equal(p.cfg.policy.env[2], "B=x=y");
        assert_string_equal(p.cfg.policy.env[3], "C=");
        assert_int_equal(p.cfg.policy.uid, 65534);
        assert_int_equal(p.cfg.policy.gid, 100);
        parsed_done(&p);
}

/* A value a policy set and the launcher checks later carries the policy's
 * FILE:LINE; the command line's replaces it and is named as the option. */
static void test_origins(void **state) {
        _cleanup_free_ char *path = write_policy("[Resources]\nCPUs=0.5\nCPUSet=0\n[Namespaces]\nRootFS=/srv/root\n"
                                                 "[Process]\nWorkingDirectory=/srv\n");
        char want[512];
        struct parsed p;

        PARSE(&p, "--policy", path, "true");
        assert_int_equal(p.r, 0);
        snprintf(want, sizeof(want), "%s:2: CPUs=", path);
        assert_string_equal(p.cfg.policy.origin[POLICY_AT_CPUS], want);
        snprintf(want, sizeof(want), "%s:3: CPUSet=", path);
        assert_string_equal(p.cfg.policy.origin[POLICY_AT_CPUSET], want);
        snprintf(want, sizeof(want), "%s:5: RootFS=", path);
        assert_string_equal(p.cfg.policy.origin[POLICY_AT_ROOTFS], want);
        snprintf(want, sizeof(want), "%s:7: WorkingDirectory=", path);
        assert_string_equal(p.cfg.policy.origin[POLICY_AT_WORKDIR], want);
        parsed_done(&p);

        PARSE(&p, "--policy", path, "--cpus", "1", "--rootfs", "/x", "--chdir", "/", "--cpuset", "1", "true");
        assert_int_equal(p.r, 0);
        for (int f = 0; f < _POLICY_AT_MAX; f++)
                assert_null(p.cfg.policy.origin[f]);
        parsed_done(&p);
        unlink(path);
}

static void test_help(void **state) {
        struct parsed p;

        PARSE(&p, "-m", "1M", "--help");
        assert_int_equal(p.r, 1);
        parsed_done(&p);
}

static void expect_error(const char *message, const char *const *words) {
        struct parsed p;

        parse_words(&p, words);
        assert_int_equal(p.r, -EINVAL);
        assert_non_null(p.error);
        assert_string_equal(p.error, message);
        parsed_done(&p);
}
#define EXPECT_ERROR(msg, ...) expect_error((msg), (const char *const[]){ __VA_ARGS__, NULL })

static void test_errors(void **state) {
        EXPECT_ERROR("--memory: '12Q' is not a size (bytes, or a number with K, M, G or T)", "-m", "12Q", "true");
        EXPECT_ERROR("--memory-swap: 'lots' is not a size (bytes, or a number with K, M, G or T) or max",
                     "--memory-swap", "lots", "true");
        EXPECT_ERROR("--cpus: '0' is not a number of CPUs above 0 (e.g. 0.5, 2)", "--cpus", "0", "true");
        /* the minimums (issue 10): below them the kernel refuses or the command dies unheard */
        for (const char *const *c = (const char *const[]){ "0.001", "0.005", "0.009", NULL }; *c; c++) {
                char msg[160];
                snprintf(msg, sizeof(msg), "--cpus: '%s' is below the minimum, 0.01 (the kernel's smallest CPU quota: "
                         "1 ms per 100 ms period)", *c);
                EXPECT_ERROR(msg, "--cpus", *c, "true");
        }
        for (const char *const *m = (const char *const[]){ "0", "1", "4K", "6291455", NULL }; *m; m++) {
                char msg[160];
                snprintf(msg, sizeof(msg), "--memory: '%s' is below the minimum memory limit, 6M (a command would be "
                         "killed before it could run)", *m);
                EXPECT_ERROR(msg, "--memory", *m, "true");
        }
        EXPECT_ERROR("--pids: '0' is below the minimum, 1 (COMMAND itself is a task)", "--pids", "0", "true");
        EXPECT_ERROR("--chdir: 'tmp' is not an absolute path without '..'", "--chdir", "tmp", "true");
        EXPECT_ERROR("--env: 'A' is not KEY=VALUE (KEY non-empty, without '=')", "--env", "A", "true");
        EXPECT_ERROR("--env: '=1' is not KEY=VALUE (KEY non-empty, without '=')", "--env", "=1", "true");
        EXPECT_ERROR("--unsetenv: 'A=1' is not a variable name (non-empty, without '=')", "--unsetenv", "A=1", "true");
        EXPECT_ERROR("--uid: 'nobody' is not a numeric id (0-4294967294; names are not looked up)", "--uid", "nobody",
                     "true");
        EXPECT_ERROR("--gid: '-1' is not a numeric id (0-4294967294; names are not looked up)", "--gid", "-1", "true");
        EXPECT_ERROR("--uid: '4294967295' is not a numeric id (0-4294967294; names are not looked up)", "--uid",
                     "4294967295", "true");
        EXPECT_ERROR("--cpuset: '3-1' is not a CPU list (e.g. 0-3,8)", "--cpuset", "3-1", "true");
        EXPECT_ERROR("--pids: '-1' is not a number of tasks or max", "--pids", "-1", "true");
        EXPECT_ERROR("--cgroup: 'a/b' is not a cgroup path starting with /", "--cgroup", "a/b", "true");
        EXPECT_ERROR("--rootfs: 'root' is not an absolute path", "--rootfs", "root", "true");
        EXPECT_ERROR("--propagation: 'shared' is not private or slave", "--propagation", "shared", "true");
        EXPECT_ERROR("--views: 'memory' is not a list of views (meminfo,cpuinfo,stat,uptime,loadavg,swaps,diskstats,"
                     "cpu-online), all or none",
                     "--views", "memory", "true");
        EXPECT_ERROR("--bind: 'src' is not an absolute path", "--bind", "src", "/dst", "true");
        EXPECT_ERROR("--bind: 'dst' is not an absolute path", "--bind", "/src", "dst", "true");
        EXPECT_ERROR("--bind needs two arguments: SRC DST", "--bind", "/src");
        EXPECT_ERROR("--mask: 'x' is not an absolute path", "--mask", "x", "true");
        EXPECT_ERROR("--cap-add: 'CAP_FLY' is not a capability name (e.g. CAP_NET_RAW)", "--cap-add", "CAP_FLY", "true");
        EXPECT_ERROR("--share: 'pid,net' is not a list of namespaces to share with the host (pid, ipc, uts, cgroup) or none",
                     "--share", "pid,net", "true");
        EXPECT_ERROR("--net: 'bridge' is not host or none", "--net", "bridge", "true");
        EXPECT_ERROR("--hostname: 'a b' is not a host name (1-64 letters, digits, '-' and '.')", "--hostname", "a b", "true");
        EXPECT_ERROR("--seccomp: 'strict' is not default or unconfined", "--seccomp", "strict", "true");
        EXPECT_ERROR("option '--read-only' takes no value (try curate run --help)", "--read-only=yes", "true");
        EXPECT_ERROR("unknown option '--bogus' (try curate run --help)", "--bogus", "true");
        EXPECT_ERROR("unknown option '-x' (try curate run --help)", "-x", "true");
        EXPECT_ERROR("option '--memory' needs a value (try curate run --help)", "--memory");
        EXPECT_ERROR("option '-m' needs a value (try curate run --help)", "-m");
        EXPECT_ERROR("option '--pid' takes no value (try curate run --help)", "--pid=1", "true");
        EXPECT_ERROR("no command given (curate run [OPTIONS] [--] COMMAND [ARG...])", "-m", "8M");
        EXPECT_ERROR("no command given (curate run [OPTIONS] [--] COMMAND [ARG...])", "--");
}

static char *write_policy(const char *text);

/* --device and --gpu: parsed and kept in order, resolved only by
 * run_validate() (not here: nothing is looked up on the host). */
static void test_devices(void **state) {
        struct parsed p;

        PARSE(&p, "--device", "/dev/nvidia0", "--device", "/dev/sda:r", "--device", "nvidia.com/gpu=0",
              "--device", "/dev/nvidia0", "--gpu", "0,1", "true");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.cfg.policy.n_devices, 3); /* the duplicate is kept once */
        assert_string_equal(p.cfg.policy.devices[0], "/dev/nvidia0");
        assert_string_equal(p.cfg.policy.devices[1], "/dev/sda:r");
        assert_string_equal(p.cfg.policy.devices[2], "nvidia.com/gpu=0");
        assert_string_equal(p.cfg.policy.gpu, "0,1");
        assert_int_equal(p.cfg.dev.nodes.n, 0);
        parsed_done(&p);

        PARSE(&p, "--gpu", "all", "--gpu", "GPU-abc", "true"); /* the last one wins */
        assert_int_equal(p.r, 0);
        assert_string_equal(p.cfg.policy.gpu, "GPU-abc");
        assert_int_equal(p.cfg.policy.n_devices, 0);
        parsed_done(&p);
}

static void test_device_errors(void **state) {
        static const char *const what =
                " is not a device node under /dev (PATH[:rwm]) or a CDI name (vendor/class=name)";
        char msg[256];

        snprintf(msg, sizeof(msg), "--device: '/tmp/x'%s", what);
        EXPECT_ERROR(msg, "--device", "/tmp/x", "true");
        snprintf(msg, sizeof(msg), "--device: '/dev/'%s", what);
        EXPECT_ERROR(msg, "--device", "/dev/", "true");
        EXPECT_ERROR("--device: '/dev/nvidia0:rx' has a bad access mode: valid is a non-empty subset of rwm "
                     "(read, write, mknod)", "--device", "/dev/nvidia0:rx", "true");
        EXPECT_ERROR("--device: '/dev/null:rwx' has a bad access mode: valid is a non-empty subset of rwm "
                     "(read, write, mknod)", "--device", "/dev/null:rwx", "true");
        EXPECT_ERROR("--device: '/dev/nvidia0:' has a bad access mode: valid is a non-empty subset of rwm "
                     "(read, write, mknod)", "--device", "/dev/nvidia0:", "true");
        EXPECT_ERROR("--device: '/dev/../etc/shadow' must not contain '..'", "--device", "/dev/../etc/shadow", "true");
        EXPECT_ERROR("--device: '/dev/dri/..:rw' must not contain '..'", "--device", "/dev/dri/..:rw", "true");
        /* one node, two accesses: refused, not merged */
        EXPECT_ERROR("--device: '/dev/null:rw' is given already with another access: give each node once, with all "
                     "the access it needs", "--device", "/dev/null:r", "--device", "/dev/null:rw", "true");
        EXPECT_ERROR("--device: '/dev/null:r' is given already with another access: give each node once, with all "
                     "the access it needs", "--device", "/dev/null", "--device", "/dev/null:r", "true");
        snprintf(msg, sizeof(msg), "--device: 'nvidia0'%s", what);
        EXPECT_ERROR(msg, "--device", "nvidia0", "true");
        snprintf(msg, sizeof(msg), "--device: 'nvidia.com/gpu'%s", what);
        EXPECT_ERROR(msg, "--device", "nvidia.com/gpu", "true");
        EXPECT_ERROR("--gpu: '' is not a GPU selection (all, none, void, 0,1, GPU-<uuid>, MIG-<uuid>, i:j)",
                     "--gpu", "", "true");
        EXPECT_ERROR("option '--device' needs a value (try curate run --help)", "--device");
        EXPECT_ERROR("option '--gpu' needs a value (try curate run --help)", "--gpu");
}

/* [Devices] Device= appends (empty clears), GPU= replaces; options add to them. */
static void test_policy_devices(void **state) {
        _cleanup_free_ char *path = write_policy("[Devices]\nDevice=/dev/nvidia1 /dev/fuse:rw\nGPU=1\n");
        _cleanup_free_ char *bad = write_policy("[Devices]\nDevice=/etc/passwd\n");
        struct parsed p;

        PARSE(&p, "--policy", path, "--device", "/dev/nvidia0", "--gpu", "0", "true");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.cfg.policy.n_devices, 3);
        assert_string_equal(p.cfg.policy.devices[0], "/dev/nvidia1");
        assert_string_equal(p.cfg.policy.devices[1], "/dev/fuse:rw");
        assert_string_equal(p.cfg.policy.devices[2], "/dev/nvidia0");
        assert_string_equal(p.cfg.policy.gpu, "0");
        parsed_done(&p);

        PARSE(&p, "--policy", bad, "true");
        assert_int_equal(p.r, -EINVAL);
        assert_non_null(strstr(p.error, ":2: Device: '/etc/passwd' is not a device node under /dev"));
        parsed_done(&p);
        unlink(path);
        unlink(bad);
}

static char *write_policy(const char *text) {
        char *path = strdup("/tmp/curate-test-policy-XXXXXX.conf");
        int fd = mkstemps(path, 5);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
        return path;
}

/* Options win over policies wherever --policy stands; the policy fills
 * in what the command line leaves out. */
static void test_policy_then_options(void **state) {
        _cleanup_free_ char *path = write_policy("[Resources]\nMemory=1G\nCPUs=2\n[Namespaces]\nPID=yes\n");
        struct parsed p;

        PARSE(&p, "-m", "256M", "--policy", path, "true");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.cfg.policy.memory, 256ULL << 20);
        assert_int_equal(p.cfg.policy.cpus_milli, 2000);
        assert_true(p.cfg.policy.pid_ns);
        parsed_done(&p);

        PARSE(&p, "-P", path, "--cpus", "0.5", "true");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.cfg.policy.memory, 1ULL << 30);
        assert_int_equal(p.cfg.policy.cpus_milli, 500);
        parsed_done(&p);
        unlink(path);
}

static void test_policy_errors(void **state) {
        _cleanup_free_ char *path = write_policy("[Resources]\nMemory=1G\nMemry=2G\n");
        _cleanup_free_ char *expected = NULL;
        struct parsed p;

        PARSE(&p, "--policy", path, "true");
        assert_int_equal(p.r, -EINVAL);
        assert_non_null(p.error);
        assert_true(asprintf(&expected, "policy %s:3: ", path) > 0);
        assert_memory_equal(p.error, expected, strlen(expected));
        assert_non_null(strstr(p.error, "Memry"));
        parsed_done(&p);
        unlink(path);

        PARSE(&p, "--policy", "no-such-policy-name", "true");
        assert_int_equal(p.r, -EINVAL);
        assert_non_null(strstr(p.error, "--policy no-such-policy-name: no such policy"));
        parsed_done(&p);
}

/* The shipped default policy is found by name and changes nothing. */
static void test_policy_by_name(void **state) {
        struct parsed p;
        struct policy def;

        setenv("CURATE_POLICY_PATH", POLICY_SOURCE_DIR, 1);
        PARSE(&p, "--policy", "default", "true");
        assert_int_equal(p.r, 0);
        assert_int_equal(policy_init_default(&def), 0);
        assert_true(policy_equal(&p.cfg.policy, &def));
        policy_done(&def);
        parsed_done(&p);
        unsetenv("CURATE_POLICY_PATH");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_resources),
                cmocka_unit_test(test_namespaces_views),
                cmocka_unit_test(test_filesystem),
                cmocka_unit_test(test_capabilities),
                cmocka_unit_test(test_command_options_untouched),
                cmocka_unit_test(test_isolation_options),
                cmocka_unit_test(test_help),
                cmocka_unit_test(test_minimums),
                cmocka_unit_test(test_process_options),
                cmocka_unit_test(test_origins),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_devices),
                cmocka_unit_test(test_device_errors),
                cmocka_unit_test(test_policy_devices),
                cmocka_unit_test(test_policy_then_options),
                cmocka_unit_test(test_policy_errors),
                cmocka_unit_test(test_policy_by_name),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
