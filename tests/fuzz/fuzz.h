#pragma once
/* Shared pieces of the libFuzzer harnesses (tests/fuzz/fuzz-*.c). Each
 * harness feeds one parser of outside input (files the host, a driver, a
 * container runtime or a user writes) the bytes libFuzzer makes up, through
 * the same entry point the programs call. Parsers that only read a path
 * beneath a directory fd get their input written into a private directory
 * first (fuzz_dir()). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* DATA[0..SIZE) as a malloc'd NUL-terminated string (an inner NUL ends it
 * early, as it would for a C reader of the file). Aborts on ENOMEM. */
char *fuzz_str(const uint8_t *data, size_t size);

/* Inputs holding several files: DATA split at its NUL bytes into at most MAX
 * malloc'd strings; SEGS[i] is NULL for the files the input does not reach
 * (they are removed: the parser's "file absent" path). Returns the number of
 * segments present; free with fuzz_segs_free(). */
size_t fuzz_split(const uint8_t *data, size_t size, char **segs, size_t max);
void fuzz_segs_free(char **segs, size_t max);

/* The numbers in S (decimal, 0x hex or 0 octal, as strtoull takes them),
 * separated by any of SEP, into V: how many, at most MAX; the first that is
 * not a number ends them. Figures for the harnesses' pure functions. */
size_t fuzz_numbers(const char *s, const char *sep, uint64_t *v, size_t max);

/* Every uint64_t figure of M after swap_accounting, in struct order, from
 * V (N of them); CG_NONE past the end. */
struct cg_memory;
void fuzz_memory(struct cg_memory *m, const uint64_t *v, size_t n);

/* The first byte of DATA picks one of N variants (consumed); 0 when empty. */
unsigned fuzz_pick(const uint8_t **data, size_t *size, unsigned n);

/* A private directory, created on first use and removed at exit: an
 * O_PATH|O_DIRECTORY fd, and its path. */
int fuzz_dir(void);
const char *fuzz_dir_path(void);

/* Write TEXT to NAME beneath DIRFD (replacing it), or remove NAME when TEXT
 * is NULL; a file already holding TEXT is left alone (NAME must outlive the
 * run: a literal). Aborts on failure: a harness that cannot set up its input would
 * fuzz nothing. */
void fuzz_put(int dirfd, const char *name, const char *text);

/* mkdir -p NAME beneath DIRFD (relative, '/'-separated). */
void fuzz_mkdirs(int dirfd, const char *name);
