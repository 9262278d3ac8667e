#pragma once
/* Container Device Interface (CDI) specs: parsing (JSON with json-c, YAML
 * with libyaml), a registry of the spec directories beneath a host root, and
 * resolving "vendor/class=name" to device nodes, env and mounts.
 *
 * Behaviour follows the CDI specification (SPEC.md) and its reference
 * implementation (cncf-tags/container-device-interface, pkg/cdi):
 *  - cdiVersion: one of the versions the spec defines, 0.1.0 .. 1.1.0; any
 *    other (newer or unknown) is refused.
 *  - Spec dirs default to etc/cdi then var/run/cdi; a later directory has the
 *    higher priority, so its device replaces one of the same qualified name.
 *  - The same qualified name in two files of ONE directory is a conflict: the
 *    reference records an error against both files and drops the device from
 *    the cache altogether; so do we (cdi_registry.errors names both files).
 *  - A file that does not parse or validate is skipped; its error is kept in
 *    cdi_registry.errors and loading goes on (the reference's per-spec errors).
 *  - Only regular files named *.json, *.yaml (and *.yml) directly in a spec
 *    dir are read, in name order; subdirectories are not descended.
 *  - "vendor/class=all" is not synthesised (the reference does not either):
 *    it resolves only when a spec defines a device named "all", as
 *    nvidia-ctk's generated specs do.
 *  - hooks are parsed and validated (hookName one of the six OCI hook names,
 *    path required) and handed back in cdi_edits.hooks; curate does not run
 *    them, the launcher must say so. Refusing them would refuse every
 *    nvidia-ctk spec, whose top-level edits carry ldcache/symlink hooks.
 *  - intelRdt is accepted and ignored (curate manages no resctrl groups).
 *  - deviceNodes: every node's hostPath (or path) is lstat'ed beneath the host
 *    root at resolve time; missing type/major/minor are filled from it and a
 *    node that is missing, not a device, or whose type/numbers differ from
 *    the spec is an error. (The reference only stats when something is
 *    missing; curate refuses a spec that lies about a node.)
 *  - As the reference's validator: a spec needs at least one device, each
 *    device non-empty containerEdits, and a name used once per spec.
 *  - Unknown keys are ignored (forward compatible, as Go's decoders are).
 *  - Per-feature minimum-version checks of the reference are not done, and
 *    *.yml is read as well as the reference's *.json and *.yaml.
 *  - A spec dir that is missing is skipped (the reference's Walk would stop
 *    the scan there); one that exists but cannot be opened fails the load.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "device.h"

struct cdi_spec_node {
        char *path;          /* in the container, required */
        char *host_path;     /* NULL: same as path */
        char type;           /* 'c', 'b' ('u' read as 'c'); 0: from lstat */
        bool has_major, has_minor;
        unsigned major, minor;
        mode_t file_mode;    /* 0: the host node's */
        char permissions[4]; /* subset of "rwm"; "" means "rwm" */
        uid_t uid;           /* (uid_t)-1 when absent */
        gid_t gid;           /* (gid_t)-1 when absent */
};

struct cdi_mount {
        char *host_path, *container_path;
        char *type;      /* may be NULL */
        char **options;  /* n_options strings */
        size_t n_options;
        char *spec_path; /* in cdi_edits: the spec file it came from, for
                          * messages; NULL in a parsed spec */
};

struct cdi_hook {
        char *hook_name, *path;
        char **args;
        size_t n_args;
        char **env;
        size_t n_env;
        int timeout;     /* seconds; -1 when absent */
};

/* containerEdits as written in a spec */
struct cdi_spec_edits {
        char **env; size_t n_env;
        struct cdi_spec_node *nodes; size_t n_nodes;
        struct cdi_mount *mounts; size_t n_mounts;
        struct cdi_hook *hooks; size_t n_hooks;
        gid_t *additional_gids; size_t n_additional_gids;
        bool has_intel_rdt; /* given (and ignored) */
};

struct cdi_spec_device {
        char *name;
        struct cdi_spec_edits edits;
};

struct cdi_spec {
        char *path;      /* as given to cdi_spec_parse: used in messages */
        char *version;
        char *kind;      /* "vendor/class" */
        struct cdi_spec_device *devices; size_t n_devices;
        struct cdi_spec_edits edits;
        int priority;    /* index of its spec dir */
};

/* Parse TEXT (LEN bytes) of spec file PATH: JSON when PATH ends in ".json",
 * YAML for ".yaml"/".yml", else -EINVAL. Validates version, kind, device
 * names and every edit. Errors: "PATH: FIELD: reason" (YAML: "PATH:LINE: ...",
 * JSON syntax: "PATH: offset N: ..."). 0 or -errno (-EINVAL bad spec). */
int cdi_spec_parse(const char *path, const char *text, size_t len,
                   struct cdi_spec *ret, char **ret_error);
void cdi_spec_done(struct cdi_spec *s);

/* "vendor/class=name" split and validated per the spec's rules. Pointers
 * into a malloc'd copy returned in *ret_buf. 0 or -EINVAL. */
int cdi_parse_qualified_name(const char *qualified, char **ret_buf, const char **ret_vendor,
                             const char **ret_class, const char **ret_name);
int cdi_validate_kind(const char *kind, char **ret_error);
int cdi_validate_device_name(const char *name, char **ret_error);

struct cdi_registry_device {
        char *qualified;   /* "vendor/class=name" */
        size_t spec, device; /* indices into specs[] and specs[spec].devices[] */
};

struct cdi_spec_error {
        char *path;        /* "etc/cdi/x.json" beneath the root */
        char *message;
};

struct cdi_registry {
        int root_fd;       /* a dup (>= 3) of the root, for lstat at resolve time */
        struct cdi_spec *specs; size_t n_specs;
        struct cdi_registry_device *devices; size_t n_devices; /* sorted by name */
        struct cdi_spec_error *errors; size_t n_errors;
};

/* Spec dirs used when DIRS is NULL, relative to the root. */
extern const char *const cdi_default_dirs[];

/* Load every spec in DIRS (NULL-terminated, lowest priority first; NULL:
 * cdi_default_dirs) beneath ROOT_FD. Missing dirs are skipped. Bad files and
 * conflicts land in ret->errors, not in the return value: it fails only for
 * -ENOMEM, an fd error, or a spec dir that exists but cannot be read. */
int cdi_registry_load(int root_fd, const char *const *dirs, struct cdi_registry *ret,
                      char **ret_error);
/* Safe on a zeroed registry. */
void cdi_registry_done(struct cdi_registry *r);

/* What a device brings: its spec's edits followed by its own (the order of
 * the reference's InjectDevices), nodes checked and completed against the
 * host. Env is concatenated (a later KEY=... wins when applied in order); a
 * later mount on the same containerPath replaces the earlier one; nodes of
 * one path merge their access (device_list_add), different numbers are an
 * error; additionalGIDs are deduplicated and 0 is skipped, as the reference
 * does. Mount order (the reference sorts by depth) is the launcher's. */
struct cdi_edits {
        struct device_list nodes;
        char **env; size_t n_env;
        struct cdi_mount *mounts; size_t n_mounts;
        struct cdi_hook *hooks; size_t n_hooks;
        gid_t *additional_gids; size_t n_additional_gids;
};

/* M's options read as the launcher mounts it: *RET_ATTRS MOUNT_ATTR_*
 * flags, *RET_BIND a bind mount (type or option bind/rbind, or no type),
 * *RET_REC recursive (rbind); the options for a new filesystem into
 * RET_FS_OPTS (NULL-terminated, at most MAX - 1). Their count (a bind
 * takes none), or -E2BIG. Spec loading refuses what a bind cannot take. */
int cdi_mount_options(const struct cdi_mount *m, unsigned *ret_attrs, bool *ret_bind, bool *ret_rec,
                      const char **ret_fs_opts, size_t max);

/* Merge SRC into DST by the rules above (nodes via device_list_add: -EEXIST
 * for one path with different numbers, *ret_error naming it). On failure
 * DST may hold part of SRC; the caller drops it. 0 or -errno. */
int cdi_edits_merge(struct cdi_edits *dst, const struct cdi_edits *src, char **ret_error);

/* Resolve QUALIFIED_NAME. Unknown device: -ENOENT, the message lists the
 * kind's known devices (or the known kinds). Node mismatch: -EINVAL naming
 * the spec file and node. */
int cdi_resolve(const struct cdi_registry *r, const char *qualified_name, struct cdi_edits *ret,
                char **ret_error);
void cdi_edits_done(struct cdi_edits *e);
