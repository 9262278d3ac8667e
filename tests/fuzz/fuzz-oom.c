/* The OOM kill counters the launcher reports after a run
 * (launcher/cgroup-setup.c run_cgroup_oom_kills): cgroup v2 memory.events'
 * oom_kill line, v1 memory.oom_control's, summed over the hierarchies the
 * command was placed in and, for v1 with --delegate, the delegated child.
 * NUL-separated, the files of a private tree: u/memory.events (the unified
 * cgroup), m/memory.events, m/memory.oom_control (a v1 memory cgroup),
 * m/d/memory.oom_control (its delegated child); a missing part is absent. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include "fuzz.h"
#include "launcher.h"

static const char *const files[] = { "u/memory.events", "m/memory.events", "m/memory.oom_control",
                                     "m/d/memory.oom_control" };

static int dir_at(const char *name) {
        int fd = openat(fuzz_dir(), name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                abort();
        return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct run_cgroup cg = { .n = 0 };
        char *segs[ELEMENTSOF(files)];

        if (cg.n == 0) {
                fuzz_mkdirs(fuzz_dir(), "u");
                fuzz_mkdirs(fuzz_dir(), "m/d");
                cg = (struct run_cgroup){
                        .n = 2,
                        .dir_fd = { dir_at("u"), dir_at("m") },
                        .deleg_fd = { -EBADF, dir_at("m/d") },
                        .deleg_path = { NULL, (char *)"m/d" },
                        .devices_at = -1,
                        .unified_at = 0,
                };
        }
        fuzz_split(data, size, segs, ELEMENTSOF(segs));
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                fuzz_put(fuzz_dir(), files[i], segs[i]);
        (void)run_cgroup_oom_kills(&cg);
        fuzz_segs_free(segs, ELEMENTSOF(segs));
        return 0;
}
