/* cgroup v2 files (lib/cgroup-v2.c): memory.stat, memory.current/max and
 * the swap pair, cpu.max, cpuset.cpus.effective, cpu.stat, io.stat,
 * cgroup.threads and cgroup.procs, and {cpu,memory,io}.pressure (read and
 * rendered as /proc/pressure/RESOURCE). */
#include "config.h"
#include "fuzz-cgroup.h"
#include "fuzz.h"

static const struct cg_fuzz_reader readers[] = {
        { "memory", { "memory.current", "memory.max", "memory.stat", "memory.swap.current", "memory.swap.max" } },
        { "cpu_quota", { "cpu.max", "../cpu.max" } },
        { "cpuset", { "cpuset.cpus.effective", "../cpuset.cpus.effective" } },
        { "cpu_usage", { "cpu.stat" } },
        { "io", { "io.stat" } },
        { "threads", { "cgroup.threads" } },
        { "procs", { "cgroup.procs" } },
        { "pressure", { "cpu.pressure", "memory.pressure", "io.pressure" } },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        return cg_fuzz_run(&cg_v2_ops, 2, readers, ELEMENTSOF(readers), data, size);
}
