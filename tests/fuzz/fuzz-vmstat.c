/* /proc/vmstat for a cgroup (fs/view-vmstat.c render_vmstat): NUL-separated,
 * the host's /proc/vmstat text, the cgroup's memory.stat text (v1 or v2:
 * the event counters are looked up in it) and the figures as numbers:
 *   "PAGE_SIZE THP_SIZE MEM_FREE IO_KNOWN READ_BYTES WRITE_BYTES LIMIT USAGE
 *    SWAP_LIMIT SWAP_USAGE ANON FILE ..." (struct cg_memory's order)
 * Missing figures read as CG_NONE. What renders has the host's lines in the
 * host's order, each "NAME VALUE". */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "views.h"

#define NUMS_MAX 40

static size_t lines(const char *s) {
        size_t n = 0;
        for (; *s; n++)
                s += strcspn(s, "\n") + (s[strcspn(s, "\n")] == '\n');
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *segs[3];
        uint64_t f[NUMS_MAX];
        struct cg_memory m = { .swap_accounting = true };
        struct buf out = { 0 };

        fuzz_split(data, size, segs, ELEMENTSOF(segs));
        size_t n = fuzz_numbers(segs[2], " \t\n", f, NUMS_MAX);
        fuzz_memory(&m, f + 6, n > 6 ? n - 6 : 0);
        struct vmstat_input in = {
                .memory_stat = segs[1] ? segs[1] : "",
                .mem = &m,
                .page_size = n > 0 ? f[0] : 4096,
                .thp_size = n > 1 ? f[1] : 2 << 20,
                .mem_free = n > 2 ? f[2] : 0,
                .io_known = n > 3 && f[3],
                .read_bytes = n > 4 ? f[4] : 0,
                .write_bytes = n > 5 ? f[5] : 0,
        };
        if (render_vmstat(segs[0] ? segs[0] : "", &in, &out) == 0) {
                /* one "NAME VALUE" line per host line, nothing else */
                char *text = fuzz_str((const uint8_t *)(out.data ? out.data : ""), out.len);
                if (strlen(text) != out.len || lines(text) != lines(segs[0] ? segs[0] : "") ||
                    (out.len && out.data[out.len - 1] != '\n'))
                        abort();
                free(text);
        }
        buf_free(&out);
        fuzz_segs_free(segs, ELEMENTSOF(segs));
        return 0;
}
