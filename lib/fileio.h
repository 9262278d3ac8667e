#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "macro.h"

/* Set *RET_ERROR (when not NULL) to a malloc'd message, freeing the one it
 * held, and return ERR (a -errno): how library code hands a reason to the
 * program that reports it. */
int error_printf(char **ret_error, int err, const char *fmt, ...) _printf_(3, 4);

/* The host's root as an O_PATH directory fd: $CURATE_HOST_ROOT when set (a
 * testing aid: fixture trees stand for the host), else "/". */
int host_root_open(char **ret_error);

/* Where containers' device sets are registered for curatefs (written by
 * curate run, read by curatefs): $CURATE_DEVICES_DIR (tests), else
 * CURATE_RUN_DIR/devices. One file per container, named by its id. */
const char *device_registration_dir(void);

/* Growable text buffer used by every renderer. */
struct buf {
        char *data;
        size_t len;
        size_t cap;
        int err; /* sticky -ENOMEM */
};

void buf_free(struct buf *b);
int buf_printf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
int buf_append(struct buf *b, const char *s, size_t n);
static inline void buf_freep(struct buf *b) { buf_free(b); }
#define _cleanup_buf_ _cleanup_(buf_freep)

/* Open PATH beneath DIRFD (RESOLVE_IN_ROOT when DIRFD is a root, falling back
 * to openat where openat2 is missing); AT_FDCWD opens PATH as given, with no
 * root. Returns fd or -errno. */
int open_beneath(int dirfd, const char *path, int flags);

/* Read a whole (small, possibly procfs/cgroupfs) file beneath DIRFD.
 * *ret is NUL-terminated and malloc'd. Returns 0 or -errno. */
int read_file_at(int dirfd, const char *path, char **ret, size_t *ret_len);

/* Read into a caller buffer with pread at offset 0; returns bytes or -errno.
 * buf is NUL-terminated; -EFBIG when the file does not fit. */
int read_fd_into(int fd, char *buf, size_t size);

/* Parse a decimal unsigned 64-bit number; "max" gives UINT64_MAX when
 * allow_max. Trailing whitespace is accepted. Returns 0 or -EINVAL/-ERANGE. */
int parse_u64(const char *s, uint64_t *ret);
int parse_u64_or_max(const char *s, uint64_t *ret);

/* Find "KEY<sep>VALUE" line in a flat keyed file (memory.stat, cpu.stat,
 * /proc/meminfo "Key:   123 kB"). Returns 0 and the value, -ENOENT if the key
 * is absent, -EINVAL if the value is malformed. */
int keyed_u64(const char *text, const char *key, uint64_t *ret);

/* CPU list "0-3,8,10-11" to a bitmap of up to CPU_LIST_MAX CPUs. */
#define CPU_LIST_MAX 4096
struct cpu_set_bits {
        uint64_t bits[CPU_LIST_MAX / 64];
};
int parse_cpu_list(const char *s, struct cpu_set_bits *ret);
static inline int cpu_bit(const struct cpu_set_bits *s, unsigned i) {
        return i < CPU_LIST_MAX && (s->bits[i / 64] >> (i % 64)) & 1;
}
unsigned cpu_count(const struct cpu_set_bits *s);

/* Write all of DATA, retrying short writes and EINTR. 0 or -errno. */
int write_all(int fd, const void *data, size_t len);

/* PATH replaced by TEXT atomically, mode 0644: written to a hidden
 * temporary file beside it (.NAME.XXXXXX), synced and renamed over it, so
 * a reader (an engine re-reading its spec or profile directories) never
 * sees half a file; nothing is left behind on failure. PATH "-" writes to
 * stdout. 0, or -errno with *RET_ERROR naming PATH and the cause. */
int write_file_replace(const char *path, const char *text, char **ret_error);

/* S without leading and trailing white space (S is modified in place). */
char *strtrim(char *s);
