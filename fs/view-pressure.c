#include "config.h"
#include <errno.h>
#include <string.h>
#include "views.h"

/* /proc/pressure/<res> for a cgroup: its <res>.pressure, which the kernel
 * writes in the same format (psi_show(): a "some" line, then "full" where
 * the resource has one), checked so that a cgroup file we cannot read as
 * pressure is an error, never passed on as something else. */
static bool pressure_line(const char *p, size_t len) {
        char kind[8];
        double a10, a60, a300;
        unsigned long long total;
        int used = 0;
        char line[256];

        if (len >= sizeof(line))
                return false;
        memcpy(line, p, len);
        line[len] = 0;
        if (sscanf(line, "%7s avg10=%lf avg60=%lf avg300=%lf total=%llu%n", kind, &a10, &a60, &a300, &total, &used) != 5)
                return false;
        return (streq(kind, "some") || streq(kind, "full")) && line[used] == 0;
}

int render_pressure(const char *cgroup_pressure, struct buf *out) {
        size_t lines = 0;

        if (!cgroup_pressure)
                return -EINVAL;
        for (const char *p = cgroup_pressure; *p; lines++) {
                size_t len = strcspn(p, "\n");
                if (!pressure_line(p, len))
                        return -EINVAL;
                p += len + (p[len] == '\n');
        }
        if (lines == 0)
                return -EINVAL;
        return buf_append(out, cgroup_pressure, strlen(cgroup_pressure));
}
