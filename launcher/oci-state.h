#pragma once
/* `curate oci-hook`'s inputs, parsed without side effects (unit-tested):
 * the OCI state on the hook's stdin (runtime-spec runtime.md "State"), the
 * bundle's config.json (root.path, annotations) and the io.curate.views
 * annotation. Nothing here prints; errors come back as messages. */
#include <stddef.h>
#include <sys/types.h>

/* The annotation podman's and CRI-O's hooks.d definition triggers on. */
#define OCI_HOOK_ANNOTATION "io.curate.views"
/* The largest state or config.json read (a config with every default
 * mount, seccomp profile and device list is tens of KiB). */
#define OCI_JSON_MAX (4u << 20)

struct oci_state {
        char *id;     /* the container id: prefixes every message */
        pid_t pid;    /* in the pid namespace the runtime ran the hook in */
        char *bundle; /* absolute path of the bundle directory */
        char *views;  /* the io.curate.views annotation, NULL when absent */
};
/* JSON (LEN bytes, need not be NUL-terminated) to *RET: id, pid (> 0) and
 * bundle (absolute) are required; annotations optional. 0, or -EINVAL with
 * *ret_error saying which field is missing or wrong. */
int oci_state_parse(const char *json, size_t len, struct oci_state *ret, char **ret_error);
void oci_state_done(struct oci_state *s);

struct oci_config {
        char *root_path; /* root.path as written: absolute, or relative to the bundle */
        char *views;     /* annotations.io.curate.views, NULL when absent */
};
int oci_config_parse(const char *json, size_t len, struct oci_config *ret, char **ret_error);
void oci_config_done(struct oci_config *c);

/* The views the hook binds for "all": what runc and crun accept over /proc
 * (the LXCFS set) plus /sys/devices/system/cpu. */
unsigned oci_hook_views_all(void);
/* An io.curate.views value ("all", "none", or a comma list of the names
 * --views takes: meminfo,cpuinfo,cpu-tree) to a bitmask of 1u << enum
 * policy_view. Blanks separate names too ("meminfo stat"); an empty name
 * between commas is refused;
 * "pressure" is refused (its masking needs curate run's /proc). 0, or
 * -EINVAL with *ret_error naming the bad word. */
int oci_hook_parse_views(const char *value, unsigned *ret, char **ret_error);

/* The curate container id a process's /proc/PID/cgroup text (CGROUP_TEXT)
 * names: ID of the first "N:CONTROLLERS:/curate/ID[/...]" line whose ID is
 * one curate accepts (reg_id_valid), copied into RET (REG_ID_MAX + 1
 * bytes). curatefs serves MOUNTPOINT/c/ID/, the views sized for busybox
 * cat, to readers in that cgroup. 0, or -ENOENT when no line names one. */
int oci_cgroup_curate_id(const char *cgroup_text, char *ret, size_t size);

/* The cgroup.procs file of the cgroup one line of a /proc/PID/cgroup text
 * names (LINE, LEN bytes: "N:CONTROLLERS:PATH"), beneath the cgroup mounts
 * of MOUNTINFO (a /proc/self/mountinfo text): a v1 line's hierarchy is the
 * "cgroup" mount whose super options hold each of its controllers (or its
 * name=...), the "0::" line's the "cgroup2" mount; PATH is taken below the
 * mount's root. Into RET (SIZE bytes): 0, -ENOENT when no mount shows that
 * cgroup, -ENAMETOOLONG. */
int oci_cgroup_procs_path(const char *mountinfo, const char *line, size_t len, char *ret, size_t size);
