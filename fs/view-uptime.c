#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include "views.h"

/* /proc/uptime for a cgroup: the container's uptime, and idle time summed
 * over its visible CPUs like the kernel's (fs/proc/uptime.c), from the same
 * counters /proc/stat shows so the two files agree. */

int render_uptime(uint64_t uptime_ticks, const struct stat_state *s, struct buf *out) {
        uint64_t idle = 0;

        if (!out)
                return -EINVAL;
        if (s && s->initialized && s->cpu) {
                for (unsigned i = 0; i < s->n; i++)
                        idle = idle > UINT64_MAX - s->cpu[i].idle ? UINT64_MAX : idle + s->cpu[i].idle;
                /* n CPUs cannot idle longer than n times the uptime */
                unsigned __int128 cap = (unsigned __int128)uptime_ticks * s->n;
                if (idle > cap)
                        idle = (uint64_t)cap;
        }
        return buf_printf(out, "%" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64 "\n",
                          uptime_ticks / USER_HZ, uptime_ticks % USER_HZ, idle / USER_HZ, idle % USER_HZ);
}
