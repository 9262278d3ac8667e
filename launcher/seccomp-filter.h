#pragma once
/* The seccomp filter of `curate run` (libseccomp). Named seccomp-filter.h,
 * not seccomp.h: launcher/ is on the include path of every target, and a
 * launcher/seccomp.h would shadow libseccomp's <seccomp.h>. */
#include <seccomp.h>
#include "policy.h"

/* Build the filter policy P asks for: nothing (*ret = NULL) when P says
 * unconfined, else the default filter (see seccomp-filter.c). The caller
 * loads it with seccomp_filter_load() and frees it with seccomp_release().
 * 0 or -errno; *ret written only on success. No printing. */
int seccomp_filter_new(const struct policy *p, scmp_filter_ctx *ret);

/* Load CTX into the calling thread. The caller has set PR_SET_NO_NEW_PRIVS
 * or holds CAP_SYS_ADMIN in its user namespace (seccomp(2)); this does not
 * set no_new_privs itself. 0 or -errno (the kernel's, e.g. -EACCES). */
int seccomp_filter_load(scmp_filter_ctx ctx);

/* The syscalls the default filter always refuses with EPERM, by name,
 * NULL-terminated: for documentation and tests. Refused only for some
 * arguments, so not listed: personality (all but five values), unshare and
 * clone with CLONE_NEWUSER (EPERM), clone3 (ENOSYS); see seccomp-filter.c. */
extern const char *const seccomp_refused[];

/* The filter is compiled at build time (seccomp-gen.c) for each variant of
 * the policy fields it depends on (allow_userns: bit 0, sysinfo: bit 1):
 * VARIANT's index of P, or -1 when P asks for no filter; and a policy of
 * variant V. */
#define SECCOMP_VARIANTS 4
#define SECCOMP_VARIANT_SYSINFO 2
static inline int seccomp_variant(const struct policy *p) {
        if (p->seccomp == POLICY_SECCOMP_UNCONFINED)
                return -1;
        return (p->allow_userns ? 1 : 0) | (p->sysinfo ? SECCOMP_VARIANT_SYSINFO : 0);
}
static inline void seccomp_variant_policy(int v, struct policy *ret) {
        *ret = (struct policy){ .seccomp = POLICY_SECCOMP_DEFAULT, .allow_userns = (v & 1) != 0,
                                .sysinfo = (v & SECCOMP_VARIANT_SYSINFO) != 0 };
}

/* seccomp-load.c (curate itself, without libseccomp at run time): load the
 * build-time program of P's variant into the calling thread; 0 (also when
 * P is unconfined) or -errno. With P->sysinfo, *RET_LISTENER is the user
 * notification fd for sysinfo(2) (close-on-exec); -EBADF when there is
 * none: P does not ask for it, or the kernel cannot give one, when the
 * filter without the rule is loaded and *RET_NO_LISTENER says why for the
 * caller to warn: -EINVAL (Linux < 5.0: no user notification) or -EBUSY (a
 * filter above already has a listener: curate runs in a container that
 * intercepts, and only one listener is allowed per chain). 0 otherwise. */
int seccomp_default_load(const struct policy *p, int *ret_listener, int *ret_no_listener);
