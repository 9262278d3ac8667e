#include "config.h"
/* The holder: the process that owns the mount. It opens /dev/fuse, mounts,
 * makes the journal (journal.h) and then, for the mount's whole life, only
 * keeps both fds open and keeps serving processes running: its children,
 * each the curatefs binary executed anew, which read requests and answer
 * them. It reads no request itself. When a serving process dies, however
 * it dies, the connection lives on (the holder's fd keeps it: the kernel
 * aborts a FUSE connection only when the last fd of its /dev/fuse file
 * closes) and a replacement recovers what the dead one had read.
 *
 *   SIGCHLD   a serving process died: start a replacement at once
 *   SIGHUP    replace the serving processes by the binary now on disk: the
 *             new one first, then SIGTERM to the old, which answer what
 *             they read and exit
 *   SIGTERM   stop: the serving processes, then unmount
 *
 * It also runs the seccomp agent (seccomp-agent.h): the listener fds OCI
 * runtimes send are kept here, where a serving process's death cannot
 * close them.
 *
 * Under systemd (NOTIFY_SOCKET) both fds go to the unit's fd store once
 * mounted, and a restarted holder takes them back (LISTEN_FDS) instead of
 * mounting: the holder's own death breaks no container either. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include "curatefs.h"
#include "holder.h"
#include "journal.h"
#include "seccomp-agent.h"

#define SERVING_MAX JOURNAL_REGIONS
#define STOP_GRACE_MS 5000

struct serving {
        pid_t pid;          /* 0: unused */
        unsigned region, generation;
        int ready_fd;       /* read end of its ready pipe; -1 once ready */
        bool terminating;   /* sent SIGTERM by us */
        uint64_t started_ns;
};

struct holder {
        const struct holder_config *cfg;
        int fuse_fd, journal_fd, signal_fd;
        struct journal *j;
        struct seccomp_agent *agent; /* NULL: none */
        struct serving child[SERVING_MAX];
        unsigned quick_deaths; /* serving processes in a row that died before serving */
        uint64_t respawn_at_ns;
        bool stopping, served;
};

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void logf_(const struct holder *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(const struct holder *h, const char *fmt, ...) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        h->cfg->log(msg);
}

/* mount(2) of a new FUSE connection, as fusermount does for root: the
 * options the kernel needs (fd, rootmode, user_id, group_id) plus ours. */
int holder_mount(const char *mnt, const char *options, int *ret_fd) {
        _cleanup_close_ int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
        char data[512];

        if (fd < 0)
                return -errno;
        snprintf(data, sizeof(data), "fd=%d,rootmode=40000,user_id=0,group_id=0,%s", fd, options);
        if (mount("curatefs", mnt, "fuse.curatefs", MS_NOSUID | MS_RDONLY, data) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int holder_journal_create(int *ret_fd) {
        _cleanup_close_ int fd = memfd_create("curatefs-journal", MFD_CLOEXEC);
        struct journal *j;

        if (fd < 0)
                return -errno;
        if (ftruncate(fd, JOURNAL_SIZE) < 0)
                return -errno;
        j = mmap(NULL, sizeof(*j), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (j == MAP_FAILED)
                return -errno;
        j->head.magic = JOURNAL_MAGIC;
        atomic_store(&j->head.next_generation, 1);
        munmap(j, sizeof(*j));
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static struct serving *child_by_pid(struct holder *h, pid_t pid) {
        for (unsigned i = 0; i < SERVING_MAX; i++)
                if (h->child[i].pid == pid)
                        return &h->child[i];
        return NULL;
}

static bool child_in_region(const struct holder *h, unsigned r) {
        for (unsigned i = 0; i < SERVING_MAX; i++)
                if (h->child[i].pid && h->child[i].region == r)
                        return true;
        return false;
}

static bool region_taken(const struct holder *h, unsigned r) {
        return child_in_region(h, r) || atomic_load(&h->j->region[r].state) != REGION_FREE;
}

/* In the child, between fork and exec: the three fds it serves with, by
 * number in its environment (execve keeps fds that lack FD_CLOEXEC). */
static void exec_serving(const struct holder *h, unsigned region, unsigned gen, unsigned recover, int ready) {
        const int keep[] = { h->fuse_fd, h->journal_fd, ready };
        char v[64];
        sigset_t none;

        for (unsigned i = 0; i < 3; i++)
                if (fcntl(keep[i], F_SETFD, 0) < 0)
                        _exit(127);
        snprintf(v, sizeof(v), "%u", gen);
        setenv("CURATEFS_SERVE", v, 1);
        snprintf(v, sizeof(v), "%d,%d,%d,%u,%u", h->fuse_fd, h->journal_fd, ready, region, recover);
        setenv("CURATEFS_SERVE_FDS", v, 1);
        unsetenv("NOTIFY_SOCKET");
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDNAMES");
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(h->cfg->binary, h->cfg->argv);
        _exit(127);
}

/* Start a serving process that first recovers the orphaned regions. */
static int spawn(struct holder *h) {
        struct serving *s = child_by_pid(h, 0);
        unsigned region = JOURNAL_REGIONS, recover = 0, gen;
        int p[2];
        pid_t pid;

        for (unsigned r = 0; r < JOURNAL_REGIONS; r++) {
                uint32_t st = atomic_load(&h->j->region[r].state);
                if (st == REGION_ORPHANED)
                        recover |= 1u << r;
                else if (region == JOURNAL_REGIONS && !region_taken(h, r))
                        region = r;
        }
        /* Every region orphaned (serving processes killed one after the
         * other before any recovered): the new one takes an orphan as its
         * own, recovering it before its workers read into it. */
        for (unsigned r = 0; region == JOURNAL_REGIONS && r < JOURNAL_REGIONS; r++)
                if ((recover & (1u << r)) && !child_in_region(h, r))
                        region = r;
        if (!s || region == JOURNAL_REGIONS)
                return -EBUSY;
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        gen = atomic_fetch_add(&h->j->head.next_generation, 1);
        atomic_store(&h->j->region[region].generation, gen);
        atomic_store(&h->j->region[region].state, REGION_ACTIVE);
        pid = fork();
        if (pid == 0)
                exec_serving(h, region, gen, recover, p[1]);
        close(p[1]);
        if (pid < 0) {
                int r = -errno;
                close(p[0]);
                atomic_store(&h->j->region[region].state, REGION_FREE);
                return r;
        }
        atomic_store(&h->j->region[region].pid, pid);
        /* the orphans are now this one's: not given to another as well */
        for (unsigned r = 0; r < JOURNAL_REGIONS; r++)
                if (recover & (1u << r))
                        atomic_store(&h->j->region[r].pid, pid);
        *s = (struct serving){ .pid = pid, .region = region, .generation = gen, .ready_fd = p[0],
                               .started_ns = now_ns() };
        return 0;
}

static void spawn_or_retry(struct holder *h) {
        int r = spawn(h);
        if (r < 0) {
                logf_(h, "cannot start a serving process: %s; trying again", strerror(-r));
                h->respawn_at_ns = now_ns() + 200 * 1000000ULL;
        }
}

/* A serving process reported it serves: the older ones may go. */
static void on_ready(struct holder *h, struct serving *s) {
        close(s->ready_fd);
        s->ready_fd = -1;
        h->quick_deaths = 0;
        for (unsigned i = 0; i < SERVING_MAX; i++) {
                struct serving *o = &h->child[i];
                if (!o->pid || o == s || o->ready_fd >= 0 || o->terminating)
                        continue;
                /* the newest serving process stays; an older one goes (a
                 * restart asked for while one was starting: that one may
                 * become ready after the newer one) */
                struct serving *old = o->started_ns < s->started_ns ? o : s;
                kill(old->pid, SIGTERM);
                old->terminating = true;
                if (old == s)
                        break;
        }
        if (!h->served) {
                h->served = true;
                h->cfg->ready(h->cfg->userdata);
        } else /* a replacement: after a restart, a crash or a kill */
                atomic_fetch_add(&h->j->stats.restarts, 1);
}

/* Reap serving processes. A clean end freed its region itself; any other
 * end leaves it orphaned, and a replacement recovers it. A clean end we did
 * not ask for: the mount went away (unmounted from outside). */
static void on_children(struct holder *h) {
        int status;
        pid_t pid;

        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                struct serving *s = child_by_pid(h, pid);
                struct journal_region *reg;
                bool clean;
                if (!s)
                        continue;
                /* Clean means it answered everything it read and freed its
                 * region, whatever its exit status says (a sanitizer's leak
                 * report at exit changes the status, not what it served). */
                reg = &h->j->region[s->region];
                clean = atomic_load(&reg->state) == REGION_FREE;
                if (!clean && atomic_load(&reg->state) == REGION_ACTIVE)
                        atomic_store(&reg->state, REGION_ORPHANED);
                /* orphans it took on and did not get to recover stay orphaned */
                if (s->ready_fd >= 0) {
                        close(s->ready_fd);
                        /* a crash before serving counts towards the back-off;
                         * a SIGKILL (an OOM kill, an operator) says nothing
                         * of the binary */
                        if (!clean && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
                                h->quick_deaths++;
                }
                /* it stopped serving without being told to: the mount is
                 * gone (exit status 3, unless a sanitizer changed it) */
                if (clean && !s->terminating) {
                        logf_(h, "the mount is gone; stopping");
                        h->stopping = true;
                }
                bool replace = !h->stopping && !(clean && s->terminating);
                *s = (struct serving){ 0 };
                if (!replace)
                        continue;
                if (!clean) {
                        if (WIFSIGNALED(status))
                                logf_(h, "serving process %d killed by signal %d; replacing it", pid, WTERMSIG(status));
                        else
                                logf_(h, "serving process %d exited with status %d; replacing it", pid,
                                      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                }
                if (h->quick_deaths >= 3) {
                        /* a binary that cannot serve: do not spin */
                        unsigned ms = h->quick_deaths >= 8 ? 2000 : 100u << (h->quick_deaths - 3);
                        h->respawn_at_ns = now_ns() + ms * 1000000ULL;
                } else
                        spawn_or_retry(h);
        }
}

static unsigned count_children(const struct holder *h) {
        unsigned n = 0;
        for (unsigned i = 0; i < SERVING_MAX; i++)
                n += h->child[i].pid != 0;
        return n;
}

static void on_signal(struct holder *h) {
        struct signalfd_siginfo si;

        while (read(h->signal_fd, &si, sizeof(si)) == sizeof(si)) {
                switch (si.ssi_signo) {
                case SIGCHLD:
                        on_children(h);
                        break;
                case SIGHUP:
                        if (!h->stopping)
                                spawn_or_retry(h);
                        break;
                default: /* SIGTERM, SIGINT */
                        h->stopping = true;
                        break;
                }
        }
        if (!h->stopping && count_children(h) == 0 && !h->respawn_at_ns)
                spawn_or_retry(h);
}

/* Serve until told to stop; then the serving processes end (SIGTERM, then
 * SIGKILL after STOP_GRACE_MS) and the caller unmounts. */
static int holder_loop(struct holder *h) {
        uint64_t stop_deadline = 0;
        bool told = false;

        for (;;) {
                struct pollfd pfd[2 + SERVING_MAX];
                struct serving *who[2 + SERVING_MAX];
                unsigned n = 0;
                int timeout = -1;

                if (h->stopping) {
                        if (!told) {
                                for (unsigned i = 0; i < SERVING_MAX; i++)
                                        if (h->child[i].pid) {
                                                kill(h->child[i].pid, SIGTERM);
                                                h->child[i].terminating = true;
                                        }
                                stop_deadline = now_ns() + STOP_GRACE_MS * 1000000ULL;
                                told = true;
                        }
                        if (count_children(h) == 0)
                                return 0;
                        if (now_ns() >= stop_deadline)
                                for (unsigned i = 0; i < SERVING_MAX; i++)
                                        if (h->child[i].pid)
                                                kill(h->child[i].pid, SIGKILL);
                        timeout = 100;
                } else if (h->respawn_at_ns) {
                        uint64_t now = now_ns();
                        if (now >= h->respawn_at_ns) {
                                h->respawn_at_ns = 0;
                                spawn_or_retry(h);
                                continue;
                        }
                        timeout = (int)((h->respawn_at_ns - now) / 1000000ULL) + 1;
                }
                pfd[n] = (struct pollfd){ .fd = h->signal_fd, .events = POLLIN };
                who[n++] = NULL;
                if (h->agent) {
                        int t = seccomp_agent_timeout_ms(h->agent);
                        if (t >= 0 && (timeout < 0 || t < timeout))
                                timeout = t;
                        pfd[n] = (struct pollfd){ .fd = seccomp_agent_fd(h->agent), .events = POLLIN };
                        who[n++] = NULL;
                }
                for (unsigned i = 0; i < SERVING_MAX; i++)
                        if (h->child[i].pid && h->child[i].ready_fd >= 0) {
                                pfd[n] = (struct pollfd){ .fd = h->child[i].ready_fd, .events = POLLIN };
                                who[n++] = &h->child[i];
                        }
                if (poll(pfd, n, timeout) < 0 && errno != EINTR)
                        return -errno;
                for (unsigned i = 1; i < n; i++) {
                        char c;
                        if (!who[i]) { /* the agent: its timeouts too */
                                seccomp_agent_process(h->agent);
                                continue;
                        }
                        if (!(pfd[i].revents & (POLLIN | POLLHUP)) || !who[i]->pid || who[i]->ready_fd < 0)
                                continue;
                        if (read(who[i]->ready_fd, &c, 1) == 1)
                                on_ready(h, who[i]);
                }
                if (pfd[0].revents & POLLIN)
                        on_signal(h);
        }
}

/* Give the fds to systemd's fd store, so that a restarted unit gets the
 * connection back (FileDescriptorStoreMax= in the unit). */
static void store_fds(struct holder *h) {
        if (!getenv("NOTIFY_SOCKET"))
                return;
        if (sd_pid_notify_with_fds(0, 0, "FDSTORE=1\nFDNAME=fuse", &h->fuse_fd, 1) <= 0 ||
            sd_pid_notify_with_fds(0, 0, "FDSTORE=1\nFDNAME=journal", &h->journal_fd, 1) <= 0)
                logf_(h, "cannot store the connection in systemd's fd store; a holder restart will need a new mount");
}

/* The fds a restarted unit got back from the fd store, if any: the
 * connection, and the seccomp listeners the agent kept (any other name). */
int holder_adopt(int *ret_fuse, int *ret_journal, struct holder_stored *ret_listeners) {
        char **names = NULL;
        int n = sd_listen_fds_with_names(1, &names), fuse = -1, journal = -1;

        *ret_listeners = (struct holder_stored){ 0 };
        if (n > 0) {
                ret_listeners->fds = calloc(n, sizeof(int));
                ret_listeners->names = calloc(n, sizeof(char *));
        }
        for (int i = 0; i < n; i++) {
                if (streq(names[i], "fuse"))
                        fuse = SD_LISTEN_FDS_START + i;
                else if (streq(names[i], "journal"))
                        journal = SD_LISTEN_FDS_START + i;
                else if (ret_listeners->fds && ret_listeners->names) {
                        size_t k = ret_listeners->n++;
                        ret_listeners->fds[k] = SD_LISTEN_FDS_START + i;
                        ret_listeners->names[k] = TAKE_PTR(names[i]);
                        /* LISTEN_FDS fds come without close-on-exec */
                        (void)fcntl(ret_listeners->fds[k], F_SETFD, FD_CLOEXEC);
                } else
                        close(SD_LISTEN_FDS_START + i);
                free(names[i]);
        }
        free(names);
        if (fuse < 0 || journal < 0)
                return 0;
        *ret_fuse = fuse;
        *ret_journal = journal;
        return 1;
}

/* The adopted listeners to the agent, or closed and out of the store. */
static void adopt_listeners(struct holder *h, struct holder_stored *l) {
        for (size_t i = 0; l && i < l->n; i++) {
                if (h->agent)
                        (void)seccomp_agent_adopt(h->agent, l->names[i], l->fds[i]);
                else {
                        char msg[300];
                        snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", l->names[i]);
                        (void)sd_pid_notify(0, 0, msg);
                        close(l->fds[i]);
                }
                free(l->names[i]);
        }
        if (l) {
                free(l->names);
                free(l->fds);
                *l = (struct holder_stored){ 0 };
        }
}

int holder_run(const struct holder_config *cfg, int fuse_fd, int journal_fd, bool adopted,
               struct holder_stored *listeners) {
        struct holder h = { .cfg = cfg, .fuse_fd = fuse_fd, .journal_fd = journal_fd };
        sigset_t set;
        int r;

        h.j = mmap(NULL, sizeof(*h.j), PROT_READ | PROT_WRITE, MAP_SHARED, journal_fd, 0);
        if (h.j == MAP_FAILED)
                return -errno;
        if (h.j->head.magic != JOURNAL_MAGIC)
                return -EINVAL;
        /* An adopted journal's serving processes died with the old holder:
         * their regions are orphans for the first serving process. */
        for (unsigned i = 0; adopted && i < JOURNAL_REGIONS; i++)
                if (atomic_load(&h.j->region[i].state) == REGION_ACTIVE)
                        atomic_store(&h.j->region[i].state, REGION_ORPHANED);
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        sigaddset(&set, SIGHUP);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigprocmask(SIG_BLOCK, &set, NULL);
        h.signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (h.signal_fd < 0)
                return -errno;
        if (!adopted)
                store_fds(&h);
        /* before the first serving process: a runtime may send an fd as
         * soon as the daemon is said to be ready */
        if (cfg->seccomp_agent && (r = seccomp_agent_open(cfg->seccomp_agent, cfg->log, &h.agent)) < 0)
                logf_(&h, "seccomp agent %s: cannot listen: %s; containers whose profile names it will not start",
                      cfg->seccomp_agent, r == -EADDRINUSE ? "another curatefs listens there" : strerror(-r));
        adopt_listeners(&h, listeners);
        r = spawn(&h);
        if (r >= 0)
                r = holder_loop(&h);
        seccomp_agent_close(h.agent);
        close(h.signal_fd);
        munmap(h.j, sizeof(*h.j));
        return r;
}
