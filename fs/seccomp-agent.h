#pragma once
/* The seccomp agent: a unix socket to which an OCI runtime (runc, crun)
 * sends each container process's seccomp listener fd when the container's
 * seccomp profile routes a syscall to SCMP_ACT_NOTIFY and names the socket
 * as its "listenerPath" (`curate seccomp-profile` writes such a profile for
 * sysinfo(2)). It runs in the holder, the long-lived process, so the fds
 * outlive any serving process: each fd kept is registered in
 * sysinfo_registration_dir() under the holder's pid (sysinfo-notify.h, the
 * launchers' format), and the serving processes take it with pidfd_getfd()
 * as they take a launcher's. When the container's last task is gone
 * (POLLHUP) the fd is closed and its registration removed.
 *
 * Never blocks: the socket and its connections are non-blocking, a
 * connection has AGENT_CONN_TIMEOUT_MS and AGENT_MSG_MAX bytes to say what
 * it says, and anything else than one seccomp listener fd with a valid
 * message is refused (closed, logged once in a while). */
#include <stdbool.h>

#define AGENT_MSG_MAX (64 * 1024)
#define AGENT_CONN_TIMEOUT_MS 2000
#define AGENT_CONNS_MAX 32
#define AGENT_HELD_MAX 4096

struct seccomp_agent;

/* $CURATE_SECCOMP_AGENT (tests), else CURATE_RUN_DIR/seccomp-agent.sock. */
const char *seccomp_agent_default_path(void);
/* Bind PATH (mode 0600; a stale socket there is replaced, a live one is
 * not: -EADDRINUSE). 0 or -errno. */
int seccomp_agent_open(const char *path, void (*log)(const char *msg), struct seccomp_agent **ret);
/* Keep FD, a listener a holder before this one kept as NAME and systemd's
 * fd store gave back: 0, or -errno with FD closed (not a listener, not a
 * name of ours). */
int seccomp_agent_adopt(struct seccomp_agent *a, const char *name, int fd);
/* The fd to poll for POLLIN: then call seccomp_agent_process(). */
int seccomp_agent_fd(const struct seccomp_agent *a);
/* Handle what is ready: connections, messages, containers that ended,
 * connections past their time. Never blocks. */
void seccomp_agent_process(struct seccomp_agent *a);
/* Milliseconds until the oldest connection times out, -1 when none. */
int seccomp_agent_timeout_ms(const struct seccomp_agent *a);
/* How many listener fds are kept now. */
unsigned seccomp_agent_held(const struct seccomp_agent *a);
/* Close everything, remove the registrations, the fds from systemd's fd
 * store (a stop on purpose) and the socket. */
void seccomp_agent_close(struct seccomp_agent *a);
