#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
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

/* The process side of `curate run`, in named phases (bubblewrap's way):
 *   parent:  ensure the daemon -> make the cgroup -> clone the child into new
 *            namespaces -> attach it, write its id maps -> release it ->
 *            forward signals until it ends -> remove the cgroup
 *   child:   build the mount table -> (pid namespace: become init, fork the
 *            command) -> drop privileges -> exec */

/* Signals passed on to the command. SIGCHLD is waited for as well. */
static const int forwarded_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH };

static void supervised_set(sigset_t *set) {
        sigemptyset(set);
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                sigaddset(set, forwarded_signals[i]);
        sigaddset(set, SIGCHLD);
}

static bool has_limits(const struct policy *p) {
        return p->memory != POLICY_UNSET || p->memory_swap != POLICY_UNSET || p->cpus_milli != POLICY_UNSET ||
               p->cpuset || p->pids != POLICY_UNSET;
}

static bool needs_daemon(const struct policy *p) {
        return p->views != 0 || p->curated_dev;
}

static int validate_limits(const struct policy *p, char **ret_error) {
        if (p->cgroup && has_limits(p))
                return error_printf(ret_error, -EINVAL,
                                    "--cgroup %s cannot be combined with limits: they would change a cgroup curate does not own",
                                    p->cgroup);
        if (p->memory_swap == POLICY_UNSET)
                return 0;
        if (p->memory == POLICY_UNSET)
                return error_printf(ret_error, -EINVAL, "--memory-swap needs --memory (it limits memory plus swap)");
        if (p->memory_swap != POLICY_MAX && (p->memory == POLICY_MAX || p->memory_swap < p->memory))
                return error_printf(ret_error, -EINVAL,
                                    "--memory-swap (%llu bytes) is below --memory: it limits memory plus swap",
                                    (unsigned long long)p->memory_swap);
        return 0;
}

static int validate_paths(const struct policy *p, char **ret_error) {
        struct stat st;

        if (p->rootfs) {
                if (stat(p->rootfs, &st) < 0)
                        return error_printf(ret_error, -errno, "--rootfs %s: %s", p->rootfs, strerror(errno));
                if (!S_ISDIR(st.st_mode))
                        return error_printf(ret_error, -ENOTDIR, "--rootfs %s: not a directory", p->rootfs);
        }
        for (size_t i = 0; i < p->n_mounts; i++) {
                const struct policy_mount *m = &p->mounts[i];
                if (m->src && stat(m->src, &st) < 0)
                        return error_printf(ret_error, -errno, "%s %s %s: %s: %s",
                                            m->kind == POLICY_RO_BIND ? "--ro-bind" : "--bind",
                                            m->src, m->dst, m->src, strerror(errno));
        }
        return 0;
}

/* What the container's /proc/driver/nvidia shows: decided here, in the
 * parent, so that a host whose driver files do not parse fails before
 * anything is created. A container without NVIDIA nodes still gets the view
 * (no GPU in it) rather than the host's list of every GPU. */
static int resolve_nvidia_view(int root_fd, struct run_config *cfg, char **ret_error) {
        _cleanup_free_ char *error = NULL;
        struct nvidia_host host = {};
        _cleanup_close_ int nv = open_beneath(root_fd, "proc/driver/nvidia", O_PATH | O_DIRECTORY);
        int r;

        /* no driver directory: nothing to curate, and no /proc/devices to
         * read on every run of a host without NVIDIA GPUs */
        if (nv == -ENOENT)
                return 0;
        r = nvidia_discover(root_fd, &host, &error);
        if (r == -ENODEV)
                return 0; /* no NVIDIA driver: nothing to curate */
        cfg->nvidia_view = true;
        if (r < 0) {
                for (size_t i = 0; i < cfg->dev.nodes.n; i++)
                        if (strncmp(cfg->dev.nodes.nodes[i].path, "/dev/nvidia", 11) == 0)
                                return error_printf(ret_error, r, "/proc/driver/nvidia: %s", error ? error : strerror(-r));
                /* no GPU given: an empty view needs nothing the driver says */
                cfg->nvidia_gpus = calloc(1, sizeof(char *));
                return cfg->nvidia_gpus ? 0 : -ENOMEM;
        }
        r = nvidia_proc_gpus(&host, &cfg->dev.nodes, &cfg->nvidia_gpus);
        if (r >= 0)
                r = nvidia_proc_caps(&host, &cfg->dev.nodes, &cfg->nvidia_caps);
        nvidia_host_done(&host);
        return r < 0 ? error_printf(ret_error, r, "/proc/driver/nvidia: %s", strerror(-r)) : 0;
}

static int resolve_devices(struct run_config *cfg, char **ret_error) {
        _cleanup_close_ int root_fd = -EBADF;
        const struct policy *p = &cfg->policy;
        int r;

        /* as root with the curated /dev, every container has an id for
         * `curate device add|remove`; one with devices also a registered
         * /dev of its own (one without keeps curatefs's shared, cached dev/
         * until a device is added) */
        if (geteuid() == 0 && !p->cgroup && p->curated_dev)
                snprintf(cfg->devices_id, sizeof(cfg->devices_id), "run-%d", getpid());
        if (p->n_devices == 0 && !p->gpu) {
                if (!cfg->devices_id[0])
                        return 0;
                root_fd = host_root_open(ret_error);
                return root_fd < 0 ? root_fd : resolve_nvidia_view(root_fd, cfg, ret_error);
        }
        if (geteuid() != 0 || p->cgroup)
                return error_printf(ret_error, -EPERM,
                                    "--device and --gpu need root and a cgroup of curate's own (not --cgroup): "
                                    "the device cgroup enforces them");
        if (!p->curated_dev)
                return error_printf(ret_error, -EINVAL, "--device and --gpu need the curated /dev (not --host-dev)");
        root_fd = host_root_open(ret_error);
        if (root_fd < 0)
                return root_fd;
        r = devices_resolve(root_fd, p->devices, p->n_devices, p->gpu, &cfg->dev, ret_error);
        if (r < 0)
                return r;
        r = resolve_nvidia_view(root_fd, cfg, ret_error);
        if (r < 0)
                return r;
        if (cfg->dev.n_hooks > 0)
                fprintf(stderr, "curate: warning: %zu CDI hook(s) not run (%s ...): curate runs no OCI hooks\n",
                        cfg->dev.n_hooks, cfg->dev.hooks[0].path);
        return 0;
}

void run_config_done(struct run_config *cfg) {
        cdi_edits_done(&cfg->dev);
        gpu_select_strv_free(cfg->nvidia_gpus);
        gpu_select_strv_free(cfg->nvidia_caps);
        cfg->nvidia_gpus = cfg->nvidia_caps = NULL;
}

static void remove_registration(const struct run_config *cfg) {
        if (cfg->devices_id[0])
                (void)reg_remove(cfg->devices_id);
}

int run_validate(struct run_config *cfg, char **ret_error) {
        const struct policy *p = &cfg->policy;
        bool root = geteuid() == 0;
        int r;

        if (!root && !p->user_ns)
                return error_printf(ret_error, -EPERM,
                                    "curate run needs root; an unprivileged caller can use --user");
        r = validate_limits(p, ret_error);
        if (r < 0)
                return r;
        if (!root && (has_limits(p) || p->cgroup))
                return error_printf(ret_error, -EPERM,
                                    "limits and --cgroup need root (an unprivileged --user run stays in the caller's cgroup)");
        r = validate_paths(p, ret_error);
        if (r < 0)
                return r;
        if (!root && needs_daemon(p) && !daemon_serving(cfg->mountpoint))
                return error_printf(ret_error, -ENOENT,
                                    "no curatefs serves %s and only root can start one: run `curate daemon start` as root, "
                                    "or use --views none --host-dev",
                                    cfg->mountpoint);
        return resolve_devices(cfg, ret_error);
}

static int exit_status(int status) {
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return EXIT_CURATE;
}

/* Everything the command keeps: the bounding set KEEP, nothing inheritable
 * or ambient, no_new_privs (so no setuid binary can win privileges back). */
static int drop_privileges(uint64_t keep) {
        int last = cap_max_bits();
        cap_t caps;
        int r = 0;

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        for (int cap = 0; cap < last; cap++)
                if (!(keep & (1ULL << cap)) && cap_drop_bound(cap) < 0 && errno != EINVAL)
                        return -errno;
        (void)cap_reset_ambient(); /* EINVAL on kernels without ambient caps */
        caps = cap_get_proc();
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

/* CDI additionalGIDs join the supplementary groups the command already has. */
static int add_groups(const gid_t *gids, size_t n) {
        _cleanup_free_ gid_t *all = NULL;
        int have;

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

static _Noreturn void exec_command(const struct run_config *cfg) {
        sigset_t none;
        int r, e;

        r = add_groups(cfg->dev.additional_gids, cfg->dev.n_additional_gids);
        if (r < 0)
                child_fail("adding the CDI additionalGIDs (setgroups)", r);
        r = drop_privileges(cfg->policy.caps);
        if (r < 0)
                child_fail("dropping privileges", r);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* every fd but stdin, stdout and stderr: nothing of curate's leaks */
        if (close_range(3, ~0U, 0) < 0)
                child_fail("closing file descriptors", -errno);
        /* the id `curate device add|remove` takes */
        if (cfg->devices_id[0] && setenv("CURATE_CONTAINER", cfg->devices_id, 1) < 0)
                child_fail("setting the environment", -errno);
        for (size_t i = 0; i < cfg->dev.n_env; i++) /* CDI env, in order: a later KEY= wins */
                if (putenv(cfg->dev.env[i]) != 0)
                        child_fail("setting the environment", -errno);
        execvp(cfg->argv[0], cfg->argv);
        e = errno;
        fprintf(stderr, "curate: %s: %s\n", cfg->argv[0], strerror(e));
        _exit(e == ENOENT || e == ENOTDIR ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
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

        cmd = fork();
        if (cmd < 0)
                child_fail("fork", -errno);
        if (cmd == 0)
                exec_command(cfg);
        (void)close_range(3, ~0U, 0);
        (void)drop_privileges(0);
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

static _Noreturn void child_main(const struct run_config *cfg, int go_fd) {
        _cleanup_free_ char *error = NULL;
        char go;
        int r;

        /* if curate dies (even by SIGKILL), the container goes with it */
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        if (read(go_fd, &go, 1) != 1)
                _exit(EXIT_CURATE); /* the parent failed and has reported why */
        close(go_fd);
        r = mounts_setup(cfg, &error);
        if (r < 0) {
                fprintf(stderr, "curate: %s\n", error ? error : strerror(-r));
                _exit(EXIT_CURATE);
        }
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

static int supervise(pid_t child) {
        sigset_t set;
        siginfo_t si;
        int status;

        supervised_set(&set);
        for (;;) {
                if (sigwaitinfo(&set, &si) < 0)
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
        unsigned long flags = CLONE_NEWNS | SIGCHLD;

        if (p->pid_ns)
                flags |= CLONE_NEWPID;
        if (p->user_ns)
                flags |= CLONE_NEWUSER;
        /* fork semantics (no new stack): the child runs on a copy of ours */
        return syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
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

/* Attach the released child to its cgroup and write its id maps, then let
 * it go. On failure the child is killed before it ran anything. */
static int release_child(const struct run_config *cfg, pid_t child, struct run_cgroup *cg, int go_fd,
                         char **ret_error) {
        int r;

        if (cg->n > 0 && (r = run_cgroup_attach(cg, child)) < 0)
                return error_printf(ret_error, r, "moving the command into %s: %s", cg->path[0], strerror(-r));
        if (cg->n > 0 && (r = restrict_devices(cfg, cg, ret_error)) < 0)
                return r;
        if (cfg->policy.user_ns && (r = write_id_maps(child, ret_error)) < 0)
                return r;
        if (write(go_fd, "g", 1) != 1)
                return error_printf(ret_error, -errno, "releasing the command: %s", strerror(errno));
        return 0;
}

int run_main(const struct run_config *cfg) {
        _cleanup_free_ char *error = NULL;
        struct run_cgroup cg = { .n = 0, .devices_at = -1, .unified_at = -1 };
        sigset_t set, old;
        int pipefd[2], status, r;
        pid_t child;

        /* blocked from here on: nothing sent to curate is lost or acted on
         * by default while the child is being set up */
        supervised_set(&set);
        sigprocmask(SIG_BLOCK, &set, &old);

        if (needs_daemon(&cfg->policy) && !daemon_serving(cfg->mountpoint)) {
                r = daemon_ensure(cfg->mountpoint, NULL, &error);
                if (r < 0)
                        goto fail;
        }
        /* as root, always a cgroup of its own: the views then show the
         * command's own usage, and nothing it leaves running survives it */
        if (geteuid() == 0) {
                r = make_cgroup(cfg, &cg, &error);
                if (r < 0)
                        goto fail;
        }
        /* before the child is released: curatefs must serve its /dev */
        if (cfg->dev.nodes.n > 0 && (r = device_list_register(cfg->devices_id, &cfg->dev.nodes, &error)) < 0)
                goto fail_cgroup;
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                r = error_printf(&error, -errno, "pipe: %s", strerror(errno));
                goto fail_cgroup;
        }
        child = clone_child(&cfg->policy);
        if (child < 0) {
                r = error_printf(&error, -errno, "cannot create the namespaces: %s", strerror(errno));
                close(pipefd[0]);
                close(pipefd[1]);
                goto fail_cgroup;
        }
        if (child == 0) {
                close(pipefd[1]);
                child_main(cfg, pipefd[0]);
        }
        close(pipefd[0]);
        r = release_child(cfg, child, &cg, pipefd[1], &error);
        close(pipefd[1]);
        if (r < 0) {
                kill(child, SIGKILL);
                while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                        ;
                goto fail_cgroup;
        }
        status = supervise(child);
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
