/* CPU lists (lib/fileio.c parse_cpu_list): cpuset.cpus.effective,
 * cpuset.effective_cpus and /sys/devices/system/cpu/online. A list that
 * parses must give a CPU view whose rendering (cpu/online) parses back to
 * the same CPUs. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "views.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = fuzz_str(data, size);
        struct cpu_set_bits set, again;
        struct cpu_view *v = malloc(sizeof(*v));
        struct buf out = { 0 };

        if (!v)
                abort();
        if (parse_cpu_list(text, &set) == 0 && cpu_view_compute(&set, CG_NONE, 100000, v) == 0) {
                if (render_cpu_online(v, &out) < 0 || buf_append(&out, "", 1) < 0)
                        abort();
                if (parse_cpu_list(out.data, &again) < 0 || cpu_count(&again) != v->n)
                        abort();
        }
        buf_free(&out);
        free(v);
        free(text);
        return 0;
}
