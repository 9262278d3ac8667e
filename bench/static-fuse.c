/* static-fuse: the FUSE transport floor for the curatefs benchmarks.
 *
 * A minimal libfuse3 low-level server with one static 1.5 KiB file, "meminfo",
 * at its root. It does no work per request beyond copying bytes, so the
 * reads/s it sustains is what any FUSE daemon on this kernel can at most reach
 * with the same request pattern. Like LXCFS and curatefs it opens with
 * direct_io, so every open + read-to-EOF + close costs
 * OPEN + READ + READ(EOF) + RELEASE, and lseek(0) + read costs one READ.
 * It runs libfuse's single-threaded fuse_session_loop, the fastest loop
 * measured here (see shared/notes/platform.md).
 *
 *   static-fuse MOUNTPOINT      (foreground; SIGINT/SIGTERM unmount and exit)
 */
#define FUSE_USE_VERSION 35

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_INO 2
#define FILE_NAME "meminfo"

/* A real /proc/meminfo of a 24 GiB 6.x host: 1,475 bytes, the size curatefs and
 * LXCFS render. */
static const char meminfo[] =
        "MemTotal:       24683620 kB\n"
        "MemFree:        24317180 kB\n"
        "MemAvailable:   24335992 kB\n"
        "Buffers:            3544 kB\n"
        "Cached:           199712 kB\n"
        "SwapCached:            0 kB\n"
        "Active:            83840 kB\n"
        "Inactive:         117388 kB\n"
        "Active(anon):       1528 kB\n"
        "Inactive(anon):     5332 kB\n"
        "Active(file):      82312 kB\n"
        "Inactive(file):   112056 kB\n"
        "Unevictable:       13392 kB\n"
        "Mlocked:           12464 kB\n"
        "SwapTotal:             0 kB\n"
        "SwapFree:              0 kB\n"
        "Zswap:                 0 kB\n"
        "Zswapped:              0 kB\n"
        "Dirty:               284 kB\n"
        "Writeback:             0 kB\n"
        "AnonPages:         11384 kB\n"
        "Mapped:            10804 kB\n"
        "Shmem:              8884 kB\n"
        "KReclaimable:      60028 kB\n"
        "Slab:              81760 kB\n"
        "SReclaimable:      60028 kB\n"
        "SUnreclaim:        21732 kB\n"
        "KernelStack:        1368 kB\n"
        "PageTables:         1344 kB\n"
        "SecPageTables:         0 kB\n"
        "NFS_Unstable:          0 kB\n"
        "Bounce:                0 kB\n"
        "WritebackTmp:          0 kB\n"
        "CommitLimit:    12341808 kB\n"
        "Committed_AS:      56236 kB\n"
        "VmallocTotal:   34359738367 kB\n"
        "VmallocUsed:       14156 kB\n"
        "VmallocChunk:          0 kB\n"
        "Percpu:              712 kB\n"
        "AnonHugePages:         0 kB\n"
        "ShmemHugePages:        0 kB\n"
        "ShmemPmdMapped:        0 kB\n"
        "FileHugePages:         0 kB\n"
        "FilePmdMapped:         0 kB\n"
        "Balloon:               0 kB\n"
        "HugePages_Total:       0\n"
        "HugePages_Free:        0\n"
        "HugePages_Rsvd:        0\n"
        "HugePages_Surp:        0\n"
        "Hugepagesize:       2048 kB\n"
        "Hugetlb:               0 kB\n"
        "DirectMap4k:       32768 kB\n"
        "DirectMap2M:    25133056 kB\n";

#define MEMINFO_SIZE (sizeof(meminfo) - 1)

/* libfuse's own defaults (and what LXCFS runs with): entries and attributes
 * are cached for 1 s, so a path walk costs no LOOKUP most of the time. */
#define CACHE_TIMEOUT 1.0

static int fill_stat(fuse_ino_t ino, struct stat *st) {
        memset(st, 0, sizeof(*st));
        st->st_ino = ino;
        if (ino == FUSE_ROOT_ID) {
                st->st_mode = S_IFDIR | 0555;
                st->st_nlink = 2;
        } else if (ino == FILE_INO) {
                st->st_mode = S_IFREG | 0444;
                st->st_nlink = 1;
                st->st_size = MEMINFO_SIZE;
        } else
                return -ENOENT;
        return 0;
}

static void sf_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
        struct fuse_entry_param e = {
                .ino = FILE_INO,
                .attr_timeout = CACHE_TIMEOUT,
                .entry_timeout = CACHE_TIMEOUT,
        };

        if (parent != FUSE_ROOT_ID || strcmp(name, FILE_NAME) != 0) {
                fuse_reply_err(req, ENOENT);
                return;
        }
        fill_stat(FILE_INO, &e.attr);
        fuse_reply_entry(req, &e);
}

static void sf_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        struct stat st;

        if (fill_stat(ino, &st) < 0) {
                fuse_reply_err(req, ENOENT);
                return;
        }
        fuse_reply_attr(req, &st, CACHE_TIMEOUT);
}

static void sf_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        if (ino != FILE_INO) {
                fuse_reply_err(req, EISDIR);
                return;
        }
        if ((fi->flags & O_ACCMODE) != O_RDONLY) {
                fuse_reply_err(req, EACCES);
                return;
        }
        /* The request pattern of LXCFS and curatefs: no page cache, every
         * read goes to the daemon. */
        fi->direct_io = 1;
        fuse_reply_open(req, fi);
}

static void sf_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi) {
        if (off < 0 || (size_t) off >= MEMINFO_SIZE) {
                fuse_reply_buf(req, NULL, 0);
                return;
        }
        if (size > MEMINFO_SIZE - (size_t) off)
                size = MEMINFO_SIZE - (size_t) off;
        fuse_reply_buf(req, meminfo + off, size);
}

static void sf_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        fuse_reply_err(req, 0);
}

/* The directory never changes: its entries are encoded once, on first use. */
static char dirbuf[256];
static size_t dirbuf_size;

static void build_dirbuf(fuse_req_t req) {
        static const struct {
                const char *name;
                fuse_ino_t ino;
        } entries[] = {
                { ".", FUSE_ROOT_ID },
                { "..", FUSE_ROOT_ID },
                { FILE_NAME, FILE_INO },
        };

        for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
                struct stat st = { .st_ino = entries[i].ino };
                size_t need = fuse_add_direntry(req, NULL, 0, entries[i].name, NULL, 0);

                fill_stat(entries[i].ino, &st);
                fuse_add_direntry(req, dirbuf + dirbuf_size, need, entries[i].name, &st,
                                  (off_t) (dirbuf_size + need));
                dirbuf_size += need;
        }
}

static void sf_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi) {
        if (ino != FUSE_ROOT_ID) {
                fuse_reply_err(req, ENOTDIR);
                return;
        }
        if (dirbuf_size == 0)
                build_dirbuf(req);
        if (off < 0 || (size_t) off >= dirbuf_size) {
                fuse_reply_buf(req, NULL, 0);
                return;
        }
        if (size > dirbuf_size - (size_t) off)
                size = dirbuf_size - (size_t) off;
        fuse_reply_buf(req, dirbuf + off, size);
}

static const struct fuse_lowlevel_ops sf_ops = {
        .lookup = sf_lookup,
        .getattr = sf_getattr,
        .open = sf_open,
        .read = sf_read,
        .release = sf_release,
        .readdir = sf_readdir,
};

int main(int argc, char *argv[]) {
        char *fuse_argv[] = { argv[0], "-o", "ro,fsname=static-fuse,subtype=static-fuse", NULL };
        struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
        struct fuse_session *se;
        int r = 1;

        if (argc != 2 || argv[1][0] == '-') {
                fprintf(stderr, "usage: %s MOUNTPOINT\n", argv[0]);
                return 2;
        }

        se = fuse_session_new(&args, &sf_ops, sizeof(sf_ops), NULL);
        if (!se) {
                fprintf(stderr, "static-fuse: cannot create a FUSE session\n");
                fuse_opt_free_args(&args);
                return 1;
        }
        if (fuse_set_signal_handlers(se) != 0) {
                fprintf(stderr, "static-fuse: cannot install signal handlers\n");
                goto out_destroy;
        }
        if (fuse_session_mount(se, argv[1]) != 0) {
                fprintf(stderr, "static-fuse: cannot mount on %s\n", argv[1]);
                goto out_signals;
        }

        /* A positive return is the signal that ended the loop: a clean exit. */
        r = fuse_session_loop(se) < 0;

        fuse_session_unmount(se);
out_signals:
        fuse_remove_signal_handlers(se);
out_destroy:
        fuse_session_destroy(se);
        fuse_opt_free_args(&args);
        return r;
}
