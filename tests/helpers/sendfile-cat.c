/* Test helper: reads a file the way busybox cat does, with sendfile(2),
 * which on Linux 6.5+ reads a FUSE file through the page cache up to the
 * inode's size (fuse_splice_read -> filemap_splice_read).
 *   sendfile-cat FILE         - sendfile FILE to stdout until it returns 0
 *   sendfile-cat loop FILE SECONDS KEY VALUE
 *                             - for SECONDS, read FILE again and again,
 *                               alternately with sendfile (into a memfd) and
 *                               read(); each text must be complete: not
 *                               empty, ending in a newline, its line "KEY:"
 *                               giving VALUE (KEY "-": no line checked), and
 *                               as many lines as the first text. Prints
 *                               "reads N bad M errors E" (E: the open or
 *                               read failed, counted apart from M, the
 *                               texts that came back wrong) and the first
 *                               bad text or error; exit 1 when M or E > 0
 *   sendfile-cat held FILE    - open once, read to EOF, print, "--"; then
 *                               for each line on stdin lseek(0)+read again
 *                               (top's way) and print, "--"
 *   sendfile-cat open FILE    - open only: prints "ok" or the errno name */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/sendfile.h>

#define MAX_TEXT (1 << 20)

static ssize_t send_all(int in, int out) {
        ssize_t total = 0, n;
        while ((n = sendfile(out, in, NULL, MAX_TEXT)) > 0)
                total += n;
        return n < 0 ? -errno : total;
}

/* FILE's text by sendfile into a memfd (WAY 0) or by read() (WAY 1) */
static ssize_t read_text(const char *path, int way, char *buf, size_t size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t len = 0, n;
        if (fd < 0)
                return -errno;
        if (way == 0) {
                int m = memfd_create("text", MFD_CLOEXEC);
                len = m < 0 ? -errno : send_all(fd, m);
                if (len > 0 && (size_t)len < size)
                        len = pread(m, buf, len, 0);
                if (m >= 0)
                        close(m);
        } else {
                while ((size_t)len < size && (n = read(fd, buf + len, size - len)) > 0)
                        len += n;
        }
        close(fd);
        return len;
}

static long lines_of(const char *text, ssize_t len) {
        long n = 0;
        for (ssize_t i = 0; i < len; i++)
                n += text[i] == '\n';
        return n;
}

static int good(const char *text, ssize_t len, const char *key, const char *value, long *lines) {
        char want[256];
        if (len <= 0 || text[len - 1] != '\n' || memchr(text, 0, len))
                return 0;
        if (*lines < 0)
                *lines = lines_of(text, len);
        if (lines_of(text, len) != *lines)
                return 0;
        if (strcmp(key, "-") == 0)
                return 1;
        snprintf(want, sizeof(want), "%s:", key);
        for (const char *l = text; l < text + len;) {
                const char *nl = memchr(l, '\n', text + len - l);
                char v[64];
                if (strncmp(l, want, strlen(want)) == 0)
                        return sscanf(l + strlen(want), "%63s", v) == 1 && strcmp(v, value) == 0;
                l = nl + 1;
        }
        return 0;
}

static int loop(const char *path, double seconds, const char *key, const char *value) {
        static char text[MAX_TEXT + 1];
        struct timespec t0, t;
        long reads = 0, bad = 0, errors = 0, lines = -1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        do {
                ssize_t len = read_text(path, reads % 2, text, MAX_TEXT);
                if (len < 0 && errors++ == 0)
                        printf("error %s: %s\n", reads % 2 ? "read" : "sendfile", strerrorname_np(-len));
                else if (len >= 0 && !good(text, len, key, value, &lines) && bad++ == 0) {
                        printf("bad %s (%zd bytes):\n", reads % 2 ? "read" : "sendfile", len);
                        if (len > 0)
                                fwrite(text, 1, len, stdout);
                        printf("<end>\n");
                }
                reads++;
                clock_gettime(CLOCK_MONOTONIC, &t);
        } while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
        printf("reads %ld bad %ld errors %ld\n", reads, bad, errors);
        return bad > 0 || errors > 0;
}

static int held(const char *path) {
        static char buf[MAX_TEXT];
        char line[64];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 1;
        do {
                ssize_t len = 0, n;
                if (lseek(fd, 0, SEEK_SET) != 0)
                        return 1;
                while ((n = read(fd, buf + len, sizeof(buf) - len)) > 0)
                        len += n;
                fwrite(buf, 1, len, stdout);
                printf("--\n");
                fflush(stdout);
        } while (fgets(line, sizeof(line), stdin));
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 2) {
                int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
                ssize_t r = fd < 0 ? -errno : send_all(fd, 1);
                if (r < 0)
                        fprintf(stderr, "sendfile-cat: %s: %s\n", argv[1], strerror(-r));
                return r < 0;
        }
        if (argc == 6 && strcmp(argv[1], "loop") == 0)
                return loop(argv[2], atof(argv[3]), argv[4], argv[5]);
        if (argc == 3 && strcmp(argv[1], "held") == 0)
                return held(argv[2]);
        if (argc == 3 && strcmp(argv[1], "open") == 0) {
                int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
                printf("%s\n", fd < 0 ? strerrorname_np(errno) : "ok");
                return 0;
        }
        fprintf(stderr, "usage: sendfile-cat FILE | loop FILE SECONDS KEY VALUE | held FILE | open FILE\n");
        return 2;
}
