/* The host's files below /sys/devices/system/cpu as a reader sees them
 * (fs/view-cputree.c): render_cpu_file on a list ("0-3,8"), mask
 * ("ff,00000000"), cpufreq's spaced list ("0 1 2") or a plain file, and the
 * path checks (cpu_numbered_name, cputree_path_allowed, cpu_file_kind,
 * fs/cputree.c's cputree_ino/cputree_is_gate). The first byte picks the
 * kind; then, NUL-separated: the host text, the CPUs shown (a list) and a
 * path below the cpu directory. */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cputree.h"
#include "fuzz.h"
#include "views.h"

static void render(const char *host, enum cpu_file_kind kind, const struct cpu_set_bits *shown) {
        _cleanup_buf_ struct buf out = { 0 }, again = { 0 };
        struct cpu_set_bits s;

        if (render_cpu_file(host, kind, shown, &out) < 0 || out.err)
                return;
        char *text = fuzz_str((const uint8_t *)(out.data ? out.data : ""), out.len);
        /* cut once is cut: rendering the rendering changes nothing */
        if (render_cpu_file(text, kind, shown, &again) < 0 || again.len != out.len ||
            memcmp(again.data ? again.data : "", text, out.len) != 0)
                abort();
        /* a list shows only CPUs shown */
        if (kind == CPU_FILE_LIST && parse_cpu_list(text, &s) == 0)
                for (size_t i = 0; i < ELEMENTSOF(s.bits); i++)
                        if (s.bits[i] & ~shown->bits[i])
                                abort();
        free(text);
}

static void path(const char *rel, const struct cpu_set_bits *shown) {
        char first[64], back[80];
        unsigned cpu;
        size_t n = strcspn(rel, "/");

        (void)cpu_file_kind(rel);
        (void)cputree_ino(NULL, rel);
        (void)cputree_ino("run-1", rel);
        (void)cputree_is_gate(rel);
        bool allowed = cputree_path_allowed(rel, shown);
        if (n >= sizeof(first))
                return;
        memcpy(first, rel, n);
        first[n] = 0;
        if (!cpu_numbered_name(first, "cpu", &cpu))
                return;
        /* the number is the name's, written back the same */
        snprintf(back, sizeof(back), "cpu%u", cpu);
        if (strcmp(back, first) != 0 || allowed != !!cpu_bit(shown, cpu))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *segs[3];
        struct cpu_set_bits shown;
        unsigned kind = fuzz_pick(&data, &size, 4);

        fuzz_split(data, size, segs, ELEMENTSOF(segs));
        if (!segs[1] || parse_cpu_list(segs[1], &shown) < 0)
                (void)parse_cpu_list("0-3", &shown);
        if (segs[0])
                render(segs[0], (enum cpu_file_kind)kind, &shown);
        if (segs[2])
                path(segs[2], &shown);
        fuzz_segs_free(segs, ELEMENTSOF(segs));
        return 0;
}
