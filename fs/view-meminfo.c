#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include "views.h"

/* /proc/meminfo for a cgroup. The host text gives the lines, their order and
 * their units; every figure comes from the cgroup (or is 0), so a limited
 * reader never sees a host total. */

static uint64_t sat_add(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b) {
        return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static uint64_t min_u64(uint64_t a, uint64_t b) {
        return a < b ? a : b;
}

/* CG_NONE ("not exposed") counts as 0 */
static uint64_t fig(uint64_t v) {
        return v == CG_NONE ? 0 : v;
}

/* A host figure in kB, as bytes. A missing key is -ENOENT so the caller
 * decides whether the line is required. */
static int host_bytes(const char *host, const char *key, uint64_t *ret) {
        uint64_t kb;
        int r = keyed_u64(host, key, &kb);
        if (r < 0)
                return r == -ERANGE ? -EINVAL : r;
        *ret = sat_mul(kb, 1024);
        return 0;
}

int mem_view_compute(const char *host_meminfo, const struct cg_memory *m, struct mem_view *ret) {
        uint64_t host_total, host_swap = 0;
        int r;

        if (!host_meminfo || !m || !ret || m->usage == CG_NONE)
                return -EINVAL;
        r = host_bytes(host_meminfo, "MemTotal", &host_total);
        if (r < 0)
                return -EINVAL;
        /* A host without a SwapTotal line has no swap to show: 0 is safe. */
        r = host_bytes(host_meminfo, "SwapTotal", &host_swap);
        if (r < 0 && r != -ENOENT)
                return -EINVAL;
        if (m->swap_accounting && m->swap_usage == CG_NONE)
                return -EINVAL;

        struct mem_view v = { 0 };
        v.mem_total = min_u64(m->limit, host_total);
        v.mem_free = m->usage < v.mem_total ? v.mem_total - m->usage : 0;
        /* Page cache is reclaimable except shmem/tmpfs, which can only be
         * swapped (mm/page_alloc.c si_mem_available() makes the same cut). */
        uint64_t cache = fig(m->file) > fig(m->shmem) ? fig(m->file) - fig(m->shmem) : 0;
        v.mem_available = min_u64(v.mem_total,
                                  sat_add(sat_add(v.mem_free, cache), fig(m->slab_reclaimable)));
        if (m->swap_accounting) {
                v.swap_total = min_u64(m->swap_limit, host_swap);
                v.swap_free = m->swap_usage < v.swap_total ? v.swap_total - m->swap_usage : 0;
        }
        *ret = v;
        return 0;
}

/* Where each line's figure comes from. Lines not in the table keep their
 * place with 0: VmallocTotal, DirectMap*, HugePages_*, HardwareCorrupted,
 * Zswap, Bounce, NFS_Unstable, WritebackTmp, Cma* ... are host-wide. */
enum row_kind {
        ROW_ZERO,   /* no cgroup counterpart */
        ROW_CG,     /* a + b of struct cg_memory (b optional) */
        ROW_VIEW,   /* a field of struct mem_view */
        ROW_COMMIT, /* SwapTotal + MemTotal: what the cgroup may commit */
        ROW_HOST,   /* a size, not a total: the host value stands */
};

#define NO_FIELD SIZE_MAX
#define CG(a) ROW_CG, offsetof(struct cg_memory, a), NO_FIELD
#define CG2(a, b) ROW_CG, offsetof(struct cg_memory, a), offsetof(struct cg_memory, b)
#define VIEW(a) ROW_VIEW, offsetof(struct mem_view, a), NO_FIELD

static const struct meminfo_row {
        const char *name;
        enum row_kind kind;
        size_t a, b;
} meminfo_rows[] = {
        { "MemTotal",       VIEW(mem_total) },
        { "MemFree",        VIEW(mem_free) },
        { "MemAvailable",   VIEW(mem_available) },
        { "Buffers",        ROW_ZERO, NO_FIELD, NO_FIELD }, /* block-device cache is not charged apart */
        { "Cached",         CG(file) },                     /* includes shmem, like the kernel's */
        { "SwapCached",     CG(swapcached) },
        { "Active",         CG2(active_anon, active_file) },
        { "Inactive",       CG2(inactive_anon, inactive_file) },
        { "Active(anon)",   CG(active_anon) },
        { "Inactive(anon)", CG(inactive_anon) },
        { "Active(file)",   CG(active_file) },
        { "Inactive(file)", CG(inactive_file) },
        { "Unevictable",    CG(unevictable) },
        { "Mlocked",        ROW_ZERO, NO_FIELD, NO_FIELD },
        { "SwapTotal",      VIEW(swap_total) },
        { "SwapFree",       VIEW(swap_free) },
        { "Dirty",          CG(dirty) },
        { "Writeback",      CG(writeback) },
        { "AnonPages",      CG(anon) },
        { "Mapped",         CG(mapped) },
        { "Shmem",          CG(shmem) },
        { "KReclaimable",   CG(slab_reclaimable) },
        { "Slab",           CG2(slab_reclaimable, slab_unreclaimable) },
        { "SReclaimable",   CG(slab_reclaimable) },
        { "SUnreclaim",     CG(slab_unreclaimable) },
        { "KernelStack",    CG(kernel_stack) },
        { "PageTables",     CG(pagetables) },
        { "AnonHugePages",  CG(anon_thp) },
        { "ShmemHugePages", CG(shmem_thp) },
        { "ShmemPmdMapped", ROW_ZERO, NO_FIELD, NO_FIELD },
        { "FileHugePages",  CG(file_thp) },
        { "FilePmdMapped",  ROW_ZERO, NO_FIELD, NO_FIELD },
        { "Percpu",         CG(percpu) },
        { "CommitLimit",    ROW_COMMIT, NO_FIELD, NO_FIELD },
        { "Committed_AS",   CG(usage) },
        { "Hugepagesize",   ROW_HOST, NO_FIELD, NO_FIELD },
};

static const struct meminfo_row *row_find(const char *name, size_t len) {
        for (size_t i = 0; i < ELEMENTSOF(meminfo_rows); i++)
                if (strlen(meminfo_rows[i].name) == len && memcmp(meminfo_rows[i].name, name, len) == 0)
                        return &meminfo_rows[i];
        return NULL;
}

static uint64_t u64_at(const void *base, size_t off) {
        return off == NO_FIELD ? 0 : *(const uint64_t *)((const char *)base + off);
}

/* The line's figure in kB. Swap lines may exceed MemTotal (swap is not
 * memory); everything else is clamped to it, so no host-sized total leaks. */
static uint64_t row_value_kb(const struct meminfo_row *row, uint64_t host_kb,
                             const struct cg_memory *m, const struct mem_view *v) {
        uint64_t total_kb = v->mem_total / 1024;

        switch (row ? row->kind : ROW_ZERO) {
        case ROW_CG:
                return min_u64(sat_add(fig(u64_at(m, row->a)), fig(u64_at(m, row->b))) / 1024, total_kb);
        case ROW_VIEW:
                if (row->a == offsetof(struct mem_view, swap_total) ||
                    row->a == offsetof(struct mem_view, swap_free))
                        return u64_at(v, row->a) / 1024;
                return min_u64(u64_at(v, row->a) / 1024, total_kb);
        case ROW_COMMIT:
                return sat_add(v->swap_total, v->mem_total) / 1024;
        case ROW_HOST:
                return min_u64(host_kb, total_kb);
        case ROW_ZERO:
        default:
                return 0;
        }
}

/* One "Name:   value[ kB]" line. The kernel pads "Name:" to 16 columns and
 * the value to 8 (fs/proc/meminfo.c show_val_kb()), so values end at column
 * 24; longer names such as HardwareCorrupted keep one space. */
static int render_line(const char *line, size_t len, const struct cg_memory *m,
                       const struct mem_view *v, struct buf *out) {
        const char *colon = memchr(line, ':', len);
        char num[32];
        uint64_t host_kb;
        int r;

        if (!colon || colon == line)
                return -EINVAL;
        size_t name_len = colon - line;
        const char *text = colon + 1;
        while (text < line + len && (*text == ' ' || *text == '\t'))
                text++;
        size_t vlen = line + len - text;
        if (vlen >= sizeof(num))
                return -EINVAL;
        memcpy(num, text, vlen);
        num[vlen] = 0;
        char *unit = strstr(num, " kB");
        bool kb = unit != NULL;
        if (kb)
                *unit = 0;
        r = parse_u64(num, &host_kb);
        if (r < 0)
                return -EINVAL;

        uint64_t val = row_value_kb(row_find(line, name_len), host_kb, m, v);
        int field = name_len + 1 < 16 ? 16 : (int)name_len + 2;
        int width = field < 24 ? 24 - field : 1;
        return buf_printf(out, "%.*s:%*s%*" PRIu64 "%s\n", (int)name_len, line,
                          field - (int)name_len - 1, "", width, val, kb ? " kB" : "");
}

int render_meminfo(const char *host_meminfo, const struct cg_memory *m, struct buf *out) {
        _cleanup_buf_ struct buf tmp = { 0 };
        struct mem_view v;
        int r;

        r = mem_view_compute(host_meminfo, m, &v);
        if (r < 0)
                return r;
        for (const char *p = host_meminfo; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                if (len > 0) {
                        r = render_line(p, len, m, &v, &tmp);
                        if (r < 0)
                                return r;
                }
                p += len + (nl ? 1 : 0);
        }
        if (tmp.err)
                return tmp.err;
        if (tmp.len == 0)
                return -EINVAL;
        return buf_append(out, tmp.data, tmp.len);
}
