#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <sched.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "cdi.h"
#include "devrules.h"
#include "gpu-select.h"
#include "registration.h"
#include "nvidia.h"
#include "nvidia-proc.h"
#include "launcher.h"
#include "macro.h"
#include "run.h"
#include "seccomp-filter.h"
#include "sysinfo-guard.h"


/* The process side of `curate run`, in named phases (bubblewrap's way):
 *   parent:  ensure the daemon -> make the cgroup (limits, device rules) ->
 *            clone the child into new namespaces -> attach it, write its id
 *            maps -> release it -> forward signals until it ends -> remove
 *            the cgroup
 *   child:   the mounts that need no cgroup (while the parent attaches it)
 *            -> released: its cgroup namespace, the host name, lo up -> the
 *            rest of the mount table -> the seccomp filter, the bounding
 *            set -> (pid namespace: become init, spawn the command) ->
 *            drop capabilities -> exec */

/* Signals passed on to the command. SIGCHLD is waited for as well. */
static const int forwarded_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH };

static void supervised_set(sigset_t *set) {
        sigemptyset(set);
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                sigaddset(set, forwarded_signals[i]);
        sigaddset(set, SIGCHLD);
}

static void remove_registration(const struct run_config *cfg) {
        if (cfg->devices_id[0])
                (void)reg_remove(cfg->devices_id);
}

static int exit_status(int status) {
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return EXIT_CURATE;
}

/* The bounding set cut to KEEP, nothing ambient, no_new_privs (so no
 * setuid binary can win privileges back): done once, before the init
 * forks the command, for both. The effective set is left for drop_caps(). */
static int drop_bounding(uint64_t keep) {
        int last = cap_max_bits();

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        for (int cap = 0; cap < last; cap++)
                if (!(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                        return -errno;
        /* EINVAL on kernels without ambient capabilities */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return -errno;
        return 0;
}

/* Permitted and effective cut to KEEP, nothing inheritable. */
static int drop_caps(uint64_t keep) {
        int last = cap_max_bits();
        cap_t caps = cap_get_proc();
        int r = 0;

        if (!caps)
                return -errno;
        cap_clear_flag(caps, CAP_INHERITABLE);
        for (int cap = 0; cap < last; cap++) {
                cap_value_t v = cap;
                if (!(keep & (1ULL << cap))) {
                        cap_set_flag(caps, CAP_EFFECTIVE, 1, &v, CAP_CLEAR);
                        cap_set_flag(caps, CAP_PERMITTED, 1, &v, CAP_CLEAR);
                }
        }
        if (cap_set_proc(caps) < 0)
                r = -errno;
        cap_free(caps);
        return r;
}

/* CDI additionalGIDs join the supplementary groups the command already has
 * (with --uid/--gid, only they: root's groups are not the user's). */
static int add_groups(const gid_t *gids, size_t n, bool replace) {
        _cleanup_free_ gid_t *all = NULL;
        int have;

        if (replace)
                return setgroups(n, gids) < 0 ? -errno : 0;
        if (n == 0)
                return 0;
        have = getgroups(0, NULL);
        if (have < 0)
                return -errno;
        all = calloc((size_t)have + n, sizeof(gid_t));
        if (!all)
                return -ENOMEM;
        have = getgroups(have, all);
        if (have < 0)
                return -errno;
        for (size_t i = 0; i < n; i++)
                all[have + i] = gids[i];
        return setgroups((size_t)have + n, all) < 0 ? -errno : 0;
}

static _Noreturn void child_fail(const char *what, int err) {
        fprintf(stderr, "curate: %s: %s\n", what, strerror(-err));
        _exit(EXIT_CURATE);
}

/* --uid/--gid: the groups are set first (by then setgroups(0) or the CDI
 * ones only), the gid before the uid (which gives up CAP_SETGID). Leaving
 * uid 0 clears the permitted, effective and ambient sets (capabilities(7)),
 * and no_new_privs keeps exec from granting any back: a command run as
 * another user has no capabilities, whatever the bounding set keeps.
 * Without --gid the gid is the uid's number. */
static void switch_user(const struct policy *p) {
        uid_t uid = p->uid;
        gid_t gid = p->gid != POLICY_ID_UNSET ? p->gid : p->uid != POLICY_ID_UNSET ? p->uid : 0;

        if (p->uid == POLICY_ID_UNSET && p->gid == POLICY_ID_UNSET)
                return;
        if (setresgid(gid, gid, gid) < 0) {
                fprintf(stderr, "curate: --gid %u: setresgid: %s\n", (unsigned)gid, strerror(errno));
                _exit(EXIT_CURATE);
        }
        if (uid != (uid_t)POLICY_ID_UNSET && setresuid(uid, uid, uid) < 0) {
                fprintf(stderr, "curate: --uid %u: setresuid: %s\n", (unsigned)uid, strerror(errno));
                _exit(EXIT_CURATE);
        }
}

/* --clearenv, then curate's and CDI's variables, then --env/--unsetenv in
 * order (the user's word last) */
static void prepare_env(const struct run_config *cfg) {
        const struct policy *p = &cfg->policy;

        if (p->clear_env && clearenv() != 0)
                child_fail("clearing the environment", -ENOMEM);
        /* the id `curate device add|remove` takes */
        if (cfg->devices_id[0] && setenv("CURATE_CONTAINER", cfg->devices_id, 1) < 0)
                child_fail("setting the environment", -errno);
        for (size_t i = 0; i < cfg->dev.n_env; i++) /* CDI env, in order: a later KEY= wins */
                if (putenv(cfg->dev.env[i]) != 0)
                        child_fail("setting the environment", -errno);
        for (size_t i = 0; i < p->n_env; i++)
                if ((strchr(p->env[i], '=') ? putenv(p->env[i]) : unsetenv(p->env[i])) != 0)
                        child_fail("setting the environment", -errno);
}

/* What the command inherits from the process that starts it: CDI's extra
 * groups, its user (--uid/--gid), the capabilities it keeps (the bounding
 * set is cut already; nothing inheritable), its environment. */
static void prepare_command(const struct run_config *cfg) {
        bool other_user = cfg->policy.uid != POLICY_ID_UNSET || cfg->policy.gid != POLICY_ID_UNSET;
        int r;

        r = add_groups(cfg->dev.additional_gids, cfg->dev.n_additional_gids, other_user);
        if (r < 0)
                child_fail("setting the supplementary groups (setgroups)", r);
        switch_user(&cfg->policy);
        r = drop_caps(cfg->policy.caps);
        if (r < 0)
                child_fail("dropping privileges", r);
        prepare_env(cfg);
}

static _Noreturn void exec_failed(const struct run_config *cfg, int e) {
        fprintf(stderr, "curate: %s: %s\n", cfg->argv[0], strerror(e));
        _exit(e == ENOENT || e == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
}

/* The command in place of this process (--share pid: no init). */
static _Noreturn void exec_command(const struct run_config *cfg) {
        sigset_t none;

        prepare_command(cfg);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* every fd but stdin, stdout and stderr: nothing of curate's leaks */
        if (close_range(3, ~0U, 0) < 0)
                child_fail("closing file descriptors", -errno);
        execvp(cfg->argv[0], cfg->argv);
        exec_failed(cfg, errno);
}

/* The command as a child of the init, with vfork(): the child shares the
 * init's memory until its exec (the init waits meanwhile) instead of
 * copying its page tables as fork() would, a millisecond of every launch
 * here. Until the exec it only makes system calls (execvp() searches PATH
 * and runs a script without "#!" through /bin/sh on the stack), and hands
 * back the errno of an exec that failed through EXEC_ERRNO, which the init
 * then reports as exec_command() would. posix_spawnp() would be the same
 * but for that /bin/sh fallback. */
static pid_t spawn_command(const struct run_config *cfg) {
        static volatile int exec_errno;
        sigset_t none;
        pid_t cmd;

        prepare_command(cfg);
        sigemptyset(&none);
        exec_errno = 0;
        cmd = vfork();
        if (cmd < 0)
                child_fail("vfork", -errno);
        if (cmd == 0) {
                sigprocmask(SIG_SETMASK, &none, NULL);
                /* every fd but stdin, stdout and stderr: nothing of curate's leaks */
                if (close_range(3, ~0U, 0) < 0)
                        exec_errno = errno;
                else {
                        execvp(cfg->argv[0], cfg->argv);
                        exec_errno = errno;
                }
                _exit(EXIT_CURATE);
        }
        if (exec_errno != 0) {
                while (waitpid(cmd, NULL, 0) < 0 && errno == EINTR)
                        ;
                exec_failed(cfg, exec_errno);
        }
        return cmd;
}

/* Terminal-generated signals (Ctrl-C, resize) come from the kernel
 * (SI_KERNEL) to the whole foreground process group, the command included:
 * passing them on would deliver them twice. kill(2)-sent ones are passed on. */
static void forward(pid_t to, const siginfo_t *si) {
        if (si->si_code != SI_KERNEL)
                (void)kill(to, si->si_signo);
}

/* pid 1 of a new pid namespace: the kernel delivers it only signals it
 * handles or blocks, and it must reap orphans. It runs the command as pid
 * 2, passes signals on, and exits with the command's status (which kills
 * whatever is left in the namespace). */
static _Noreturn void init_main(const struct run_config *cfg) {
        sigset_t set;
        siginfo_t si;
        pid_t cmd, pid;
        int status;

        cmd = spawn_command(cfg);
        (void)close_range(3, ~0U, 0);
        (void)drop_caps(0);
        supervised_set(&set);
        for (;;) {
                if (sigwaitinfo(&set, &si) < 0)
                        continue;
                if (si.si_signo != SIGCHLD) {
                        forward(cmd, &si);
                        continue;
                }
                while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
                        if (pid == cmd)
                                _exit(exit_status(status));
        }
}

/* The parent's go: its cgroups as /sys/fs/cgroup is to show them, whole;
 * false when the parent failed (it has reported why) and closed the socket. */
static bool wait_release(int sock, struct cg_shown *ret) {
        size_t got = 0;

        while (got < sizeof(*ret)) {
                ssize_t n = read(sock, (char *)ret + got, sizeof(*ret) - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return false;
                got += n;
        }
        return true;
}

static _Noreturn void child_main(const struct run_config *cfg, int sock) {
        _cleanup_free_ char *error = NULL;
        static struct cg_shown cg;
        /* unmapped until the parent writes the id maps, a user namespace's
         * root owns nothing: its mounts wait for the release */
        bool early = !cfg->policy.user_ns;
        int r = 0, listener, no_listener;

        /* if curate dies (even by SIGKILL), the container goes with it */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        /* what needs no cgroup, while the parent makes them */
        if (early)
                r = mounts_prepare(cfg, &error);
        if (r >= 0 && !wait_release(sock, &cg))
                _exit(EXIT_CURATE); /* the parent failed and has reported why */
        /* sock stays open: the sysinfo(2) listener goes back over it */
        if (r >= 0 && !early)
                r = mounts_prepare(cfg, &error);
        if (r >= 0)
                r = ns_enter_after_release(&cfg->policy, &error);
        if (r >= 0)
                r = mounts_finish(&cg, &error);
        if (r < 0) {
                fprintf(stderr, "curate: %s\n", error ? error : strerror(-r));
                _exit(EXIT_CURATE);
        }
        /* last, with every mount made: the init (pid namespace) and the
         * command both run under it */
        if ((r = seccomp_default_load(&cfg->policy, &listener, &no_listener)) < 0)
                child_fail("loading the seccomp filter", r);
        if (no_listener == -EINVAL)
                fprintf(stderr, "curate: warning: this kernel has no seccomp user notification (Linux >= 5.0): "
                                "sysinfo(2) shows the host's figures (free, uptime, getloadavg)\n");
        else if (no_listener == -EBUSY)
                fprintf(stderr, "curate: warning: a seccomp listener above curate (the container it runs in) "
                                "already takes sysinfo(2): that one answers it, not curatefs\n");
        sysinfo_guard_send(sock, listener);
        if ((r = drop_bounding(cfg->policy.caps)) < 0)
                child_fail("dropping privileges", r);
        if (cfg->policy.pid_ns)
                init_main(cfg);
        exec_command(cfg);
}

static int write_file(const char *path, const char *text) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        size_t len = strlen(text);

        if (fd < 0)
                return -errno;
        if (write(fd, text, len) != (ssize_t)len)
                return -errno;
        return 0;
}

/* The caller's uid and gid map to themselves; setgroups must be denied
 * before an unprivileged gid_map can be written (user_namespaces(7)). */
static int write_id_maps(pid_t pid, char **ret_error) {
        char path[64], map[64];
        int r;

        snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
        if (geteuid() != 0 && (r = write_file(path, "deny")) < 0)
                return error_printf(ret_error, r, "%s: %s", path, strerror(-r));
        snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
        snprintf(map, sizeof(map), "%u %u 1\n", geteuid(), geteuid());
        if ((r = write_file(path, map)) < 0)
                return error_printf(ret_error, r, "%s: %s", path, strerror(-r));
        snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
        snprintf(map, sizeof(map), "%u %u 1\n", getegid(), getegid());
        if ((r = write_file(path, map)) < 0)
                return error_printf(ret_error, r, "%s: %s", path, strerror(-r));
        return 0;
}

static int supervise(pid_t child, struct sysinfo_guard *guard) {
        sigset_t set;
        siginfo_t si;
        int status;

        supervised_set(&set);
        for (;;) {
                /* sigwaitinfo() that answers sysinfo(2) meanwhile */
                if (sysinfo_guard_wait(guard, &set, &si) < 0)
                        continue;
                if (si.si_signo != SIGCHLD) {
                        forward(child, &si);
                        continue;
                }
                /* other children (the daemon's launcher) may have ended too */
                if (waitpid(child, &status, WNOHANG) == child)
                        return exit_status(status);
        }
}

/* SIZE as "32 MiB" (or bytes where it is no whole number of KiB) */
static void format_size(uint64_t size, char *buf, size_t len) {
        static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
        size_t u = 0;

        while (u + 1 < ELEMENTSOF(units) && size >= 1024 && size % 1024 == 0) {
                size /= 1024;
                u++;
        }
        snprintf(buf, len, "%" PRIu64 " %s", size, units[u]);
}

/* A command killed by SIGKILL in a cgroup whose OOM kill count rose: say
 * so (the counter starts at 0 in the transient cgroup), instead of a bare
 * 137. */
static void report_oom(const struct run_config *cfg, const struct run_cgroup *cg) {
        uint64_t memory = cfg->policy.memory;
        char limit[48];

        if (run_cgroup_oom_kills(cg) == 0)
                return;
        if (memory == POLICY_UNSET || memory == POLICY_MAX)
                snprintf(limit, sizeof(limit), "no memory limit of curate's");
        else {
                strcpy(limit, "memory limit ");
                format_size(memory, limit + strlen(limit), sizeof(limit) - strlen(limit));
        }
        fprintf(stderr, "curate: %s was killed by the OOM killer (%s)\n", cfg->argv[0], limit);
}

static int make_cgroup(const struct run_config *cfg, struct run_cgroup *ret, char **ret_error) {
        struct cg_layout layout;
        char name[32];
        int r = run_cgroup_layout(&layout, ret_error);

        if (r < 0)
                return r;
        snprintf(name, sizeof(name), "run-%d", getpid());
        if (cfg->policy.cgroup)
                r = run_cgroup_join(&layout, cfg->policy.cgroup, ret, ret_error);
        else
                r = run_cgroup_create(&layout, &cfg->policy, name, ret, ret_error);
        cg_layout_done(&layout);
        if (r < 0 && !*ret_error)
                error_printf(ret_error, r, "cgroup: %s", strerror(-r));
        return r;
}

static pid_t clone_child(const struct policy *p) {
        /* fork semantics (no new stack): the child runs on a copy of ours */
        return syscall(SYS_clone, ns_clone_flags(p) | SIGCHLD, NULL, NULL, NULL, NULL);
}

/* mkdir -p PATH (0755); 0 or -errno */
static int make_dirs(const char *path) {
        char buf[PATH_MAX];

        /* the common case, at every run: it is there */
        if (mkdir(path, 0755) == 0 || errno == EEXIST)
                return 0;
        if (strlen(path) >= sizeof(buf))
                return -ENAMETOOLONG;
        strcpy(buf, path);
        for (char *slash = buf + 1;; slash++) {
                slash = strchr(slash, '/');
                if (slash)
                        *slash = 0;
                if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                        return -errno;
                if (!slash)
                        return 0;
                *slash = '/';
        }
}

/* The directories whose contents curate or curatefs trust exist before
 * any container starts, so that they are masked or read-only in it
 * (mounts.c): a container cannot create one first, with a registration,
 * a policy or a CDI spec of its own in it for later runs to load. */
static int make_state_dirs(char **ret_error) {
        const char *dirs[] = { CURATE_RUN_DIR, device_registration_dir(), "/etc/curate", CURATE_POLICY_DIR,
                               "/etc/cdi", "/var/run/cdi" };

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                int r = make_dirs(dirs[i]);
                if (r < 0)
                        return error_printf(ret_error, r, "%s: %s", dirs[i], strerror(-r));
        }
        return 0;
}

/* The device cgroup of a transient cgroup allows exactly the curated set
 * (devices/devrules.c: null, zero, full, random, urandom, tty, ptmx, pts),
 * whatever nodes the command reaches (--host-dev, a bind, one created
 * outside and passed in): v1 devices.deny/allow, or on cgroup2 a device
 * program attached beside any already there (BPF_F_ALLOW_MULTI: every one
 * must allow). Joined cgroups are not curate's to restrict. */
static int restrict_devices(const struct run_config *cfg, const struct run_cgroup *cg, char **ret_error) {
        _cleanup_free_ struct dev_rule *rules = NULL;
        _cleanup_free_ struct bpf_insn *prog = NULL;
        size_t n_rules, n_prog;
        int r, prog_fd;

        if (!cg->transient || (cg->devices_at < 0 && cg->unified_at < 0))
                return 0;
        /* the curated set plus exactly --device / --gpu's nodes */
        r = devrules_build(&cfg->dev.nodes, &rules, &n_rules);
        if (r < 0)
                return error_printf(ret_error, r, "device rules: %s", strerror(-r));
        if (cg->devices_at >= 0)
                return devrules_apply_v1(cg->dir_fd[cg->devices_at], rules, n_rules, ret_error);
        r = devrules_bpf_program(rules, n_rules, &prog, &n_prog);
        if (r < 0)
                return error_printf(ret_error, r, "device program: %s", strerror(-r));
        r = devrules_bpf_attach(cg->dir_fd[cg->unified_at], prog, n_prog, &prog_fd, ret_error);
        if (r < 0)
                return r;
        close(prog_fd); /* the cgroup holds the program until it is removed */
        return 0;
}

/* CG as the child's /sys/fs/cgroup shows it: each cgroup the command runs
 * in (the delegated one where there is one), relative to /sys/fs/cgroup.
 * A hierarchy mounted elsewhere is not shown. */
static int shown_cgroups(const struct run_cgroup *cg, struct cg_shown *ret, char **ret_error) {
        static const char top[] = "/sys/fs/cgroup";

        *ret = (struct cg_shown){ .n = 0 };
        for (int i = 0; i < cg->n; i++) {
                const char *path = cg->deleg_path[i] ? cg->deleg_path[i] : cg->path[i];
                const char *m = cg->mount[i];
                int k = ret->n;

                if (!m || strncmp(m, top, strlen(top)) != 0 || (m[strlen(top)] && m[strlen(top)] != '/') ||
                    strncmp(path, m, strlen(m)) != 0)
                        continue;
                m += strlen(top) + (m[strlen(top)] == '/');
                path += strlen(top) + 1;
                if (strlen(m) >= sizeof(ret->mount[k]) || strlen(path) >= sizeof(ret->path[k]))
                        return error_printf(ret_error, -ENAMETOOLONG, "cgroup %s: path too long", cg->path[i]);
                strcpy(ret->mount[k], m);
                strcpy(ret->path[k], path);
                ret->writable[k] = cg->deleg_path[i] != NULL;
                ret->n++;
        }
        return 0;
}

/* Attach the child to its cgroup and write its id maps, then let it go
 * with its cgroups to show. On failure the child is killed before it ran
 * anything of the command's. */
static int release_child(const struct run_config *cfg, pid_t child, struct run_cgroup *cg, int sock,
                         char **ret_error) {
        struct cg_shown shown;
        int r;

        if (cg->n > 0 && (r = run_cgroup_attach(cg, child)) < 0)
                return error_printf(ret_error, r, "moving the command into %s: %s", cg->path[0], strerror(-r));
        if (cfg->policy.user_ns && (r = write_id_maps(child, ret_error)) < 0)
                return r;
        if ((r = shown_cgroups(cg, &shown, ret_error)) < 0)
                return r;
        /* MSG_NOSIGNAL: a child that died early is an error, not SIGPIPE */
        if (send(sock, &shown, sizeof(shown), MSG_NOSIGNAL) != (ssize_t)sizeof(shown))
                return error_printf(ret_error, -errno, "releasing the command: %s", strerror(errno));
        return 0;
}

/* What the parent makes before the child exists: the cgroup (as root
 * always one of its own: the views then show the command's own usage, and
 * nothing it leaves running survives it), its device rules, the delegated
 * child, the device registration. */
static int parent_setup(const struct run_config *cfg, struct run_cgroup *cg, char **ret_error) {
        int r = 0;

        if (geteuid() == 0) {
                r = make_cgroup(cfg, cg, ret_error);
                /* the device rules first: a v1 devices cgroup copies them
                 * into the delegated child when it is made */
                if (r >= 0)
                        r = restrict_devices(cfg, cg, ret_error);
                if (r >= 0 && cfg->policy.delegate)
                        r = run_cgroup_delegate(cg, ret_error);
        }
        /* before the release: curatefs must serve the child's /dev */
        if (r >= 0 && cfg->dev.nodes.n > 0)
                r = device_list_register(cfg->devices_id, &cfg->dev.nodes, ret_error);
        return r;
}

int run_main(const struct run_config *cfg) {
        _cleanup_free_ char *error = NULL;
        struct run_cgroup cg = { .n = 0, .devices_at = -1, .unified_at = -1 };
        struct sysinfo_guard guard;
        sigset_t set, old;
        int sv[2], status, r;
        pid_t child;

        /* blocked from here on: nothing sent to curate is lost or acted on
         * by default while the child is being set up */
        supervised_set(&set);
        sigprocmask(SIG_BLOCK, &set, &old);
        if (run_needs_daemon(&cfg->policy) && !daemon_serving(cfg->mountpoint)) {
                r = daemon_ensure(cfg->mountpoint, NULL, &error);
                if (r < 0)
                        goto fail;
        }
        if (geteuid() == 0 && (r = make_state_dirs(&error)) < 0)
                goto fail;
        if ((r = parent_setup(cfg, &cg, &error)) < 0)
                goto fail_cgroup;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                r = error_printf(&error, -errno, "socketpair: %s", strerror(errno));
                goto fail_cgroup;
        }
        child = clone_child(&cfg->policy);
        if (child < 0) {
                r = error_printf(&error, -errno, "cannot create the namespaces: %s", strerror(errno));
                close(sv[0]);
                close(sv[1]);
                goto fail_cgroup;
        }
        if (child == 0) {
                close(sv[1]);
                child_main(cfg, sv[0]);
        }
        close(sv[0]);
        /* moving it into its cgroups waits for an RCU grace period (v1:
         * cgroup_threadgroup_rwsem taken for writing): the child makes its
         * first mounts meanwhile */
        r = release_child(cfg, child, &cg, sv[1], &error);
        if (r < 0) {
                close(sv[1]);
                /* a child that failed on its own has said why: its status */
                bool reported = waitpid(child, &status, WNOHANG) == child && WIFEXITED(status) &&
                                WEXITSTATUS(status) == EXIT_CURATE;
                if (!reported) {
                        kill(child, SIGKILL);
                        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                                ;
                }
                if (!reported)
                        goto fail_cgroup;
                remove_registration(cfg);
                if (cg.n > 0)
                        run_cgroup_destroy(&cg);
                sigprocmask(SIG_SETMASK, &old, NULL);
                return EXIT_CURATE;
        }
        /* sv[1] brings the child's sysinfo(2) listener */
        sysinfo_guard_init(&guard, sv[1], run_needs_daemon(&cfg->policy));
        status = supervise(child, &guard);
        sysinfo_guard_done(&guard);
        if (status == 128 + SIGKILL && cg.transient)
                report_oom(cfg, &cg);
        remove_registration(cfg);
        if (cg.n > 0)
                run_cgroup_destroy(&cg);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return status;

fail_cgroup:
        remove_registration(cfg);
        if (cg.n > 0)
                run_cgroup_destroy(&cg);
fail:
        fprintf(stderr, "curate: %s\n", error ? error : strerror(-r));
        sigprocmask(SIG_SETMASK, &old, NULL);
        return EXIT_CURATE;
}
