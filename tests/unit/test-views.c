#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "views.h"

#define MiB (1024ULL * 1024)
#define GiB (1024 * MiB)
#define NS_PER_TICK (1000000000ULL / USER_HZ)

/* Host text taken from a real x86-64 VM (Linux 6.x), HardwareCorrupted and
 * DirectMap1G added as CONFIG_MEMORY_FAILURE / gbpages kernels print them. */
static const char host_meminfo[] =
        "MemTotal:       24683620 kB\n"
        "MemFree:        24537784 kB\n"
        "MemAvailable:   24447324 kB\n"
        "Buffers:             580 kB\n"
        "Cached:            15120 kB\n"
        "SwapCached:            0 kB\n"
        "Active:             7292 kB\n"
        "Inactive:           6024 kB\n"
        "Active(anon):       1528 kB\n"
        "Inactive(anon):     4972 kB\n"
        "Active(file):       5764 kB\n"
        "Inactive(file):     1052 kB\n"
        "Unevictable:       13244 kB\n"
        "Mlocked:           12320 kB\n"
        "SwapTotal:             0 kB\n"
        "SwapFree:              0 kB\n"
        "Zswap:                 0 kB\n"
        "Zswapped:              0 kB\n"
        "Dirty:               112 kB\n"
        "Writeback:             0 kB\n"
        "AnonPages:         10960 kB\n"
        "Mapped:            10904 kB\n"
        "Shmem:              8884 kB\n"
        "KReclaimable:      54208 kB\n"
        "Slab:              75560 kB\n"
        "SReclaimable:      54208 kB\n"
        "SUnreclaim:        21352 kB\n"
        "KernelStack:        1404 kB\n"
        "PageTables:         1512 kB\n"
        "SecPageTables:         0 kB\n"
        "NFS_Unstable:          0 kB\n"
        "Bounce:                0 kB\n"
        "WritebackTmp:          0 kB\n"
        "CommitLimit:    12341808 kB\n"
        "Committed_AS:      61280 kB\n"
        "VmallocTotal:   34359738367 kB\n"
        "VmallocUsed:       14188 kB\n"
        "VmallocChunk:          0 kB\n"
        "Percpu:              712 kB\n"
        "HardwareCorrupted:     0 kB\n"
        "AnonHugePages:         0 kB\n"
        "ShmemHugePages:        0 kB\n"
        "ShmemPmdMapped:        0 kB\n"
        "FileHugePages:         0 kB\n"
        "FilePmdMapped:         0 kB\n"
        "Balloon:               0 kB\n"
        "HugePages_Total:      16\n"
        "HugePages_Free:       16\n"
        "HugePages_Rsvd:        0\n"
        "HugePages_Surp:        0\n"
        "Hugepagesize:       2048 kB\n"
        "Hugetlb:           32768 kB\n"
        "DirectMap4k:       32768 kB\n"
        "DirectMap2M:    25133056 kB\n"
        "DirectMap1G:    100663296 kB\n";

static const char host_meminfo_swap[] =
        "MemTotal:       16318468 kB\n"
        "MemFree:         1220000 kB\n"
        "MemAvailable:    9000000 kB\n"
        "Cached:          7000000 kB\n"
        "SwapCached:        12000 kB\n"
        "SwapTotal:       8388604 kB\n"
        "SwapFree:        8000000 kB\n"
        "CommitLimit:    16547836 kB\n"
        "Committed_AS:   20000000 kB\n";

/* ---- helpers ---------------------------------------------------------- */

/* value of "Name:" in rendered meminfo text; fails the test when absent */
static uint64_t mi(const char *text, const char *name) {
        uint64_t v = 0;
        assert_int_equal(keyed_u64(text, name, &v), 0);
        return v;
}

/* The whole line that starts with "name:" (without newline), into line. */
static void line_of(const char *text, const char *name, char *line, size_t size) {
        size_t nl = strlen(name);
        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
                        size_t len = strcspn(p, "\n");
                        assert_true(len < size);
                        memcpy(line, p, len);
                        line[len] = 0;
                        return;
                }
        fail_msg("no line %s", name);
}

static size_t count_lines(const char *text) {
        size_t n = 0;
        for (const char *p = text; *p; p++)
                n += *p == '\n';
        return n;
}

static size_t count_substr(const char *text, const char *s) {
        size_t n = 0;
        for (const char *p = strstr(text, s); p; p = strstr(p + 1, s))
                n++;
        return n;
}

static struct cg_memory mem_base(void) {
        struct cg_memory m = {
                .limit = 512 * MiB,
                .usage = 100 * MiB,
                .swap_accounting = false,
                .swap_limit = CG_NONE,
                .swap_usage = CG_NONE,
                .anon = 50 * MiB,
                .file = 40 * MiB,
                .shmem = 8 * MiB,
                .mapped = 12 * MiB,
                .dirty = 1 * MiB,
                .writeback = 0,
                .active_anon = 30 * MiB,
                .inactive_anon = 20 * MiB,
                .active_file = 25 * MiB,
                .inactive_file = 15 * MiB,
                .unevictable = 0,
                .slab_reclaimable = 4 * MiB,
                .slab_unreclaimable = 2 * MiB,
                .kernel_stack = 256 * 1024,
                .pagetables = 512 * 1024,
                .anon_thp = 0,
                .shmem_thp = CG_NONE,
                .file_thp = CG_NONE,
                .percpu = CG_NONE,
                .swapcached = CG_NONE,
        };
        return m;
}

/* Every line of the host in the same order, and no kB line above MemTotal
 * (the swap lines and CommitLimit are swap, not memory). */
static void assert_meminfo_shape(const char *host, const char *out) {
        const char *h = host, *o = out;
        uint64_t total = mi(out, "MemTotal");

        assert_int_equal(count_lines(host), count_lines(out));
        while (*h) {
                size_t hn = strcspn(h, ":"), on = strcspn(o, ":");
                assert_int_equal(hn, on);
                assert_memory_equal(h, o, hn);
                bool hkb = strstr(h, " kB\n") == h + strcspn(h, "\n") - 3;
                bool okb = strstr(o, " kB\n") == o + strcspn(o, "\n") - 3;
                assert_int_equal(hkb, okb);
                char name[64];
                snprintf(name, sizeof(name), "%.*s", (int)hn, o);
                if (okb && strcmp(name, "SwapTotal") && strcmp(name, "SwapFree") && strcmp(name, "CommitLimit"))
                        assert_true(mi(out, name) <= total);
                h += strcspn(h, "\n") + 1;
                o += strcspn(o, "\n") + 1;
        }
}

/* ---- meminfo ---------------------------------------------------------- */

static void test_meminfo_limit_below_host(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        struct cg_memory m = mem_base();
        char line[128];

        assert_int_equal(render_meminfo(host_meminfo, &m, &out), 0);
        assert_meminfo_shape(host_meminfo, out.data);
        assert_int_equal(mi(out.data, "MemTotal"), 524288);
        assert_int_equal(mi(out.data, "MemFree"), 524288 - 102400);
        /* free + (file - shmem) + reclaimable slab */
        assert_int_equal(mi(out.data, "MemAvailable"), 421888 + 32768 + 4096);
        assert_int_equal(mi(out.data, "Buffers"), 0);
        assert_int_equal(mi(out.data, "Cached"), 40960);
        assert_int_equal(mi(out.data, "SwapCached"), 0);
        assert_int_equal(mi(out.data, "Active"), 56320);
        assert_int_equal(mi(out.data, "Inactive"), 35840);
        assert_int_equal(mi(out.data, "Active(anon)"), 30720);
        assert_int_equal(mi(out.data, "Inactive(file)"), 15360);
        assert_int_equal(mi(out.data, "Mlocked"), 0);
        assert_int_equal(mi(out.data, "SwapTotal"), 0);
        assert_int_equal(mi(out.data, "SwapFree"), 0);
        assert_int_equal(mi(out.data, "Dirty"), 1024);
        assert_int_equal(mi(out.data, "AnonPages"), 51200);
        assert_int_equal(mi(out.data, "Mapped"), 12288);
        assert_int_equal(mi(out.data, "Shmem"), 8192);
        assert_int_equal(mi(out.data, "KReclaimable"), 4096);
        assert_int_equal(mi(out.data, "Slab"), 6144);
        assert_int_equal(mi(out.data, "SUnreclaim"), 2048);
        assert_int_equal(mi(out.data, "KernelStack"), 256);
        assert_int_equal(mi(out.data, "PageTables"), 512);
        assert_int_equal(mi(out.data, "ShmemHugePages"), 0); /* CG_NONE */
        assert_int_equal(mi(out.data, "Percpu"), 0);
        assert_int_equal(mi(out.data, "CommitLimit"), 524288);
        assert_int_equal(mi(out.data, "Committed_AS"), 102400);
        /* host-wide lines keep their place at 0 */
        assert_int_equal(mi(out.data, "VmallocTotal"), 0);
        assert_int_equal(mi(out.data, "DirectMap2M"), 0);
        assert_int_equal(mi(out.data, "HugePages_Total"), 0);
        assert_int_equal(mi(out.data, "Hugetlb"), 0);
        assert_int_equal(mi(out.data, "Hugepagesize"), 2048);

        /* the kernel's columns: name padded to 16, value to 8 */
        line_of(out.data, "MemTotal", line, sizeof(line));
        assert_string_equal(line, "MemTotal:         524288 kB");
        line_of(out.data, "VmallocTotal", line, sizeof(line));
        assert_string_equal(line, "VmallocTotal:          0 kB");
        line_of(out.data, "HugePages_Total", line, sizeof(line));
        assert_string_equal(line, "HugePages_Total:       0");
        line_of(out.data, "HardwareCorrupted", line, sizeof(line));
        assert_string_equal(line, "HardwareCorrupted:     0 kB");
        line_of(out.data, "Active(anon)", line, sizeof(line));
        assert_string_equal(line, "Active(anon):      30720 kB");
        assert_true(strncmp(out.data, "MemTotal:", 9) == 0);
}

static void test_meminfo_no_limit(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        struct cg_memory m = mem_base();

        m.limit = CG_NONE;
        assert_int_equal(render_meminfo(host_meminfo, &m, &out), 0);
        assert_meminfo_shape(host_meminfo, out.data);
        assert_int_equal(mi(out.data, "MemTotal"), 24683620);
        assert_int_equal(mi(out.data, "MemFree"), 24683620 - 102400);
        assert_int_equal(mi(out.data, "Cached"), 40960); /* the cgroup's, not the host's 15120 */
        assert_int_equal(mi(out.data, "Mlocked"), 0);
        assert_int_equal(mi(out.data, "Unevictable"), 0);
        assert_int_equal(mi(out.data, "Slab"), 6144);
        assert_int_equal(mi(out.data, "VmallocTotal"), 0);
        assert_int_equal(mi(out.data, "DirectMap1G"), 0);
}

static void test_meminfo_usage_above_limit(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        struct cg_memory m = mem_base();
        struct mem_view v;

        m.limit = 256 * MiB;
        m.usage = 300 * MiB;
        m.file = 400 * MiB; /* inconsistent snapshot: still clamped */
        assert_int_equal(mem_view_compute(host_meminfo, &m, &v), 0);
        assert_int_equal(v.mem_total, 256 * MiB);
        assert_int_equal(v.mem_free, 0);
        assert_int_equal(v.mem_available, 256 * MiB);
        assert_int_equal(render_meminfo(host_meminfo, &m, &out), 0);
        assert_meminfo_shape(host_meminfo, out.data);
        assert_int_equal(mi(out.data, "MemFree"), 0);
        assert_int_equal(mi(out.data, "Cached"), 262144);
        assert_int_equal(mi(out.data, "Committed_AS"), 262144);
}

static void test_meminfo_huge_numbers(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        struct cg_memory m = mem_base();
        static const char huge_host[] =
                "MemTotal:       18446744073709551615 kB\n"
                "MemFree:        18446744073709551615 kB\n"
                "MemAvailable:   18446744073709551615 kB\n"
                "Active:         18446744073709551615 kB\n"
                "SwapTotal:      18446744073709551615 kB\n"
                "SwapFree:       18446744073709551615 kB\n"
                "Dirty:                 1 kB\n";

        m.limit = CG_NONE;
        m.usage = UINT64_MAX - 1;
        m.file = UINT64_MAX - 5;
        m.shmem = 0;
        m.slab_reclaimable = UINT64_MAX - 7;
        m.active_anon = UINT64_MAX - 2;
        m.active_file = UINT64_MAX - 3;
        m.swap_accounting = true;
        m.swap_limit = CG_NONE;
        m.swap_usage = 0;
        assert_int_equal(render_meminfo(huge_host, &m, &out), 0);
        assert_int_equal(mi(out.data, "MemTotal"), UINT64_MAX / 1024);
        assert_int_equal(mi(out.data, "MemFree"), 0);
        assert_int_equal(mi(out.data, "MemAvailable"), UINT64_MAX / 1024);
        assert_int_equal(mi(out.data, "SwapTotal"), UINT64_MAX / 1024);
        assert_int_equal(mi(out.data, "SwapFree"), UINT64_MAX / 1024);
        assert_int_equal(mi(out.data, "Active"), UINT64_MAX / 1024); /* saturated, then clamped */
        assert_int_equal(mi(out.data, "Dirty"), 1024);
        assert_int_equal(count_lines(out.data), 7);

        /* a host figure that does not fit 64 bits is malformed */
        buf_free(&out);
        assert_int_equal(render_meminfo("MemTotal:       99999999999999999999 kB\n", &m, &out), -EINVAL);
        assert_int_equal(out.len, 0);
}

static void test_meminfo_swap(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        struct cg_memory m = mem_base();
        struct mem_view v;

        m.swap_accounting = true;
        m.swap_limit = 1 * GiB;
        m.swap_usage = 100 * MiB;
        m.swapcached = 2 * MiB;
        assert_int_equal(render_meminfo(host_meminfo_swap, &m, &out), 0);
        assert_meminfo_shape(host_meminfo_swap, out.data);
        assert_int_equal(mi(out.data, "SwapTotal"), 1048576);
        assert_int_equal(mi(out.data, "SwapFree"), 1048576 - 102400);
        assert_int_equal(mi(out.data, "SwapCached"), 2048);
        assert_int_equal(mi(out.data, "CommitLimit"), 1048576 + 524288);

        /* no swap limit: the host's swap bounds it */
        m.swap_limit = CG_NONE;
        assert_int_equal(mem_view_compute(host_meminfo_swap, &m, &v), 0);
        assert_int_equal(v.swap_total, 8388604 * 1024ULL);
        assert_int_equal(v.swap_free, 8388604 * 1024ULL - 100 * MiB);

        /* usage above the limit clamps at 0 */
        m.swap_limit = 64 * MiB;
        assert_int_equal(mem_view_compute(host_meminfo_swap, &m, &v), 0);
        assert_int_equal(v.swap_total, 64 * MiB);
        assert_int_equal(v.swap_free, 0);

        /* host without swap: nothing to show whatever the cgroup says */
        m.swap_limit = CG_NONE;
        assert_int_equal(mem_view_compute(host_meminfo, &m, &v), 0);
        assert_int_equal(v.swap_total, 0);
        assert_int_equal(v.swap_free, 0);
}

static void test_meminfo_swap_accounting_off(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        struct cg_memory m = mem_base();

        m.swap_accounting = false;
        m.swap_limit = 1 * GiB;
        m.swap_usage = 100 * MiB;
        assert_int_equal(render_meminfo(host_meminfo_swap, &m, &out), 0);
        assert_int_equal(mi(out.data, "SwapTotal"), 0);
        assert_int_equal(mi(out.data, "SwapFree"), 0);
        assert_int_equal(mi(out.data, "CommitLimit"), 524288);
}

static void test_swaps(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        struct cg_memory m = mem_base();

        m.swap_accounting = true;
        m.swap_limit = 1 * GiB;
        m.swap_usage = 100 * MiB;
        assert_int_equal(render_swaps(host_meminfo_swap, &m, &out), 0);
        assert_string_equal(out.data,
                            "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                            "none\t\t\t\t\tvirtual\t\t1048576\t\t102400\t\t-1\n");

        buf_free(&out);
        m.swap_accounting = false;
        assert_int_equal(render_swaps(host_meminfo_swap, &m, &out), 0);
        assert_string_equal(out.data, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");

        buf_free(&out);
        m.swap_accounting = true;
        assert_int_equal(render_swaps(host_meminfo, &m, &out), 0); /* host SwapTotal 0 */
        assert_string_equal(out.data, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
}

static void test_meminfo_malformed(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        struct cg_memory m = mem_base();
        struct mem_view v = { .mem_total = 42 };

        assert_int_equal(render_meminfo("MemFree: 1 kB\n", &m, &out), -EINVAL);
        assert_int_equal(render_meminfo("MemTotal: abc kB\n", &m, &out), -EINVAL);
        assert_int_equal(render_meminfo("MemTotal: 100 kB\nno colon here\n", &m, &out), -EINVAL);
        assert_int_equal(render_meminfo("MemTotal: 100 kB\nFoo: 12x kB\n", &m, &out), -EINVAL);
        assert_int_equal(render_meminfo("", &m, &out), -EINVAL);
        assert_int_equal(render_swaps("garbage", &m, &out), -EINVAL);
        assert_int_equal(out.len, 0);

        /* a figure the cgroup does not expose is never replaced by the host's */
        m.usage = CG_NONE;
        assert_int_equal(render_meminfo(host_meminfo, &m, &out), -EINVAL);
        assert_int_equal(mem_view_compute(host_meminfo, &m, &v), -EINVAL);
        assert_int_equal(v.mem_total, 42); /* untouched on failure */
        m = mem_base();
        m.swap_accounting = true;
        m.swap_usage = CG_NONE;
        assert_int_equal(render_swaps(host_meminfo_swap, &m, &out), -EINVAL);
        assert_int_equal(out.len, 0);
}

/* Host fixtures from the tree, when present: the same invariants. */
static char *slurp(const char *path) {
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        char *data = calloc(1, 1 << 20);
        size_t n = data ? fread(data, 1, (1 << 20) - 1, f) : 0;
        (void)n;
        fclose(f);
        return data;
}

static void test_meminfo_fixture(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        _cleanup_free_ char *host = slurp(FIXTURES "/v1/proc/meminfo");
        struct cg_memory m = mem_base();

        if (!host || !strstr(host, "MemTotal:"))
                skip();
        assert_int_equal(render_meminfo(host, &m, &out), 0);
        assert_meminfo_shape(host, out.data);
        assert_int_equal(mi(out.data, "MemTotal"), 524288);
}

/* ---- cpus ------------------------------------------------------------- */

static void test_cpu_view(void **state) {
        struct cpu_set_bits set, empty = { 0 };
        struct cpu_view v;

        assert_int_equal(parse_cpu_list("0-3,8,10-11", &set), 0);
        assert_int_equal(cpu_view_compute(&set, CG_NONE, 100000, &v), 0);
        assert_int_equal(v.n, 7);
        static const unsigned all[] = { 0, 1, 2, 3, 8, 10, 11 };
        for (unsigned i = 0; i < 7; i++)
                assert_int_equal(v.phys[i], all[i]);

        assert_int_equal(cpu_view_compute(&set, 50000, 100000, &v), 0);
        assert_int_equal(v.n, 1);
        assert_int_equal(v.phys[0], 0);

        assert_int_equal(cpu_view_compute(&set, 150000, 100000, &v), 0);
        assert_int_equal(v.n, 2);
        assert_int_equal(v.phys[1], 1);

        assert_int_equal(cpu_view_compute(&set, 500000, 100000, &v), 0);
        assert_int_equal(v.n, 5);
        assert_int_equal(v.phys[4], 8);

        assert_int_equal(cpu_view_compute(&set, 1000, 100000, &v), 0); /* 1% of a CPU */
        assert_int_equal(v.n, 1);
        assert_int_equal(cpu_view_compute(&set, 0, 100000, &v), 0);
        assert_int_equal(v.n, 1);

        assert_int_equal(cpu_view_compute(&set, 10000000, 100000, &v), 0); /* quota above the set */
        assert_int_equal(v.n, 7);

        assert_int_equal(parse_cpu_list("4095", &set), 0);
        assert_int_equal(cpu_view_compute(&set, CG_NONE, 0, &v), 0);
        assert_int_equal(v.n, 1);
        assert_int_equal(v.phys[0], 4095);

        v.n = 99;
        assert_int_equal(cpu_view_compute(&empty, CG_NONE, 100000, &v), -EINVAL);
        assert_int_equal(cpu_view_compute(&set, 50000, 0, &v), -EINVAL);
        assert_int_equal(v.n, 99);
}

static const char cpu_block_fmt[] =
        "processor\t: %u\n"
        "vendor_id\t: AuthenticAMD\n"
        "cpu family\t: 26\n"
        "model\t\t: 2\n"
        "model name\t: AMD EPYC\n"
        "stepping\t: 1\n"
        "cpu MHz\t\t: 2095.996\n"
        "cache size\t: 1024 KB\n"
        "physical id\t: 0\n"
        "siblings\t: %u\n"
        "core id\t\t: %u\n"
        "cpu cores\t: %u\n"
        "apicid\t\t: %u\n"
        "fpu\t\t: yes\n"
        "flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep\n"
        "bogomips\t: 4191.99\n"
        "TLB size\t: 192 4K pages\n"
        "address sizes\t: 48 bits physical, 48 bits virtual\n"
        "power management:\n"
        "\n";

static void host_cpuinfo(struct buf *b, unsigned ncpu) {
        for (unsigned i = 0; i < ncpu; i++)
                assert_int_equal(buf_printf(b, cpu_block_fmt, i, ncpu, i, ncpu, i), 0);
}

static void test_cpuinfo(void **state) {
        _cleanup_buf_ struct buf host = { 0 }, out = { 0 }, want = { 0 };
        struct cpu_view v = { .n = 3, .phys = { 2, 5, 11 } };

        host_cpuinfo(&host, 12);
        assert_int_equal(render_cpuinfo(host.data, &v, &out), 0);
        /* each keeps its own number (as sched_getaffinity gives it);
         * siblings/cpu cores show the visible count; the rest (core id,
         * apicid) is the physical CPU's */
        for (unsigned i = 0; i < v.n; i++)
                buf_printf(&want, cpu_block_fmt, v.phys[i], 3, v.phys[i], 3, v.phys[i]);
        assert_string_equal(out.data, want.data);
        assert_int_equal(count_substr(out.data, "processor\t:"), 3);
        assert_int_equal(count_substr(out.data, "siblings\t: 12"), 0);

        /* a host text without the trailing blank line still works */
        buf_free(&out);
        buf_free(&want);
        host.data[host.len - 1] = 0;
        v = (struct cpu_view){ .n = 1, .phys = { 11 } };
        assert_int_equal(render_cpuinfo(host.data, &v, &out), 0);
        buf_printf(&want, cpu_block_fmt, 11, 1, 11, 1, 11);
        assert_string_equal(out.data, want.data);
}

static void test_cpuinfo_malformed(void **state) {
        _cleanup_buf_ struct buf host = { 0 }, out = { 0 };
        struct cpu_view v = { .n = 2, .phys = { 0, 4 } };

        host_cpuinfo(&host, 4);
        assert_int_equal(render_cpuinfo(host.data, &v, &out), -EINVAL); /* CPU 4 missing */
        assert_int_equal(out.len, 0);
        v.n = 1;
        assert_int_equal(render_cpuinfo("", &v, &out), -EINVAL);
        assert_int_equal(render_cpuinfo("processor\t: x\n\n", &v, &out), -EINVAL);
        assert_int_equal(render_cpuinfo("processor\n:\n::\n\n\n", &v, &out), -EINVAL);
        assert_int_equal(render_cpuinfo("processor : 99999999999999999999999\n", &v, &out), -EINVAL);
        v.n = 0;
        assert_int_equal(render_cpuinfo(host.data, &v, &out), -EINVAL);
        assert_int_equal(out.len, 0);
        /* minimal arm64-like blocks are fine */
        v = (struct cpu_view){ .n = 1, .phys = { 1 } };
        assert_int_equal(render_cpuinfo("processor\t: 0\nBogoMIPS\t: 50.00\n\nprocessor\t: 1\nBogoMIPS\t: 50.00\n\n",
                                        &v, &out), 0);
        assert_string_equal(out.data, "processor\t: 1\nBogoMIPS\t: 50.00\n\n");
}

static void test_cpu_online(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        struct cpu_view v = { .n = 1, .phys = { 7 } };

        /* the real CPU numbers, as sched_getaffinity gives them */
        assert_int_equal(render_cpu_online(&v, &out), 0);
        assert_string_equal(out.data, "7\n");
        buf_free(&out);
        v = (struct cpu_view){ .n = 6, .phys = { 0, 1, 2, 3, 8, 10 } };
        assert_int_equal(render_cpu_online(&v, &out), 0);
        assert_string_equal(out.data, "0-3,8,10\n");
        buf_free(&out);
        v = (struct cpu_view){ .n = 2, .phys = { 4, 5 } };
        assert_int_equal(render_cpu_online(&v, &out), 0);
        assert_string_equal(out.data, "4-5\n");
        buf_free(&out);
        assert_int_equal(render_cpu_offline(&v, &out), 0);
        assert_string_equal(out.data, "\n");
        buf_free(&out);
        v.n = 0;
        assert_int_equal(render_cpu_online(&v, &out), -EINVAL);
}

/* ---- stat ------------------------------------------------------------- */

static const char host_stat[] =
        "cpu  3346 0 3387 810746 341 0 139 0 0 0\n"
        "cpu0 1253 0 1574 406067 65 0 52 0 0 0\n"
        "cpu1 2093 0 1812 404679 276 0 86 0 0 0\n"
        "intr 219881 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 1 8 0 0 0 0 818 22 0 79 1 35891\n"
        "ctxt 356229\n"
        "btime 1795329042\n"
        "processes 3968\n"
        "procs_running 1\n"
        "procs_blocked 0\n"
        "softirq 211835 0 43097 3 2297 35891 0 3 94311 0 36233\n";

struct usage4 {
        uint64_t user[4], sys[4];
        struct cg_cpu_usage u;
};

static void usage4_set(struct usage4 *x, const uint64_t user_ticks[4], const uint64_t sys_ticks[4]) {
        for (int i = 0; i < 4; i++) {
                x->user[i] = user_ticks[i] * NS_PER_TICK;
                x->sys[i] = sys_ticks[i] * NS_PER_TICK;
        }
        x->u = (struct cg_cpu_usage){ .percpu = true, .ncpu = 4, .user_ns = x->user, .system_ns = x->sys };
        for (int i = 0; i < 4; i++) {
                x->u.total_user_ns += x->user[i];
                x->u.total_system_ns += x->sys[i];
        }
}

static void test_stat_fold_percpu(void **state) {
        struct stat_state s = { 0 };
        struct cpu_view v = { .n = 2, .phys = { 0, 2 } };
        struct usage4 x;

        /* CPU 1 and 3 are hidden: dealt round-robin to visible 0 then 1 */
        usage4_set(&x, (const uint64_t[]){ 100, 200, 300, 400 }, (const uint64_t[]){ 10, 20, 30, 40 });
        assert_int_equal(stat_state_update(&s, &v, &x.u, 100000), 0);
        assert_int_equal(s.n, 2);
        assert_true(s.initialized);
        assert_int_equal(s.last_uptime_ticks, 100000);
        assert_int_equal(s.cpu[0].user, 300);
        assert_int_equal(s.cpu[0].system, 30);
        assert_int_equal(s.cpu[0].idle, 100000 - 330);
        assert_int_equal(s.cpu[1].user, 700);
        assert_int_equal(s.cpu[1].system, 70);
        assert_int_equal(s.cpu[1].idle, 100000 - 770);
        stat_state_done(&s);
        assert_null(s.cpu);
        assert_int_equal(s.n, 0);
}

static void test_stat_first_call_capped(void **state) {
        struct stat_state s = { 0 };
        struct cpu_view v = { .n = 1, .phys = { 0 } };
        struct usage4 x;

        /* 1000 busy ticks but only 500 ticks of uptime: scaled 3:1 */
        usage4_set(&x, (const uint64_t[]){ 750, 0, 0, 0 }, (const uint64_t[]){ 250, 0, 0, 0 });
        assert_int_equal(stat_state_update(&s, &v, &x.u, 500), 0);
        assert_int_equal(s.cpu[0].user, 375);
        assert_int_equal(s.cpu[0].system, 125);
        assert_int_equal(s.cpu[0].idle, 0);

        /* it catches up at most by the wall time: 100 ticks later */
        assert_int_equal(stat_state_update(&s, &v, &x.u, 600), 0);
        assert_int_equal(s.cpu[0].user + s.cpu[0].system, 600);
        assert_int_equal(s.cpu[0].user, 375 + 75);
        assert_int_equal(s.cpu[0].system, 125 + 25);
        assert_int_equal(s.cpu[0].idle, 0);
        stat_state_done(&s);
}

static void test_stat_monotonic(void **state) {
        struct stat_state s = { 0 };
        struct cpu_view v = { .n = 2, .phys = { 1, 3 } };
        struct usage4 x;
        /* usage that jumps, stalls, and even goes down (counter reset) */
        static const uint64_t user[][4] = {
                { 10, 100, 0, 5 }, { 10, 150, 0, 5 }, { 10, 5000, 0, 5 }, { 10, 5000, 0, 9000 },
                { 0, 10, 0, 0 }, { 0, 10, 0, 0 }, { 3000, 6000, 9000, 12000 },
        };
        static const uint64_t uptime[] = { 1000, 1100, 1200, 1300, 1300, 1250, 100000 };
        struct stat_cpu prev[2];
        uint64_t prev_uptime = 0;

        for (size_t step = 0; step < ELEMENTSOF(uptime); step++) {
                usage4_set(&x, user[step], (const uint64_t[]){ 1, 2, 3, 4 });
                assert_int_equal(stat_state_update(&s, &v, &x.u, uptime[step]), 0);
                assert_int_equal(s.n, 2);
                for (unsigned i = 0; i < 2; i++) {
                        const struct stat_cpu *c = &s.cpu[i];
                        if (step == 0) {
                                assert_int_equal(c->user + c->system + c->idle, uptime[0]);
                        } else {
                                uint64_t dwall = uptime[step] > prev_uptime ? uptime[step] - prev_uptime : 0;
                                assert_true(c->user >= prev[i].user);
                                assert_true(c->system >= prev[i].system);
                                assert_true(c->idle >= prev[i].idle);
                                assert_int_equal((c->user + c->system + c->idle) -
                                                 (prev[i].user + prev[i].system + prev[i].idle), dwall);
                        }
                        prev[i] = *c;
                }
                if (uptime[step] > prev_uptime)
                        prev_uptime = uptime[step];
        }
        /* the last step had plenty of wall time: busy caught up with the
         * folded target (visible 0 = phys 1 + hidden 0, visible 1 = phys 3 + hidden 2) */
        assert_int_equal(s.cpu[0].user, 9000);
        assert_int_equal(s.cpu[1].user, 21000);
        assert_int_equal(s.cpu[0].system, 3);
        assert_int_equal(s.cpu[1].system, 7);
        assert_int_equal(s.last_uptime_ticks, 100000);

        /* aggregate == sum of the cpuN lines */
        _cleanup_buf_ struct buf out = { 0 };
        assert_int_equal(render_stat(host_stat, &s, 3, 1, &out), 0);
        unsigned long long a[10], c0[10], c1[10];
        assert_int_equal(sscanf(out.data, "cpu  %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu\n",
                                &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6], &a[7], &a[8], &a[9]), 10);
        /* the lines carry the CPUs' own numbers */
        assert_null(strstr(out.data, "\ncpu0 "));
        const char *l1 = strstr(out.data, "\ncpu1 "), *l2 = strstr(out.data, "\ncpu3 ");
        assert_non_null(l1);
        assert_non_null(l2);
        assert_int_equal(sscanf(l1, "\ncpu1 %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                                &c0[0], &c0[1], &c0[2], &c0[3], &c0[4], &c0[5], &c0[6], &c0[7], &c0[8], &c0[9]), 10);
        assert_int_equal(sscanf(l2, "\ncpu3 %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                                &c1[0], &c1[1], &c1[2], &c1[3], &c1[4], &c1[5], &c1[6], &c1[7], &c1[8], &c1[9]), 10);
        for (int i = 0; i < 10; i++)
                assert_int_equal(a[i], c0[i] + c1[i]);
        assert_int_equal(c0[0], 9000);
        assert_int_equal(a[3], s.cpu[0].idle + s.cpu[1].idle);
        assert_null(strstr(out.data, "cpu2"));
        stat_state_done(&s);
}

static void test_stat_v2_even_split(void **state) {
        struct stat_state s = { 0 };
        struct cpu_view v = { .n = 3, .phys = { 4, 5, 6 } };
        struct cg_cpu_usage u = {
                .percpu = false,
                .total_user_ns = 7000000000ULL,   /* 700 ticks */
                .total_system_ns = 310000000ULL,  /* 31 ticks */
        };

        assert_int_equal(stat_state_update(&s, &v, &u, 10000), 0);
        assert_int_equal(s.n, 3);
        for (unsigned i = 0; i < 3; i++) {
                assert_int_equal(s.cpu[i].user, 233);
                assert_int_equal(s.cpu[i].idle, 10000 - 233 - s.cpu[i].system);
        }
        /* 31 ticks: 10.33 each, the remainder ns go to CPU 0 */
        assert_int_equal(s.cpu[0].system, 10);
        assert_int_equal(s.cpu[1].system, 10);

        /* 3 more seconds of user time: 100 ticks each */
        u.total_user_ns += 3000000000ULL;
        assert_int_equal(stat_state_update(&s, &v, &u, 10500), 0);
        for (unsigned i = 0; i < 3; i++) {
                assert_int_equal(s.cpu[i].user, 333);
                assert_int_equal(s.cpu[i].user + s.cpu[i].system + s.cpu[i].idle, 10500);
        }

        /* the cpuset grew: counters start again for the new CPUs */
        struct cpu_view v4 = { .n = 4, .phys = { 4, 5, 6, 7 } };
        assert_int_equal(stat_state_update(&s, &v4, &u, 11000), 0);
        assert_int_equal(s.n, 4);
        assert_int_equal(s.cpu[3].user, 250);
        assert_int_equal(s.cpu[3].user + s.cpu[3].system + s.cpu[3].idle, 11000);
        assert_int_equal(s.cpu[3].id, 7);
        /* as many CPUs, other ones: their counters start afresh */
        struct cpu_view w4 = { .n = 4, .phys = { 0, 1, 2, 3 } };
        assert_int_equal(stat_state_update(&s, &w4, &u, 12000), 0);
        assert_int_equal(s.cpu[0].id, 0);
        assert_int_equal(s.cpu[3].id, 3);
        assert_int_equal(s.cpu[3].user + s.cpu[3].system + s.cpu[3].idle, 12000);
        stat_state_done(&s);
}

static void test_stat_render(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        struct stat_cpu cpus[2] = { { 10, 20, 300, 0 }, { 1, 2, 30, 1 } };
        struct stat_state s = { .n = 2, .cpu = cpus, .initialized = 1 };

        assert_int_equal(render_stat(host_stat, &s, 3, 1, &out), 0);
        assert_string_equal(out.data,
                            "cpu  11 0 22 330 0 0 0 0 0 0\n"
                            "cpu0 10 0 20 300 0 0 0 0 0 0\n"
                            "cpu1 1 0 2 30 0 0 0 0 0 0\n"
                            "intr 0\n"
                            "ctxt 0\n"
                            "btime 1795329042\n"
                            "processes 0\n"
                            "procs_running 3\n"
                            "procs_blocked 1\n"
                            "softirq 0 0 0 0 0 0 0 0 0 0 0\n");
}

static void test_stat_malformed(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        struct stat_cpu cpus[1] = { { 1, 2, 3 } };
        struct stat_state s = { .n = 1, .cpu = cpus, .initialized = 1 };
        struct stat_state empty = { 0 };
        struct cpu_view v = { .n = 1, .phys = { 0 } };
        struct cg_cpu_usage u = { .percpu = true, .ncpu = 2 }; /* arrays missing */

        assert_int_equal(render_stat("cpu  1 2 3\nctxt 5\n", &s, 0, 0, &out), -EINVAL);
        assert_int_equal(render_stat("btime abc\n", &s, 0, 0, &out), -EINVAL);
        assert_int_equal(render_stat("", &s, 0, 0, &out), -EINVAL);
        assert_int_equal(render_stat(host_stat, &empty, 0, 0, &out), -EINVAL);
        assert_int_equal(out.len, 0);
        assert_int_equal(stat_state_update(&empty, &v, &u, 100), -EINVAL);
        v.n = 0;
        u.percpu = false;
        assert_int_equal(stat_state_update(&empty, &v, &u, 100), -EINVAL);
        assert_false(empty.initialized);
        assert_null(empty.cpu);
        stat_state_done(&empty);
        stat_state_done(NULL);
}

/* ---- uptime ----------------------------------------------------------- */

static void test_uptime(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        struct stat_cpu cpus[2] = { { 0, 0, 100 }, { 0, 0, 50 } };
        struct stat_state s = { .n = 2, .cpu = cpus, .initialized = 1 };
        struct stat_state fresh = { 0 };

        assert_int_equal(render_uptime(12345, NULL, &out), 0);
        assert_string_equal(out.data, "123.45 0.00\n");
        buf_free(&out);
        assert_int_equal(render_uptime(12345, &fresh, &out), 0);
        assert_string_equal(out.data, "123.45 0.00\n");
        buf_free(&out);
        assert_int_equal(render_uptime(12345, &s, &out), 0);
        assert_string_equal(out.data, "123.45 1.50\n");
        buf_free(&out);
        /* idle cannot exceed n CPUs times the uptime */
        cpus[0].idle = 150;
        cpus[1].idle = 170;
        assert_int_equal(render_uptime(100, &s, &out), 0);
        assert_string_equal(out.data, "1.00 2.00\n");
        buf_free(&out);
        assert_int_equal(render_uptime(7, &s, &out), 0);
        assert_string_equal(out.data, "0.07 0.14\n");
}

/* ---- loadavg ---------------------------------------------------------- */

static double dabs(double x) {
        return x < 0 ? -x : x;
}

#define EXP_MINUS_5 0.006737946999085467 /* e^-5: 60 samples of 5 s over a 1-minute decay */

static void test_loadavg_converges(void **state) {
        struct loadavg_state s = { { 0, 0, 0 } };
        static const double fexp[3] = { 1884, 2014, 2037 };
        double d[3] = { 0, 0, 0 };

        for (int i = 0; i < 60; i++) {
                loadavg_sample(&s, 2);
                for (int k = 0; k < 3; k++) {
                        double e = fexp[k] / 2048;
                        d[k] = d[k] * e + 2 * (1 - e);
                }
        }
        /* 5 minutes of 2 runnable tasks: the kernel's fixed point follows
         * the exact exponential decay within rounding */
        for (int k = 0; k < 3; k++)
                assert_true(dabs(s.avenrun[k] / 2048.0 - d[k]) < 0.02);
        /* and the 1-minute average is within 1% of 2 (1 - e^-5) */
        assert_true(dabs(s.avenrun[0] / 2048.0 - 2 * (1 - EXP_MINUS_5)) < 0.02);
        assert_true(s.avenrun[0] > s.avenrun[1] && s.avenrun[1] > s.avenrun[2]);
        for (int i = 0; i < 600; i++)
                loadavg_sample(&s, 2);
        /* rounding up while rising lets it reach exactly 2 */
        assert_int_equal(s.avenrun[0], 2 * 2048);

        /* idle: decays to 0 */
        for (int i = 0; i < 2000; i++)
                loadavg_sample(&s, 0);
        assert_int_equal(s.avenrun[0], 0);
        assert_int_equal(s.avenrun[2], 0);
}

static void test_loadavg_render(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        struct loadavg_state s = { { 0, 0, 0 } };

        /* one sample of 1 task from idle: (2048 * (2048 - exp) + 2047) / 2048 */
        loadavg_sample(&s, 1);
        assert_int_equal(s.avenrun[0], 164);
        assert_int_equal(s.avenrun[1], 34);
        assert_int_equal(s.avenrun[2], 11);
        /* +10 (FIXED_1/200) then frac = ((x & 2047) * 100) >> 11 */
        assert_int_equal(render_loadavg(&s, 1, 5, 42, &out), 0);
        assert_string_equal(out.data, "0.08 0.02 0.01 1/5 42\n");

        buf_free(&out);
        s = (struct loadavg_state){ { 3 * 2048 + 1023, 2048 + 2040, 12 * 2048 } };
        assert_int_equal(render_loadavg(&s, 0, 83, 3972, &out), 0);
        assert_string_equal(out.data, "3.50 2.00 12.00 0/83 3972\n");
        assert_int_equal(render_loadavg(NULL, 0, 0, 0, &out), -EINVAL);
}

/* ---- diskstats -------------------------------------------------------- */

static const char host_diskstats[] =
        "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
        " 254       0 vda 30068 7400 2245042 7222 7214 8172 881224 1666 0 5232 9528 4316 37 114928 439 1282 198\n"
        " 254       1 vda1 29000 7000 2200000 7000 7000 8000 880000 1600 0 5000 9000 4000 30 110000 400 0 0\n"
        "   8       0 sda 512 3 40960 100 64 1 8192 50 0 120 150\n"
        "   8      16 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"
        " 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

static void test_diskstats(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        struct cg_io_dev devs[] = {
                { .major = 254, .minor = 0, .rbytes = 1 * MiB + 511, .wbytes = 4096, .rios = 10, .wios = 3,
                  .dbytes = 8192, .dios = 2 },
                { .major = 8, .minor = 0, .rbytes = 1024, .wbytes = 0, .rios = 1, .wios = 0 },
                { .major = 8, .minor = 16, .rbytes = 512, .wbytes = 1536, .rios = 1, .wios = 2,
                  .dbytes = 1024, .dios = 1 },
                { .major = 9, .minor = 9, .rbytes = 512 }, /* not in the host text */
        };
        struct cg_io io = { .dev = devs, .n = ELEMENTSOF(devs) };

        assert_int_equal(render_diskstats(host_diskstats, &io, &out), 0);
        assert_string_equal(out.data,
                            " 254       0 vda 10 0 2048 0 3 0 8 0 0 0 0 2 0 16 0 0 0\n"
                            "   8       0 sda 1 0 2 0 0 0 0 0 0 0 0\n"
                            "   8      16 sdb 1 0 1 0 2 0 3 0 0 0 0 1 0 2 0\n");

        /* a cgroup that did no I/O sees an empty file */
        buf_free(&out);
        io.n = 0;
        assert_int_equal(render_diskstats(host_diskstats, &io, &out), 0);
        assert_int_equal(out.len, 0);
}

static void test_diskstats_malformed(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        struct cg_io_dev dev = { .major = 8, .minor = 0, .rios = 1 };
        struct cg_io io = { .dev = &dev, .n = 1 };
        struct cg_io bad = { .dev = NULL, .n = 3 };

        assert_int_equal(render_diskstats("garbage\n", &io, &out), -EINVAL);
        assert_int_equal(render_diskstats("   8 0 sda 1 2 3\n", &io, &out), -EINVAL);
        assert_int_equal(render_diskstats("   8 0\n", &io, &out), -EINVAL);
        assert_int_equal(render_diskstats("   8 0 sda 1 2 3 4 5 6 7 8 9 10 x\n", &io, &out), -EINVAL);
        assert_int_equal(render_diskstats("   8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n", &io, &out),
                         -EINVAL);
        assert_int_equal(render_diskstats("   8 -1 sda 1 2 3 4 5 6 7 8 9 10 11\n", &io, &out), -EINVAL);
        assert_int_equal(render_diskstats(host_diskstats, &bad, &out), -EINVAL);
        assert_int_equal(render_diskstats(host_diskstats, NULL, &out), -EINVAL);
        assert_int_equal(out.len, 0);
        /* blank lines are not devices */
        assert_int_equal(render_diskstats("\n   8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n\n", &io, &out), 0);
        assert_string_equal(out.data, "   8       0 sda 1 0 0 0 0 0 0 0 0 0 0\n");
}

/* ---- the cpu tree's files, vmstat, pressure ----------------------------- */

static struct cpu_set_bits cpus(const char *list) {
        struct cpu_set_bits s;
        assert_int_equal(parse_cpu_list(list, &s), 0);
        return s;
}

static void expect_cpu_file(const char *host, enum cpu_file_kind k, const char *shown, const char *want) {
        _cleanup_buf_ struct buf out = { 0 };
        struct cpu_set_bits s = cpus(shown);
        assert_int_equal(render_cpu_file(host, k, &s, &out), 0);
        assert_string_equal(out.data, want);
}

static void test_cpu_files(void **state) {
        assert_int_equal(cpu_file_kind("core_cpus_list"), CPU_FILE_LIST);
        assert_int_equal(cpu_file_kind("shared_cpu_map"), CPU_FILE_MASK);
        assert_int_equal(cpu_file_kind("related_cpus"), CPU_FILE_SPACED);
        assert_int_equal(cpu_file_kind("core_id"), CPU_FILE_PLAIN);
        expect_cpu_file("0,8\n", CPU_FILE_LIST, "8-15", "8\n");
        expect_cpu_file("0-15\n", CPU_FILE_LIST, "2-5,9", "2-5,9\n");
        expect_cpu_file("0-3\n", CPU_FILE_LIST, "8", "\n");
        /* a mask keeps the host's width and 32-bit groups */
        expect_cpu_file("ffff\n", CPU_FILE_MASK, "1,4-5", "0032\n");
        expect_cpu_file("00000001,00000101\n", CPU_FILE_MASK, "8,32", "00000001,00000100\n");
        expect_cpu_file("0 1 2 3\n", CPU_FILE_SPACED, "1,3", "1 3\n");
        expect_cpu_file("2100000\n", CPU_FILE_PLAIN, "0", "2100000\n");
        /* malformed host text is an error, never passed on */
        _cleanup_buf_ struct buf out = { 0 };
        struct cpu_set_bits s = cpus("0");
        assert_int_equal(render_cpu_file("0-x\n", CPU_FILE_LIST, &s, &out), -EINVAL);
        assert_int_equal(render_cpu_file("fz\n", CPU_FILE_MASK, &s, &out), -EINVAL);
        assert_int_equal(render_cpu_file("a b\n", CPU_FILE_SPACED, &s, &out), -EINVAL);
}

static void test_cputree_names(void **state) {
        struct cpu_set_bits s = cpus("1,3");
        unsigned n = 99;
        assert_true(cpu_numbered_name("cpu12", "cpu", &n));
        assert_int_equal(n, 12);
        assert_false(cpu_numbered_name("cpufreq", "cpu", &n));
        assert_false(cpu_numbered_name("cpu01", "cpu", &n));
        assert_false(cpu_numbered_name("cpu1x", "cpu", &n));
        assert_false(cpu_numbered_name("cpu99999", "cpu", &n));
        assert_true(cputree_path_allowed("cpu1", &s));
        assert_true(cputree_path_allowed("cpu3/topology/core_id", &s));
        assert_false(cputree_path_allowed("cpu0", &s));
        assert_false(cputree_path_allowed("cpu2/cache/index0/size", &s));
        assert_true(cputree_path_allowed("cpufreq", &s));
        assert_true(cputree_path_allowed("cpufreq/policy1/related_cpus", &s));
        assert_false(cputree_path_allowed("cpufreq/policy0", &s));
        assert_true(cputree_path_allowed("cpuidle/current_driver", &s));
        assert_true(cputree_path_allowed("vulnerabilities/meltdown", &s));
}

static const char vmstat_host[] =
        "nr_free_pages 6000000\n"
        "nr_inactive_anon 1000\n"
        "nr_anon_pages 5000\n"
        "nr_anon_transparent_hugepages 30\n"
        "nr_kernel_stack 9000\n"
        "nr_dirty_threshold 1200000\n"
        "pgpgin 123456789\n"
        "pgpgout 987654321\n"
        "pswpin 55\n"
        "pgfault 99999999\n"
        "pgmajfault 7777\n"
        "pgscan_kswapd 4242\n"
        "thp_fault_alloc 12\n";

static void test_vmstat_render(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        struct cg_memory m = { .anon = 8 * MiB, .inactive_anon = 4 * MiB, .anon_thp = 4 * MiB,
                               .kernel_stack = 64 * 1024, .file = CG_NONE, .shmem = CG_NONE };
        const char *stat = "anon 8388608\npgfault 1500\npgmajfault 3\npgscan_kswapd 0\n";
        struct vmstat_input in = { .memory_stat = stat, .mem = &m, .mem_free = 200 * MiB, .io_known = true,
                                   .read_bytes = 10 * MiB, .write_bytes = 1024, .page_size = 4096,
                                   .thp_size = 2 * MiB };

        assert_int_equal(render_vmstat(vmstat_host, &in, &out), 0);
        assert_string_equal(out.data,
                            "nr_free_pages 51200\n"
                            "nr_inactive_anon 1024\n"
                            "nr_anon_pages 2048\n"
                            "nr_anon_transparent_hugepages 2\n"
                            "nr_kernel_stack 64\n"
                            "nr_dirty_threshold 0\n"
                            "pgpgin 10240\n"
                            "pgpgout 1\n"
                            "pswpin 0\n"
                            "pgfault 1500\n"
                            "pgmajfault 3\n"
                            "pgscan_kswapd 0\n"
                            "thp_fault_alloc 0\n");
        buf_free(&out);
        /* v1: hierarchical total_ figures first; its pgpgin is not used */
        in.memory_stat = "pgpgin 5\npgfault 10\ntotal_pgpgin 50\ntotal_pgfault 100\n";
        in.io_known = false;
        assert_int_equal(render_vmstat(vmstat_host, &in, &out), 0);
        assert_non_null(strstr(out.data, "\npgfault 100\n"));
        assert_non_null(strstr(out.data, "\npgpgin 0\n"));
        buf_free(&out);
        assert_int_equal(render_vmstat("nr_free_pages\n", &in, &out), -EINVAL);
        in.page_size = 0;
        assert_int_equal(render_vmstat(vmstat_host, &in, &out), -EINVAL);
}

static void test_pressure_render(void **state) {
        _cleanup_buf_ struct buf out = { 0 };
        const char *ok = "some avg10=1.50 avg60=0.25 avg300=0.00 total=12345\n"
                         "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
        assert_int_equal(render_pressure(ok, &out), 0);
        assert_string_equal(out.data, ok);
        buf_free(&out);
        assert_int_equal(render_pressure("some avg10=1.50 avg60=0.25 avg300=0.00 total=1\n", &out), 0);
        buf_free(&out);
        assert_int_equal(render_pressure("", &out), -EINVAL);
        assert_int_equal(render_pressure("max 100000\n", &out), -EINVAL);
        assert_int_equal(render_pressure("some avg10=1 avg60=2 avg300=3 total=x\n", &out), -EINVAL);
        assert_int_equal(render_pressure("most avg10=1 avg60=2 avg300=3 total=4\n", &out), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_meminfo_limit_below_host),
                cmocka_unit_test(test_meminfo_no_limit),
                cmocka_unit_test(test_meminfo_usage_above_limit),
                cmocka_unit_test(test_meminfo_huge_numbers),
                cmocka_unit_test(test_meminfo_swap),
                cmocka_unit_test(test_meminfo_swap_accounting_off),
                cmocka_unit_test(test_swaps),
                cmocka_unit_test(test_meminfo_malformed),
                cmocka_unit_test(test_meminfo_fixture),
                cmocka_unit_test(test_cpu_view),
                cmocka_unit_test(test_cpuinfo),
                cmocka_unit_test(test_cpuinfo_malformed),
                cmocka_unit_test(test_cpu_online),
                cmocka_unit_test(test_cpu_files),
                cmocka_unit_test(test_cputree_names),
                cmocka_unit_test(test_vmstat_render),
                cmocka_unit_test(test_pressure_render),
                cmocka_unit_test(test_stat_fold_percpu),
                cmocka_unit_test(test_stat_first_call_capped),
                cmocka_unit_test(test_stat_monotonic),
                cmocka_unit_test(test_stat_v2_even_split),
                cmocka_unit_test(test_stat_render),
                cmocka_unit_test(test_stat_malformed),
                cmocka_unit_test(test_uptime),
                cmocka_unit_test(test_loadavg_converges),
                cmocka_unit_test(test_loadavg_render),
                cmocka_unit_test(test_diskstats),
                cmocka_unit_test(test_diskstats_malformed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
