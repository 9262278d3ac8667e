#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stddef.h>
#include "cgroup.h"
#include "fileio.h"
#include "fuzz.h"

static void die(const char *what) {
        fprintf(stderr, "fuzz: %s: %s\n", what, strerror(errno));
        abort();
}

char *fuzz_str(const uint8_t *data, size_t size) {
        char *s = strndup((const char *)data, size);
        if (!s)
                die("strndup");
        return s;
}

size_t fuzz_split(const uint8_t *data, size_t size, char **segs, size_t max) {
        size_t n = 0;

        for (size_t i = 0; i < max; i++)
                segs[i] = NULL;
        for (size_t off = 0; n < max && off <= size; n++) {
                const uint8_t *nul = memchr(data + off, 0, size - off);
                size_t len = nul ? (size_t)(nul - data) - off : size - off;
                segs[n] = fuzz_str(data + off, len);
                off += len + 1;
                if (!nul)
                        return n + 1;
        }
        return n;
}

void fuzz_segs_free(char **segs, size_t max) {
        for (size_t i = 0; i < max; i++) {
                free(segs[i]);
                segs[i] = NULL;
        }
}

unsigned fuzz_pick(const uint8_t **data, size_t *size, unsigned n) {
        if (*size == 0)
                return 0;
        unsigned v = **data % n;
        (*data)++;
        (*size)--;
        return v;
}

static char dir_path[PATH_MAX];
static int dir_fd = -EBADF;

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void)remove(path); /* best effort: the directory is ours alone */
        return 0;
}

static void remove_dir(void) {
        if (dir_path[0])
                nftw(dir_path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int fuzz_dir(void) {
        if (dir_fd >= 0)
                return dir_fd;
        const char *tmp = getenv("TMPDIR");
        /* smoke.sh and run-campaign.sh point TMPDIR into their own work
         * directory, so a run killed before atexit leaves nothing behind */
        snprintf(dir_path, sizeof(dir_path), "%s/curate-fuzz-XXXXXX",
                 tmp && *tmp && strlen(tmp) < PATH_MAX - 64 ? tmp : "/tmp");
        if (!mkdtemp(dir_path))
                die("mkdtemp");
        atexit(remove_dir);
        dir_fd = open(dir_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                die(dir_path);
        return dir_fd;
}

const char *fuzz_dir_path(void) {
        fuzz_dir();
        return dir_path;
}

/* What each file last held: libFuzzer mostly mutates one part of an
 * input, and rewriting the others each time would be most of the work. */
#define PUT_CACHE 32
static struct {
        int dirfd;
        const char *name; /* the harness's static string */
        bool known, present;
        char *text;
} put_cache[PUT_CACHE];

static bool unchanged(int dirfd, const char *name, const char *text) {
        size_t i;
        for (i = 0; i < PUT_CACHE && put_cache[i].name; i++)
                if (put_cache[i].dirfd == dirfd && strcmp(put_cache[i].name, name) == 0)
                        break;
        if (i == PUT_CACHE)
                return false; /* not cached: always write */
        if (put_cache[i].known && put_cache[i].present == !!text &&
            (!text || strcmp(put_cache[i].text, text) == 0))
                return true;
        free(put_cache[i].text);
        put_cache[i].dirfd = dirfd;
        put_cache[i].name = name;
        put_cache[i].known = true;
        put_cache[i].present = !!text;
        put_cache[i].text = text ? strdup(text) : NULL;
        if (text && !put_cache[i].text)
                die("strdup");
        return false;
}

void fuzz_put(int dirfd, const char *name, const char *text) {
        if (unchanged(dirfd, name, text))
                return;
        if (!text) {
                if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
                        die(name);
                return;
        }
        /* dirfd is O_PATH: go through its /proc/self/fd name */
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write_all(fd, text, strlen(text)) < 0)
                die(name);
        close(fd);
}

void fuzz_mkdirs(int dirfd, const char *name) {
        char path[PATH_MAX];
        int n = snprintf(path, sizeof(path), "/proc/self/fd/%d/", dirfd);
        for (const char *p = name; *p;) {
                size_t len = strcspn(p, "/");
                n += snprintf(path + n, sizeof(path) - n, "%.*s", (int)len, p);
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                        die(name);
                p += len;
                if (*p == '/')
                        path[n++] = *p++;
        }
}

size_t fuzz_numbers(const char *s, const char *sep, uint64_t *v, size_t max) {
        size_t n = 0;
        for (char *e; s && *s && n < max; s = e) {
                s += strspn(s, sep);
                if (!*s)
                        break;
                v[n] = strtoull(s, &e, 0);
                if (e == s)
                        break;
                n++;
        }
        return n;
}

static const size_t mem_fields[] = {
        offsetof(struct cg_memory, limit), offsetof(struct cg_memory, usage),
        offsetof(struct cg_memory, swap_limit), offsetof(struct cg_memory, swap_usage),
        offsetof(struct cg_memory, anon), offsetof(struct cg_memory, file),
        offsetof(struct cg_memory, shmem), offsetof(struct cg_memory, mapped),
        offsetof(struct cg_memory, dirty), offsetof(struct cg_memory, writeback),
        offsetof(struct cg_memory, active_anon), offsetof(struct cg_memory, inactive_anon),
        offsetof(struct cg_memory, active_file), offsetof(struct cg_memory, inactive_file),
        offsetof(struct cg_memory, unevictable), offsetof(struct cg_memory, slab_reclaimable),
        offsetof(struct cg_memory, slab_unreclaimable), offsetof(struct cg_memory, kernel_stack),
        offsetof(struct cg_memory, pagetables), offsetof(struct cg_memory, anon_thp),
        offsetof(struct cg_memory, shmem_thp), offsetof(struct cg_memory, file_thp),
        offsetof(struct cg_memory, percpu), offsetof(struct cg_memory, swapcached),
};

void fuzz_memory(struct cg_memory *m, const uint64_t *v, size_t n) {
        for (size_t i = 0; i < sizeof(mem_fields) / sizeof(mem_fields[0]); i++)
                *(uint64_t *)((char *)m + mem_fields[i]) = i < n ? v[i] : CG_NONE;
}
