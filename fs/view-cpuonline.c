#include "config.h"
#include <errno.h>
#include "views.h"

/* /sys/devices/system/cpu/online: the visible CPUs are renumbered 0..n-1
 * (as in cpuinfo and stat), so the list is always one range. */
int render_cpu_online(const struct cpu_view *v, struct buf *out) {
        if (!v || v->n == 0)
                return -EINVAL;
        if (v->n == 1)
                return buf_printf(out, "0\n");
        return buf_printf(out, "0-%u\n", v->n - 1);
}
