/* fs/pidcg.c against the real /proc: a kept fd of /proc/PID/cgroup answers
 * with the process's cgroups as they are at each read, and never for another
 * process that got the same number. The moves and the pid reuse need root
 * (a cgroup of our own, a pid namespace); without it they are skipped. */
#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fileio.h"
#include "macro.h"
#include "pidcg.h"

/* TEXT written to PATH in one write: 0 or -errno */
static int write_file(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, text, strlen(text));
        close(fd);
        return r;
}

static char cg_dir[256];  /* our cgroup, made by need_cgroup(); "" when none */

/* a cgroup of our own in some hierarchy we may write: the unified one of a
 * hybrid host, a v2 host's, or v1 pids */
static bool need_cgroup(void) {
        static const char *const roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup", "/sys/fs/cgroup/pids" };
        struct statfs sf;

        if (geteuid() != 0)
                return false;
        for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
                char procs[300];
                snprintf(procs, sizeof(procs), "%s/cgroup.procs", roots[i]);
                if (statfs(roots[i], &sf) < 0 || access(procs, W_OK) < 0 ||
                    (sf.f_type != CGROUP2_SUPER_MAGIC && sf.f_type != CGROUP_SUPER_MAGIC))
                        continue;
                snprintf(cg_dir, sizeof(cg_dir), "%s/curate-test-pidcg-%d", roots[i], (int)getpid());
                if (mkdir(cg_dir, 0755) == 0)
                        return true;
        }
        cg_dir[0] = 0;
        return false;
}

static void move_to(const char *dir, pid_t pid) {
        char path[300], num[32];
        snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
        snprintf(num, sizeof(num), "%d", (int)pid);
        assert_int_equal(write_file(path, num), 0);
}

static pid_t kids[128];  /* sleepers not reaped yet (a failed assertion) */

static int teardown_cgroup(void **state) {
        for (size_t i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
                if (kids[i] > 0) {
                        kill(kids[i], SIGKILL);
                        (void)waitpid(kids[i], NULL, 0);
                        kids[i] = 0;
                }
        if (cg_dir[0])
                (void)rmdir(cg_dir);
        cg_dir[0] = 0;
        return 0;
}

/* a child that waits until killed */
static pid_t sleeper(void) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                for (;;)
                        pause();
        }
        for (size_t i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
                if (!kids[i]) {
                        kids[i] = pid;
                        break;
                }
        return pid;
}

static void reap(pid_t pid) {
        for (size_t i = 0; i < sizeof(kids) / sizeof(kids[0]); i++)
                if (kids[i] == pid)
                        kids[i] = 0;
        kill(pid, SIGKILL);
        (void)waitpid(pid, NULL, 0);
}

/* the text straight from /proc, for comparison */
static char *direct(int root_fd, pid_t pid) {
        char path[64], *text = NULL;
        snprintf(path, sizeof(path), "proc/%d/cgroup", (int)pid);
        assert_int_equal(read_file_at(root_fd, path, &text, NULL), 0);
        return text;
}

static void test_reads_and_keeps(void **state) {
        int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        uint64_t gen = pidcg_generation();
        char buf[4096];
        pid_t child = sleeper();
        _cleanup_free_ char *want = direct(root, child);
        int before = pidcg_kept_fds();

        assert_int_equal(pidcg_read(root, gen, child, buf, sizeof(buf)), (int)strlen(want));
        assert_string_equal(buf, want);
        assert_int_equal(pidcg_kept_fds(), before + 1);
        /* read again through the kept fd: same text, no new fd */
        memset(buf, 'x', sizeof(buf));
        assert_int_equal(pidcg_read(root, gen, child, buf, sizeof(buf)), (int)strlen(want));
        assert_string_equal(buf, want);
        assert_int_equal(pidcg_kept_fds(), before + 1);
        /* too small a buffer: EFBIG, never a cut text */
        assert_int_equal(pidcg_read(root, gen, child, buf, 4), -EFBIG);

        /* gone: ENOENT, and its fd is dropped */
        reap(child);
        assert_int_equal(pidcg_read(root, gen, child, buf, sizeof(buf)), -ENOENT);
        assert_int_equal(pidcg_kept_fds(), before);
        assert_int_equal(pidcg_read(root, gen, 0, buf, sizeof(buf)), -EINVAL);
        close(root);
}

/* fds of ours open on some /proc/N/cgroup */
static int cgroup_fds(void) {
        char path[64], target[256];
        int n = 0;
        for (int fd = 0; fd < 4096; fd++) {
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
                ssize_t len = readlink(path, target, sizeof(target) - 1);
                if (len <= 0)
                        continue;
                target[len] = 0;
                size_t l = strlen(target);
                if (strncmp(target, "/proc/", 6) == 0 && l > 7 && strcmp(target + l - 7, "/cgroup") == 0)
                        n++;
        }
        return n;
}

/* Many readers: at most one fd a slot stays open, the count matches the
 * fds really open, and once the readers are gone and asked for again no fd
 * is left. */
static void test_bounded(void **state) {
        int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        uint64_t gen = pidcg_generation();
        char buf[4096];
        pid_t kid[100];

        assert_int_equal(cgroup_fds(), pidcg_kept_fds());
        for (size_t i = 0; i < 100; i++) {
                kid[i] = sleeper();
                assert_true(pidcg_read(root, gen, kid[i], buf, sizeof(buf)) > 0);
        }
        assert_true(pidcg_kept_fds() > 0);
        assert_true(pidcg_kept_fds() <= 32);
        assert_int_equal(cgroup_fds(), pidcg_kept_fds());
        for (size_t i = 0; i < 100; i++)
                reap(kid[i]);
        for (size_t i = 0; i < 100; i++)
                assert_int_equal(pidcg_read(root, gen, kid[i], buf, sizeof(buf)), -ENOENT);
        assert_int_equal(pidcg_kept_fds(), 0);
        assert_int_equal(cgroup_fds(), 0);
        close(root);
}

/* A fixture tree's file (not procfs) is read each time, never kept. */
static void test_fixture_not_kept(void **state) {
        int root = open(FIXTURES "/v1", O_PATH | O_DIRECTORY | O_CLOEXEC);
        char buf[4096];
        int before = pidcg_kept_fds();

        assert_true(root >= 0);
        assert_true(pidcg_read(root, pidcg_generation(), 200, buf, sizeof(buf)) > 0);
        assert_non_null(strstr(buf, "/box"));
        assert_int_equal(pidcg_kept_fds(), before);
        close(root);
}

/* A move between two reads shows at the next read: the kept fd is read
 * afresh, nothing is remembered but the open. */
static void test_move_seen(void **state) {
        if (!need_cgroup())
                skip();
        int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        uint64_t gen = pidcg_generation();
        char buf[4096];
        pid_t child = sleeper();
        const char *name = strrchr(cg_dir, '/');
        _cleanup_free_ char *home = direct(root, child);

        assert_true(pidcg_read(root, gen, child, buf, sizeof(buf)) > 0);
        assert_string_equal(buf, home);
        assert_null(strstr(buf, name));
        move_to(cg_dir, child);
        assert_true(pidcg_read(root, gen, child, buf, sizeof(buf)) > 0);
        assert_non_null(strstr(buf, name));
        _cleanup_free_ char *moved = direct(root, child);
        assert_string_equal(buf, moved);
        reap(child);
        close(root);
}

/* The number of a gone process given to another one (a pid namespace of our
 * own, its ns_last_pid set back): the kept fd of the first must not answer
 * for the second. The first sat in our cgroup, the second does not. Runs in
 * a child that is the namespace's init; its exit status says what failed. */
static int reuse_child(const char *name) {
        char dir[] = "/tmp/curate-test-pidcg-XXXXXX", proc[64], buf[4096];
        if (!mkdtemp(dir))
                return 10;
        snprintf(proc, sizeof(proc), "%s/proc", dir);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || mkdir(proc, 0755) < 0 ||
            mount("proc", proc, "proc", 0, NULL) < 0)
                return 11;
        int root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        uint64_t gen = pidcg_generation();
        int rc = 0;

        pid_t a = sleeper();
        if (a != 2)
                rc = 12;
        else if (move_to(cg_dir, a), pidcg_read(root, gen, a, buf, sizeof(buf)) <= 0 || !strstr(buf, name))
                rc = 13;
        reap(a);
        char last[128];
        snprintf(last, sizeof(last), "%s/sys/kernel/ns_last_pid", proc);
        if (!rc && write_file(last, "1") != 0)
                rc = 14;
        pid_t b = rc ? -1 : sleeper();
        if (!rc && b != a)
                rc = 15;
        if (!rc) {
                int n = pidcg_read(root, gen, b, buf, sizeof(buf));
                char path[64], *want = NULL;
                snprintf(path, sizeof(path), "proc/%d/cgroup", (int)b);
                if (n <= 0 || read_file_at(root, path, &want, NULL) < 0)
                        rc = 16;
                else if (strstr(buf, name) || strcmp(buf, want) != 0)
                        rc = 17;  /* answered for the gone process */
                free(want);
        }
        if (b > 0)
                reap(b);
        close(root);
        umount2(proc, MNT_DETACH);
        rmdir(proc);
        rmdir(dir);
        return rc;
}

static void test_pid_reused(void **state) {
        if (!need_cgroup())
                skip();
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0)
                        _exit(20);
                pid_t init = fork();
                if (init == 0)
                        _exit(reuse_child(strrchr(cg_dir, '/')));
                int st;
                if (init < 0 || waitpid(init, &st, 0) < 0)
                        _exit(21);
                _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 22);
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_reads_and_keeps, teardown_cgroup),
                cmocka_unit_test(test_fixture_not_kept),
                cmocka_unit_test_teardown(test_bounded, teardown_cgroup),
                cmocka_unit_test_teardown(test_move_seen, teardown_cgroup),
                cmocka_unit_test_teardown(test_pid_reused, teardown_cgroup),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
