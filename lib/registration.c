#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "fileio.h"
#include "macro.h"
#include "registration.h"

void reg_entries_free(struct reg_entry *e, size_t n) {
        for (size_t i = 0; e && i < n; i++)
                free(e[i].path);
        free(e);
}

bool reg_id_valid(const char *id) {
        size_t len = strlen(id);
        if (len == 0 || len > REG_ID_MAX || streq(id, ".") || streq(id, ".."))
                return false;
        return strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

/* Each "/"-separated component is a plain name: not empty, ".", "..". */
static bool path_valid(const char *p) {
        if (*p == 0 || *p == '/' || strlen(p) >= 4096)
                return false;
        for (const char *s = p; s;) {
                const char *e = strchr(s, '/');
                size_t len = e ? (size_t)(e - s) : strlen(s);
                if (len == 0 || len > 255 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
                        return false;
                s = e ? e + 1 : NULL;
        }
        return true;
}

static bool parse_uint(const char *s, int base, unsigned long max, unsigned long *ret) {
        char *end;
        if (!*s || !isdigit((unsigned char)*s))
                return false;
        errno = 0;
        unsigned long v = strtoul(s, &end, base);
        if (errno || *end || v > max)
                return false;
        *ret = v;
        return true;
}

/* "rwm" or a non-empty subset of it, each letter once, into "rwm" order. */
static bool parse_access(const char *s, char ret[static 4]) {
        char *a = ret;
        if (!*s || strlen(s) > 3 || strspn(s, "rwm") != strlen(s))
                return false;
        for (const char *k = "rwm"; *k; k++) {
                const char *p = strchr(s, *k);
                if (p && strchr(p + 1, *k))
                        return false;
                if (p)
                        *a++ = *k;
        }
        *a = 0;
        return true;
}

/* One non-blank, non-comment line (modified in place). */
static int parse_line(char *line, struct reg_entry *ret) {
        char *f[7], *save = NULL, access[4] = "rwm";
        int n = 0;
        for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
                if (n < 7)
                        f[n++] = t;
        unsigned long maj, min, mode;
        if ((n != 5 && n != 6) || !path_valid(f[0]) || strlen(f[1]) != 1 || (f[1][0] != 'c' && f[1][0] != 'b') ||
            !parse_uint(f[2], 10, 0xfff, &maj) || !parse_uint(f[3], 10, 0xfffff, &min) ||
            !parse_uint(f[4], 8, 07777, &mode) || (n == 6 && !parse_access(f[5], access)))
                return -EINVAL;
        char *p = strdup(f[0]);
        if (!p)
                return -ENOMEM;
        *ret = (struct reg_entry){ .path = p, .mode = (f[1][0] == 'c' ? S_IFCHR : S_IFBLK) | mode,
                                   .rdev = makedev(maj, min) };
        memcpy(ret->access, access, sizeof(access));
        return 0;
}

int reg_parse(const char *text, struct reg_entry **ret, unsigned *ret_line) {
        _cleanup_free_ char *copy = strdup(text);
        struct reg_entry *e = NULL;
        size_t n = 0;
        unsigned lineno = 0;

        if (!copy)
                return -ENOMEM;
        /* strsep, not strtok: blank lines still count for line numbers */
        for (char *line, *rest = copy; (line = strsep(&rest, "\n"));) {
                lineno++;
                char *s = line + strspn(line, " \t");
                if (*s == 0 || *s == '#')
                        continue;
                struct reg_entry *ne = realloc(e, (n + 1) * sizeof(*e));
                if (!ne) {
                        reg_entries_free(e, n);
                        return -ENOMEM;
                }
                e = ne;
                int r = parse_line(s, &e[n]);
                if (r < 0) {
                        reg_entries_free(e, n);
                        if (r == -EINVAL)
                                *ret_line = lineno;
                        return r;
                }
                n++;
        }
        *ret = e;
        return (int)n;
}

int reg_path(const char *id, char *buf, size_t size) {
        if (!reg_id_valid(id))
                return -EINVAL;
        int n = snprintf(buf, size, "%s/%s", device_registration_dir(), id);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int reg_read(const char *id, struct reg_entry **ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        char path[PATH_MAX];
        unsigned line = 0;
        int r;

        if ((r = reg_path(id, path, sizeof(path))) < 0)
                return error_printf(ret_error, r, "'%s': not a container id", id);
        r = read_file_at(AT_FDCWD, path, &text, NULL);
        if (r < 0)
                return error_printf(ret_error, r, "%s: %s", path, strerror(-r));
        r = reg_parse(text, ret, &line);
        if (r == -EINVAL)
                return error_printf(ret_error, r, "%s:%u: malformed registration line", path, line);
        return r < 0 ? error_printf(ret_error, r, "%s: %s", path, strerror(-r)) : r;
}

static int format(const struct reg_entry *e, size_t n, struct buf *b) {
        for (size_t i = 0; i < n; i++) {
                if (!path_valid(e[i].path) || (!S_ISCHR(e[i].mode) && !S_ISBLK(e[i].mode)))
                        return -EINVAL;
                buf_printf(b, "%s %c %u %u %04o %s\n", e[i].path, S_ISCHR(e[i].mode) ? 'c' : 'b',
                           major(e[i].rdev), minor(e[i].rdev), (unsigned)(e[i].mode & 07777),
                           e[i].access[0] ? e[i].access : "rwm");
        }
        return b->err;
}

int reg_write(const char *id, const struct reg_entry *e, size_t n, char **ret_error) {
        _cleanup_buf_ struct buf b = {};
        _cleanup_close_ int fd = -EBADF;
        char path[PATH_MAX], tmp[PATH_MAX + 8];
        const char *dir = device_registration_dir();
        int r;

        if ((r = reg_path(id, path, sizeof(path))) < 0)
                return error_printf(ret_error, r, "device registration '%s': %s", id, strerror(-r));
        if ((r = format(e, n, &b)) < 0)
                return error_printf(ret_error, r, "device registration %s: %s", path, strerror(-r));
        if (!getenv("CURATE_DEVICES_DIR"))
                (void)mkdir(CURATE_RUN_DIR, 0755);
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return error_printf(ret_error, -errno, "%s: %s", dir, strerror(errno));
        snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, id);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return error_printf(ret_error, -errno, "%s: %s", tmp, strerror(errno));
        if (b.len > 0 && write(fd, b.data, b.len) != (ssize_t)b.len) {
                r = errno ? -errno : -EIO;
                (void)unlink(tmp);
                return error_printf(ret_error, r, "%s: %s", tmp, strerror(-r));
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                (void)unlink(tmp);
                return error_printf(ret_error, r, "%s: %s", path, strerror(-r));
        }
        return 0;
}

int reg_remove(const char *id) {
        char path[PATH_MAX];
        int r = reg_path(id, path, sizeof(path));
        if (r < 0)
                return r;
        return unlink(path) < 0 ? -errno : 0;
}
