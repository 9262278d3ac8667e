/* The whole path a read takes, minus FUSE: reader pid -> its cgroups ->
 * gathered figures -> rendered file, on the v1, v2 and hybrid fixture trees
 * (tests/fixtures/README.md describes every pid and cgroup). */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "curatefs.h"

static int nlogs;
static char last_log[512];
static void count_log(const char *msg) {
        nlogs++;
        snprintf(last_log, sizeof(last_log), "%s", msg);
}

static uint64_t fake_now;
static uint64_t fake_clock(void) { return fake_now; }

static int setup(void **state, const char *tree) {
        struct curate *c = calloc(1, sizeof(*c));
        char root[512];
        snprintf(root, sizeof(root), "%s/%s", FIXTURES, tree);
        assert_int_equal(curate_init(c, root, count_log), 0);
        fake_now = 1000000000000ULL;
        c->now = fake_clock;
        nlogs = 0;
        *state = c;
        return 0;
}
static int setup_v1(void **state) { return setup(state, "v1"); }
static int setup_v2(void **state) { return setup(state, "v2"); }
static int setup_hybrid(void **state) { return setup(state, "hybrid"); }
static int teardown(void **state) {
        curate_done(*state);
        free(*state);
        return 0;
}

static char *render(struct curate *c, enum view_id v, pid_t pid) {
        struct snap *s = NULL;
        assert_int_equal(curate_render(c, v, pid, &s), 0);
        char *text = strdup(s->data);
        snap_unref(s);
        return text;
}

static uint64_t kb(const char *text, const char *key) {
        uint64_t v = UINT64_MAX;
        assert_int_equal(keyed_u64(text, key, &v), 0);
        return v;
}

static char *fixture(const char *tree, const char *file) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", FIXTURES, tree);
        int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        char *text = NULL;
        assert_true(fd >= 0);
        assert_int_equal(read_file_at(fd, file, &text, NULL), 0);
        close(fd);
        return text;
}

static int count_lines_starting(const char *text, const char *prefix) {
        int n = 0;
        size_t l = strlen(prefix);
        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                n += strncmp(p, prefix, l) == 0;
        return n;
}

/* every kB figure of a limited reader's meminfo is at most its MemTotal,
 * except swap (a container may have more swap than memory) and CommitLimit
 * (MemTotal + SwapTotal) */
static void assert_no_line_above_total(const char *mi) {
        uint64_t total = kb(mi, "MemTotal");
        for (const char *p = mi; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                const char *colon = strchr(p, ':');
                unsigned long long v;
                char unit[4] = "";
                if (strncmp(p, "Swap", 4) == 0 || strncmp(p, "CommitLimit", 11) == 0)
                        continue;
                if (colon && sscanf(colon + 1, "%llu %3s", &v, unit) == 2 && streq(unit, "kB"))
                        assert_true(v <= total);
        }
}

static void test_meminfo_limited(void **state) {
        struct curate *c = *state;
        char *mi = render(c, VIEW_MEMINFO, 200);
        assert_int_equal(kb(mi, "MemTotal"), 262144);
        assert_true(kb(mi, "MemFree") <= 262144);
        assert_true(kb(mi, "MemAvailable") >= kb(mi, "MemFree"));
        assert_no_line_above_total(mi);
        char *host = fixture(".", "v1/proc/meminfo");
        /* the same lines, in the same order */
        int nl_host = count_lines_starting(host, ""), nl = count_lines_starting(mi, "");
        assert_int_equal(nl, nl_host);
        free(host);
        free(mi);
}

static void test_meminfo_root_is_host(void **state) {
        struct curate *c = *state;
        char *mi = render(c, VIEW_MEMINFO, 100);
        char *host = fixture(".", "v1/proc/meminfo");
        assert_string_equal(mi, host);
        free(host);
        free(mi);
}

static void test_nested_lowest_wins(void **state) {
        char *mi = render(*state, VIEW_MEMINFO, 300);
        assert_int_equal(kb(mi, "MemTotal"), 131072);
        free(mi);
}

static void test_malformed_gives_eio_and_logs_once(void **state) {
        struct curate *c = *state;
        struct snap *s = NULL;
        assert_int_equal(curate_render(c, VIEW_MEMINFO, 600, &s), -EIO);
        fake_now += CACHE_TTL_NS * 3;
        assert_int_equal(curate_render(c, VIEW_MEMINFO, 600, &s), -EIO);
        assert_int_equal(curate_render(c, VIEW_CPUINFO, 600, &s), -EIO);
        assert_null(s);
        assert_int_equal(nlogs, 2); /* once per (view, cgroup) */
        assert_non_null(strstr(last_log, "proc/cpuinfo"));
        /* overflowing figures are refused the same way, never wrapped */
        assert_int_equal(curate_render(c, VIEW_MEMINFO, 710, &s), -EIO);
}

static void test_unknown_reader(void **state) {
        struct snap *s = NULL;
        assert_int_equal(curate_render(*state, VIEW_MEMINFO, 99999, &s), -ESRCH);
        assert_int_equal(curate_render(*state, VIEW_MEMINFO, 0, &s), -EIO);
        assert_null(s);
}

static void test_cpus(void **state) {
        struct curate *c = *state;
        /* cpuset 0-3,8,10-11 cut by quota 50000/100000 to one CPU */
        char *ci = render(c, VIEW_CPUINFO, 200);
        assert_int_equal(count_lines_starting(ci, "processor"), 1);
        assert_non_null(strstr(ci, "processor\t: 0\n"));
        assert_non_null(strstr(ci, "siblings\t: 1\n"));
        free(ci);
        char *on = render(c, VIEW_CPU_ONLINE, 200);
        assert_string_equal(on, "0\n");
        free(on);
        on = render(c, VIEW_CPU_ONLINE, 100);
        assert_string_equal(on, "0-15\n");
        free(on);
}

static void test_cpus_no_quota(void **state) {
        /* /noswap: no quota, cpuset of the root: every host CPU */
        char *on = render(*state, VIEW_CPU_ONLINE, 500);
        char *ci = render(*state, VIEW_CPUINFO, 500);
        assert_int_equal(count_lines_starting(ci, "processor"), 16);
        assert_string_equal(on, "0-15\n");
        free(on);
        free(ci);
}

static void test_stat(void **state) {
        struct curate *c = *state;
        char *st = render(c, VIEW_STAT, 200);
        unsigned long long u, n, s, i, u0, n0, s0, i0;
        assert_int_equal(sscanf(st, "cpu %llu %llu %llu %llu", &u, &n, &s, &i), 4);
        const char *l0 = strstr(st, "\ncpu0 ");
        assert_non_null(l0);
        assert_int_equal(sscanf(l0 + 1, "cpu0 %llu %llu %llu %llu", &u0, &n0, &s0, &i0), 4);
        assert_int_equal(count_lines_starting(st, "cpu"), 2);
        assert_true(u == u0 && s == s0 && i == i0);
        assert_non_null(strstr(st, "\nbtime "));
        assert_non_null(strstr(st, "\nintr 0\n"));
        free(st);
}

static void test_uptime(void **state) {
        /* host uptime 123456.78 s; /box's oldest process started at tick 200000 */
        char *up = render(*state, VIEW_UPTIME, 200);
        double u, idle;
        assert_int_equal(sscanf(up, "%lf %lf", &u, &idle), 2);
        assert_true(u > 121456.7 && u < 121456.9);
        assert_true(idle <= u * 1 + 0.01);
        free(up);
}

static void test_loadavg(void **state) {
        struct curate *c = *state;
        char *la = render(c, VIEW_LOADAVG, 200);
        unsigned long a1, a2, b1, b2, c1, c2;
        unsigned run, tot;
        int last;
        assert_int_equal(sscanf(la, "%lu.%lu %lu.%lu %lu.%lu %u/%u %d", &a1, &a2, &b1, &b2, &c1, &c2, &run, &tot, &last), 9);
        assert_true(tot >= 1 && tot <= 6); /* /box's tasks, not the host's */
        assert_true(run <= tot);
        free(la);
}

static void test_cache_and_freshness(void **state) {
        struct curate *c = *state;
        struct snap *a, *b, *d;
        assert_int_equal(curate_render(c, VIEW_MEMINFO, 200, &a), 0);
        fake_now += CACHE_TTL_NS / 2;
        assert_int_equal(curate_render(c, VIEW_MEMINFO, 200, &b), 0);
        assert_ptr_equal(a, b); /* within 100 ms: the same snapshot */
        fake_now += CACHE_TTL_NS;
        assert_int_equal(curate_render(c, VIEW_MEMINFO, 200, &d), 0);
        assert_ptr_not_equal(a, d); /* older than 100 ms: rendered again */
        assert_string_equal(a->data, d->data);
        snap_unref(a);
        snap_unref(b);
        snap_unref(d);
}

static void test_forgets_idle_cgroups(void **state) {
        struct curate *c = *state;
        char *mi = render(c, VIEW_MEMINFO, 200);
        free(mi);
        mi = render(c, VIEW_MEMINFO, 300);
        free(mi);
        assert_int_equal(curate_nrecords(c), 2);
        curate_sample(c);
        assert_int_equal(curate_nrecords(c), 2);
        fake_now += RECORD_IDLE_NS + 1;
        curate_sample(c);
        assert_int_equal(curate_nrecords(c), 0);
}

/* A cgroup whose directory disappears is forgotten at the next sampling
 * pass, on a private copy of the v2 tree (rmdir on the fixture itself would
 * change the source tree). */
static void test_forgets_vanished_cgroups(void **state) {
        char dir[] = "/tmp/curate-gather-XXXXXX", cmd[1024], root[512];
        struct curate c;
        assert_non_null(mkdtemp(dir));
        snprintf(cmd, sizeof(cmd), "cp -a '%s/v2/.' '%s/'", FIXTURES, dir);
        assert_int_equal(system(cmd), 0);
        snprintf(root, sizeof(root), "%s", dir);
        assert_int_equal(curate_init(&c, root, count_log), 0);
        c.now = fake_clock;
        struct snap *s = NULL;
        assert_int_equal(curate_render(&c, VIEW_MEMINFO, 200, &s), 0);
        snap_unref(s);
        assert_int_equal(curate_render(&c, VIEW_MEMINFO, 500, &s), 0);
        snap_unref(s);
        assert_int_equal(curate_nrecords(&c), 2);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s/sys/fs/cgroup/noswap'", dir);
        assert_int_equal(system(cmd), 0);
        curate_sample(&c);
        assert_int_equal(curate_nrecords(&c), 1); /* /box stays, /noswap is gone */
        curate_done(&c);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

/* A private copy of TREE for tests that change it, opened like setup(). */
static void open_copy(struct curate *c, const char *tree, char *dir) {
        char cmd[1024];
        assert_non_null(mkdtemp(dir));
        snprintf(cmd, sizeof(cmd), "cp -a '%s/%s/.' '%s/'", FIXTURES, tree, dir);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(curate_init(c, dir, count_log), 0);
        c->now = fake_clock;
}

static void close_copy(struct curate *c, const char *dir) {
        char cmd[1024];
        curate_done(c);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static void sh(const char *dir, const char *fmt, const char *arg) {
        char body[1024], cmd[2048];
        snprintf(body, sizeof(body), fmt, arg);
        snprintf(cmd, sizeof(cmd), "cd '%s' && %s", dir, body);
        assert_int_equal(system(cmd), 0);
}

static uint64_t meminfo_total(struct curate *c, pid_t pid) {
        char *mi = render(c, VIEW_MEMINFO, pid);
        uint64_t total = kb(mi, "MemTotal");
        free(mi);
        return total;
}

/* /box (pid 200's memory cgroup) removed and made again with a 128 MiB
 * limit within the cache's 100 ms: a different directory at the same path
 * (the old one is renamed aside, so its inode cannot be reused). The reader
 * gets the new cgroup's figures at once, never the old one's; the sampler
 * forgets the old record; a cgroup removed and not made again fails the
 * read, never serves the old or the host's figures. */
static void recreated_cgroup(const char *tree, const char *box, const char *set_limit) {
        char dir[] = "/tmp/curate-gather-XXXXXX";
        struct curate c;
        struct snap *s = NULL;

        open_copy(&c, tree, dir);
        fake_now = 1000000000000ULL;
        assert_int_equal(meminfo_total(&c, 200), 262144);
        sh(dir, "mv %1$s %1$s.old && cp -a %1$s.old %1$s", box);
        sh(dir, set_limit, box);
        fake_now += CACHE_TTL_NS / 4;
        assert_int_equal(meminfo_total(&c, 200), 131072);
        fake_now += CACHE_TTL_NS / 4;
        assert_int_equal(meminfo_total(&c, 200), 131072); /* cached, still right */

        /* the sampler drops a record whose cgroup was made again */
        sh(dir, "rm -rf %1$s.old && mv %1$s %1$s.old && cp -a %1$s.old %1$s", box);
        assert_int_equal(curate_nrecords(&c), 1);
        curate_sample(&c);
        assert_int_equal(curate_nrecords(&c), 0);
        assert_int_equal(meminfo_total(&c, 200), 131072);

        /* removed (the reader moved away meanwhile): EIO within the 100 ms */
        sh(dir, "rm -rf %1$s.old && mv %1$s %1$s.old", box);
        fake_now += CACHE_TTL_NS / 4;
        assert_int_equal(curate_render(&c, VIEW_MEMINFO, 200, &s), -EIO);
        assert_null(s);
        /* back: served again */
        sh(dir, "mv %1$s.old %1$s", box);
        assert_int_equal(meminfo_total(&c, 200), 131072);
        close_copy(&c, dir);
}

/* A /proc/PID/cgroup longer than the 4 KiB buffer it is read into (many
 * named hierarchies, deep paths): read whole another way, and both the
 * reader's text and its view are its own, never cut. */
static void test_long_cgroup_text(void **state) {
        char dir[] = "/tmp/curate-gather-XXXXXX";
        struct curate c;
        char *text = NULL;

        open_copy(&c, "v1", dir);
        fake_now = 1000000000000ULL;
        sh(dir, "for i in $(seq 100 160); do printf '%%s:name=pad%%s:/%%s\\n' $i $i "
                "$(printf 'p%%.0s' $(seq 80)); done >> %s", "proc/200/cgroup");
        struct stat st;
        char path[600];
        snprintf(path, sizeof(path), "%s/proc/200/cgroup", dir);
        assert_int_equal(stat(path, &st), 0);
        assert_true(st.st_size > 4096);
        assert_int_equal(curate_reader_cgroup(&c, 200, &text), 0);
        assert_int_equal(strlen(text), (size_t)st.st_size);
        assert_non_null(strstr(text, "name=pad160:/"));
        free(text);
        assert_int_equal(meminfo_total(&c, 200), 262144);
        close_copy(&c, dir);
}

static void test_recreated_cgroup_v1(void **state) {
        recreated_cgroup("v1", "sys/fs/cgroup/memory/box",
                         "sed -i 's/^hierarchical_memory_limit .*/hierarchical_memory_limit 134217728/' %s/memory.stat");
}

static void test_recreated_cgroup_v2(void **state) {
        recreated_cgroup("v2", "sys/fs/cgroup/box", "echo 134217728 > %s/memory.max");
}

static double uptime_of(struct curate *c, pid_t pid) {
        char *up = render(c, VIEW_UPTIME, pid);
        double u;
        assert_int_equal(sscanf(up, "%lf", &u), 1);
        free(up);
        return u;
}

/* A cgroup made again resets what the record kept of the old one: here the
 * oldest process, which gives the uptime (/box's is pid 200, started at tick
 * 200000; the new /box holds only pid 300, started at tick 300000). */
static void test_recreated_cgroup_state(void **state) {
        char dir[] = "/tmp/curate-gather-XXXXXX";
        struct curate c;

        open_copy(&c, "v1", dir);
        fake_now = 1000000000000ULL;
        double u = uptime_of(&c, 200);
        assert_true(u > 121456.7 && u < 121456.9);
        sh(dir, "mv %1$s %1$s.old && mkdir %1$s && find %1$s.old -maxdepth 1 -type f -exec cp {} %1$s/ ';' && "
                "echo 300 > %1$s/cgroup.procs && echo 300 > %1$s/tasks", "sys/fs/cgroup/cpu,cpuacct/box");
        fake_now += CACHE_TTL_NS / 4;
        u = uptime_of(&c, 200);
        assert_true(u > 120456.7 && u < 120456.9);
        close_copy(&c, dir);
}

static void test_v2_meminfo_and_swap(void **state) {
        struct curate *c = *state;
        char *mi = render(c, VIEW_MEMINFO, 200);
        assert_int_equal(kb(mi, "MemTotal"), 262144);
        assert_no_line_above_total(mi);
        free(mi);
        /* /unl: memory.max is "max" everywhere: the host's total, cgroup figures */
        mi = render(c, VIEW_MEMINFO, 400);
        char *host = fixture(".", "v2/proc/meminfo");
        assert_int_equal(kb(mi, "MemTotal"), kb(host, "MemTotal"));
        free(host);
        free(mi);
        /* swap accounting off: no swap, whatever the host has */
        mi = render(c, VIEW_MEMINFO, 500);
        assert_int_equal(kb(mi, "SwapTotal"), 0);
        free(mi);
        char *sw = render(c, VIEW_SWAPS, 500);
        assert_int_equal(count_lines_starting(sw, ""), 1);
        free(sw);
}

static void test_v2_stat_even_split(void **state) {
        char *st = render(*state, VIEW_STAT, 500);
        assert_int_equal(count_lines_starting(st, "cpu"), 17);
        free(st);
}

static void test_v2_diskstats(void **state) {
        char *ds = render(*state, VIEW_DISKSTATS, 200);
        char *host = fixture(".", "v2/proc/diskstats");
        assert_true(count_lines_starting(ds, "") < count_lines_starting(host, ""));
        assert_true(count_lines_starting(ds, "") >= 1);
        free(host);
        free(ds);
}

static void test_hybrid(void **state) {
        struct curate *c = *state;
        char *mi = render(c, VIEW_MEMINFO, 200);
        assert_int_equal(kb(mi, "MemTotal"), 262144);
        free(mi);
        char *on = render(c, VIEW_CPU_ONLINE, 200);
        assert_string_equal(on, "0\n");
        free(on);
}

/* ---- the cpu tree's lists, vmstat, pressure ---- */

static void test_cpu_lists(void **state) {
        struct curate *c = *state;
        static const enum view_id lists[] = { VIEW_CPU_ONLINE, VIEW_CPU_POSSIBLE, VIEW_CPU_PRESENT };
        /* every list is the one visible CPU under its real number */
        for (size_t i = 0; i < ELEMENTSOF(lists); i++) {
                char *t = render(c, lists[i], 200);
                assert_string_equal(t, "0\n");
                free(t);
        }
        char *off = render(c, VIEW_CPU_OFFLINE, 200);
        assert_string_equal(off, "\n");
        free(off);
        /* the root reader gets the host's files */
        char *pos = render(c, VIEW_CPU_POSSIBLE, 100);
        assert_string_equal(pos, "0-15\n");
        free(pos);
}

static uint64_t field(const char *text, const char *key) {
        char k[96];
        snprintf(k, sizeof(k), "\n%s ", key);
        const char *p = strncmp(text, k + 1, strlen(k + 1)) == 0 ? text + strlen(k + 1) : strstr(text, k);
        assert_non_null(p);
        if (p != text + strlen(k + 1))
                p += strlen(k);
        return strtoull(p, NULL, 10);
}

/* the host's lines in the host's order, every one a "name value" pair */
static void assert_same_names(const char *host, const char *vm) {
        const char *a = host, *b = vm;
        while (*a && *b) {
                size_t la = strcspn(a, " "), lb = strcspn(b, " ");
                assert_int_equal(la, lb);
                assert_memory_equal(a, b, la);
                a += strcspn(a, "\n") + 1;
                b += strcspn(b, "\n") + 1;
        }
        assert_true(!*a && !*b);
}

static void test_vmstat_v2(void **state) {
        struct curate *c = *state;
        char *host = fixture("v2", "proc/vmstat");
        char *vm = render(c, VIEW_VMSTAT, 200);
        char *mi = render(c, VIEW_MEMINFO, 200);

        assert_same_names(host, vm);
        assert_int_equal(field(vm, "nr_free_pages"), kb(mi, "MemFree") / 4);
        assert_int_equal(field(vm, "nr_anon_pages"), 73400320 / 4096);
        assert_int_equal(field(vm, "nr_file_pages"), 31457280 / 4096);
        assert_int_equal(field(vm, "nr_active_anon"), 69206016 / 4096);
        assert_int_equal(field(vm, "nr_zone_active_anon"), 69206016 / 4096);
        assert_int_equal(field(vm, "nr_dirty"), 131072 / 4096);
        assert_int_equal(field(vm, "nr_kernel_stack"), 294912 / 1024);
        assert_int_equal(field(vm, "pgfault"), 123456);
        assert_int_equal(field(vm, "pgmajfault"), 12);
        assert_int_equal(field(vm, "workingset_refault_file"), 12);
        /* io.stat's bytes in KiB: 8:0 and 259:0 */
        assert_int_equal(field(vm, "pgpgin"), (10485760 + 4096) / 1024);
        assert_int_equal(field(vm, "pgpgout"), (20971520 + 8192) / 1024);
        /* no figure of the cgroup's: 0, never the host's */
        assert_int_equal(field(vm, "pswpin"), 0);
        assert_int_equal(field(vm, "pgalloc_normal"), 0);
        assert_int_equal(field(vm, "numa_hit"), 0);
        free(vm);
        /* the root reader: the host's file */
        vm = render(c, VIEW_VMSTAT, 100);
        assert_string_equal(vm, host);
        free(vm);
        free(mi);
        free(host);
}

static void test_vmstat_v1(void **state) {
        struct curate *c = *state;
        char *host = fixture("v1", "proc/vmstat");
        char *vm = render(c, VIEW_VMSTAT, 200);

        assert_same_names(host, vm);
        assert_int_equal(field(vm, "pgfault"), 987654); /* total_pgfault */
        assert_int_equal(field(vm, "nr_anon_pages"), 73400320 / 4096); /* total_rss */
        /* memory.stat's pgpgin counts pages charged: not what vmstat means */
        assert_int_not_equal(field(vm, "pgpgin"), 456789);
        assert_int_equal(field(vm, "nr_slab_reclaimable"), 0); /* v1 has no slab figure */
        free(vm);
        free(host);
}

static void test_pressure_v2(void **state) {
        struct curate *c = *state;
        char *p = render(c, VIEW_PRESSURE_CPU, 200);
        assert_string_equal(p, "some avg10=0.31 avg60=0.12 avg300=0.04 total=1234\n"
                               "full avg10=0.20 avg60=0.10 avg300=0.02 total=567\n");
        free(p);
        p = render(c, VIEW_PRESSURE_IO, 200);
        assert_non_null(strstr(p, "total=9876\n"));
        free(p);
        char *host = fixture("v2", "proc/pressure/memory");
        p = render(c, VIEW_PRESSURE_MEMORY, 100);
        assert_string_equal(p, host);
        free(p);
        free(host);
}

static void test_pressure_v1_absent(void **state) {
        struct curate *c = *state;
        struct snap *s = NULL;
        /* no per-cgroup pressure on v1: no file, and never the host's */
        assert_int_equal(curate_render(c, VIEW_PRESSURE_CPU, 200, &s), -ENOENT);
        assert_int_equal(curate_render(c, VIEW_PRESSURE_MEMORY, 200, &s), -ENOENT);
        assert_null(s);
        assert_int_equal(nlogs, 0);
        char *host = fixture("v1", "proc/pressure/cpu");
        char *p = render(c, VIEW_PRESSURE_CPU, 100);
        assert_string_equal(p, host);
        free(p);
        free(host);
}

int main(void) {
        const struct CMUnitTest v1[] = {
                cmocka_unit_test_setup_teardown(test_meminfo_limited, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_meminfo_root_is_host, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_nested_lowest_wins, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_malformed_gives_eio_and_logs_once, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_reader, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_cpus, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_cpus_no_quota, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_stat, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_uptime, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_loadavg, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_cache_and_freshness, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_forgets_idle_cgroups, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_v2_meminfo_and_swap, setup_v2, teardown),
                cmocka_unit_test(test_forgets_vanished_cgroups),
                cmocka_unit_test(test_long_cgroup_text),
                cmocka_unit_test(test_recreated_cgroup_v1),
                cmocka_unit_test(test_recreated_cgroup_v2),
                cmocka_unit_test(test_recreated_cgroup_state),
                cmocka_unit_test_setup_teardown(test_meminfo_limited, setup_v2, teardown),
                cmocka_unit_test_setup_teardown(test_malformed_gives_eio_and_logs_once, setup_v2, teardown),
                cmocka_unit_test_setup_teardown(test_cpus, setup_v2, teardown),
                cmocka_unit_test_setup_teardown(test_stat, setup_v2, teardown),
                cmocka_unit_test_setup_teardown(test_v2_stat_even_split, setup_v2, teardown),
                cmocka_unit_test_setup_teardown(test_v2_diskstats, setup_v2, teardown),
                cmocka_unit_test_setup_teardown(test_loadavg, setup_v2, teardown),
                cmocka_unit_test_setup_teardown(test_hybrid, setup_hybrid, teardown),
                cmocka_unit_test_setup_teardown(test_cpu_lists, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_cpu_lists, setup_v2, teardown),
                cmocka_unit_test_setup_teardown(test_vmstat_v2, setup_v2, teardown),
                cmocka_unit_test_setup_teardown(test_vmstat_v1, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_pressure_v2, setup_v2, teardown),
                cmocka_unit_test_setup_teardown(test_pressure_v1_absent, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_pressure_v1_absent, setup_hybrid, teardown),
        };
        return cmocka_run_group_tests(v1, NULL, NULL);
}
