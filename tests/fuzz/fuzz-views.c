/* The views' host inputs (fs/view-*.c): /proc/meminfo, /proc/cpuinfo,
 * /proc/stat and /proc/diskstats texts rendered for a cgroup. The first
 * byte picks the view; then, NUL-separated: the host text and the cgroup's
 * figures, as the cgroup readers could return them:
 *   meminfo:   "LIMIT USAGE SWAPACCT SWAPLIMIT SWAPUSAGE ANON FILE ..." (struct cg_memory order)
 *   cpuinfo:   CPU list, then "QUOTA PERIOD"
 *   stat:      CPU list, then "QUOTA PERIOD RUNNING BLOCKED [UPTIME USER_NS SYS_NS]...",
 *              then per-CPU user and system rows (cpuacct.usage_percpu_*)
 *   diskstats: "MAJOR MINOR RBYTES WBYTES RIOS WIOS DBYTES DIOS" per device
 * Missing figures read as CG_NONE ("not exposed"). */
#include "config.h"
#include <stdlib.h>
#include "fuzz.h"
#include "views.h"

#define NUMS_MAX 64

static uint64_t num(const uint64_t *v, size_t n, size_t i) {
        return i < n ? v[i] : CG_NONE;
}

static void meminfo(char **segs) {
        uint64_t v[NUMS_MAX];
        size_t n = fuzz_numbers(segs[1], " \t\n", v, NUMS_MAX);
        struct cg_memory m = { .swap_accounting = num(v, n, 0) & 1 };
        struct buf out = { 0 };

        fuzz_memory(&m, v + 1, n > 0 ? n - 1 : 0);
        (void)render_meminfo(segs[0], &m, &out);
        buf_free(&out);
        (void)render_swaps(segs[0], &m, &out);
        buf_free(&out);
}

/* The CPU view the gatherer would compute; false when it has none. */
static bool cpu_view(const char *list, uint64_t quota, uint64_t period, struct cpu_view *v) {
        struct cpu_set_bits set;
        /* the readers never return an empty set or a 0 period with a quota */
        if (parse_cpu_list(list, &set) < 0 || cpu_count(&set) == 0 || (quota != CG_NONE && period == 0))
                return false;
        return cpu_view_compute(&set, quota, period, v) == 0;
}

static void cpuinfo(char **segs, struct cpu_view *v) {
        uint64_t q[2];
        size_t n = fuzz_numbers(segs[2], " \t\n", q, 2);
        struct buf out = { 0 };

        if (!cpu_view(segs[1] ? segs[1] : "0", num(q, n, 0), num(q, n, 1), v))
                return;
        (void)render_cpuinfo(segs[0], v, &out);
        buf_free(&out);
}

static void view_stat(char **segs, struct cpu_view *v) {
        uint64_t f[NUMS_MAX], pu[NUMS_MAX], ps[NUMS_MAX];
        size_t n = fuzz_numbers(segs[2], " \t\n", f, NUMS_MAX);
        size_t nu = fuzz_numbers(segs[3], " \t\n", pu, NUMS_MAX), ns = fuzz_numbers(segs[4], " \t\n", ps, NUMS_MAX);
        struct stat_state s = { 0 };
        struct buf out = { 0 };

        if (!cpu_view(segs[1] ? segs[1] : "0", num(f, n, 0), num(f, n, 1), v))
                return;
        for (size_t i = 4; i + 2 < n || i == 4; i += 3) {
                struct cg_cpu_usage u = {
                        .percpu = nu > 0 && nu == ns,
                        .ncpu = nu > 0 && nu == ns ? (unsigned)nu : 0,
                        .user_ns = nu > 0 && nu == ns ? pu : NULL,
                        .system_ns = nu > 0 && nu == ns ? ps : NULL,
                        .total_user_ns = num(f, n, i + 1) == CG_NONE ? 0 : num(f, n, i + 1),
                        .total_system_ns = num(f, n, i + 2) == CG_NONE ? 0 : num(f, n, i + 2),
                };
                uint64_t up = num(f, n, i) == CG_NONE ? 0 : num(f, n, i);
                (void)stat_state_update(&s, v, &u, up);
        }
        unsigned running = (unsigned)num(f, n, 2), blocked = (unsigned)num(f, n, 3);
        if (s.initialized)
                (void)render_stat(segs[0], &s, running, blocked, &out);
        buf_free(&out);
        stat_state_done(&s);
}

static void diskstats(char **segs) {
        uint64_t v[NUMS_MAX];
        size_t n = fuzz_numbers(segs[1], " \t\n", v, NUMS_MAX);
        struct cg_io_dev dev[NUMS_MAX / 8];
        struct cg_io io = { .dev = dev };
        struct buf out = { 0 };

        for (size_t i = 0; i + 8 <= n; i += 8)
                dev[io.n++] = (struct cg_io_dev){
                        .major = (unsigned)v[i], .minor = (unsigned)v[i + 1],
                        .rbytes = v[i + 2], .wbytes = v[i + 3], .rios = v[i + 4],
                        .wios = v[i + 5], .dbytes = v[i + 6], .dios = v[i + 7],
                };
        (void)render_diskstats(segs[0], &io, &out);
        buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct cpu_view *v;
        char *segs[5];

        if (!v && !(v = malloc(sizeof(*v))))
                abort();
        unsigned which = fuzz_pick(&data, &size, 4);
        fuzz_split(data, size, segs, ELEMENTSOF(segs));
        if (!segs[0])
                segs[0] = fuzz_str((const uint8_t *)"", 0);
        switch (which) {
        case 0:
                meminfo(segs);
                break;
        case 1:
                cpuinfo(segs, v);
                break;
        case 2:
                view_stat(segs, v);
                break;
        case 3:
                diskstats(segs);
                break;
        }
        fuzz_segs_free(segs, ELEMENTSOF(segs));
        return 0;
}
