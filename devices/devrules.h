#pragma once
/* Device cgroup rules (issue 4): the set of device nodes a container may
 * open or create, turned into what the kernel enforces: cgroup v1
 * devices.deny/devices.allow lines, or a cgroup v2 BPF_CGROUP_DEVICE program.
 *
 * The model is an allow-list: everything is denied, then each rule allows an
 * access. A rule matches a request when its type is the request's ('a' matches
 * both), its major and minor are equal or wildcards, and its access covers
 * every bit of the request: the cgroup v1 kernel matches one exception against
 * the whole request (security/device_cgroup.c match_exception), and runc's
 * devicefilter emits the same subset test for v2. Deny rules are refused
 * (-EINVAL) because the two interfaces treat them differently: on a v1
 * allow-list a deny only strips exceptions with exactly its numbers, never a
 * hole in a wildcard. */
#include <stdbool.h>
#include <stddef.h>
#include <linux/bpf.h>
#include "device.h"

#define DEVRULE_WILDCARD (-1)

struct dev_rule {
        char type;        /* 'a' (any: only as "a *:* rwm"), 'c' or 'b' */
        int major, minor; /* DEVRULE_WILDCARD or 0..4095 / 0..1048575 */
        char access[4];   /* non-empty subset of "rwm" */
        bool allow;       /* must be true; see above */
};

/* The rules every container gets before its own device list; a static table
 * (see devrules.c for what it holds and why). */
const struct dev_rule *devrules_defaults(size_t *ret_n);

/* 0 when R is well formed, -EINVAL otherwise. */
int devrules_validate(const struct dev_rule *r);

/* The defaults followed by one rule per node of DEVS (may be NULL).
 * *ret_rules is malloc'd. 0, -EINVAL (bad node), -ERANGE (numbers beyond what
 * a dev_t holds) or -ENOMEM. */
int devrules_build(const struct device_list *devs, struct dev_rule **ret_rules, size_t *ret_n);

/* The reference evaluation: 1 when RULES allow ACCESS (a non-empty subset of
 * "rwm") on device TYPE ('c' or 'b') MAJOR:MINOR, 0 when they do not,
 * -EINVAL for a malformed rule or request. Both generated forms must agree
 * with it. */
int devrules_eval(const struct dev_rule *rules, size_t n, char type,
                  unsigned major, unsigned minor, const char *access);

/* One rule in the kernel's v1 format: "c 195:0 rwm", "c 136:* rwm",
 * "a *:* rwm". BUF of at least DEVRULE_LINE_MAX. 0 or -EINVAL. */
#define DEVRULE_LINE_MAX 32
int devrules_format(const struct dev_rule *r, char buf[static DEVRULE_LINE_MAX]);

/* The v1 lines: [0] is "a *:* rwm" for devices.deny, [1..] one per rule for
 * devices.allow, NULL-terminated; free with devrules_lines_free(). 0 or
 * -EINVAL / -ENOMEM. */
int devrules_v1_lines(const struct dev_rule *rules, size_t n, char ***ret_lines);
void devrules_lines_free(char **lines);

/* Write the v1 lines into the cgroup directory CGROUP_DIR_FD: devices.deny
 * first, then devices.allow, one write(2) per line (the kernel parses one rule
 * per write). The files must exist (no O_CREAT). The cgroup must have no
 * children yet: the kernel refuses "a" on devices.deny otherwise. On failure
 * *ret_error (when not NULL) names the file, the line and the reason. 0 or
 * -errno; rules already written stay written, and since the deny-all line
 * goes first a half-applied set only ever allows less. */
int devrules_apply_v1(int cgroup_dir_fd, const struct dev_rule *rules, size_t n, char **ret_error);

/* A BPF_PROG_TYPE_CGROUP_DEVICE program that returns 1 when RULES allow the
 * access in its struct bpf_cgroup_dev_ctx and 0 otherwise. *ret is malloc'd,
 * *ret_n instructions. 0, -EINVAL or -ENOMEM. */
int devrules_bpf_program(const struct dev_rule *rules, size_t n, struct bpf_insn **ret, size_t *ret_n);

/* Load INSNS and attach them to the cgroup v2 directory CGROUP_DIR_FD with
 * BPF_F_ALLOW_MULTI, so programs already attached there or above (systemd's)
 * keep applying: the kernel runs every one and denies when any denies.
 * *ret_prog_fd (O_CLOEXEC) identifies the program for devrules_bpf_detach();
 * the attachment itself lives as long as the cgroup, not the fd. On failure
 * *ret_error (when not NULL) says which step failed, with the verifier's log
 * for a rejected program. 0 or -errno. */
int devrules_bpf_attach(int cgroup_dir_fd, const struct bpf_insn *insns, size_t n,
                        int *ret_prog_fd, char **ret_error);

/* Detach the program PROG_FD from CGROUP_DIR_FD (e.g. when a hot-plug
 * attaches a new set first). 0 or -errno. */
int devrules_bpf_detach(int cgroup_dir_fd, int prog_fd);

/* Hot-plug: attach INSNS to CGROUP_DIR_FD, then detach every device program
 * that was attached to that cgroup before (curate attaches exactly one to
 * its own cgroups). 0 or -errno with *ret_error (when not NULL) naming the
 * step; on failure the old programs stay attached (the new one may too:
 * both then apply, which allows only what both allow). */
int devrules_bpf_replace(int cgroup_dir_fd, const struct bpf_insn *insns, size_t n, char **ret_error);
