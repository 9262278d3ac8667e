#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fileio.h"
#include "ps-parse.h"

int ps_parse_memory(const char *text, uint64_t *ret) {
        uint64_t v;
        int r = parse_u64_or_max(text, &v);

        if (r < 0)
                return r;
        *ret = v >= (UINT64_C(1) << 62) ? PS_NONE : v;
        return 0;
}

int ps_parse_pids(const char *text, uint64_t *ret) {
        uint64_t v;
        int r = parse_u64_or_max(text, &v);

        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

static int quota_ratio(const char *quota, const char *period, uint64_t *ret_milli) {
        uint64_t q, p;

        if (parse_u64(quota, &q) < 0 || parse_u64(period, &p) < 0 || p == 0)
                return -EINVAL;
        *ret_milli = q * 1000 / p;
        return 0;
}

int ps_parse_cpus(const char *quota_text, const char *period_text, uint64_t *ret_milli) {
        char quota[32], period[32];

        if (period_text) { /* v1 */
                if (sscanf(quota_text, "%31s", quota) != 1)
                        return -EINVAL;
                if (quota[0] == '-') {
                        if (strcmp(quota, "-1") != 0)
                                return -EINVAL;
                        *ret_milli = PS_NONE;
                        return 0;
                }
                if (sscanf(period_text, "%31s", period) != 1)
                        return -EINVAL;
                return quota_ratio(quota, period, ret_milli);
        }
        if (sscanf(quota_text, "%31s %31s", quota, period) != 2)
                return -EINVAL;
        if (strcmp(quota, "max") == 0) {
                *ret_milli = PS_NONE;
                return 0;
        }
        return quota_ratio(quota, period, ret_milli);
}

char *ps_cmdline_join(const char *data, size_t len) {
        char *s;

        while (len > 0 && data[len - 1] == '\0')
                len--;
        s = malloc(len + 1);
        if (!s)
                return NULL;
        for (size_t i = 0; i < len; i++)
                s[i] = data[i] == '\0' ? ' ' : (unsigned char)data[i] < 0x20 || data[i] == 0x7f ? '?' : data[i];
        s[len] = '\0';
        return s;
}

int ps_stat_starttime(const char *stat_text, uint64_t *ret) {
        const char *p = strrchr(stat_text, ')');
        unsigned long long v;

        if (!p)
                return -EINVAL;
        p++;
        /* after the name: state is field 3; skip fields 3..21 */
        for (int field = 3; field < 22; field++) {
                p += strspn(p, " ");
                if (!*p)
                        return -EINVAL;
                p += strcspn(p, " ");
        }
        if (sscanf(p, " %llu", &v) != 1)
                return -EINVAL;
        *ret = v;
        return 0;
}

void ps_format_age(int64_t seconds, char *buf, size_t size) {
        if (seconds < 0)
                snprintf(buf, size, "-");
        else if (seconds < 120)
                snprintf(buf, size, "%llds", (long long)seconds);
        else if (seconds < 2 * 3600)
                snprintf(buf, size, "%lldm", (long long)seconds / 60);
        else if (seconds < 2 * 86400)
                snprintf(buf, size, "%lldh", (long long)seconds / 3600);
        else
                snprintf(buf, size, "%lldd", (long long)seconds / 86400);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo (the
 * kernel's show_path/mangle) */
static char *unescape_octal(const char *s, size_t len) {
        char *out = malloc(len + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++)
                if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
                    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
                        *o++ = (char)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
                        i += 3;
                } else
                        *o++ = s[i];
        *o = '\0';
        return out;
}

/* the Nth space-separated field of LINE (0-based), its length in *LEN */
static const char *field(const char *line, int n, size_t *len) {
        const char *p = line;

        for (int i = 0; i < n; i++) {
                p += strcspn(p, " \n");
                if (*p != ' ')
                        return NULL;
                p++;
        }
        *len = strcspn(p, " \n");
        return *len ? p : NULL;
}

int ps_mountinfo_view(const char *line, char **ret_target) {
        const char *root, *target, *sep, *type;
        size_t root_len = 0, target_len = 0, type_len;
        static const char fstype[] = "fuse.curatefs";

        root = field(line, 3, &root_len);
        target = field(line, 4, &target_len);
        /* optional fields come between the options and " - " */
        sep = target ? strstr(target, " - ") : NULL;
        if (!root || !target || !sep)
                return -EINVAL;
        type = sep + 3;
        type_len = strcspn(type, " \n");
        if (type_len != sizeof(fstype) - 1 || strncmp(type, fstype, type_len) != 0 ||
            (root_len == 1 && root[0] == '/'))
                return 0;
        if (!(*ret_target = unescape_octal(target, target_len)))
                return -ENOMEM;
        return 1;
}

int ps_engine_id(const char *leaf, char ret[65]) {
        static const char *const prefixes[] = { "libpod-", "docker-", "crio-", "" };
        const char *hex = "0123456789abcdef";

        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
                size_t pl = strlen(prefixes[i]);
                const char *p = leaf + pl;
                if (strncmp(leaf, prefixes[i], pl) != 0 || strspn(p, hex) != 64 ||
                    (p[64] != '\0' && strcmp(p + 64, ".scope") != 0))
                        continue;
                memcpy(ret, p, 64);
                ret[64] = '\0';
                return 0;
        }
        return -ENOENT;
}

int ps_proc_cgroup_v1(const char *text, const char *controller, char **ret) {
        size_t cl = strlen(controller);

        for (const char *line = text; line && *line;) {
                const char *end = line + strcspn(line, "\n");
                const char *c1 = memchr(line, ':', end - line);
                const char *c2 = c1 ? memchr(c1 + 1, ':', end - c1 - 1) : NULL;

                /* "ID:CTRL,CTRL:PATH": CONTROLLER as a whole item of the list */
                for (const char *p = c1 ? c1 + 1 : NULL; c2 && p < c2;) {
                        size_t n = strcspn(p, ",:");
                        if (n == cl && strncmp(p, controller, cl) == 0) {
                                if (!(*ret = strndup(c2 + 1, end - c2 - 1)))
                                        return -ENOMEM;
                                return 0;
                        }
                        p += n + (p[n] == ',');
                }
                line = *end ? end + 1 : NULL;
        }
        return -ENOENT;
}
