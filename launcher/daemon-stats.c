#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "daemon-parts.h"
#include "daemon-transport.h"
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
                .served_uring = atomic_load(&j.stats.served_uring),
                .transport = atomic_load(&j.stats.transport),
                .uring_queues = atomic_load(&j.stats.uring_queues),
                .heap_in_use = atomic_load(&j.stats.heap_in_use),
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
        const char *t = r < 0 ? NULL : daemon_transport_state_name(s.transport);
        json_object_object_add(into, "transport", t ? json_object_new_string(t) : NULL);
        json_object_object_add(into, "uring_queues", r < 0 ? NULL : json_object_new_int64((int64_t)s.uring_queues));
        json_object_object_add(into, "requests_served_uring",
                               r < 0 ? NULL : json_object_new_int64((int64_t)s.served_uring));
        json_object_object_add(into, "heap_in_use_bytes",
                               r < 0 || s.heap_in_use == 0 ? NULL : json_object_new_int64((int64_t)s.heap_in_use));
        return r;
}

void daemon_transport_print(FILE *f, pid_t holder) {
        struct daemon_stats s;
        int r = daemon_stats_read(holder, &s);
        const char *t = r < 0 ? NULL : daemon_transport_state_name(s.transport);

        if (r == -ENOENT)
                return;
        if (r < 0)
                fprintf(f, "  transport: unknown (the journal of pid %d: %s)\n", (int)holder, strerror(-r));
        else if (!t)
                fprintf(f, "  transport: unknown (state %" PRIu64 ")\n", s.transport);
        else if (streq(t, "uring"))
                fprintf(f, "  transport: io_uring (%" PRIu64 " queue%s), %" PRIu64 " of %" PRIu64
                           " requests through io_uring\n",
                        s.uring_queues, s.uring_queues == 1 ? "" : "s", s.served_uring, s.served);
        else
                fprintf(f, "  transport: /dev/fuse\n");
}

/* ---- the seccomp agent (fs/seccomp-agent.h), seen from the holder's fds ---- */

#define LISTENER_LINK "anon_inode:seccomp notify"

/* The path of the listening unix socket whose inode is INO (/proc/net/unix:
 * "Num RefCount Protocol Flags Type St Inode Path"); -ENOENT when none. */
static int unix_socket_path(unsigned long ino, char *buf, size_t size) {
        _cleanup_fclose_ FILE *f = fopen("/proc/net/unix", "re");
        char line[PATH_MAX + 128];

        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                unsigned long flags, inode;
                unsigned st;
                int off = 0;
                if (sscanf(line, "%*s %*s %*s %lx %*s %x %lu %n", &flags, &st, &inode, &off) != 3 || inode != ino ||
                    !off || line[off] != '/')
                        continue;
                line[strcspn(line, "\n")] = '\0';
                /* __SO_ACCEPTCON: a socket listen() was called on */
                if (!(flags & 0x10000))
                        continue;
                snprintf(buf, size, "%s", line + off);
                return 0;
        }
        return -ENOENT;
}

int daemon_agent_json(pid_t holder, json_object *into) {
        char dir[64], link[PATH_MAX], path[PATH_MAX] = "";
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int64_t listeners = 0;
        json_object *o;

        snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)holder);
        d = opendir(dir);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                unsigned long ino;
                ssize_t n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
                if (n <= 0)
                        continue;
                link[n] = '\0';
                if (streq(link, LISTENER_LINK))
                        listeners++;
                else if (!path[0] && sscanf(link, "socket:[%lu]", &ino) == 1)
                        (void)unix_socket_path(ino, path, sizeof(path));
        }
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "socket", path[0] ? json_object_new_string(path) : NULL);
        json_object_object_add(o, "listeners", json_object_new_int64(listeners));
        json_object_object_add(into, "seccomp_agent", o);
        return 0;
}
