/*
 * What the in-process inspector tests share (test-inspector-stop.c,
 * test-inspector-export.c): a monotonic clock and waits on a condition
 * with a deadline, a SQLite VFS that makes the trace log's readers slow,
 * blocked or refused a lock on demand, raw HTTP clients, and an
 * inspector started on the test's kernel (testlib.h's tl.k).
 */
#ifndef POE_TESTS_INSPECTOR_HARNESS_H
#define POE_TESTS_INSPECTOR_HARNESS_H

#include <stdatomic.h>
#include <stdbool.h>

#include "testlib.h"

#include "http.h"

/* CLOCK_MONOTONIC in seconds. */
double ih_now(void);
/* valgrind's 10, or the sanitize setup's POE_TEST_SLOW, or 1. */
int ih_slowness(void);
/* A millisecond between two looks at a condition another thread makes. */
void ih_pause_1ms(void);

#define IH_WAIT_FOR(cond, seconds)                                                          \
        do {                                                                                \
                double wf__end = ih_now() + (seconds) * ih_slowness();                      \
                while (!(cond)) {                                                           \
                        if (ih_now() > wf__end)                                             \
                                fail_msg("%s:%d: %s not reached within %d s", __FILE__,    \
                                         __LINE__, #cond,                                   \
                                         (int)((seconds) * ih_slowness()));                 \
                        ih_pause_1ms();                                                     \
                }                                                                           \
        } while (0)

/* ---- the readers' VFS ---- */

/*
 * Installed as the default VFS (for every connection opened after), it
 * acts on read-only main databases only, which are the trace log's
 * readers (the writer and the WALs go on as usual):
 *  - while ih_slowing, each page read takes IH_SLOW_READ_MS
 *    (ih_slow_reads counts them);
 *  - while ih_gate_closed, each page read waits for the gate to open
 *    (ih_gate_waiters says how many wait);
 *  - while ih_locked, taking a lock answers SQLITE_BUSY, as when
 *    another connection holds the lock the reader needs
 *    (ih_lock_refusals counts the refusals).
 * Memory-mapped reads are off, so every page goes through it.
 */
#define IH_SLOW_READ_MS 20
extern _Atomic bool ih_slowing, ih_gate_closed, ih_locked;
extern _Atomic int ih_slow_reads, ih_gate_waiters, ih_lock_refusals;
void ih_vfs_install(void);
/* Everything off: fast, open, unlocked. */
void ih_vfs_reset(void);

/* ---- clients ---- */

/* A connection to the inspector from source address 127.0.0.src. */
int ih_connect_from(int port, int src);
void ih_send_str(int fd, const char *s);
/* "GET path" from 127.0.0.src, Connection: close; the socket. */
int ih_request(int port, int src, const char *path);
/* Whether the server has ended the connection (its answer, if any, read
 * and dropped), waiting up to seconds (scaled). */
bool ih_ended(int fd, double seconds);
/* Each of fds ended within 5 s (scaled), and closed. */
void ih_all_end(int *fds, int n);

/* ---- the inspector ---- */

/* A directory for the test's trace log, made by ih_dir_make, removed
 * by ih_dir_remove; ih_db is its trace.db. */
extern char ih_db[160];
int ih_dir_make(const char *name);
void ih_dir_remove(void);
/* An inspector on tl.k, 127.0.0.1, a free port, its log at ih_db. */
poe_inspector *ih_start(int answer_ms);
poe__http_counts ih_counts(poe_inspector *in);
/* Writes a log of some thousands of records (ih_start, a session that
 * yields records, the inspector stopped). */
void ih_make_log(void);

#endif
