#include "config.h"
/* sysinfo(2) for a container: the pure computation (fs/view-sysinfo.c) and
 * curate_sysinfo() on the fixture trees, against the views' own figures. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "curatefs.h"
#include "views.h"
#include "sysinfo-notify.h"
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <sys/wait.h>

#define MiB (1024ULL * 1024)

static const struct sysinfo host = {
        .uptime = 123457, .loads = { 300000, 200000, 100000 },
        .totalram = 6000000, .freeram = 5000000, .sharedram = 1000, .bufferram = 2000,
        .totalswap = 1000000, .freeswap = 900000, .procs = 900,
        .totalhigh = 0, .freehigh = 0, .mem_unit = 4096,
};

static void test_no_inputs_is_the_host(void **state) {
        struct sysinfo si;
        struct sysinfo_inputs in = { 0 };

        assert_int_equal(sysinfo_view_compute(&host, &in, &si), 0);
        /* the same sizes, in bytes (mem_unit 1 fits on 64-bit) */
        assert_int_equal((uint64_t)si.totalram * si.mem_unit, 6000000ULL * 4096);
        assert_int_equal((uint64_t)si.freeswap * si.mem_unit, 900000ULL * 4096);
        assert_int_equal((uint64_t)si.bufferram * si.mem_unit, 2000ULL * 4096);
        assert_int_equal(si.uptime, host.uptime);
        assert_int_equal(si.loads[0], host.loads[0]);
        assert_int_equal(si.procs, host.procs);
}

static void test_memory_replaced(void **state) {
        struct mem_view mv = { .mem_total = 300 * MiB, .mem_free = 200 * MiB, .mem_available = 250 * MiB,
                               .swap_total = 100 * MiB, .swap_free = 60 * MiB };
        struct cg_memory m = { .limit = 300 * MiB, .usage = 100 * MiB, .shmem = 5 * MiB };
        struct sysinfo_inputs in = { .mem = &mv, .m = &m };
        struct sysinfo si;

        assert_int_equal(sysinfo_view_compute(&host, &in, &si), 0);
        assert_int_equal(si.mem_unit, 1);
        assert_int_equal(si.totalram, 300 * MiB);
        assert_int_equal(si.freeram, 200 * MiB);
        assert_int_equal(si.sharedram, 5 * MiB);
        assert_int_equal(si.bufferram, 0);
        assert_int_equal(si.totalswap, 100 * MiB);
        assert_int_equal(si.freeswap, 60 * MiB);
        assert_int_equal(si.totalhigh, 0);
        assert_int_equal(si.freehigh, 0);
        /* what was not given stays the host's */
        assert_int_equal(si.uptime, host.uptime);
        assert_int_equal(si.procs, host.procs);
        /* shmem not exposed, or above the total: never more than the total */
        m.shmem = CG_NONE;
        assert_int_equal(sysinfo_view_compute(&host, &in, &si), 0);
        assert_int_equal(si.sharedram, 0);
        m.shmem = 400 * MiB;
        assert_int_equal(sysinfo_view_compute(&host, &in, &si), 0);
        assert_int_equal(si.sharedram, 300 * MiB);
}

static void test_loads_uptime_procs(void **state) {
        /* 1.00, 0.50, 0.25 in the kernel's FSHIFT 11 fixed point */
        struct loadavg_state load = { { LOAD_FIXED_1, LOAD_FIXED_1 / 2, LOAD_FIXED_1 / 4 } };
        uint64_t ticks = 150;
        unsigned procs = 7;
        struct sysinfo_inputs in = { .load = &load, .uptime_ticks = &ticks, .procs = &procs };
        struct sysinfo si;

        assert_int_equal(sysinfo_view_compute(&host, &in, &si), 0);
        /* SI_LOAD_SHIFT 16 */
        assert_int_equal(si.loads[0], 65536);
        assert_int_equal(si.loads[1], 32768);
        assert_int_equal(si.loads[2], 16384);
        /* rounded up to the next second, as do_sysinfo() does */
        assert_int_equal(si.uptime, 2);
        ticks = 200;
        assert_int_equal(sysinfo_view_compute(&host, &in, &si), 0);
        assert_int_equal(si.uptime, 2);
        ticks = 0;
        assert_int_equal(sysinfo_view_compute(&host, &in, &si), 0);
        assert_int_equal(si.uptime, 0);
        assert_int_equal(si.procs, 7);
        /* procs is an unsigned short */
        procs = 70000;
        assert_int_equal(sysinfo_view_compute(&host, &in, &si), 0);
        assert_int_equal(si.procs, USHRT_MAX);
}

static void test_bad_arguments(void **state) {
        struct sysinfo si;
        struct sysinfo_inputs in = { 0 };

        assert_int_equal(sysinfo_view_compute(NULL, &in, &si), -EINVAL);
        assert_int_equal(sysinfo_view_compute(&host, NULL, &si), -EINVAL);
        assert_int_equal(sysinfo_view_compute(&host, &in, NULL), -EINVAL);
}

/* ---- curate_sysinfo on the fixture trees ---- */

static uint64_t fake_now;
static uint64_t fake_clock(void) { return fake_now; }
static void no_log(const char *msg) { (void)msg; }

static int setup(void **state, const char *tree) {
        struct curate *c = calloc(1, sizeof(*c));
        char root[512];

        snprintf(root, sizeof(root), "%s/%s", FIXTURES, tree);
        assert_int_equal(curate_init(c, root, no_log), 0);
        fake_now = 1000000000000ULL;
        c->now = fake_clock;
        *state = c;
        return 0;
}
static int setup_v1(void **state) { return setup(state, "v1"); }
static int setup_v2(void **state) { return setup(state, "v2"); }
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

/* The limited reader 200 gets what its views say. */
static void check_as_views(struct curate *c) {
        struct sysinfo si;
        char *mi, *la, *up;
        unsigned long long total_kb = 0, swap_kb = 0;
        unsigned run, tot;
        double l1, l5, l15, u;

        assert_int_equal(curate_sysinfo(c, 200, &si), 0);
        mi = render(c, VIEW_MEMINFO, 200);
        assert_non_null(strstr(mi, "MemTotal:"));
        assert_int_equal(sscanf(strstr(mi, "MemTotal:"), "MemTotal: %llu", &total_kb), 1);
        assert_int_equal(sscanf(strstr(mi, "SwapTotal:"), "SwapTotal: %llu", &swap_kb), 1);
        assert_int_equal(si.mem_unit, 1);
        assert_int_equal(si.totalram / 1024, total_kb);
        assert_int_equal(si.totalswap / 1024, swap_kb);
        assert_true(si.freeram <= si.totalram);
        assert_int_equal(si.bufferram, 0);
        assert_int_equal(si.totalhigh, 0);
        la = render(c, VIEW_LOADAVG, 200);
        assert_int_equal(sscanf(la, "%lf %lf %lf %u/%u", &l1, &l5, &l15, &run, &tot), 5);
        assert_int_equal(si.procs, tot);
        assert_true(si.loads[0] / 65536.0 - l1 < 0.011 && l1 - si.loads[0] / 65536.0 < 0.011);
        up = render(c, VIEW_UPTIME, 200);
        assert_int_equal(sscanf(up, "%lf", &u), 1);
        assert_true(si.uptime >= u && si.uptime <= u + 1);
        free(mi);
        free(la);
        free(up);
}

static void test_limited_reader_v1(void **state) {
        struct curate *c = *state;
        struct sysinfo si;

        check_as_views(c);
        assert_int_equal(curate_sysinfo(c, 200, &si), 0);
        assert_int_equal(si.totalram, 262144ULL * 1024);
}

static void test_limited_reader_v2(void **state) {
        check_as_views(*state);
}

/* A reader in the root cgroups gets the host's answer: the daemon's own. */
static void test_root_reader_is_host(void **state) {
        struct sysinfo si, real;

        assert_int_equal(curate_sysinfo(*state, 100, &si), 0);
        assert_int_equal(sysinfo(&real), 0);
        assert_int_equal((uint64_t)si.totalram * si.mem_unit, (uint64_t)real.totalram * real.mem_unit);
}

static void test_unknown_or_broken_reader(void **state) {
        struct curate *c = *state;
        struct sysinfo si;

        assert_int_equal(curate_sysinfo(c, 99999, &si), -ESRCH);
        assert_int_equal(curate_sysinfo(c, 0, &si), -EIO);
        /* malformed cgroup files: EIO, never the host's figures */
        assert_int_equal(curate_sysinfo(c, 600, &si), -EIO);
}


/* The registration a launcher writes: "PID START FD". A number that would
 * wrap into another pid (or fd) is malformed, never taken for it. */
static void write_reg(int dir, const char *name, const char *text) {
        int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

/* A slot's owner is gone once it is a zombie, not only once it is reaped:
 * kill(pid, 0) still succeeds on a zombie (an orphan pid 1 reaps late). */
static void test_pid_gone(void **state) {
        int fds[2];
        char c;
        assert_int_equal(pipe(fds), 0);
        pid_t live = fork();
        assert_true(live >= 0);
        if (live == 0) {
                close(fds[1]);
                (void)!read(fds[0], &c, 1); /* until the parent closes */
                _exit(0);
        }
        close(fds[0]);
        pid_t zombie = fork();
        assert_true(zombie >= 0);
        if (zombie == 0)
                _exit(0);
        /* the zombie: exited, not waited for */
        for (int i = 0; i < 1000; i++) {
                siginfo_t si = { 0 };
                if (waitid(P_PID, zombie, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == zombie)
                        break;
                usleep(1000);
        }
        assert_int_equal(kill(zombie, 0), 0);
        assert_true(sysinfo_pid_gone(zombie));
        assert_false(sysinfo_pid_gone(live));
        assert_false(sysinfo_pid_gone(getpid()));
        assert_false(sysinfo_pid_gone(0));
        close(fds[1]);
        assert_int_equal(waitpid(live, NULL, 0), live);
        assert_int_equal(waitpid(zombie, NULL, 0), zombie);
        assert_true(sysinfo_pid_gone(zombie)); /* reaped: ESRCH (no pid reuse this fast) */
}

static void test_registration_read(void **state) {
        char dir[] = "/tmp/test-sysinfo-reg.XXXXXX";
        struct sysinfo_reg reg;
        assert_non_null(mkdtemp(dir));
        int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(d >= 0);

        write_reg(d, "run-1", "1234 5678 7\n");
        assert_int_equal(sysinfo_reg_read(d, "run-1", &reg), 0);
        assert_int_equal(reg.pid, 1234);
        assert_int_equal(reg.start, 5678);
        assert_int_equal(reg.fd, 7);
        const char *bad[] = { "4294967297 5678 7\n", "1234 5678 4294967303\n", "0 1 2\n", "-5 1 2\n", "1234 x 7\n", "" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                write_reg(d, "run-2", bad[i]);
                assert_int_equal(sysinfo_reg_read(d, "run-2", &reg), -EINVAL);
        }
        assert_int_equal(sysinfo_reg_read(d, "../x", &reg), -EINVAL);
        unlinkat(d, "run-1", 0);
        unlinkat(d, "run-2", 0);
        close(d);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_no_inputs_is_the_host),
                cmocka_unit_test(test_memory_replaced),
                cmocka_unit_test(test_loads_uptime_procs),
                cmocka_unit_test(test_bad_arguments),
                cmocka_unit_test_setup_teardown(test_limited_reader_v1, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_limited_reader_v2, setup_v2, teardown),
                cmocka_unit_test_setup_teardown(test_root_reader_is_host, setup_v1, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_or_broken_reader, setup_v1, teardown),
                cmocka_unit_test(test_registration_read),
                cmocka_unit_test(test_pid_gone),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
