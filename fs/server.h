#pragma once
#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops curatefs_ops;
/* Serve SE with NTHREADS workers until it exits or is unmounted. */
int curatefs_serve(struct fuse_session *se, unsigned nthreads);
