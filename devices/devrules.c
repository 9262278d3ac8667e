#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "devrules.h"
#include "fileio.h"
#include "macro.h"

/* Largest numbers a dev_t carries (include/linux/kdev_t.h: 12-bit major,
 * 20-bit minor); the BPF program compares them as positive 32-bit immediates. */
#define DEVRULE_MAJOR_MAX 0xfff
#define DEVRULE_MINOR_MAX 0xfffff

#define ACC_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)

/* What every container may use beyond its own device list: the nodes of
 * curate's curated /dev (null zero full random urandom tty) and of its private
 * devpts (ptmx 5:2, the pts 136:*). This is runc's AllowedDevices
 * (libcontainer/specconv/spec_linux.go, runc 1.2+) minus three entries:
 *  - "c *:* m" and "b *:* m" (mknod of any node): runc's own comment calls it
 *    questionable and keeps it only for compatibility; curate drops CAP_MKNOD
 *    and a container never needs to create nodes it may not open;
 *  - "c 10:200 rwm" (/dev/net/tun): curate's /dev has no tun; a container
 *    that needs it gets it with --device /dev/net/tun.
 * runc has no 5:1 (/dev/console) either: its console is a pts (136:*). */
static const struct dev_rule default_rules[] = {
        { 'c', 1, 3, "rwm", true },                  /* /dev/null */
        { 'c', 1, 5, "rwm", true },                  /* /dev/zero */
        { 'c', 1, 7, "rwm", true },                  /* /dev/full */
        { 'c', 1, 8, "rwm", true },                  /* /dev/random */
        { 'c', 1, 9, "rwm", true },                  /* /dev/urandom */
        { 'c', 5, 0, "rwm", true },                  /* /dev/tty */
        { 'c', 5, 2, "rwm", true },                  /* /dev/ptmx, /dev/pts/ptmx */
        { 'c', 136, DEVRULE_WILDCARD, "rwm", true }, /* /dev/pts/N */
};

const struct dev_rule *devrules_defaults(size_t *ret_n) {
        *ret_n = ELEMENTSOF(default_rules);
        return default_rules;
}

/* "rwm" subset to BPF_DEVCG_ACC_* bits; 0 when malformed (empty, unknown
 * letter, repeated letter, longer than 3). */
static unsigned access_bits(const char *access) {
        static const struct { char c; unsigned bit; } table[] = {
                { 'r', BPF_DEVCG_ACC_READ },
                { 'w', BPF_DEVCG_ACC_WRITE },
                { 'm', BPF_DEVCG_ACC_MKNOD },
        };
        unsigned bits = 0;

        if (!access || strnlen(access, 4) > 3)
                return 0;
        for (const char *p = access; *p; p++) {
                size_t i;
                for (i = 0; i < ELEMENTSOF(table) && table[i].c != *p; i++)
                        ;
                if (i == ELEMENTSOF(table) || (bits & table[i].bit))
                        return 0;
                bits |= table[i].bit;
        }
        return bits;
}

/* The access bits in the kernel's order: "rwm". */
static void access_string(unsigned bits, char out[static 4]) {
        size_t n = 0;

        if (bits & BPF_DEVCG_ACC_READ)
                out[n++] = 'r';
        if (bits & BPF_DEVCG_ACC_WRITE)
                out[n++] = 'w';
        if (bits & BPF_DEVCG_ACC_MKNOD)
                out[n++] = 'm';
        out[n] = 0;
}

static bool number_ok(int v, int max) {
        return v == DEVRULE_WILDCARD || (v >= 0 && v <= max);
}

int devrules_validate(const struct dev_rule *r) {
        unsigned bits = access_bits(r->access);

        if (!r->allow || bits == 0)
                return -EINVAL;
        if (!number_ok(r->major, DEVRULE_MAJOR_MAX) || !number_ok(r->minor, DEVRULE_MINOR_MAX))
                return -EINVAL;
        switch (r->type) {
        case 'c':
        case 'b':
                return 0;
        case 'a':
                /* v1 reads only the 'a' of an "a ..." line and then allows
                 * everything (device_cgroup.c devcgroup_update_access), so
                 * anything narrower cannot be expressed there. */
                if (r->major != DEVRULE_WILDCARD || r->minor != DEVRULE_WILDCARD || bits != ACC_ALL)
                        return -EINVAL;
                return 0;
        default:
                return -EINVAL;
        }
}

static int validate_all(const struct dev_rule *rules, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (devrules_validate(&rules[i]) < 0)
                        return -EINVAL;
        return 0;
}

static int rule_from_node(const struct device_node *d, struct dev_rule *ret) {
        struct dev_rule r = { .type = d->type, .allow = true };
        unsigned bits = access_bits(d->access);

        if (d->type != 'c' && d->type != 'b')
                return -EINVAL;
        if (bits == 0)
                return -EINVAL;
        if (d->major > DEVRULE_MAJOR_MAX || d->minor > DEVRULE_MINOR_MAX)
                return -ERANGE;
        r.major = (int) d->major;
        r.minor = (int) d->minor;
        access_string(bits, r.access);
        *ret = r;
        return 0;
}

int devrules_build(const struct device_list *devs, struct dev_rule **ret_rules, size_t *ret_n) {
        size_t nd = devs ? devs->n : 0, n = ELEMENTSOF(default_rules) + nd;
        _cleanup_free_ struct dev_rule *rules = calloc(n, sizeof(*rules));

        if (!rules)
                return -ENOMEM;
        memcpy(rules, default_rules, sizeof(default_rules));
        for (size_t i = 0; i < nd; i++) {
                int r = rule_from_node(&devs->nodes[i], &rules[ELEMENTSOF(default_rules) + i]);
                if (r < 0)
                        return r;
        }
        *ret_rules = TAKE_PTR(rules);
        *ret_n = n;
        return 0;
}

static bool rule_matches(const struct dev_rule *r, char type, unsigned major, unsigned minor,
                         unsigned bits) {
        if (r->type != 'a' && r->type != type)
                return false;
        if (r->major != DEVRULE_WILDCARD && (unsigned) r->major != major)
                return false;
        if (r->minor != DEVRULE_WILDCARD && (unsigned) r->minor != minor)
                return false;
        return (bits & ~access_bits(r->access)) == 0;
}

int devrules_eval(const struct dev_rule *rules, size_t n, char type,
                  unsigned major, unsigned minor, const char *access) {
        unsigned bits = access_bits(access);

        if (bits == 0 || (type != 'c' && type != 'b') || validate_all(rules, n) < 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (rule_matches(&rules[i], type, major, minor, bits))
                        return 1;
        return 0;
}

static void format_number(int v, char out[static 12]) {
        if (v == DEVRULE_WILDCARD)
                strcpy(out, "*");
        else
                snprintf(out, 12, "%d", v);
}

int devrules_format(const struct dev_rule *r, char buf[static DEVRULE_LINE_MAX]) {
        char major[12], minor[12], access[4];

        if (devrules_validate(r) < 0)
                return -EINVAL;
        format_number(r->major, major);
        format_number(r->minor, minor);
        access_string(access_bits(r->access), access);
        snprintf(buf, DEVRULE_LINE_MAX, "%c %s:%s %s", r->type, major, minor, access);
        return 0;
}

void devrules_lines_free(char **lines) {
        if (!lines)
                return;
        for (char **l = lines; *l; l++)
                free(*l);
        free(lines);
}

static void lines_freep(char ***l) { devrules_lines_free(*l); }

int devrules_v1_lines(const struct dev_rule *rules, size_t n, char ***ret_lines) {
        _cleanup_(lines_freep) char **lines = NULL;
        char buf[DEVRULE_LINE_MAX];

        if (validate_all(rules, n) < 0)
                return -EINVAL;
        lines = calloc(n + 2, sizeof(*lines));
        if (!lines)
                return -ENOMEM;
        lines[0] = strdup("a *:* rwm");
        if (!lines[0])
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                devrules_format(&rules[i], buf);
                lines[i + 1] = strdup(buf);
                if (!lines[i + 1])
                        return -ENOMEM;
        }
        *ret_lines = TAKE_PTR(lines);
        return 0;
}

/* One write(2) for the whole line: cgroupfs parses each write as one rule.
 * The kernel's parser stops at the newline, which keeps a plain file (the
 * unit test's stand-in) one rule a line. */
static int write_rule(int fd, const char *line) {
        char buf[DEVRULE_LINE_MAX + 1];
        int len = snprintf(buf, sizeof(buf), "%s\n", line);
        ssize_t k;

        if (len < 0 || (size_t) len >= sizeof(buf))
                return -EINVAL;
        do
                k = write(fd, buf, (size_t) len);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return -errno;
        return k == len ? 0 : -EIO;
}

/* Write LINES[FIRST..LAST) to FILE beneath CGROUP_DIR_FD. O_APPEND changes
 * nothing on cgroupfs and lets a plain file (the unit test) keep every write. */
static int write_lines(int cgroup_dir_fd, const char *file, char **lines, size_t first, size_t last,
                       char **ret_error) {
        _cleanup_close_ int fd = openat(cgroup_dir_fd, file, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return error_printf(ret_error, -errno, "%s: %s", file, strerror(errno));
        for (size_t i = first; i < last; i++) {
                int r = write_rule(fd, lines[i]);
                if (r < 0)
                        return error_printf(ret_error, r, "%s: rule %zu \"%s\": %s", file,
                                            i - first + 1, lines[i], strerror(-r));
        }
        return 0;
}

int devrules_apply_v1(int cgroup_dir_fd, const struct dev_rule *rules, size_t n, char **ret_error) {
        _cleanup_(lines_freep) char **lines = NULL;
        int r = devrules_v1_lines(rules, n, &lines);

        if (r < 0)
                return error_printf(ret_error, r, "device rules: %s", strerror(-r));
        r = write_lines(cgroup_dir_fd, "devices.deny", lines, 0, 1, ret_error);
        if (r < 0)
                return r;
        return write_lines(cgroup_dir_fd, "devices.allow", lines, 1, n + 1, ret_error);
}

/* ---- cgroup v2: the BPF program ---- */

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
        return (struct bpf_insn) { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

/* The program's registers: R1 the context on entry, then a scratch. */
enum { R0, R1, R2_TYPE, R3_ACCESS, R4_MAJOR, R5_MINOR };

/* Prologue: load struct bpf_cgroup_dev_ctx { u32 access_type (low 16 bits
 * BPF_DEVCG_DEV_*, high 16 bits BPF_DEVCG_ACC_*); u32 major; u32 minor; }. */
static size_t emit_prologue(struct bpf_insn *p) {
        size_t k = 0;

        p[k++] = insn(BPF_LDX | BPF_MEM | BPF_W, R2_TYPE, R1, 0, 0);
        p[k++] = insn(BPF_ALU | BPF_AND | BPF_K, R2_TYPE, 0, 0, 0xffff);
        p[k++] = insn(BPF_LDX | BPF_MEM | BPF_W, R3_ACCESS, R1, 0, 0);
        p[k++] = insn(BPF_ALU | BPF_RSH | BPF_K, R3_ACCESS, 0, 0, 16);
        p[k++] = insn(BPF_LDX | BPF_MEM | BPF_W, R4_MAJOR, R1, 4, 0);
        p[k++] = insn(BPF_LDX | BPF_MEM | BPF_W, R5_MINOR, R1, 8, 0);
        return k;
}

/* One rule: a run of "if this differs, go to the next rule" tests, then
 * "return 1". Returns how many instructions it wrote (at most 8); the jumps
 * are patched once the block's length is known. */
static size_t emit_rule(const struct dev_rule *r, struct bpf_insn *p) {
        unsigned bits = access_bits(r->access);
        size_t k = 0;

        if (r->type != 'a')
                p[k++] = insn(BPF_JMP | BPF_JNE | BPF_K, R2_TYPE, 0, 0,
                              r->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
        if (bits != ACC_ALL) {
                /* the request must be a subset: (access & bits) == access */
                p[k++] = insn(BPF_ALU | BPF_MOV | BPF_X, R1, R3_ACCESS, 0, 0);
                p[k++] = insn(BPF_ALU | BPF_AND | BPF_K, R1, 0, 0, (int32_t) bits);
                p[k++] = insn(BPF_JMP | BPF_JNE | BPF_X, R1, R3_ACCESS, 0, 0);
        }
        if (r->major != DEVRULE_WILDCARD)
                p[k++] = insn(BPF_JMP | BPF_JNE | BPF_K, R4_MAJOR, 0, 0, r->major);
        if (r->minor != DEVRULE_WILDCARD)
                p[k++] = insn(BPF_JMP | BPF_JNE | BPF_K, R5_MINOR, 0, 0, r->minor);
        p[k++] = insn(BPF_ALU | BPF_MOV | BPF_K, R0, 0, 0, 1);
        p[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        /* every conditional jump lands just past this block */
        for (size_t i = 0; i + 2 < k; i++)
                if (BPF_CLASS(p[i].code) == BPF_JMP)
                        p[i].off = (int16_t) (k - i - 1);
        return k;
}

#define RULE_INSNS_MAX 8

int devrules_bpf_program(const struct dev_rule *rules, size_t n, struct bpf_insn **ret, size_t *ret_n) {
        _cleanup_free_ struct bpf_insn *p = NULL;
        size_t k;

        if (n > (SIZE_MAX - 8) / RULE_INSNS_MAX || validate_all(rules, n) < 0)
                return -EINVAL;
        p = calloc(6 + n * RULE_INSNS_MAX + 2, sizeof(*p));
        if (!p)
                return -ENOMEM;
        k = emit_prologue(p);
        for (size_t i = 0; i < n; i++) {
                size_t len = emit_rule(&rules[i], p + k);
                k += len;
                /* a rule with nothing to test ("a *:* rwm") always returns:
                 * the verifier refuses the unreachable code after it */
                if (len == 2)
                        goto done;
        }
        p[k++] = insn(BPF_ALU | BPF_MOV | BPF_K, R0, 0, 0, 0);
        p[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
done:
        *ret = TAKE_PTR(p);
        *ret_n = k;
        return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr) {
        long r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));
        return r < 0 ? -errno : (int) r;
}

#define VERIFIER_LOG_SIZE 65536

static int load_program(const struct bpf_insn *insns, size_t n, char **ret_error) {
        _cleanup_free_ char *log = calloc(1, VERIFIER_LOG_SIZE);
        union bpf_attr attr = {
                .prog_type = BPF_PROG_TYPE_CGROUP_DEVICE,
                .expected_attach_type = BPF_CGROUP_DEVICE,
                .insns = (uintptr_t) insns,
                .insn_cnt = (uint32_t) n,
                /* No helper is called, so no GPL-only one: any license loads.
                 * "GPL" as systemd's device programs say. */
                .license = (uintptr_t) "GPL",
        };
        int fd;

        if (log) {
                attr.log_buf = (uintptr_t) log;
                attr.log_size = VERIFIER_LOG_SIZE;
                attr.log_level = 1;
        }
        /* the log is only for a refusal; ask again without it when the
         * kernel rejects our log size rather than the program */
        fd = sys_bpf(BPF_PROG_LOAD, &attr);
        if (fd == -ENOSPC) {
                attr.log_buf = 0;
                attr.log_size = 0;
                attr.log_level = 0;
                fd = sys_bpf(BPF_PROG_LOAD, &attr);
        }
        if (fd < 0)
                return error_printf(ret_error, fd, "BPF_PROG_LOAD of the device program: %s%s%s",
                                    strerror(-fd), log && *log ? "\n" : "", log ? log : "");
        /* bpf(2) returns program fds with O_CLOEXEC already set */
        return fd;
}

int devrules_bpf_attach(int cgroup_dir_fd, const struct bpf_insn *insns, size_t n,
                        int *ret_prog_fd, char **ret_error) {
        _cleanup_close_ int prog_fd = -EBADF;
        union bpf_attr attr = { 0 };
        int r;

        if (n == 0 || n > UINT32_MAX)
                return error_printf(ret_error, -EINVAL, "device program: bad length %zu", n);
        prog_fd = load_program(insns, n, ret_error);
        if (prog_fd < 0)
                return prog_fd;
        attr.target_fd = (uint32_t) cgroup_dir_fd;
        attr.attach_bpf_fd = (uint32_t) prog_fd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = BPF_F_ALLOW_MULTI;
        r = sys_bpf(BPF_PROG_ATTACH, &attr);
        if (r < 0)
                return error_printf(ret_error, r, "BPF_PROG_ATTACH of the device program: %s",
                                    strerror(-r));
        *ret_prog_fd = TAKE_FD(prog_fd);
        return 0;
}

int devrules_bpf_detach(int cgroup_dir_fd, int prog_fd) {
        union bpf_attr attr = {
                .target_fd = (uint32_t) cgroup_dir_fd,
                .attach_bpf_fd = (uint32_t) prog_fd,
                .attach_type = BPF_CGROUP_DEVICE,
        };
        int r = sys_bpf(BPF_PROG_DETACH, &attr);

        return r < 0 ? r : 0;
}

/* The ids of the device programs attached to CGROUP_DIR_FD itself (not
 * inherited ones). 0 or -errno. */
static int attached_ids(int cgroup_dir_fd, uint32_t *ids, uint32_t max, uint32_t *ret_n) {
        union bpf_attr attr = {
                .query.target_fd = (uint32_t) cgroup_dir_fd,
                .query.attach_type = BPF_CGROUP_DEVICE,
                .query.prog_ids = (uint64_t)(uintptr_t) ids,
                .query.prog_cnt = max,
        };
        int r = sys_bpf(BPF_PROG_QUERY, &attr);

        if (r < 0)
                return r;
        *ret_n = attr.query.prog_cnt;
        return 0;
}

int devrules_bpf_replace(int cgroup_dir_fd, const struct bpf_insn *insns, size_t n, char **ret_error) {
        uint32_t ids[64], n_ids = 0;
        int r, prog_fd;

        r = attached_ids(cgroup_dir_fd, ids, ELEMENTSOF(ids), &n_ids);
        if (r < 0)
                return error_printf(ret_error, r, "BPF_PROG_QUERY of the cgroup's device programs: %s",
                                    strerror(-r));
        /* attach first: while both run, the kernel allows only what both
         * allow, so no moment grants more than the old or the new set */
        r = devrules_bpf_attach(cgroup_dir_fd, insns, n, &prog_fd, ret_error);
        if (r < 0)
                return r;
        close(prog_fd);
        for (uint32_t i = 0; i < n_ids && i < ELEMENTSOF(ids); i++) {
                union bpf_attr get = { .prog_id = ids[i] };
                _cleanup_close_ int old = sys_bpf(BPF_PROG_GET_FD_BY_ID, &get);
                if (old < 0 && old != -ENOENT)
                        return error_printf(ret_error, old, "BPF_PROG_GET_FD_BY_ID %u: %s", ids[i], strerror(-old));
                if (old >= 0 && (r = devrules_bpf_detach(cgroup_dir_fd, old)) < 0 && r != -ENOENT)
                        return error_printf(ret_error, r, "detaching the old device program %u: %s", ids[i],
                                            strerror(-r));
        }
        return 0;
}
