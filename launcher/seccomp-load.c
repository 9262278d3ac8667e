#include "config.h"
/* Loading the default seccomp filter at `curate run`: the program compiled
 * at build time for the policy's variant (seccomp-gen.c), handed to the
 * kernel as it is. The variant with the sysinfo(2) user-notification rule
 * is loaded with SECCOMP_FILTER_FLAG_NEW_LISTENER, which returns the
 * listener's fd (kernel/seccomp.c: close-on-exec, O_RDWR). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/seccomp.h>
#include "seccomp-bpf.h"
#include "seccomp-filter.h"

int seccomp_default_load(const struct policy *p, int *ret_listener, int *ret_no_listener) {
        int v = seccomp_variant(p), fd;

        *ret_listener = -EBADF;
        *ret_no_listener = 0;
        if (v < 0)
                return 0; /* unconfined */
        /* no_new_privs or CAP_SYS_ADMIN in the caller's user namespace:
         * the launcher's child has the capability still */
        if (v & SECCOMP_VARIANT_SYSINFO) {
                fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &seccomp_bpf[v]);
                if (fd >= 0) {
                        *ret_listener = fd;
                        return 0;
                }
                /* before Linux 5.0 the flag (EINVAL) is unknown; EBUSY: a
                 * filter of this task has a listener already
                 * (has_duplicate_listener() in kernel/seccomp.c). The filter
                 * without the rule, and the caller warns. */
                if (errno != EINVAL && errno != EBUSY)
                        return -errno;
                *ret_no_listener = -errno;
                v &= ~SECCOMP_VARIANT_SYSINFO;
        }
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &seccomp_bpf[v]) < 0)
                return -errno;
        return 0;
}
