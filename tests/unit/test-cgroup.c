/* cgroup layout discovery, /proc/PID/cgroup parsing and the v1/v2 backends,
 * run against the fixture host trees in tests/fixtures (see README.md). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include "cgroup.h"

#define MiB (UINT64_C(1) << 20)

struct fx {
        int root;
        struct cg_layout l;
};

static void fx_open(struct fx *f, const char *name) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
        f->root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->root >= 0);
        assert_int_equal(cg_layout_discover(f->root, &f->l), 0);
}

static void fx_close(struct fx *f) {
        cg_layout_done(&f->l);
        close(f->root);
}

static const struct cg_hier *H(struct fx *f, enum cg_controller c) {
        const struct cg_hier *h = cg_layout_hier(&f->l, c);
        assert_non_null(h);
        return h;
}

static int cmp_pid(const void *a, const void *b) {
        return *(const pid_t *)a - *(const pid_t *)b;
}

static void assert_pids(pid_t *v, size_t n, const pid_t *want, size_t want_n) {
        assert_int_equal(n, want_n);
        qsort(v, n, sizeof(*v), cmp_pid);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(v[i], want[i]);
        free(v);
}

static void assert_set(const struct cpu_set_bits *s, const char *want) {
        struct cpu_set_bits w;
        assert_int_equal(parse_cpu_list(want, &w), 0);
        assert_memory_equal(s, &w, sizeof(w));
}

/* ---- layout ---- */

static void test_controller_names(void **state) {
        assert_string_equal(cg_controller_name(CG_MEMORY), "memory");
        assert_string_equal(cg_controller_name(CG_CPU), "cpu");
        assert_string_equal(cg_controller_name(CG_CPUACCT), "cpuacct");
        assert_string_equal(cg_controller_name(CG_CPUSET), "cpuset");
        assert_string_equal(cg_controller_name(CG_BLKIO), "blkio");
        assert_string_equal(cg_controller_name(CG_PIDS), "pids");
        assert_null(cg_controller_name(_CG_CONTROLLER_MAX));
}

static void test_layout_v1(void **state) {
        struct fx f;
        fx_open(&f, "v1");
        assert_int_equal(f.l.unified, -1);
        assert_int_equal(f.l.n, 5); /* memory, cpu+cpuacct, cpuset, blkio, pids */
        assert_int_equal(f.l.by_controller[CG_CPU], f.l.by_controller[CG_CPUACCT]);
        const struct cg_hier *cpu = H(&f, CG_CPU);
        assert_int_equal(cpu->version, 1);
        assert_ptr_equal(cpu->ops, &cg_v1_ops);
        assert_int_equal(cpu->controllers, 1u << CG_CPU | 1u << CG_CPUACCT);
        assert_string_equal(cpu->mount_root, "/");
        for (int c = 0; c < _CG_CONTROLLER_MAX; c++)
                assert_int_equal(H(&f, c)->version, 1);
        assert_int_not_equal(f.l.by_controller[CG_MEMORY], f.l.by_controller[CG_PIDS]);
        assert_int_equal(H(&f, CG_MEMORY)->controllers, 1u << CG_MEMORY);
        fx_close(&f);
}

static void test_layout_v2(void **state) {
        struct fx f;
        fx_open(&f, "v2");
        assert_int_equal(f.l.n, 1);
        assert_int_equal(f.l.unified, 0);
        for (int c = 0; c < _CG_CONTROLLER_MAX; c++)
                assert_int_equal(f.l.by_controller[c], 0);
        assert_int_equal(f.l.hier[0].version, 2);
        assert_ptr_equal(f.l.hier[0].ops, &cg_v2_ops);
        assert_int_equal(f.l.hier[0].controllers, (1u << _CG_CONTROLLER_MAX) - 1);
        fx_close(&f);
}

static void test_layout_hybrid(void **state) {
        struct fx f;
        fx_open(&f, "hybrid");
        /* cgroup2 at /sys/fs/cgroup/unified offers only hugetlb: every
         * controller of ours comes from v1 */
        assert_true(f.l.unified >= 0);
        assert_int_equal(f.l.hier[f.l.unified].version, 2);
        assert_int_equal(f.l.hier[f.l.unified].controllers, 0);
        assert_int_equal(f.l.n, 7);
        for (int c = 0; c < _CG_CONTROLLER_MAX; c++) {
                assert_int_not_equal(f.l.by_controller[c], f.l.unified);
                assert_int_equal(H(&f, c)->version, 1);
        }
        assert_int_not_equal(f.l.by_controller[CG_CPU], f.l.by_controller[CG_CPUACCT]);
        fx_close(&f);
}

static void test_layout_v2_wins(void **state) {
        struct fx f;
        fx_open(&f, "v2");
        cg_layout_done(&f.l);
        /* v1 memory and blkio listed first; the cgroup2 root offers both */
        const char *mi =
                "30 28 0:27 / /sys/fs/cgroup/box rw,relatime shared:5 - cgroup cgroup rw,memory\n"
                "31 28 0:28 / /sys/fs/cgroup/outer rw,relatime - cgroup cgroup rw,blkio\n"
                "32 28 0:29 / /sys/fs/cgroup rw,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
        assert_int_equal(cg_layout_parse(f.root, mi, &f.l), 0);
        assert_int_equal(f.l.unified, 2);
        for (int c = 0; c < _CG_CONTROLLER_MAX; c++)
                assert_int_equal(f.l.by_controller[c], 2);
        assert_int_equal(f.l.hier[0].controllers, 0);
        fx_close(&f);
}

static void test_layout_none(void **state) {
        struct fx f;
        struct cg_layout l;
        fx_open(&f, "v1");
        assert_int_equal(cg_layout_parse(f.root, "", &l), -ENOENT);
        assert_int_equal(cg_layout_parse(f.root, "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", &l), -ENOENT);
        /* name=systemd and devices carry none of our controllers */
        assert_int_equal(cg_layout_parse(f.root,
                                         "29 28 0:26 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
                                         "35 28 0:32 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices\n",
                                         &l),
                         -ENOENT);
        /* truncated lines, no separator, mount point that does not exist */
        assert_int_equal(cg_layout_parse(f.root,
                                         "garbage\n30 28 0:27 / /sys/fs/cgroup/memory rw cgroup cgroup rw,memory\n"
                                         "30 28\n- cgroup cgroup rw,memory\n"
                                         "30 28 0:27 / /nonexistent rw - cgroup cgroup rw,memory",
                                         &l),
                         -ENOENT);
        fx_close(&f);
}

static void test_layout_escaped_root(void **state) {
        struct fx f;
        struct cg_reader r;
        fx_open(&f, "v1");
        cg_layout_done(&f.l);
        /* "\054" is ',' (proc(5) escapes mount points octally); a non-"/" root
         * is what a container sees */
        assert_int_equal(cg_layout_parse(f.root,
                                         "31 28 0:28 /docker/abc /sys/fs/cgroup/cpu\\054cpuacct rw - cgroup cgroup rw,cpuacct,cpu\n",
                                         &f.l),
                         0);
        assert_int_equal(f.l.n, 1);
        assert_string_equal(f.l.hier[0].mount_root, "/docker/abc");
        assert_int_equal(f.l.by_controller[CG_MEMORY], -1);
        assert_int_equal(cg_reader_parse(&f.l,
                                         "7:cpu,cpuacct:/docker/abc/x/\n"
                                         "9:memory:/docker/abc\n",
                                         &r),
                         0);
        assert_string_equal(r.path[CG_CPU], "/x");
        assert_string_equal(r.path[CG_CPUACCT], "/x");
        assert_null(r.path[CG_MEMORY]);
        assert_true(cg_reader_is_root(&r, CG_MEMORY));
        assert_false(cg_reader_is_root(&r, CG_CPU));
        cg_reader_done(&r);
        assert_int_equal(cg_reader_parse(&f.l, "7:cpu,cpuacct:/docker/abc\n", &r), 0);
        assert_string_equal(r.path[CG_CPU], "/");
        cg_reader_done(&r);
        /* "/docker/abcd" is not beneath "/docker/abc" */
        assert_int_equal(cg_reader_parse(&f.l, "7:cpu,cpuacct:/docker/abcd/y\n", &r), 0);
        assert_string_equal(r.path[CG_CPU], "/docker/abcd/y");
        cg_reader_done(&r);
        fx_close(&f);
}

/* ---- readers ---- */

static void test_reader_v1(void **state) {
        struct fx f;
        struct cg_reader r;
        fx_open(&f, "v1");
        assert_int_equal(cg_reader_from_pid(&f.l, f.root, 200, &r), 0);
        for (int c = 0; c < _CG_CONTROLLER_MAX; c++) {
                assert_string_equal(r.path[c], "/box");
                assert_false(cg_reader_is_root(&r, c));
        }
        cg_reader_done(&r);
        assert_int_equal(cg_reader_from_pid(&f.l, f.root, 300, &r), 0);
        assert_string_equal(r.path[CG_MEMORY], "/outer/inner");
        cg_reader_done(&r);
        assert_int_equal(cg_reader_from_pid(&f.l, f.root, 100, &r), 0);
        for (int c = 0; c < _CG_CONTROLLER_MAX; c++) {
                assert_string_equal(r.path[c], "/");
                assert_true(cg_reader_is_root(&r, c));
        }
        cg_reader_done(&r);
        assert_int_equal(cg_reader_from_pid(&f.l, f.root, 999, &r), -ENOENT);
        assert_int_equal(cg_reader_from_pid(&f.l, f.root, 0, &r), -EINVAL);
        fx_close(&f);
}

static void test_reader_v2(void **state) {
        struct fx f;
        struct cg_reader r;
        fx_open(&f, "v2");
        assert_int_equal(cg_reader_from_pid(&f.l, f.root, 300, &r), 0);
        for (int c = 0; c < _CG_CONTROLLER_MAX; c++)
                assert_string_equal(r.path[c], "/outer/inner");
        cg_reader_done(&r);
        assert_int_equal(cg_reader_from_pid(&f.l, f.root, 100, &r), 0);
        assert_true(cg_reader_is_root(&r, CG_MEMORY));
        assert_string_equal(r.path[CG_BLKIO], "/");
        cg_reader_done(&r);
        /* v1 lines name no hierarchy of this layout */
        assert_int_equal(cg_reader_parse(&f.l, "4:memory:/a\n0::/b\n", &r), 0);
        assert_string_equal(r.path[CG_MEMORY], "/b");
        cg_reader_done(&r);
        fx_close(&f);
}

static void test_reader_hybrid(void **state) {
        struct fx f;
        struct cg_reader r;
        fx_open(&f, "hybrid");
        /* "0::/box" names the hugetlb-only cgroup2 tree: ignored */
        assert_int_equal(cg_reader_parse(&f.l, "7:memory:/box\n4:cpu:/c\n5:cpuacct:/a\n0::/zzz\n", &r), 0);
        assert_string_equal(r.path[CG_MEMORY], "/box");
        assert_string_equal(r.path[CG_CPU], "/c");
        assert_string_equal(r.path[CG_CPUACCT], "/a");
        assert_null(r.path[CG_CPUSET]);
        assert_true(cg_reader_is_root(&r, CG_CPUSET));
        cg_reader_done(&r);
        fx_close(&f);
}

static void test_reader_malformed(void **state) {
        static const char *const bad[] = {
                "garbage\n",
                "4:memory\n",
                "x:memory:/a\n",
                ":memory:/a\n",
                "4:memory:relative\n",
                "4:memory:\n",
                "1::/x\n",
                "9:memory:/ok\n4:cpu\n",
        };
        struct fx f;
        struct cg_reader r = { 0 };
        fx_open(&f, "v1");
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(cg_reader_parse(&f.l, bad[i], &r), -EINVAL);
        for (int c = 0; c < _CG_CONTROLLER_MAX; c++)
                assert_null(r.path[c]); /* untouched on failure */
        assert_int_equal(cg_reader_parse(&f.l, "", &r), 0);
        assert_null(r.path[CG_MEMORY]);
        /* unknown controllers are ignored; trailing slashes and no final newline */
        assert_int_equal(cg_reader_parse(&f.l, "12:rdma,memory:/a/b//\n13:misc:/zz", &r), 0);
        assert_string_equal(r.path[CG_MEMORY], "/a/b");
        assert_null(r.path[CG_CPU]);
        cg_reader_done(&r);
        fx_close(&f);
}

static void test_open_dir(void **state) {
        struct fx f;
        char *text;
        fx_open(&f, "v1");
        const struct cg_hier *h = H(&f, CG_MEMORY);
        assert_int_equal(cg_open_dir(h, "/box/../outer"), -EINVAL);
        assert_int_equal(cg_open_dir(h, "/.."), -EINVAL);
        assert_int_equal(cg_open_dir(h, ".."), -EINVAL);
        assert_int_equal(cg_open_dir(h, "/nonexistent"), -ENOENT);
        int fd = cg_open_dir(h, "/box");
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(cg_read(h, "/box", "memory.limit_in_bytes", &text), 0);
        assert_string_equal(text, "268435456\n");
        free(text);
        assert_int_equal(cg_read(h, "/box", "nope", &text), -ENOENT);
        fx_close(&f);
}

static void test_path_up(void **state) {
        char p[] = "/a/bb/c";
        assert_true(cg_path_up(p));
        assert_string_equal(p, "/a/bb");
        assert_true(cg_path_up(p));
        assert_string_equal(p, "/a");
        assert_true(cg_path_up(p));
        assert_string_equal(p, "/");
        assert_false(cg_path_up(p));
        assert_string_equal(p, "/");
}

/* ---- v1 ---- */

static void test_v1_memory(void **state) {
        struct fx f;
        struct cg_memory m;
        fx_open(&f, "v1");
        const struct cg_hier *h = H(&f, CG_MEMORY);
        assert_int_equal(h->ops->memory(h, "/box", &m), 0);
        assert_int_equal(m.limit, 256 * MiB);
        assert_int_equal(m.usage, 100 * MiB);
        assert_true(m.swap_accounting);
        assert_int_equal(m.swap_usage, 8 * MiB);   /* memsw 108 MiB - 100 MiB */
        assert_int_equal(m.swap_limit, 256 * MiB); /* memsw 512 MiB - 256 MiB */
        assert_int_equal(m.anon, 73400320);
        assert_int_equal(m.file, 31457280);
        assert_int_equal(m.shmem, 4194304);
        assert_int_equal(m.mapped, 8388608);
        assert_int_equal(m.dirty, 131072);
        assert_int_equal(m.writeback, 0);
        assert_int_equal(m.active_anon, 69206016);
        assert_int_equal(m.inactive_anon, 8388608);
        assert_int_equal(m.active_file, 20971520);
        assert_int_equal(m.inactive_file, 6291456);
        assert_int_equal(m.unevictable, 0);
        assert_int_equal(m.anon_thp, 0);
        assert_int_equal(m.swapcached, 0);
        assert_int_equal(m.slab_reclaimable, CG_NONE);
        assert_int_equal(m.slab_unreclaimable, CG_NONE);
        assert_int_equal(m.kernel_stack, CG_NONE);
        assert_int_equal(m.pagetables, CG_NONE);
        assert_int_equal(m.percpu, CG_NONE);
        assert_int_equal(m.shmem_thp, CG_NONE);
        assert_int_equal(m.file_thp, CG_NONE);

        /* root: 9223372036854771712 is v1's "unlimited" */
        assert_int_equal(h->ops->memory(h, "/", &m), 0);
        assert_int_equal(m.limit, CG_NONE);
        assert_int_equal(m.swap_limit, CG_NONE);
        assert_int_equal(m.usage, 5600247808);
        assert_int_equal(m.swap_usage, 104857600);

        /* the ancestor's lower limit wins (hierarchical_*) */
        assert_int_equal(h->ops->memory(h, "/outer/inner", &m), 0);
        assert_int_equal(m.limit, 128 * MiB);
        assert_int_equal(m.swap_limit, 128 * MiB);
        assert_int_equal(m.swap_usage, 0);

        assert_int_equal(h->ops->memory(h, "/nonexistent", &m), -ENOENT);
        fx_close(&f);
}

static void test_v1_memory_noswap(void **state) {
        struct fx f;
        struct cg_memory m;
        fx_open(&f, "v1");
        const struct cg_hier *h = H(&f, CG_MEMORY);
        assert_int_equal(h->ops->memory(h, "/noswap", &m), 0);
        assert_false(m.swap_accounting);
        assert_int_equal(m.swap_limit, CG_NONE);
        assert_int_equal(m.swap_usage, CG_NONE);
        assert_int_equal(m.swapcached, CG_NONE);
        assert_int_equal(m.limit, 1024 * MiB);
        assert_int_equal(m.usage, 300 * MiB);
        assert_int_equal(m.anon, 200 * MiB);
        fx_close(&f);
}

static void test_v1_huge(void **state) {
        struct fx f;
        struct cg_memory m;
        struct cg_cpu_usage u = { 0 };
        struct cg_io io = { 0 };
        uint64_t q, p;
        fx_open(&f, "v1");
        const struct cg_hier *h = H(&f, CG_MEMORY);
        assert_int_equal(h->ops->memory(h, "/huge", &m), 0);
        assert_int_equal(m.limit, CG_NONE);
        assert_int_equal(m.usage, UINT64_C(18446744073709551614));
        assert_int_equal(m.file, UINT64_C(18446744073709551610));
        assert_int_equal(m.swap_usage, 1);
        assert_int_equal(m.swap_limit, CG_NONE);
        /* 2^64 does not fit: an error, not a wrapped 0 */
        assert_int_equal(h->ops->memory(h, "/huge/over", &m), -ERANGE);

        h = H(&f, CG_CPU);
        /* 9223372036854775807 / 1000000 cross-multiplied without overflow */
        assert_int_equal(h->ops->cpu_quota(h, "/huge", &q, &p), 0);
        assert_int_equal(q, UINT64_C(9223372036854775807));
        assert_int_equal(p, 1000000);
        /* per-CPU values fit, their sum does not */
        h = H(&f, CG_CPUACCT);
        assert_int_equal(h->ops->cpu_usage(h, "/huge", &u), -ERANGE);
        assert_null(u.user_ns);
        h = H(&f, CG_BLKIO);
        assert_int_equal(h->ops->io(h, "/huge", &io), -ERANGE);
        assert_null(io.dev);
        fx_close(&f);
}

static void test_v1_malformed(void **state) {
        struct fx f;
        struct cg_memory m;
        struct cg_cpu_usage u = { 0 };
        struct cg_io io = { 0 };
        struct cpu_set_bits s;
        uint64_t q = 7, p = 7;
        fx_open(&f, "v1");
        const struct cg_hier *h = H(&f, CG_MEMORY);
        assert_int_equal(h->ops->memory(h, "/broken", &m), -EINVAL);
        h = H(&f, CG_CPU);
        assert_int_equal(h->ops->cpu_quota(h, "/broken", &q, &p), -EINVAL);
        assert_int_equal(q, 7);
        assert_int_equal(p, 7);
        assert_int_equal(h->ops->cpu_usage(h, "/broken", &u), -EINVAL);
        h = H(&f, CG_CPUSET);
        assert_int_equal(h->ops->cpuset(h, "/broken", &s), -EINVAL);
        h = H(&f, CG_BLKIO);
        assert_int_equal(h->ops->io(h, "/broken", &io), -EINVAL);
        assert_int_equal(io.n, 0);
        fx_close(&f);
}

static void test_v1_cpu_quota(void **state) {
        struct fx f;
        uint64_t q, p;
        fx_open(&f, "v1");
        const struct cg_hier *h = H(&f, CG_CPU);
        assert_int_equal(h->ops->cpu_quota(h, "/box", &q, &p), 0);
        assert_int_equal(q, 50000);
        assert_int_equal(p, 100000);
        /* outer 25000/100000 (0.25 CPU) is below inner 20000/50000 (0.4) */
        assert_int_equal(h->ops->cpu_quota(h, "/outer/inner", &q, &p), 0);
        assert_int_equal(q, 25000);
        assert_int_equal(p, 100000);
        assert_int_equal(h->ops->cpu_quota(h, "/noswap", &q, &p), 0);
        assert_int_equal(q, CG_NONE);
        assert_int_equal(h->ops->cpu_quota(h, "/", &q, &p), 0);
        assert_int_equal(q, CG_NONE);
        assert_int_equal(h->ops->cpu_quota(h, "/nonexistent", &q, &p), -ENOENT);
        fx_close(&f);
}

static void test_v1_cpuset(void **state) {
        struct fx f;
        struct cpu_set_bits s;
        fx_open(&f, "v1");
        const struct cg_hier *h = H(&f, CG_CPUSET);
        assert_int_equal(h->ops->cpuset(h, "/box", &s), 0);
        assert_int_equal(cpu_count(&s), 7);
        assert_true(cpu_bit(&s, 0) && cpu_bit(&s, 3) && cpu_bit(&s, 8) && cpu_bit(&s, 10) && cpu_bit(&s, 11));
        assert_false(cpu_bit(&s, 4) || cpu_bit(&s, 9) || cpu_bit(&s, 12));
        assert_int_equal(h->ops->cpuset(h, "/outer/inner", &s), 0);
        assert_set(&s, "4-7");
        assert_int_equal(h->ops->cpuset(h, "/", &s), 0);
        assert_int_equal(cpu_count(&s), 16);
        fx_close(&f);
}

static void test_v1_cpu_usage(void **state) {
        struct fx f;
        struct cg_cpu_usage u;
        fx_open(&f, "v1");
        const struct cg_hier *h = H(&f, CG_CPUACCT);
        assert_int_equal(h->ops->cpu_usage(h, "/box", &u), 0);
        assert_true(u.percpu);
        assert_int_equal(u.ncpu, 16);
        assert_int_equal(u.user_ns[0], 4000000000);
        assert_int_equal(u.user_ns[8], 500000000);
        assert_int_equal(u.user_ns[9], 0);
        assert_int_equal(u.system_ns[11], 25000000);
        /* totals come from cpuacct.usage_user/_sys, not the sums */
        assert_int_equal(u.total_user_ns, 10871000000);
        assert_int_equal(u.total_system_ns, 3571000000);
        cg_cpu_usage_done(&u);
        assert_null(u.user_ns);
        assert_int_equal(u.ncpu, 0);

        /* only cpuacct.usage_all: per-CPU rows, totals summed */
        assert_int_equal(h->ops->cpu_usage(h, "/outer/inner", &u), 0);
        assert_true(u.percpu);
        assert_int_equal(u.ncpu, 16);
        assert_int_equal(u.user_ns[3], 0);
        assert_int_equal(u.user_ns[4], 300000000);
        assert_int_equal(u.user_ns[7], 1200000000);
        assert_int_equal(u.system_ns[5], 100000000);
        assert_int_equal(u.total_user_ns, 3000000000);
        assert_int_equal(u.total_system_ns, 400000000);
        cg_cpu_usage_done(&u);
        fx_close(&f);
}

static void assert_box_io(const struct cg_io *io) {
        /* 8:16 has only zeros and is left out */
        assert_int_equal(io->n, 2);
        assert_int_equal(io->dev[0].major, 8);
        assert_int_equal(io->dev[0].minor, 0);
        assert_int_equal(io->dev[0].rbytes, 10485760);
        assert_int_equal(io->dev[0].wbytes, 20971520);
        assert_int_equal(io->dev[0].rios, 100);
        assert_int_equal(io->dev[0].wios, 200);
        assert_int_equal(io->dev[0].dbytes, 0);
        assert_int_equal(io->dev[0].dios, 0);
        assert_int_equal(io->dev[1].major, 259);
        assert_int_equal(io->dev[1].minor, 0);
        assert_int_equal(io->dev[1].rbytes, 4096);
        assert_int_equal(io->dev[1].wbytes, 8192);
        assert_int_equal(io->dev[1].dbytes, 65536);
        assert_int_equal(io->dev[1].rios, 1);
        assert_int_equal(io->dev[1].wios, 2);
        assert_int_equal(io->dev[1].dios, 3);
}

static void test_v1_io(void **state) {
        struct fx f;
        struct cg_io io;
        fx_open(&f, "v1");
        const struct cg_hier *h = H(&f, CG_BLKIO);
        assert_int_equal(h->ops->io(h, "/box", &io), 0);
        assert_box_io(&io);
        cg_io_done(&io);
        assert_null(io.dev);
        assert_int_equal(h->ops->io(h, "/outer/inner", &io), 0); /* just "Total 0" */
        assert_int_equal(io.n, 0);
        cg_io_done(&io);
        assert_int_equal(h->ops->io(h, "/", &io), 0);
        assert_int_equal(io.n, 3);
        assert_int_equal(io.dev[1].minor, 16);
        assert_int_equal(io.dev[1].wios, 3456);
        assert_int_equal(io.dev[2].dios, 12);
        cg_io_done(&io);
        fx_close(&f);
}

static const pid_t box_threads[] = { 200, 201, 202, 210, 211, 220 };
static const pid_t box_procs[] = { 200, 210, 220 };

static void check_pids(const char *fixture, enum cg_controller c) {
        struct fx f;
        pid_t *v;
        size_t n;
        fx_open(&f, fixture);
        const struct cg_hier *h = H(&f, c);
        assert_int_equal(h->ops->threads(h, "/box", &v, &n), 0);
        assert_pids(v, n, box_threads, ELEMENTSOF(box_threads));
        assert_int_equal(h->ops->procs(h, "/box", &v, &n), 0);
        assert_pids(v, n, box_procs, ELEMENTSOF(box_procs));
        assert_int_equal(h->ops->threads(h, "/box/worker/deep", &v, &n), 0);
        assert_pids(v, n, (pid_t[]){ 220 }, 1);
        assert_int_equal(h->ops->threads(h, "/nonexistent", &v, &n), -ENOENT);
        assert_int_equal(h->ops->threads(h, "/box/..", &v, &n), -EINVAL);
        fx_close(&f);
}

static void test_v1_pids(void **state) {
        struct fx f;
        pid_t *v;
        size_t n;
        check_pids("v1", CG_PIDS);
        check_pids("hybrid", CG_PIDS);
        fx_open(&f, "v1");
        const struct cg_hier *h = H(&f, CG_PIDS);
        assert_int_equal(h->ops->threads(h, "/", &v, &n), 0);
        assert_int_equal(n, 16); /* every task of the fixture tree */
        free(v);
        assert_int_equal(h->ops->procs(h, "/outer", &v, &n), 0);
        assert_pids(v, n, (pid_t[]){ 300 }, 1);
        fx_close(&f);
}

/* ---- v2 ---- */

static void test_v2_memory(void **state) {
        struct fx f;
        struct cg_memory m;
        fx_open(&f, "v2");
        const struct cg_hier *h = H(&f, CG_MEMORY);
        assert_int_equal(h->ops->memory(h, "/box", &m), 0);
        assert_int_equal(m.limit, 256 * MiB);
        assert_int_equal(m.usage, 100 * MiB);
        assert_true(m.swap_accounting);
        assert_int_equal(m.swap_usage, 8 * MiB);
        assert_int_equal(m.swap_limit, 128 * MiB);
        assert_int_equal(m.anon, 73400320);
        assert_int_equal(m.file, 31457280);
        assert_int_equal(m.shmem, 4194304);
        assert_int_equal(m.mapped, 8388608);
        assert_int_equal(m.dirty, 131072);
        assert_int_equal(m.writeback, 0);
        assert_int_equal(m.active_anon, 69206016);
        assert_int_equal(m.inactive_anon, 8388608);
        assert_int_equal(m.active_file, 20971520);
        assert_int_equal(m.inactive_file, 6291456);
        assert_int_equal(m.unevictable, 0);
        assert_int_equal(m.slab_reclaimable, 2097152);
        assert_int_equal(m.slab_unreclaimable, 1048576);
        assert_int_equal(m.kernel_stack, 294912);
        assert_int_equal(m.pagetables, 524288);
        assert_int_equal(m.percpu, 65536);
        assert_int_equal(m.anon_thp, 0);
        assert_int_equal(m.shmem_thp, 0);
        assert_int_equal(m.file_thp, 0);
        assert_int_equal(m.swapcached, 0);

        /* the root has neither memory.max nor memory.current */
        assert_int_equal(h->ops->memory(h, "/", &m), -ENOENT);
        assert_int_equal(h->ops->memory(h, "/nonexistent", &m), -ENOENT);

        /* outer's 128 MiB / 64 MiB swap beat inner's 512 MiB / max */
        assert_int_equal(h->ops->memory(h, "/outer/inner", &m), 0);
        assert_int_equal(m.limit, 128 * MiB);
        assert_int_equal(m.swap_limit, 64 * MiB);
        assert_int_equal(m.usage, 64 * MiB);
        fx_close(&f);
}

static void test_v2_memory_max(void **state) {
        struct fx f;
        struct cg_memory m;
        fx_open(&f, "v2");
        const struct cg_hier *h = H(&f, CG_MEMORY);
        assert_int_equal(h->ops->memory(h, "/unl", &m), 0);
        assert_int_equal(m.limit, CG_NONE);
        assert_true(m.swap_accounting);
        assert_int_equal(m.swap_limit, CG_NONE);
        assert_int_equal(m.swap_usage, 1 * MiB);
        assert_int_equal(m.usage, 200 * MiB);
        assert_int_equal(m.anon, 150 * MiB);
        /* an older kernel's memory.stat: absent keys are CG_NONE */
        assert_int_equal(m.percpu, CG_NONE);
        assert_int_equal(m.swapcached, CG_NONE);
        assert_int_equal(m.file_thp, CG_NONE);
        assert_int_equal(m.shmem_thp, CG_NONE);
        assert_int_equal(m.kernel_stack, 16384);

        assert_int_equal(h->ops->memory(h, "/noswap", &m), 0);
        assert_false(m.swap_accounting);
        assert_int_equal(m.swap_usage, CG_NONE);
        assert_int_equal(m.swap_limit, CG_NONE);
        assert_int_equal(m.limit, 1024 * MiB);
        fx_close(&f);
}

static void test_v2_huge_malformed(void **state) {
        struct fx f;
        struct cg_memory m;
        struct cg_cpu_usage u = { 0 };
        struct cg_io io = { 0 };
        struct cpu_set_bits s;
        uint64_t q, p;
        fx_open(&f, "v2");
        const struct cg_hier *h = H(&f, CG_MEMORY);
        assert_int_equal(h->ops->memory(h, "/huge", &m), 0);
        assert_int_equal(m.limit, CG_NONE);
        assert_int_equal(m.usage, UINT64_C(18446744073709551614));
        assert_int_equal(m.anon, UINT64_C(18446744073709551614));
        assert_int_equal(m.swap_usage, UINT64_C(18446744073709551615));
        assert_int_equal(h->ops->memory(h, "/huge/over", &m), -ERANGE);
        assert_int_equal(h->ops->memory(h, "/broken", &m), -EINVAL);

        assert_int_equal(h->ops->cpu_quota(h, "/huge", &q, &p), 0);
        assert_int_equal(q, UINT64_C(9223372036854775807));
        assert_int_equal(p, 1000000);
        assert_int_equal(h->ops->cpu_quota(h, "/broken", &q, &p), -EINVAL);

        /* user_usec * 1000 overflows 64 bits */
        assert_int_equal(h->ops->cpu_usage(h, "/huge", &u), -ERANGE);
        assert_int_equal(h->ops->cpu_usage(h, "/broken", &u), -EINVAL);
        assert_int_equal(h->ops->io(h, "/huge", &io), -ERANGE);
        assert_int_equal(h->ops->io(h, "/broken", &io), -EINVAL);
        assert_null(io.dev);
        assert_int_equal(h->ops->cpuset(h, "/broken", &s), -EINVAL);
        fx_close(&f);
}

static void test_v2_cpu(void **state) {
        struct fx f;
        uint64_t q, p;
        struct cpu_set_bits s;
        struct cg_cpu_usage u;
        fx_open(&f, "v2");
        const struct cg_hier *h = H(&f, CG_CPU);
        assert_int_equal(h->ops->cpu_quota(h, "/box", &q, &p), 0);
        assert_int_equal(q, 50000);
        assert_int_equal(p, 100000);
        assert_int_equal(h->ops->cpu_quota(h, "/outer/inner", &q, &p), 0);
        assert_int_equal(q, 25000);
        assert_int_equal(p, 100000);
        assert_int_equal(h->ops->cpu_quota(h, "/unl", &q, &p), 0);
        assert_int_equal(q, CG_NONE);
        assert_int_equal(h->ops->cpu_quota(h, "/", &q, &p), 0);
        assert_int_equal(q, CG_NONE);
        assert_int_equal(h->ops->cpu_quota(h, "/nonexistent", &q, &p), -ENOENT);

        h = H(&f, CG_CPUSET);
        assert_int_equal(h->ops->cpuset(h, "/box", &s), 0);
        assert_set(&s, "0-3,8,10-11");
        /* inner has no cpuset files: outer's set applies */
        assert_int_equal(h->ops->cpuset(h, "/outer/inner", &s), 0);
        assert_set(&s, "4-7");
        assert_int_equal(h->ops->cpuset(h, "/unl", &s), 0);
        assert_int_equal(cpu_count(&s), 16);
        assert_int_equal(h->ops->cpuset(h, "/nonexistent", &s), -ENOENT);

        h = H(&f, CG_CPUACCT);
        assert_int_equal(h->ops->cpu_usage(h, "/box", &u), 0);
        assert_false(u.percpu);
        assert_null(u.user_ns);
        assert_null(u.system_ns);
        assert_int_equal(u.total_user_ns, 10875000000);
        assert_int_equal(u.total_system_ns, 3475000000);
        cg_cpu_usage_done(&u);
        assert_int_equal(h->ops->cpu_usage(h, "/", &u), 0);
        assert_int_equal(u.total_user_ns, 1230000000000000);
        cg_cpu_usage_done(&u);
        fx_close(&f);
}

static void test_v2_cpuset_none(void **state) {
        struct fx f;
        struct cpu_set_bits s;
        fx_open(&f, "hybrid");
        /* the hybrid fixture's cgroup2 tree has no cpuset files at all */
        const struct cg_hier *h = &f.l.hier[f.l.unified];
        assert_int_equal(cg_v2_ops.cpuset(h, "/box", &s), -ENOENT);
        fx_close(&f);
}

static void test_v2_io(void **state) {
        struct fx f;
        struct cg_io io;
        fx_open(&f, "v2");
        const struct cg_hier *h = H(&f, CG_BLKIO);
        assert_int_equal(h->ops->io(h, "/box", &io), 0);
        assert_box_io(&io);
        cg_io_done(&io);
        assert_int_equal(h->ops->io(h, "/outer", &io), 0); /* empty io.stat */
        assert_int_equal(io.n, 0);
        cg_io_done(&io);
        assert_int_equal(h->ops->io(h, "/", &io), 0);
        assert_int_equal(io.n, 3);
        assert_int_equal(io.dev[2].major, 259);
        assert_int_equal(io.dev[2].wbytes, 23387597312);
        cg_io_done(&io);
        fx_close(&f);
}

static void test_v2_pids(void **state) {
        check_pids("v2", CG_PIDS);
}

static void test_hybrid_figures(void **state) {
        struct fx f;
        struct cg_reader r;
        struct cg_memory m;
        struct cg_cpu_usage u;
        uint64_t q, p;
        fx_open(&f, "hybrid");
        assert_int_equal(cg_reader_from_pid(&f.l, f.root, 200, &r), 0);
        const struct cg_hier *h = H(&f, CG_MEMORY);
        assert_int_equal(h->ops->memory(h, r.path[CG_MEMORY], &m), 0);
        assert_int_equal(m.limit, 256 * MiB);
        assert_int_equal(m.swap_limit, 256 * MiB);
        h = H(&f, CG_CPU);
        assert_int_equal(h->ops->cpu_quota(h, r.path[CG_CPU], &q, &p), 0);
        assert_int_equal(q, 50000);
        h = H(&f, CG_CPUACCT);
        assert_int_equal(h->ops->cpu_usage(h, r.path[CG_CPUACCT], &u), 0);
        assert_int_equal(u.ncpu, 16);
        assert_int_equal(u.total_user_ns, 10871000000);
        cg_cpu_usage_done(&u);
        cg_reader_done(&r);
        fx_close(&f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_controller_names),
                cmocka_unit_test(test_layout_v1),
                cmocka_unit_test(test_layout_v2),
                cmocka_unit_test(test_layout_hybrid),
                cmocka_unit_test(test_layout_v2_wins),
                cmocka_unit_test(test_layout_none),
                cmocka_unit_test(test_layout_escaped_root),
                cmocka_unit_test(test_reader_v1),
                cmocka_unit_test(test_reader_v2),
                cmocka_unit_test(test_reader_hybrid),
                cmocka_unit_test(test_reader_malformed),
                cmocka_unit_test(test_open_dir),
                cmocka_unit_test(test_path_up),
                cmocka_unit_test(test_v1_memory),
                cmocka_unit_test(test_v1_memory_noswap),
                cmocka_unit_test(test_v1_huge),
                cmocka_unit_test(test_v1_malformed),
                cmocka_unit_test(test_v1_cpu_quota),
                cmocka_unit_test(test_v1_cpuset),
                cmocka_unit_test(test_v1_cpu_usage),
                cmocka_unit_test(test_v1_io),
                cmocka_unit_test(test_v1_pids),
                cmocka_unit_test(test_v2_memory),
                cmocka_unit_test(test_v2_memory_max),
                cmocka_unit_test(test_v2_huge_malformed),
                cmocka_unit_test(test_v2_cpu),
                cmocka_unit_test(test_v2_cpuset_none),
                cmocka_unit_test(test_v2_io),
                cmocka_unit_test(test_v2_pids),
                cmocka_unit_test(test_hybrid_figures),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
