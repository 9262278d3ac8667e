#include "config.h"
#include <errno.h>
#include "views.h"

/* /sys/devices/system/cpu/{online,possible,present}: the visible CPUs
 * under their real numbers, so that the list agrees with what
 * sched_getaffinity(2) and the cpuN directories say under a cpuset (glibc's
 * get_nprocs and lscpu read these lists, psutil and lscpu the directories). */
int render_cpu_online(const struct cpu_view *v, struct buf *out) {
        struct cpu_set_bits s;

        if (!v || v->n == 0 || v->n > CPU_LIST_MAX)
                return -EINVAL;
        cpu_view_set(v, &s);
        cpu_list_format(&s, ",", out);
        return buf_append(out, "\n", 1);
}

/* Every CPU the reader is shown is online: offline is an empty line, as
 * the kernel writes it when no CPU is offline. */
int render_cpu_offline(const struct cpu_view *v, struct buf *out) {
        if (!v || v->n == 0)
                return -EINVAL;
        return buf_append(out, "\n", 1);
}

void cpu_view_set(const struct cpu_view *v, struct cpu_set_bits *ret) {
        *ret = (struct cpu_set_bits){ { 0 } };
        for (unsigned i = 0; i < v->n && i < CPU_LIST_MAX; i++)
                if (v->phys[i] < CPU_LIST_MAX)
                        ret->bits[v->phys[i] / 64] |= 1ULL << (v->phys[i] % 64);
}

/* Runs of two or more CPUs as "a-b", as the kernel's %*pbl prints;
 * SEP between items (cpufreq's lists are single CPUs separated by blanks). */
int cpu_list_format(const struct cpu_set_bits *s, const char *sep, struct buf *out) {
        bool first = true, ranges = sep[0] == ',';

        for (unsigned i = 0; i < CPU_LIST_MAX; i++) {
                if (!cpu_bit(s, i))
                        continue;
                unsigned j = i;
                while (ranges && j + 1 < CPU_LIST_MAX && cpu_bit(s, j + 1))
                        j++;
                if (j == i)
                        buf_printf(out, "%s%u", first ? "" : sep, i);
                else
                        buf_printf(out, "%s%u-%u", first ? "" : sep, i, j);
                first = false;
                i = j;
        }
        return out->err;
}
