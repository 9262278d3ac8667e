#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "cputree.h"
#include "devs.h"

#define SLOT_SHIFT 40
#define C_SLOT_SHIFT 46
#define DEPTH_MAX 8 /* sysfs's cpu tree is 4 deep (cpuN/cpuidle/stateN/file) */

static unsigned slot_shift(uint64_t ino) {
        return cputree_is_c_ino(ino) ? C_SLOT_SHIFT : SLOT_SHIFT;
}

uint64_t cputree_ino(const char *id, const char *rel) {
        uint64_t h = DEVS_HASH_INIT, base = id ? CPUTREE_C_INO_BASE : CPUTREE_INO_BASE;
        unsigned shift = id ? C_SLOT_SHIFT : SLOT_SHIFT;
        char first[64];
        size_t n = strcspn(rel, "/");
        unsigned cpu = 0, slot = 0;

        if (n < sizeof(first)) {
                memcpy(first, rel, n);
                first[n] = 0;
                /* (the slot stays below 2^14: cputree.h's inode range) */
                if (cpu_numbered_name(first, "cpu", &cpu) && cpu < (1u << 13))
                        slot = cpu + 1;
        }
        /* the id's terminator keeps "a" + "b/c" apart from "ab" + "/c" */
        if (id)
                h = devs_hash(h, id, strlen(id) + 1);
        h = devs_hash(h, rel, strlen(rel));
        if (id)
                h = devs_serial_of_hash(h); /* mixed: the id's bytes reach the low bits */
        return base | (uint64_t)slot << shift | (h & ((1ULL << shift) - 1));
}

static DIR *open_dir(int dir_fd, const char *rel) {
        int fd = openat(dir_fd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d && fd >= 0)
                close(fd);
        return d;
}

static bool join(char *out, const char *rel, const char *name) {
        return snprintf(out, PATH_MAX, "%s%s%s", rel, *rel ? "/" : "", name) < PATH_MAX;
}

/* Walk below REL until WANT is seen; the top's cpuN directories only when
 * WANT is in their slot. */
static bool walk(int dir_fd, const char *id, const char *rel, unsigned depth, uint64_t want, char *found,
                 cputree_learn_fn learn, void *ctx) {
        unsigned shift = slot_shift(want);
        _cleanup_closedir_ DIR *d = open_dir(dir_fd, rel);
        char child[PATH_MAX];
        struct dirent *de;
        unsigned cpu;

        while (d && (de = readdir(d))) {
                if (de->d_name[0] == '.' || !join(child, rel, de->d_name))
                        continue;
                uint64_t ino = cputree_ino(id, child);
                if (!*rel && cpu_numbered_name(de->d_name, "cpu", &cpu) && ino >> shift != want >> shift)
                        continue;
                if (learn)
                        learn(ino, child, ctx);
                if (ino == want) {
                        strcpy(found, child);
                        return true;
                }
                if (de->d_type == DT_DIR && depth < DEPTH_MAX && walk(dir_fd, id, child, depth + 1, want, found, learn, ctx))
                        return true;
        }
        return false;
}

int cputree_find(int dir_fd, const char *id, uint64_t ino, char *rel, cputree_learn_fn learn, void *ctx) {
        uint64_t base = id ? CPUTREE_C_INO_BASE : CPUTREE_INO_BASE;
        uint64_t slot = (ino - base) >> slot_shift(ino);
        char top[32];

        if (!cputree_is_ino(ino) || cputree_is_c_ino(ino) != !!id)
                return -ESTALE;
        if (slot == 0)
                return walk(dir_fd, id, "", 0, ino, rel, learn, ctx) ? 0 : -ESTALE;
        snprintf(top, sizeof(top), "cpu%u", (unsigned)(slot - 1));
        if (cputree_ino(id, top) == ino) {
                strcpy(rel, top);
                return 0;
        }
        return walk(dir_fd, id, top, 1, ino, rel, learn, ctx) ? 0 : -ESTALE;
}

static const char *base_name(const char *rel) {
        const char *s = strrchr(rel, '/');
        return s ? s + 1 : rel;
}

bool cputree_is_gate(const char *rel) {
        unsigned cpu;
        if (!strchr(rel, '/'))
                return cpu_numbered_name(rel, "cpu", &cpu);
        return strncmp(rel, "cpufreq/", 8) == 0 && !strchr(rel + 8, '/') && cpu_numbered_name(rel + 8, "policy", &cpu);
}

bool cputree_same_for_all(const char *rel, mode_t type) {
        return !cputree_is_gate(rel) && (!S_ISREG(type) || cpu_file_kind(base_name(rel)) == CPU_FILE_PLAIN);
}

int cputree_render(int dir_fd, const char *rel, const struct cpu_set_bits *shown, struct buf *out) {
        _cleanup_free_ char *text = NULL;
        int r;

        if (!cputree_path_allowed(rel, shown))
                return -ENOENT;
        r = read_file_at(dir_fd, rel, &text, NULL);
        if (r < 0)
                return r;
        return render_cpu_file(text, cpu_file_kind(base_name(rel)), shown, out);
}

int cputree_stat(int dir_fd, const char *id, const char *rel, const struct cpu_set_bits *shown, struct stat *ret) {
        struct stat h, st;

        if (!cputree_path_allowed(rel, shown))
                return -ENOENT;
        if (fstatat(dir_fd, rel, &h, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        /* no write bit: nothing here is written from inside a container */
        st = (struct stat){ .st_ino = cputree_ino(id, rel), .st_mode = h.st_mode & (S_IFMT | 0555), .st_nlink = 1,
                            .st_atim = h.st_atim, .st_mtim = h.st_mtim, .st_ctim = h.st_ctim };
        if (S_ISDIR(h.st_mode))
                st.st_nlink = 2;
        else if (S_ISLNK(h.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(dir_fd, rel, target, sizeof(target));
                st.st_mode = S_IFLNK | 0777;
                st.st_size = n > 0 ? n : 0;
        } else if (S_ISREG(h.st_mode) && (h.st_mode & 0444) && (id || cputree_same_for_all(rel, h.st_mode))) {
                _cleanup_buf_ struct buf b = { 0 };
                if (cputree_render(dir_fd, rel, shown, &b) >= 0)
                        st.st_size = b.len;
        } else if (!S_ISREG(h.st_mode))
                return -ENOENT; /* sysfs has no other kinds */
        *ret = st;
        return 0;
}

static bool skipped(const char *const *skip, const char *name) {
        for (; skip && *skip; skip++)
                if (streq(*skip, name))
                        return true;
        return false;
}

int cputree_list(int dir_fd, const char *id, const char *rel, const struct cpu_set_bits *shown, const char *const *skip,
                 cputree_entry_fn each, void *ctx) {
        _cleanup_closedir_ DIR *d = NULL;
        char child[PATH_MAX];
        struct dirent *de;

        if (*rel && !cputree_path_allowed(rel, shown))
                return -ENOENT;
        if (!(d = open_dir(dir_fd, rel)))
                return -errno;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || (!*rel && skipped(skip, de->d_name)) || !join(child, rel, de->d_name) ||
                    !cputree_path_allowed(child, shown))
                        continue;
                int r = each(de->d_name, cputree_ino(id, child), DTTOIF(de->d_type), ctx);
                if (r < 0)
                        return r;
        }
        return 0;
}
