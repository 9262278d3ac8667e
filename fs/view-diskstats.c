#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "views.h"

/* /proc/diskstats for a cgroup: the host's lines for devices the cgroup has
 * done I/O on, with the cgroup's own counts. Figures the cgroup does not
 * account (merges, times, in flight) are 0 rather than the host's. */

/* Numeric fields after the name: 11 before Linux 4.18, 15 with discards
 * (4.18), 17 with flushes (5.5); Documentation/admin-guide/iostats.rst. */
#define DISK_FIELDS_MIN 11
#define DISK_FIELDS_MAX 17

static const struct cg_io_dev *io_find(const struct cg_io *io, unsigned major, unsigned minor) {
        for (size_t i = 0; i < io->n; i++)
                if (io->dev[i].major == major && io->dev[i].minor == minor)
                        return &io->dev[i];
        return NULL;
}

/* The cgroup's figure for each field, in iostats.rst order; div 0 marks a
 * figure the cgroup does not account. Sectors are 512 bytes whatever the
 * device's block size. */
#define IO(f) offsetof(struct cg_io_dev, f)
static const struct disk_field {
        size_t off;
        uint64_t div;
} disk_fields[DISK_FIELDS_MAX] = {
        [0]  = { IO(rios), 1 },     /* reads completed */
        [2]  = { IO(rbytes), 512 }, /* sectors read */
        [4]  = { IO(wios), 1 },     /* writes completed */
        [6]  = { IO(wbytes), 512 }, /* sectors written */
        [11] = { IO(dios), 1 },     /* discards completed */
        [13] = { IO(dbytes), 512 }, /* sectors discarded */
};

static uint64_t disk_field_value(const struct cg_io_dev *d, unsigned i) {
        const struct disk_field *f = &disk_fields[i];
        if (f->div == 0)
                return 0;
        return *(const uint64_t *)((const char *)d + f->off) / f->div;
}

static int parse_uint_token(const char **p, unsigned long long *ret) {
        char *end;

        while (**p == ' ' || **p == '\t')
                (*p)++;
        if (**p < '0' || **p > '9')
                return -EINVAL;
        errno = 0;
        unsigned long long v = strtoull(*p, &end, 10);
        if (errno != 0)
                return -EINVAL;
        *p = end;
        *ret = v;
        return 0;
}

/* "%4u %7u %s" then the numeric fields, as block/genhd.c diskstats_show() */
static int render_disk_line(const char *line, const struct cg_io *io, struct buf *out) {
        unsigned long long major, minor, x;
        unsigned nfields = 0;
        const char *p = line;

        if (parse_uint_token(&p, &major) < 0 || parse_uint_token(&p, &minor) < 0 ||
            major > UINT32_MAX || minor > UINT32_MAX)
                return -EINVAL;
        p += strspn(p, " \t");
        size_t name_len = strcspn(p, " \t\n");
        if (name_len == 0)
                return -EINVAL;
        const char *name = p;
        p += name_len;
        while (*p && *p != '\n') {
                if (parse_uint_token(&p, &x) < 0)
                        return -EINVAL;
                nfields++;
                p += strspn(p, " \t");
        }
        if (nfields < DISK_FIELDS_MIN || nfields > DISK_FIELDS_MAX)
                return -EINVAL;

        const struct cg_io_dev *d = io_find(io, (unsigned)major, (unsigned)minor);
        if (!d)
                return 0;
        buf_printf(out, "%4u %7u %.*s", (unsigned)major, (unsigned)minor, (int)name_len, name);
        for (unsigned i = 0; i < nfields; i++)
                buf_printf(out, " %" PRIu64, disk_field_value(d, i));
        return buf_append(out, "\n", 1);
}

int render_diskstats(const char *host_diskstats, const struct cg_io *io, struct buf *out) {
        _cleanup_buf_ struct buf tmp = { 0 };

        if (!host_diskstats || !io || (io->n > 0 && !io->dev))
                return -EINVAL;
        for (const char *p = host_diskstats; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                if (p[strspn(p, " \t")] != '\n' && p[strspn(p, " \t")] != 0) {
                        int r = render_disk_line(p, io, &tmp);
                        if (r < 0)
                                return r;
                }
                p += len + (nl ? 1 : 0);
        }
        if (tmp.err)
                return tmp.err;
        if (tmp.len == 0)
                return 0;
        return buf_append(out, tmp.data, tmp.len);
}
