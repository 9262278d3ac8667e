#pragma once
/* The message an OCI runtime sends to a seccomp agent (runtime-spec
 * config-linux.md, "listenerPath"): one SCM_RIGHTS message on a unix stream
 * socket whose data is a JSON ContainerProcessState,
 *
 *     { "ociVersion": "...", "fds": ["seccompFd"], "pid": N,
 *       "metadata": "...", "state": { "id": "...", "pid": N, ... } }
 *
 * where fds[i] names the i-th fd passed. Only what curatefs needs is read:
 * which fd is the seccomp listener, the container's id and the process's
 * pid. Pure code (no fds, no I/O) so a fuzzer feeds it anything. */
#include <stddef.h>
#include <sys/types.h>
#include <json-c/json.h>

/* a registration name is "oci-" ID "-" SEQ: ID is cut to this many bytes */
#define AGENT_ID_MAX 64
/* an fd list longer than this is refused (runc sends one) */
#define AGENT_FDS_MAX 4

struct agent_msg {
        unsigned seccomp_index;         /* index of "seccompFd" in fds[] */
        pid_t pid;                      /* the process the runtime set up */
        char id[AGENT_ID_MAX + 1];      /* the container's id, made a file name */
};

/* Read ROOT, the message sent with N_FDS fds: 0, or -EINVAL (not an object,
 * no fds list naming "seccompFd" at an index below N_FDS, no state.id
 * string, pid absent or not positive) or -E2BIG (more names than
 * AGENT_FDS_MAX). */
int agent_msg_from_json(json_object *root, unsigned n_fds, struct agent_msg *ret);
/* The same from TEXT (LEN bytes, one JSON value): for tests and the fuzzer. */
int agent_msg_parse(const char *text, size_t len, unsigned n_fds, struct agent_msg *ret);
/* The registration name of the SEQ-th fd: "oci-ID-SEQ". */
void agent_reg_name(const struct agent_msg *m, unsigned long seq, char *buf, size_t size);
