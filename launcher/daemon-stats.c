#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "daemon-parts.h"
#include "journal.h"
#include "macro.h"

/* The running daemon's counters for `curate daemon status --json`: read,
 * read-only, from the holder's journal memfd (journal.h, struct
 * journal_stats) through /proc/HOLDER/fd/N, the one place that outlives
 * every serving process. Other tools get them from that JSON. */

#define JOURNAL_LINK "/memfd:curatefs-journal" /* memfd_create(2)'s link text, " (deleted)" after it */

/* An fd of the holder's journal, opened read-only; -errno (-ENOENT: none,
 * an old-style single-process curatefs). */
static int open_journal(pid_t holder) {
        char dir[64], link[PATH_MAX];
        _cleanup_close_ int dfd = -EBADF;
        DIR *d;
        struct dirent *de;
        int fd = -ENOENT;

        snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)holder);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        dfd = -EBADF; /* now the DIR's */
        while ((de = readdir(d)) && fd == -ENOENT) {
                ssize_t n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
                if (n <= 0)
                        continue;
                link[n] = '\0';
                if (strncmp(link, JOURNAL_LINK, strlen(JOURNAL_LINK)) != 0)
                        continue;
                fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        fd = -errno;
        }
        closedir(d);
        return fd;
}

int daemon_stats_read(pid_t holder, struct daemon_stats *ret) {
        _cleanup_close_ int fd = open_journal(holder);
        struct journal j;
        ssize_t n;

        if (fd < 0)
                return fd;
        /* one pread: the counters are aligned 64-bit words the kernel copies
         * whole, each a value some serving process stored */
        n = pread(fd, &j, sizeof(j), 0);
        if (n < 0)
                return -errno;
        if ((size_t)n < sizeof(j) || j.head.magic != JOURNAL_MAGIC)
                return -EBADMSG;
        *ret = (struct daemon_stats){
                .served = atomic_load(&j.stats.served),
                .failed = atomic_load(&j.stats.failed),
                .restarts = atomic_load(&j.stats.restarts),
                .readers = atomic_load(&j.stats.readers),
        };
        return 0;
}

int daemon_stats_json(pid_t holder, json_object *into) {
        struct daemon_stats s;
        int r = daemon_stats_read(holder, &s);

        json_object_object_add(into, "restarts", r < 0 ? NULL : json_object_new_int64((int64_t)s.restarts));
        json_object_object_add(into, "requests_served", r < 0 ? NULL : json_object_new_int64((int64_t)s.served));
        json_object_object_add(into, "requests_failed", r < 0 ? NULL : json_object_new_int64((int64_t)s.failed));
        json_object_object_add(into, "readers", r < 0 ? NULL : json_object_new_int64((int64_t)s.readers));
        return r;
}
