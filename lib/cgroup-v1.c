#include "config.h"
#include "cgroup.h"

/* v1 writes "unlimited" as PAGE_COUNTER_MAX pages in bytes
 * (9223372036854771712 with 4 KiB pages); anything this large is no limit. */
#define V1_UNLIMITED (UINT64_C(1) << 62)

static uint64_t v1_limit(uint64_t v) {
        return v >= V1_UNLIMITED ? CG_NONE : v;
}

/* A memory.stat field; absent fields are reported as CG_NONE. */
static int stat_field(const char *text, const char *key, uint64_t *ret) {
        int r = keyed_u64(text, key, ret);
        if (r == -ENOENT) {
                *ret = CG_NONE;
                return 0;
        }
        return r;
}

static int read_u64(const struct cg_hier *h, const char *path, const char *file, uint64_t *ret) {
        _cleanup_free_ char *text = NULL;
        int r = cg_read(h, path, file, &text);
        if (r < 0)
                return r;
        return parse_u64(text, ret);
}

static const struct {
        const char *key;
        size_t offset;
} v1_stat_fields[] = {
        { "total_rss", offsetof(struct cg_memory, anon) },
        { "total_cache", offsetof(struct cg_memory, file) },
        { "total_shmem", offsetof(struct cg_memory, shmem) },
        { "total_mapped_file", offsetof(struct cg_memory, mapped) },
        { "total_dirty", offsetof(struct cg_memory, dirty) },
        { "total_writeback", offsetof(struct cg_memory, writeback) },
        { "total_active_anon", offsetof(struct cg_memory, active_anon) },
        { "total_inactive_anon", offsetof(struct cg_memory, inactive_anon) },
        { "total_active_file", offsetof(struct cg_memory, active_file) },
        { "total_inactive_file", offsetof(struct cg_memory, inactive_file) },
        { "total_unevictable", offsetof(struct cg_memory, unevictable) },
        { "total_rss_huge", offsetof(struct cg_memory, anon_thp) },
        { "total_swapcached", offsetof(struct cg_memory, swapcached) },
};

static int parse_v1_stat(const char *text, struct cg_memory *m) {
        for (size_t i = 0; i < ELEMENTSOF(v1_stat_fields); i++) {
                int r = stat_field(text, v1_stat_fields[i].key,
                                   (uint64_t *)((char *)m + v1_stat_fields[i].offset));
                if (r < 0)
                        return r;
        }
        /* not in v1's memory.stat */
        m->slab_reclaimable = m->slab_unreclaimable = m->kernel_stack = CG_NONE;
        m->pagetables = m->percpu = m->shmem_thp = m->file_thp = CG_NONE;
        return 0;
}

/* memsw counts memory+swap; the contract wants swap alone. */
static int v1_swap(const struct cg_hier *h, const char *path, const char *stat, struct cg_memory *m) {
        uint64_t memsw_usage, memsw_limit;
        int r = read_u64(h, path, "memory.memsw.usage_in_bytes", &memsw_usage);
        if (r == -ENOENT) {
                /* booted without swapaccount=1 */
                m->swap_accounting = false;
                m->swap_limit = CG_NONE;
                return stat_field(stat, "total_swap", &m->swap_usage);
        }
        if (r < 0)
                return r;
        r = stat_field(stat, "hierarchical_memsw_limit", &memsw_limit);
        if (r < 0)
                return r;
        memsw_limit = v1_limit(memsw_limit);
        m->swap_accounting = true;
        /* the two counters are read apart, so memsw can trail usage */
        m->swap_usage = memsw_usage > m->usage ? memsw_usage - m->usage : 0;
        if (memsw_limit == CG_NONE)
                m->swap_limit = CG_NONE;
        else if (m->limit == CG_NONE)
                m->swap_limit = memsw_limit;
        else
                m->swap_limit = memsw_limit > m->limit ? memsw_limit - m->limit : 0;
        return 0;
}

static int v1_memory(const struct cg_hier *h, const char *path, struct cg_memory *ret) {
        _cleanup_free_ char *stat = NULL;
        struct cg_memory m = { 0 };

        int r = cg_read(h, path, "memory.stat", &stat);
        if (r < 0)
                return r;
        /* the kernel always writes this key: without it the file is not memory.stat */
        r = keyed_u64(stat, "hierarchical_memory_limit", &m.limit);
        if (r < 0)
                return r == -ENOENT ? -EINVAL : r;
        m.limit = v1_limit(m.limit);
        r = parse_v1_stat(stat, &m);
        if (r < 0)
                return r;
        r = read_u64(h, path, "memory.usage_in_bytes", &m.usage);
        if (r < 0)
                return r;
        r = v1_swap(h, path, stat, &m);
        if (r < 0)
                return r;
        *ret = m;
        return 0;
}

/* cpu.cfs_quota_us: "-1" means no quota. */
static int read_quota(const struct cg_hier *h, const char *path, uint64_t *ret_quota, uint64_t *ret_period) {
        _cleanup_free_ char *q = NULL;
        uint64_t quota, period;

        int r = cg_read(h, path, "cpu.cfs_quota_us", &q);
        if (r < 0)
                return r;
        if (strncmp(q, "-1", 2) == 0 && strspn(q + 2, " \n") == strlen(q + 2))
                quota = CG_NONE;
        else {
                r = parse_u64(q, &quota);
                if (r < 0)
                        return r;
        }
        r = read_u64(h, path, "cpu.cfs_period_us", &period);
        if (r < 0)
                return r;
        if (period == 0)
                return -EINVAL;
        *ret_quota = quota;
        *ret_period = period;
        return 0;
}


static int v1_cpu_quota(const struct cg_hier *h, const char *path, uint64_t *ret_quota, uint64_t *ret_period) {
        return cg_lowest_quota(h, path, read_quota, ret_quota, ret_period);
}

static int v1_cpuset(const struct cg_hier *h, const char *path, struct cpu_set_bits *ret) {
        _cleanup_free_ char *text = NULL;
        struct cpu_set_bits set;

        int r = cg_read(h, path, "cpuset.effective_cpus", &text);
        if (r < 0)
                return r;
        r = parse_cpu_list(text, &set);
        if (r < 0)
                return r;
        if (cpu_count(&set) == 0)
                return -EINVAL; /* a populated cpuset always has a CPU */
        *ret = set;
        return 0;
}

static int add_u64(uint64_t *sum, uint64_t v) {
        if (__builtin_add_overflow(*sum, v, sum))
                return -ERANGE;
        return 0;
}

/* "N N N ... \n" as in cpuacct.usage_percpu_user; *ret is malloc'd. */
static int parse_u64_row(const char *text, uint64_t **ret, unsigned *ret_n) {
        _cleanup_free_ uint64_t *v = NULL;
        unsigned n = 0;

        for (const char *p = text; !cg_at_line_end(p);) {
                if (n >= CPU_LIST_MAX)
                        return -EINVAL;
                uint64_t *nv = reallocarray(v, n + 1, sizeof(*v));
                if (!nv)
                        return -ENOMEM;
                v = nv;
                int r = cg_next_u64(&p, &v[n]);
                if (r < 0)
                        return r;
                n++;
        }
        if (n == 0)
                return -EINVAL;
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

static int read_u64_row(const struct cg_hier *h, const char *path, const char *file, uint64_t **ret, unsigned *ret_n) {
        _cleanup_free_ char *text = NULL;
        int r = cg_read(h, path, file, &text);
        if (r < 0)
                return r;
        return parse_u64_row(text, ret, ret_n);
}

static int sum_row(const uint64_t *v, unsigned n, uint64_t *ret) {
        uint64_t s = 0;
        for (unsigned i = 0; i < n; i++)
                if (add_u64(&s, v[i]) < 0)
                        return -ERANGE;
        *ret = s;
        return 0;
}

/* Total from FILE, or the per-CPU sum where the kernel lacks it (< 4.7). */
static int total_or_sum(const struct cg_hier *h, const char *path, const char *file,
                        const uint64_t *v, unsigned n, uint64_t *ret) {
        int r = read_u64(h, path, file, ret);
        if (r == -ENOENT)
                return sum_row(v, n, ret);
        return r;
}

/* cpuacct.usage_all: "cpu user system" then "ID USER SYSTEM" rows. */
static int grow_percpu(struct cg_cpu_usage *u, unsigned n) {
        uint64_t *nu = reallocarray(u->user_ns, n, sizeof(uint64_t));
        if (!nu)
                return -ENOMEM;
        u->user_ns = nu;
        uint64_t *ns = reallocarray(u->system_ns, n, sizeof(uint64_t));
        if (!ns)
                return -ENOMEM;
        u->system_ns = ns;
        for (unsigned i = u->ncpu; i < n; i++)
                u->user_ns[i] = u->system_ns[i] = 0;
        u->ncpu = n;
        return 0;
}

static int parse_usage_all(const char *text, struct cg_cpu_usage *u) {
        const char *p = strchr(text, '\n');
        if (!p || strncmp(text, "cpu user system", 15) != 0)
                return -EINVAL;
        for (p++; *p; p += strspn(p, "\n")) {
                uint64_t id, us, sy;
                int r;
                if ((r = cg_next_u64(&p, &id)) < 0 || (r = cg_next_u64(&p, &us)) < 0 || (r = cg_next_u64(&p, &sy)) < 0)
                        return r;
                if (!cg_at_line_end(p) || id >= CPU_LIST_MAX)
                        return -EINVAL;
                p += strcspn(p, "\n");
                if (id >= u->ncpu && (r = grow_percpu(u, id + 1)) < 0)
                        return r;
                u->user_ns[id] = us;
                u->system_ns[id] = sy;
        }
        if (u->ncpu == 0)
                return -EINVAL;
        return 0;
}

static int v1_usage_all(const struct cg_hier *h, const char *path, struct cg_cpu_usage *ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(cg_cpu_usage_done) struct cg_cpu_usage u = { .percpu = true };

        int r = cg_read(h, path, "cpuacct.usage_all", &text);
        if (r < 0)
                return r;
        r = parse_usage_all(text, &u);
        if (r < 0)
                return r;
        r = total_or_sum(h, path, "cpuacct.usage_user", u.user_ns, u.ncpu, &u.total_user_ns);
        if (r < 0)
                return r;
        r = total_or_sum(h, path, "cpuacct.usage_sys", u.system_ns, u.ncpu, &u.total_system_ns);
        if (r < 0)
                return r;
        *ret = u;
        u = (struct cg_cpu_usage){ 0 };
        return 0;
}

static int v1_cpu_usage(const struct cg_hier *h, const char *path, struct cg_cpu_usage *ret) {
        _cleanup_(cg_cpu_usage_done) struct cg_cpu_usage u = { .percpu = true };
        unsigned nsys;

        int r = read_u64_row(h, path, "cpuacct.usage_percpu_user", &u.user_ns, &u.ncpu);
        if (r == -ENOENT)
                return v1_usage_all(h, path, ret);
        if (r < 0)
                return r;
        r = read_u64_row(h, path, "cpuacct.usage_percpu_sys", &u.system_ns, &nsys);
        if (r < 0)
                return r;
        if (nsys != u.ncpu)
                return -EINVAL;
        r = total_or_sum(h, path, "cpuacct.usage_user", u.user_ns, u.ncpu, &u.total_user_ns);
        if (r < 0)
                return r;
        r = total_or_sum(h, path, "cpuacct.usage_sys", u.system_ns, u.ncpu, &u.total_system_ns);
        if (r < 0)
                return r;
        *ret = u;
        u = (struct cg_cpu_usage){ 0 };
        return 0;
}

static int find_dev(struct cg_io *io, unsigned major, unsigned minor, struct cg_io_dev **ret) {
        for (size_t i = 0; i < io->n; i++)
                if (io->dev[i].major == major && io->dev[i].minor == minor) {
                        *ret = &io->dev[i];
                        return 0;
                }
        struct cg_io_dev *d = reallocarray(io->dev, io->n + 1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        io->dev = d;
        d[io->n] = (struct cg_io_dev){ .major = major, .minor = minor };
        *ret = &d[io->n++];
        return 0;
}

static uint64_t *blkio_slot(struct cg_io_dev *d, const char *op, size_t len, bool bytes) {
        if (len == 4 && strncmp(op, "Read", 4) == 0)
                return bytes ? &d->rbytes : &d->rios;
        if (len == 5 && strncmp(op, "Write", 5) == 0)
                return bytes ? &d->wbytes : &d->wios;
        if (len == 7 && strncmp(op, "Discard", 7) == 0)
                return bytes ? &d->dbytes : &d->dios;
        return NULL;
}

static bool blkio_known_op(const char *op, size_t len) {
        static const char *const ops[] = { "Read", "Write", "Discard", "Sync", "Async", "Total" };
        for (size_t i = 0; i < ELEMENTSOF(ops); i++)
                if (strlen(ops[i]) == len && strncmp(op, ops[i], len) == 0)
                        return true;
        return false;
}

/* One "MAJ:MIN Op N" (or final "Total N") line of blkio.throttle.*;
 * BYTES picks which figure set it fills. */
static int parse_blkio_line(const char *line, bool bytes, struct cg_io *io) {
        unsigned major, minor;
        uint64_t v;
        struct cg_io_dev *d;
        int r = 0;

        if (strncmp(line, "Total ", 6) == 0) {
                const char *p = line + 6;
                if ((r = cg_next_u64(&p, &v)) < 0)
                        return r;
                return cg_at_line_end(p) ? 0 : -EINVAL;
        }
        if ((r = cg_next_devnum(&line, &major, &minor)) < 0)
                return r;
        if (*line != ' ')
                return -EINVAL;
        line += strspn(line, " ");
        const char *op = line;
        size_t oplen = strcspn(op, " \t\n");
        line += oplen;
        if (!blkio_known_op(op, oplen) || (r = cg_next_u64(&line, &v)) < 0 || !cg_at_line_end(line))
                return r < 0 ? r : -EINVAL;
        if ((r = find_dev(io, major, minor, &d)) < 0)
                return r;
        uint64_t *slot = blkio_slot(d, op, oplen, bytes);
        if (slot)
                *slot = v;
        return 0;
}

static int parse_blkio(const struct cg_hier *h, const char *path, const char *file, bool bytes, struct cg_io *io) {
        _cleanup_free_ char *text = NULL;

        int r = cg_read(h, path, file, &text);
        if (r < 0)
                return r;
        for (char *p = text; *p;) {
                size_t len = strcspn(p, "\n");
                bool more = p[len] == '\n';
                p[len] = 0;
                if (len > 0 && (r = parse_blkio_line(p, bytes, io)) < 0)
                        return r;
                p += len + more;
        }
        return 0;
}

static void drop_idle_devices(struct cg_io *io) {
        size_t k = 0;
        for (size_t i = 0; i < io->n; i++) {
                const struct cg_io_dev *d = &io->dev[i];
                if (d->rbytes | d->wbytes | d->dbytes | d->rios | d->wios | d->dios)
                        io->dev[k++] = *d;
        }
        io->n = k;
}

static int v1_io(const struct cg_hier *h, const char *path, struct cg_io *ret) {
        _cleanup_(cg_io_done) struct cg_io io = { 0 };

        int r = parse_blkio(h, path, "blkio.throttle.io_service_bytes_recursive", true, &io);
        if (r < 0)
                return r;
        r = parse_blkio(h, path, "blkio.throttle.io_serviced_recursive", false, &io);
        if (r < 0)
                return r;
        drop_idle_devices(&io);
        *ret = io;
        io = (struct cg_io){ 0 };
        return 0;
}

static int v1_threads(const struct cg_hier *h, const char *path, pid_t **ret, size_t *ret_n) {
        return cg_collect_pids(h, path, "tasks", ret, ret_n);
}

static int v1_procs(const struct cg_hier *h, const char *path, pid_t **ret, size_t *ret_n) {
        return cg_collect_pids(h, path, "cgroup.procs", ret, ret_n);
}

/* cgroup v1 keeps no pressure figures per cgroup (PSI's cgroup files are
 * the unified hierarchy's only): the caller must not fall back to the
 * host's. */
static int v1_pressure(const struct cg_hier *h, const char *path, const char *resource, char **ret) {
        return -EOPNOTSUPP;
}

const struct cg_ops cg_v1_ops = {
        .memory = v1_memory,
        .cpu_quota = v1_cpu_quota,
        .cpuset = v1_cpuset,
        .cpu_usage = v1_cpu_usage,
        .io = v1_io,
        .threads = v1_threads,
        .procs = v1_procs,
        .pressure = v1_pressure,
};
