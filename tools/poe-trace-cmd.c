/*
 * poe-trace's commands: runs, sessions, records and export over a trace
 * log opened read-only (poe__tracelog_open_readonly: no writer thread, no
 * new run, nothing created).  Everything that reads the log is the trace
 * log library's (poe/tracelog.h), the code the inspector serves the log
 * with, so an export here is byte for byte the one GET
 * /api/v1/trace/export gives for the same filters, and this file holds
 * no SQL of its own.
 *
 * The log may be anything a user points the tool at: a log of another
 * version, a database of something else, a file that a crash cut short.
 * Every failure is a status and a message, never a crash; fuzz-trace-db
 * (fuzz/) holds the code to that.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "poe-trace-cmd.h"
#include "poe/tracelog.h"

#define PROG "poe-trace"

typedef struct pt {
        poe__tracelog *t;
        const char *db;
        const pt_options *o;
        FILE *out;
        char *err;
        size_t errlen;
        /* What the records and sessions printers need: the output's
         * format, and the run's pid for POE's text lines. */
        bool jsonl;
        int64_t pid;
} pt;

static int say(pt *p, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sets the message of a failure and returns its status. */
static int say(pt *p, int status, const char *fmt, ...)
{
        va_list ap;

        if (p->err && p->errlen) {
                va_start(ap, fmt);
                vsnprintf(p->err, p->errlen, fmt, ap);
                va_end(ap);
        }
        return status;
}

/* ---- times ---- */

int pt_parse_time(const char *s, double *ret)
{
        struct tm tm;
        const char *p;
        char *end;
        double d, frac = 0;
        time_t when;

        errno = 0;
        d = strtod(s, &end);
        if (*s && !*end && !errno && isfinite(d) && d >= 0) {
                *ret = d;
                return 0;
        }
        memset(&tm, 0, sizeof(tm));
        p = strptime(s, "%Y-%m-%d", &tm);
        if (!p)
                return -EINVAL;
        if (*p == 'T' || *p == ' ') {
                p = strptime(p + 1, "%H:%M:%S", &tm);
                if (!p)
                        return -EINVAL;
                if (*p == '.') {
                        errno = 0;
                        frac = strtod(p, &end);
                        if (errno || end == p + 1)
                                return -EINVAL;
                        p = end;
                }
        }
        if (*p == 'Z' && !p[1]) {
                when = timegm(&tm);
        } else if (!*p) {
                tm.tm_isdst = -1;
                when = mktime(&tm);
        } else {
                return -EINVAL;
        }
        if (when == (time_t)-1 || when < 0)
                return -EINVAL;
        *ret = (double)when + frac;
        return 0;
}

/*
 * t (epoch seconds) in ISO 8601 with `digits' digits of fraction (3 or
 * 6): local time with its offset ("2026-12-06T20:30:01.123+01:00"), or
 * with --utc UTC ("2026-12-06T19:30:01.123Z").  A log written elsewhere
 * may hold any double: past the year 9999 the cast to time_t could
 * overflow (undefined), so such a time, or none, is "-".
 */
static const char *iso_time(const pt *p, double t, int digits, char *buf, size_t size)
{
        long unit = digits == 6 ? 1000000L : 1000L, frac, off;
        time_t sec;
        struct tm tm;
        char day[32];

        if (!isfinite(t) || t <= 0 || t >= 253402300800.0 /* 10000-01-01 */) {
                snprintf(buf, size, "-");
                return buf;
        }
        sec = (time_t)floor(t);
        frac = (long)((t - floor(t)) * (double)unit);
        if (frac >= unit)
                frac = unit - 1;
        if (!(p->o->utc ? gmtime_r(&sec, &tm) : localtime_r(&sec, &tm))) {
                snprintf(buf, size, "-");
                return buf;
        }
        strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
        if (p->o->utc) {
                snprintf(buf, size, "%s.%0*ldZ", day, digits, frac);
                return buf;
        }
        /* Offsets are within a day: the minutes fit an int. */
        off = labs(tm.tm_gmtoff / 60) % (24 * 60);
        snprintf(buf, size, "%s.%0*ld%c%02d:%02d", day, digits, frac, tm.tm_gmtoff < 0 ? '-' : '+',
                 (int)(off / 60), (int)(off % 60));
        return buf;
}

/* ---- the log ---- */

/* The run's pid into *pid: PT_OK, PT_FAIL with the message (no such run,
 * or the runs cannot be read). */
static int run_pid(pt *p, int64_t run, int64_t *pid)
{
        int rc = poe__tracelog_run_pid(p->t, run, pid, p->err, p->errlen);

        if (rc == -ENOENT)
                return say(p, PT_FAIL, "%s: no run %lld in this trace log (see `" PROG
                                       " runs %s')",
                           p->db, (long long)run, p->db);
        return rc < 0 ? PT_FAIL : PT_OK;
}

/* The run a command is about (--run, or the newest), checked to exist. */
static int pick_run(pt *p, int64_t *run, int64_t *pid)
{
        char *end;

        *run = poe__tracelog_run_id(p->t);
        if (p->o->run) {
                errno = 0;
                *run = strtoll(p->o->run, &end, 10);
                if (!*p->o->run || *end || errno || *run < 1)
                        return say(p, PT_USAGE,
                                   "--run: expected a run id (a positive integer), got `%s'",
                                   p->o->run);
        } else if (*run == 0) {
                return say(p, PT_FAIL, "%s: the trace log holds no runs", p->db);
        }
        return run_pid(p, *run, pid);
}

/* The filters as a query, parsed by the trace log's own parser (the one
 * GET /api/v1/trace uses), so that groups, sessions and their errors are
 * the API's. */
static int build_query(pt *p, int64_t run, poe__trace_query *q)
{
        const pt_options *o = p->o;
        poe__params params = { .n = 0 };
        char err[300];

#define ADD(k, v)                                                                                  \
        do {                                                                                       \
                if (v) {                                                                           \
                        params.kv[params.n].key = (k);                                             \
                        params.kv[params.n].value = (v);                                           \
                        params.n++;                                                                \
                }                                                                                  \
        } while (0)
        ADD("session", o->session);
        ADD("group", o->group);
        ADD("event", o->event);
        ADD("kind", o->kind);
#undef ADD
        if (poe__trace_query_parse(&params, q, err, sizeof(err)) < 0)
                return say(p, PT_USAGE, "--%s", err);
        if (o->since && pt_parse_time(o->since, &q->since) < 0)
                return say(p, PT_USAGE,
                           "--since: expected epoch seconds or an ISO 8601 time, got `%s'",
                           o->since);
        if (o->until && pt_parse_time(o->until, &q->until) < 0)
                return say(p, PT_USAGE,
                           "--until: expected epoch seconds or an ISO 8601 time, got `%s'",
                           o->until);
        q->run_id = run;
        return PT_OK;
}

/* ---- commands ---- */

static int want_jsonl(pt *p, bool *jsonl)
{
        const char *f = p->o->format;

        *jsonl = f && strcmp(f, "jsonl") == 0;
        if (!f || *jsonl || strcmp(f, "text") == 0)
                return PT_OK;
        return say(p, PT_USAGE, "--format: expected text or jsonl, got `%s'", f);
}

/* One JSON object (borrowed) on a line of its own, as the JSON Lines
 * export writes it. */
static int put_json(pt *p, json_t *j)
{
        size_t len;
        char *s = poe__tracelog_json_text(j, &len);

        if (!s)
                return say(p, PT_FAIL, "out of memory");
        fwrite(s, 1, len, p->out);
        fputc('\n', p->out);
        free(s);
        return PT_OK;
}

/* A string column of a foreign log may be missing, or not a string. */
static const char *jtext(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));

        return s ? s : "-";
}

/* An integer field for a column: "-" when the log does not know it (a
 * run of an older log, a key an older log has not). */
static const char *jint(json_t *o, const char *key, char *buf, size_t size)
{
        json_t *v = json_object_get(o, key);

        if (!json_is_integer(v))
                return "-";
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        return buf;
}

/* The runs, one a line.  REMOVED: records the log's bounds took out of
 * the file; LOST: records produced that never reached it (neither
 * written nor counted as dropped), as the run's last batch recorded
 * them: exact for a run that ended cleanly, and for one killed, all but
 * those its writer's batch in flight had not counted yet. */
static int cmd_runs(pt *p)
{
        char when[64], removed[24], lost[24];
        json_t *runs, *r;
        size_t i;
        bool jsonl;
        int status = want_jsonl(p, &jsonl);

        if (status != PT_OK)
                return status;
        runs = poe__tracelog_runs(p->t, p->err, p->errlen);
        if (!runs)
                return PT_FAIL;
        if (!jsonl)
                fprintf(p->out, "%-6s %-8s %-29s %-30s %-10s %10s %8s %8s %8s\n", "ID", "PID",
                        "STARTED", "KERNEL", "VERSION", "RECORDS", "DROPPED", "REMOVED", "LOST");
        json_array_foreach(runs, i, r) {
                if (jsonl) {
                        status = put_json(p, r);
                        if (status != PT_OK)
                                break;
                        continue;
                }
                fprintf(p->out, "%-6lld %-8lld %-29s %-30s %-10s %10lld %8lld %8s %8s\n",
                        (long long)json_integer_value(json_object_get(r, "id")),
                        (long long)json_integer_value(json_object_get(r, "pid")),
                        iso_time(p, json_real_value(json_object_get(r, "started")), 3, when,
                                 sizeof(when)),
                        jtext(r, "kernel_id"), jtext(r, "poe_version"),
                        (long long)json_integer_value(json_object_get(r, "records")),
                        (long long)json_integer_value(json_object_get(r, "dropped")),
                        jint(r, "removed", removed, sizeof(removed)),
                        jint(r, "lost", lost, sizeof(lost)));
        }
        json_decref(runs);
        return status;
}

/* One session, {"run","session","first_seen","last_seen","records"}. */
static int put_session(void *ctx, json_t *s)
{
        pt *p = ctx;
        char first[64], last[64];

        if (p->jsonl)
                return put_json(p, s) == PT_OK ? 0 : -ENOMEM;
        fprintf(p->out, "%-10lld %-29s %-29s %10lld\n",
                (long long)json_integer_value(json_object_get(s, "session")),
                iso_time(p, json_real_value(json_object_get(s, "first_seen")), 3, first,
                         sizeof(first)),
                iso_time(p, json_real_value(json_object_get(s, "last_seen")), 3, last,
                         sizeof(last)),
                (long long)json_integer_value(json_object_get(s, "records")));
        return 0;
}

static int cmd_sessions(pt *p)
{
        int64_t pid, run;
        int status;

        if ((status = want_jsonl(p, &p->jsonl)) != PT_OK ||
            (status = pick_run(p, &run, &pid)) != PT_OK)
                return status;
        if (!p->jsonl)
                fprintf(p->out, "%-10s %-29s %-29s %10s\n", "SESSION", "FIRST SEEN", "LAST SEEN",
                        "RECORDS");
        return poe__tracelog_walk_sessions(p->t, run, put_session, p, p->err, p->errlen) < 0
                       ? PT_FAIL
                       : PT_OK;
}

static bool stopped(const pt *p)
{
        return p->o->stop && *p->o->stop;
}

/* One record: its time and POE's text line, or the export's JSON line. */
static int put_record(void *ctx, json_t *r)
{
        pt *p = ctx;
        const char *prefix = json_string_value(json_object_get(r, "prefix"));
        const char *msg = json_string_value(json_object_get(r, "message"));
        char when[64];

        /* Interrupted while following: the walk ends here, and so does
         * --follow. */
        if (stopped(p))
                return 1;
        if (p->jsonl)
                return put_json(p, r) == PT_OK ? 0 : -ENOMEM;
        /* The time it was made, then POE's line as the kernel's text sink
         * prints it (debug.c). */
        iso_time(p, json_real_value(json_object_get(r, "wall")), 6, when, sizeof(when));
        if (prefix && *prefix)
                fprintf(p->out, "%s === %lld === %s %s\n", when, (long long)p->pid, prefix,
                        msg ? msg : "");
        else
                fprintf(p->out, "%s === %lld === %s\n", when, (long long)p->pid, msg ? msg : "");
        return 0;
}

/* Keeps each record handed over (in a JSON array, ctx), newest first. */
static int keep_record(void *ctx, json_t *r)
{
        return json_array_append(ctx, r) < 0 ? -ENOMEM : 0;
}

/* The id of run's newest record into *id (0: none), whatever the
 * filters: one step down the run's index. */
static int newest_id(pt *p, int64_t run, int64_t *id)
{
        poe__trace_query q;
        json_t *kept = json_array();
        int rc;

        if (!kept)
                return say(p, PT_FAIL, "out of memory");
        memset(&q, 0, sizeof(q));
        q.run_id = run;
        q.descending = true;
        q.page.limit = 1;
        rc = poe__tracelog_walk_records(p->t, &q, keep_record, kept, p->err, p->errlen);
        if (rc == 0)
                *id = json_array_size(kept)
                              ? json_integer_value(json_object_get(json_array_get(kept, 0), "id"))
                              : 0;
        json_decref(kept);
        return rc < 0 ? PT_FAIL : PT_OK;
}

/*
 * --last N: the selection's newest N records, printed oldest first.  Read
 * newest first down the run's index (or the session's, the event's),
 * LIMIT N: the cost is N records and the non-matching ones among them,
 * never the whole log; the N are held until printed.
 */
static int print_last(pt *p, const poe__trace_query *sel, int64_t n)
{
        poe__trace_query q = *sel;
        json_t *kept;
        size_t i;
        int rc = 0;

        if (n <= 0)
                return PT_OK;
        if (!(kept = json_array()))
                return say(p, PT_FAIL, "out of memory");
        q.descending = true;
        q.page.limit = n;
        q.page.offset = 0;
        if (poe__tracelog_walk_records(p->t, &q, keep_record, kept, p->err, p->errlen) < 0) {
                json_decref(kept);
                return PT_FAIL;
        }
        for (i = json_array_size(kept); i-- > 0 && rc == 0;)
                rc = put_record(p, json_array_get(kept, i));
        json_decref(kept);
        return rc < 0 ? say(p, PT_FAIL, "out of memory") : PT_OK;
}

/*
 * --follow, as tail -f: prints the selection's records as the writer
 * commits them, from after id `last' on, until *stop is set.  Each turn
 * takes the run's newest id M, then prints the selected records in
 * (last, M]: each record is looked at once, however rarely the filters
 * match.  With nothing new it sleeps PT_FOLLOW_POLL_MS (a signal cuts the
 * sleep short) and, unless --run named the run, moves on to the next run
 * once there is one: the program was started again.
 */
static int follow(pt *p, poe__trace_query *q, int64_t run, int64_t last)
{
        struct timespec nap = { 0, PT_FOLLOW_POLL_MS * 1000000L };
        int64_t newest, pid;
        int rc;

        if (fflush(p->out) != 0)
                return say(p, PT_FAIL, "standard output: %s", strerror(errno));
        while (!stopped(p)) {
                if (newest_id(p, run, &newest) != PT_OK)
                        return PT_FAIL;
                if (newest > last) {
                        q->after_id = last;
                        q->upto_id = newest;
                        rc = poe__tracelog_walk_records(p->t, q, put_record, p, p->err,
                                                        p->errlen);
                        if (rc < 0)
                                return PT_FAIL;
                        last = newest;
                        if (fflush(p->out) != 0 || ferror(p->out))
                                return say(p, PT_FAIL, "standard output: %s",
                                           strerror(errno ? errno : EIO));
                        continue;
                }
                if (!p->o->run && poe__tracelog_run_pid(p->t, run + 1, &pid, NULL, 0) == 0) {
                        run++;
                        q->run_id = run;
                        p->pid = pid;
                        last = 0;
                        continue;
                }
                nanosleep(&nap, NULL);
        }
        return PT_OK;
}

static int cmd_records(pt *p)
{
        const pt_options *o = p->o;
        int64_t limit = 0, last = -1, run, newest = 0;
        poe__trace_query q;
        char *end;
        int status;

        if ((status = want_jsonl(p, &p->jsonl)) != PT_OK ||
            (status = pick_run(p, &run, &p->pid)) != PT_OK)
                return status;
        if (o->limit) {
                errno = 0;
                limit = strtoll(o->limit, &end, 10);
                if (!*o->limit || *end || errno || limit < 1)
                        return say(p, PT_USAGE, "--limit: expected a positive integer, got `%s'",
                                   o->limit);
        }
        if (o->last) {
                errno = 0;
                last = strtoll(o->last, &end, 10);
                if (!*o->last || *end || errno || last < 0)
                        return say(p, PT_USAGE, "--last: expected a count (0 or more), got `%s'",
                                   o->last);
        }
        if (o->limit && (o->last || o->follow))
                return say(p, PT_USAGE, "--limit goes with neither --last nor --follow");
        if ((status = build_query(p, run, &q)) != PT_OK)
                return status;
        if (!o->last && !o->follow) {
                /* 0: every record the filters select. */
                q.page.limit = limit;
                return poe__tracelog_walk_records(p->t, &q, put_record, p, p->err, p->errlen) < 0
                               ? PT_FAIL
                               : PT_OK;
        }
        /* As tail: the last 10 unless told, then, following, what comes
         * after the run's newest record now. */
        if (last < 0)
                last = 10;
        q.page.limit = 0;
        if (o->follow && (status = newest_id(p, run, &newest)) != PT_OK)
                return status;
        q.upto_id = newest;
        if ((status = print_last(p, &q, last)) != PT_OK || !o->follow)
                return status;
        return follow(p, &q, run, newest);
}

static int write_all(int fd, const char *s, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, s, n);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                s += w;
                n -= (size_t)w;
        }
        return 0;
}

/*
 * The inspector's export, streamed: read from the export's cursor a
 * block at a time and written out, so a log of millions of records
 * exports in the memory of one block.  The output file is made once the
 * export has opened (its first record read); one that fails part way is
 * removed rather than left looking complete.
 */
static int cmd_export(pt *p)
{
        static const char *const ok[] = { "csv", "chrome", "jsonl", "otlp" };
        const pt_options *o = p->o;
        bool to_file = o->output && strcmp(o->output, "-") != 0;
        poe__tl_export *x = NULL;
        poe__trace_query q;
        static char block[64 << 10];
        int64_t pid, run;
        size_t i;
        ssize_t n;
        int out = -1, rc = 0, status;

        if (!o->format)
                return say(p, PT_USAGE,
                           "export: --format is required (csv, chrome, jsonl or otlp)");
        for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
                if (strcmp(o->format, ok[i]) == 0)
                        break;
        /* Not "sqlite": its copy is made next to the log, and this tool
         * never writes there. */
        if (i == sizeof(ok) / sizeof(ok[0]))
                return say(p, PT_USAGE, "--format: expected csv, chrome, jsonl or otlp, got `%s'",
                           o->format);
        if ((status = pick_run(p, &run, &pid)) != PT_OK ||
            (status = build_query(p, run, &q)) != PT_OK)
                return status;
        if (poe__tracelog_export_open(p->t, o->format, &q, &x, p->err, p->errlen) < 0)
                return PT_FAIL;
        if (to_file) {
                out = open(o->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
                if (out < 0) {
                        poe__tl_export_close(x);
                        return say(p, PT_FAIL, "%s: %s", o->output, strerror(errno));
                }
        }
        while ((n = poe__tl_export_read(x, block, sizeof(block))) > 0) {
                if (to_file) {
                        rc = write_all(out, block, (size_t)n);
                } else if (fwrite(block, 1, (size_t)n, p->out) != (size_t)n) {
                        rc = -EIO;
                }
                if (rc < 0)
                        break;
        }
        if (n < 0)
                status = say(p, PT_FAIL, "%s", poe__tl_export_error(x));
        else if (rc < 0)
                status = say(p, PT_FAIL, "%s: %s", to_file ? o->output : "standard output",
                             strerror(-rc));
        poe__tl_export_close(x);
        if (to_file && close(out) < 0 && status == PT_OK)
                status = say(p, PT_FAIL, "%s: %s", o->output, strerror(errno));
        if (to_file && status != PT_OK)
                unlink(o->output);
        return status;
}

int pt_run_command(pt_command cmd, const char *db, const pt_options *o, FILE *out, char *err,
                   size_t errlen)
{
        pt p = { .db = db, .o = o, .out = out, .err = err, .errlen = errlen };
        int status;

        if (err && errlen)
                err[0] = '\0';
        if (poe__tracelog_open_readonly(db, &p.t, err, errlen) < 0)
                return PT_FAIL;
        /* Not the inspector's 10 s per query: reading a log of millions of
         * records takes longer on a busy machine, and whoever runs the
         * tool ends it when they like. */
        poe__tracelog_set_query_deadline(p.t, PT_READ_DEADLINE_MS);
        switch (cmd) {
        case PT_RUNS: status = cmd_runs(&p); break;
        case PT_SESSIONS: status = cmd_sessions(&p); break;
        case PT_RECORDS: status = cmd_records(&p); break;
        case PT_EXPORT: status = cmd_export(&p); break;
        default: status = say(&p, PT_USAGE, "unknown command %d", (int)cmd); break;
        }
        poe__tracelog_close(p.t);
        return status;
}
