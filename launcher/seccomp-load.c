#include "config.h"
/* Loading the default seccomp filter at `curate run`: the program compiled
 * at build time for the policy's variant (seccomp-gen.c), handed to the
 * kernel as it is. A filter with a user-notification rule (sysinfo(2)
 * answered by a listener) is one more variant, loaded the same way with
 * SECCOMP_FILTER_FLAG_NEW_LISTENER, which returns the listener's fd. */
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/seccomp.h>
#include "seccomp-bpf.h"
#include "seccomp-filter.h"

int seccomp_default_load(const struct policy *p) {
        int v = seccomp_variant(p);

        if (v < 0)
                return 0; /* unconfined */
        /* no_new_privs or CAP_SYS_ADMIN in the caller's user namespace:
         * the launcher's child has the capability still */
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &seccomp_bpf[v]) < 0)
                return -errno;
        return 0;
}
