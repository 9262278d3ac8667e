/* sysinfo(2) for a container: the figures (fs/view-sysinfo.c
 * sysinfo_view_compute), the registration file curatefs reads from
 * /run/curate/sysinfo (fs/sysinfo-notify.c sysinfo_reg_read, written by
 * the launcher's sysinfo_reg_write) and the pending-slot file both map
 * (sysinfo_pending_map; the checks of fs/sysinfo-listen.c recover() and
 * launcher/sysinfo-guard.c). The first byte picks:
 *   0: numbers "HOST_FIELDS(8) MEM_UNIT LOADS(3) PROCS UPTIME | MEM_VIEW(5)
 *      SHMEM AVENRUN(3) UPTIME_TICKS PROCS" (missing: input absent)
 *   1: a registration file's text; what parses is written back and read
 *      again and must be equal
 *   2: the pending file's bytes (NULs included) */
#include "config.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuzz.h"
#include "sysinfo-notify.h"
#include "views.h"

#define NUMS_MAX 32

static void compute(const char *text) {
        uint64_t f[NUMS_MAX] = { 0 };
        size_t n = fuzz_numbers(text, " \t\n|", f, NUMS_MAX);
        struct sysinfo host = {
                .totalram = f[0], .freeram = f[1], .sharedram = f[2], .bufferram = f[3],
                .totalswap = f[4], .freeswap = f[5], .totalhigh = f[6], .freehigh = f[7],
                .mem_unit = (unsigned)f[8], .loads = { f[9], f[10], f[11] },
                .procs = (unsigned short)f[12], .uptime = (long)f[13],
        };
        struct mem_view mv = { f[14], f[15], f[16], f[17], f[18] };
        struct cg_memory m = { .shmem = n > 19 ? f[19] : CG_NONE };
        struct loadavg_state load = { { f[20], f[21], f[22] } };
        uint64_t ticks = f[23];
        unsigned procs = (unsigned)f[24];
        struct sysinfo_inputs in = {
                .mem = n > 14 ? &mv : NULL,
                .m = n > 19 ? &m : NULL,
                .load = n > 20 ? &load : NULL,
                .uptime_ticks = n > 23 ? &ticks : NULL,
                .procs = n > 24 ? &procs : NULL,
        };
        struct sysinfo si;

        if (sysinfo_view_compute(&host, &in, &si) < 0)
                abort();
        /* mem_unit is a power of two; sharedram never above totalram */
        if (si.mem_unit == 0 || (si.mem_unit & (si.mem_unit - 1)) || (in.mem && si.sharedram > si.totalram))
                abort();
}

static void registration(const char *text) {
        int dir = fuzz_dir();
        struct sysinfo_reg reg, back;
        char *error = NULL;

        fuzz_put(dir, "sysinfo/run-1", text);
        if (sysinfo_reg_read(dir, "sysinfo/run-1", &reg) >= 0)
                abort(); /* a name with a '/' is no registration's */
        int sub = openat(dir, "sysinfo", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (sub < 0)
                abort();
        if (sysinfo_reg_read(sub, "run-1", &reg) == 0) {
                if (reg.pid <= 0 || reg.fd < 0)
                        abort();
                if (sysinfo_reg_write("run-2", &reg, &error) < 0 || sysinfo_reg_read(sub, "run-2", &back) < 0 ||
                    back.pid != reg.pid || back.start != reg.start || back.fd != reg.fd)
                        abort();
        }
        free(error);
        close(sub);
}

static void pending(const uint8_t *data, size_t size) {
        char path[4096];
        struct sysinfo_pending *p;
        int fd;

        snprintf(path, sizeof(path), "%s/sysinfo/.pending", fuzz_dir_path());
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
                abort();
        close(fd);
        if (sysinfo_pending_map(&p) < 0)
                abort();
        if (p->magic != SYSINFO_PENDING_MAGIC)
                abort();
        for (unsigned i = 0; i < SYSINFO_SLOTS; i++) {
                struct sysinfo_slot *s = &p->slot[i];
                /* what recover() and the launcher's orphan scan look at */
                s->id[SYSINFO_ID_MAX] = 0;
                if (sysinfo_slot_pending(s) && strlen(s->id) > SYSINFO_ID_MAX)
                        abort();
                (void)strncmp(s->id, "run-1", sizeof(s->id));
        }
        sysinfo_pending_unmap(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static bool init;
        unsigned which = fuzz_pick(&data, &size, 3);

        if (!init) {
                char dir[4096];
                snprintf(dir, sizeof(dir), "%s/sysinfo", fuzz_dir_path());
                fuzz_mkdirs(fuzz_dir(), "sysinfo");
                setenv("CURATE_SYSINFO_DIR", dir, 1);
                init = true;
        }
        if (which == 2) {
                pending(data, size);
                return 0;
        }
        char *text = fuzz_str(data, size);
        if (which == 0)
                compute(text);
        else
                registration(text);
        free(text);
        return 0;
}
