#pragma once
/* `curate run`'s part in answering sysinfo(2) (fs/sysinfo-notify.h): the
 * child hands the listener fd it got from loading the filter to the
 * launcher over their socket; the launcher keeps it, registers it for
 * curatefs, and answers itself what curatefs does not answer in time
 * (curatefs down, or between serving processes). */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct curate;
struct sysinfo_pending;

struct sysinfo_guard {
        int sock;          /* from the child, until the fd (or EOF) came */
        int notify_fd;     /* the listener; -EBADF: none */
        int sig_fd;        /* signalfd of the supervised signals */
        bool root;         /* registers for curatefs */
        bool daemon;       /* a curatefs to leave the calls to first */
        bool registered;
        char id[32];       /* "run-<launcher pid>" */
        uint64_t pending_since; /* monotonic ns a pending call was first seen; 0 none */
        uint64_t last_scan;
        uint64_t takeover_until; /* curatefs taken for absent until then */
        uint64_t sampled_at;     /* the fallback's load averages, last advanced */
        bool has_timer;
        struct curate *c;  /* the fallback's figures, made on first use */
        struct sysinfo_pending *pending;
};

/* Child side: send LISTENER (or nothing, when -EBADF) over SOCK and close
 * both. */
void sysinfo_guard_send(int sock, int listener);

/* Launcher side: SOCK is the child's end's peer; DAEMON: curatefs serves. */
void sysinfo_guard_init(struct sysinfo_guard *g, int sock, bool daemon);
/* sigwaitinfo() of SET (blocked) that answers sysinfo(2) meanwhile: 0 and
 * *RET's si_signo / si_code, or -errno. */
int sysinfo_guard_wait(struct sysinfo_guard *g, const sigset_t *set, siginfo_t *ret);
/* Remove the registration, close the fds. */
void sysinfo_guard_done(struct sysinfo_guard *g);
