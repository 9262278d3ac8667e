#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include "views.h"

/* /proc/swaps for a cgroup: the cgroup's swap allowance as one virtual
 * device, so swapon -s and free agree with meminfo. */

int render_swaps(const char *host_meminfo, const struct cg_memory *m, struct buf *out) {
        _cleanup_buf_ struct buf tmp = { 0 };
        struct mem_view v;
        int r;

        r = mem_view_compute(host_meminfo, m, &v);
        if (r < 0)
                return r;
        /* header as mm/swapfile.c swap_show() prints it */
        buf_printf(&tmp, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
        uint64_t size_kb = v.swap_total / 1024;
        if (size_kb > 0)
                buf_printf(&tmp, "none\t\t\t\t\tvirtual\t\t%" PRIu64 "\t\t%" PRIu64 "\t\t-1\n",
                           size_kb, (v.swap_total - v.swap_free) / 1024);
        if (tmp.err)
                return tmp.err;
        return buf_append(out, tmp.data, tmp.len);
}
