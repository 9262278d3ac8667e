#include "config.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz-cgroup.h"
#include "fuzz.h"
#include "views.h"

enum { R_MEMORY, R_QUOTA, R_CPUSET, R_USAGE, R_IO, R_THREADS, R_PROCS, R_PRESSURE };

/* RESOURCE.pressure through the reader and /proc/pressure's renderer (v2
 * only: v1 keeps none); a resource outside the three is refused unread. */
static void pressure(const struct cg_hier *h, const char *path) {
        static const char *const resources[] = { "cpu", "memory", "io", "../cpu", "" };

        for (size_t i = 0; i < ELEMENTSOF(resources); i++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_buf_ struct buf out = { 0 };
                int r = h->ops->pressure(h, path, resources[i], &text);
                if (r == 0 && i >= 3)
                        abort();
                if (r < 0)
                        continue;
                /* what renders is the cgroup's text unchanged */
                if (render_pressure(text, &out) == 0 && (out.len != strlen(text) || memcmp(out.data, text, out.len) != 0))
                        abort();
        }
}

static void call(const struct cg_hier *h, unsigned which) {
        const char *path = "/c";
        struct cg_memory m;
        struct cpu_set_bits set;
        struct cg_cpu_usage u;
        struct cg_io io;
        uint64_t quota, period;
        pid_t *pids;
        size_t n;

        switch (which) {
        case R_MEMORY:
                (void)h->ops->memory(h, path, &m);
                break;
        case R_QUOTA:
                if (h->ops->cpu_quota(h, path, &quota, &period) == 0 && quota != CG_NONE && period == 0)
                        abort(); /* the renderers divide by it */
                break;
        case R_CPUSET:
                if (h->ops->cpuset(h, path, &set) == 0 && cpu_count(&set) == 0)
                        abort(); /* cpu_view_compute needs a CPU */
                break;
        case R_USAGE:
                if (h->ops->cpu_usage(h, path, &u) == 0)
                        cg_cpu_usage_done(&u);
                break;
        case R_IO:
                if (h->ops->io(h, path, &io) == 0)
                        cg_io_done(&io);
                break;
        case R_THREADS:
        case R_PROCS:
                if ((which == R_THREADS ? h->ops->threads : h->ops->procs)(h, path, &pids, &n) == 0)
                        free(pids);
                break;
        case R_PRESSURE:
                pressure(h, path);
                break;
        }
}

int cg_fuzz_run(const struct cg_ops *ops, int version, const struct cg_fuzz_reader *readers, size_t n,
                const uint8_t *data, size_t size) {
        static int c_fd = -EBADF;
        char *segs[CG_FUZZ_FILES];
        int root = fuzz_dir();

        if (c_fd < 0) {
                fuzz_mkdirs(root, "c");
                c_fd = openat(root, "c", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (c_fd < 0)
                        abort();
        }
        unsigned which = fuzz_pick(&data, &size, n);
        const struct cg_fuzz_reader *r = &readers[which];
        fuzz_split(data, size, segs, CG_FUZZ_FILES);
        for (size_t i = 0; i < CG_FUZZ_FILES && r->files[i]; i++) {
                bool at_root = strncmp(r->files[i], "../", 3) == 0;
                fuzz_put(at_root ? root : c_fd, r->files[i] + (at_root ? 3 : 0), segs[i]);
        }
        struct cg_hier h = {
                .version = version,
                .fd = root,
                .mount_root = (char *)"/",
                .controllers = (1u << _CG_CONTROLLER_MAX) - 1,
                .ops = ops,
        };
        /* readers are listed in the R_* order */
        call(&h, which);
        fuzz_segs_free(segs, CG_FUZZ_FILES);
        return 0;
}
