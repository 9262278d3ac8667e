/* cgroup v1 files (lib/cgroup-v1.c): memory.stat and the memory counters,
 * CFS quota, cpuset, cpuacct (per-CPU rows and usage_all), blkio throttle
 * statistics, tasks and cgroup.procs. */
#include "config.h"
#include "fuzz-cgroup.h"
#include "fuzz.h"

static const struct cg_fuzz_reader readers[] = {
        { "memory", { "memory.stat", "memory.usage_in_bytes", "memory.memsw.usage_in_bytes" } },
        { "cpu_quota", { "cpu.cfs_quota_us", "cpu.cfs_period_us", "../cpu.cfs_quota_us", "../cpu.cfs_period_us" } },
        { "cpuset", { "cpuset.effective_cpus" } },
        { "cpu_usage", { "cpuacct.usage_percpu_user", "cpuacct.usage_percpu_sys", "cpuacct.usage_user",
                         "cpuacct.usage_sys", "cpuacct.usage_all" } },
        { "io", { "blkio.throttle.io_service_bytes_recursive", "blkio.throttle.io_serviced_recursive" } },
        { "threads", { "tasks" } },
        { "procs", { "cgroup.procs" } },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        return cg_fuzz_run(&cg_v1_ops, 1, readers, ELEMENTSOF(readers), data, size);
}
