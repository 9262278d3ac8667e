#include "config.h"
/* The policy model, its value parsers, the INI loader and the shipped
 * policy files. No privileges needed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include "macro.h"
#include "policy.h"

#define CAP(x) (1ULL << (x))
#define SENTINEL UINT64_C(0x5a5a5a5a)

static void policy_donep(struct policy *p) {
        policy_done(p);
}
#define _cleanup_policy_ _cleanup_(policy_donep)

static bool has_str(char *const *l, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

static void load_ok(struct policy *p, const char *text) {
        _cleanup_free_ char *error = NULL;
        int r = policy_load_string(p, "t.conf", text, &error);
        if (r < 0)
                fail_msg("loading failed (%d): %s\n--- text:\n%s", r, error ? error : "(no message)", text);
}

/* A base policy with something in every field, so that "unchanged" and
 * "replaced" are visible. */
static void base_policy(struct policy *ret) {
        assert_int_equal(policy_init_default(ret), 0);
        ret->memory = 1 << 30;
        ret->memory_swap = 2u << 30;
        ret->cpus_milli = 1500;
        ret->pids = 77;
        ret->cpuset = strdup("0-1");
        ret->rootfs = strdup("/srv/root");
        ret->pid_ns = true;
        ret->propagation = POLICY_PROPAGATION_SLAVE;
        assert_int_equal(policy_add_mount(ret, POLICY_BIND, "/b", "/b2"), 0);
        assert_int_equal(policy_add_mount(ret, POLICY_TMPFS, NULL, "/t"), 0);
        assert_int_equal(policy_add_mount(ret, POLICY_RO_BIND, "/r", "/r2"), 0);
}

/* ---- value parsers ---- */

static void test_parse_size(void **state) {
        static const struct {
                const char *s;
                uint64_t v;
        } good[] = {
                { "0", 0 }, { "4096", 4096 }, { "512K", 512 << 10 }, { "256M", 256 << 20 },
                { "1G", 1ULL << 30 }, { "1T", 1ULL << 40 }, { "3g", 3ULL << 30 }, { "2k", 2048 },
                { "max", POLICY_MAX },
                { "18446744073709551613", UINT64_MAX - 2 },     /* the largest number that is not max/unset */
                { "16777215T", UINT64_MAX - (1ULL << 40) + 1 }, /* the largest in T */
        };
        static const char *const bad[] = {
                "", "12Q", "1.5G", "-1", "+1", " 1", "1 ", "1KB", "K", "max1", "MAX", "1 G",
                "18446744073709551616", /* 2^64 */
                "18446744073709551615", /* UINT64_MAX: would read as unset */
                "18446744073709551614", /* would read as max */
                "16777216T", "17179869184G", "99999999999999999999999",
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                uint64_t v = SENTINEL;
                assert_int_equal(policy_parse_size(good[i].s, &v), 0);
                assert_true(v == good[i].v);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                uint64_t v = SENTINEL;
                if (policy_parse_size(bad[i], &v) != -EINVAL)
                        fail_msg("size '%s' accepted", bad[i]);
                assert_true(v == SENTINEL); /* written only on success */
        }
}

static void test_parse_count(void **state) {
        uint64_t v = SENTINEL;
        assert_int_equal(policy_parse_count("100", &v), 0);
        assert_int_equal(v, 100);
        assert_int_equal(policy_parse_count("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(policy_parse_count("max", &v), 0);
        assert_true(v == POLICY_MAX);
        v = SENTINEL;
        static const char *const bad[] = { "", "1K", "-1", "1.0", "abc", "18446744073709551614", "18446744073709551616" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (policy_parse_count(bad[i], &v) != -EINVAL)
                        fail_msg("count '%s' accepted", bad[i]);
        assert_true(v == SENTINEL);
}

static void test_parse_cpus(void **state) {
        static const struct {
                const char *s;
                uint64_t milli;
        } good[] = {
                { "0.5", 500 }, { "1.25", 1250 }, { "1", 1000 }, { "1.5", 1500 }, { "2.000", 2000 },
                { "0.01", 10 }, { "64", 64000 }, { "0.05", 50 }, { "0.011", 11 },
        };
        static const char *const bad[] = {
                "0", "0.0", "0.000", "-1", "1.2345", "abc", "", ".5", "1.", "1,5", "1e3", " 1", "1 ", "+1",
                "max", "99999999999999999999",
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                uint64_t v = SENTINEL;
                assert_int_equal(policy_parse_cpus(good[i].s, &v), 0);
                assert_int_equal(v, good[i].milli);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                uint64_t v = SENTINEL;
                if (policy_parse_cpus(bad[i], &v) != -EINVAL)
                        fail_msg("cpus '%s' accepted", bad[i]);
                assert_true(v == SENTINEL);
        }
        /* below the kernel's smallest quota, 1 ms per 100 ms period */
        for (const char *const *t = (const char *const[]){ "0.001", "0.005", "0.009", NULL }; *t; t++) {
                uint64_t v = SENTINEL;
                assert_int_equal(policy_parse_cpus(*t, &v), -ERANGE);
                assert_true(v == SENTINEL);
        }
}

static void test_parse_cpuset(void **state) {
        static const struct {
                const char *in, *out;
        } good[] = {
                { "0-3,8", "0-3,8" }, { "8,0-3", "0-3,8" }, { "0,1,2,3", "0-3" }, { "3", "3" },
                { "0-1,1-2", "0-2" }, { "5,7", "5,7" }, { "2-2", "2" }, { "3,1,2,10-11", "1-3,10-11" },
        };
        static const char *const bad[] = {
                "3-1", "a", "", "1,,2", ",1", "1,", "1-", "-1", "0-3 ,8", "0-3, 8", " 1", "1--2", "0-3-5",
                "0-99999", "1\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ char *s = NULL;
                assert_int_equal(policy_parse_cpuset(good[i].in, &s), 0);
                assert_string_equal(s, good[i].out);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *s = (char *)"untouched";
                if (policy_parse_cpuset(bad[i], &s) != -EINVAL)
                        fail_msg("cpuset '%s' accepted", bad[i]);
                assert_string_equal(s, "untouched");
        }
}

static void test_parse_views(void **state) {
        unsigned v = 12345;
        assert_int_equal(policy_parse_views("meminfo", &v), 0);
        assert_int_equal(v, 1u << POLICY_VIEW_MEMINFO);
        assert_int_equal(policy_parse_views("meminfo,stat", &v), 0);
        assert_int_equal(v, (1u << POLICY_VIEW_MEMINFO) | (1u << POLICY_VIEW_STAT));
        assert_int_equal(policy_parse_views("cpu-online  diskstats", &v), 0);
        assert_int_equal(v, (1u << POLICY_VIEW_CPU_ONLINE) | (1u << POLICY_VIEW_DISKSTATS));
        assert_int_equal(policy_parse_views(" swaps,, uptime ,loadavg\t", &v), 0);
        assert_int_equal(v, (1u << POLICY_VIEW_SWAPS) | (1u << POLICY_VIEW_UPTIME) | (1u << POLICY_VIEW_LOADAVG));
        assert_int_equal(policy_parse_views("cpu-tree,vmstat pressure", &v), 0);
        assert_int_equal(v, (1u << POLICY_VIEW_CPU_TREE) | (1u << POLICY_VIEW_VMSTAT) | (1u << POLICY_VIEW_PRESSURE));
        assert_int_equal(policy_parse_views("meminfo cpuinfo stat uptime loadavg swaps diskstats cpu-online "
                                            "cpu-tree vmstat pressure", &v), 0);
        assert_int_equal(v, POLICY_VIEWS_ALL);
        assert_int_equal(policy_parse_views("all", &v), 0);
        assert_int_equal(v, POLICY_VIEWS_ALL);
        assert_int_equal(v, 0x7ff);
        assert_int_equal(policy_parse_views("none", &v), 0);
        assert_int_equal(v, 0);
        v = 7;
        assert_int_equal(policy_parse_views("", &v), 0);
        assert_int_equal(v, 0);
        v = 7;
        assert_int_equal(policy_parse_views("foo", &v), -EINVAL);
        assert_int_equal(policy_parse_views("meminfo foo", &v), -EINVAL);
        assert_int_equal(policy_parse_views("MEMINFO", &v), -EINVAL);
        assert_int_equal(policy_parse_views("cpu_online", &v), -EINVAL);
        assert_int_equal(policy_parse_views("mem", &v), -EINVAL);
        assert_int_equal(v, 7);
        /* the table the launcher mounts from */
        assert_string_equal(policy_views[POLICY_VIEW_MEMINFO].source, "proc/meminfo");
        assert_string_equal(policy_views[POLICY_VIEW_MEMINFO].target, "/proc/meminfo");
        assert_string_equal(policy_views[POLICY_VIEW_CPU_ONLINE].name, "cpu-online");
        assert_string_equal(policy_views[POLICY_VIEW_CPU_ONLINE].source, "sys/devices/system/cpu/online");
        assert_string_equal(policy_views[POLICY_VIEW_CPU_ONLINE].target, "/sys/devices/system/cpu/online");
        for (unsigned i = 0; i < _POLICY_VIEW_MAX; i++) {
                assert_non_null(policy_views[i].name);
                assert_string_equal(policy_views[i].target + 1, policy_views[i].source);
        }
}

static void test_parse_capability(void **state) {
        static const struct {
                const char *s;
                int cap;
        } good[] = {
                { "CAP_SYS_ADMIN", CAP_SYS_ADMIN }, { "sys_admin", CAP_SYS_ADMIN }, { "SYS_ADMIN", CAP_SYS_ADMIN },
                { "cap_sys_admin", CAP_SYS_ADMIN }, { "Cap_Net_Raw", CAP_NET_RAW }, { "chown", CAP_CHOWN },
                { "CAP_CHECKPOINT_RESTORE", CAP_CHECKPOINT_RESTORE },
        };
        static const char *const bad[] = {
                "CAP_BOGUS", "", "21", "CAP_21", "CAP_", "cap_chown,cap_kill", "ALL", " CAP_KILL", "CAP_KILL ",
                "CAP_CHOWNX", "SYS-ADMIN", "CAP_CAP_KILL",
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                int cap = -1;
                assert_int_equal(policy_parse_capability(good[i].s, &cap), 0);
                assert_int_equal(cap, good[i].cap);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int cap = -1;
                if (policy_parse_capability(bad[i], &cap) != -EINVAL)
                        fail_msg("capability '%s' accepted", bad[i]);
                assert_int_equal(cap, -1);
        }

        uint64_t caps = SENTINEL;
        assert_int_equal(policy_parse_capabilities("CAP_CHOWN,kill  net_raw", &caps), 0);
        assert_true(caps == (CAP(CAP_CHOWN) | CAP(CAP_KILL) | CAP(CAP_NET_RAW)));
        assert_int_equal(policy_parse_capabilities("ALL", &caps), 0);
        assert_true(caps == policy_caps_all());
        assert_true(policy_caps_all() == (CAP(CAP_LAST_CAP) << 1) - 1);
        assert_int_equal(policy_parse_capabilities("all", &caps), 0);
        assert_true(caps == policy_caps_all());
        assert_int_equal(policy_parse_capabilities("", &caps), 0);
        assert_true(caps == 0);
        caps = SENTINEL;
        assert_int_equal(policy_parse_capabilities("CAP_KILL CAP_BOGUS", &caps), -EINVAL);
        assert_true(caps == SENTINEL);
}

static void test_parse_bool(void **state) {
        static const struct {
                const char *s;
                bool v;
        } good[] = {
                { "yes", true }, { "no", false }, { "true", true }, { "false", false }, { "on", true },
                { "off", false }, { "1", true }, { "0", false }, { "YES", true }, { "Off", false },
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                bool v = !good[i].v;
                assert_int_equal(policy_parse_bool(good[i].s, &v), 0);
                assert_int_equal(v, good[i].v);
        }
        static const char *const bad[] = { "", "2", "yess", "y", "n", "enabled", " yes" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                bool v = true;
                if (policy_parse_bool(bad[i], &v) != -EINVAL)
                        fail_msg("boolean '%s' accepted", bad[i]);
                assert_true(v);
        }
}

static void test_parse_path_propagation(void **state) {
        static const struct {
                const char *in, *out;
        } good[] = {
                { "/usr", "/usr" }, { "/usr/", "/usr" }, { "//usr//lib//", "/usr/lib" }, { "/./usr/./lib/.", "/usr/lib" },
                { "/", "/" }, { "//", "/" }, { "/a b", "/a b" }, { "/..a/b..", "/..a/b.." },
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ char *s = NULL;
                assert_int_equal(policy_parse_path(good[i].in, &s), 0);
                assert_string_equal(s, good[i].out);
        }
        static const char *const bad[] = { "", "usr", "./usr", "/usr/../etc", "/..", "~/x" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *s = (char *)"untouched";
                if (policy_parse_path(bad[i], &s) != -EINVAL)
                        fail_msg("path '%s' accepted", bad[i]);
                assert_string_equal(s, "untouched");
        }

        enum policy_propagation prop = POLICY_PROPAGATION_PRIVATE;
        assert_int_equal(policy_parse_propagation("slave", &prop), 0);
        assert_int_equal(prop, POLICY_PROPAGATION_SLAVE);
        assert_int_equal(policy_parse_propagation("private", &prop), 0);
        assert_int_equal(prop, POLICY_PROPAGATION_PRIVATE);
        assert_int_equal(policy_parse_propagation("shared", &prop), -EINVAL);
        assert_int_equal(policy_parse_propagation("Private", &prop), -EINVAL);
        assert_int_equal(policy_parse_propagation("", &prop), -EINVAL);
        assert_int_equal(prop, POLICY_PROPAGATION_PRIVATE);
}

/* ---- the model ---- */

static void test_init(void **state) {
        _cleanup_policy_ struct policy d = { 0 };
        struct policy e;
        static const char *const masks[] = {
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/proc/interrupts", "/sys/firmware",
        };
        static const char *const ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" };
        const uint64_t caps = CAP(CAP_CHOWN) | CAP(CAP_DAC_OVERRIDE) | CAP(CAP_FOWNER) | CAP(CAP_FSETID) |
                              CAP(CAP_KILL) | CAP(CAP_NET_BIND_SERVICE) | CAP(CAP_SETFCAP) | CAP(CAP_SETGID) |
                              CAP(CAP_SETPCAP) | CAP(CAP_SETUID) | CAP(CAP_SYS_CHROOT);

        policy_init_empty(&e);
        assert_true(e.memory == POLICY_UNSET && e.memory_swap == POLICY_UNSET);
        assert_true(e.cpus_milli == POLICY_UNSET && e.pids == POLICY_UNSET);
        assert_null(e.cpuset);
        assert_null(e.cgroup);
        assert_null(e.rootfs);
        assert_false(e.pid_ns || e.user_ns || e.curated_dev || e.private_tmp);
        assert_int_equal(e.propagation, POLICY_PROPAGATION_PRIVATE);
        assert_int_equal(e.views, 0);
        assert_int_equal(e.n_masks + e.n_read_only + e.n_mounts, 0);
        assert_true(e.caps == 0);

        assert_int_equal(policy_init_default(&d), 0);
        assert_int_equal(d.views, POLICY_VIEWS_ALL);
        assert_true(d.curated_dev);
        assert_true(d.private_tmp);
        /* a default run gets the namespaces docker and podman give */
        assert_true(d.pid_ns && d.ipc_ns && d.uts_ns && d.cgroup_ns);
        assert_false(d.user_ns);
        assert_int_equal(d.net, POLICY_NET_HOST);
        assert_null(d.hostname);
        assert_false(d.read_only_root || d.delegate || d.allow_userns);
        assert_true(d.sysinfo);
        assert_int_equal(d.seccomp, POLICY_SECCOMP_DEFAULT);
        assert_int_equal(d.propagation, POLICY_PROPAGATION_PRIVATE);
        assert_true(d.memory == POLICY_UNSET && d.memory_swap == POLICY_UNSET);
        assert_true(d.cpus_milli == POLICY_UNSET && d.pids == POLICY_UNSET);
        assert_null(d.cpuset);
        assert_null(d.cgroup);
        assert_null(d.rootfs);
        assert_int_equal(d.n_mounts, 0);
        assert_int_equal(d.n_masks, ELEMENTSOF(masks));
        for (size_t i = 0; i < ELEMENTSOF(masks); i++)
                assert_true(has_str(d.masks, d.n_masks, masks[i]));
        assert_int_equal(d.n_read_only, ELEMENTSOF(ro));
        for (size_t i = 0; i < ELEMENTSOF(ro); i++)
                assert_true(has_str(d.read_only, d.n_read_only, ro[i]));
        assert_true(d.caps == caps);
        assert_false(d.caps & (CAP(CAP_SYS_ADMIN) | CAP(CAP_NET_RAW) | CAP(CAP_MKNOD) | CAP(CAP_SYS_RAWIO) |
                               CAP(CAP_SYS_MODULE) | CAP(CAP_SYS_PTRACE) | CAP(CAP_AUDIT_WRITE)));
        assert_false(policy_equal(&d, &e));
}

static void test_copy_equal_done(void **state) {
        _cleanup_policy_ struct policy a = { 0 }, b = { 0 };

        base_policy(&a);
        a.cgroup = strdup("/x");
        a.hostname = strdup("box");
        assert_int_equal(policy_copy(&a, &b), 0);
        assert_ptr_not_equal(a.hostname, b.hostname);
        assert_true(policy_equal(&a, &b));
        /* deep: nothing is shared */
        assert_ptr_not_equal(a.masks, b.masks);
        assert_ptr_not_equal(a.masks[0], b.masks[0]);
        assert_ptr_not_equal(a.mounts[0].dst, b.mounts[0].dst);
        assert_ptr_not_equal(a.cpuset, b.cpuset);
        policy_done(&a);
        policy_done(&a); /* twice is harmless */
        assert_null(a.masks);
        assert_string_equal(b.cpuset, "0-1");
        assert_string_equal(b.mounts[0].src, "/b");
        assert_null(b.mounts[1].src);

        /* every field counts */
        for (int field = 0; field < 29; field++) {
                _cleanup_policy_ struct policy c = { 0 };
                assert_int_equal(policy_copy(&b, &c), 0);
                assert_true(policy_equal(&b, &c));
                switch (field) {
                case 0: c.memory++; break;
                case 1: c.memory_swap++; break;
                case 2: c.cpus_milli++; break;
                case 3: free(c.cpuset); c.cpuset = strdup("0-2"); break;
                case 4: c.pids++; break;
                case 5: free(c.cgroup); c.cgroup = NULL; break;
                case 6: c.pid_ns = !c.pid_ns; break;
                case 7: c.user_ns = !c.user_ns; break;
                case 8: c.propagation = POLICY_PROPAGATION_PRIVATE; break;
                case 9: free(c.rootfs); c.rootfs = strdup("/srv/other"); break;
                case 10: c.views &= ~1u; break;
                case 11: c.curated_dev = !c.curated_dev; break;
                case 12: assert_int_equal(policy_add_mask(&c, "/new"), 0); break;
                case 13: free(c.read_only[0]); c.read_only[0] = strdup("/other"); break;
                case 14: assert_int_equal(policy_add_mount(&c, POLICY_TMPFS, NULL, "/t2"), 0); break;
                case 15: c.mounts[0].kind = POLICY_RO_BIND; break;
                case 16: c.private_tmp = !c.private_tmp; break;
                case 17: c.caps ^= CAP(CAP_NET_RAW); break;
                case 18: { /* mounts stack: their order counts */
                        struct policy_mount t = c.mounts[0];
                        c.mounts[0] = c.mounts[1];
                        c.mounts[1] = t;
                        break;
                }
                case 19: c.delegate = !c.delegate; break;
                case 20: c.ipc_ns = !c.ipc_ns; break;
                case 21: c.uts_ns = !c.uts_ns; break;
                case 22: c.cgroup_ns = !c.cgroup_ns; break;
                case 23: c.net = POLICY_NET_NONE; break;
                case 24: free(c.hostname); c.hostname = strdup("other"); break;
                case 25: c.read_only_root = !c.read_only_root; break;
                case 26: c.seccomp = POLICY_SECCOMP_UNCONFINED; break;
                case 27: c.allow_userns = !c.allow_userns; break;
                case 28: assert_true(c.hostname != NULL); free(c.hostname); c.hostname = NULL; break;
                }
                if (policy_equal(&b, &c) || policy_equal(&c, &b))
                        fail_msg("policy_equal() misses field change %d", field);
        }

        /* masks and read-only paths are sets: their order does not count */
        _cleanup_policy_ struct policy r = { 0 };
        assert_int_equal(policy_copy(&b, &r), 0);
        char *t = r.masks[0];
        r.masks[0] = r.masks[r.n_masks - 1];
        r.masks[r.n_masks - 1] = t;
        assert_true(policy_equal(&b, &r));

        /* copies of empty policies */
        struct policy e, e2;
        policy_init_empty(&e);
        assert_int_equal(policy_copy(&e, &e2), 0);
        assert_true(policy_equal(&e, &e2));
        policy_done(&e2);
}

static void test_edits(void **state) {
        _cleanup_policy_ struct policy p;

        policy_init_empty(&p);
        assert_int_equal(policy_add_mask(&p, "/proc/kcore"), 0);
        assert_int_equal(policy_add_mask(&p, "/proc/kcore/"), 0);  /* the same path */
        assert_int_equal(policy_add_mask(&p, "//proc/./kcore"), 0); /* the same path */
        assert_int_equal(policy_add_mask(&p, "/proc/keys"), 0);
        assert_int_equal(p.n_masks, 2);
        assert_string_equal(p.masks[0], "/proc/kcore");
        assert_string_equal(p.masks[1], "/proc/keys");
        assert_int_equal(policy_add_mask(&p, "proc/x"), -EINVAL);
        assert_int_equal(policy_add_mask(&p, "/proc/../etc"), -EINVAL);
        assert_int_equal(p.n_masks, 2);

        assert_int_equal(policy_add_read_only(&p, "/usr/"), 0);
        assert_int_equal(policy_add_read_only(&p, "/usr"), 0);
        assert_int_equal(policy_add_read_only(&p, "usr"), -EINVAL);
        assert_int_equal(p.n_read_only, 1);
        assert_string_equal(p.read_only[0], "/usr");
        assert_int_equal(p.n_masks, 2); /* separate lists */

        assert_int_equal(policy_add_mount(&p, POLICY_BIND, "/a", "/b"), 0);
        assert_int_equal(policy_add_mount(&p, POLICY_BIND, "/a/", "//b"), 0); /* duplicate */
        assert_int_equal(policy_add_mount(&p, POLICY_RO_BIND, "/a", "/b"), 0); /* another kind */
        assert_int_equal(policy_add_mount(&p, POLICY_TMPFS, NULL, "/scratch"), 0);
        assert_int_equal(policy_add_mount(&p, POLICY_TMPFS, NULL, "/scratch/"), 0);
        assert_int_equal(policy_add_mount(&p, POLICY_BIND, "/c", "/d"), 0);
        assert_int_equal(policy_add_mount(&p, POLICY_TMPFS, "/x", "/scratch"), -EINVAL);
        assert_int_equal(policy_add_mount(&p, POLICY_BIND, NULL, "/b"), -EINVAL);
        assert_int_equal(policy_add_mount(&p, POLICY_BIND, "a", "/b"), -EINVAL);
        assert_int_equal(policy_add_mount(&p, POLICY_BIND, "/a", "b"), -EINVAL);
        assert_int_equal(policy_add_mount(&p, POLICY_BIND, "/a", NULL), -EINVAL);
        assert_int_equal(policy_add_mount(&p, (enum policy_mount_kind)7, "/a", "/b"), -EINVAL);
        assert_int_equal(p.n_mounts, 4);
        assert_int_equal(p.mounts[0].kind, POLICY_BIND);
        assert_string_equal(p.mounts[0].src, "/a");
        assert_string_equal(p.mounts[0].dst, "/b");
        assert_int_equal(p.mounts[1].kind, POLICY_RO_BIND);
        assert_int_equal(p.mounts[2].kind, POLICY_TMPFS);
        assert_null(p.mounts[2].src);
        assert_string_equal(p.mounts[2].dst, "/scratch");
        assert_string_equal(p.mounts[3].src, "/c");

        policy_clear_mounts(&p, POLICY_BIND);
        assert_int_equal(p.n_mounts, 2);
        assert_int_equal(p.mounts[0].kind, POLICY_RO_BIND);
        assert_int_equal(p.mounts[1].kind, POLICY_TMPFS);
        policy_clear_mounts(&p, POLICY_RO_BIND);
        policy_clear_mounts(&p, POLICY_TMPFS);
        assert_int_equal(p.n_mounts, 0);
        assert_null(p.mounts);
        policy_clear_masks(&p);
        assert_int_equal(p.n_masks, 0);
        policy_clear_read_only(&p);
        assert_int_equal(p.n_read_only, 0);
}

static void test_check(void **state) {
        struct policy p;
        const char *reason = NULL;

        policy_init_empty(&p);
        assert_int_equal(policy_check(&p, &reason), 0);
        assert_null(reason);
        p.memory = 512 << 20;
        p.memory_swap = 256 << 20;
        assert_int_equal(policy_check(&p, &reason), -EINVAL);
        assert_string_equal(reason, "MemorySwap (memory + swap) must not be below Memory");
        p.memory_swap = 512 << 20;
        assert_int_equal(policy_check(&p, NULL), 0);
        p.memory_swap = POLICY_MAX;
        assert_int_equal(policy_check(&p, NULL), 0);
        p.memory = POLICY_MAX;
        assert_int_equal(policy_check(&p, NULL), 0);
        p.memory_swap = 1 << 30;
        assert_int_equal(policy_check(&p, NULL), -EINVAL); /* max memory, finite memory + swap */
        p.memory = POLICY_UNSET;
        assert_int_equal(policy_check(&p, NULL), 0); /* MemorySwap alone is accepted */

        policy_init_empty(&p);
        p.cgroup = (char *)"/a";
        assert_int_equal(policy_check(&p, NULL), 0);
        uint64_t *limits[] = { &p.memory, &p.memory_swap, &p.cpus_milli, &p.pids };
        for (size_t i = 0; i < ELEMENTSOF(limits); i++) {
                *limits[i] = POLICY_MAX;
                reason = NULL;
                assert_int_equal(policy_check(&p, &reason), -EINVAL);
                assert_non_null(strstr(reason, "Cgroup"));
                *limits[i] = POLICY_UNSET;
        }
        p.cpuset = (char *)"0";
        assert_int_equal(policy_check(&p, NULL), -EINVAL);
}

/* ---- the loader, section by section ---- */

static void test_load_resources(void **state) {
        _cleanup_policy_ struct policy p = { 0 };

        base_policy(&p);
        load_ok(&p, "[Resources]\nMemory=256M\nMemorySwap=512M\nCPUs=1.5\nCPUSet=8,0-3\nPids=100\n");
        assert_true(p.memory == 256ULL << 20);
        assert_true(p.memory_swap == 512ULL << 20);
        assert_int_equal(p.cpus_milli, 1500);
        assert_string_equal(p.cpuset, "0-3,8");
        assert_int_equal(p.pids, 100);
        assert_null(p.cgroup);
        load_ok(&p, "[Resources]\nMemory=max\nMemorySwap=max\nPids=max\n");
        assert_true(p.memory == POLICY_MAX && p.memory_swap == POLICY_MAX && p.pids == POLICY_MAX);
        /* an empty value unsets */
        load_ok(&p, "[Resources]\nMemory=\nMemorySwap=\nCPUs=\nCPUSet=\nPids=\nCgroup=/some//existing/\n");
        assert_true(p.memory == POLICY_UNSET && p.memory_swap == POLICY_UNSET);
        assert_true(p.cpus_milli == POLICY_UNSET && p.pids == POLICY_UNSET);
        assert_null(p.cpuset);
        assert_string_equal(p.cgroup, "/some/existing");
        load_ok(&p, "[Resources]\nCgroup=\n");
        assert_null(p.cgroup);
        /* limits and Cgroup are judged on the result: set, then unset, is fine */
        load_ok(&p, "[Resources]\nMemory=1G\nCgroup=/a\nMemory=\n");
        assert_string_equal(p.cgroup, "/a");
        assert_true(p.memory == POLICY_UNSET);
        /* memory + swap may follow memory in either order, over any base */
        load_ok(&p, "[Resources]\nCgroup=\nMemorySwap=8G\nMemory=4G\n");
        load_ok(&p, "[Resources]\nMemory=16G\nMemorySwap=16G\n");
        assert_true(p.memory == 16ULL << 30 && p.memory_swap == 16ULL << 30);
}

/* [Process] (issue 10): WorkingDirectory= and User=/Group= replace,
 * Environment=/UnsetEnvironment= append in file order (empty clears) */
static void test_load_process(void **state) {
        _cleanup_policy_ struct policy p = { 0 }, q = { 0 };

        base_policy(&p);
        load_ok(&p, "[Process]\nWorkingDirectory=/srv//x/\nEnvironment=A=1 B=x=y\nUnsetEnvironment=HOME\n"
                    "Environment=C=\nClearEnvironment=yes\nUser=65534\nGroup=100\n");
        assert_string_equal(p.workdir, "/srv/x");
        assert_string_equal(p.origin[POLICY_AT_WORKDIR], "t.conf:2: WorkingDirectory=");
        assert_int_equal(p.n_env, 4);
        assert_string_equal(p.env[0], "A=1");
        assert_string_equal(p.env[1], "B=x=y");
        assert_string_equal(p.env[2], "HOME");
        assert_string_equal(p.env[3], "C=");
        assert_true(p.clear_env);
        assert_int_equal(p.uid, 65534);
        assert_int_equal(p.gid, 100);
        assert_int_equal(policy_copy(&p, &q), 0);
        assert_true(policy_equal(&p, &q));
        assert_string_equal(q.origin[POLICY_AT_WORKDIR], "t.conf:2: WorkingDirectory=");
        q.env[0][2] = '2';
        assert_false(policy_equal(&p, &q));
        load_ok(&p, "[Process]\nEnvironment=\nWorkingDirectory=\nUser=\nGroup=\n");
        assert_int_equal(p.n_env, 0);
        assert_null(p.workdir);
        assert_null(p.origin[POLICY_AT_WORKDIR]);
        assert_true(p.uid == POLICY_ID_UNSET && p.gid == POLICY_ID_UNSET);
        /* the [Namespaces] User= (a user namespace) is another key */
        load_ok(&p, "[Namespaces]\nUser=yes\n");
        assert_true(p.user_ns);
        assert_true(p.uid == POLICY_ID_UNSET);
}

static void test_parse_namespaces(void **state) {
        struct policy p;
        enum policy_net net;
        enum policy_seccomp sc;
        char name65[66];

        policy_init_empty(&p);
        p.pid_ns = p.ipc_ns = p.uts_ns = p.cgroup_ns = true;
        assert_int_equal(policy_parse_share(&p, "pid,ipc"), 0);
        assert_false(p.pid_ns || p.ipc_ns);
        assert_true(p.uts_ns && p.cgroup_ns);
        assert_int_equal(policy_parse_share(&p, "uts cgroup"), 0);
        assert_false(p.uts_ns || p.cgroup_ns);
        assert_int_equal(policy_parse_share(&p, "none"), 0);
        assert_true(p.pid_ns && p.ipc_ns && p.uts_ns && p.cgroup_ns);
        /* an unknown word changes nothing, not even the words before it */
        assert_int_equal(policy_parse_share(&p, "pid,net"), -EINVAL);
        assert_true(p.pid_ns);
        assert_int_equal(policy_parse_share(&p, ""), -EINVAL);
        assert_int_equal(policy_parse_share(&p, " , "), -EINVAL);

        assert_int_equal(policy_parse_net("none", &net), 0);
        assert_int_equal(net, POLICY_NET_NONE);
        assert_int_equal(policy_parse_net("host", &net), 0);
        assert_int_equal(net, POLICY_NET_HOST);
        assert_int_equal(policy_parse_net("None", &net), -EINVAL);
        assert_int_equal(policy_parse_seccomp("unconfined", &sc), 0);
        assert_int_equal(sc, POLICY_SECCOMP_UNCONFINED);
        assert_int_equal(policy_parse_seccomp("", &sc), -EINVAL);

        assert_true(policy_hostname_valid("a"));
        assert_true(policy_hostname_valid("web-1.example.com"));
        assert_false(policy_hostname_valid(""));
        assert_false(policy_hostname_valid(".a"));
        assert_false(policy_hostname_valid("a/b"));
        assert_false(policy_hostname_valid("a_b"));
        memset(name65, 'a', 65);
        name65[65] = 0;
        assert_false(policy_hostname_valid(name65));
        name65[64] = 0;
        assert_true(policy_hostname_valid(name65));
}

static void test_load_namespaces_views(void **state) {
        _cleanup_policy_ struct policy p = { 0 };

        assert_int_equal(policy_init_default(&p), 0);
        load_ok(&p, "[Namespaces]\nPID=yes\nUser=on\nPropagation=slave\nRootFS=/srv/root/\n");
        assert_true(p.pid_ns);
        assert_true(p.user_ns);
        assert_int_equal(p.propagation, POLICY_PROPAGATION_SLAVE);
        assert_string_equal(p.rootfs, "/srv/root");
        load_ok(&p, "[Namespaces]\nPID=0\nUser=false\nPropagation=private\nRootFS=\n");
        assert_false(p.pid_ns || p.user_ns);
        assert_int_equal(p.propagation, POLICY_PROPAGATION_PRIVATE);
        assert_null(p.rootfs);
        /* the namespaces a default run gets, each given up by its key */
        assert_true(p.ipc_ns && p.uts_ns && p.cgroup_ns);
        load_ok(&p, "[Namespaces]\nIPC=no\nUTS=off\nCgroupNS=0\nNetwork=none\nHostname=web-1.example\n");
        assert_false(p.ipc_ns || p.uts_ns || p.cgroup_ns);
        assert_int_equal(p.net, POLICY_NET_NONE);
        assert_string_equal(p.hostname, "web-1.example");
        load_ok(&p, "[Namespaces]\nIPC=yes\nUTS=yes\nCgroupNS=yes\nNetwork=host\nHostname=\n");
        assert_true(p.ipc_ns && p.uts_ns && p.cgroup_ns);
        assert_int_equal(p.net, POLICY_NET_HOST);
        assert_null(p.hostname);
        load_ok(&p, "[Resources]\nDelegate=yes\n[Filesystem]\nReadOnlyRoot=yes\n"
                    "[Security]\nSeccomp=unconfined\nAllowUserNamespaces=yes\n");
        assert_true(p.delegate && p.read_only_root && p.allow_userns);
        assert_int_equal(p.seccomp, POLICY_SECCOMP_UNCONFINED);
        load_ok(&p, "[Security]\nSeccomp=default\n");
        assert_int_equal(p.seccomp, POLICY_SECCOMP_DEFAULT);
        assert_true(p.sysinfo);
        load_ok(&p, "[Security]\nSysinfo=no\n");
        assert_false(p.sysinfo);
        load_ok(&p, "[Security]\nSysinfo=yes\n");
        assert_true(p.sysinfo);

        /* Views= names the set: each assignment replaces it */
        load_ok(&p, "[Views]\nViews=meminfo\n");
        assert_int_equal(p.views, 1u << POLICY_VIEW_MEMINFO);
        load_ok(&p, "[Views]\nViews=stat, uptime\nViews=cpu-online loadavg\n");
        assert_int_equal(p.views, (1u << POLICY_VIEW_CPU_ONLINE) | (1u << POLICY_VIEW_LOADAVG));
        load_ok(&p, "[Views]\nViews=all\n");
        assert_int_equal(p.views, POLICY_VIEWS_ALL);
        load_ok(&p, "[Views]\nViews=none\n");
        assert_int_equal(p.views, 0);
        load_ok(&p, "[Views]\nViews=all\nViews=\n");
        assert_int_equal(p.views, 0);
        load_ok(&p, "[Views]\nCuratedDev=no\n");
        assert_false(p.curated_dev);
        load_ok(&p, "[Views]\nCuratedDev=yes\n");
        assert_true(p.curated_dev);
}

static void test_load_filesystem(void **state) {
        _cleanup_policy_ struct policy p = { 0 };

        assert_int_equal(policy_init_default(&p), 0);
        size_t n_masks = p.n_masks, n_ro = p.n_read_only;
        /* list keys append, several paths to a line, without duplicates */
        load_ok(&p, "[Filesystem]\nPrivateTmp=no\nMask=/proc/vmstat\nMask=/proc/zoneinfo /proc/kcore\n"
                    "ReadOnly=/usr /etc/\nReadOnly=/usr\n");
        assert_false(p.private_tmp);
        assert_int_equal(p.n_masks, n_masks + 2);
        assert_true(has_str(p.masks, p.n_masks, "/proc/vmstat"));
        assert_true(has_str(p.masks, p.n_masks, "/proc/zoneinfo"));
        assert_true(has_str(p.masks, p.n_masks, "/proc/acpi"));
        assert_int_equal(p.n_read_only, n_ro + 2);
        assert_true(has_str(p.read_only, p.n_read_only, "/etc"));
        /* an empty value clears the list, later values append again */
        load_ok(&p, "[Filesystem]\nMask=\nMask=/a\nReadOnly=\n");
        assert_int_equal(p.n_masks, 1);
        assert_string_equal(p.masks[0], "/a");
        assert_int_equal(p.n_read_only, 0);

        load_ok(&p, "[Filesystem]\nBind=/host/src:/dst /same:/same\nReadOnlyBind=/a:/b\nTmpFS=/scratch\nBind=/x:/y\n"
                    "PrivateTmp=yes\n");
        assert_true(p.private_tmp);
        assert_int_equal(p.n_mounts, 5);
        const struct policy_mount want[] = {
                { POLICY_BIND, (char *)"/host/src", (char *)"/dst" },
                { POLICY_BIND, (char *)"/same", (char *)"/same" },
                { POLICY_RO_BIND, (char *)"/a", (char *)"/b" },
                { POLICY_TMPFS, NULL, (char *)"/scratch" },
                { POLICY_BIND, (char *)"/x", (char *)"/y" },
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                assert_int_equal(p.mounts[i].kind, want[i].kind);
                if (want[i].src)
                        assert_string_equal(p.mounts[i].src, want[i].src);
                else
                        assert_null(p.mounts[i].src);
                assert_string_equal(p.mounts[i].dst, want[i].dst);
        }
        /* each mount key clears only its own kind */
        load_ok(&p, "[Filesystem]\nBind=\nBind=/x:/y\n");
        assert_int_equal(p.n_mounts, 3);
        assert_int_equal(p.mounts[0].kind, POLICY_RO_BIND);
        assert_int_equal(p.mounts[1].kind, POLICY_TMPFS);
        assert_int_equal(p.mounts[2].kind, POLICY_BIND);
        load_ok(&p, "[Filesystem]\nReadOnlyBind=\nTmpFS=\n");
        assert_int_equal(p.n_mounts, 1);
        assert_string_equal(p.mounts[0].src, "/x");
        load_ok(&p, "[Filesystem]\nBind=/x:/y/\n"); /* a duplicate */
        assert_int_equal(p.n_mounts, 1);
}

static void test_load_security(void **state) {
        _cleanup_policy_ struct policy p = { 0 };
        const uint64_t defaults = ({
                struct policy d;
                assert_int_equal(policy_init_default(&d), 0);
                uint64_t c = d.caps;
                policy_done(&d);
                c;
        });

        assert_int_equal(policy_init_default(&p), 0);
        load_ok(&p, "[Security]\nCapabilities=CAP_CHOWN sys_admin,NET_RAW\n");
        assert_true(p.caps == (CAP(CAP_CHOWN) | CAP(CAP_SYS_ADMIN) | CAP(CAP_NET_RAW)));
        load_ok(&p, "[Security]\nCapabilities=CAP_KILL\nCapabilities=CAP_CHOWN\n"); /* replaces */
        assert_true(p.caps == CAP(CAP_CHOWN));
        load_ok(&p, "[Security]\nCapabilities=\n");
        assert_true(p.caps == 0);
        load_ok(&p, "[Security]\nCapabilities=ALL\n");
        assert_true(p.caps == policy_caps_all());

        /* add and drop edit what the policy had before */
        p.caps = defaults;
        load_ok(&p, "[Security]\nCapabilityAdd=CAP_NET_RAW\nCapabilityDrop=CAP_KILL CAP_CHOWN\n");
        assert_true(p.caps == ((defaults | CAP(CAP_NET_RAW)) & ~(CAP(CAP_KILL) | CAP(CAP_CHOWN))));
        /* in file order */
        load_ok(&p, "[Security]\nCapabilityDrop=ALL\nCapabilityAdd=CAP_KILL\n");
        assert_true(p.caps == CAP(CAP_KILL));
        load_ok(&p, "[Security]\nCapabilityAdd=CAP_CHOWN\nCapabilityDrop=ALL\n");
        assert_true(p.caps == 0);
        load_ok(&p, "[Security]\nCapabilityAdd=CAP_KILL\nCapabilityDrop=kill\nCapabilityAdd=chown\n");
        assert_true(p.caps == CAP(CAP_CHOWN));
        /* after Capabilities=, wherever it stands */
        load_ok(&p, "[Security]\nCapabilityAdd=CAP_NET_RAW\nCapabilityDrop=CAP_SETUID\n"
                    "Capabilities=CAP_SETUID CAP_KILL\n");
        assert_true(p.caps == (CAP(CAP_KILL) | CAP(CAP_NET_RAW)));
        /* an empty value forgets this file's edits of that kind */
        p.caps = defaults;
        load_ok(&p, "[Security]\nCapabilityAdd=CAP_NET_RAW\nCapabilityDrop=CAP_KILL\nCapabilityAdd=\n");
        assert_true(p.caps == (defaults & ~CAP(CAP_KILL)));
        p.caps = defaults;
        load_ok(&p, "[Security]\nCapabilityDrop=ALL\nCapabilityAdd=CAP_NET_RAW\nCapabilityDrop=\n");
        assert_true(p.caps == (defaults | CAP(CAP_NET_RAW)));
}

static void test_load_syntax(void **state) {
        _cleanup_policy_ struct policy p = { 0 }, d = { 0 };

        assert_int_equal(policy_init_default(&d), 0);
        assert_int_equal(policy_init_default(&p), 0);
        /* comments, blank lines, indentation, CRLF, a BOM, repeated sections */
        load_ok(&p, "\xef\xbb\xbf# comment\n; comment\n\n[Resources]\r\n  Memory = 1G\r\n\tPids=5\n"
                    "   # indented comment\n[Views]\nCuratedDev=no\n[Resources]\nCPUs=2\n");
        assert_true(p.memory == 1ULL << 30);
        assert_int_equal(p.pids, 5);
        assert_int_equal(p.cpus_milli, 2000);
        assert_false(p.curated_dev);
        /* Debian's libinih strips "<blank>;..." inline comments, not '#' ones */
        load_ok(&p, "[Resources]\nMemory=2G ; two gigabytes\n");
        assert_true(p.memory == 2ULL << 30);
        /* inih also takes ':' for '=' */
        load_ok(&p, "[Resources]\nMemory: 3G\n");
        assert_true(p.memory == 3ULL << 30);
        /* the longest line inih can hold */
        char line[256];
        snprintf(line, sizeof(line), "[Filesystem]\nMask=/%0193d\n", 0);
        load_ok(&p, line);
        /* an empty text changes nothing */
        policy_done(&p);
        assert_int_equal(policy_init_default(&p), 0);
        load_ok(&p, "");
        load_ok(&p, "# nothing\n\n[Views]\n");
        assert_true(policy_equal(&p, &d));
}

/* ---- errors ---- */

static const struct {
        const char *text;
        const char *error;
} bad_texts[] = {
        { "[Resources]\nMemry=1G\n", "x.conf:2: unknown key 'Memry' in section [Resources]" },
        { "[Resources]\n\n# c\nMemory=12Q\n",
          "x.conf:4: Memory: '12Q' is not a size (bytes, or a number with K, M, G or T)" },
        { "[Resources]\nMemory=1G # one\n",
          "x.conf:2: Memory: '1G # one' is not a size (bytes, or a number with K, M, G or T)" },
        { "[Resources]\nMemorySwap=-1\n",
          "x.conf:2: MemorySwap: '-1' is not a size (bytes, or a number with K, M, G or T)" },
        { "[Resources]\nCPUs=1.2345\n",
          "x.conf:2: CPUs: '1.2345' is not a number of CPUs above 0 with at most 3 decimals (e.g. 0.5, 2)" },
        { "[Resources]\nCPUs=0\n",
          "x.conf:2: CPUs: '0' is not a number of CPUs above 0 with at most 3 decimals (e.g. 0.5, 2)" },
        { "[Resources]\nCPUSet=3-1\n", "x.conf:2: CPUSet: '3-1' is not a CPU list (e.g. 0-3,8)" },
        { "[Resources]\nPids=lots\n", "x.conf:2: Pids: 'lots' is not a number or max" },
        { "[Resources]\nCgroup=some/cg\n", "x.conf:2: Cgroup: 'some/cg' is not an absolute path" },
        { "[Resources]\nMemory=512M\nMemorySwap=256M\n",
          "x.conf:3: MemorySwap (memory + swap) must not be below Memory" },
        { "[Resources]\nMemorySwap=256M\n\nMemory=512M\nPids=4\n",
          "x.conf:4: MemorySwap (memory + swap) must not be below Memory" },
        { "[Resources]\nMemory=max\nMemorySwap=1G\n",
          "x.conf:3: MemorySwap (memory + swap) must not be below Memory" },
        { "[Resources]\nCgroup=/a\nPids=10\n",
          "x.conf:3: Cgroup (join an existing cgroup) cannot be combined with Memory, MemorySwap, CPUs, "
          "CPUSet or Pids: the joined cgroup's own limits apply" },
        { "[Resources]\nCPUSet=0\nCgroup=/a\n[Views]\nViews=all\n",
          "x.conf:3: Cgroup (join an existing cgroup) cannot be combined with Memory, MemorySwap, CPUs, "
          "CPUSet or Pids: the joined cgroup's own limits apply" },
        { "[Namespaces]\nPID=maybe\n",
          "x.conf:2: PID: 'maybe' is not a boolean (yes/no, true/false, on/off, 1/0)" },
        { "[Namespaces]\nUser=\n", "x.conf:2: User: '' is not a boolean (yes/no, true/false, on/off, 1/0)" },
        { "[Namespaces]\nPropagation=shared\n", "x.conf:2: Propagation: 'shared' is not private or slave" },
        { "[Namespaces]\nRootFS=srv\n", "x.conf:2: RootFS: 'srv' is not an absolute path" },
        { "[Namespaces]\nIPC=maybe\n", "x.conf:2: IPC: 'maybe' is not a boolean (yes/no, true/false, on/off, 1/0)" },
        { "[Namespaces]\nCgroupNS=\n", "x.conf:2: CgroupNS: '' is not a boolean (yes/no, true/false, on/off, 1/0)" },
        { "[Namespaces]\nNetwork=bridge\n", "x.conf:2: Network: 'bridge' is not host or none" },
        { "[Namespaces]\nHostname=-bad\n",
          "x.conf:2: Hostname: '-bad' is not a host name (1-64 letters, digits, '-' and '.')" },
        { "[Namespaces]\nHostname=a b\n",
          "x.conf:2: Hostname: 'a b' is not a host name (1-64 letters, digits, '-' and '.')" },
        { "[Filesystem]\nReadOnlyRoot=ro\n",
          "x.conf:2: ReadOnlyRoot: 'ro' is not a boolean (yes/no, true/false, on/off, 1/0)" },
        { "[Security]\nSeccomp=strict\n", "x.conf:2: Seccomp: 'strict' is not default or unconfined" },
        { "[Security]\nAllowUserNamespaces=2\n",
          "x.conf:2: AllowUserNamespaces: '2' is not a boolean (yes/no, true/false, on/off, 1/0)" },
        { "[Namespaces]\nRootFS=/srv/../etc\n", "x.conf:2: RootFS: '/srv/../etc' must not contain '..'" },
        { "[Views]\nViews=meminfo foo,stat\n",
          "x.conf:2: Views: unknown view 'foo' (known: meminfo, cpuinfo, stat, uptime, loadavg, swaps, "
          "diskstats, cpu-online, all, none)" },
        { "[Views]\nCuratedDev=2\n",
          "x.conf:2: CuratedDev: '2' is not a boolean (yes/no, true/false, on/off, 1/0)" },
        { "[Filesystem]\nPrivateTmp=sure\n",
          "x.conf:2: PrivateTmp: 'sure' is not a boolean (yes/no, true/false, on/off, 1/0)" },
        { "[Filesystem]\nMask=/ok proc/kcore\n", "x.conf:2: Mask: 'proc/kcore' is not an absolute path" },
        { "[Filesystem]\nReadOnly=/usr/..\n", "x.conf:2: ReadOnly: '/usr/..' must not contain '..'" },
        { "[Filesystem]\nBind=/a:b\n", "x.conf:2: Bind: '/a:b' is not SRC:DST with two absolute paths" },
        { "[Filesystem]\nReadOnlyBind=a\n", "x.conf:2: ReadOnlyBind: 'a' is not SRC:DST with two absolute paths" },
        { "[Filesystem]\nBind=/tmp\n", "x.conf:2: Bind: '/tmp' is not SRC:DST with two absolute paths" },
        { "[Filesystem]\nBind=/a:\n", "x.conf:2: Bind: '/a:' is not SRC:DST with two absolute paths" },
        { "[Filesystem]\nBind=:/b\n", "x.conf:2: Bind: ':/b' is not SRC:DST with two absolute paths" },
        { "[Filesystem]\nBind=/a/..:/b\n", "x.conf:2: Bind: '/a/..:/b' must not contain '..'" },
        { "[Filesystem]\nTmpFS=scratch\n", "x.conf:2: TmpFS: 'scratch' is not an absolute path" },
        { "[Security]\nCapabilities=CAP_KILL CAP_BOGUS\n",
          "x.conf:2: Capabilities: unknown capability 'CAP_BOGUS' (e.g. CAP_NET_RAW, or ALL)" },
        { "[Security]\nCapabilityAdd=21\n",
          "x.conf:2: CapabilityAdd: unknown capability '21' (e.g. CAP_NET_RAW, or ALL)" },
        { "[Security]\nCapabilityDrop=net-raw\n",
          "x.conf:2: CapabilityDrop: unknown capability 'net-raw' (e.g. CAP_NET_RAW, or ALL)" },
        /* the minimums (issue 10) */
        { "[Resources]\nMemory=1\n",
          "x.conf:2: Memory: '1' is below the minimum memory limit, 6M (a command would be killed before it could run)" },
        { "[Resources]\nMemory=4K\n",
          "x.conf:2: Memory: '4K' is below the minimum memory limit, 6M (a command would be killed before it could run)" },
        { "[Resources]\nMemory=0\n",
          "x.conf:2: Memory: '0' is below the minimum memory limit, 6M (a command would be killed before it could run)" },
        { "[Resources]\nCPUs=0.005\n",
          "x.conf:2: CPUs: '0.005' is below the minimum, 0.01 (the kernel's smallest CPU quota: 1 ms per 100 ms period)" },
        { "[Resources]\nPids=0\n", "x.conf:2: Pids: '0' is below the minimum, 1 (COMMAND itself is a task)" },
        { "[Devices]\nDevice=/dev/null:rwx\n",
          "x.conf:2: Device: '/dev/null:rwx' has a bad access mode: valid is a non-empty subset of rwm (read, write, mknod)" },
        { "[Devices]\nDevice=/dev/fuse:r\nDevice=/dev/fuse:rw\n",
          "x.conf:3: Device: '/dev/fuse:rw' is given already with another access: give each node once, with all the "
          "access it needs" },
        /* [Process] */
        { "[Process]\nWorkingDirectory=srv\n", "x.conf:2: WorkingDirectory: 'srv' is not an absolute path" },
        { "[Process]\nEnvironment=A=1 B\n", "x.conf:2: Environment: 'B' is not KEY=VALUE (KEY non-empty, without '=')" },
        { "[Process]\nUnsetEnvironment=A=1\n",
          "x.conf:2: UnsetEnvironment: 'A=1' is not a variable name (non-empty, without '=')" },
        { "[Process]\nUser=nobody\n",
          "x.conf:2: User: 'nobody' is not a numeric id (0-4294967294; names are not looked up)" },
        { "[Process]\nGroup=-1\n", "x.conf:2: Group: '-1' is not a numeric id (0-4294967294; names are not looked up)" },
        { "[Process]\nClearEnvironment=maybe\n",
          "x.conf:2: ClearEnvironment: 'maybe' is not a boolean (yes/no, true/false, on/off, 1/0)" },
        /* placement */
        { "Memory=1G\n", "x.conf:1: key 'Memory' outside of a section (it belongs in [Resources])" },
        { "# c\nFoo=1\n", "x.conf:2: key 'Foo' outside of a section" },
        { "[Resources]\nPID=yes\n", "x.conf:2: unknown key 'PID' in section [Resources] (it belongs in [Namespaces])" },
        { "[Resources]\nmemory=1G\n", "x.conf:2: unknown key 'memory' in section [Resources]" },
        { "[Resource]\nMemory=1G\n",
          "x.conf:1: unknown section [Resource] (known: [Resources], [Namespaces], [Views], [Filesystem], [Security], [Devices], [Process])" },
        { "\xef\xbb\xbf[Nope]\n", /* behind a byte order mark */
          "x.conf:1: unknown section [Nope] (known: [Resources], [Namespaces], [Views], [Filesystem], [Security], [Devices], [Process])" },
        { "[Views]\n\n[Device]\n",
          "x.conf:3: unknown section [Device] (known: [Resources], [Namespaces], [Views], [Filesystem], [Security], [Devices], [Process])" },
        /* lines inih cannot read */
        { "[Resources\nMemory=1G\n", "x.conf:1: '[Resources': a section header needs a closing ']'" },
        { "[Views]\nViews\n", "x.conf:2: 'Views' is not Key=value, [Section] or a comment" },
        { "[Views]\n  Views all  \r\n", "x.conf:2: 'Views all' is not Key=value, [Section] or a comment" },
        /* the first error wins, whoever found it */
        { "[Views]\nbad line\nViews=foo\n", "x.conf:2: 'bad line' is not Key=value, [Section] or a comment" },
        { "[Views]\nViews=foo\nbad line\n",
          "x.conf:2: Views: unknown view 'foo' (known: meminfo, cpuinfo, stat, uptime, loadavg, swaps, "
          "diskstats, cpu-online, all, none)" },
        { "[Resources]\nPids=x\nMemory=y\n", "x.conf:2: Pids: 'x' is not a number or max" },
        { "[Bad]\nnot a pair\n",
          "x.conf:1: unknown section [Bad] (known: [Resources], [Namespaces], [Views], [Filesystem], [Security], [Devices], [Process])" },
        { "[Resources]\nMemory=1G\n[Filesystem]\nMask=\nBind=/a:/b\n[Security]\nCapabilities=\n[Views]\nViews=stat\n"
          "CuratedDev=no\nbogus\n", "x.conf:11: 'bogus' is not Key=value, [Section] or a comment" },
};

static void test_load_errors(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(bad_texts); i++) {
                _cleanup_policy_ struct policy p = { 0 }, saved = { 0 };
                _cleanup_free_ char *error = NULL;

                base_policy(&p);
                assert_int_equal(policy_copy(&p, &saved), 0);
                int r = policy_load_string(&p, "x.conf", bad_texts[i].text, &error);
                if (r != -EINVAL || !error || !streq(error, bad_texts[i].error))
                        fail_msg("case %zu: got %d '%s'\n               want '%s'", i, r, error ? error : "(null)",
                                 bad_texts[i].error);
                if (!policy_equal(&p, &saved)) /* a failed load changes nothing */
                        fail_msg("case %zu changed the policy", i);
        }
}

static void test_load_error_more(void **state) {
        _cleanup_policy_ struct policy p = { 0 }, saved = { 0 };
        _cleanup_free_ char *error = NULL, *text = NULL;

        base_policy(&p);
        assert_int_equal(policy_copy(&p, &saved), 0);
        /* a line longer than inih's buffer (it would split it silently) */
        assert_true(asprintf(&text, "[Filesystem]\n# x\nMask=/%0194d\nMask=/b\n", 0) > 0);
        assert_int_equal(policy_load_string(&p, "x.conf", text, &error), -EINVAL);
        assert_string_equal(error, "x.conf:3: line too long (more than 199 characters)");
        assert_true(policy_equal(&p, &saved));
        free(TAKE_PTR(error));
        /* limits over a base that has Cgroup: the conflict is this file's line */
        p.memory = p.memory_swap = p.cpus_milli = p.pids = POLICY_UNSET;
        free(TAKE_PTR(p.cpuset));
        p.cgroup = strdup("/joined");
        policy_done(&saved);
        assert_int_equal(policy_copy(&p, &saved), 0);
        assert_int_equal(policy_load_string(&p, "x.conf", "[Views]\nViews=all\n[Resources]\nCPUs=2\n", &error),
                         -EINVAL);
        assert_non_null(error);
        assert_true(strncmp(error, "x.conf:4: Cgroup ", 17) == 0);
        assert_true(policy_equal(&p, &saved));
        free(TAKE_PTR(error));
        /* over a base already in conflict (the command line's doing), no line to name */
        p.pids = 5;
        assert_int_equal(policy_load_string(&p, "x.conf", "[Views]\nViews=all\n", &error), -EINVAL);
        assert_true(strncmp(error, "x.conf: Cgroup ", 15) == 0);
        free(TAKE_PTR(error));
        /* ret_error may be NULL */
        assert_int_equal(policy_load_string(&p, "x.conf", "[Nope]\n", NULL), -EINVAL);
}

static void test_load_file(void **state) {
        char dir[] = "/tmp/curate-policy-XXXXXX", path[300];
        _cleanup_policy_ struct policy p = { 0 }, saved = { 0 };
        _cleanup_free_ char *error = NULL;
        FILE *f;

        assert_non_null(mkdtemp(dir));
        assert_int_equal(policy_init_default(&p), 0);
        assert_int_equal(policy_copy(&p, &saved), 0);

        snprintf(path, sizeof(path), "%s/missing.conf", dir);
        assert_int_equal(policy_load_file(&p, path, &error), -ENOENT);
        char want[400];
        snprintf(want, sizeof(want), "%s: No such file or directory", path);
        assert_string_equal(error, want);
        free(TAKE_PTR(error));

        assert_int_equal(policy_load_file(&p, dir, &error), -EISDIR);
        snprintf(want, sizeof(want), "%s: Is a directory", dir);
        assert_string_equal(error, want);
        free(TAKE_PTR(error));

        snprintf(path, sizeof(path), "%s/nul.conf", dir);
        assert_non_null(f = fopen(path, "we"));
        fwrite("[Views]\n\0Views=none\n", 1, 20, f);
        fclose(f);
        assert_int_equal(policy_load_file(&p, path, &error), -EBADMSG);
        snprintf(want, sizeof(want), "%s: holds a NUL byte, not a policy file", path);
        assert_string_equal(error, want);
        free(TAKE_PTR(error));
        unlink(path);

        snprintf(path, sizeof(path), "%s/bad.conf", dir);
        assert_non_null(f = fopen(path, "we"));
        fputs("# line 1\n[Resources]\nPids=7\nMemry=1\n", f);
        fclose(f);
        assert_int_equal(policy_load_file(&p, path, &error), -EINVAL);
        snprintf(want, sizeof(want), "%s:4: unknown key 'Memry' in section [Resources]", path);
        assert_string_equal(error, want);
        free(TAKE_PTR(error));
        assert_true(policy_equal(&p, &saved));

        assert_non_null(f = fopen(path, "we"));
        fputs("[Resources]\nPids=7\n", f);
        fclose(f);
        assert_int_equal(policy_load_file(&p, path, &error), 0);
        assert_null(error);
        assert_int_equal(p.pids, 7);
        unlink(path);
        rmdir(dir);
}

/* ---- shipped policies ---- */

static void test_default_conf(void **state) {
        const char *path = POLICY_SOURCE_DIR "/default.conf";
        _cleanup_policy_ struct policy d = { 0 }, a, b = { 0 }, c = { 0 };
        _cleanup_free_ char *error = NULL;

        assert_int_equal(policy_init_default(&d), 0);
        policy_init_empty(&a);
        assert_int_equal(policy_load_file(&a, path, &error), 0);
        assert_true(policy_equal(&a, &d));
        assert_int_equal(policy_init_default(&b), 0);
        assert_int_equal(policy_load_file(&b, path, &error), 0);
        assert_true(policy_equal(&b, &d));
        /* over a policy with everything changed: back to the defaults */
        base_policy(&c);
        c.memory = c.memory_swap = c.cpus_milli = c.pids = POLICY_UNSET;
        free(TAKE_PTR(c.cpuset));
        c.cgroup = strdup("/joined");
        c.user_ns = true;
        c.views = 1;
        c.curated_dev = c.private_tmp = false;
        c.caps = CAP(CAP_SYS_ADMIN);
        assert_int_equal(policy_add_mask(&c, "/extra"), 0);
        assert_int_equal(policy_add_read_only(&c, "/usr"), 0);
        assert_int_equal(policy_load_file(&c, path, &error), 0);
        assert_true(policy_equal(&c, &d));
}

static const char *const shipped[] = { "default", "hide-metrics", "hardened-service", "gpu-job" };

static void test_shipped_load(void **state) {
        _cleanup_closedir_ DIR *dir = opendir(POLICY_SOURCE_DIR);
        size_t n = 0;
        struct dirent *de;

        /* every .conf in policies/, shipped or added later */
        assert_non_null(dir);
        while ((de = readdir(dir))) {
                size_t len = strlen(de->d_name);
                if (len < 5 || !streq(de->d_name + len - 5, ".conf"))
                        continue;
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "%s/%s", POLICY_SOURCE_DIR, de->d_name);
                for (int over_defaults = 0; over_defaults < 2; over_defaults++) {
                        _cleanup_policy_ struct policy p;
                        _cleanup_free_ char *error = NULL;
                        policy_init_empty(&p);
                        if (over_defaults)
                                assert_int_equal(policy_init_default(&p), 0);
                        if (policy_load_file(&p, path, &error) < 0)
                                fail_msg("%s", error ? error : path);
                        assert_int_equal(policy_check(&p, NULL), 0);
                }
                n++;
        }
        assert_true(n >= ELEMENTSOF(shipped));
        for (size_t i = 0; i < ELEMENTSOF(shipped); i++) {
                char path[PATH_MAX];
                struct stat st;
                snprintf(path, sizeof(path), "%s/%s.conf", POLICY_SOURCE_DIR, shipped[i]);
                assert_int_equal(stat(path, &st), 0);
        }
}

static void load_shipped(struct policy *p, const char *name) {
        char path[PATH_MAX];
        _cleanup_free_ char *error = NULL;

        assert_int_equal(policy_init_default(p), 0);
        snprintf(path, sizeof(path), "%s/%s.conf", POLICY_SOURCE_DIR, name);
        if (policy_load_file(p, path, &error) < 0)
                fail_msg("%s", error);
}

static void test_shipped_content(void **state) {
        _cleanup_policy_ struct policy d = { 0 }, h = { 0 }, s = { 0 }, g = { 0 };

        assert_int_equal(policy_init_default(&d), 0);
        load_shipped(&h, "hide-metrics");
        assert_int_equal(h.views, POLICY_VIEWS_ALL);
        assert_true(h.curated_dev);
        for (size_t i = 0; i < d.n_masks; i++)
                assert_true(has_str(h.masks, h.n_masks, d.masks[i]));
        assert_true(h.n_masks > d.n_masks);
        /* vmstat and pressure have views now: the tenant's own figures */
        assert_false(has_str(h.masks, h.n_masks, "/proc/vmstat"));
        assert_false(has_str(h.masks, h.n_masks, "/proc/pressure"));
        assert_true(has_str(h.masks, h.n_masks, "/proc/zoneinfo"));

        load_shipped(&s, "hardened-service");
        assert_true(s.pid_ns && s.ipc_ns && s.uts_ns && s.cgroup_ns);
        assert_true(s.private_tmp);
        assert_true(s.read_only_root);
        assert_int_equal(s.seccomp, POLICY_SECCOMP_DEFAULT);
        assert_false(s.allow_userns);
        for (size_t i = 0; i < d.n_read_only; i++)
                assert_true(has_str(s.read_only, s.n_read_only, d.read_only[i]));
        assert_true(s.memory != POLICY_UNSET && s.pids != POLICY_UNSET);
        assert_true((s.caps & d.caps) == s.caps && s.caps != d.caps); /* fewer than the defaults */
        assert_true(s.caps & CAP(CAP_NET_BIND_SERVICE));

        load_shipped(&g, "gpu-job");
        assert_int_equal(g.views, POLICY_VIEWS_ALL);
        assert_true(g.cpus_milli != POLICY_UNSET && g.memory != POLICY_UNSET);
        assert_true(g.caps == d.caps);
}

/* ---- --policy NAME ---- */

static void test_find(void **state) {
        char dir[] = "/tmp/curate-policy-XXXXXX", path[300], env[400];
        _cleanup_free_ char *found = NULL;
        FILE *f;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/mine.conf", dir);
        assert_non_null(f = fopen(path, "we"));
        fclose(f);
        snprintf(env, sizeof(env), "/nonexistent-curate::%s", dir);
        assert_int_equal(setenv("CURATE_POLICY_PATH", env, 1), 0);

        assert_int_equal(policy_find("mine", &found), 0);
        assert_string_equal(found, path);
        free(TAKE_PTR(found));

        /* the shipped ones are found behind it: installed or in the source tree */
        assert_int_equal(policy_find("hardened-service", &found), 0);
        size_t len = strlen(found);
        assert_true(len > 22 && streq(found + len - 22, "/hardened-service.conf"));
        assert_int_equal(access(found, R_OK), 0);
        free(TAKE_PTR(found));

        /* $CURATE_POLICY_PATH comes first */
        char shadow[300];
        snprintf(shadow, sizeof(shadow), "%s/default.conf", dir);
        assert_non_null(f = fopen(shadow, "we"));
        fclose(f);
        assert_int_equal(policy_find("default", &found), 0);
        assert_string_equal(found, shadow);
        free(TAKE_PTR(found));
        unlink(shadow);

        /* a directory is not a policy */
        char sub[300];
        snprintf(sub, sizeof(sub), "%s/dir.conf", dir);
        assert_int_equal(mkdir(sub, 0700), 0);
        found = (char *)"untouched";
        assert_int_equal(policy_find("dir", &found), -ENOENT);
        assert_int_equal(policy_find("no-such-policy-here", &found), -ENOENT);
        assert_int_equal(policy_find("", &found), -EINVAL);
        assert_string_equal(found, "untouched");
        found = NULL;
        rmdir(sub);

        /* paths are paths, found or not: loading them tells what is wrong */
        static const char *const paths[] = { "./mine", "x.conf", "mine.conf", "/no/such/file", "sub/x", "default.conf" };
        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                assert_int_equal(policy_find(paths[i], &found), 0);
                assert_string_equal(found, paths[i]);
                free(TAKE_PTR(found));
        }

        /* without the variable: "mine" is gone, the shipped ones remain */
        assert_int_equal(unsetenv("CURATE_POLICY_PATH"), 0);
        assert_int_equal(policy_find("mine", &found), -ENOENT);
        assert_int_equal(policy_find("default", &found), 0);
        assert_non_null(strstr(found, "/default.conf"));
        free(TAKE_PTR(found));
        unlink(path);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_size),
                cmocka_unit_test(test_parse_count),
                cmocka_unit_test(test_parse_cpus),
                cmocka_unit_test(test_parse_cpuset),
                cmocka_unit_test(test_parse_views),
                cmocka_unit_test(test_parse_capability),
                cmocka_unit_test(test_parse_bool),
                cmocka_unit_test(test_parse_path_propagation),
                cmocka_unit_test(test_parse_namespaces),
                cmocka_unit_test(test_init),
                cmocka_unit_test(test_copy_equal_done),
                cmocka_unit_test(test_edits),
                cmocka_unit_test(test_check),
                cmocka_unit_test(test_load_resources),
                cmocka_unit_test(test_load_process),
                cmocka_unit_test(test_load_namespaces_views),
                cmocka_unit_test(test_load_filesystem),
                cmocka_unit_test(test_load_security),
                cmocka_unit_test(test_load_syntax),
                cmocka_unit_test(test_load_errors),
                cmocka_unit_test(test_load_error_more),
                cmocka_unit_test(test_load_file),
                cmocka_unit_test(test_default_conf),
                cmocka_unit_test(test_shipped_load),
                cmocka_unit_test(test_shipped_content),
                cmocka_unit_test(test_find),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
