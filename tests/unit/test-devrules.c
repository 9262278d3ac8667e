#include "config.h"
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "devrules.h"
#include "fileio.h"
#include "macro.h"

#define W DEVRULE_WILDCARD

/* ---- a test-only interpreter for the opcodes devrules_bpf_program emits ----
 * Anything else (or a backward jump, a read outside the context, running off
 * the end) is an error, so the test also pins down the program's shape. */
struct vm_ctx {
        uint32_t access_type, major, minor;
};

static int vm_run(const struct bpf_insn *p, size_t n, const struct vm_ctx *ctx) {
        uint64_t reg[11] = { 0 };
        bool r1_is_ctx = true;

        for (size_t pc = 0; pc < n; pc++) {
                const struct bpf_insn *i = &p[pc];
                uint64_t src = reg[i->src_reg];
                int64_t imm = i->imm;

                if (i->dst_reg > 10 || i->src_reg > 10)
                        return -1;
                if (i->code != (BPF_JMP | BPF_JNE | BPF_K) && i->code != (BPF_JMP | BPF_JNE | BPF_X) &&
                    i->off != 0 && i->code != (BPF_LDX | BPF_MEM | BPF_W))
                        return -1; /* a stray offset on ALU ops means MOVSX and friends */
                switch (i->code) {
                case BPF_LDX | BPF_MEM | BPF_W:
                        if (i->src_reg != 1 || !r1_is_ctx || i->off < 0 || i->off > 8 || i->off % 4)
                                return -1;
                        reg[i->dst_reg] = i->off == 0 ? ctx->access_type : i->off == 4 ? ctx->major : ctx->minor;
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                        reg[i->dst_reg] = (uint32_t) (reg[i->dst_reg] & (uint32_t) imm);
                        break;
                case BPF_ALU | BPF_RSH | BPF_K:
                        reg[i->dst_reg] = (uint32_t) reg[i->dst_reg] >> imm;
                        break;
                case BPF_ALU | BPF_MOV | BPF_X:
                        reg[i->dst_reg] = (uint32_t) src;
                        break;
                case BPF_ALU | BPF_MOV | BPF_K:
                        reg[i->dst_reg] = (uint32_t) imm;
                        break;
                case BPF_JMP | BPF_JNE | BPF_K:
                        if (i->off < 0)
                                return -1;
                        if (reg[i->dst_reg] != (uint64_t) imm)
                                pc += (size_t) i->off;
                        break;
                case BPF_JMP | BPF_JNE | BPF_X:
                        if (i->off < 0)
                                return -1;
                        if (reg[i->dst_reg] != src)
                                pc += (size_t) i->off;
                        break;
                case BPF_JMP | BPF_EXIT:
                        return (int) reg[0];
                default:
                        return -1;
                }
                if (i->dst_reg == 1 && BPF_CLASS(i->code) != BPF_JMP)
                        r1_is_ctx = false;
                if (i->dst_reg == 10)
                        return -1;
        }
        return -1;
}

/* The verifier refuses a program with an unreachable instruction: walk every
 * path (jumps only go forward) and check each one is reached. */
static void assert_all_reachable(const struct bpf_insn *p, size_t n) {
        _cleanup_free_ bool *seen = calloc(n, sizeof(bool));

        assert_non_null(seen);
        seen[0] = true;
        for (size_t pc = 0; pc < n; pc++) {
                if (!seen[pc])
                        fail_msg("instruction %zu of %zu is unreachable", pc, n);
                if (p[pc].code == (BPF_JMP | BPF_EXIT))
                        continue;
                if (BPF_CLASS(p[pc].code) == BPF_JMP) {
                        assert_true(p[pc].off >= 0 && pc + 1 + (size_t) p[pc].off < n);
                        seen[pc + 1 + (size_t) p[pc].off] = true;
                }
                assert_true(pc + 1 < n); /* no falling off the end */
                seen[pc + 1] = true;
        }
}

static unsigned acc_bits(const char *a) {
        return (strchr(a, 'r') ? BPF_DEVCG_ACC_READ : 0) | (strchr(a, 'w') ? BPF_DEVCG_ACC_WRITE : 0) |
               (strchr(a, 'm') ? BPF_DEVCG_ACC_MKNOD : 0);
}

static const char *const accesses[] = { "r", "w", "m", "rw", "rm", "wm", "rwm" };
static const unsigned majors[] = { 0, 1, 4, 5, 8, 10, 136, 195, 226, 4095 };
static const unsigned minors[] = { 0, 1, 2, 3, 5, 7, 8, 9, 128, 200, 255, 1048575 };

/* Run the generated program over a grid and compare with devrules_eval. */
static void assert_program_agrees(const struct dev_rule *rules, size_t n) {
        _cleanup_free_ struct bpf_insn *p = NULL;
        size_t np, checked = 0;

        assert_int_equal(devrules_bpf_program(rules, n, &p, &np), 0);
        assert_all_reachable(p, np);
        for (int t = 0; t < 2; t++)
                for (size_t a = 0; a < ELEMENTSOF(accesses); a++)
                        for (size_t ma = 0; ma < ELEMENTSOF(majors); ma++)
                                for (size_t mi = 0; mi < ELEMENTSOF(minors); mi++) {
                                        char type = t ? 'b' : 'c';
                                        struct vm_ctx c = {
                                                .access_type = (acc_bits(accesses[a]) << 16) |
                                                               (t ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR),
                                                .major = majors[ma], .minor = minors[mi],
                                        };
                                        int want = devrules_eval(rules, n, type, majors[ma], minors[mi], accesses[a]);
                                        int got = vm_run(p, np, &c);
                                        if (want != got)
                                                fail_msg("%c %u:%u %s: eval %d, program %d", type, majors[ma],
                                                         minors[mi], accesses[a], want, got);
                                        checked++;
                                }
        assert_true(checked > 1000);
}

/* ---- the rule model ---- */

static void test_defaults(void **state) {
        size_t n;
        const struct dev_rule *d = devrules_defaults(&n);
        static const struct { unsigned major, minor; } want[] = {
                { 1, 3 }, { 1, 5 }, { 1, 7 }, { 1, 8 }, { 1, 9 }, { 5, 0 }, { 5, 2 }, { 136, 0 }, { 136, 77 },
        };

        assert_int_equal(n, 8);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(devrules_validate(&d[i]), 0);
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                assert_int_equal(devrules_eval(d, n, 'c', want[i].major, want[i].minor, "rwm"), 1);
        /* what runc also allows and curate does not: mknod of anything, tun, console */
        assert_int_equal(devrules_eval(d, n, 'c', 195, 0, "m"), 0);
        assert_int_equal(devrules_eval(d, n, 'b', 8, 0, "m"), 0);
        assert_int_equal(devrules_eval(d, n, 'c', 10, 200, "rw"), 0);
        assert_int_equal(devrules_eval(d, n, 'c', 5, 1, "rw"), 0);
        assert_int_equal(devrules_eval(d, n, 'b', 1, 3, "r"), 0); /* a block 1:3 is not /dev/null */
        assert_int_equal(devrules_eval(d, n, 'c', 1, 1, "r"), 0); /* /dev/mem */
        assert_int_equal(devrules_eval(d, n, 'c', 137, 0, "r"), 0);
}

static void test_validate(void **state) {
        static const struct dev_rule bad[] = {
                { 'c', 1, 3, "rwm", false },  /* deny rules are refused */
                { 'x', 1, 3, "rwm", true },
                { 'c', 1, 3, "", true },
                { 'c', 1, 3, "rr", true },
                { 'c', 1, 3, "rx", true },
                { 'c', -2, 3, "r", true },
                { 'c', 4096, 3, "r", true },
                { 'c', 1, 1048576, "r", true },
                { 'a', 1, W, "rwm", true },   /* v1 would read it as "a": everything */
                { 'a', W, W, "rw", true },
        };
        static const struct dev_rule good[] = {
                { 'c', 1, 3, "mwr", true }, { 'b', W, W, "m", true }, { 'a', W, W, "rwm", true },
                { 'c', 4095, 1048575, "w", true }, { 'c', 0, 0, "r", true },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(devrules_validate(&bad[i]), -EINVAL);
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_int_equal(devrules_validate(&good[i]), 0);
}

static void test_build(void **state) {
        struct device_node nodes[] = {
                { .path = "/dev/nvidia0", .type = 'c', .major = 195, .minor = 0, .access = "rw" },
                { .path = "/dev/nvidiactl", .type = 'c', .major = 195, .minor = 255, .access = "rwm" },
                { .path = "/dev/sda", .type = 'b', .major = 8, .minor = 0, .access = "r" },
        };
        struct device_list l = { .nodes = nodes, .n = ELEMENTSOF(nodes) };
        _cleanup_free_ struct dev_rule *rules = NULL;
        struct dev_rule *untouched = (struct dev_rule *) 0x1;
        size_t n = 0, nd;

        devrules_defaults(&nd);
        assert_int_equal(devrules_build(&l, &rules, &n), 0);
        assert_int_equal(n, nd + 3);
        assert_int_equal(rules[nd].major, 195);
        assert_string_equal(rules[nd].access, "rw");
        assert_int_equal(devrules_eval(rules, n, 'c', 195, 0, "rw"), 1);
        assert_int_equal(devrules_eval(rules, n, 'c', 195, 0, "m"), 0);
        assert_int_equal(devrules_eval(rules, n, 'c', 195, 1, "r"), 0);
        assert_int_equal(devrules_eval(rules, n, 'c', 195, 255, "rwm"), 1);
        assert_int_equal(devrules_eval(rules, n, 'b', 8, 0, "r"), 1);
        assert_int_equal(devrules_eval(rules, n, 'b', 8, 0, "w"), 0);
        assert_int_equal(devrules_eval(rules, n, 'c', 8, 0, "r"), 0);

        /* no list: the defaults alone */
        free(rules);
        rules = NULL;
        assert_int_equal(devrules_build(NULL, &rules, &n), 0);
        assert_int_equal(n, nd);

        /* bad nodes leave the out-parameters alone */
        nodes[1].type = 'p';
        assert_int_equal(devrules_build(&l, &untouched, &n), -EINVAL);
        nodes[1].type = 'c';
        nodes[1].access[0] = 0;
        assert_int_equal(devrules_build(&l, &untouched, &n), -EINVAL);
        strcpy(nodes[1].access, "rwm");
        nodes[2].minor = 1u << 20;
        assert_int_equal(devrules_build(&l, &untouched, &n), -ERANGE);
        nodes[2].minor = 0;
        nodes[2].major = 4096;
        assert_int_equal(devrules_build(&l, &untouched, &n), -ERANGE);
        assert_ptr_equal(untouched, (struct dev_rule *) 0x1);
}

static void test_eval(void **state) {
        static const struct dev_rule rules[] = {
                { 'c', 195, 0, "rw", true },
                { 'c', 226, W, "r", true },  /* wildcard minor */
                { 'b', W, 7, "m", true },    /* wildcard major */
                { 'c', 10, 200, "wm", true },
                { 'c', 10, 200, "r", true }, /* split across rules: no one rule covers "rw" */
        };
        static const struct dev_rule all[] = { { 'a', W, W, "rwm", true } };
        static const struct dev_rule chars[] = { { 'c', W, W, "rwm", true } };
        size_t n = ELEMENTSOF(rules);

        assert_int_equal(devrules_eval(rules, n, 'c', 195, 0, "r"), 1);
        assert_int_equal(devrules_eval(rules, n, 'c', 195, 0, "w"), 1);
        assert_int_equal(devrules_eval(rules, n, 'c', 195, 0, "rw"), 1);
        assert_int_equal(devrules_eval(rules, n, 'c', 195, 0, "rwm"), 0);
        assert_int_equal(devrules_eval(rules, n, 'c', 195, 0, "m"), 0);
        assert_int_equal(devrules_eval(rules, n, 'b', 195, 0, "r"), 0);
        assert_int_equal(devrules_eval(rules, n, 'c', 226, 0, "r"), 1);
        assert_int_equal(devrules_eval(rules, n, 'c', 226, 128, "r"), 1);
        assert_int_equal(devrules_eval(rules, n, 'c', 226, 128, "rw"), 0);
        assert_int_equal(devrules_eval(rules, n, 'b', 8, 7, "m"), 1);
        assert_int_equal(devrules_eval(rules, n, 'b', 259, 7, "m"), 1);
        assert_int_equal(devrules_eval(rules, n, 'b', 8, 7, "r"), 0);
        assert_int_equal(devrules_eval(rules, n, 'c', 8, 7, "m"), 0);
        assert_int_equal(devrules_eval(rules, n, 'c', 10, 200, "r"), 1);
        assert_int_equal(devrules_eval(rules, n, 'c', 10, 200, "wm"), 1);
        assert_int_equal(devrules_eval(rules, n, 'c', 10, 200, "rw"), 0);
        assert_int_equal(devrules_eval(rules, 0, 'c', 1, 3, "r"), 0);
        assert_int_equal(devrules_eval(all, 1, 'b', 8, 0, "rwm"), 1);
        assert_int_equal(devrules_eval(all, 1, 'c', 4095, 1048575, "m"), 1);
        assert_int_equal(devrules_eval(chars, 1, 'c', 4095, 1048575, "rwm"), 1);
        assert_int_equal(devrules_eval(chars, 1, 'b', 8, 0, "r"), 0);
        /* malformed requests */
        assert_int_equal(devrules_eval(rules, n, 'a', 1, 3, "r"), -EINVAL);
        assert_int_equal(devrules_eval(rules, n, 'c', 1, 3, ""), -EINVAL);
        assert_int_equal(devrules_eval(rules, n, 'c', 1, 3, "x"), -EINVAL);
}

/* ---- cgroup v1 ---- */

static void test_v1_lines(void **state) {
        static const struct dev_rule rules[] = {
                { 'c', 195, 0, "wr", true }, { 'c', 136, W, "rwm", true },
                { 'b', W, W, "m", true },    { 'a', W, W, "rwm", true },
        };
        static const struct dev_rule bad[] = { { 'c', 195, 0, "rw", true }, { 'c', 1, 3, "rw", false } };
        char **lines = NULL, **untouched = (char **) 0x1;
        char buf[DEVRULE_LINE_MAX];

        assert_int_equal(devrules_v1_lines(rules, ELEMENTSOF(rules), &lines), 0);
        assert_string_equal(lines[0], "a *:* rwm");
        assert_string_equal(lines[1], "c 195:0 rw");
        assert_string_equal(lines[2], "c 136:* rwm");
        assert_string_equal(lines[3], "b *:* m");
        assert_string_equal(lines[4], "a *:* rwm");
        assert_null(lines[5]);
        devrules_lines_free(lines);

        assert_int_equal(devrules_v1_lines(NULL, 0, &lines), 0);
        assert_string_equal(lines[0], "a *:* rwm");
        assert_null(lines[1]);
        devrules_lines_free(lines);

        assert_int_equal(devrules_v1_lines(bad, ELEMENTSOF(bad), &untouched), -EINVAL);
        assert_ptr_equal(untouched, (char **) 0x1);

        assert_int_equal(devrules_format(&(struct dev_rule) { 'c', 4095, 1048575, "mr", true }, buf), 0);
        assert_string_equal(buf, "c 4095:1048575 rm");
        assert_int_equal(devrules_format(&bad[1], buf), -EINVAL);
}

static int make_cgroup_dir(char tmpl[static 32], bool with_allow) {
        int fd;

        strcpy(tmpl, "/tmp/test-devrules-XXXXXX");
        assert_non_null(mkdtemp(tmpl));
        fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        close(openat(fd, "devices.deny", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        if (with_allow)
                close(openat(fd, "devices.allow", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        return fd;
}

static void remove_cgroup_dir(const char *dir, int fd) {
        unlinkat(fd, "devices.deny", 0);
        unlinkat(fd, "devices.allow", 0);
        close(fd);
        assert_int_equal(rmdir(dir), 0);
}

static void test_apply_v1(void **state) {
        char dir[32];
        int fd = make_cgroup_dir(dir, true);
        _cleanup_free_ struct dev_rule *rules = NULL;
        _cleanup_free_ char *deny = NULL, *allow = NULL, *err = NULL;
        struct device_node gpu = { .path = "/dev/nvidia0", .type = 'c', .major = 195, .minor = 0, .access = "rw" };
        struct device_list l = { .nodes = &gpu, .n = 1 };
        size_t n;

        assert_int_equal(devrules_build(&l, &rules, &n), 0);
        assert_int_equal(devrules_apply_v1(fd, rules, n, &err), 0);
        assert_null(err);
        assert_int_equal(read_file_at(fd, "devices.deny", &deny, NULL), 0);
        assert_int_equal(read_file_at(fd, "devices.allow", &allow, NULL), 0);
        assert_string_equal(deny, "a *:* rwm\n");
        assert_string_equal(allow, "c 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\n"
                                   "c 5:0 rwm\nc 5:2 rwm\nc 136:* rwm\nc 195:0 rw\n");
        remove_cgroup_dir(dir, fd);
}

static void test_apply_v1_errors(void **state) {
        static const struct dev_rule bad[] = { { 'c', 1, 3, "rw", false } };
        char dir[32];
        int fd = make_cgroup_dir(dir, false);
        _cleanup_free_ char *err = NULL, *deny = NULL;
        size_t n;
        const struct dev_rule *d = devrules_defaults(&n);

        /* devices.allow is missing: the error names it, deny was written first */
        assert_int_equal(devrules_apply_v1(fd, d, n, &err), -ENOENT);
        assert_non_null(strstr(err, "devices.allow"));
        assert_int_equal(read_file_at(fd, "devices.deny", &deny, NULL), 0);
        assert_string_equal(deny, "a *:* rwm\n");
        free(err);
        err = NULL;

        /* a directory where the file should be: EISDIR, named */
        assert_int_equal(mkdirat(fd, "devices.allow", 0755), 0);
        assert_int_equal(devrules_apply_v1(fd, d, n, &err), -EISDIR);
        assert_non_null(strstr(err, "devices.allow"));
        assert_int_equal(unlinkat(fd, "devices.allow", AT_REMOVEDIR), 0);
        free(err);
        err = NULL;

        /* a bad rule writes nothing at all */
        assert_int_equal(devrules_apply_v1(fd, bad, 1, &err), -EINVAL);
        assert_non_null(err);
        /* a NULL error pointer is allowed */
        assert_int_equal(devrules_apply_v1(fd, bad, 1, NULL), -EINVAL);
        remove_cgroup_dir(dir, fd);
}

/* ---- cgroup v2 ---- */

static void test_bpf_shape(void **state) {
        static const struct dev_rule bad[] = { { 'c', 1, 3, "rw", false } };
        static const struct dev_rule one[] = { { 'c', 195, 0, "rw", true } };
        _cleanup_free_ struct bpf_insn *p = NULL;
        struct bpf_insn *untouched = (struct bpf_insn *) 0x1;
        size_t n;

        assert_int_equal(devrules_bpf_program(bad, 1, &untouched, &n), -EINVAL);
        assert_ptr_equal(untouched, (struct bpf_insn *) 0x1);
        /* 6 loads, type + 3 access + major + minor + return 1, then return 0 */
        assert_int_equal(devrules_bpf_program(one, 1, &p, &n), 0);
        assert_int_equal(n, 6 + 8 + 2);
        assert_int_equal(p[n - 1].code, BPF_JMP | BPF_EXIT);
        assert_int_equal(p[n - 2].imm, 0);
        free(p);
        p = NULL;
        /* no rules: deny everything */
        assert_int_equal(devrules_bpf_program(NULL, 0, &p, &n), 0);
        assert_int_equal(n, 8);
        assert_int_equal(vm_run(p, n, &(struct vm_ctx) { BPF_DEVCG_DEV_CHAR | (BPF_DEVCG_ACC_READ << 16), 1, 3 }), 0);
}

static void test_bpf_agrees_with_eval(void **state) {
        static const struct dev_rule mixed[] = {
                { 'c', 195, 0, "rw", true }, { 'c', 226, W, "r", true },  { 'b', W, 7, "m", true },
                { 'c', 10, 200, "wm", true }, { 'c', 10, 200, "r", true }, { 'b', 8, 0, "rwm", true },
                { 'c', 4095, 1048575, "w", true },
        };
        static const struct dev_rule all[] = { { 'a', W, W, "rwm", true } };
        static const struct dev_rule wild[] = { { 'c', W, W, "m", true }, { 'b', W, W, "rwm", true } };
        static const struct dev_rule all_mid[] = {
                { 'c', 195, 0, "rw", true }, { 'a', W, W, "rwm", true }, { 'c', 1, 3, "rw", true },
        };
        struct device_node nodes[] = {
                { .path = "/dev/nvidia0", .type = 'c', .major = 195, .minor = 0, .access = "rw" },
                { .path = "/dev/nvidiactl", .type = 'c', .major = 195, .minor = 255, .access = "rwm" },
                { .path = "/dev/dri/renderD128", .type = 'c', .major = 226, .minor = 128, .access = "rw" },
        };
        struct device_list l = { .nodes = nodes, .n = ELEMENTSOF(nodes) };
        _cleanup_free_ struct dev_rule *built = NULL;
        size_t n;

        assert_int_equal(devrules_build(&l, &built, &n), 0);
        assert_program_agrees(built, n);
        assert_program_agrees(mixed, ELEMENTSOF(mixed));
        assert_program_agrees(all, 1);
        assert_program_agrees(wild, ELEMENTSOF(wild));
        assert_program_agrees(all_mid, ELEMENTSOF(all_mid));
        assert_program_agrees(NULL, 0);
}

/* ---- live: attach to a real cgroup2 directory (root only, else skipped) ---- */

#define UNIFIED "/sys/fs/cgroup/unified"

static int child_opens(const char *cg) {
        char path[256], pid[32];
        pid_t p = fork();
        int status;

        if (p < 0)
                return -errno;
        if (p == 0) {
                int fd, ok_null, ok_zero;
                snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
                snprintf(pid, sizeof(pid), "%d\n", (int) getpid());
                fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, pid, strlen(pid)) < 0)
                        _exit(10);
                close(fd);
                fd = open("/dev/null", O_RDWR | O_CLOEXEC);
                ok_null = fd >= 0;
                if (fd >= 0)
                        close(fd);
                fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
                ok_zero = fd >= 0 ? 1 : errno == EPERM ? 0 : 2;
                if (fd >= 0)
                        close(fd);
                _exit(ok_null * 1 + ok_zero * 2 + 20);
        }
        while (waitpid(p, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -EIO;
}

static void test_bpf_live(void **state) {
        static const struct dev_rule rules[] = { { 'c', 1, 3, "rw", true } };
        static const struct dev_rule all[] = { { 'a', W, W, "rwm", true } };
        _cleanup_free_ struct bpf_insn *p = NULL, *pall = NULL;
        _cleanup_free_ char *err = NULL;
        char cg[128];
        struct stat st;
        size_t n, nall;
        int fd, prog_fd = -EBADF, all_fd = -EBADF, r, result;

        if (geteuid() != 0 || stat(UNIFIED "/cgroup.procs", &st) < 0)
                skip();
        snprintf(cg, sizeof(cg), UNIFIED "/curate-test-devrules-%d", (int) getpid());
        if (mkdir(cg, 0755) < 0)
                skip();
        fd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(devrules_bpf_program(rules, 1, &p, &n), 0);
        assert_int_equal(devrules_bpf_program(all, 1, &pall, &nall), 0);
        /* an allow-everything program attached first stands for one already
         * there (systemd's): with BPF_F_ALLOW_MULTI both run and ours still
         * denies what it does not allow */
        r = devrules_bpf_attach(fd, pall, nall, &all_fd, &err);
        if (r == -EPERM || r == -ENOSYS || r == -EOPNOTSUPP) {
                close(fd);
                rmdir(cg);
                print_message("bpf device programs unavailable here: %s\n", err);
                skip();
        }
        if (r >= 0)
                r = devrules_bpf_attach(fd, p, n, &prog_fd, &err);
        if (r < 0)
                print_message("%s\n", err);
        result = r < 0 ? r : child_opens(cg);
        /* clean up before asserting, so a failure leaves no cgroup behind */
        for (int i = 0; i < 2; i++) {
                int *pfd = i ? &all_fd : &prog_fd;
                if (*pfd >= 0) {
                        assert_int_equal(devrules_bpf_detach(fd, *pfd), 0);
                        close(*pfd);
                }
        }
        close(fd);
        for (int i = 0; i < 100 && rmdir(cg) < 0 && errno == EBUSY; i++)
                usleep(10000); /* the exited child leaves the cgroup asynchronously */
        assert_int_equal(r, 0);
        /* /dev/null opened, /dev/zero refused with EPERM */
        assert_int_equal(result, 20 + 1);
}

/* Hot-plug on cgroup v2: the replaced program stops applying, the new one
 * applies, and exactly one program stays attached. */
static void test_bpf_replace_live(void **state) {
        static const struct dev_rule both[] = { { 'c', 1, 3, "rw", true }, { 'c', 1, 5, "r", true } };
        _cleanup_free_ struct bpf_insn *p1 = NULL, *p2 = NULL;
        _cleanup_free_ char *err = NULL;
        char cg[128];
        struct stat st;
        size_t n1, n2;
        int fd, prog_fd = -EBADF, r, before = -1, after = -1;
        uint32_t ids[8];
        union bpf_attr q = { 0 };

        if (geteuid() != 0 || stat(UNIFIED "/cgroup.procs", &st) < 0)
                skip();
        snprintf(cg, sizeof(cg), UNIFIED "/curate-test-replace-%d", (int) getpid());
        if (mkdir(cg, 0755) < 0)
                skip();
        fd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(devrules_bpf_program(both, 2, &p1, &n1), 0);
        assert_int_equal(devrules_bpf_program(both, 1, &p2, &n2), 0);
        r = devrules_bpf_attach(fd, p1, n1, &prog_fd, &err);
        if (r == -EPERM || r == -ENOSYS || r == -EOPNOTSUPP) {
                close(fd);
                rmdir(cg);
                skip();
        }
        if (r >= 0) {
                close(prog_fd);
                before = child_opens(cg);
                r = devrules_bpf_replace(fd, p2, n2, &err);
        }
        if (r >= 0) {
                after = child_opens(cg);
                q.query.target_fd = (uint32_t) fd;
                q.query.attach_type = BPF_CGROUP_DEVICE;
                q.query.prog_ids = (uint64_t)(uintptr_t) ids;
                q.query.prog_cnt = 8;
                if (syscall(__NR_bpf, BPF_PROG_QUERY, &q, sizeof(q)) < 0)
                        r = -errno;
        }
        if (r < 0 && err)
                print_message("%s\n", err);
        close(fd);
        /* the attached program goes with the cgroup */
        for (int i = 0; i < 100 && rmdir(cg) < 0 && errno == EBUSY; i++)
                usleep(10000);
        assert_int_equal(r, 0);
        assert_int_equal(before, 20 + 1 + 2); /* null and zero open */
        assert_int_equal(after, 20 + 1);      /* zero refused with EPERM */
        assert_int_equal(q.query.prog_cnt, 1);
}

/* The same check on a real cgroup v1 devices hierarchy, where this host has one. */
#define V1_DEVICES "/sys/fs/cgroup/devices"

static void test_apply_v1_live(void **state) {
        static const struct dev_rule rules[] = { { 'c', 1, 3, "rw", true } };
        _cleanup_free_ char *err = NULL, *list = NULL;
        char cg[128];
        struct stat st;
        int fd, r, result;

        if (geteuid() != 0 || stat(V1_DEVICES "/devices.allow", &st) < 0)
                skip();
        snprintf(cg, sizeof(cg), V1_DEVICES "/curate-test-devrules-%d", (int) getpid());
        if (mkdir(cg, 0755) < 0)
                skip();
        fd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        r = devrules_apply_v1(fd, rules, 1, &err);
        if (r < 0)
                print_message("%s\n", err);
        if (r >= 0)
                r = read_file_at(fd, "devices.list", &list, NULL);
        result = r < 0 ? r : child_opens(cg);
        close(fd);
        for (int i = 0; i < 100 && rmdir(cg) < 0 && errno == EBUSY; i++)
                usleep(10000);
        assert_int_equal(r, 0);
        assert_string_equal(list, "c 1:3 rw\n");
        assert_int_equal(result, 20 + 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_validate),
                cmocka_unit_test(test_build),
                cmocka_unit_test(test_eval),
                cmocka_unit_test(test_v1_lines),
                cmocka_unit_test(test_apply_v1),
                cmocka_unit_test(test_apply_v1_errors),
                cmocka_unit_test(test_bpf_shape),
                cmocka_unit_test(test_bpf_agrees_with_eval),
                cmocka_unit_test(test_bpf_live),
                cmocka_unit_test(test_bpf_replace_live),
                cmocka_unit_test(test_apply_v1_live),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
