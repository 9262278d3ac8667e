/* The command's cgroup (launcher/cgroup-setup.c) on temporary copies of the
 * fixture host trees: a plain directory stands in for cgroupfs, so what is
 * created and written can be read back (each write replaces the file). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "launcher/launcher.h"
#include "macro.h"

extern char **environ;

#define MiB (UINT64_C(1) << 20)

/* Copies still on disk; a failed test skips its fx_close, the group's
 * teardown removes them. */
static char leftovers[8][64];

struct fx {
        char dir[64]; /* the copy */
        int root;
        struct cg_layout l;
};

static void run_cmd(char *const argv[]) {
        pid_t pid;
        int status;
        assert_int_equal(posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Copy fixture NAME (with a v1 devices hierarchy, which the fixtures leave
 * out) and discover its layout. */
static void fx_open(struct fx *f, const char *name) {
        char src[4096], path[4096];

        /* tmpfs where there is one: creating the ~500 files of a copy costs
         * a tenth of a second on some disks */
        snprintf(f->dir, sizeof(f->dir), "/dev/shm/test-cgroup-setup.XXXXXX");
        if (!mkdtemp(f->dir)) {
                snprintf(f->dir, sizeof(f->dir), "/tmp/test-cgroup-setup.XXXXXX");
                assert_non_null(mkdtemp(f->dir));
        }
        for (size_t i = 0; i < ELEMENTSOF(leftovers); i++)
                if (!leftovers[i][0]) {
                        memcpy(leftovers[i], f->dir, sizeof(f->dir));
                        break;
                }
        snprintf(src, sizeof(src), "%s/%s/.", FIXTURES, name);
        run_cmd((char *const[]){ "cp", "-a", src, f->dir, NULL });
        if (!streq(name, "v2")) {
                snprintf(path, sizeof(path), "%s/sys/fs/cgroup/devices", f->dir);
                assert_int_equal(mkdir(path, 0755), 0);
        }
        f->root = open(f->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(f->root >= 0);
        assert_int_equal(cg_layout_discover(f->root, &f->l), 0);
}

static void remove_copy(const char *dir) {
        run_cmd((char *const[]){ "rm", "-rf", (char *)dir, NULL });
        for (size_t i = 0; i < ELEMENTSOF(leftovers); i++)
                if (streq(leftovers[i], dir))
                        leftovers[i][0] = 0;
}

static void fx_close(struct fx *f) {
        cg_layout_done(&f->l);
        close(f->root);
        remove_copy(f->dir);
}

static int remove_leftovers(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(leftovers); i++)
                if (leftovers[i][0])
                        remove_copy(leftovers[i]);
        return 0;
}

/* The content of REL (beneath the copy's sys/fs/cgroup), or NULL. */
static char *fx_read(struct fx *f, const char *rel) {
        char path[4096];
        char *text = NULL;
        snprintf(path, sizeof(path), "sys/fs/cgroup/%s", rel);
        if (read_file_at(f->root, path, &text, NULL) < 0)
                return NULL;
        return text;
}

static void assert_file(struct fx *f, const char *rel, const char *want) {
        _cleanup_free_ char *text = fx_read(f, rel);
        if (!text)
                fail_msg("%s: missing, want '%s'", rel, want);
        assert_string_equal(text, want);
}

static bool fx_exists(struct fx *f, const char *rel) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/sys/fs/cgroup/%s", f->dir, rel);
        return stat(path, &st) == 0;
}

static void fx_write(struct fx *f, const char *rel, const char *text) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/sys/fs/cgroup/%s", f->dir, rel);
        FILE *fp = fopen(path, "we");
        assert_non_null(fp);
        fputs(text, fp);
        fclose(fp);
}

static void fx_mkdir(struct fx *f, const char *rel) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/sys/fs/cgroup/%s", f->dir, rel);
        assert_int_equal(mkdir(path, 0755), 0);
}

static struct policy limits(uint64_t memory, uint64_t swap, uint64_t cpus, char *cpuset, uint64_t pids) {
        return (struct policy){ .memory = memory, .memory_swap = swap, .cpus_milli = cpus,
                                .cpuset = cpuset, .pids = pids };
}

static const struct policy no_limits = { .memory = POLICY_UNSET, .memory_swap = POLICY_UNSET,
                                         .cpus_milli = POLICY_UNSET, .pids = POLICY_UNSET };

/* CG's path in the hierarchy mounted at sys/fs/cgroup/HIER, or NULL. */
static const char *cg_path(struct fx *f, const struct run_cgroup *cg, const char *hier, const char *rel) {
        char want[4096];
        snprintf(want, sizeof(want), "%s/sys/fs/cgroup/%s/%s", f->dir, hier, rel);
        for (int i = 0; i < cg->n; i++)
                if (streq(cg->path[i], want))
                        return cg->path[i];
        return NULL;
}

static const char *const v1_hiers[] = { "memory", "cpu,cpuacct", "cpuset", "blkio", "pids", "devices" };
static const char *const hybrid_hiers[] = { "cpu", "cpuacct", "cpuset", "memory", "devices", "blkio", "pids" };

static void assert_run_dirs(struct fx *f, const char *const *hiers, size_t n, const char *name, bool exist) {
        char rel[256];
        for (size_t i = 0; i < n; i++) {
                snprintf(rel, sizeof(rel), "%s/curate/%s", hiers[i], name);
                if (fx_exists(f, rel) != exist)
                        fail_msg("%s: %s", rel, exist ? "missing" : "left behind");
        }
}

/* ---- layout: the devices hierarchy ---- */

static void test_layout_devices(void **state) {
        struct fx f;
        fx_open(&f, "v1");
        assert_true(f.l.devices >= 0);
        assert_int_equal(f.l.hier[f.l.devices].version, 1);
        assert_int_equal(f.l.hier[f.l.devices].controllers, 0);
        assert_int_equal(f.l.n, 6);
        fx_close(&f);
        fx_open(&f, "v2");
        assert_int_equal(f.l.devices, -1);
        fx_close(&f);
}

/* ---- create: v1 ---- */

static void test_v1_limits(void **state) {
        struct fx f;
        struct run_cgroup cg;
        char *error = NULL;
        struct policy p = limits(256 * MiB, 512 * MiB, 1500, "2-3", 100);

        fx_open(&f, "v1");
        assert_int_equal(run_cgroup_create(&f.l, &p, "run-1", &cg, &error), 0);
        assert_null(error);
        assert_true(cg.transient);
        assert_int_equal(cg.n, 6);
        for (size_t i = 0; i < ELEMENTSOF(v1_hiers); i++)
                assert_non_null(cg_path(&f, &cg, v1_hiers[i], "curate/run-1"));
        assert_run_dirs(&f, v1_hiers, ELEMENTSOF(v1_hiers), "run-1", true);

        assert_file(&f, "memory/curate/run-1/memory.limit_in_bytes", "268435456");
        assert_file(&f, "memory/curate/run-1/memory.memsw.limit_in_bytes", "536870912");
        assert_file(&f, "cpu,cpuacct/curate/run-1/cpu.cfs_period_us", "100000");
        assert_file(&f, "cpu,cpuacct/curate/run-1/cpu.cfs_quota_us", "150000");
        /* v1 cpuset: "curate/" gets the root's CPUs and memory nodes, the
         * run its own CPUs and the parent's nodes */
        assert_file(&f, "cpuset/curate/cpuset.cpus", "0-15");
        assert_file(&f, "cpuset/curate/cpuset.mems", "0");
        assert_file(&f, "cpuset/curate/run-1/cpuset.cpus", "2-3");
        assert_file(&f, "cpuset/curate/run-1/cpuset.mems", "0");
        assert_file(&f, "pids/curate/run-1/pids.max", "100");
        /* nothing of another controller's in a hierarchy */
        assert_false(fx_exists(&f, "memory/curate/run-1/pids.max"));
        assert_false(fx_exists(&f, "blkio/curate/run-1/memory.limit_in_bytes"));
        assert_false(fx_exists(&f, "devices/curate/run-1/cpuset.cpus"));

        assert_int_equal(run_cgroup_attach(&cg, 4242), 0);
        assert_file(&f, "memory/curate/run-1/cgroup.procs", "4242");
        assert_file(&f, "devices/curate/run-1/cgroup.procs", "4242");

        run_cgroup_destroy(&cg);
        assert_int_equal(cg.n, 0);
        assert_run_dirs(&f, v1_hiers, ELEMENTSOF(v1_hiers), "run-1", false);
        /* "curate/" is shared with other runs: it stays */
        assert_run_dirs(&f, v1_hiers, ELEMENTSOF(v1_hiers), "", true);
        fx_close(&f);
}

static void test_v1_unlimited(void **state) {
        struct fx f;
        struct run_cgroup cg;
        char *error = NULL;
        struct policy p = limits(POLICY_MAX, POLICY_MAX, POLICY_MAX, NULL, POLICY_MAX);

        fx_open(&f, "v1");
        assert_int_equal(run_cgroup_create(&f.l, &p, "run-2", &cg, &error), 0);
        assert_file(&f, "memory/curate/run-2/memory.limit_in_bytes", "-1");
        assert_file(&f, "memory/curate/run-2/memory.memsw.limit_in_bytes", "-1");
        assert_file(&f, "cpu,cpuacct/curate/run-2/cpu.cfs_quota_us", "-1");
        assert_file(&f, "pids/curate/run-2/pids.max", "max");
        /* no CPU list asked for: the parent's */
        assert_file(&f, "cpuset/curate/run-2/cpuset.cpus", "0-15");
        run_cgroup_destroy(&cg);
        fx_close(&f);
}

static void test_v1_nothing_asked(void **state) {
        struct fx f;
        struct run_cgroup cg;
        char *error = NULL;

        fx_open(&f, "v1");
        assert_int_equal(run_cgroup_create(&f.l, &no_limits, "run-3", &cg, &error), 0);
        assert_false(fx_exists(&f, "memory/curate/run-3/memory.limit_in_bytes"));
        assert_false(fx_exists(&f, "memory/curate/run-3/memory.memsw.limit_in_bytes"));
        assert_false(fx_exists(&f, "cpu,cpuacct/curate/run-3/cpu.cfs_quota_us"));
        assert_false(fx_exists(&f, "cpu,cpuacct/curate/run-3/cpu.cfs_period_us"));
        assert_false(fx_exists(&f, "pids/curate/run-3/pids.max"));
        run_cgroup_destroy(&cg);
        fx_close(&f);
}

/* a "curate/" made by someone else, CPUs and nodes still empty */
static void test_v1_cpuset_shared_empty(void **state) {
        struct fx f;
        struct run_cgroup cg;
        char *error = NULL;

        fx_open(&f, "v1");
        fx_mkdir(&f, "cpuset/curate");
        fx_write(&f, "cpuset/curate/cpuset.cpus", "\n");
        fx_write(&f, "cpuset/curate/cpuset.mems", "\n");
        fx_write(&f, "cpuset/cpuset.cpus", "0-7\n");
        assert_int_equal(run_cgroup_create(&f.l, &no_limits, "run-4", &cg, &error), 0);
        assert_file(&f, "cpuset/curate/cpuset.cpus", "0-7");
        assert_file(&f, "cpuset/curate/cpuset.mems", "0");
        assert_file(&f, "cpuset/curate/run-4/cpuset.cpus", "0-7");
        run_cgroup_destroy(&cg);
        /* one already set is left alone */
        fx_write(&f, "cpuset/curate/cpuset.cpus", "1-2\n");
        assert_int_equal(run_cgroup_create(&f.l, &no_limits, "run-5", &cg, &error), 0);
        assert_file(&f, "cpuset/curate/cpuset.cpus", "1-2\n");
        assert_file(&f, "cpuset/curate/run-5/cpuset.cpus", "1-2");
        run_cgroup_destroy(&cg);
        fx_close(&f);
}

static void test_v1_no_swap_accounting(void **state) {
        struct fx f;
        struct run_cgroup cg = { .n = 0 };
        char *error = NULL;
        struct policy p = limits(256 * MiB, 512 * MiB, POLICY_UNSET, NULL, POLICY_UNSET);

        fx_open(&f, "v1");
        assert_int_equal(unlinkat(f.root, "sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", 0), 0);
        assert_int_equal(run_cgroup_create(&f.l, &p, "run-6", &cg, &error), -EOPNOTSUPP);
        assert_non_null(error);
        assert_non_null(strstr(error, "/sys/fs/cgroup/memory/curate/run-6/memory.memsw.limit_in_bytes: missing"));
        assert_non_null(strstr(error, "swap"));
        free(TAKE_PTR(error));
        assert_int_equal(cg.n, 0); /* *ret untouched */
        assert_run_dirs(&f, v1_hiers, ELEMENTSOF(v1_hiers), "run-6", false);
        /* memory alone needs no swap accounting */
        p.memory_swap = POLICY_UNSET;
        assert_int_equal(run_cgroup_create(&f.l, &p, "run-6", &cg, &error), 0);
        assert_file(&f, "memory/curate/run-6/memory.limit_in_bytes", "268435456");
        assert_false(fx_exists(&f, "memory/curate/run-6/memory.memsw.limit_in_bytes"));
        run_cgroup_destroy(&cg);
        fx_close(&f);
}

/* ---- create: v2 and hybrid ---- */

static void test_v2_limits(void **state) {
        struct fx f;
        struct run_cgroup cg;
        char *error = NULL;
        struct policy p = limits(256 * MiB, 384 * MiB, 250, "0-3,8", 64);

        fx_open(&f, "v2");
        assert_int_equal(run_cgroup_create(&f.l, &p, "run-1", &cg, &error), 0);
        assert_int_equal(cg.n, 1);
        assert_non_null(cg_path(&f, &cg, "curate", "run-1"));
        assert_file(&f, "curate/run-1/memory.max", "268435456");
        /* v2 limits swap alone: memory+swap - memory */
        assert_file(&f, "curate/run-1/memory.swap.max", "134217728");
        assert_file(&f, "curate/run-1/cpu.max", "25000 100000");
        assert_file(&f, "curate/run-1/cpuset.cpus", "0-3,8");
        assert_file(&f, "curate/run-1/pids.max", "64");
        assert_false(fx_exists(&f, "curate/run-1/cpuset.mems"));
        /* the root already delegates every controller: left as it was */
        assert_file(&f, "cgroup.subtree_control", "cpuset cpu io memory pids\n");
        assert_true(fx_exists(&f, "curate/cgroup.subtree_control"));
        assert_int_equal(run_cgroup_attach(&cg, 77), 0);
        assert_file(&f, "curate/run-1/cgroup.procs", "77");
        run_cgroup_destroy(&cg);
        assert_false(fx_exists(&f, "curate/run-1"));
        assert_true(fx_exists(&f, "curate"));
        fx_close(&f);
}

static void test_v2_unlimited(void **state) {
        struct fx f;
        struct run_cgroup cg;
        char *error = NULL;
        struct policy p = limits(POLICY_MAX, POLICY_MAX, POLICY_MAX, NULL, POLICY_MAX);

        fx_open(&f, "v2");
        assert_int_equal(run_cgroup_create(&f.l, &p, "run-2", &cg, &error), 0);
        assert_file(&f, "curate/run-2/memory.max", "max");
        assert_file(&f, "curate/run-2/memory.swap.max", "max");
        assert_file(&f, "curate/run-2/cpu.max", "max 100000");
        assert_file(&f, "curate/run-2/pids.max", "max");
        run_cgroup_destroy(&cg);
        /* no swap beyond memory: swap.max 0 */
        p = limits(100 * MiB, 100 * MiB, 1, NULL, POLICY_UNSET);
        assert_int_equal(run_cgroup_create(&f.l, &p, "run-3", &cg, &error), 0);
        assert_file(&f, "curate/run-3/memory.swap.max", "0");
        assert_file(&f, "curate/run-3/cpu.max", "100 100000");
        run_cgroup_destroy(&cg);
        fx_close(&f);
}

/* what is not yet enabled in cgroup.subtree_control gets enabled */
static void test_v2_enable_controllers(void **state) {
        struct fx f;
        struct run_cgroup cg;
        char *error = NULL;

        fx_open(&f, "v2");
        fx_write(&f, "cgroup.subtree_control", "cpuset cpu io memory\n");
        fx_mkdir(&f, "curate");
        fx_write(&f, "curate/cgroup.subtree_control", "memory pids cpu io cpuset\n");
        assert_int_equal(run_cgroup_create(&f.l, &no_limits, "run-4", &cg, &error), 0);
        assert_file(&f, "cgroup.subtree_control", "+pids");
        assert_file(&f, "curate/cgroup.subtree_control", "memory pids cpu io cpuset\n");
        run_cgroup_destroy(&cg);
        fx_close(&f);
}

static void test_hybrid(void **state) {
        struct fx f;
        struct run_cgroup cg;
        char *error = NULL;
        struct policy p = limits(64 * MiB, POLICY_UNSET, 500, NULL, 10);

        fx_open(&f, "hybrid");
        assert_int_equal(run_cgroup_create(&f.l, &p, "run-1", &cg, &error), 0);
        /* every v1 hierarchy of ours and devices; not the hugetlb-only cgroup2 */
        assert_int_equal(cg.n, 7);
        assert_run_dirs(&f, hybrid_hiers, ELEMENTSOF(hybrid_hiers), "run-1", true);
        assert_false(fx_exists(&f, "unified/curate"));
        assert_file(&f, "memory/curate/run-1/memory.limit_in_bytes", "67108864");
        assert_file(&f, "cpu/curate/run-1/cpu.cfs_quota_us", "50000");
        assert_false(fx_exists(&f, "cpuacct/curate/run-1/cpu.cfs_quota_us"));
        assert_file(&f, "pids/curate/run-1/pids.max", "10");
        run_cgroup_destroy(&cg);
        assert_run_dirs(&f, hybrid_hiers, ELEMENTSOF(hybrid_hiers), "run-1", false);
        fx_close(&f);
}

/* ---- failures leave nothing behind ---- */

static void test_failure_cleanup(void **state) {
        struct fx f;
        struct run_cgroup cg = { .n = 0 };
        char *error = NULL;
        struct policy p = limits(64 * MiB, 128 * MiB, 500, "1", 10);

        /* a file where pids' "curate/" should be: fails after memory, cpu,
         * cpuacct, cpuset and blkio got their directories and limits */
        fx_open(&f, "v1");
        fx_write(&f, "pids/curate", "not a directory\n");
        assert_int_equal(run_cgroup_create(&f.l, &p, "run-7", &cg, &error), -ENOTDIR);
        assert_non_null(error);
        assert_non_null(strstr(error, "/sys/fs/cgroup/pids/curate: cannot open the cgroup: Not a directory"));
        free(TAKE_PTR(error));
        assert_int_equal(cg.n, 0);
        assert_run_dirs(&f, v1_hiers, ELEMENTSOF(v1_hiers), "run-7", false);
        assert_false(fx_exists(&f, "devices/curate"));
        assert_true(fx_exists(&f, "memory/curate")); /* shared: stays */
        fx_close(&f);

        /* hybrid: the failure comes last (pids), after memory's limits */
        fx_open(&f, "hybrid");
        fx_mkdir(&f, "pids/curate");
        fx_mkdir(&f, "pids/curate/run-7"); /* the name is taken there */
        assert_int_equal(run_cgroup_create(&f.l, &p, "run-7", &cg, &error), -EEXIST);
        assert_non_null(strstr(error, "/sys/fs/cgroup/pids/curate/run-7: cannot create the cgroup: File exists"));
        free(TAKE_PTR(error));
        for (size_t i = 0; i + 1 < ELEMENTSOF(hybrid_hiers); i++)
                assert_run_dirs(&f, &hybrid_hiers[i], 1, "run-7", false);
        /* not ours to remove */
        assert_true(fx_exists(&f, "pids/curate/run-7"));
        fx_close(&f);
}

/* a second run with the same name neither succeeds nor harms the first */
static void test_name_taken(void **state) {
        struct fx f;
        struct run_cgroup a, b = { .n = 0 };
        char *error = NULL;
        struct policy p = limits(64 * MiB, POLICY_UNSET, POLICY_UNSET, NULL, POLICY_UNSET);

        fx_open(&f, "v1");
        assert_int_equal(run_cgroup_create(&f.l, &p, "run-8", &a, &error), 0);
        assert_int_equal(run_cgroup_create(&f.l, &p, "run-8", &b, &error), -EEXIST);
        free(TAKE_PTR(error));
        assert_run_dirs(&f, v1_hiers, ELEMENTSOF(v1_hiers), "run-8", true);
        assert_file(&f, "memory/curate/run-8/memory.limit_in_bytes", "67108864");
        run_cgroup_destroy(&a);
        fx_close(&f);
}

static void test_bad_input(void **state) {
        struct fx f;
        struct run_cgroup cg = { .n = 0 };
        char *error = NULL;
        struct policy p = limits(256 * MiB, 128 * MiB, POLICY_UNSET, NULL, POLICY_UNSET);

        fx_open(&f, "v1");
        assert_int_equal(run_cgroup_create(&f.l, &no_limits, "a/b", &cg, &error), -EINVAL);
        free(TAKE_PTR(error));
        assert_int_equal(run_cgroup_create(&f.l, &no_limits, "..", &cg, &error), -EINVAL);
        free(TAKE_PTR(error));
        /* memory+swap below memory */
        assert_int_equal(run_cgroup_create(&f.l, &p, "run-9", &cg, &error), -EINVAL);
        assert_non_null(strstr(error, "memory+swap"));
        free(TAKE_PTR(error));
        assert_run_dirs(&f, v1_hiers, ELEMENTSOF(v1_hiers), "run-9", false);
        fx_close(&f);

        /* a limit whose controller is not mounted */
        fx_open(&f, "v1");
        cg_layout_done(&f.l);
        assert_int_equal(cg_layout_parse(f.root,
                                         "30 28 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", &f.l),
                         0);
        p = limits(POLICY_UNSET, POLICY_UNSET, POLICY_UNSET, NULL, 5);
        assert_int_equal(run_cgroup_create(&f.l, &p, "run-9", &cg, &error), -EOPNOTSUPP);
        assert_non_null(strstr(error, "pids"));
        free(TAKE_PTR(error));
        assert_false(fx_exists(&f, "memory/curate"));
        fx_close(&f);
}

/* ---- join ---- */

static void test_join(void **state) {
        struct fx f;
        struct run_cgroup cg = { .n = 0 };
        char *error = NULL;

        fx_open(&f, "v1");
        assert_int_equal(run_cgroup_join(&f.l, "/box", &cg, &error), 0);
        assert_null(error);
        assert_false(cg.transient);
        /* everywhere it exists: not in devices */
        assert_int_equal(cg.n, 5);
        assert_non_null(cg_path(&f, &cg, "memory", "box"));
        assert_non_null(cg_path(&f, &cg, "cpu,cpuacct", "box"));
        assert_null(cg_path(&f, &cg, "devices", "box"));
        assert_int_equal(run_cgroup_attach(&cg, 4243), 0);
        assert_file(&f, "pids/box/cgroup.procs", "4243");
        run_cgroup_destroy(&cg);
        assert_int_equal(cg.n, 0);
        assert_true(fx_exists(&f, "memory/box")); /* joined, not ours */
        assert_true(fx_exists(&f, "memory/box/memory.stat"));

        assert_int_equal(run_cgroup_join(&f.l, "box/worker", &cg, &error), 0);
        assert_non_null(cg_path(&f, &cg, "cpuset", "box/worker"));
        run_cgroup_destroy(&cg);

        assert_int_equal(run_cgroup_join(&f.l, "/nope", &cg, &error), -ENOENT);
        assert_non_null(strstr(error, "/nope"));
        free(TAKE_PTR(error));
        assert_int_equal(run_cgroup_join(&f.l, "/box/../..", &cg, &error), -EINVAL);
        free(TAKE_PTR(error));
        assert_int_equal(cg.n, 0);
        fx_close(&f);

        /* hybrid: the cgroup2 tree counts when joining */
        fx_open(&f, "hybrid");
        assert_int_equal(run_cgroup_join(&f.l, "/box", &cg, &error), 0);
        assert_int_equal(cg.n, 7);
        assert_non_null(cg_path(&f, &cg, "unified", "box"));
        run_cgroup_destroy(&cg);
        fx_close(&f);

        fx_open(&f, "v2");
        assert_int_equal(run_cgroup_join(&f.l, "/outer/inner", &cg, &error), 0);
        assert_int_equal(cg.n, 1);
        run_cgroup_destroy(&cg);
        fx_close(&f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_layout_devices),
                cmocka_unit_test(test_v1_limits),
                cmocka_unit_test(test_v1_unlimited),
                cmocka_unit_test(test_v1_nothing_asked),
                cmocka_unit_test(test_v1_cpuset_shared_empty),
                cmocka_unit_test(test_v1_no_swap_accounting),
                cmocka_unit_test(test_v2_limits),
                cmocka_unit_test(test_v2_unlimited),
                cmocka_unit_test(test_v2_enable_controllers),
                cmocka_unit_test(test_hybrid),
                cmocka_unit_test(test_failure_cleanup),
                cmocka_unit_test(test_name_taken),
                cmocka_unit_test(test_bad_input),
                cmocka_unit_test(test_join),
        };
        return cmocka_run_group_tests(tests, NULL, remove_leftovers);
}
