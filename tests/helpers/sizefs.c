/* Test helper: a FUSE file system of one file, f, whose reported size and
 * served length are read from CTL ("SIZE LENGTH") at every request, opened
 * direct_io like curatefs's views; each READ is logged to stderr as
 * "READ OFFSET SIZE pagecache|direct" (a page cache fill carries no lock
 * owner, a direct read() one). It shows what the running kernel does with
 * a size that differs from the text (test-run-busybox-cat.sh).
 *   sizefs CTL MOUNTPOINT [FUSE OPTIONS] */
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fuse.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *ctl_path;

static void ctl(long *size, long *len) {
        FILE *f = fopen(ctl_path, "re");
        *size = *len = 0;
        if (f) {
                if (fscanf(f, "%ld %ld", size, len) != 2 || *len < 0 || *len > 65536)
                        *size = *len = 0;
                fclose(f);
        }
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
        long size, len;
        memset(st, 0, sizeof(*st));
        if (strcmp(path, "/") == 0) {
                st->st_mode = S_IFDIR | 0755;
                st->st_nlink = 2;
                return 0;
        }
        if (strcmp(path, "/f") != 0)
                return -ENOENT;
        ctl(&size, &len);
        st->st_mode = S_IFREG | 0444;
        st->st_nlink = 1;
        st->st_size = size;
        return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi) {
        fi->direct_io = 1;
        fi->keep_cache = 0;
        return 0;
}

/* lines of "abcdefghi\n" */
static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
        long s, len;
        size_t n = 0;
        ctl(&s, &len);
        fprintf(stderr, "READ %ld %zu %s\n", (long)off, size, fi->lock_owner ? "direct" : "pagecache");
        for (long i = off; i < len && n < size; i++)
                buf[n++] = i % 10 == 9 ? '\n' : 'a' + i % 10;
        return n;
}

static const struct fuse_operations ops = { .getattr = fs_getattr, .open = fs_open, .read = fs_read };

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: sizefs CTL MOUNTPOINT [FUSE OPTIONS]\n");
                return 2;
        }
        ctl_path = argv[1];
        argv[1] = argv[0];
        return fuse_main(argc - 1, argv + 1, &ops, NULL);
}
