/* /proc/self/mountinfo and /proc/PID/cgroup (lib/cgroup.c): how curatefs
 * finds the cgroup hierarchies and a reader's cgroup in each. Input: the
 * mountinfo text, the cgroup2 root's cgroup.controllers, then the
 * /proc/PID/cgroup text (NUL-separated). Mount points resolve beneath a
 * private directory holding sys/fs/cgroup/{unified,memory,cpu,cpuset,blkio}. */
#include "config.h"
#include <stdlib.h>
#include "cgroup.h"
#include "fuzz.h"

static const char *const dirs[] = {
        "sys/fs/cgroup/unified", "sys/fs/cgroup/memory", "sys/fs/cgroup/cpu,cpuacct",
        "sys/fs/cgroup/cpuset",  "sys/fs/cgroup/blkio",  "sys/fs/cgroup/pids",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static bool ready;
        int root = fuzz_dir();
        char *segs[3];
        struct cg_layout l;

        if (!ready) {
                for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                        fuzz_mkdirs(root, dirs[i]);
                ready = true;
        }
        fuzz_split(data, size, segs, ELEMENTSOF(segs));
        fuzz_put(root, "sys/fs/cgroup/unified/cgroup.controllers", segs[1]);
        if (cg_layout_parse(root, segs[0] ? segs[0] : "", &l) == 0) {
                struct cg_reader r;
                if (cg_reader_parse(&l, segs[2] ? segs[2] : "", &r) == 0) {
                        for (unsigned c = 0; c < _CG_CONTROLLER_MAX; c++)
                                if (r.path[c] && (r.path[c][0] != '/' || !cg_layout_hier(&l, c)))
                                        abort(); /* a path for a controller nobody serves */
                        cg_reader_done(&r);
                }
                cg_layout_done(&l);
        }
        fuzz_segs_free(segs, ELEMENTSOF(segs));
        return 0;
}
