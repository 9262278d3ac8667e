#include "config.h"
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>
#include "curatefs.h"

/* Fields of /proc/PID/stat after the comm, which may itself hold spaces and
 * parentheses: the last ')' ends it (proc(5)). */
struct proc_stat {
        char state;
        pid_t ppid;
        uint64_t starttime; /* clock ticks after boot */
};

static int proc_stat_read(int root_fd, pid_t pid, struct proc_stat *ret) {
        char path[64], text[1024];
        snprintf(path, sizeof(path), "proc/%d/stat", (int)pid);
        _cleanup_close_ int fd = open_beneath(root_fd, path, O_RDONLY);
        if (fd < 0)
                return fd;
        int n = read_fd_into(fd, text, sizeof(text));
        if (n < 0)
                return n;
        char *p = strrchr(text, ')');
        /* a state must follow: the fields are read from p + 3 on, which
         * would be past the text's end after a bare ") " */
        if (!p || p[1] != ' ' || !p[2])
                return -EINVAL;
        struct proc_stat st = { .state = p[2] };
        p += 3;
        unsigned long long v;

        for (int field = 4; field <= 22; field++) {
                while (*p == ' ')
                        p++;
                char *e;
                v = strtoull(p, &e, 10);
                /* strtoull also takes "-1" (tpgid), which is all we need */
                if (e == p)
                        return -EINVAL;
                if (field == 4)
                        st.ppid = (pid_t)v;
                if (field == 22)
                        st.starttime = v;
                p = e;
        }
        *ret = st;
        return 0;
}

/* Last NSpid entry (the pid in the task's own namespace) and PPid. */
static int proc_status_nspid(int root_fd, pid_t pid, pid_t *ret_inner, pid_t *ret_ppid) {
        char path[64];
        _cleanup_free_ char *text = NULL;
        snprintf(path, sizeof(path), "proc/%d/status", (int)pid);
        int r = read_file_at(root_fd, path, &text, NULL);
        if (r < 0)
                return r;
        char *l = strstr(text, "\nNSpid:");
        char *pp = strstr(text, "\nPPid:");
        if (!l || !pp)
                return -EINVAL;
        l += 7;
        pid_t inner = -1;
        for (char *e = l; *l && *l != '\n'; l = e) {
                long v = strtol(l, &e, 10);
                if (e == l)
                        break;
                inner = (pid_t)v;
        }
        if (inner < 0)
                return -EINVAL;
        *ret_inner = inner;
        *ret_ppid = (pid_t)strtol(pp + 6, NULL, 10);
        return 0;
}

static int host_uptime_ticks(struct curate *c, uint64_t *ret) {
        char text[128];
        _cleanup_close_ int fd = open_beneath(c->root_fd, "proc/uptime", O_RDONLY);
        if (fd < 0)
                return fd;
        int n = read_fd_into(fd, text, sizeof(text));
        if (n < 0)
                return n;
        unsigned long long sec, frac = 0;
        int digits = 0;
        char *p = text, *e;
        sec = strtoull(p, &e, 10);
        if (e == p)
                return -EINVAL;
        if (*e == '.')
                for (p = e + 1; *p >= '0' && *p <= '9' && digits < 2; p++, digits++)
                        frac = frac * 10 + (*p - '0');
        if (digits == 1)
                frac *= 10;
        *ret = sec * USER_HZ + frac;
        return 0;
}

static const struct cg_hier *task_hier(struct curate *c, const struct cg_reader *r, enum cg_controller *ret_c) {
        static const enum cg_controller order[] = { CG_CPU, CG_CPUACCT, CG_PIDS, CG_MEMORY };
        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                const struct cg_hier *h = cg_layout_hier(&c->layout, order[i]);
                if (h && r->path[order[i]]) {
                        *ret_c = order[i];
                        return h;
                }
        }
        return NULL;
}

enum cg_controller gather_task_controller(struct curate *c, const struct cg_reader *r) {
        enum cg_controller ctl;
        return task_hier(c, r, &ctl) ? ctl : _CG_CONTROLLER_MAX;
}

int gather_tasks(struct curate *c, const struct cg_reader *r, unsigned *ret_running,
                 unsigned *ret_blocked, unsigned *ret_total, pid_t *ret_last) {
        /* ret_last NULL: the sampler, which needs no last pid */
        enum cg_controller ctl;
        const struct cg_hier *h = task_hier(c, r, &ctl);
        _cleanup_free_ pid_t *tids = NULL;
        size_t n = 0;
        unsigned running = 0, blocked = 0, total = 0;
        pid_t max = 0, last = 0, ppid;

        if (!h)
                return -ENOENT;
        int ret = h->ops->threads(h, r->path[ctl], &tids, &n);
        if (ret < 0)
                return ret;
        for (size_t i = 0; i < n; i++) {
                struct proc_stat st;
                if (proc_stat_read(c->root_fd, tids[i], &st) < 0)
                        continue; /* exited meanwhile */
                total++;
                running += st.state == 'R';
                blocked += st.state == 'D';
                if (tids[i] > max)
                        max = tids[i];
        }
        /* The last-pid field shows the newest task's pid in its own pid
         * namespace: never a host pid the container could not see. */
        if (ret_last && max > 0 && proc_status_nspid(c->root_fd, max, &last, &ppid) < 0)
                last = 0;
        *ret_running = running;
        *ret_blocked = blocked;
        *ret_total = total;
        if (ret_last)
                *ret_last = last;
        return 0;
}

/* Start of the init of PID's pid namespace: walk up the parents while they
 * are still inside that namespace (NSpid has the pid there last). */
static int pidns_init_start(struct curate *c, pid_t pid, uint64_t *ret) {
        pid_t cur = pid;
        struct proc_stat ps;

        for (int depth = 0; depth < 4096; depth++) {
                pid_t inner, ppid;
                if (proc_status_nspid(c->root_fd, cur, &inner, &ppid) < 0 || inner == 1 || ppid <= 0)
                        break;
                cur = ppid;
        }
        int r = proc_stat_read(c->root_fd, cur, &ps);
        if (r < 0)
                return r;
        *ret = ps.starttime;
        return 0;
}

/* Start of the oldest process of the record's cgroup. The oldest stays the
 * oldest until it exits (a process that joins later started later, barring
 * one moved in from outside), so it is remembered and re-checked with one
 * read rather than reading every process's stat on every render. */
static int cgroup_oldest_start(struct curate *c, struct cg_record *rec, pid_t pid, uint64_t *ret) {
        struct proc_stat ps;
        enum cg_controller ctl;
        const struct cg_hier *h = task_hier(c, &rec->reader, &ctl);
        _cleanup_free_ pid_t *procs = NULL;
        size_t n = 0;
        int r;

        if (rec->start_pid > 0 && proc_stat_read(c->root_fd, rec->start_pid, &ps) == 0 &&
            ps.starttime == rec->start_ticks) {
                *ret = rec->start_ticks;
                return 0;
        }
        if (h && (r = h->ops->procs(h, rec->reader.path[ctl], &procs, &n)) < 0)
                return r;
        rec->start_pid = 0;
        rec->start_ticks = UINT64_MAX;
        for (size_t i = 0; i < n; i++)
                if (proc_stat_read(c->root_fd, procs[i], &ps) == 0 && ps.starttime < rec->start_ticks) {
                        rec->start_pid = procs[i];
                        rec->start_ticks = ps.starttime;
                }
        if (!rec->start_pid) {
                /* nothing listed (the reader raced its own move): the reader */
                if ((r = proc_stat_read(c->root_fd, pid, &ps)) < 0)
                        return r;
                *ret = ps.starttime;
                return 0;
        }
        *ret = rec->start_ticks;
        return 0;
}

/* Start of the container in ticks after boot: the init of the reader's pid
 * namespace when it has its own, else the oldest process of its cgroup. */
static int container_start(struct curate *c, struct cg_record *rec, pid_t pid, uint64_t *ret) {
        char p[64];
        struct stat st;

        snprintf(p, sizeof(p), "proc/%d/ns/pid", (int)pid);
        if (fstatat(c->root_fd, p, &st, 0) == 0 && st.st_ino != c->self_pidns)
                return pidns_init_start(c, pid, ret);
        return cgroup_oldest_start(c, rec, pid, ret);
}

static int container_uptime(struct curate *c, struct cg_record *rec, pid_t pid, uint64_t *ret) {
        uint64_t now, start;
        int r = host_uptime_ticks(c, &now);
        if (r < 0)
                return r;
        r = container_start(c, rec, pid, &start);
        if (r < 0)
                return r;
        *ret = now > start ? now - start : 0;
        return 0;
}

static int host_online(struct curate *c, struct cpu_set_bits *ret) {
        char text[4096];
        _cleanup_close_ int fd = open_beneath(c->root_fd, "sys/devices/system/cpu/online", O_RDONLY);
        if (fd < 0)
                return fd;
        int n = read_fd_into(fd, text, sizeof(text));
        return n < 0 ? n : parse_cpu_list(text, ret);
}

static int gather_cpu_view(struct curate *c, const struct cg_reader *r, struct cpu_view *ret) {
        const struct cg_hier *hs = cg_layout_hier(&c->layout, CG_CPUSET);
        const struct cg_hier *hq = cg_layout_hier(&c->layout, CG_CPU);
        struct cpu_set_bits eff;
        uint64_t quota = CG_NONE, period = 100000;
        int ret_r;

        if (hs && r->path[CG_CPUSET])
                ret_r = hs->ops->cpuset(hs, r->path[CG_CPUSET], &eff);
        else
                ret_r = host_online(c, &eff);
        if (ret_r < 0)
                return ret_r;
        if (hq && r->path[CG_CPU] && (ret_r = hq->ops->cpu_quota(hq, r->path[CG_CPU], &quota, &period)) < 0)
                return ret_r;
        return cpu_view_compute(&eff, quota, period, ret);
}

/* Advance the record's /proc/stat counters to container uptime UP. */
static int update_stat(struct curate *c, struct cg_record *rec, uint64_t up) {
        const struct cg_hier *h = cg_layout_hier(&c->layout, CG_CPUACCT);
        _cleanup_free_ struct cpu_view *v = malloc(sizeof(*v));
        _cleanup_(cg_cpu_usage_done) struct cg_cpu_usage u = { 0 };
        int r;

        if (!v)
                return -ENOMEM;
        if (!h || !rec->reader.path[CG_CPUACCT])
                return -ENOENT;
        if ((r = gather_cpu_view(c, &rec->reader, v)) < 0 ||
            (r = h->ops->cpu_usage(h, rec->reader.path[CG_CPUACCT], &u)) < 0)
                return r;
        return stat_state_update(&rec->stat, v, &u, up);
}

static int host_text(struct curate *c, const char *path, char **ret) {
        return read_file_at(c->root_fd, path, ret, NULL);
}

static int render_mem(struct curate *c, struct cg_record *rec, enum view_id v, struct buf *out) {
        const struct cg_hier *h = cg_layout_hier(&c->layout, CG_MEMORY);
        _cleanup_free_ char *host = NULL;
        struct cg_memory m;
        int r;

        if (!h || !rec->reader.path[CG_MEMORY])
                return -ENOENT;
        if ((r = h->ops->memory(h, rec->reader.path[CG_MEMORY], &m)) < 0 ||
            (r = host_text(c, "proc/meminfo", &host)) < 0)
                return r;
        return v == VIEW_MEMINFO ? render_meminfo(host, &m, out) : render_swaps(host, &m, out);
}

static int render_cpus(struct curate *c, struct cg_record *rec, enum view_id v, struct buf *out) {
        _cleanup_free_ struct cpu_view *cv = malloc(sizeof(*cv));
        _cleanup_free_ char *host = NULL;
        int r;

        if (!cv)
                return -ENOMEM;
        if ((r = gather_cpu_view(c, &rec->reader, cv)) < 0)
                return r;
        if (v == VIEW_CPU_ONLINE || v == VIEW_CPU_POSSIBLE || v == VIEW_CPU_PRESENT)
                return render_cpu_online(cv, out);
        if (v == VIEW_CPU_OFFLINE)
                return render_cpu_offline(cv, out);
        if ((r = host_text(c, "proc/cpuinfo", &host)) < 0)
                return r;
        return render_cpuinfo(host, cv, out);
}

static int render_proc_stat(struct curate *c, struct cg_record *rec, pid_t pid, struct buf *out) {
        _cleanup_free_ char *host = NULL;
        unsigned running, blocked, total;
        uint64_t up;
        int r;

        if ((r = container_uptime(c, rec, pid, &up)) < 0 ||
            (r = update_stat(c, rec, up)) < 0 ||
            (r = gather_tasks(c, &rec->reader, &running, &blocked, &total, NULL)) < 0 ||
            (r = host_text(c, "proc/stat", &host)) < 0)
                return r;
        return render_stat(host, &rec->stat, running, blocked, out);
}

static int render_up(struct curate *c, struct cg_record *rec, pid_t pid, struct buf *out) {
        uint64_t up;
        int r = container_uptime(c, rec, pid, &up);
        if (r < 0)
                return r;
        /* idle comes from the /proc/stat counters; without cpuacct it is 0 */
        r = update_stat(c, rec, up);
        if (r == -ENOENT)
                return render_uptime(up, NULL, out);
        if (r < 0)
                return r;
        return render_uptime(up, &rec->stat, out);
}

static int render_load(struct curate *c, struct cg_record *rec, struct buf *out) {
        unsigned running, blocked, total;
        pid_t last;
        int r = gather_tasks(c, &rec->reader, &running, &blocked, &total, &last);
        if (r < 0)
                return r;
        if (!rec->load_sampled_at) {
                /* first look: take the first 5 s sample now */
                loadavg_sample(&rec->load, running + blocked);
                rec->load_sampled_at = c->now();
        }
        return render_loadavg(&rec->load, running, total, last, out);
}

static int render_disk(struct curate *c, struct cg_record *rec, struct buf *out) {
        const struct cg_hier *h = cg_layout_hier(&c->layout, CG_BLKIO);
        _cleanup_(cg_io_done) struct cg_io io = { 0 };
        _cleanup_free_ char *host = NULL;
        int r;

        if (!h || !rec->reader.path[CG_BLKIO])
                return -ENOENT;
        if ((r = h->ops->io(h, rec->reader.path[CG_BLKIO], &io)) < 0 ||
            (r = host_text(c, "proc/diskstats", &host)) < 0)
                return r;
        return render_diskstats(host, &io, out);
}

/* The cgroup's own block I/O bytes, summed over devices; false when it
 * has none of its own (no blkio/io cgroup, or the root's, which would be
 * the host's traffic). */
static bool gather_io_bytes(struct curate *c, const struct cg_reader *r, uint64_t *ret_read, uint64_t *ret_write) {
        const struct cg_hier *h = cg_layout_hier(&c->layout, CG_BLKIO);
        _cleanup_(cg_io_done) struct cg_io io = { 0 };

        if (!h || cg_reader_is_root(r, CG_BLKIO) || h->ops->io(h, r->path[CG_BLKIO], &io) < 0)
                return false;
        *ret_read = *ret_write = 0;
        for (size_t i = 0; i < io.n; i++) {
                *ret_read += io.dev[i].rbytes;
                *ret_write += io.dev[i].wbytes;
        }
        return true;
}

static int render_vm(struct curate *c, struct cg_record *rec, struct buf *out) {
        const struct cg_hier *h = cg_layout_hier(&c->layout, CG_MEMORY);
        _cleanup_free_ char *host = NULL, *meminfo = NULL, *stat = NULL;
        struct cg_memory m;
        struct mem_view mv;
        long page = sysconf(_SC_PAGESIZE);
        struct vmstat_input in = { .mem = &m, .page_size = page > 0 ? (uint64_t)page : 4096,
                                   .thp_size = 2 * 1024 * 1024 };
        int r;

        if (!h || !rec->reader.path[CG_MEMORY])
                return -ENOENT;
        if ((r = h->ops->memory(h, rec->reader.path[CG_MEMORY], &m)) < 0 ||
            (r = cg_read(h, rec->reader.path[CG_MEMORY], "memory.stat", &stat)) < 0 ||
            (r = host_text(c, "proc/meminfo", &meminfo)) < 0 ||
            (r = mem_view_compute(meminfo, &m, &mv)) < 0 ||
            (r = host_text(c, "proc/vmstat", &host)) < 0)
                return r;
        in.memory_stat = stat;
        in.mem_free = mv.mem_free;
        in.io_known = gather_io_bytes(c, &rec->reader, &in.read_bytes, &in.write_bytes);
        return render_vmstat(host, &in, out);
}

/* -EOPNOTSUPP (no pressure figures for this cgroup: v1) becomes the
 * view's absence in record_snapshot. */
static int render_psi(struct curate *c, struct cg_record *rec, enum view_id v, struct buf *out) {
        static const struct {
                enum cg_controller ctl;
                const char *resource;
        } by_view[] = {
                [VIEW_PRESSURE_CPU - VIEW_PRESSURE_CPU] = { CG_CPU, "cpu" },
                [VIEW_PRESSURE_MEMORY - VIEW_PRESSURE_CPU] = { CG_MEMORY, "memory" },
                [VIEW_PRESSURE_IO - VIEW_PRESSURE_CPU] = { CG_BLKIO, "io" },
        };
        enum cg_controller ctl = by_view[v - VIEW_PRESSURE_CPU].ctl;
        const struct cg_hier *h = cg_layout_hier(&c->layout, ctl);
        _cleanup_free_ char *text = NULL;
        int r;

        if (!h || !rec->reader.path[ctl])
                return -EOPNOTSUPP;
        r = h->ops->pressure(h, rec->reader.path[ctl], by_view[v - VIEW_PRESSURE_CPU].resource, &text);
        if (r < 0)
                return r;
        return render_pressure(text, out);
}

int gather_render(struct curate *c, struct cg_record *rec, enum view_id v, pid_t pid, struct buf *out) {
        switch (v) {
        case VIEW_MEMINFO:
        case VIEW_SWAPS:
                return render_mem(c, rec, v, out);
        case VIEW_CPUINFO:
        case VIEW_CPU_ONLINE:
        case VIEW_CPU_POSSIBLE:
        case VIEW_CPU_PRESENT:
        case VIEW_CPU_OFFLINE:
                return render_cpus(c, rec, v, out);
        case VIEW_VMSTAT:
                return render_vm(c, rec, out);
        case VIEW_PRESSURE_CPU:
        case VIEW_PRESSURE_MEMORY:
        case VIEW_PRESSURE_IO:
                return render_psi(c, rec, v, out);
        case VIEW_STAT:
                return render_proc_stat(c, rec, pid, out);
        case VIEW_UPTIME:
                return render_up(c, rec, pid, out);
        case VIEW_LOADAVG:
                return render_load(c, rec, out);
        case VIEW_DISKSTATS:
                return render_disk(c, rec, out);
        default:
                return -EINVAL;
        }
}

/* sysinfo(2) for the record's reader PID: HOST's figures with those of the
 * views the reader is limited in (LIMITED, indexed by view) replaced by
 * its cgroup's, computed as those views compute them. */
int gather_sysinfo(struct curate *c, struct cg_record *rec, pid_t pid, const bool limited[static _VIEW_MAX],
                   const struct sysinfo *host, struct sysinfo *ret) {
        const struct cg_hier *h = cg_layout_hier(&c->layout, CG_MEMORY);
        struct sysinfo_inputs in = { 0 };
        _cleanup_free_ char *meminfo = NULL;
        struct cg_memory m;
        struct mem_view mv;
        unsigned running, blocked, total;
        uint64_t up;
        int r;

        if (limited[VIEW_MEMINFO]) {
                if (!h || !rec->reader.path[CG_MEMORY])
                        return -ENOENT;
                if ((r = h->ops->memory(h, rec->reader.path[CG_MEMORY], &m)) < 0 ||
                    (r = host_text(c, "proc/meminfo", &meminfo)) < 0 ||
                    (r = mem_view_compute(meminfo, &m, &mv)) < 0)
                        return r;
                in.mem = &mv;
                in.m = &m;
        }
        if (limited[VIEW_LOADAVG]) {
                if ((r = gather_tasks(c, &rec->reader, &running, &blocked, &total, NULL)) < 0)
                        return r;
                if (!rec->load_sampled_at) {
                        /* first look, as render_load() */
                        loadavg_sample(&rec->load, running + blocked);
                        rec->load_sampled_at = c->now();
                }
                in.load = &rec->load;
                in.procs = &total;
        }
        if (limited[VIEW_UPTIME]) {
                if ((r = container_uptime(c, rec, pid, &up)) < 0)
                        return r;
                in.uptime_ticks = &up;
        }
        return sysinfo_view_compute(host, &in, ret);
}
