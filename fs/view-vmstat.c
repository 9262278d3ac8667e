#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>
#include "views.h"

/* /proc/vmstat for a cgroup: the host's lines in the host's order, each
 * given the cgroup's figure where the cgroup has one and 0 otherwise, so
 * that no host-wide count (free pages, faults, reclaim, swap traffic) shows
 * through and vmstat(8)'s first line (pgpgin/pgpgout/pswpin/pswpout here,
 * the rest from meminfo and stat) is the container's. */

/* Page counts from the cgroup's memory.stat byte figures (struct cg_memory). */
enum unit { PAGES, THPS, KIB };
static const struct {
        const char *name;
        size_t field; /* offsetof(struct cg_memory, ...) */
        enum unit unit;
} page_counts[] = {
        { "nr_inactive_anon", offsetof(struct cg_memory, inactive_anon), PAGES },
        { "nr_active_anon", offsetof(struct cg_memory, active_anon), PAGES },
        { "nr_inactive_file", offsetof(struct cg_memory, inactive_file), PAGES },
        { "nr_active_file", offsetof(struct cg_memory, active_file), PAGES },
        { "nr_unevictable", offsetof(struct cg_memory, unevictable), PAGES },
        { "nr_zone_inactive_anon", offsetof(struct cg_memory, inactive_anon), PAGES },
        { "nr_zone_active_anon", offsetof(struct cg_memory, active_anon), PAGES },
        { "nr_zone_inactive_file", offsetof(struct cg_memory, inactive_file), PAGES },
        { "nr_zone_active_file", offsetof(struct cg_memory, active_file), PAGES },
        { "nr_zone_unevictable", offsetof(struct cg_memory, unevictable), PAGES },
        { "nr_slab_reclaimable", offsetof(struct cg_memory, slab_reclaimable), PAGES },
        { "nr_slab_unreclaimable", offsetof(struct cg_memory, slab_unreclaimable), PAGES },
        { "nr_anon_pages", offsetof(struct cg_memory, anon), PAGES },
        { "nr_mapped", offsetof(struct cg_memory, mapped), PAGES },
        { "nr_file_pages", offsetof(struct cg_memory, file), PAGES },
        { "nr_dirty", offsetof(struct cg_memory, dirty), PAGES },
        { "nr_writeback", offsetof(struct cg_memory, writeback), PAGES },
        { "nr_shmem", offsetof(struct cg_memory, shmem), PAGES },
        { "nr_swapcached", offsetof(struct cg_memory, swapcached), PAGES },
        { "nr_page_table_pages", offsetof(struct cg_memory, pagetables), PAGES },
        /* mm/vmstat.c prints these in huge pages (vmstat_item_print_in_thp) */
        { "nr_anon_transparent_hugepages", offsetof(struct cg_memory, anon_thp), THPS },
        { "nr_shmem_hugepages", offsetof(struct cg_memory, shmem_thp), THPS },
        { "nr_file_hugepages", offsetof(struct cg_memory, file_thp), THPS },
        /* NR_KERNEL_STACK_KB: in KiB */
        { "nr_kernel_stack", offsetof(struct cg_memory, kernel_stack), KIB },
};

/* Event counters that memory.stat keeps under /proc/vmstat's own name
 * (v2; v1 has only the fault counts, hierarchically as total_<name>). Not
 * pgpgin/pgpgout: v1's memory.stat counts pages charged and uncharged
 * under those names, not KiB read and written as /proc/vmstat does. */
static const char *const events[] = {
        "pgfault", "pgmajfault", "pgrefill", "pgactivate", "pgdeactivate", "pglazyfree", "pglazyfreed",
        "pgscan_kswapd", "pgscan_direct", "pgscan_khugepaged", "pgscan_anon", "pgscan_file",
        "pgsteal_kswapd", "pgsteal_direct", "pgsteal_khugepaged", "pgsteal_anon", "pgsteal_file",
        "pgpromote_success", "pgdemote_kswapd", "pgdemote_direct", "pgdemote_khugepaged",
        "workingset_refault_anon", "workingset_refault_file", "workingset_activate_anon",
        "workingset_activate_file", "workingset_restore_anon", "workingset_restore_file",
        "workingset_nodereclaim", "pswpin", "pswpout", "zswpin", "zswpout", "zswpwb",
        "swpin_zero", "swpout_zero", "thp_fault_alloc", "thp_fault_fallback", "thp_fault_fallback_charge",
        "thp_collapse_alloc", "thp_swpout", "thp_swpout_fallback", "thp_split_pmd", "thp_scan_exceed_none_pte",
        "thp_scan_exceed_swap_pte", "thp_scan_exceed_share_pte",
};

/* The cgroup's figure for NAME; false: it has none (the line shows 0). */
static bool container_value(const struct vmstat_input *in, const char *name, uint64_t *ret) {
        char total[128];

        if (streq(name, "nr_free_pages")) {
                *ret = in->mem_free / in->page_size;
                return true;
        }
        if (streq(name, "nr_zone_write_pending")) {
                /* NR_ZONE_WRITE_PENDING: dirty + writeback pages */
                if (in->mem->dirty == CG_NONE || in->mem->writeback == CG_NONE)
                        return false;
                *ret = (in->mem->dirty + in->mem->writeback) / in->page_size;
                return true;
        }
        if (streq(name, "pgpgin") || streq(name, "pgpgout")) {
                *ret = (name[4] == 'i' ? in->read_bytes : in->write_bytes) / 1024;
                return in->io_known;
        }
        for (size_t i = 0; i < ELEMENTSOF(page_counts); i++) {
                if (!streq(page_counts[i].name, name))
                        continue;
                uint64_t b = *(const uint64_t *)((const char *)in->mem + page_counts[i].field);
                if (b == CG_NONE)
                        return false;
                *ret = page_counts[i].unit == KIB ? b / 1024 :
                       page_counts[i].unit == THPS ? b / in->thp_size : b / in->page_size;
                return true;
        }
        for (size_t i = 0; i < ELEMENTSOF(events); i++) {
                if (!streq(events[i], name))
                        continue;
                snprintf(total, sizeof(total), "total_%s", name);
                return keyed_u64(in->memory_stat, total, ret) >= 0 || keyed_u64(in->memory_stat, name, ret) >= 0;
        }
        return false;
}

int render_vmstat(const char *host_vmstat, const struct vmstat_input *in, struct buf *out) {
        _cleanup_buf_ struct buf tmp = { 0 };

        if (!host_vmstat || !in || !in->memory_stat || !in->mem || in->page_size == 0 || in->thp_size == 0)
                return -EINVAL;
        for (const char *p = host_vmstat; *p;) {
                size_t len = strcspn(p, "\n"), n = strcspn(p, " ");
                char name[96];
                uint64_t v = 0;

                if (n >= len || n == 0 || n >= sizeof(name))
                        return -EINVAL; /* every line is "name value" */
                memcpy(name, p, n);
                name[n] = 0;
                if (!container_value(in, name, &v))
                        v = 0;
                buf_printf(&tmp, "%s %" PRIu64 "\n", name, v);
                p += len + (p[len] == '\n');
        }
        if (tmp.err)
                return tmp.err;
        return buf_append(out, tmp.data ? tmp.data : "", tmp.len);
}
