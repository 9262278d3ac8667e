#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "views.h"

/* The files below /sys/devices/system/cpu that name CPUs, by file name
 * (Documentation/admin-guide/cputopology.rst, ABI/stable/sysfs-devices-system-cpu,
 * the cacheinfo and cpufreq ABI): each is cut to the CPUs the reader is
 * shown, so no sibling, cache sharer or policy member outside its set
 * shows through. Every other file is the host's. */
static const struct {
        const char *name;
        enum cpu_file_kind kind;
} cpu_files[] = {
        { "core_cpus_list", CPU_FILE_LIST },
        { "thread_siblings_list", CPU_FILE_LIST },
        { "core_siblings_list", CPU_FILE_LIST },
        { "package_cpus_list", CPU_FILE_LIST },
        { "die_cpus_list", CPU_FILE_LIST },
        { "cluster_cpus_list", CPU_FILE_LIST },
        { "book_siblings_list", CPU_FILE_LIST },
        { "drawer_siblings_list", CPU_FILE_LIST },
        { "shared_cpu_list", CPU_FILE_LIST },
        { "isolated", CPU_FILE_LIST },
        { "nohz_full", CPU_FILE_LIST },
        { "enabled", CPU_FILE_LIST },
        { "core_cpus", CPU_FILE_MASK },
        { "thread_siblings", CPU_FILE_MASK },
        { "core_siblings", CPU_FILE_MASK },
        { "package_cpus", CPU_FILE_MASK },
        { "die_cpus", CPU_FILE_MASK },
        { "cluster_cpus", CPU_FILE_MASK },
        { "book_siblings", CPU_FILE_MASK },
        { "drawer_siblings", CPU_FILE_MASK },
        { "shared_cpu_map", CPU_FILE_MASK },
        { "affected_cpus", CPU_FILE_SPACED },
        { "related_cpus", CPU_FILE_SPACED },
};

enum cpu_file_kind cpu_file_kind(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(cpu_files); i++)
                if (streq(cpu_files[i].name, name))
                        return cpu_files[i].kind;
        return CPU_FILE_PLAIN;
}

static int hex_value(char ch) {
        if (ch >= '0' && ch <= '9')
                return ch - '0';
        if (ch >= 'a' && ch <= 'f')
                return ch - 'a' + 10;
        if (ch >= 'A' && ch <= 'F')
                return ch - 'A' + 10;
        return -1;
}

/* "%*pb": 32-bit hex groups, most significant first, separated by commas.
 * Each digit is rewritten in place, so the width and the grouping stay the
 * host's. */
static int render_mask(const char *host, const struct cpu_set_bits *shown, struct buf *out) {
        _cleanup_free_ char *t = strdup(host);
        unsigned bit = 0;
        size_t len;

        if (!t)
                return -ENOMEM;
        len = strcspn(t, "\n");
        if (len == 0)
                return -EINVAL;
        for (size_t i = len; i-- > 0;) {
                int v = hex_value(t[i]);
                if (t[i] == ',')
                        continue;
                if (v < 0)
                        return -EINVAL;
                for (unsigned b = 0; b < 4; b++, bit++)
                        if (!cpu_bit(shown, bit))
                                v &= ~(1 << b);
                t[i] = "0123456789abcdef"[v];
        }
        buf_append(out, t, len);
        return buf_append(out, "\n", 1);
}

/* "0 1 2" (cpufreq): CPUs separated by blanks. */
static int parse_spaced(const char *s, struct cpu_set_bits *ret) {
        struct cpu_set_bits set = { { 0 } };
        char *e;

        for (const char *p = s; *p && *p != '\n';) {
                if (*p == ' ') {
                        p++;
                        continue;
                }
                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                unsigned long v = strtoul(p, &e, 10);
                if (v >= CPU_LIST_MAX)
                        return -ERANGE;
                set.bits[v / 64] |= 1ULL << (v % 64);
                p = e;
        }
        *ret = set;
        return 0;
}

int render_cpu_file(const char *host_text, enum cpu_file_kind kind, const struct cpu_set_bits *shown, struct buf *out) {
        struct cpu_set_bits s;
        int r;

        if (!host_text || !shown)
                return -EINVAL;
        switch (kind) {
        case CPU_FILE_PLAIN:
                return buf_append(out, host_text, strlen(host_text));
        case CPU_FILE_MASK:
                return render_mask(host_text, shown, out);
        case CPU_FILE_LIST:
        case CPU_FILE_SPACED:
                r = kind == CPU_FILE_LIST ? parse_cpu_list(host_text, &s) : parse_spaced(host_text, &s);
                if (r < 0)
                        return -EINVAL;
                for (size_t i = 0; i < ELEMENTSOF(s.bits); i++)
                        s.bits[i] &= shown->bits[i];
                cpu_list_format(&s, kind == CPU_FILE_LIST ? "," : " ", out);
                return buf_append(out, "\n", 1);
        }
        return -EINVAL;
}

bool cpu_numbered_name(const char *name, const char *prefix, unsigned *ret) {
        size_t n = strlen(prefix);
        unsigned long v;
        char *e;

        if (strncmp(name, prefix, n) != 0 || !isdigit((unsigned char)name[n]) ||
            (name[n] == '0' && name[n + 1] != 0))
                return false;
        v = strtoul(name + n, &e, 10);
        if (*e || v >= CPU_LIST_MAX)
                return false;
        *ret = v;
        return true;
}

/* The first component, and the one after a top-level "cpufreq", are the
 * names that carry a CPU number. */
bool cputree_path_allowed(const char *rel, const struct cpu_set_bits *shown) {
        char first[64];
        size_t n = strcspn(rel, "/");
        unsigned cpu;

        if (n >= sizeof(first))
                return true; /* no cpuN or cpufreq is that long */
        memcpy(first, rel, n);
        first[n] = 0;
        if (cpu_numbered_name(first, "cpu", &cpu))
                return cpu_bit(shown, cpu);
        if (streq(first, "cpufreq") && rel[n] == '/') {
                const char *second = rel + n + 1;
                size_t m = strcspn(second, "/");
                char name[64];
                if (m >= sizeof(name))
                        return true;
                memcpy(name, second, m);
                name[m] = 0;
                if (cpu_numbered_name(name, "policy", &cpu))
                        return cpu_bit(shown, cpu);
        }
        return true;
}
