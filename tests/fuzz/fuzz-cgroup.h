#pragma once
/* The cgroup backends' readers (lib/cgroup-v1.c, lib/cgroup-v2.c) on a
 * private directory standing for a hierarchy: cgroup "/c" is its "c"
 * subdirectory. The first input byte picks a reader, the rest (split at NUL
 * bytes) is the text of each file that reader opens, in the order of its
 * table row; a file the input does not reach is absent. */
#include "cgroup.h"

#define CG_FUZZ_FILES 5

struct cg_fuzz_reader {
        const char *name;
        const char *files[CG_FUZZ_FILES]; /* beneath "c/"; "../X" is the root's */
};

int cg_fuzz_run(const struct cg_ops *ops, int version, const struct cg_fuzz_reader *readers, size_t n,
                const uint8_t *data, size_t size);
