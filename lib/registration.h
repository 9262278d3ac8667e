#pragma once
/* A container's device registration: the file curate writes (at `curate
 * run`, rewritten by `curate device add|remove`) and curatefs reads to serve
 * MOUNTPOINT/devs/<id>. One file per container in device_registration_dir(),
 * named by the container's id, one node per line:
 *
 *     PATH TYPE MAJOR MINOR MODE [ACCESS]
 *     nvidia0 c 195 0 0666 rwm
 *
 * PATH relative to /dev (plain components: no "", ".", ".." and no leading
 * "/"), TYPE c or b, MODE octal permission bits, ACCESS the device cgroup
 * access (a non-empty subset of "rwm"; "rwm" when left out). Blank lines and
 * lines starting with '#' are skipped. The format lives here, once, for the
 * writer and the reader. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define REG_ID_MAX 128

struct reg_entry {
        char *path;     /* relative to /dev */
        mode_t mode;    /* S_IFCHR or S_IFBLK | permissions */
        dev_t rdev;
        char access[4]; /* subset of "rwm", in that order */
};
void reg_entries_free(struct reg_entry *e, size_t n);

/* An id as curate names containers: [A-Za-z0-9._-]+, not "." or "..". */
bool reg_id_valid(const char *id);

/* Parse TEXT. Returns the number of entries (in *ret, owned by the caller),
 * or -EINVAL with the 1-based number of the first bad line in *ret_line. */
int reg_parse(const char *text, struct reg_entry **ret, unsigned *ret_line);

/* Read the registration of ID. Returns the number of entries, -ENOENT when
 * there is none, or -errno with *ret_error naming the file (and line). */
int reg_read(const char *id, struct reg_entry **ret, char **ret_error);

/* Write the registration of ID atomically (a temp file renamed over it, so
 * a reader sees the old set or the new one, never half of one), creating
 * the directory. 0 or -errno with *ret_error naming the file. */
int reg_write(const char *id, const struct reg_entry *e, size_t n, char **ret_error);

/* Remove ID's registration; 0 or -errno (-ENOENT when there was none). */
int reg_remove(const char *id);

/* The registration file's path: 0 or -ENAMETOOLONG / -EINVAL (bad id). */
int reg_path(const char *id, char *buf, size_t size);
