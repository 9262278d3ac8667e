/* The per-process /proc files curatefs reads to serve a view (fs/gather.c):
 * /proc/PID/stat (task states, start times), /proc/PID/status (NSpid,
 * PPid), /proc/uptime and the online CPU list, with the host text of the
 * view, through curate_render on a private copy of the v1 fixture tree
 * (tests/fixtures/v1: reader pid 300 in cgroup /outer/inner with 301),
 * one daemon state across inputs.
 * The first byte picks the view (low 3 bits) and whether pid 300 has a pid
 * namespace of its own (bit 3: the NSpid walk). Then, NUL-separated:
 * proc/300/stat, proc/301/stat, proc/300/status, proc/uptime, the view's
 * host file (proc/meminfo, cpuinfo, stat or diskstats) and
 * sys/devices/system/cpu/online. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "curatefs.h"
#include "fuzz.h"

static void quiet(const char *msg) {
}

static uint64_t fake_clock(void) {
        static uint64_t now = 1000000000000ULL;
        return now += CACHE_TTL_NS * 3;
}

static const char *host_file(enum view_id v) {
        switch (v) {
        case VIEW_MEMINFO:
        case VIEW_SWAPS:
                return "proc/meminfo";
        case VIEW_CPUINFO:
                return "proc/cpuinfo";
        case VIEW_DISKSTATS:
                return "proc/diskstats";
        default:
                return "proc/stat";
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static bool ready;
        int root = fuzz_dir();
        static struct curate *c;
        char *segs[6];
        struct snap *s = NULL;

        if (!ready) {
                char cmd[512];
                snprintf(cmd, sizeof(cmd), "cp -a '%s/v1/.' '%s/'", FIXTURES, fuzz_dir_path());
                if (system(cmd) != 0)
                        abort();
                fuzz_mkdirs(root, "proc/300/ns");
                fuzz_mkdirs(root, "proc/301");
                fuzz_mkdirs(root, "sys/devices/system/cpu");
                ready = true;
        }
        unsigned pick = fuzz_pick(&data, &size, 256);
        enum view_id v = (pick & 7) % _VIEW_MAX;
        fuzz_split(data, size, segs, ELEMENTSOF(segs));
        fuzz_put(root, "proc/300/stat", segs[0]);
        fuzz_put(root, "proc/301/stat", segs[1]);
        fuzz_put(root, "proc/300/status", segs[2]);
        fuzz_put(root, "proc/uptime", segs[3]);
        fuzz_put(root, host_file(v), segs[4]);
        fuzz_put(root, "sys/devices/system/cpu/online", segs[5]);
        fuzz_put(root, "proc/300/ns/pid", pick & 8 ? "" : NULL);

        /* one daemon for the whole run, as curatefs keeps one: the files
         * change under it between reads, and the clock moves past every
         * cache's lifetime each time */
        if (!c) {
                if (!(c = calloc(1, sizeof(*c))) || curate_init(c, fuzz_dir_path(), quiet) < 0)
                        abort();
                c->now = fake_clock;
        }
        if (curate_render(c, v, 300, &s) == 0)
                snap_unref(s);
        fuzz_segs_free(segs, ELEMENTSOF(segs));
        return 0;
}
