#include "config.h"
/* The default seccomp filter (launcher/seccomp-filter.c), loaded for real.
 * Each test forks a child that sets no_new_privs, loads filters and makes
 * the syscalls; what they returned comes back through a pipe. No privileges
 * needed.
 *
 * A call the filter must refuse runs under a backstop: a filter loaded
 * first that answers every such call with ERRNO(BACKSTOP), so the call never
 * reaches the kernel even if the filter under test lets it through (these
 * tests run as root in CI). Among filters that answer with an errno the
 * newest one's wins (kernel/seccomp.c, seccomp_run_filters: the first of
 * the most restrictive actions, newest filter first): EPERM then means the
 * filter under test refused the call, BACKSTOP that it allowed it. Their
 * arguments are harmless as well (all -1 where nothing else is said: a bad
 * fd, pointer, flag or size), in case both filters fail. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <linux/keyctl.h>
#include <linux/reboot.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "macro.h"
#include "seccomp-bpf.h"
#include "seccomp-filter.h"

#define BACKSTOP EHWPOISON /* an errno none of these calls returns */

#define X32_BIT 0x40000000L /* __X32_SYSCALL_BIT */
/* The kernel's own numbers (arch/x86/entry/syscalls/syscall_{32,64}.tbl),
 * not libseccomp's: they check its tables too. keyctl is "common" in
 * syscall_64.tbl, so x32's is 250 | X32_BIT. */
#define I386_KEYCTL 288
#define I386_PERSONALITY 136
#define I386_UNSHARE 310
#define X64_KEYCTL 250
#define X64_PERSONALITY 135
#define X64_UNSHARE 272
#define X64_GETPID 39

/* ---- children ---- */

/* What a child reports: ints written to OUT, read back in order. */
#define MAX_RESULTS 64
struct outcome {
        int v[MAX_RESULTS];
        size_t n;
        int status; /* waitpid's */
};

struct setup {
        bool backstop;               /* load the backstop first */
        const struct policy *policy; /* then this policy's filter; NULL: none */
        bool no_nnp;                 /* leave no_new_privs unset (and drop root) */
        bool embedded;               /* load the build-time program (curate's way) */
};

typedef void (*probe_fn)(int out, const void *arg);

/* Child exit statuses for what failed before the probe ran. */
enum { CHILD_NNP = 90, CHILD_BACKSTOP, CHILD_FILTER_NEW, CHILD_FILTER_LOAD, CHILD_WRITE, CHILD_SETUID };

static void put(int out, int v) {
        if (write(out, &v, sizeof(v)) != sizeof(v))
                _exit(CHILD_WRITE);
}

/* The result of syscall(2) (-1 and errno) as 0 or the errno. */
static int err_of(long r) {
        return r == -1 ? errno : 0;
}

/* The result of a raw system call (-errno) as 0 or the errno. */
static int raw_err_of(long r) {
        return r < 0 && r > -4096 ? (int)-r : 0;
}

/* Every call some test expects refused, unconditionally: the list, the
 * calls refused for some arguments, and what test_refused_named calls by
 * name (should one drop out of the list). */
static const char *const backstop_extra[] = {
        "personality", "unshare", "clone", "clone3", "keyctl", "add_key", "bpf", "perf_event_open", "userfaultfd",
        "open_by_handle_at", "kexec_load", "init_module", "swapon", "acct", "clock_settime", "reboot", "io_uring_setup",
};

static int backstop_add(scmp_filter_ctx ctx, const char *name) {
        int nr = seccomp_syscall_resolve_name(name);
        return nr == __NR_SCMP_ERROR ? -ENOENT : seccomp_rule_add(ctx, SCMP_ACT_ERRNO(BACKSTOP), nr, 0);
}

static int backstop_load(void) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        int r = 0;

        if (!ctx)
                return -ENOMEM;
        if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
                r = seccomp_arch_add(ctx, SCMP_ARCH_X86);
                if (r >= 0)
                        r = seccomp_arch_add(ctx, SCMP_ARCH_X32);
        }
        for (size_t i = 0; r >= 0 && seccomp_refused[i]; i++)
                r = backstop_add(ctx, seccomp_refused[i]);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(backstop_extra); i++)
                r = backstop_add(ctx, backstop_extra[i]);
        if (r >= 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r;
}

static _Noreturn void child_main(const struct setup *s, probe_fn probe, const void *arg, int out) {
        static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGABRT };
        scmp_filter_ctx ctx = NULL;

        /* cmocka's handlers would carry on with the next test in here */
        for (size_t i = 0; i < ELEMENTSOF(fatal); i++)
                signal(fatal[i], SIG_DFL);
        if (s->no_nnp) {
                /* no CAP_SYS_ADMIN either: root becomes nobody */
                if (getuid() == 0 && (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0))
                        _exit(CHILD_SETUID);
        } else if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                _exit(CHILD_NNP);
        if (s->backstop && backstop_load() < 0)
                _exit(CHILD_BACKSTOP);
        if (s->policy && s->embedded) {
                int listener, no_listener;
                if (seccomp_default_load(s->policy, &listener, &no_listener) < 0)
                        _exit(CHILD_FILTER_LOAD);
        } else if (s->policy) {
                if (seccomp_filter_new(s->policy, &ctx) < 0)
                        _exit(CHILD_FILTER_NEW);
                if (!s->no_nnp && ctx && seccomp_filter_load(ctx) < 0)
                        _exit(CHILD_FILTER_LOAD);
        }
        probe(out, s->no_nnp ? ctx : arg);
        _exit(0);
}

/* Run PROBE in a child set up as S; ARG is passed on, except that with
 * S->no_nnp the probe gets the built, unloaded filter instead. */
static void run_child(const struct setup *s, probe_fn probe, const void *arg, struct outcome *ret) {
        int fds[2];
        pid_t pid;
        ssize_t n;

        *ret = (struct outcome){};
        assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(fds[0]);
                child_main(s, probe, arg, fds[1]);
        }
        close(fds[1]);
        while (ret->n < MAX_RESULTS) {
                n = read(fds[0], &ret->v[ret->n], sizeof(int));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n != sizeof(int))
                        break;
                ret->n++;
        }
        close(fds[0]);
        while (waitpid(pid, &ret->status, 0) < 0)
                assert_int_equal(errno, EINTR);
}

/* The child must have run its probe to the end. */
static void expect_ran(const struct outcome *o) {
        static const char *const why[] = {
                [CHILD_NNP - CHILD_NNP] = "PR_SET_NO_NEW_PRIVS failed",
                [CHILD_BACKSTOP - CHILD_NNP] = "the backstop filter did not load",
                [CHILD_FILTER_NEW - CHILD_NNP] = "seccomp_filter_new failed",
                [CHILD_FILTER_LOAD - CHILD_NNP] = "seccomp_filter_load failed",
                [CHILD_WRITE - CHILD_NNP] = "writing a result failed",
                [CHILD_SETUID - CHILD_NNP] = "dropping root failed",
        };
        if (WIFSIGNALED(o->status))
                fail_msg("child killed by signal %d (%s)", WTERMSIG(o->status), strsignal(WTERMSIG(o->status)));
        if (WEXITSTATUS(o->status) >= CHILD_NNP && WEXITSTATUS(o->status) <= CHILD_SETUID)
                fail_msg("child: %s", why[WEXITSTATUS(o->status) - CHILD_NNP]);
        assert_int_equal(WEXITSTATUS(o->status), 0);
}

static void expect_errno(const struct outcome *o, size_t i, int want, const char *what) {
        assert_true(i < o->n);
        if (o->v[i] != want)
                fail_msg("%s: got %s (%d), want %s (%d)", what, o->v[i] ? strerrorname_np(o->v[i]) : "success",
                         o->v[i], want ? strerrorname_np(want) : "success", want);
}

static struct policy default_policy(void) {
        struct policy p;

        assert_int_equal(policy_init_default(&p), 0);
        assert_int_equal(p.seccomp, POLICY_SECCOMP_DEFAULT);
        assert_false(p.allow_userns);
        return p;
}

/* ---- the ABIs of x86_64 ---- */

enum abi { ABI_NATIVE, ABI_I386, ABI_X32, _ABI_MAX };
static const char *const abi_names[] = { "native", "i386", "x32" };
static const uint32_t abi_arch[] = { SCMP_ARCH_NATIVE, SCMP_ARCH_X86, SCMP_ARCH_X32 };

#if defined(__x86_64__)
/* A system call through the i386 ABI (int $0x80) from 64-bit code: the
 * kernel treats it as a compat call (seccomp_data.arch AUDIT_ARCH_I386).
 * It zeroes r8-r11 on the way back. */
static long int80(long nr, long a1, long a2, long a3, long a4, long a5) {
        long ret;

        __asm__ volatile("int $0x80"
                         : "=a"(ret)
                         : "a"(nr), "b"(a1), "c"(a2), "d"(a3), "S"(a4), "D"(a5)
                         : "memory", "r8", "r9", "r10", "r11");
        return (int)ret; /* eax: the compat return value */
}
#define HAVE_COMPAT_ABIS 1
#else
#define HAVE_COMPAT_ABIS 0
static long int80(long nr, long a1, long a2, long a3, long a4, long a5) {
        return -ENOSYS;
}
#endif

/* Whether int $0x80 works here: a kernel booted with ia32_emulation=0 (or
 * a guest that cannot) has no gate for it, and the instruction faults
 * (SIGSEGV) before any syscall entry, seccomp included. Set by main(). */
static bool i386_works;

static bool probe_i386(void) {
        int status;
        pid_t pid;

        if (!HAVE_COMPAT_ABIS)
                return false;
        pid = fork();
        if (pid == 0) {
                signal(SIGSEGV, SIG_DFL);
                _exit(int80(20, 0, 0, 0, 0, 0) == getpid() ? 0 : 1); /* i386 getpid */
        }
        if (pid < 0)
                return false;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return false;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* The ABIs a test can go through here: native, x32 (x86_64: seccomp sees
 * the number whether or not the kernel has the x32 ABI) and i386 where
 * int $0x80 works. */
static bool abi_usable(enum abi abi) {
        switch (abi) {
        case ABI_NATIVE:
                return true;
        case ABI_X32:
                return HAVE_COMPAT_ABIS;
        case ABI_I386:
                return i386_works;
        default:
                return false;
        }
}

/* NR (already with X32_BIT for x32) through ABI, six args; 0 or the errno. */
static int call_abi(enum abi abi, long nr, long a1, long a2, long a3, long a4, long a5) {
        if (abi == ABI_I386)
                return raw_err_of(int80(nr, a1, a2, a3, a4, a5));
        return err_of(syscall(nr, a1, a2, a3, a4, a5, -1L));
}

/* ---- the interface ---- */

static void test_unconfined_builds_nothing(void **state) {
        struct policy p = default_policy();
        scmp_filter_ctx ctx = (scmp_filter_ctx)&p;

        p.seccomp = POLICY_SECCOMP_UNCONFINED;
        assert_int_equal(seccomp_filter_new(&p, &ctx), 0);
        assert_null(ctx);
        p.seccomp = POLICY_SECCOMP_DEFAULT;
        assert_int_equal(seccomp_filter_new(&p, &ctx), 0);
        assert_non_null(ctx);
        seccomp_release(ctx);
        assert_int_equal(seccomp_filter_load(NULL), -EINVAL);
        policy_done(&p);
}

/* What docker's and podman's profiles refuse is all in the list, and every
 * name in it is a syscall libseccomp knows on x86 (a typo would be skipped
 * silently by the filter). */
static void test_refused_list(void **state) {
        static const char *const expected[] = {
                "add_key", "keyctl", "request_key", "bpf", "perf_event_open", "userfaultfd", "kexec_load",
                "kexec_file_load", "reboot", "init_module", "finit_module", "delete_module", "create_module",
                "query_module", "get_kernel_syms", "open_by_handle_at", "name_to_handle_at", "swapon", "swapoff",
                "acct", "clock_settime", "clock_settime64", "settimeofday", "stime", "clock_adjtime",
                "clock_adjtime64", "iopl", "ioperm", "vm86", "vm86old", "uselib", "ustat", "sysfs", "_sysctl",
                "nfsservctl", "lookup_dcookie", "quotactl", "quotactl_fd", "io_uring_setup", "io_uring_enter",
                "io_uring_register",
        };
        /* left to capabilities, or refused only for some arguments */
        static const char *const not_listed[] = {
                "mount", "fsopen", "kcmp", "pivot_root", "setns", "personality", "unshare", "clone", "clone3",
        };
        size_t n = 0;

        for (; seccomp_refused[n]; n++) {
                bool known = false;
                for (size_t a = 0; a < _ABI_MAX; a++)
                        known = known || seccomp_syscall_resolve_name_arch(abi_arch[a], seccomp_refused[n]) >= 0;
                if (!known)
                        fail_msg("'%s' is a syscall of no x86 arch libseccomp knows", seccomp_refused[n]);
                for (size_t j = 0; j < n; j++)
                        if (streq(seccomp_refused[j], seccomp_refused[n]))
                                fail_msg("'%s' listed twice", seccomp_refused[n]);
        }
        for (size_t i = 0; i < ELEMENTSOF(expected); i++) {
                bool found = false;
                for (size_t j = 0; j < n; j++)
                        found = found || streq(seccomp_refused[j], expected[i]);
                if (!found)
                        fail_msg("'%s' is not refused", expected[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(not_listed); i++)
                for (size_t j = 0; j < n; j++)
                        if (streq(seccomp_refused[j], not_listed[i]))
                                fail_msg("'%s' must not be refused outright", not_listed[i]);
        assert_int_equal(n, ELEMENTSOF(expected));
}

/* ---- refused calls ---- */

/* Each with arguments that fail harmlessly where the call runs: a key
 * lookup, bad pointers and fds, a path that does not exist, a clock that
 * cannot be set, reboot without its magic numbers. */
static void probe_named(int out, const void *arg) {
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        put(out, err_of(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)));
        put(out, err_of(syscall(SYS_add_key, NULL, NULL, NULL, 0, KEY_SPEC_SESSION_KEYRING)));
        put(out, err_of(syscall(SYS_bpf, -1, NULL, 0)));
        put(out, err_of(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0)));
        put(out, err_of(syscall(SYS_userfaultfd, -1)));
        put(out, err_of(syscall(SYS_open_by_handle_at, -1, NULL, 0)));
        put(out, err_of(syscall(SYS_kexec_load, 0, -1L, NULL, -1L)));
        put(out, err_of(syscall(SYS_init_module, NULL, 0, "")));
        put(out, err_of(syscall(SYS_swapon, "/nonexistent/escape-probe-swap", 0)));
        put(out, err_of(syscall(SYS_acct, "/nonexistent/escape-probe-acct")));
        put(out, err_of(syscall(SYS_clock_settime, CLOCK_MONOTONIC, &now)));
        put(out, err_of(syscall(SYS_reboot, 0, 0, LINUX_REBOOT_CMD_CAD_OFF, NULL)));
        put(out, err_of(syscall(SYS_io_uring_setup, 0, NULL)));
}
static const char *const named[] = {
        "keyctl", "add_key", "bpf", "perf_event_open", "userfaultfd", "open_by_handle_at", "kexec_load",
        "init_module", "swapon", "acct", "clock_settime", "reboot", "io_uring_setup",
};

static void test_refused_named(void **state) {
        struct policy p = default_policy();
        struct outcome o;

        /* the harness: the backstop alone answers all of them */
        run_child(&(struct setup){ .backstop = true }, probe_named, NULL, &o);
        expect_ran(&o);
        assert_int_equal(o.n, ELEMENTSOF(named));
        for (size_t i = 0; i < o.n; i++)
                expect_errno(&o, i, BACKSTOP, named[i]);
        run_child(&(struct setup){ .backstop = true, .policy = &p }, probe_named, NULL, &o);
        expect_ran(&o);
        assert_int_equal(o.n, ELEMENTSOF(named));
        for (size_t i = 0; i < o.n; i++)
                expect_errno(&o, i, EPERM, named[i]);
        policy_done(&p);
}

/* Every listed name, through every ABI that has it (numbers from
 * libseccomp's tables); reports the wrong ones as (name, abi, errno). */
static void probe_all_abis(int out, const void *arg) {
        const int *want = arg;

        for (size_t i = 0; seccomp_refused[i]; i++)
                for (int a = 0; a < _ABI_MAX; a++) {
                        int nr = seccomp_syscall_resolve_name_arch(abi_arch[a], seccomp_refused[i]);
                        int e;
                        if (nr < 0 || !abi_usable(a))
                                continue;
                        e = call_abi(a, nr, -1, -1, -1, -1, -1);
                        if (e != *want) {
                                put(out, (int)i);
                                put(out, a);
                                put(out, e);
                        }
                }
}

static void expect_no_wrong(const struct outcome *o, int want) {
        expect_ran(o);
        if (o->n >= 3)
                fail_msg("%zu wrong (or more), first %s through the %s ABI: %s, want %s", o->n / 3,
                         seccomp_refused[o->v[0]], abi_names[o->v[1]], o->v[2] ? strerrorname_np(o->v[2]) : "success",
                         strerrorname_np(want));
        assert_int_equal(o->n, 0);
}

static void test_refused_every_abi(void **state) {
        struct policy p = default_policy();
        struct outcome o;

        run_child(&(struct setup){ .backstop = true }, probe_all_abis, &(int){ BACKSTOP }, &o);
        expect_no_wrong(&o, BACKSTOP);
        run_child(&(struct setup){ .backstop = true, .policy = &p }, probe_all_abis, &(int){ EPERM }, &o);
        expect_no_wrong(&o, EPERM);
        policy_done(&p);
}

/* keyctl(KEYCTL_GET_KEYRING_ID, session keyring, no create): a lookup. */
static int keyctl_abi(enum abi abi) {
        long nr = abi == ABI_I386 ? I386_KEYCTL : abi == ABI_X32 ? X32_BIT | X64_KEYCTL : (long)SYS_keyctl;
        return call_abi(abi, nr, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0, 0, 0);
}

static void probe_keyctl(int out, const void *arg) {
        enum abi abi = *(const enum abi *)arg;

        put(out, keyctl_abi(ABI_NATIVE));
        put(out, keyctl_abi(abi));
}

/* keyctl by the kernel's own number for ABI: unfiltered it is the native
 * one (the same lookup, the same answer; x32's may be ENOSYS, a kernel
 * without CONFIG_X86_X32_ABI), under the backstop it reaches seccomp as
 * keyctl, and the filter refuses it (x32's before the kernel looks at the
 * number). */
static void check_keyctl_abi(enum abi abi) {
        struct policy p = default_policy();
        struct outcome o;
        int native;

        run_child(&(struct setup){}, probe_keyctl, &abi, &o);
        expect_ran(&o);
        assert_int_equal(o.n, 2);
        native = o.v[0];
        if (!(abi == ABI_X32 && o.v[1] == ENOSYS))
                expect_errno(&o, 1, native, "keyctl, unfiltered (as native)");
        run_child(&(struct setup){ .backstop = true }, probe_keyctl, &abi, &o);
        expect_ran(&o);
        expect_errno(&o, 1, BACKSTOP, "keyctl, backstop only");
        run_child(&(struct setup){ .backstop = true, .policy = &p }, probe_keyctl, &abi, &o);
        expect_ran(&o);
        expect_errno(&o, 0, EPERM, "native keyctl, filtered");
        expect_errno(&o, 1, EPERM, "keyctl, filtered");
        policy_done(&p);
}

static void test_i386_abi(void **state) {
        if (!abi_usable(ABI_I386))
                skip(); /* no int $0x80 here (x86_64 kernel without ia32 emulation, or not x86_64) */
        check_keyctl_abi(ABI_I386);
}

static void probe_x32_getpid(int out, const void *arg) {
        put(out, err_of(syscall(X32_BIT | X64_GETPID)));
}

static void test_x32_abi(void **state) {
        struct policy p = default_policy();
        struct outcome o;

        if (!abi_usable(ABI_X32))
                skip();
        check_keyctl_abi(ABI_X32);
        /* an x32 call the filter allows gets the kernel's answer: not a
         * kill (the bad-arch action), not EPERM */
        run_child(&(struct setup){ .policy = &p }, probe_x32_getpid, NULL, &o);
        expect_ran(&o);
        assert_int_equal(o.n, 1);
        assert_int_not_equal(o.v[0], EPERM); /* ENOSYS without x32, else 0 */
        policy_done(&p);
}

/* ---- personality ---- */

static bool personality_allowed(uint64_t v) {
        uint32_t lo = (uint32_t)v; /* the kernel takes an unsigned int */
        return lo == 0xffffffffu || (lo & ~UINT32_C(0x20008)) == 0;
}

static void probe_personality_real(int out, const void *arg) {
        long persona = syscall(SYS_personality, 0xffffffffUL);

        put(out, persona < 0 ? errno : 0);
        put(out, err_of(syscall(SYS_personality, 0x0006UL))); /* PER_BSD */
        put(out, err_of(syscall(SYS_personality, 0x0040000UL))); /* ADDR_NO_RANDOMIZE */
        put(out, err_of(syscall(SYS_personality, 0x0008UL))); /* PER_LINUX32 */
        put(out, (int)syscall(SYS_personality, 0xffffffffUL));
        put(out, err_of(syscall(SYS_personality, 0UL))); /* PER_LINUX */
}

/* For real: the query and an allowed change work, a refused one fails. */
static void test_personality(void **state) {
        struct policy p = default_policy();
        struct outcome o;

        run_child(&(struct setup){ .policy = &p }, probe_personality_real, NULL, &o);
        expect_ran(&o);
        assert_int_equal(o.n, 6);
        expect_errno(&o, 0, 0, "personality(0xffffffff)");
        expect_errno(&o, 1, EPERM, "personality(PER_BSD)");
        expect_errno(&o, 2, EPERM, "personality(ADDR_NO_RANDOMIZE)");
        expect_errno(&o, 3, 0, "personality(PER_LINUX32)");
        assert_int_equal(o.v[4], 0x0008);
        expect_errno(&o, 5, 0, "personality(PER_LINUX)");
        policy_done(&p);
}

/* Many values through each ABI against personality_allowed(): every value
 * with one or two bits set, one or two bits clear, the allowed ones with
 * high bits (which the kernel ignores) and pseudo-random ones. Reports the
 * number of wrong answers and the first (abi, value, errno). */
static void sweep_one(int out, enum abi abi, uint64_t v, int *wrong) {
        long nr = abi == ABI_I386 ? I386_PERSONALITY : abi == ABI_X32 ? X32_BIT | X64_PERSONALITY : SYS_personality;
        int want = personality_allowed(v) ? BACKSTOP : EPERM;
        /* i386 registers are 32 bits; x32 passes 64 (libseccomp compares the low half) */
        int e = call_abi(abi, nr, (long)(abi == ABI_I386 ? (uint32_t)v : v), 0, 0, 0, 0);

        if (e != want && (*wrong)++ == 0) {
                put(out, abi);
                put(out, (int)(uint32_t)v);
                put(out, (int)(v >> 32));
                put(out, e);
        }
}

static void probe_personality_sweep(int out, const void *arg) {
        static const uint64_t allowed[] = { 0, 0x8, 0x20000, 0x20008, 0xffffffff };
        uint64_t x = 0x9e3779b97f4a7c15u;
        int wrong = 0;

        for (int abi = 0; abi < _ABI_MAX; abi++) {
                if (!abi_usable(abi))
                        continue;
                for (unsigned i = 0; i < 32; i++)
                        for (unsigned j = i; j < 32; j++) {
                                uint32_t bits = 1u << i | 1u << j;
                                sweep_one(out, abi, bits, &wrong);
                                sweep_one(out, abi, ~bits, &wrong);
                                sweep_one(out, abi, bits | 0x20008, &wrong);
                                sweep_one(out, abi, ~bits & ~UINT32_C(0x20008), &wrong);
                        }
                for (size_t i = 0; i < ELEMENTSOF(allowed); i++) {
                        sweep_one(out, abi, allowed[i], &wrong);
                        sweep_one(out, abi, allowed[i] | 1ULL << 32, &wrong);
                        sweep_one(out, abi, allowed[i] | 0xffffffff00000000u, &wrong);
                }
                for (int i = 0; i < 20000; i++) {
                        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
                        sweep_one(out, abi, x, &wrong);
                        sweep_one(out, abi, x & 0xffffffff, &wrong);
                }
        }
        put(out, wrong);
}

static void test_personality_values(void **state) {
        struct policy p = default_policy();
        struct outcome o;

        run_child(&(struct setup){ .backstop = true, .policy = &p }, probe_personality_sweep, NULL, &o);
        expect_ran(&o);
        if (o.n == 5)
                fail_msg("%d wrong; first through the %s ABI: personality(0x%08x%08x) gave %s", o.v[4],
                         abi_names[o.v[0]], (unsigned)o.v[2], (unsigned)o.v[1],
                         o.v[3] ? strerrorname_np(o.v[3]) : "success");
        assert_int_equal(o.n, 1);
        assert_int_equal(o.v[0], 0);
        policy_done(&p);
}

/* ---- user namespaces ---- */

struct clone_args_v0 { /* struct clone_args up to tls: CLONE_ARGS_SIZE_VER0 */
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

/* Under the backstop: none of these creates anything. */
static void probe_userns(int out, const void *arg) {
        struct clone_args_v0 args = { .exit_signal = SIGCHLD };

        put(out, err_of(syscall(SYS_unshare, CLONE_NEWUSER)));
        put(out, err_of(syscall(SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID)));
        put(out, err_of(syscall(SYS_unshare, CLONE_NEWNS)));
        put(out, err_of(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)));
        put(out, err_of(syscall(SYS_clone3, &args, sizeof(args))));
        /* the numbers below are x86's; a skipped one reports the expected answer */
        put(out, abi_usable(ABI_X32) ? call_abi(ABI_X32, X32_BIT | X64_UNSHARE, CLONE_NEWUSER, 0, 0, 0, 0) : -1);
        put(out, abi_usable(ABI_I386) ? call_abi(ABI_I386, I386_UNSHARE, CLONE_NEWUSER, 0, 0, 0, 0) : -1);
}
static const char *const userns_calls[] = {
        "unshare(CLONE_NEWUSER)", "unshare(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID)", "unshare(CLONE_NEWNS)",
        "clone(CLONE_NEWUSER|SIGCHLD)", "clone3", "x32 unshare(CLONE_NEWUSER)", "i386 unshare(CLONE_NEWUSER)",
};

static void test_userns_refused(void **state) {
        struct policy p = default_policy();
        const int want[] = { EPERM, EPERM, BACKSTOP, EPERM, ENOSYS, EPERM, EPERM };
        struct outcome o;

        run_child(&(struct setup){ .backstop = true, .policy = &p }, probe_userns, NULL, &o);
        expect_ran(&o);
        assert_int_equal(o.n, ELEMENTSOF(want));
        for (size_t i = 0; i < o.n; i++)
                if (o.v[i] != -1)
                        expect_errno(&o, i, want[i], userns_calls[i]);
        policy_done(&p);
}

static void probe_unshare_user(int out, const void *arg) {
        put(out, err_of(syscall(SYS_unshare, CLONE_NEWUSER)));
}

/* allow_userns: the filter lets all of them through (to the backstop), and
 * a real unshare(CLONE_NEWUSER) ends as it does without a filter. */
static void test_userns_allowed(void **state) {
        struct policy p = default_policy();
        struct outcome o, bare;

        p.allow_userns = true;
        run_child(&(struct setup){ .backstop = true, .policy = &p }, probe_userns, NULL, &o);
        expect_ran(&o);
        assert_int_equal(o.n, ELEMENTSOF(userns_calls));
        for (size_t i = 0; i < o.n; i++)
                if (o.v[i] != -1)
                        expect_errno(&o, i, BACKSTOP, userns_calls[i]);
        run_child(&(struct setup){}, probe_unshare_user, NULL, &bare);
        expect_ran(&bare);
        run_child(&(struct setup){ .policy = &p }, probe_unshare_user, NULL, &o);
        expect_ran(&o);
        expect_errno(&o, 0, bare.v[0], "unshare(CLONE_NEWUSER) with allow_userns, as unfiltered");
        policy_done(&p);
}

/* ---- what still works ---- */

static void *thread_main(void *arg) {
        return arg;
}

static bool seccomp_mode_filter(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
        char line[256];

        while (f && fgets(line, sizeof(line), f))
                if (streq(line, "Seccomp:\t2\n"))
                        return true;
        return false;
}

static int pipe_roundtrip(void) {
        _cleanup_close_ int r = -EBADF, w = -EBADF;
        int fds[2];
        char c = 0;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return errno;
        r = fds[0];
        w = fds[1];
        if (write(w, "x", 1) != 1 || read(r, &c, 1) != 1)
                return errno;
        return c == 'x' ? 0 : EINVAL;
}

static int mmap_anon(void) {
        void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (m == MAP_FAILED)
                return errno;
        *(volatile char *)m = 1;
        return munmap(m, 4096) < 0 ? errno : 0;
}

/* glibc's fork: clone(2) without CLONE_NEWUSER */
static int fork_wait(void) {
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return errno;
        if (pid == 0)
                _exit(7);
        if (waitpid(pid, &status, 0) < 0)
                return errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : EINVAL;
}

/* glibc (2.34+) tries clone3 first and takes ENOSYS for "use clone" */
static int thread_roundtrip(void) {
        static int token;
        pthread_t t;
        void *ret = NULL;
        int r = pthread_create(&t, NULL, thread_main, &token);

        if (r != 0)
                return r;
        r = pthread_join(t, &ret);
        return r != 0 ? r : ret == &token ? 0 : EINVAL;
}

static void probe_works(int out, const void *arg) {
        put(out, getpid() > 0 && getpid() == (pid_t)syscall(SYS_getpid) ? 0 : EINVAL);
        put(out, pipe_roundtrip());
        put(out, mmap_anon());
        put(out, fork_wait());
        put(out, thread_roundtrip());
        put(out, err_of(syscall(SYS_unshare, 0)));
        put(out, seccomp_mode_filter() ? 0 : ENOENT);
}

static void test_still_works(void **state) {
        static const char *const what[] = {
                "getpid", "pipe/write/read", "mmap", "fork", "pthread_create", "unshare(0)", "Seccomp:\\t2 in status",
        };
        struct policy p = default_policy();
        struct outcome o;

        run_child(&(struct setup){ .policy = &p }, probe_works, NULL, &o);
        expect_ran(&o);
        assert_int_equal(o.n, ELEMENTSOF(what));
        for (size_t i = 0; i < o.n; i++)
                expect_errno(&o, i, 0, what[i]);
        policy_done(&p);
}

/* ---- loading ---- */

static void probe_load(int out, const void *ctx) {
        put(out, -seccomp_filter_load((scmp_filter_ctx)ctx));
}

/* The filter does not set no_new_privs: without it and without
 * CAP_SYS_ADMIN the kernel refuses it, and that errno comes back (not
 * libseccomp's -ECANCELED). */
static void test_load_needs_nnp_or_cap(void **state) {
        struct policy p = default_policy();
        struct outcome o;

        if (getuid() != 0 && geteuid() != 0) {
                /* an unprivileged caller may still hold CAP_SYS_ADMIN in a user namespace */
                _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
                char line[256];
                unsigned long long eff = 0;
                while (f && fgets(line, sizeof(line), f))
                        if (sscanf(line, "CapEff: %llx", &eff) == 1)
                                break;
                if (eff & 1ULL << 21)
                        skip();
        }
        run_child(&(struct setup){ .policy = &p, .no_nnp = true }, probe_load, NULL, &o);
        expect_ran(&o);
        assert_int_equal(o.n, 1);
        expect_errno(&o, 0, EACCES, "loading without no_new_privs or CAP_SYS_ADMIN");
        policy_done(&p);
}

/* ---- the program curate loads: compiled at build time ---- */

/* The arrays seccomp-gen wrote are what the rules compile to now: a build
 * that changed a rule without regenerating them would fail here. */
static void test_embedded_is_current(void **state) {
        for (int v = 0; v < SECCOMP_VARIANTS; v++) {
                struct policy p;
                scmp_filter_ctx ctx = NULL;
                int fd = memfd_create("bpf", MFD_CLOEXEC);
                off_t size;
                _cleanup_free_ void *fresh = NULL;

                assert_true(fd >= 0);
                seccomp_variant_policy(v, &p);
                assert_int_equal(seccomp_variant(&p), v);
                assert_int_equal(seccomp_filter_new(&p, &ctx), 0);
                assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
                seccomp_release(ctx);
                size = lseek(fd, 0, SEEK_END);
                assert_int_equal(size, seccomp_bpf[v].len * sizeof(struct sock_filter));
                fresh = malloc(size);
                assert_non_null(fresh);
                assert_int_equal(pread(fd, fresh, size, 0), size);
                assert_memory_equal(fresh, seccomp_bpf[v].filter, size);
                close(fd);
        }
        /* unconfined: no variant, and nothing is loaded */
        struct policy u = { .seccomp = POLICY_SECCOMP_UNCONFINED };
        assert_int_equal(seccomp_variant(&u), -1);
}

/* Loaded as curate loads it, the build-time program refuses what the
 * filter refuses, on every ABI, and lets user namespaces through only in
 * the allow_userns variant. */
static void test_embedded_refuses(void **state) {
        struct policy p = default_policy();
        const int want[] = { EPERM, EPERM, BACKSTOP, EPERM, ENOSYS, EPERM, EPERM };
        struct outcome o;

        run_child(&(struct setup){ .backstop = true, .policy = &p, .embedded = true }, probe_named, NULL, &o);
        expect_ran(&o);
        assert_int_equal(o.n, ELEMENTSOF(named));
        for (size_t i = 0; i < o.n; i++)
                expect_errno(&o, i, EPERM, named[i]);
        run_child(&(struct setup){ .backstop = true, .policy = &p, .embedded = true }, probe_userns, NULL, &o);
        expect_ran(&o);
        assert_int_equal(o.n, ELEMENTSOF(want));
        for (size_t i = 0; i < o.n; i++)
                if (o.v[i] != -1)
                        expect_errno(&o, i, want[i], userns_calls[i]);
        p.allow_userns = true;
        run_child(&(struct setup){ .backstop = true, .policy = &p, .embedded = true }, probe_userns, NULL, &o);
        expect_ran(&o);
        for (size_t i = 0; i < o.n; i++)
                if (o.v[i] != -1 && i != 4 /* clone3: the backstop's */)
                        expect_errno(&o, i, BACKSTOP, userns_calls[i]);
        run_child(&(struct setup){ .policy = &p, .embedded = true }, probe_named, NULL, &o);
        expect_ran(&o);
        expect_errno(&o, 0, EPERM, "keyctl (allow_userns variant)");
        policy_done(&p);
}

int main(void) {
        i386_works = probe_i386();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unconfined_builds_nothing),
                cmocka_unit_test(test_refused_list),
                cmocka_unit_test(test_refused_named),
                cmocka_unit_test(test_refused_every_abi),
                cmocka_unit_test(test_i386_abi),
                cmocka_unit_test(test_x32_abi),
                cmocka_unit_test(test_personality),
                cmocka_unit_test(test_personality_values),
                cmocka_unit_test(test_userns_refused),
                cmocka_unit_test(test_userns_allowed),
                cmocka_unit_test(test_still_works),
                cmocka_unit_test(test_load_needs_nnp_or_cap),
                cmocka_unit_test(test_embedded_is_current),
                cmocka_unit_test(test_embedded_refuses),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
