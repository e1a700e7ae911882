/*
 * poe-trace's commands, apart from its command line (poe-trace.c): what
 * runs once the arguments are known.  Kept out of main() so that the
 * fuzz target fuzz-trace-db runs exactly what the tool runs over a
 * database it did not write, and so that every failure comes back as a
 * status and a message instead of an exit().
 */
#ifndef POE_TRACE_CMD_H
#define POE_TRACE_CMD_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

/* The commands, in the order poe-trace's table lists them. */
typedef enum {
        PT_RUNS,
        PT_SESSIONS,
        PT_RECORDS,
        PT_EXPORT,
} pt_command;

/* Exit statuses, as the tool documents them. */
enum { PT_OK = 0, PT_FAIL = 1, PT_USAGE = 2 };

/* The options a command reads; NULL (false) when not given.  Borrowed. */
typedef struct pt_options {
        const char *run, *since, *until, *session, *group, *event, *kind, *limit, *format, *output,
                *last;
        /* records --follow: wait for new records until *stop is set (a
         * signal handler's flag; NULL: never, for a caller that kills). */
        bool follow;
        const volatile sig_atomic_t *stop;
        /* Times in UTC ("...Z") rather than local time with its offset. */
        bool utc;
} pt_options;

/*
 * Opens the trace log at db read-only, runs cmd with o and closes it.
 * Text goes to out (export writes to o->output instead when it names a
 * file).  Returns PT_OK, PT_FAIL (the log cannot be read, an unknown run,
 * an output that cannot be written) or PT_USAGE (a bad option value),
 * the failures with a message in err.  Never exits; frees all it took.
 */
int pt_run_command(pt_command cmd, const char *db, const pt_options *o, FILE *out, char *err,
                   size_t errlen);

/* How long records --follow sleeps when it finds nothing new, in ms. */
#define PT_FOLLOW_POLL_MS 100

/* How long one read of the log may take, in ms: a day, where the
 * inspector allows 10 s; the user ends the tool sooner when they like. */
#define PT_READ_DEADLINE_MS (24LL * 3600 * 1000)

/* Epoch seconds, or an ISO 8601 time ("2024-05-01T12:00:00[.123][Z]").
 * 0, or -EINVAL when it is neither. */
int pt_parse_time(const char *s, double *ret);

#endif
