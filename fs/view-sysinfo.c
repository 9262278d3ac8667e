#include "config.h"
#include <errno.h>
#include <limits.h>
#include <string.h>
#include "views.h"

/* sysinfo(2) for a cgroup, from the figures /proc/meminfo, /proc/swaps,
 * /proc/loadavg and /proc/uptime show it (so `busybox free` and `free`
 * agree), in the kernel's units: sizes in mem_unit bytes, loads in
 * 1 << SI_LOAD_SHIFT (kernel/sys.c do_sysinfo(), which also rounds the
 * uptime up to the next second). */

#define SI_LOAD_SHIFT 16

static uint64_t sat_mul(uint64_t a, uint64_t b) {
        return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static uint64_t min_u64(uint64_t a, uint64_t b) {
        return a < b ? a : b;
}

enum { S_TOTALRAM, S_FREERAM, S_SHAREDRAM, S_BUFFERRAM, S_TOTALSWAP, S_FREESWAP, S_TOTALHIGH, S_FREEHIGH, _S_MAX };

/* The sizes as bytes, from HOST (in its mem_unit) or the container's. */
static void sizes_bytes(const struct sysinfo *host, const struct sysinfo_inputs *in, uint64_t b[static _S_MAX]) {
        uint64_t unit = host->mem_unit ? host->mem_unit : 1;
        const unsigned long hv[_S_MAX] = { host->totalram, host->freeram, host->sharedram, host->bufferram,
                                           host->totalswap, host->freeswap, host->totalhigh, host->freehigh };

        for (int i = 0; i < _S_MAX; i++)
                b[i] = sat_mul(hv[i], unit);
        if (!in->mem)
                return;
        b[S_TOTALRAM] = in->mem->mem_total;
        b[S_FREERAM] = in->mem->mem_free;
        /* shmem, as meminfo's Shmem (clamped to the total like every line there) */
        b[S_SHAREDRAM] = in->m && in->m->shmem != CG_NONE ? min_u64(in->m->shmem, in->mem->mem_total) : 0;
        b[S_BUFFERRAM] = 0; /* meminfo's Buffers: not charged apart */
        b[S_TOTALSWAP] = in->mem->swap_total;
        b[S_FREESWAP] = in->mem->swap_free;
        b[S_TOTALHIGH] = b[S_FREEHIGH] = 0;
}

int sysinfo_view_compute(const struct sysinfo *host, const struct sysinfo_inputs *in, struct sysinfo *ret) {
        uint64_t b[_S_MAX], max = 0;
        unsigned unit = 1;
        struct sysinfo si;

        if (!host || !in || !ret)
                return -EINVAL;
        si = *host;
        sizes_bytes(host, in, b);
        for (int i = 0; i < _S_MAX; i++)
                if (b[i] > max)
                        max = b[i];
        /* the kernel does the same on 32-bit: a unit large enough */
        while (max / unit > ULONG_MAX && unit < (1u << 30))
                unit <<= 1;
        si.mem_unit = unit;
        si.totalram = b[S_TOTALRAM] / unit;
        si.freeram = b[S_FREERAM] / unit;
        si.sharedram = b[S_SHAREDRAM] / unit;
        si.bufferram = b[S_BUFFERRAM] / unit;
        si.totalswap = b[S_TOTALSWAP] / unit;
        si.freeswap = b[S_FREESWAP] / unit;
        si.totalhigh = b[S_TOTALHIGH] / unit;
        si.freehigh = b[S_FREEHIGH] / unit;
        if (in->load)
                for (int i = 0; i < 3; i++)
                        si.loads[i] = in->load->avenrun[i] << (SI_LOAD_SHIFT - LOAD_FSHIFT);
        if (in->uptime_ticks)
                si.uptime = *in->uptime_ticks / USER_HZ + (*in->uptime_ticks % USER_HZ != 0);
        if (in->procs)
                si.procs = *in->procs > USHRT_MAX ? USHRT_MAX : *in->procs;
        *ret = si;
        return 0;
}
