/* Test helper, run inside containers by the integration tests:
 *
 *   escape-probe NAME...
 *
 * tries each named operation and prints one line per NAME: "NAME=0" when it
 * succeeded, "NAME=EPERM" (the errno's name) when it failed, "NAME=SIGSYS"
 * (a signal's name) when it killed the process trying it (those run in a
 * child), "NAME=unknown" for a name not below (the exit status is then 2;
 * otherwise 0: failures are the data). getpid_ns prints "pid=N" instead.
 *
 * Every argument is harmless: a call that unexpectedly succeeds changes
 * nothing on the host, and most are chosen to fail with EINVAL, ENOENT,
 * EFAULT or EBADF when neither a seccomp filter nor a missing capability
 * stops them. So EPERM means refused; note that for some calls (bpf,
 * open_by_handle_at, swapon, acct, kexec, modules, reboot) the kernel also
 * answers EPERM to a caller without the capability, before looking at the
 * arguments: compare with a run under --seccomp unconfined to tell the two. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* 0, or the errno of syscall(2)'s -1 */
static int err_of(long r) {
        return r == -1 ? errno : 0;
}

/* keyctl(KEYCTL_GET_KEYRING_ID, session keyring, create 0): a lookup */
static int op_keyctl(void) {
        return err_of(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
}

/* a NULL key type: EFAULT */
static int op_add_key(void) {
        return err_of(syscall(SYS_add_key, NULL, NULL, NULL, 0, KEY_SPEC_PROCESS_KEYRING));
}

static int op_request_key(void) {
        return err_of(syscall(SYS_request_key, NULL, NULL, NULL, 0));
}

/* no such command: EINVAL (EPERM from the kernel where unprivileged bpf is off) */
static int op_bpf(void) {
        return err_of(syscall(SYS_bpf, -1, NULL, 0));
}

/* no attributes: EFAULT */
static int op_perf_event_open(void) {
        return err_of(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
}

/* every flag bit: EINVAL (UFFD_USER_MODE_ONLY among them needs no privilege) */
static int op_userfaultfd(void) {
        return err_of(syscall(SYS_userfaultfd, -1));
}

/* a handle for "/" where name_to_handle_at gives one, else an empty one
 * (EINVAL); opens "/" read-only at most */
static int op_open_by_handle_at(void) {
        union {
                struct file_handle fh;
                char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
        } h = { .fh.handle_bytes = MAX_HANDLE_SZ };
        int mount_id, root, fd, e;

        if (name_to_handle_at(AT_FDCWD, "/", &h.fh, &mount_id, 0) < 0)
                memset(&h, 0, sizeof(h));
        root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return errno;
        fd = open_by_handle_at(root, &h.fh, O_RDONLY | O_CLOEXEC);
        e = fd < 0 ? errno : 0;
        if (fd >= 0)
                close(fd);
        close(root);
        return e;
}

/* reads a handle, changes nothing */
static int op_name_to_handle_at(void) {
        union {
                struct file_handle fh;
                char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
        } h = { .fh.handle_bytes = MAX_HANDLE_SZ };
        int mount_id;

        return err_of(name_to_handle_at(AT_FDCWD, "/", &h.fh, &mount_id, 0));
}

/* one segment more than KEXEC_SEGMENT_MAX (16): EINVAL. Never 0 segments,
 * which would unload a loaded kernel. */
static int op_kexec_load(void) {
        return err_of(syscall(SYS_kexec_load, 0, 17, NULL, 0));
}

/* an empty image: ENOEXEC */
static int op_init_module(void) {
        return err_of(syscall(SYS_init_module, NULL, 0, ""));
}

static int op_finit_module(void) {
        return err_of(syscall(SYS_finit_module, -1, "", 0));
}

/* no such module: ENOENT */
static int op_delete_module(void) {
        return err_of(syscall(SYS_delete_module, "escape_probe_no_such_module", O_NONBLOCK));
}

static int op_swapon(void) {
        return err_of(syscall(SYS_swapon, "/nonexistent/escape-probe-swap", 0));
}

static int op_swapoff(void) {
        return err_of(syscall(SYS_swapoff, "/nonexistent/escape-probe-swap"));
}

/* a path that does not exist: ENOENT (acct(NULL) would turn accounting off) */
static int op_acct(void) {
        return err_of(syscall(SYS_acct, "/nonexistent/escape-probe-acct"));
}

/* CLOCK_MONOTONIC cannot be set: EINVAL, checked before any capability, so
 * an EPERM here is a filter's. (The current time on CLOCK_REALTIME would be
 * EPERM for any caller without CAP_SYS_TIME.) */
static int op_clock_settime(void) {
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return err_of(syscall(SYS_clock_settime, CLOCK_MONOTONIC, &now));
}

/* an invalid time (2 s of microseconds): EINVAL, before the capability check */
static int op_settimeofday(void) {
        struct timeval tv = { .tv_sec = 0, .tv_usec = 2000000 };

        return err_of(syscall(SYS_settimeofday, &tv, NULL));
}

/* without the magic numbers (EINVAL), and a command that reboots nothing
 * (LINUX_REBOOT_CMD_CAD_OFF) were they ever accepted */
static int op_reboot(void) {
        return err_of(syscall(SYS_reboot, 0, 0, LINUX_REBOOT_CMD_CAD_OFF, NULL));
}

/* put back the persona of before when the call went through */
static int try_personality(unsigned long persona) {
        long old = syscall(SYS_personality, 0xffffffffUL);
        long r = syscall(SYS_personality, persona);
        int e = err_of(r);

        if (r != -1 && old != -1)
                syscall(SYS_personality, (unsigned long)old);
        return e;
}

static int op_personality_bad(void) {
        return try_personality(0x0006); /* PER_BSD */
}

static int op_personality_ok(void) {
        return try_personality(0xffffffffUL); /* the query */
}

/* in a child: a new user namespace changes what the next probes see */
static int op_unshare_user(void) {
        return err_of(syscall(SYS_unshare, CLONE_NEWUSER));
}

/* the child of a raw clone returns 0 on its parent's stack copy (no stack
 * given, as fork) and leaves at once */
static int wait_clone_child(long pid) {
        int status;

        if (pid == 0)
                _exit(0);
        if (pid < 0)
                return errno;
        while (waitpid((pid_t)pid, &status, 0) < 0)
                if (errno != EINTR)
                        return errno;
        return 0;
}

/* flags first: x86's argument order (s390 puts the stack first) */
static int op_clone_user(void) {
        return wait_clone_child(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0));
}

struct clone_args_v0 { /* struct clone_args up to tls: CLONE_ARGS_SIZE_VER0 */
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static int op_clone3(void) {
        struct clone_args_v0 args = { .exit_signal = SIGCHLD };

        return wait_clone_child(syscall(SYS_clone3, &args, sizeof(args)));
}

/* no entries: EINVAL (EPERM from the kernel where io_uring_disabled says so) */
static int op_io_uring_setup(void) {
        struct io_uring_params params = {};

        return err_of(syscall(SYS_io_uring_setup, 0, &params));
}

#if defined(__x86_64__)
/* in a child: int $0x80 faults where the kernel runs no i386 code
 * (ia32_emulation=0), and a filter without the i386 arch kills */
static int op_keyctl_i386(void) {
        long ret;

        /* 288: keyctl in arch/x86/entry/syscalls/syscall_32.tbl */
        __asm__ volatile("int $0x80"
                         : "=a"(ret)
                         : "a"(288L), "b"((long)KEYCTL_GET_KEYRING_ID), "c"((long)KEY_SPEC_SESSION_KEYRING), "d"(0L)
                         : "memory", "r8", "r9", "r10", "r11");
        ret = (int)ret;
        return ret < 0 && ret > -4096 ? (int)-ret : 0;
}

/* keyctl is 250 and "common" in syscall_64.tbl: x32's is 250 with
 * __X32_SYSCALL_BIT. ENOSYS where the kernel has no x32 ABI; seccomp sees
 * the number before that. */
static int op_keyctl_x32(void) {
        return err_of(syscall(0x40000000L | 250, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
}
#endif

/* /dev/null's numbers; removed again if made */
static int op_mknod(void) {
        const char *path = "/tmp/escape-probe-node";

        if (mknod(path, S_IFCHR | 0600, makedev(1, 3)) < 0)
                return errno;
        unlink(path);
        return 0;
}

/* opened for writing, nothing written */
static int op_sysrq(void) {
        int fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);

        if (fd < 0)
                return errno;
        close(fd);
        return 0;
}

static const struct op {
        const char *name;
        int (*run)(void);
        int in_child; /* may change the process or kill it: run in a child */
} ops[] = {
        { "keyctl", op_keyctl, 0 },
        { "add_key", op_add_key, 0 },
        { "request_key", op_request_key, 0 },
        { "bpf", op_bpf, 0 },
        { "perf_event_open", op_perf_event_open, 0 },
        { "userfaultfd", op_userfaultfd, 0 },
        { "open_by_handle_at", op_open_by_handle_at, 0 },
        { "name_to_handle_at", op_name_to_handle_at, 0 },
        { "kexec_load", op_kexec_load, 0 },
        { "init_module", op_init_module, 0 },
        { "finit_module", op_finit_module, 0 },
        { "delete_module", op_delete_module, 0 },
        { "swapon", op_swapon, 0 },
        { "swapoff", op_swapoff, 0 },
        { "acct", op_acct, 0 },
        { "clock_settime", op_clock_settime, 0 },
        { "settimeofday", op_settimeofday, 0 },
        { "reboot", op_reboot, 0 },
        { "personality_bad", op_personality_bad, 0 },
        { "personality_ok", op_personality_ok, 0 },
        { "unshare_user", op_unshare_user, 1 },
        { "clone_user", op_clone_user, 0 },
        { "clone3", op_clone3, 0 },
        { "io_uring_setup", op_io_uring_setup, 0 },
#if defined(__x86_64__)
        { "keyctl_i386", op_keyctl_i386, 1 },
        { "keyctl_x32", op_keyctl_x32, 1 },
#endif
        { "mknod", op_mknod, 0 },
        { "sysrq", op_sysrq, 0 },
};

/* RUN in a child: its errno (>= 0) or minus the signal that killed it */
static int run_in_child(int (*run)(void)) {
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return errno;
        if (pid == 0)
                _exit(run());
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return errno;
        return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

static void print_result(const char *name, int r) {
        const char *what = NULL;

        if (r == 0) {
                printf("%s=0\n", name);
                return;
        }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
        what = r > 0 ? strerrorname_np(r) : sigabbrev_np(-r);
#endif
        if (what)
                printf("%s=%s%s\n", name, r < 0 ? "SIG" : "", what);
        else
                printf("%s=%s%d\n", name, r < 0 ? "signal-" : "errno-", r < 0 ? -r : r);
}

int main(int argc, char **argv) {
        int status = 0;

        if (argc < 2) {
                fprintf(stderr, "usage: escape-probe NAME...\nnames: getpid_ns ptrace:PID");
                for (size_t i = 0; i < ELEMENTSOF(ops); i++)
                        fprintf(stderr, " %s", ops[i].name);
                fputc('\n', stderr);
                return 2;
        }
        for (int a = 1; a < argc; a++) {
                const struct op *op = NULL;

                if (strcmp(argv[a], "getpid_ns") == 0) {
                        printf("pid=%d\n", (int)getpid());
                        continue;
                }
                /* ptrace:PID: attach to PID (and let go at once) */
                if (strncmp(argv[a], "ptrace:", 7) == 0) {
                        pid_t pid = (pid_t)atoi(argv[a] + 7);
                        int r = ptrace(PTRACE_SEIZE, pid, NULL, NULL) < 0 ? errno : 0;
                        if (r == 0)
                                (void)ptrace(PTRACE_DETACH, pid, NULL, NULL);
                        print_result("ptrace", r);
                        continue;
                }
                for (size_t i = 0; i < ELEMENTSOF(ops) && !op; i++)
                        if (strcmp(ops[i].name, argv[a]) == 0)
                                op = &ops[i];
                if (!op) {
                        printf("%s=unknown\n", argv[a]);
                        status = 2;
                        continue;
                }
                fflush(stdout); /* before a fork */
                print_result(op->name, op->in_child ? run_in_child(op->run) : op->run());
        }
        return status;
}
