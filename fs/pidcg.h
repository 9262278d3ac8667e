#pragma once
/* The reader's /proc/PID/cgroup, read through fds each serving thread keeps
 * (pidcg.c says why that is exact: a kept fd answers only for the process it
 * was opened for, and is read afresh each time). */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A new generation for a curate instance: slots opened for another one are
 * not used (it may have another host root). */
uint64_t pidcg_generation(void);

/* Read PID's ROOT_FD/proc/PID/cgroup whole into BUF (NUL-terminated): its
 * length, -EFBIG when it does not fit in SIZE - 1 bytes, -ENOENT when the
 * process is gone, or another -errno. */
int pidcg_read(int root_fd, uint64_t gen, pid_t pid, char *buf, size_t size);

/* How many fds all threads keep (for tests). */
int pidcg_kept_fds(void);
