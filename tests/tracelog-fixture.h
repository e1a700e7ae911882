/*
 * The fixture that test-tracelog.c and test-tracefaults.c share: a fresh
 * directory per test with the log's path in it, the log attached to the
 * kernel next to a sink of the test's own on the same groups (what the
 * log is compared with), readers of the log's JSON status, a wait that
 * runs the kernel until the status says something, read-only SQL on the
 * file, and the two start handlers of their workloads.
 *
 * Only what both tests do the same way lives here.  What each keeps for
 * itself (how it opens the log, what its own sink records, its faults,
 * how its workload ticks and stops) stays in its own file, so a change
 * here is a change to both tests on purpose.
 */
#ifndef POE_TESTS_TRACELOG_FIXTURE_H
#define POE_TESTS_TRACELOG_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "testlib.h"

#include "poe/tracelog.h"

/* The groups both sinks ask for: the same ones, because the log is
 * compared with what the test's own sink saw. */
#define TF_GROUPS (POE_TRACE_EVENTS | POE_TRACE_SESSIONS)
/* Generous, and ten times longer under valgrind (tl_time_scale()). */
#define TF_DEADLINE_MS (30000 * tl_time_scale())

typedef struct tf_env {
        char dir[64];   /* made by tf_setup, removed with all in it by tf_teardown */
        char path[160]; /* dir/trace.db, unless a test points it elsewhere */
        poe__tracelog *t;
        int log_sink; /* the log's sink id, 0 while detached */
        int own_sink; /* the test's own sink id, 0 while detached */
} tf_env;

/* The running test's log.  Tests are single-threaded, as for tl. */
extern tf_env tf;

/* ---- time ---- */

int64_t tf_now_ms(void);
/* Blocks for a millisecond between two polls of a condition the writer
 * thread makes true (valgrind's thread lock is not fair to a thread that
 * never blocks). */
void tf_poll_pause(void);

/* ---- set-up and tear-down ---- */

/* Clears tf, makes /tmp/poe-<name>-XXXXXX with tf.path in it, then
 * tl_setup.  -1 when the directory cannot be made. */
int tf_setup(void **state, const char *name);
/* Detaches the sinks and closes the log without asserting anything: a
 * failed test may have left them in any state.  Teardowns call it first. */
void tf_release(void);
/* Removes tf.dir and all in it, then tl_teardown (the leak check). */
int tf_teardown(void **state);

/* ---- the sinks ---- */

/* Adds the log's sink and own to the kernel, both on TF_GROUPS. */
void tf_sinks_add(poe_trace_sink_fn own);
/* The default text sink (id 0) removed, so records go to no text lines,
 * then tf_sinks_add. */
void tf_attach(poe_trace_sink_fn own);
/* Removes both sinks, asserting that each was there; the log stays open
 * for status and queries. */
void tf_detach(void);
/* tf_detach, then closes the log. */
void tf_log_close(void);

/* ---- the status ---- */

/* The log's status; the caller owns it. */
json_t *tf_status(void);
/* An integer of the status; fails the test when it has none. */
int64_t tf_st_int(json_t *s, const char *key);
/* One integer of a fresh status. */
int64_t tf_status_int(const char *key);
/* The drops the status counts for a group (TRACE_EVENTS ...), 0 if none. */
int64_t tf_dropped(json_t *s, const char *group);
/* A predicate for tf_run_until: no error, and more than *(int64_t *)arg
 * records written. */
bool tf_s_healthy_past(json_t *s, const void *arg);
/* Runs the kernel 20 timeslices at a time (its workload must run forever)
 * until the status satisfies pred, or fails at the deadline saying what
 * it waited for and what the status said. */
void tf_run_until(bool (*pred)(json_t *s, const void *arg), const void *arg, const char *what);

/* ---- the file ---- */

sqlite3 *tf_db_open_ro(const char *path);
/* One integer from SQL with up to one integer parameter. */
int64_t tf_sql_int(sqlite3 *db, const char *sql, int64_t arg);
/* Asserts that SQL's first row's first column is the text want. */
void tf_sql_text_is(sqlite3 *db, const char *sql, const char *want);

/* ---- the workloads' start handlers ---- */

/* Session B's _start: takes the alias "listener", which keeps it alive
 * for the notes and names it in the records' messages; the test's note
 * handler removes it to let B stop. */
poe_value tf_h_listener_start(poe_ctx *c);
/* Session A's _start: yields "tick" to itself; the test's tick handler
 * goes on from there. */
poe_value tf_h_ticker_start(poe_ctx *c);

#endif
