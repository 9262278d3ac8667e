/* The host's /sys/devices/system/cpu as a reader is shown it (fs/cputree.c),
 * on the fixture tests/fixtures/cputree: 4 CPUs, 2 cores x 2 threads
 * (cpu0+cpu2, cpu1+cpu3), one package, cpu3 offline. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <unistd.h>
#include "cnodes.h"
#include "cputree.h"

static int dir_fd = -EBADF;

static int setup(void **state) {
        dir_fd = open(FIXTURES "/cputree/" CPUTREE_HOST_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return dir_fd < 0;
}
static int teardown(void **state) {
        close(dir_fd);
        return 0;
}

static struct cpu_set_bits cpus(const char *list) {
        struct cpu_set_bits s;
        assert_int_equal(parse_cpu_list(list, &s), 0);
        return s;
}

static char *rendered(const char *rel, const char *shown) {
        _cleanup_buf_ struct buf out = { 0 };
        struct cpu_set_bits s = cpus(shown);
        assert_int_equal(cputree_render(dir_fd, rel, &s, &out), 0);
        return strdup(out.data ? out.data : "");
}

static void expect(const char *rel, const char *shown, const char *want) {
        char *got = rendered(rel, shown);
        assert_string_equal(got, want);
        free(got);
}

struct names {
        char text[1024];
};
static int collect(const char *name, uint64_t ino, mode_t type, void *ctx) {
        struct names *n = ctx;
        assert_true(cputree_is_ino(ino));
        strcat(n->text, name);
        strcat(n->text, " ");
        return 0;
}

static bool listed(const struct names *n, const char *name) {
        char w[64];
        snprintf(w, sizeof(w), " %s ", name);
        char all[1100];
        snprintf(all, sizeof(all), " %s", n->text);
        return strstr(all, w) != NULL;
}

static void test_top_listing(void **state) {
        static const char *const fixed[] = { "online", "possible", "present", "offline", NULL };
        struct cpu_set_bits s = cpus("1");
        struct names n = { "" };

        assert_int_equal(cputree_list(dir_fd, NULL, "", &s, fixed, collect, &n), 0);
        assert_true(listed(&n, "cpu1"));
        assert_false(listed(&n, "cpu0"));
        assert_false(listed(&n, "cpu2"));
        assert_false(listed(&n, "cpu3"));
        assert_false(listed(&n, "online")); /* the fixed files are the views' */
        assert_false(listed(&n, "offline"));
        assert_true(listed(&n, "kernel_max"));
        assert_true(listed(&n, "vulnerabilities"));
        n = (struct names){ "" };
        assert_int_equal(cputree_list(dir_fd, NULL, "cpufreq", &s, NULL, collect, &n), 0);
        assert_string_equal(n.text, "policy1 ");
        /* a directory of a CPU not shown cannot be listed */
        assert_int_equal(cputree_list(dir_fd, NULL, "cpu0", &s, NULL, collect, &n), -ENOENT);
        assert_int_equal(cputree_list(dir_fd, NULL, "cpufreq/policy2", &s, NULL, collect, &n), -ENOENT);
}

static void test_files_cut_to_shown(void **state) {
        /* cpuset 1: its sibling cpu3 and the package's others disappear */
        expect("cpu1/topology/core_cpus_list", "1", "1\n");
        expect("cpu1/topology/thread_siblings", "1", "2\n");
        expect("cpu1/topology/package_cpus_list", "1", "1\n");
        expect("cpu1/topology/core_siblings", "1", "2\n");
        expect("cpu1/cache/index0/shared_cpu_list", "1", "1\n");
        expect("cpu1/cache/index3/shared_cpu_map", "1", "00000000,00000002\n");
        expect("cpu1/topology/core_id", "1", "1\n");
        expect("cpu1/cache/index3/size", "1", "16M\n");
        expect("cpufreq/policy1/related_cpus", "1", "1\n");
        expect("enabled", "1", "1\n");
        expect("kernel_max", "1", "8191\n");
        /* both threads of core 0 shown */
        expect("cpu0/topology/thread_siblings_list", "0,2", "0,2\n");
        expect("cpu0/topology/core_cpus", "0,2", "5\n");
        expect("cpu0/topology/package_cpus_list", "0,2", "0,2\n");
        expect("cpufreq/policy0/related_cpus", "0,2", "0 2\n");
        _cleanup_buf_ struct buf out = { 0 };
        struct cpu_set_bits s = cpus("1");
        assert_int_equal(cputree_render(dir_fd, "cpu0/topology/core_id", &s, &out), -ENOENT);
        assert_int_equal(cputree_render(dir_fd, "cpufreq/policy0/related_cpus", &s, &out), -ENOENT);
}

static void test_stat(void **state) {
        struct cpu_set_bits s = cpus("1");
        struct stat st;

        /* c/<id>/'s tree: the rendering's size (busybox cat's sendfile stops at it) */
        assert_int_equal(cputree_stat(dir_fd, "run-1", "cpu1/topology/core_cpus_list", &s, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 0222, 0); /* read-only */
        assert_int_equal(st.st_size, 2);         /* "1\n", not the host's "1,3\n" */
        assert_int_equal(st.st_ino, cputree_ino("run-1", "cpu1/topology/core_cpus_list"));
        /* the shared tree: 0 for a file that reads per reader (its page
         * cache would hold one reader's figures for another's sendfile),
         * the size for one that reads the same for all */
        assert_int_equal(cputree_stat(dir_fd, NULL, "cpu1/topology/core_cpus_list", &s, &st), 0);
        assert_int_equal(st.st_size, 0);
        assert_int_equal(st.st_ino, cputree_ino(NULL, "cpu1/topology/core_cpus_list"));
        assert_int_equal(cputree_stat(dir_fd, NULL, "cpu1/cache/index3/shared_cpu_map", &s, &st), 0);
        assert_int_equal(st.st_size, 0);
        assert_int_equal(cputree_stat(dir_fd, NULL, "cpu1/topology/core_id", &s, &st), 0);
        assert_int_equal(st.st_size, 2);
        assert_int_equal(cputree_stat(dir_fd, NULL, "cpu1", &s, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 0222, 0);
        assert_int_equal(cputree_stat(dir_fd, NULL, "cpu1/node0", &s, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        assert_int_equal(st.st_size, strlen("../../node/node0"));
        assert_int_equal(cputree_stat(dir_fd, NULL, "cpu0", &s, &st), -ENOENT);
        assert_int_equal(cputree_stat(dir_fd, NULL, "cpu3/topology", &s, &st), -ENOENT);
        assert_int_equal(cputree_stat(dir_fd, NULL, "cpu1/nothing", &s, &st), -ENOENT);
}

static int learned;
static const char *learn_below; /* every path learned starts with it */
static void count(uint64_t ino, const char *rel, void *ctx) {
        if (learn_below)
                assert_int_equal(strncmp(rel, learn_below, strlen(learn_below)), 0);
        assert_int_equal(ino, cputree_ino(ctx, rel));
        learned++;
}

static void test_inodes(void **state) {
        char rel[PATH_MAX];
        const char *paths[] = { "cpu1", "cpu1/cache/index3/shared_cpu_map", "vulnerabilities/meltdown",
                                "cpufreq/policy2/affected_cpus", "kernel_max", "cpu3/node0" };

        static const char *const ids[] = { NULL, "run-1", "run-2" };

        assert_int_not_equal(cputree_ino(NULL, "cpu1/topology/core_id"), cputree_ino(NULL, "cpu3/topology/core_id"));
        assert_true(cputree_is_ino(cputree_ino(NULL, "cpu0")));
        assert_false(cputree_is_c_ino(cputree_ino(NULL, "cpu0")));
        /* each container's tree: inodes of its own, apart from the shared
         * tree's and from c/'s fixed nodes (cnodes.h) */
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                uint64_t a = cputree_ino("run-1", paths[i]), b = cputree_ino("run-2", paths[i]);
                assert_true(cputree_is_c_ino(a) && cputree_is_ino(a) && !cnodes_is_ino(a));
                assert_int_not_equal(a, b);
                assert_int_not_equal(a, cputree_ino(NULL, paths[i]));
        }
        assert_true(cputree_ino("run-1", "cpu8191/x") < CNODE_INO_BASE);
        assert_true(cputree_ino(NULL, "cpu8191/x") < CPUTREE_C_INO_BASE);
        /* a fresh process finds every path from its inode and id alone */
        for (size_t k = 0; k < ELEMENTSOF(ids); k++)
                for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                        learned = 0;
                        assert_int_equal(cputree_find(dir_fd, ids[k], cputree_ino(ids[k], paths[i]), rel, count,
                                                      (void *)ids[k]),
                                         0);
                        assert_string_equal(rel, paths[i]);
                }
        /* another container's inode is no path of this one's (nor shared) */
        assert_int_equal(cputree_find(dir_fd, "run-2", cputree_ino("run-1", "cpu1"), rel, NULL, NULL), -ESTALE);
        assert_int_equal(cputree_find(dir_fd, "run-2", cputree_ino("run-1", "kernel_max"), rel, NULL, NULL), -ESTALE);
        assert_int_equal(cputree_find(dir_fd, NULL, cputree_ino("run-1", "kernel_max"), rel, NULL, NULL), -ESTALE);
        assert_int_equal(cputree_find(dir_fd, "run-1", cputree_ino(NULL, "kernel_max"), rel, NULL, NULL), -ESTALE);
        /* the walk for a cpuN inode stays below cpuN */
        for (size_t k = 0; k < ELEMENTSOF(ids); k++) {
                learned = 0;
                learn_below = "cpu2/";
                assert_int_equal(cputree_find(dir_fd, ids[k], cputree_ino(ids[k], "cpu2/cache/index3/nothing"), rel,
                                              count, (void *)ids[k]),
                                 -ESTALE);
                learn_below = NULL;
                assert_true(learned > 0);
        }
        assert_int_equal(cputree_find(dir_fd, NULL, 42, rel, NULL, NULL), -ESTALE);
}

/* what the kernel may cache: only what every reader past the gates sees alike */
static void test_caching(void **state) {
        assert_true(cputree_is_gate("cpu1"));
        assert_true(cputree_is_gate("cpufreq/policy3"));
        assert_false(cputree_is_gate("cpu1/topology"));
        assert_false(cputree_is_gate("cpufreq"));
        assert_false(cputree_is_gate("cpuidle"));
        assert_false(cputree_is_gate("cpufreq/policy3/related_cpus"));
        assert_false(cputree_same_for_all("cpu1", S_IFDIR));
        assert_true(cputree_same_for_all("cpu1/topology", S_IFDIR));
        assert_true(cputree_same_for_all("cpu1/topology/core_id", S_IFREG));
        assert_false(cputree_same_for_all("cpu1/topology/core_cpus_list", S_IFREG));
        assert_false(cputree_same_for_all("cpu1/cache/index3/shared_cpu_map", S_IFREG));
        assert_false(cputree_same_for_all("isolated", S_IFREG));
        assert_true(cputree_same_for_all("kernel_max", S_IFREG));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_top_listing),
                cmocka_unit_test(test_files_cut_to_shown),
                cmocka_unit_test(test_stat),
                cmocka_unit_test(test_inodes),
                cmocka_unit_test(test_caching),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
