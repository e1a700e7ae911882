/*
 * What the fuzz targets share (common.c): a scratch directory, a kernel
 * population to inspect, a real trace log written by the library, and a
 * reader of the fuzzer's bytes.  Each target defines
 * LLVMFuzzerTestOneInput; libFuzzer drives it in the clang build
 * (-Dfuzz=enabled), replay.c in every other build.
 */
#ifndef POE_FUZZ_H
#define POE_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <poe/poe.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Stops the run with a message: the fuzzer keeps the input as a crash. */
void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A directory of this process's own, made on first use and removed with
 * everything in it at exit. */
const char *fz_tmpdir(void);
/* Empties it. */
void fz_tmpdir_clean(void);

/*
 * The population every inspector view has something to show for: a
 * session tree (root, middle, leaf, a worker) with aliases (one not
 * ASCII), timers, a pipe watcher, an extra reference, signal watchers,
 * events whose names need quoting in every export format, a handler that
 * dies (DIE, handled).  With ticks > 0 the root's timer fires that many
 * times, a millisecond apart, then every session lets go of what holds
 * it, so the kernel runs out of work (a log's worth of records); with 0
 * the timers are an hour away and the population stays.
 */
typedef struct fz_world {
        poe_kernel *k;
        poe_sid root;
        int pipefd[2];
        int ticks;
        size_t sessions; /* how many it made, the kernel's not counted */
} fz_world;

int fz_world_build(fz_world *w, poe_kernel *k, int ticks);
void fz_world_close(fz_world *w);
/* How many sessions the kernel has, the kernel not counted. */
size_t fz_session_count(poe_kernel *k);

/* Writes a trace log at path the way a program with an inspector does:
 * a kernel, the log's sink on every trace group, a world of the given
 * ticks run to its end.  0 or -errno. */
int fz_write_trace_log(const char *path, int ticks);

/* The kernel's consistency check (tests/kcheck.c); fails the run when
 * it does not hold. */
void fz_check_kernel(poe_kernel *k);

/* The fuzzer's bytes, taken from the front. */
typedef struct fz_in {
        const uint8_t *p;
        size_t n;
} fz_in;

/* One byte (0 once the input is used up). */
uint8_t fz_byte(fz_in *in);
/* A field of up to max bytes, NUL-terminated in buf (size max + 1): its
 * length is one byte of the input, the bytes follow.  NUL bytes in it
 * are kept, so its real length is returned. */
size_t fz_field(fz_in *in, char *buf, size_t max);
/* Like fz_field, with NUL bytes dropped: a C string. */
const char *fz_str(fz_in *in, char *buf, size_t max);

#endif
