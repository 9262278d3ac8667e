#pragma once
#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdint.h>
#include "serve-uring.h"

struct journal;
struct uring_state;

enum recovery {
        RECOVERY_AUTO,    /* resend where the kernel has it and it is safe, else the journal */
        RECOVERY_RESEND,  /* FUSE_NOTIFY_RESEND (Linux >= 6.9) */
        RECOVERY_JOURNAL, /* replay from the journal (any kernel) */
};

/* A serving process's view of the connection it serves. */
struct serve {
        struct fuse_session *se;
        int fd;                  /* the holder's /dev/fuse connection */
        int journal_fd;          /* the journal's memfd (the io_uring buffers follow it) */
        enum transport transport;
        const char *mnt;         /* the mount point */
        struct uring_state *uring; /* NULL: /dev/fuse only */
        void (*log)(const char *msg);
        struct journal *j;
        unsigned region;         /* its journal region */
        unsigned nthreads;
        enum recovery recovery;
        bool dropping_init;      /* replaying INIT: its reply is not sent */
        uint64_t init_unique;
        /* published after each request into the journal's stats.readers
         * (NULL: not published) */
        size_t (*nreaders)(void *userdata);
        void *userdata;
};

/* Serve SE on FD through the journal's slots (fuse_session_custom_io). */
int serve_attach(struct serve *s, struct fuse_session *se, int fd);
/* Populate the slots; replay the kernel's INIT to the session (reply
 * dropped) when an earlier serving process answered it. */
int serve_begin(struct serve *s);
/* Recover the requests the dead processes of the regions in MASK had read. */
int serve_replay_orphans(struct serve *s, unsigned mask);
/* Serve until SIGTERM/SIGINT or unmount; a byte to READY_FD once serving. */
int serve_run(struct serve *s, int ready_fd);
/* Does kernel RELEASE have the stable fixes to FUSE_NOTIFY_RESEND? */
bool serve_resend_is_safe(const char *release);
