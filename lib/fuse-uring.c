#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "fileio.h"
#include "fuse-uring.h"
#include "macro.h"

int fuse_uring_switch_read(const char *path, bool *ret_on) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        char text[16];
        int r;

        if (fd < 0)
                return -errno;
        r = read_fd_into(fd, text, sizeof(text));
        if (r < 0)
                return r;
        /* param_get_bool() prints "Y" or "N"; a writer may have left "1" */
        *ret_on = text[0] == 'Y' || text[0] == 'y' || text[0] == '1';
        return 0;
}
