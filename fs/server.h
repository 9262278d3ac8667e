#pragma once
#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>
#include <stdint.h>

struct curate;
extern const struct fuse_lowlevel_ops curatefs_ops;
/* Drop device registrations whose container is gone (see server.c), now
 * and after each sampler pass. */
void curatefs_enable_sweep(struct curate *c);
/* The serving process's generation, given by the holder (0 for a daemon
 * that serves by itself). File handles carry it: a handle from another
 * generation is re-derived, never dereferenced. */
void curatefs_set_generation(uint32_t gen);
/* Free the handles of files still open, once serving has stopped: their
 * RELEASE goes to the next serving process, which never dereferences them. */
void curatefs_drop_handles(void);
