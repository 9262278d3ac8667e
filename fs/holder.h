#pragma once
#include <stdbool.h>

struct holder_config {
        const char *binary; /* executed for each serving process */
        char **argv;        /* its arguments */
        void (*log)(const char *msg);
        /* called once, when the first serving process serves */
        void (*ready)(void *userdata);
        void *userdata;
        /* the seccomp agent's socket (seccomp-agent.h), NULL: none */
        const char *seccomp_agent;
};

/* Mount a new FUSE connection on MNT with OPTIONS; *RET_FD is its fd. */
int holder_mount(const char *mnt, const char *options, int *ret_fd);
/* A new, empty journal (journal.h) in a memfd. */
int holder_journal_create(int *ret_fd);
/* Seccomp listener fds systemd kept for us, by their names in the store. */
struct holder_stored {
        char **names;
        int *fds;
        size_t n;
};
/* 1 with the fds of a connection systemd kept for us (fd store), else 0;
 * either way the other stored fds (the seccomp agent's) in RET_LISTENERS. */
int holder_adopt(int *ret_fuse, int *ret_journal, struct holder_stored *ret_listeners);
/* Keep serving processes serving the connection until SIGTERM/SIGINT or the
 * mount going away. */
int holder_run(const struct holder_config *cfg, int fuse_fd, int journal_fd, bool adopted,
               struct holder_stored *listeners);
