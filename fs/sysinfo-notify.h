#pragma once
/* sysinfo(2) answered through seccomp user notification: what curatefs (the
 * listener of every container) and `curate run` (each container's fallback)
 * share. Library code: nothing here prints.
 *
 * The launcher gets its container's listener fd from the child that loaded
 * the filter and registers it: one root-only file per container in
 * sysinfo_registration_dir(), named by the container's id, one line
 *
 *     PID START FD
 *
 * the launcher's pid, its start time (clock ticks after boot, field 22 of
 * /proc/PID/stat: a pid reused by another process is told apart) and the
 * fd's number in it. curatefs takes a copy of the fd with pidfd_getfd(). */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/sysinfo.h>
#include <linux/seccomp.h>

struct sysinfo_reg {
        pid_t pid;
        uint64_t start;
        int fd;
};

/* $CURATE_SYSINFO_DIR (tests), else CURATE_RUN_DIR/sysinfo. */
const char *sysinfo_registration_dir(void);
/* Write ID's registration atomically (temp file renamed over), mode 0600,
 * making the directory (0700). 0 or -errno with *ret_error naming the file. */
int sysinfo_reg_write(const char *id, const struct sysinfo_reg *reg, char **ret_error);
/* Read NAME beneath DIR_FD: 0, -ENOENT, or -EINVAL when malformed. */
int sysinfo_reg_read(int dir_fd, const char *name, struct sysinfo_reg *ret);
/* Remove ID's registration: 0 or -errno. */
int sysinfo_reg_remove(const char *id);

/* Field 22 of /proc/PID/stat: 0, -ESRCH for a zombie or a process already
 * exiting (PF_EXITING), or -errno. */
int proc_start_ticks(pid_t pid, uint64_t *ret);
/* PID is gone, a zombie (an orphan pid 1 may reap late: kill(pid, 0)
 * still succeeds on it) or exiting: its pending calls are for others to
 * answer. */
bool sysinfo_pid_gone(pid_t pid);
/* A copy of the registration's fd, close-on-exec, checked: the process is
 * the one registered (start time), and the fd is a seccomp listener. */
int sysinfo_reg_take_fd(const struct sysinfo_reg *reg);
/* 0 when FD is a seccomp listener (user notification) fd, else -EBADF. */
int sysinfo_fd_is_listener(int fd);

/* The kernel's calls on a listener fd (see sysinfo-notify.c for why not
 * libseccomp's): 0 or -errno. REQ is zeroed first, as the kernel asks. */
int sysinfo_notif_recv(int fd, struct seccomp_notif *req);
int sysinfo_notif_id_valid(int fd, uint64_t id);
int sysinfo_notif_send(int fd, uint64_t id, int error);

/* Figures for the caller PID: 0 or -errno (the caller gets that errno). */
typedef int (*sysinfo_compute_fn)(void *userdata, pid_t pid, struct sysinfo *ret);

/* Answer REQ, received from FD: a native sysinfo(2) gets COMPUTE's figures
 * written to its buffer (EFAULT when that cannot be written), anything
 * else ENOSYS. The notification's id is checked valid after the target's
 * memory is opened and after it is written (a caller gone meanwhile, its
 * pid reused, is never written to twice over). 0 once answered, -ENOENT
 * when the notification is no longer pending, other -errno. */
int sysinfo_answer(int fd, const struct seccomp_notif *req, sysinfo_compute_fn compute, void *userdata);

/* ---- notifications received and not yet answered, for a replacement ----
 *
 * A serving process receives a notification straight into a slot of a
 * shared file (sysinfo_pending_path(), in tmpfs), so that if it dies
 * before answering, the kernel's copy is there for the next serving
 * process: the kernel keeps a received notification (SENT) until it is
 * answered or the last listener fd closes, and the launcher holds one. */
#define SYSINFO_SLOTS 16
#define SYSINFO_ID_MAX 128

struct sysinfo_slot {
        _Atomic int32_t owner;   /* serving process using the slot, 0: free */
        uint32_t pad;
        char id[SYSINFO_ID_MAX + 1]; /* container whose listener the request came from */
        _Atomic uint64_t done;   /* id of the last notification answered */
        union {
                struct seccomp_notif req; /* written by the kernel's RECV */
                uint8_t raw[256];
        };
};

struct sysinfo_pending {
        uint64_t magic;
        struct sysinfo_slot slot[SYSINFO_SLOTS];
};
#define SYSINFO_PENDING_MAGIC 0x73797370656e6431ULL

/* Map (creating) the shared file: 0 or -errno. */
int sysinfo_pending_map(struct sysinfo_pending **ret);
void sysinfo_pending_unmap(struct sysinfo_pending *p);
/* Does SLOT hold a notification received and not answered? */
static inline bool sysinfo_slot_pending(struct sysinfo_slot *s) {
        uint64_t id = s->req.id;
        return id != 0 && id != atomic_load(&s->done);
}
