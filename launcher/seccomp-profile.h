#pragma once
/* curate seccomp-profile: an OCI / containers seccomp profile (the JSON of
 * /usr/share/containers/seccomp.json, docker's default.json, a runtime
 * spec's linux.seccomp) rewritten so that sysinfo(2) goes to curatefs's
 * seccomp agent: SCMP_ACT_NOTIFY with "listenerPath" naming its socket
 * (fs/seccomp-agent.h). The rewrite is pure, for the unit tests. */
#include <json-c/json.h>

#define SECCOMP_PROFILE_BASE "/usr/share/containers/seccomp.json"
#define SECCOMP_PROFILE_DEFAULT CURATE_RUN_DIR "/seccomp.json"

/* Rewrite PROFILE in place: "sysinfo" taken out of every rule that names
 * it (a rule left naming nothing dropped: libseccomp refuses a second
 * action for one syscall, so the profile must say one), one rule
 * {"names":["sysinfo"],"action":"SCMP_ACT_NOTIFY"} appended and
 * "listenerPath" set to SOCKET. 0, or -EINVAL with *RET_ERROR saying what
 * of the profile is malformed (nothing changed then). */
int seccomp_profile_route_sysinfo(json_object *profile, const char *socket, char **ret_error);
/* Read BASE, rewrite it, write it to OUTPUT ("-": stdout) atomically:
 * 0 or -errno with *RET_ERROR naming the file and the cause. */
int seccomp_profile_write(const char *base, const char *socket, const char *output, char **ret_error);
/* The socket a profile names by default: $CURATE_SECCOMP_AGENT, else
 * curatefs's default (CURATE_RUN_DIR/seccomp-agent.sock). */
const char *seccomp_profile_default_socket(void);
