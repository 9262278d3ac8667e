#include "config.h"
/* The default seccomp filter of `curate run`: everything is allowed but
 * what docker's and podman's default profiles refuse to a container without
 * capabilities. Refused calls fail with EPERM (clone3 with ENOSYS, see
 * add_userns), so programs see what they would see without the privilege,
 * and the filter stays small: it is built and loaded once per container
 * start. The mount family, kcmp, pivot_root and setns stay allowed: what
 * they can do is the capabilities' to decide, and the container lacks those.
 *
 * Built from small rule sets, each a function adding its rules to one
 * context (rule_sets below). A later one can add an SCMP_ACT_NOTIFY rule
 * (for instance sysinfo(2), answered by the launcher through seccomp user
 * notification) to the same context without touching these: libseccomp
 * asks the kernel for the listener fd itself when a filter has a notify
 * rule (seccomp_notify_fd() after loading); SCMP_FLTATR_CTL_TSYNC must then
 * stay unset, which it is. */
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <seccomp.h>
#include "macro.h"
#include "seccomp-filter.h"

const char *const seccomp_refused[] = {
        /* the key retention service is not namespaced: the host's keys and other containers' */
        "add_key", "keyctl", "request_key",
        /* kernel attack surface and a view of the host: eBPF, perf counters (kernel addresses, other tasks) */
        "bpf", "perf_event_open",
        /* stalls the kernel at a page fault of the caller's choosing: the classic race widener of exploits */
        "userfaultfd",
        /* replace or stop the host's kernel */
        "kexec_load", "kexec_file_load", "reboot",
        /* kernel modules, and the old calls that listed them */
        "init_module", "finit_module", "delete_module", "create_module", "query_module", "get_kernel_syms",
        /* a file handle opens any inode of a filesystem, outside the container's mounts ("shocker") */
        "open_by_handle_at", "name_to_handle_at",
        /* host-wide state: swap, process accounting, disk quotas */
        "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
        /* the clocks are the host's: time namespaces offset only the monotonic and boot clocks */
        "clock_settime", "clock_settime64", "settimeofday", "stime", "clock_adjtime", "clock_adjtime64",
        /* raw I/O port access and virtual 8086 mode (i386) */
        "iopl", "ioperm", "vm86", "vm86old",
        /* obsolete interfaces with old bugs and no users left */
        "uselib", "ustat", "sysfs", "_sysctl", "nfsservctl", "lookup_dcookie",
        /* io_uring does its I/O where no filter sees it, and is a large kernel attack surface */
        "io_uring_setup", "io_uring_enter", "io_uring_register",
        NULL,
};

static void seccomp_releasep(scmp_filter_ctx *ctx) {
        if (*ctx)
                seccomp_release(*ctx);
}
#define _cleanup_seccomp_ _cleanup_(seccomp_releasep)

/* On x86_64 a 64-bit process can enter the kernel through the i386 ABI
 * (int $0x80: seccomp_data.arch is AUDIT_ARCH_I386) and the x32 one
 * (__X32_SYSCALL_BIT in the number, arch AUDIT_ARCH_X86_64), each with
 * numbers of its own: the same rules are added for both, or keyctl would be
 * refused as 250 and allowed as i386's 288. */
static const uint32_t x86_64_compat_arches[] = { SCMP_ARCH_X86, SCMP_ARCH_X32 };

static bool native_is_x86_64(void) {
        return seccomp_arch_native() == SCMP_ARCH_X86_64;
}

/* Whether NAME is a syscall of some arch of the filter. libseccomp leaves
 * a name out of the arches that lack it (vm86 is i386's only), except the
 * native one, where 2.5.4 still compiles a check of the name's negative
 * pseudo number: dead code, as no syscall has that number. A name no arch
 * of the filter has would be only that: skipped. A name this libseccomp does
 * not know at all is newer than it, and no arch has it either. */
static bool syscall_exists(const char *name) {
        if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name) >= 0)
                return true;
        if (native_is_x86_64())
                for (size_t i = 0; i < ELEMENTSOF(x86_64_compat_arches); i++)
                        if (seccomp_syscall_resolve_name_arch(x86_64_compat_arches[i], name) >= 0)
                                return true;
        return false;
}

/* One rule: NAME fails with ACTION when all N_CMP comparisons hold (none:
 * always), on every arch of CTX. seccomp_rule_add() translates the native
 * number to each arch's by name. */
static int rule_add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n_cmp,
                    const struct scmp_arg_cmp *cmp) {
        if (!syscall_exists(name))
                return 0;
        return seccomp_rule_add_array(ctx, action, seccomp_syscall_resolve_name(name), n_cmp, cmp);
}

static int add_refused(scmp_filter_ctx ctx, const struct policy *p) {
        for (size_t i = 0; seccomp_refused[i]; i++) {
                int r = rule_add(ctx, SCMP_ACT_ERRNO(EPERM), seccomp_refused[i], 0, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* personality(2): only the values docker's profile allows: PER_LINUX (0),
 * PER_LINUX32 (0x8), UNAME26 (0x20000), both (0x20008) and the query
 * 0xffffffff. Refused otherwise: ADDR_NO_RANDOMIZE, READ_IMPLIES_EXEC,
 * MMAP_PAGE_ZERO and the old execution domains weaken the process's own
 * defences, which exploits use.
 *
 * The kernel reads an unsigned int (SYSCALL_DEFINE1(personality, unsigned
 * int, ...)), so only the low 32 bits count; the comparisons below look at
 * nothing else (libseccomp compares only the low half on i386 and x32
 * anyway), and a caller passing -1 as an unsigned long still queries.
 *
 * Refusing "all but five values" is not one rule of five SCMP_CMP_NE on A0:
 * libseccomp 2.5 refuses (-EINVAL) a second comparison of one argument in a
 * rule, and rules OR. Masked compares that OR to exactly the refused set: a
 * refused value has a bit set outside ALLOWED_BITS and, not being
 * 0xffffffff, a bit clear; going up (cyclically) from the set bit, the first
 * clear bit j has its lower neighbour set. So one rule per j: "bit j clear,
 * bit j-1 set", where bit j-1 is one of ALLOWED_BITS also "bit j-2 set" (the
 * run of set bits started lower), which keeps the allowed values out. No
 * fewer rules can do: each of the 32 values with a single bit clear needs
 * one whose only fixed clear bit is that one. They run only for
 * personality, but cost about 0.4 ms of the filter's 1.2 ms to build and
 * compile in a fresh process (libseccomp 2.5.4, three arches). */
#define PERSONALITY_ALLOWED_BITS 0x20008u /* UNAME26 | PER_LINUX32 */
_Static_assert((PERSONALITY_ALLOWED_BITS & (PERSONALITY_ALLOWED_BITS >> 1)) == 0 &&
                       (PERSONALITY_ALLOWED_BITS & 0x80000001u) == 0,
               "bit j-2 of the rule for bit j-1 must not be an allowed bit");

static int add_personality(scmp_filter_ctx ctx, const struct policy *p) {
        for (unsigned j = 0; j < 32; j++) {
                unsigned below = (j + 31) % 32;
                uint32_t mask = 1u << j | 1u << below, set = 1u << below;
                struct scmp_arg_cmp cmp;
                int r;

                if (PERSONALITY_ALLOWED_BITS & 1u << below) {
                        mask |= 1u << (below - 1);
                        set |= 1u << (below - 1);
                }
                cmp = SCMP_A0(SCMP_CMP_MASKED_EQ, mask, set);
                r = rule_add(ctx, SCMP_ACT_ERRNO(EPERM), "personality", 1, &cmp);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* New user namespaces, unless P allows them: a user namespace hands its
 * creator every capability inside it, and with them kernel code (mounts of
 * more filesystems, netfilter...) that a container without capabilities
 * never reaches. The flags are argument 0 of unshare and of clone on x86
 * (on s390 clone's flags are argument 1: only x86 arches are added here).
 * clone3 keeps its flags in memory, out of a filter's reach: it gets ENOSYS,
 * on which glibc falls back to clone (docker does the same); where user
 * namespaces are allowed there is nothing to check, and clone3 stays. */
static int add_userns(scmp_filter_ctx ctx, const struct policy *p) {
        const struct scmp_arg_cmp newuser = SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
        int r;

        if (p->allow_userns)
                return 0;
        r = rule_add(ctx, SCMP_ACT_ERRNO(EPERM), "unshare", 1, &newuser);
        if (r >= 0)
                r = rule_add(ctx, SCMP_ACT_ERRNO(EPERM), "clone", 1, &newuser);
        if (r >= 0)
                r = rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL);
        return r;
}

/* sysinfo(2) goes to the listener (curatefs, the launcher as fallback:
 * sysinfo-answer.c), which answers with the container's figures. Added on
 * every arch of the filter: a compat caller (i386 int $0x80, x32) reaches
 * the listener too instead of the host's figures, and the listener, which
 * writes only the native struct, refuses it with ENOSYS. */
static int add_sysinfo(scmp_filter_ctx ctx, const struct policy *p) {
        if (!p->sysinfo)
                return 0;
        return rule_add(ctx, SCMP_ACT_NOTIFY, "sysinfo", 0, NULL);
}

/* Each adds its rules to the context, in order; see the comment on top. */
static int (*const rule_sets[])(scmp_filter_ctx ctx, const struct policy *p) = {
        add_refused,
        add_personality,
        add_userns,
        add_sysinfo,
};

static int set_attributes(scmp_filter_ctx ctx) {
        static const struct {
                enum scmp_filter_attr attr;
                uint32_t value;
        } attrs[] = {
                /* a syscall of an arch the filter does not know is an escape attempt */
                { SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS },
                /* no_new_privs is the caller's business (the launcher sets it
                 * after loading, with the capability bounding set) */
                { SCMP_FLTATR_CTL_NNP, 0 },
                /* the kernel's errno from seccomp_load(), not -ECANCELED */
                { SCMP_FLTATR_API_SYSRAWRC, 1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(attrs); i++) {
                int r = seccomp_attr_set(ctx, attrs[i].attr, attrs[i].value);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Before any rule: libseccomp adds a rule to the arches the context has at
 * that moment, and does not replay earlier rules to an arch added later. */
static int add_arches(scmp_filter_ctx ctx) {
        if (!native_is_x86_64())
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(x86_64_compat_arches); i++) {
                int r = seccomp_arch_add(ctx, x86_64_compat_arches[i]);
                if (r < 0 && r != -EEXIST)
                        return r;
        }
        return 0;
}

int seccomp_filter_new(const struct policy *p, scmp_filter_ctx *ret) {
        _cleanup_seccomp_ scmp_filter_ctx ctx = NULL;
        int r;

        if (p->seccomp == POLICY_SECCOMP_UNCONFINED) {
                *ret = NULL;
                return 0;
        }
        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;
        r = set_attributes(ctx);
        if (r >= 0)
                r = add_arches(ctx);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(rule_sets); i++)
                r = rule_sets[i](ctx, p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ctx);
        return 0;
}

int seccomp_filter_load(scmp_filter_ctx ctx) {
        if (!ctx)
                return -EINVAL;
        return seccomp_load(ctx);
}
