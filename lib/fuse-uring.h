#pragma once
/* The kernel's host-wide switch of FUSE over io_uring (Linux >= 6.14 with
 * CONFIG_FUSE_IO_URING; N by default), read by curatefs (--transport uring
 * is refused while it is off) and by curate (daemon start --enable-uring). */
#include <stdbool.h>

#define FUSE_URING_SWITCH "/sys/module/fuse/parameters/enable_uring"

/* Whether the switch at PATH is on (a kernel bool parameter reads "Y" or
 * "N"). 0, or -errno (-ENOENT: this kernel has no FUSE over io_uring). */
int fuse_uring_switch_read(const char *path, bool *ret_on);
