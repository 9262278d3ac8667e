#pragma once
/* MOUNTPOINT/sys/devices/system/cpu below its fixed files (online,
 * possible, present, offline: views in server.c's table): the host's
 * directory passed through for each reader, with only the cpuN (and
 * cpufreq/policyN) entries of the CPUs the reader is shown, and every CPU
 * list or mask file in it cut to them (view-cputree.c). Nothing here knows
 * FUSE (server-cputree.c answers the requests): the host's directory is a
 * dir fd, so the unit tests walk a fixture tree.
 *
 * The tree is served twice: once shared by every reader (MOUNTPOINT/sys/...)
 * and once per container (MOUNTPOINT/c/<id>/sys/..., ID below; NULL is the
 * shared tree). Inodes are CPUTREE_INO_BASE | slot << 40 | a 40-bit hash of
 * the path (shared), CPUTREE_C_INO_BASE | slot << 46 | a 46-bit hash of the
 * id and the path (c/<id>/: inodes of their own, so no page cache is shared
 * across containers), slot = N + 1 below cpuN and 0 elsewhere: a serving
 * process that never saw an inode (it was started after another was killed)
 * finds its path by walking that one part of the host's tree
 * (cputree_find), so the numbers need no state that dies with a process. */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include "views.h"

/* Above every devs/ inode (devs.h: below 2^63 + 2^33) and below the c/
 * fixed nodes' (cnodes.h: from 0xC000000000000000); slot << 40 | hash stays
 * under 2^54, slot << 46 | hash under 2^60, for up to 2^13 CPUs. */
#define CPUTREE_INO_BASE 0xA000000000000000ULL
#define CPUTREE_C_INO_BASE 0xB000000000000000ULL
#define CPUTREE_INO_END 0xC000000000000000ULL
#define CPUTREE_HOST_DIR "sys/devices/system/cpu"

/* Either tree's inode (server.c hands both to server-cputree.c). */
static inline bool cputree_is_ino(uint64_t ino) {
        return ino >= CPUTREE_INO_BASE && ino < CPUTREE_INO_END;
}
/* An inode of some container's tree (c/<id>/)? */
static inline bool cputree_is_c_ino(uint64_t ino) {
        return ino >= CPUTREE_C_INO_BASE && ino < CPUTREE_INO_END;
}
/* The inode of REL (below the cpu directory, no leading slash) in ID's
 * tree (NULL: the shared one). */
uint64_t cputree_ino(const char *id, const char *rel);

/* Is REL a gate: a directory only some readers may enter (a top-level cpuN,
 * cpufreq/policyN)? Every walk to a node below one passes it, so only the
 * gate's own entry must be asked again on every walk. */
bool cputree_is_gate(const char *rel);
/* Does REL read the same for every reader who may reach it (no CPU list or
 * mask in it, not a list rendered per reader)? */
bool cputree_same_for_all(const char *rel, mode_t type);

/* Called for every path a walk or a listing sees (to remember inodes). */
typedef void (*cputree_learn_fn)(uint64_t ino, const char *rel, void *ctx);
/* The path of INO in ID's tree, found by walking its part of the host's
 * tree DIR_FD into REL (PATH_MAX); -ESTALE when no path there has it. */
int cputree_find(int dir_fd, const char *id, uint64_t ino, char *rel, cputree_learn_fn learn, void *ctx);

/* The node REL of ID's tree as a reader shown SHOWN sees it: read-only, the
 * host's times. A file's size in c/<id>/ is its rendering's (busybox cat
 * reads through sendfile, which stops at the size); in the shared tree it
 * is 0 for a file that reads differently per reader (as procfs reports:
 * readers read to EOF), since a size would let sendfile read the page cache
 * another reader's figures filled. -ENOENT for a CPU not shown. */
int cputree_stat(int dir_fd, const char *id, const char *rel, const struct cpu_set_bits *shown, struct stat *ret);
/* The file REL's text for SHOWN. */
int cputree_render(int dir_fd, const char *rel, const struct cpu_set_bits *shown, struct buf *out);

/* The entries of the directory REL ("" the top) the reader may see, in
 * the host's order, less those SKIP says (the top's fixed files). */
typedef int (*cputree_entry_fn)(const char *name, uint64_t ino, mode_t type, void *ctx);
int cputree_list(int dir_fd, const char *id, const char *rel, const struct cpu_set_bits *shown, const char *const *skip,
                 cputree_entry_fn each, void *ctx);
