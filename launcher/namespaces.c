#include "config.h"
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "fileio.h"
#include "macro.h"
#include "launcher.h"
#include "run.h"

/* The namespaces of `curate run`: which ones the child is cloned into, and
 * what is set up in them once the parent has released it. Like docker,
 * podman and runc, every container gets its own pid, IPC, UTS and cgroup
 * namespace unless the policy shares one (--share); the network stays the
 * host's unless --net none. */

unsigned long ns_clone_flags(const struct policy *p) {
        unsigned long flags = CLONE_NEWNS;

        if (p->pid_ns)
                flags |= CLONE_NEWPID;
        if (p->ipc_ns)
                flags |= CLONE_NEWIPC;
        if (p->uts_ns)
                flags |= CLONE_NEWUTS;
        if (p->net == POLICY_NET_NONE)
                flags |= CLONE_NEWNET;
        if (p->user_ns)
                flags |= CLONE_NEWUSER;
        /* not CLONE_NEWCGROUP: a cgroup namespace's root is the cgroup its
         * creator is in, and the child is moved into its cgroup only after
         * clone (see ns_enter_after_release) */
        return flags;
}

/* A new network namespace has only lo, and it is down. */
static int loopback_up(void) {
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct ifreq ifr = {};

        if (fd < 0)
                return -errno;
        strcpy(ifr.ifr_name, "lo");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        return ioctl(fd, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

int ns_enter_after_release(const struct policy *p, char **ret_error) {
        int r;

        /* now in its cgroup (the parent attached it before releasing it):
         * that cgroup becomes the root of the new cgroup namespace, so
         * /proc/self/cgroup reads "/" and no host path shows */
        if (p->cgroup_ns && unshare(CLONE_NEWCGROUP) < 0)
                return error_printf(ret_error, -errno, "cannot create the cgroup namespace: %s", strerror(errno));
        if (p->hostname && sethostname(p->hostname, strlen(p->hostname)) < 0)
                return error_printf(ret_error, -errno, "--hostname %s: %s", p->hostname, strerror(errno));
        if (p->net == POLICY_NET_NONE && (r = loopback_up()) < 0)
                return error_printf(ret_error, r, "--net none: bringing lo up: %s", strerror(-r));
        return 0;
}
