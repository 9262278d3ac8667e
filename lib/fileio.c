#include "config.h"
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <stdarg.h>
#include "fileio.h"

void buf_free(struct buf *b) {
        free(b->data);
        *b = (struct buf){ 0 };
}

static int buf_reserve(struct buf *b, size_t extra) {
        if (b->err)
                return b->err;
        if (b->len + extra + 1 <= b->cap)
                return 0;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + extra + 1)
                cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
                return (b->err = -ENOMEM);
        b->data = d;
        b->cap = cap;
        return 0;
}

int buf_append(struct buf *b, const char *s, size_t n) {
        int r = buf_reserve(b, n);
        if (r < 0)
                return r;
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = 0;
        return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...) {
        va_list ap;
        char small[256];

        va_start(ap, fmt);
        int n = vsnprintf(small, sizeof(small), fmt, ap);
        va_end(ap);
        if (n < 0)
                return (b->err = -EINVAL);
        if ((size_t)n < sizeof(small))
                return buf_append(b, small, n);
        int r = buf_reserve(b, n);
        if (r < 0)
                return r;
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, n + 1, fmt, ap);
        va_end(ap);
        b->len += n;
        return 0;
}

int error_printf(char **ret_error, int err, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;

        if (!ret_error)
                return err;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) >= 0) {
                free(*ret_error);
                *ret_error = s;
        }
        va_end(ap);
        return err;
}

const char *device_registration_dir(void) {
        const char *d = getenv("CURATE_DEVICES_DIR");
        return d && *d ? d : CURATE_RUN_DIR "/devices";
}

int host_root_open(char **ret_error) {
        const char *root = getenv("CURATE_HOST_ROOT");
        int fd;

        if (!root || !*root)
                root = "/";
        fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return error_printf(ret_error, -errno, "CURATE_HOST_ROOT %s: %s", root, strerror(errno));
        return fd;
}

int open_beneath(int dirfd, const char *path, int flags) {
        static int have_openat2 = 1;
        int fd;

        /* no root to stay beneath: the path as given (an absolute one is
         * not taken relative to the working directory) */
        if (dirfd == AT_FDCWD) {
                fd = openat(AT_FDCWD, path, flags | O_CLOEXEC);
                return fd < 0 ? -errno : fd;
        }
        while (*path == '/')
                path++;
        if (!*path)
                path = ".";
        flags |= O_CLOEXEC;
        if (have_openat2) {
                struct open_how how = {
                        .flags = flags,
                        /* RESOLVE_IN_ROOT: ".." and absolute symlinks stay
                         * inside the root (openat2(2)); /proc/self-style magic
                         * links are still followed. */
                        .resolve = RESOLVE_IN_ROOT,
                };
                /* The kernel fails a RESOLVE_IN_ROOT walk with EAGAIN when
                 * a rename or a mount anywhere on the system races with it
                 * (openat2(2)): on a host where containers start all the
                 * time that is not rare. Walk again. */
                for (int tries = 0; tries < 64; tries++) {
                        fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
                        if (fd >= 0 || errno != EAGAIN)
                                break;
                }
                if (fd >= 0)
                        return fd;
                if (errno != ENOSYS)
                        return -errno;
                have_openat2 = 0;
        }
        fd = openat(dirfd, path, flags);
        return fd < 0 ? -errno : fd;
}

int read_fd_into(int fd, char *buf, size_t size) {
        size_t len = 0;

        for (;;) {
                if (len + 1 >= size)
                        return -EFBIG;
                ssize_t n = pread(fd, buf + len, size - 1 - len, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += n;
        }
        buf[len] = 0;
        return (int)len;
}

int read_file_at(int dirfd, const char *path, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = open_beneath(dirfd, path, O_RDONLY);
        _cleanup_free_ char *data = NULL;
        size_t cap = 4096, len = 0;

        if (fd < 0)
                return fd;
        for (;;) {
                if (!data || len + 1 >= cap) {
                        if (data)
                                cap *= 2;
                        if (cap > 64u << 20)
                                return -EFBIG;
                        char *d = realloc(data, cap);
                        if (!d)
                                return -ENOMEM;
                        data = d;
                }
                /* read(), not pread(): seq_file and cgroupfs files are streams */
                ssize_t n = read(fd, data + len, cap - 1 - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += n;
        }
        data[len] = 0;
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(data);
        return 0;
}

static const char *skip_space(const char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

static int parse_u64_prefix(const char *s, uint64_t *ret, const char **end) {
        uint64_t v = 0;

        s = skip_space(s);
        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        for (; isdigit((unsigned char)*s); s++) {
                unsigned d = *s - '0';
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = v;
        *end = s;
        return 0;
}

int parse_u64(const char *s, uint64_t *ret) {
        const char *e;
        uint64_t v;
        int r = parse_u64_prefix(s, &v, &e);
        if (r < 0)
                return r;
        while (*e == ' ' || *e == '\t' || *e == '\n')
                e++;
        if (*e)
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_u64_or_max(const char *s, uint64_t *ret) {
        s = skip_space(s);
        if (strncmp(s, "max", 3) == 0) {
                const char *e = s + 3;
                while (*e == ' ' || *e == '\t' || *e == '\n')
                        e++;
                if (*e)
                        return -EINVAL;
                *ret = UINT64_MAX;
                return 0;
        }
        return parse_u64(s, ret);
}

int keyed_u64(const char *text, const char *key, uint64_t *ret) {
        size_t kl = strlen(key);

        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
                if (strncmp(p, key, kl) != 0)
                        continue;
                const char *v = p + kl;
                if (*v == ':')
                        v++;
                if (*v != ' ' && *v != '\t')
                        continue;
                const char *e;
                uint64_t x;
                int r = parse_u64_prefix(v, &x, &e);
                if (r < 0)
                        return r;
                e = skip_space(e);
                if (*e && *e != '\n' && strncmp(e, "kB", 2) != 0)
                        return -EINVAL;
                *ret = x;
                return 0;
        }
        return -ENOENT;
}

int parse_cpu_list(const char *s, struct cpu_set_bits *ret) {
        struct cpu_set_bits set = { 0 };
        const char *p = skip_space(s);

        while (*p && *p != '\n') {
                uint64_t a, b;
                const char *e;
                int r = parse_u64_prefix(p, &a, &e);
                if (r < 0)
                        return -EINVAL;
                b = a;
                if (*e == '-') {
                        r = parse_u64_prefix(e + 1, &b, &e);
                        if (r < 0)
                                return -EINVAL;
                }
                if (a > b || b >= CPU_LIST_MAX)
                        return -ERANGE;
                for (uint64_t i = a; i <= b; i++)
                        set.bits[i / 64] |= 1ULL << (i % 64);
                if (*e == ',')
                        e++;
                else if (*e && *e != '\n' && *e != ' ')
                        return -EINVAL;
                p = skip_space(e);
        }
        *ret = set;
        return 0;
}

unsigned cpu_count(const struct cpu_set_bits *s) {
        unsigned n = 0;
        for (size_t i = 0; i < ELEMENTSOF(s->bits); i++)
                n += __builtin_popcountll(s->bits[i]);
        return n;
}

int write_all(int fd, const void *data, size_t len) {
        const char *p = data;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

int write_file_replace(const char *path, const char *text, char **ret_error) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *slash = strrchr(path, '/');
        int dirlen = slash ? (int)(slash - path + 1) : 0, r;

        if (strcmp(path, "-") == 0)
                return write_all(STDOUT_FILENO, text, strlen(text)) < 0
                               ? error_printf(ret_error, -EIO, "stdout: %s", strerror(errno))
                               : 0;
        if (asprintf(&tmp, "%.*s.%s.XXXXXX", dirlen, path, path + dirlen) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return error_printf(ret_error, -errno, "%s: %s", path, strerror(errno));
        r = write_all(fd, text, strlen(text));
        if (r == 0 && fchmod(fd, 0644) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return error_printf(ret_error, r, "%s: %s", path, strerror(-r));
        }
        return 0;
}

char *strtrim(char *s) {
        char *e = s + strlen(s);

        while (isspace((unsigned char)*s))
                s++;
        while (e > s && isspace((unsigned char)e[-1]))
                e--;
        *e = 0;
        return s;
}
