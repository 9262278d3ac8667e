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
/* 1 with the fds of a connection systemd kept for us (fd store), else 0. */
int holder_adopt(int *ret_fuse, int *ret_journal);
/* Keep serving processes serving the connection until SIGTERM/SIGINT or the
 * mount going away. */
int holder_run(const struct holder_config *cfg, int fuse_fd, int journal_fd, bool adopted);
