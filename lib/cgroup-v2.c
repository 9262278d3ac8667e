#include "config.h"
#include "cgroup.h"

/* A memory.stat / cpu.stat field; absent fields are reported as CG_NONE. */
static int stat_field(const char *text, const char *key, uint64_t *ret) {
        int r = keyed_u64(text, key, ret);
        if (r == -ENOENT) {
                *ret = CG_NONE;
                return 0;
        }
        return r;
}

static int read_u64(const struct cg_hier *h, const char *path, const char *file, bool allow_max, uint64_t *ret) {
        _cleanup_free_ char *text = NULL;
        int r = cg_read(h, path, file, &text);
        if (r < 0)
                return r;
        return allow_max ? parse_u64_or_max(text, ret) : parse_u64(text, ret);
}

/* Lowest FILE ("memory.max", "memory.swap.max") from PATH up to, not
 * including, the root, which has none. Levels lacking the file (controller
 * not enabled there) impose nothing. */
static int lowest_limit(const struct cg_hier *h, const char *path, const char *file, uint64_t *ret) {
        _cleanup_free_ char *p = strdup(path);
        uint64_t best = CG_NONE;

        if (!p)
                return -ENOMEM;
        for (; !streq(p, "/"); cg_path_up(p)) {
                uint64_t v;
                int r = read_u64(h, p, file, true, &v);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                if (v < best)
                        best = v;
        }
        *ret = best;
        return 0;
}

static const struct {
        const char *key;
        size_t offset;
} v2_stat_fields[] = {
        { "anon", offsetof(struct cg_memory, anon) },
        { "file", offsetof(struct cg_memory, file) },
        { "shmem", offsetof(struct cg_memory, shmem) },
        { "file_mapped", offsetof(struct cg_memory, mapped) },
        { "file_dirty", offsetof(struct cg_memory, dirty) },
        { "file_writeback", offsetof(struct cg_memory, writeback) },
        { "active_anon", offsetof(struct cg_memory, active_anon) },
        { "inactive_anon", offsetof(struct cg_memory, inactive_anon) },
        { "active_file", offsetof(struct cg_memory, active_file) },
        { "inactive_file", offsetof(struct cg_memory, inactive_file) },
        { "unevictable", offsetof(struct cg_memory, unevictable) },
        { "slab_reclaimable", offsetof(struct cg_memory, slab_reclaimable) },
        { "slab_unreclaimable", offsetof(struct cg_memory, slab_unreclaimable) },
        { "kernel_stack", offsetof(struct cg_memory, kernel_stack) },
        { "pagetables", offsetof(struct cg_memory, pagetables) },
        { "anon_thp", offsetof(struct cg_memory, anon_thp) },
        { "shmem_thp", offsetof(struct cg_memory, shmem_thp) },
        { "file_thp", offsetof(struct cg_memory, file_thp) },
        { "percpu", offsetof(struct cg_memory, percpu) },
        { "swapcached", offsetof(struct cg_memory, swapcached) },
};

static int parse_v2_stat(const char *text, struct cg_memory *m) {
        uint64_t anon;
        /* every kernel with memory.stat writes "anon": without it the file is not memory.stat */
        int r = keyed_u64(text, "anon", &anon);
        if (r < 0)
                return r == -ENOENT ? -EINVAL : r;
        for (size_t i = 0; i < ELEMENTSOF(v2_stat_fields); i++) {
                r = stat_field(text, v2_stat_fields[i].key, (uint64_t *)((char *)m + v2_stat_fields[i].offset));
                if (r < 0)
                        return r;
        }
        return 0;
}

static int v2_swap(const struct cg_hier *h, const char *path, struct cg_memory *m) {
        int r = read_u64(h, path, "memory.swap.current", false, &m->swap_usage);
        if (r == -ENOENT) {
                /* CONFIG_MEMCG_SWAP off or swapaccount=0 */
                m->swap_accounting = false;
                m->swap_usage = m->swap_limit = CG_NONE;
                return 0;
        }
        if (r < 0)
                return r;
        m->swap_accounting = true;
        return lowest_limit(h, path, "memory.swap.max", &m->swap_limit);
}

static int v2_memory(const struct cg_hier *h, const char *path, struct cg_memory *ret) {
        _cleanup_free_ char *stat = NULL;
        struct cg_memory m = { 0 };

        /* the root cgroup has neither memory.max nor memory.current */
        if (streq(path, "/"))
                return -ENOENT;
        int r = read_u64(h, path, "memory.current", false, &m.usage);
        if (r < 0)
                return r;
        r = lowest_limit(h, path, "memory.max", &m.limit);
        if (r < 0)
                return r;
        r = cg_read(h, path, "memory.stat", &stat);
        if (r < 0)
                return r;
        r = parse_v2_stat(stat, &m);
        if (r < 0)
                return r;
        r = v2_swap(h, path, &m);
        if (r < 0)
                return r;
        *ret = m;
        return 0;
}

/* cpu.max: "$MAX $PERIOD", $MAX being "max" or microseconds. */
static int parse_cpu_max(const char *text, uint64_t *ret_quota, uint64_t *ret_period) {
        const char *p = text + strspn(text, " \t");
        uint64_t quota, period;
        int r;

        if (strncmp(p, "max", 3) == 0 && (p[3] == ' ' || p[3] == '\t')) {
                quota = CG_NONE;
                p += 3;
        } else if ((r = cg_next_u64(&p, &quota)) < 0)
                return r;
        if ((r = cg_next_u64(&p, &period)) < 0)
                return r;
        if (!cg_at_line_end(p) || period == 0)
                return -EINVAL;
        *ret_quota = quota;
        *ret_period = period;
        return 0;
}


/* cpuset.cpus.effective exists only where the cpuset controller is enabled;
 * below that the nearest ancestor's set applies. */
/* cpu.max of one level; -ENOENT at the root or where cpu is not enabled */
static int read_cpu_max(const struct cg_hier *h, const char *path, uint64_t *ret_quota, uint64_t *ret_period) {
        _cleanup_free_ char *text = NULL;
        int r = cg_read(h, path, "cpu.max", &text);
        if (r < 0)
                return r;
        return parse_cpu_max(text, ret_quota, ret_period);
}

static int v2_cpu_quota(const struct cg_hier *h, const char *path, uint64_t *ret_quota, uint64_t *ret_period) {
        return cg_lowest_quota(h, path, read_cpu_max, ret_quota, ret_period);
}

static int v2_cpuset(const struct cg_hier *h, const char *path, struct cpu_set_bits *ret) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        /* the walk skips levels lacking the file, but the cgroup itself must exist */
        _cleanup_close_ int fd = cg_open_dir(h, path);
        if (fd < 0)
                return fd;
        do {
                _cleanup_free_ char *text = NULL;
                struct cpu_set_bits set;
                int r = cg_read(h, p, "cpuset.cpus.effective", &text);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                r = parse_cpu_list(text, &set);
                if (r < 0)
                        return r;
                if (cpu_count(&set) == 0)
                        return -EINVAL; /* a populated cgroup always has a CPU */
                *ret = set;
                return 0;
        } while (cg_path_up(p));
        return -ENOENT;
}

static int usec_to_ns(uint64_t usec, uint64_t *ret) {
        if (usec == CG_NONE || __builtin_mul_overflow(usec, 1000, ret))
                return -ERANGE;
        return 0;
}

static int v2_cpu_usage(const struct cg_hier *h, const char *path, struct cg_cpu_usage *ret) {
        _cleanup_free_ char *text = NULL;
        uint64_t user, sys, user_ns, sys_ns;

        int r = cg_read(h, path, "cpu.stat", &text);
        if (r < 0)
                return r;
        if ((r = keyed_u64(text, "user_usec", &user)) < 0 || (r = keyed_u64(text, "system_usec", &sys)) < 0)
                return r == -ENOENT ? -EINVAL : r;
        if ((r = usec_to_ns(user, &user_ns)) < 0 || (r = usec_to_ns(sys, &sys_ns)) < 0)
                return r;
        *ret = (struct cg_cpu_usage){
                .percpu = false,
                .total_user_ns = user_ns,
                .total_system_ns = sys_ns,
        };
        return 0;
}

static const struct {
        const char *key;
        size_t offset;
} io_keys[] = {
        { "rbytes=", offsetof(struct cg_io_dev, rbytes) },
        { "wbytes=", offsetof(struct cg_io_dev, wbytes) },
        { "rios=", offsetof(struct cg_io_dev, rios) },
        { "wios=", offsetof(struct cg_io_dev, wios) },
        { "dbytes=", offsetof(struct cg_io_dev, dbytes) },
        { "dios=", offsetof(struct cg_io_dev, dios) },
};

/* "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N"; unknown keys
 * (cost.*, io.latency's) are skipped. */
static int parse_io_line(const char *p, struct cg_io_dev *ret) {
        struct cg_io_dev d = { 0 };
        int r = cg_next_devnum(&p, &d.major, &d.minor);
        if (r < 0)
                return r;
        while (!cg_at_line_end(p)) {
                if (*p != ' ' && *p != '\t')
                        return -EINVAL;
                p += strspn(p, " \t");
                const char *eq = p + strcspn(p, "= \t\n");
                if (*eq != '=')
                        return -EINVAL;
                uint64_t *slot = NULL;
                for (size_t i = 0; i < ELEMENTSOF(io_keys); i++)
                        if (strncmp(p, io_keys[i].key, eq + 1 - p) == 0 && strlen(io_keys[i].key) == (size_t)(eq + 1 - p))
                                slot = (uint64_t *)((char *)&d + io_keys[i].offset);
                p = eq + 1;
                if (slot) {
                        if ((r = cg_next_u64(&p, slot)) < 0)
                                return r;
                } else
                        p += strcspn(p, " \t\n");
        }
        *ret = d;
        return 0;
}

static int v2_io(const struct cg_hier *h, const char *path, struct cg_io *ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(cg_io_done) struct cg_io io = { 0 };

        int r = cg_read(h, path, "io.stat", &text);
        if (r < 0)
                return r;
        for (const char *p = text; *p; p += strspn(p, "\n")) {
                struct cg_io_dev d;
                if ((r = parse_io_line(p, &d)) < 0)
                        return r;
                p += strcspn(p, "\n");
                if (!(d.rbytes | d.wbytes | d.dbytes | d.rios | d.wios | d.dios))
                        continue;
                struct cg_io_dev *nd = reallocarray(io.dev, io.n + 1, sizeof(*nd));
                if (!nd)
                        return -ENOMEM;
                io.dev = nd;
                io.dev[io.n++] = d;
        }
        *ret = io;
        io = (struct cg_io){ 0 };
        return 0;
}

static int v2_threads(const struct cg_hier *h, const char *path, pid_t **ret, size_t *ret_n) {
        return cg_collect_pids(h, path, "cgroup.threads", ret, ret_n);
}

static int v2_procs(const struct cg_hier *h, const char *path, pid_t **ret, size_t *ret_n) {
        return cg_collect_pids(h, path, "cgroup.procs", ret, ret_n);
}

/* RESOURCE.pressure: present in every non-root cgroup of the unified
 * hierarchy while the kernel runs with PSI (CONFIG_PSI, not psi=0). */
static int v2_pressure(const struct cg_hier *h, const char *path, const char *resource, char **ret) {
        char file[32];

        if (!streq(resource, "cpu") && !streq(resource, "memory") && !streq(resource, "io"))
                return -EINVAL;
        snprintf(file, sizeof(file), "%s.pressure", resource);
        return cg_read(h, path, file, ret);
}

const struct cg_ops cg_v2_ops = {
        .memory = v2_memory,
        .cpu_quota = v2_cpu_quota,
        .cpuset = v2_cpuset,
        .cpu_usage = v2_cpu_usage,
        .io = v2_io,
        .threads = v2_threads,
        .procs = v2_procs,
        .pressure = v2_pressure,
};
