#include "config.h"
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "fileio.h"
#include "pidcg.h"

/* ---- the reader's /proc/PID/cgroup, through fds kept per thread ----
 * Every request is answered for its reader's cgroups, read from
 * /proc/PID/cgroup: an open of that path (a walk through /proc), a read and
 * a close each time, a third of a serving thread's CPU under load (perf, 2
 * readers of meminfo over io_uring). An open file of /proc/PID/ names the
 * process it was opened for (the inode holds its struct pid), not the number:
 * once that process has exited, its show fails with ESRCH, also after the
 * number went to another process. So an fd kept from an earlier request is
 * read again (pread at 0: seq_file renders a record afresh at offset 0) and
 * answers only for the same process, with its cgroups as they are at that
 * read; nothing but the open is reused. A failed read drops the fd and the
 * path is opened once more (the process gone: ENOENT then, as before).
 *
 * Each thread keeps PIDCG_SLOTS fds, one slot per pid modulo PIDCG_SLOTS
 * (no lock, no sharing of a seq_file's mutex between threads); all threads
 * together keep at most an eighth of RLIMIT_NOFILE so the cache never takes
 * the fds the rendering needs. A slot names the curate instance it was
 * opened for (its generation): another instance may have another root. Only
 * files of a procfs are kept (a fixture tree's regular file replaced by a
 * rename would stay the old one). The fds are closed when their thread
 * exits. Nothing in a serving process closes fds it did not open (a kept
 * number reused for another file would be read as cgroups). */

#define PIDCG_SLOTS 32

struct pidcg_slot {
        pid_t pid;          /* 0: empty */
        int fd;
        uint64_t gen;
};

struct pidcg_table {
        struct pidcg_slot slot[PIDCG_SLOTS];
};

static pthread_once_t pidcg_once = PTHREAD_ONCE_INIT;
static pthread_key_t pidcg_key;
static bool pidcg_key_ok;
static atomic_int pidcg_kept;
static int pidcg_kept_max;
static atomic_uint_fast64_t pidcg_gens;

static void slot_drop(struct pidcg_slot *s) {
        if (!s->pid)
                return;
        close(s->fd);
        atomic_fetch_sub(&pidcg_kept, 1);
        *s = (struct pidcg_slot){ 0 };
}

static void table_free(void *p) {
        struct pidcg_table *t = p;
        for (size_t i = 0; i < PIDCG_SLOTS; i++)
                slot_drop(&t->slot[i]);
        free(t);
}

static void pidcg_setup(void) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
                pidcg_kept_max = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 65536 ? 8192 : (int)(rl.rlim_cur / 8);
        pidcg_key_ok = pthread_key_create(&pidcg_key, table_free) == 0;
}

uint64_t pidcg_generation(void) {
        return atomic_fetch_add(&pidcg_gens, 1) + 1;
}

int pidcg_kept_fds(void) {
        return atomic_load(&pidcg_kept);
}

/* one read of FD at offset 0 into BUF: length, -EFBIG, or -errno */
static int read_whole(int fd, char *buf, size_t size) {
        ssize_t n;
        do
                n = pread(fd, buf, size - 1, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if ((size_t)n >= size - 1)
                return -EFBIG;
        buf[n] = 0;
        return (int)n;
}

static struct pidcg_table *table_get(void) {
        pthread_once(&pidcg_once, pidcg_setup);
        if (!pidcg_key_ok)
                return NULL;
        struct pidcg_table *t = pthread_getspecific(pidcg_key);
        if (t)
                return t;
        t = calloc(1, sizeof(*t));
        if (t && pthread_setspecific(pidcg_key, t) != 0) {
                free(t);
                return NULL;
        }
        return t;
}

int pidcg_read(int root_fd, uint64_t gen, pid_t pid, char *buf, size_t size) {
        char path[32];
        int r;

        if (pid <= 0 || size < 2)
                return -EINVAL;
        struct pidcg_table *t = table_get();
        struct pidcg_slot *s = t ? &t->slot[(unsigned)pid % PIDCG_SLOTS] : NULL;
        if (s && s->pid == pid && s->gen == gen) {
                r = read_whole(s->fd, buf, size);
                if (r >= 0 || r == -EFBIG)
                        return r;
                slot_drop(s);  /* the process is gone: its number may be another's now */
        }
        snprintf(path, sizeof(path), "proc/%d/cgroup", (int)pid);
        int fd = open_beneath(root_fd, path, O_RDONLY);
        if (fd < 0)
                return fd;
        r = read_whole(fd, buf, size);
        struct statfs sf;
        if (r < 0 || !s || fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC) {
                close(fd);
                return r;
        }
        slot_drop(s);
        if (atomic_fetch_add(&pidcg_kept, 1) >= pidcg_kept_max) {
                atomic_fetch_sub(&pidcg_kept, 1);
                close(fd);
                return r;
        }
        *s = (struct pidcg_slot){ .pid = pid, .fd = fd, .gen = gen };
        return r;
}
