#include "config.h"
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "views.h"

/* /proc/cpuinfo for a cgroup: only the visible CPUs' blocks, so that tools
 * counting "processor" lines (nproc fallbacks, JVMs, make -j$(grep -c
 * processor ...)) size themselves to the cgroup. Each keeps its own number,
 * as sched_getaffinity(2), /proc/stat and /sys/devices/system/cpu give it
 * (under --cpuset 1 that is "processor : 1" next to cpu1/). */

int cpu_view_compute(const struct cpu_set_bits *effective, uint64_t quota, uint64_t period, struct cpu_view *ret) {
        struct cpu_view v = { 0 };
        unsigned max;

        if (!effective || !ret)
                return -EINVAL;
        if (quota == CG_NONE)
                max = CPU_LIST_MAX;
        else {
                if (period == 0)
                        return -EINVAL;
                /* ceil(quota/period): 1.5 CPUs of bandwidth can keep 2 busy */
                uint64_t want = quota / period + (quota % period != 0);
                max = want == 0 ? 1 : want > CPU_LIST_MAX ? CPU_LIST_MAX : (unsigned)want;
        }
        for (unsigned i = 0; i < CPU_LIST_MAX && v.n < max; i++)
                if (cpu_bit(effective, i))
                        v.phys[v.n++] = i;
        if (v.n == 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

struct span {
        const char *p;
        size_t len;
};

/* "key<TAB>: value": the key with trailing blanks stripped, and the value */
static bool split_line(const char *line, size_t len, struct span *key, struct span *val) {
        const char *colon = memchr(line, ':', len);
        if (!colon)
                return false;
        size_t k = colon - line;
        while (k > 0 && (line[k - 1] == ' ' || line[k - 1] == '\t'))
                k--;
        const char *v = colon + 1;
        while (v < line + len && *v == ' ')
                v++;
        *key = (struct span){ line, k };
        *val = (struct span){ v, line + len - v };
        return true;
}

static bool span_is(struct span s, const char *word) {
        return s.len == strlen(word) && memcmp(s.p, word, s.len) == 0;
}

static bool span_u64(struct span s, uint64_t *ret) {
        char num[32];
        if (s.len == 0 || s.len >= sizeof(num))
                return false;
        memcpy(num, s.p, s.len);
        num[s.len] = 0;
        return parse_u64(num, ret) >= 0;
}

static size_t line_len(const char *p) {
        const char *nl = strchr(p, '\n');
        return nl ? (size_t)(nl - p) : strlen(p);
}

/* Index the host text: blocks[cpu] = the block whose first line is
 * "processor : cpu", up to (not including) its blank line. */
static void index_blocks(const char *host, struct span *blocks) {
        struct span *cur = NULL;

        for (const char *p = host; *p;) {
                size_t len = line_len(p);
                struct span key, val;
                uint64_t cpu;

                if (len == 0)
                        cur = NULL;
                else if (split_line(p, len, &key, &val) && span_is(key, "processor")) {
                        cur = NULL;
                        if (span_u64(val, &cpu) && cpu < CPU_LIST_MAX && !blocks[cpu].p) {
                                cur = &blocks[cpu];
                                cur->p = p;
                        }
                }
                if (cur)
                        cur->len = p + len - cur->p;
                p += len + (p[len] == '\n');
        }
}

/* The lines that would give the host's size away get the visible figures. */
static int emit_block(struct span block, unsigned index, unsigned n, struct buf *out) {
        const char *end = block.p + block.len;

        for (const char *p = block.p; p < end;) {
                size_t len = line_len(p);
                if (p + len > end)
                        len = end - p;
                struct span key, val;
                if (split_line(p, len, &key, &val) &&
                    (span_is(key, "processor") || span_is(key, "siblings") || span_is(key, "cpu cores")))
                        buf_printf(out, "%.*s%u\n", (int)(val.p - p), p,
                                   span_is(key, "processor") ? index : n);
                else {
                        buf_append(out, p, len);
                        buf_append(out, "\n", 1);
                }
                p += len + 1;
        }
        return buf_append(out, "\n", 1);
}

int render_cpuinfo(const char *host_cpuinfo, const struct cpu_view *v, struct buf *out) {
        _cleanup_buf_ struct buf tmp = { 0 };
        _cleanup_free_ struct span *blocks = NULL;

        if (!host_cpuinfo || !v || v->n == 0 || v->n > CPU_LIST_MAX)
                return -EINVAL;
        blocks = calloc(CPU_LIST_MAX, sizeof(*blocks));
        if (!blocks)
                return -ENOMEM;
        index_blocks(host_cpuinfo, blocks);
        for (unsigned i = 0; i < v->n; i++) {
                if (v->phys[i] >= CPU_LIST_MAX || !blocks[v->phys[i]].p)
                        return -EINVAL;
                emit_block(blocks[v->phys[i]], v->phys[i], v->n, &tmp);
        }
        if (tmp.err)
                return tmp.err;
        return buf_append(out, tmp.data, tmp.len);
}
