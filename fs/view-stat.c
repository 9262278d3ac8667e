#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "views.h"

/* /proc/stat for a cgroup. The cgroup's CPU time is folded onto the visible
 * CPUs and kept in per-cgroup counters that, like the kernel's, never go
 * backwards: top, mpstat and friends compute rates from deltas and show
 * nonsense when a counter shrinks. */

#define NS_PER_TICK (1000000000ULL / USER_HZ)

static uint64_t sat_add(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t min_u64(uint64_t a, uint64_t b) {
        return a < b ? a : b;
}

/* a * b / c without overflow; the callers keep a <= c so the result fits */
static uint64_t mul_div(uint64_t a, uint64_t b, unsigned __int128 c) {
        return (uint64_t)((unsigned __int128)a * b / c);
}

void stat_state_done(struct stat_state *s) {
        if (!s)
                return;
        free(s->cpu);
        *s = (struct stat_state){ 0 };
}

static int validate(const struct cpu_view *v, const struct cg_cpu_usage *u) {
        if (!v || !u || v->n == 0 || v->n > CPU_LIST_MAX)
                return -EINVAL;
        for (unsigned i = 0; i < v->n; i++)
                if (v->phys[i] >= CPU_LIST_MAX)
                        return -EINVAL;
        if (u->percpu && (u->ncpu > CPU_LIST_MAX || (u->ncpu > 0 && (!u->user_ns || !u->system_ns))))
                return -EINVAL;
        return 0;
}

/* Per-CPU usage (v1 cpuacct) stays on its CPU when that CPU is visible;
 * usage on CPUs the reader cannot see (the cpuset shrank, or the quota cut
 * the list) is dealt round-robin so the cgroup's total is kept. */
static void fold_percpu(const struct cpu_view *v, const struct cg_cpu_usage *u,
                        uint64_t *user_ns, uint64_t *sys_ns) {
        int visible[CPU_LIST_MAX];
        unsigned k = 0;

        memset(visible, 0xff, sizeof(visible));
        for (unsigned i = 0; i < v->n; i++)
                visible[v->phys[i]] = (int)i;
        for (unsigned j = 0; j < u->ncpu; j++) {
                unsigned to = visible[j] >= 0 ? (unsigned)visible[j] : k++ % v->n;
                user_ns[to] = sat_add(user_ns[to], u->user_ns[j]);
                sys_ns[to] = sat_add(sys_ns[to], u->system_ns[j]);
        }
}

/* The user/system ticks each visible CPU should show. v2 only has totals:
 * split evenly, the remainder to CPU 0. */
static int fold_usage(const struct cpu_view *v, const struct cg_cpu_usage *u, struct stat_cpu *target) {
        _cleanup_free_ uint64_t *user_ns = calloc(v->n, sizeof(uint64_t));
        _cleanup_free_ uint64_t *sys_ns = calloc(v->n, sizeof(uint64_t));
        unsigned n = v->n;

        if (!user_ns || !sys_ns)
                return -ENOMEM;
        if (u->percpu)
                fold_percpu(v, u, user_ns, sys_ns);
        else
                for (unsigned i = 0; i < n; i++) {
                        user_ns[i] = u->total_user_ns / n + (i == 0 ? u->total_user_ns % n : 0);
                        sys_ns[i] = u->total_system_ns / n + (i == 0 ? u->total_system_ns % n : 0);
                }
        for (unsigned i = 0; i < n; i++)
                target[i] = (struct stat_cpu){ .user = user_ns[i] / NS_PER_TICK,
                                               .system = sys_ns[i] / NS_PER_TICK };
        return 0;
}

/* First sight: a CPU cannot have been busy longer than the container has
 * existed, so busy time is scaled down to the uptime; the rest is idle. */
static void counters_init(struct stat_cpu *c, unsigned n, uint64_t uptime) {
        for (unsigned i = 0; i < n; i++) {
                uint64_t busy = sat_add(c[i].user, c[i].system);
                if (busy > uptime) {
                        c[i].user = mul_div(c[i].user, uptime, busy);
                        c[i].system = uptime - c[i].user;
                        busy = uptime;
                }
                c[i].idle = uptime - busy;
        }
}

/* Later: busy catches up with the target by at most the wall time elapsed,
 * shared between user and system by how far each lags; idle takes the rest,
 * so busy + idle advances by exactly dwall and nothing goes backwards. */
static void counter_advance(struct stat_cpu *c, const struct stat_cpu *t, uint64_t dwall) {
        uint64_t busy = sat_add(c->user, c->system);
        uint64_t want = sat_add(t->user, t->system);
        uint64_t dbusy = want > busy ? min_u64(want - busy, dwall) : 0;
        uint64_t du = t->user > c->user ? t->user - c->user : 0;
        uint64_t ds = t->system > c->system ? t->system - c->system : 0;

        if (dbusy > 0 && du + (unsigned __int128)ds > 0) {
                uint64_t add_user = mul_div(dbusy, du, (unsigned __int128)du + ds);
                c->user += add_user;
                c->system += dbusy - add_user;
        } else
                dbusy = 0;
        c->idle += dwall - dbusy;
}

/* Do A and B describe other CPUs (a cpuset changed to as many others)? */
static bool other_cpus(const struct stat_cpu *a, const struct stat_cpu *b, unsigned n) {
        for (unsigned i = 0; i < n; i++)
                if (a[i].id != b[i].id)
                        return true;
        return false;
}

int stat_state_update(struct stat_state *s, const struct cpu_view *v, const struct cg_cpu_usage *u, uint64_t uptime_ticks) {
        _cleanup_free_ struct stat_cpu *target = NULL;
        int r;

        if (!s)
                return -EINVAL;
        r = validate(v, u);
        if (r < 0)
                return r;
        target = calloc(v->n, sizeof(*target));
        if (!target)
                return -ENOMEM;
        r = fold_usage(v, u, target);
        if (r < 0)
                return r;

        for (unsigned i = 0; i < v->n; i++)
                target[i].id = v->phys[i];
        if (!s->initialized || !s->cpu || s->n != v->n || other_cpus(s->cpu, target, v->n)) {
                /* cpuset changed: the old counters describe other CPUs */
                counters_init(target, v->n, uptime_ticks);
                free(s->cpu);
                s->cpu = TAKE_PTR(target);
                s->n = v->n;
                s->last_uptime_ticks = uptime_ticks;
                s->initialized = 1;
                return 0;
        }
        /* uptime going backwards (clock or namespace oddity) advances nothing */
        uint64_t dwall = uptime_ticks > s->last_uptime_ticks ? uptime_ticks - s->last_uptime_ticks : 0;
        for (unsigned i = 0; i < s->n; i++)
                counter_advance(&s->cpu[i], &target[i], dwall);
        if (uptime_ticks > s->last_uptime_ticks)
                s->last_uptime_ticks = uptime_ticks;
        return 0;
}

/* What becomes of each host line after the cpu lines. The host's interrupt,
 * context switch and fork counts are host totals and become 0; btime is a
 * point in time, not a total, and ps needs it to compute start times. */
enum stat_action { STAT_ZERO, STAT_KEEP, STAT_RUNNING, STAT_BLOCKED, STAT_SOFTIRQ };

static const struct stat_row {
        const char *name;
        enum stat_action action;
} stat_rows[] = {
        { "intr",          STAT_ZERO },
        { "ctxt",          STAT_ZERO },
        { "btime",         STAT_KEEP },
        { "processes",     STAT_ZERO },
        { "procs_running", STAT_RUNNING },
        { "procs_blocked", STAT_BLOCKED },
        { "softirq",       STAT_SOFTIRQ },
};

static bool is_cpu_key(const char *key, size_t len) {
        if (len < 3 || memcmp(key, "cpu", 3) != 0)
                return false;
        for (size_t i = 3; i < len; i++)
                if (key[i] < '0' || key[i] > '9')
                        return false;
        return true;
}

static bool valid_u64_field(const char *p, size_t len) {
        char num[32];
        uint64_t x;
        if (len == 0 || len >= sizeof(num))
                return false;
        memcpy(num, p, len);
        num[len] = 0;
        return parse_u64(num, &x) >= 0;
}

/* Unknown lines keep their shape with every figure 0. Returns 1 for btime. */
static int render_host_line(const char *p, size_t len, unsigned running, unsigned blocked, struct buf *out) {
        size_t klen = strcspn(p, " \n");
        enum stat_action action = STAT_ZERO;
        bool known = false;

        if (klen > len)
                klen = len;
        if (is_cpu_key(p, klen))
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(stat_rows); i++)
                if (strlen(stat_rows[i].name) == klen && memcmp(stat_rows[i].name, p, klen) == 0) {
                        action = stat_rows[i].action;
                        known = true;
                }
        switch (action) {
        case STAT_KEEP:
                if (len == klen || !valid_u64_field(p + klen + 1, len - klen - 1))
                        return -EINVAL;
                buf_printf(out, "%.*s\n", (int)len, p);
                return 1;
        case STAT_RUNNING:
                return buf_printf(out, "%.*s %u\n", (int)klen, p, running);
        case STAT_BLOCKED:
                return buf_printf(out, "%.*s %u\n", (int)klen, p, blocked);
        case STAT_SOFTIRQ:
                return buf_printf(out, "softirq 0 0 0 0 0 0 0 0 0 0 0\n");
        case STAT_ZERO:
        default:
                buf_printf(out, "%.*s", (int)klen, p);
                if (known)
                        buf_printf(out, " 0");
                else
                        for (size_t i = klen; i < len; i++)
                                if (p[i] == ' ' && i + 1 < len && p[i + 1] != ' ')
                                        buf_printf(out, " 0");
                return buf_append(out, "\n", 1);
        }
}

static void render_cpu_line(struct buf *out, const char *name, const struct stat_cpu *c) {
        buf_printf(out, "%s %" PRIu64 " 0 %" PRIu64 " %" PRIu64 " 0 0 0 0 0 0\n",
                   name, c->user, c->system, c->idle);
}

int render_stat(const char *host_stat, const struct stat_state *s, unsigned procs_running, unsigned procs_blocked, struct buf *out) {
        _cleanup_buf_ struct buf tmp = { 0 };
        struct stat_cpu sum = { 0 };
        bool btime = false;
        char name[16];

        if (!host_stat || !s || !s->initialized || !s->cpu || s->n == 0)
                return -EINVAL;
        for (unsigned i = 0; i < s->n; i++) {
                sum.user = sat_add(sum.user, s->cpu[i].user);
                sum.system = sat_add(sum.system, s->cpu[i].system);
                sum.idle = sat_add(sum.idle, s->cpu[i].idle);
        }
        /* "cpu  ": two spaces, as fs/proc/stat.c show_stat() prints it */
        render_cpu_line(&tmp, "cpu ", &sum);
        for (unsigned i = 0; i < s->n; i++) {
                /* the CPU's own number, as sched_getaffinity, cpu/online
                 * and /proc/cpuinfo give it */
                snprintf(name, sizeof(name), "cpu%u", s->cpu[i].id);
                render_cpu_line(&tmp, name, &s->cpu[i]);
        }
        for (const char *p = host_stat; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                if (len > 0) {
                        int r = render_host_line(p, len, procs_running, procs_blocked, &tmp);
                        if (r < 0)
                                return r;
                        if (r == 1)
                                btime = true;
                }
                p += len + (nl ? 1 : 0);
        }
        if (!btime)
                return -EINVAL;
        if (tmp.err)
                return tmp.err;
        return buf_append(out, tmp.data, tmp.len);
}
