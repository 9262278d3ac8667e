#include "config.h"
#include <errno.h>
#include "views.h"

/* /proc/loadavg for a cgroup, with the kernel's own fixed-point arithmetic
 * (kernel/sched/loadavg.c) fed every LOAD_FREQ_SEC with the cgroup's
 * runnable + uninterruptible task count. */

/* 1/exp(5sec/1min), 1/exp(5sec/5min), 1/exp(5sec/15min) in fixed point */
static const unsigned long load_exp[3] = { 1884, 2014, 2037 };

#define LOAD_INT(x) ((x) >> LOAD_FSHIFT)
#define LOAD_FRAC(x) LOAD_INT(((x) & (LOAD_FIXED_1 - 1)) * 100)

/* calc_load(): active is in FIXED_1 units there; rounding up while the
 * load rises lets it actually reach the active count. */
static unsigned long calc_load(unsigned long load, unsigned long exp, unsigned long active) {
        unsigned long newload = load * exp + active * (LOAD_FIXED_1 - exp);
        if (active >= load)
                newload += LOAD_FIXED_1 - 1;
        return newload / LOAD_FIXED_1;
}

void loadavg_sample(struct loadavg_state *s, unsigned active) {
        unsigned long a = (unsigned long)active * LOAD_FIXED_1;

        for (size_t i = 0; i < ELEMENTSOF(load_exp); i++)
                s->avenrun[i] = calc_load(s->avenrun[i], load_exp[i], a);
}

int render_loadavg(const struct loadavg_state *s, unsigned running, unsigned total, pid_t last_pid, struct buf *out) {
        unsigned long avn[3];

        if (!s || !out)
                return -EINVAL;
        /* loadavg_proc_show(): add FIXED_1/200 to round to two decimals */
        for (size_t i = 0; i < ELEMENTSOF(avn); i++)
                avn[i] = s->avenrun[i] + LOAD_FIXED_1 / 200;
        return buf_printf(out, "%lu.%02lu %lu.%02lu %lu.%02lu %u/%u %d\n",
                          LOAD_INT(avn[0]), LOAD_FRAC(avn[0]), LOAD_INT(avn[1]), LOAD_FRAC(avn[1]),
                          LOAD_INT(avn[2]), LOAD_FRAC(avn[2]), running, total, (int)last_pid);
}
