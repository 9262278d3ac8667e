#pragma once
/* FUSE over io_uring as `curate daemon start|restart` choose it: the
 * transports curatefs takes (--transport) and the kernel's host-wide
 * switch, /sys/module/fuse/parameters/enable_uring (Linux >= 6.14 with
 * CONFIG_FUSE_IO_URING; N by default). The kernel reads the switch when a
 * FUSE server answers INIT, so it decides for mounts made afterwards only:
 * a mount keeps the transport it was made with. */
#include <stdbool.h>
#include <stdint.h>
#include "fuse-uring.h"

enum daemon_transport {
        DAEMON_TRANSPORT_DEFAULT, /* none asked for: curatefs's own default (auto); nothing passed */
        DAEMON_TRANSPORT_AUTO,    /* io_uring where the kernel offers it, else /dev/fuse */
        DAEMON_TRANSPORT_URING,   /* io_uring or no start */
        DAEMON_TRANSPORT_DEV,     /* /dev/fuse only */
};

/* "auto", "uring" or "dev" into *RET; -EINVAL for anything else. */
int daemon_transport_parse(const char *s, enum daemon_transport *ret);

/* The word curatefs's --transport takes; NULL for DAEMON_TRANSPORT_DEFAULT. */
const char *daemon_transport_name(enum daemon_transport t);

/* The journal's stats.transport (fs/journal.h; fs/serve-uring.h enum
 * transport_state) as `curate daemon status` names it: "dev" (0, /dev/fuse
 * only, also what a journal of a curatefs older than io_uring holds) or
 * "uring" (1, every queue registered); NULL for a value this curate does
 * not know. */
const char *daemon_transport_state_name(uint64_t state);

/* The switch's path: $CURATE_FUSE_URING_SWITCH when set (a testing aid: a
 * test must not flip the host's switch), else FUSE_URING_SWITCH. */
const char *fuse_uring_switch_path(void);

/* Switch it on: write "Y" to PATH unless it reads Y already, and read it
 * back. *RET_CHANGED says whether it was off before. Never switched back:
 * that is the operator's choice, as turning it on was. 0, or -errno with
 * *RET_ERROR naming PATH and the cause (-ENOENT: no such switch here). */
int fuse_uring_switch_enable(const char *path, bool *ret_changed, char **ret_error);

/* How `curate daemon start|restart` start curatefs (daemon_ensure: all
 * defaults). The transport is fixed when the mount is made: a daemon that
 * already serves keeps its own, whatever these say. */
struct daemon_start {
        enum daemon_transport transport;
        bool enable_uring; /* --enable-uring: the kernel's switch on first */
        bool switched_on;  /* out: --enable-uring found it off and turned it on */
        char asked[48];    /* the options as given, for messages ("" none) */
};

/* Just before curatefs starts (under the daemon lock, only when one is
 * started): --enable-uring switches FUSE over io_uring on (host-wide, never
 * back; OPTS->switched_on says whether it was off), and --transport uring
 * is refused where the switch is off or missing. 0, or -errno with
 * *RET_ERROR naming the option, the file and the cause. */
int daemon_transport_prepare(struct daemon_start *opts, char **ret_error);

/* The message for a switch that is missing at PATH (-ENOENT from
 * fuse_uring_switch_read or _enable), so that every option says the same. */
#define FUSE_URING_MISSING_FMT "%s is missing: this kernel has no FUSE over io_uring (Linux >= 6.14 with CONFIG_FUSE_IO_URING)"
