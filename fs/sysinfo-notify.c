#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include "fileio.h"
#include "macro.h"
#include "registration.h"
#include "sysinfo-notify.h"

/* Raw ioctls rather than libseccomp's seccomp_notify_*(): libseccomp 2.5.4
 * turns every kernel error into -ECANCELED, and the answer depends on
 * telling ENOENT (the caller is gone) from EINTR and the rest. */

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "sysinfo interception: the native AUDIT_ARCH of this architecture is not listed"
#endif
#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

const char *sysinfo_registration_dir(void) {
        const char *d = getenv("CURATE_SYSINFO_DIR");
        return d && *d ? d : CURATE_RUN_DIR "/sysinfo";
}

static int reg_file(const char *id, char *buf, size_t size) {
        if (!reg_id_valid(id))
                return -EINVAL;
        if ((size_t)snprintf(buf, size, "%s/%s", sysinfo_registration_dir(), id) >= size)
                return -ENAMETOOLONG;
        return 0;
}

int sysinfo_reg_write(const char *id, const struct sysinfo_reg *reg, char **ret_error) {
        char path[PATH_MAX], tmp[PATH_MAX + 16], line[96];
        _cleanup_close_ int fd = -EBADF;
        int r = reg_file(id, path, sizeof(path)), len;

        if (r < 0)
                return error_printf(ret_error, r, "sysinfo registration %s: %s", id, strerror(-r));
        if (mkdir(sysinfo_registration_dir(), 0700) < 0 && errno != EEXIST)
                return error_printf(ret_error, -errno, "%s: %s", sysinfo_registration_dir(), strerror(errno));
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        len = snprintf(line, sizeof(line), "%d %llu %d\n", (int)reg->pid, (unsigned long long)reg->start, reg->fd);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return error_printf(ret_error, -errno, "%s: %s", tmp, strerror(errno));
        r = write_all(fd, line, len);
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlink(tmp);
                return error_printf(ret_error, r, "%s: %s", path, strerror(-r));
        }
        return 0;
}

int sysinfo_reg_read(int dir_fd, const char *name, struct sysinfo_reg *ret) {
        char text[128];
        unsigned long long start;
        int pid, fd, n;
        _cleanup_close_ int f = -EBADF;

        if (!reg_id_valid(name))
                return -EINVAL;
        f = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (f < 0)
                return -errno;
        n = read_fd_into(f, text, sizeof(text));
        if (n < 0)
                return n;
        /* numbers that would wrap (%d does) are malformed, not another pid */
        long long lpid, lfd;
        if (sscanf(text, "%lld %llu %lld", &lpid, &start, &lfd) != 3 || lpid <= 0 || lpid > INT_MAX || lfd < 0 ||
            lfd > INT_MAX)
                return -EINVAL;
        pid = (int)lpid;
        fd = (int)lfd;
        *ret = (struct sysinfo_reg){ .pid = pid, .start = start, .fd = fd };
        return 0;
}

int sysinfo_reg_remove(const char *id) {
        char path[PATH_MAX];
        int r = reg_file(id, path, sizeof(path));

        if (r < 0)
                return r;
        return unlink(path) < 0 ? -errno : 0;
}

bool sysinfo_pid_gone(pid_t pid) {
        uint64_t start;

        if (pid <= 0)
                return false;
        if (kill(pid, 0) < 0 && errno == ESRCH)
                return true;
        return proc_start_ticks(pid, &start) == -ESRCH;
}

/* include/linux/sched.h: set on a task once do_exit() starts */
#define PF_EXITING 0x00000004

int proc_start_ticks(pid_t pid, uint64_t *ret) {
        char path[64], text[1024], *p;
        _cleanup_close_ int fd = -EBADF;
        unsigned long long v = 0;
        int n;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read_fd_into(fd, text, sizeof(text));
        if (n < 0)
                return n;
        /* the comm may hold spaces and ')': the last ')' ends it (proc(5)) */
        p = strrchr(text, ')');
        if (!p)
                return -EINVAL;
        p++;
        for (int field = 3; field <= 22; field++) {
                char *e;
                while (*p == ' ')
                        p++;
                if (field == 3) { /* state: a zombie is gone already */
                        if (!*p)
                                return -EINVAL; /* the text ends after the comm */
                        if (*p == 'Z' || *p == 'X')
                                return -ESRCH;
                        p++;
                        continue;
                }
                v = strtoull(p, &e, 10);
                if (e == p)
                        return -EINVAL;
                /* flags: PF_EXITING, a process past SIGKILL still tearing
                 * its memory down (long for an ASan build) is gone too */
                if (field == 9 && (v & PF_EXITING))
                        return -ESRCH;
                p = e;
        }
        *ret = v;
        return 0;
}

int sysinfo_reg_take_fd(const struct sysinfo_reg *reg) {
        _cleanup_close_ int pidfd = -EBADF, fd = -EBADF;
        uint64_t start;
        int r;

        pidfd = syscall(SYS_pidfd_open, reg->pid, 0);
        if (pidfd < 0)
                return -errno;
        /* after pidfd_open: the pidfd is of the registered process exactly
         * when its start time is still the registered one */
        r = proc_start_ticks(reg->pid, &start);
        if (r < 0)
                return r;
        if (start != reg->start)
                return -ESRCH;
        fd = syscall(SYS_pidfd_getfd, pidfd, reg->fd, 0); /* close-on-exec (pidfd_getfd(2)) */
        if (fd < 0)
                return -errno;
        if ((r = sysinfo_fd_is_listener(fd)) < 0)
                return r;
        return TAKE_FD(fd);
}

int sysinfo_fd_is_listener(int fd) {
        char link[64], target[64];
        ssize_t n;

        /* the anon inode's name is the kernel's (seccomp.c
         * init_listener): no other file is called so */
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        n = readlink(link, target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        target[n] = 0;
        return streq(target, "anon_inode:seccomp notify") ? 0 : -EBADF;
}

int sysinfo_notif_recv(int fd, struct seccomp_notif *req) {
        memset(req, 0, sizeof(*req));
        return ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) < 0 ? -errno : 0;
}

int sysinfo_notif_id_valid(int fd, uint64_t id) {
        return ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0 ? -errno : 0;
}

int sysinfo_notif_send(int fd, uint64_t id, int error) {
        struct seccomp_notif_resp resp = { .id = id, .val = 0, .error = error, .flags = 0 };
        return ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 ? -errno : 0;
}

/* Write SI at ADDR in PID: 0, -ENOENT (the notification went away: write
 * nothing, answer nothing), -EFAULT (ADDR not writable) or -EIO. /proc/PID/mem is opened before the
 * first check: the fd is bound to the mm the check vouched for, so a pid
 * reused after it cannot redirect the write. */
static int write_target(int fd, const struct seccomp_notif *req, const struct sysinfo *si) {
        char path[64];
        _cleanup_close_ int mem = -EBADF;
        ssize_t n;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/mem", (int)req->pid);
        mem = open(path, O_WRONLY | O_CLOEXEC);
        if (mem < 0) /* the caller is gone, or its memory is not ours to write: not its pointer's fault */
                return sysinfo_notif_id_valid(fd, req->id) < 0 ? -ENOENT : -EIO;
        if ((r = sysinfo_notif_id_valid(fd, req->id)) < 0)
                return -ENOENT;
        do
                n = pwrite(mem, si, sizeof(*si), (off_t)req->data.args[0]);
        while (n < 0 && errno == EINTR);
        if (sysinfo_notif_id_valid(fd, req->id) < 0)
                return -ENOENT;
        /* an address beyond off_t or not mapped: what the kernel's
         * copy_to_user() would give */
        if (req->data.args[0] > (uint64_t)INT64_MAX || n != (ssize_t)sizeof(*si))
                return -EFAULT;
        return 0;
}

int sysinfo_answer(int fd, const struct seccomp_notif *req, sysinfo_compute_fn compute, void *userdata) {
        struct sysinfo si;
        int r;

        /* only the native call: the filter sends i386's and x32's here
         * too (their struct sysinfo is another), and they are refused */
        if (req->data.arch != NATIVE_ARCH || req->data.nr != __NR_sysinfo || (req->data.nr & __X32_SYSCALL_BIT))
                return sysinfo_notif_send(fd, req->id, -ENOSYS);
        r = compute(userdata, req->pid, &si);
        if (r < 0)
                return sysinfo_notif_send(fd, req->id, r == -ESRCH ? -EIO : r);
        r = write_target(fd, req, &si);
        if (r == -ENOENT)
                return r;
        return sysinfo_notif_send(fd, req->id, r);
}

int sysinfo_pending_map(struct sysinfo_pending **ret) {
        char path[PATH_MAX];
        _cleanup_close_ int fd = -EBADF;
        struct sysinfo_pending *p;
        struct stat st;

        /* curatefs may start before any `curate run` made CURATE_RUN_DIR */
        if (!getenv("CURATE_SYSINFO_DIR") && mkdir(CURATE_RUN_DIR, 0755) < 0 && errno != EEXIST)
                return -errno;
        if (mkdir(sysinfo_registration_dir(), 0700) < 0 && errno != EEXIST)
                return -errno;
        snprintf(path, sizeof(path), "%s/.pending", sysinfo_registration_dir());
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* a new file is zeroes: free slots, nothing pending */
        if ((size_t)st.st_size < sizeof(*p) && ftruncate(fd, sizeof(*p)) < 0)
                return -errno;
        p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
                return -errno;
        if (p->magic != SYSINFO_PENDING_MAGIC)
                p->magic = SYSINFO_PENDING_MAGIC;
        *ret = p;
        return 0;
}

void sysinfo_pending_unmap(struct sysinfo_pending *p) {
        if (p)
                munmap(p, sizeof(*p));
}
