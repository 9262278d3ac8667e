#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "daemon-transport.h"
#include "fileio.h"
#include "macro.h"

static const char *const transport_names[] = {
        [DAEMON_TRANSPORT_AUTO] = "auto",
        [DAEMON_TRANSPORT_URING] = "uring",
        [DAEMON_TRANSPORT_DEV] = "dev",
};

int daemon_transport_parse(const char *s, enum daemon_transport *ret) {
        for (size_t i = 0; i < ELEMENTSOF(transport_names); i++)
                if (transport_names[i] && s && streq(s, transport_names[i])) {
                        *ret = (enum daemon_transport)i;
                        return 0;
                }
        return -EINVAL;
}

const char *daemon_transport_name(enum daemon_transport t) {
        return (size_t)t < ELEMENTSOF(transport_names) ? transport_names[t] : NULL;
}

const char *daemon_transport_state_name(uint64_t state) {
        static const char *const names[] = { "dev", "uring" };
        return state < ELEMENTSOF(names) ? names[state] : NULL;
}

const char *fuse_uring_switch_path(void) {
        const char *env = getenv("CURATE_FUSE_URING_SWITCH");
        return env && *env ? env : FUSE_URING_SWITCH;
}

int fuse_uring_switch_enable(const char *path, bool *ret_changed, char **ret_error) {
        _cleanup_close_ int fd = -EBADF;
        bool on;
        int r = fuse_uring_switch_read(path, &on);

        if (r == -ENOENT)
                return error_printf(ret_error, r, FUSE_URING_MISSING_FMT, path);
        if (r < 0)
                return error_printf(ret_error, r, "cannot read %s: %s", path, strerror(-r));
        if (on) {
                *ret_changed = false;
                return 0;
        }
        /* no O_CREAT: a path that is not there is a kernel without the switch */
        fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return error_printf(ret_error, -errno, "cannot write Y to %s: %s", path, strerror(errno));
        r = write_all(fd, "Y", 1);
        if (r < 0)
                return error_printf(ret_error, r, "cannot write Y to %s: %s", path, strerror(-r));
        r = fuse_uring_switch_read(path, &on);
        if (r < 0)
                return error_printf(ret_error, r, "cannot read %s back: %s", path, strerror(-r));
        if (!on)
                return error_printf(ret_error, -EIO, "wrote Y to %s, but it still reads N", path);
        *ret_changed = true;
        return 0;
}

int daemon_transport_prepare(struct daemon_start *opts, char **ret_error) {
        const char *path = fuse_uring_switch_path();
        _cleanup_free_ char *error = NULL;
        bool on;
        int r;

        if (opts->enable_uring) {
                r = fuse_uring_switch_enable(path, &opts->switched_on, &error);
                if (r < 0)
                        return error_printf(ret_error, r, "--enable-uring: %s", error);
        }
        if (opts->transport != DAEMON_TRANSPORT_URING)
                return 0;
        r = fuse_uring_switch_read(path, &on);
        if (r == -ENOENT)
                return error_printf(ret_error, r, "--transport uring: " FUSE_URING_MISSING_FMT, path);
        if (r < 0)
                return error_printf(ret_error, r, "--transport uring: cannot read %s: %s", path, strerror(-r));
        if (!on)
                return error_printf(ret_error, -EOPNOTSUPP,
                                    "--transport uring: %s reads N: FUSE over io_uring is off on this host "
                                    "(--enable-uring switches it on, for every FUSE mount made afterwards)",
                                    path);
        return 0;
}
