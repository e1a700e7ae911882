/*
 * poe-trace: reads a libpoe trace log (the SQLite file the inspector
 * writes) from the command line.
 *
 *   poe-trace runs DB
 *   poe-trace sessions DB [--run N]
 *   poe-trace records DB [filters] [--limit N] [--format text|jsonl]
 *   poe-trace export DB --format csv|chrome|jsonl|otlp [filters] [-o FILE]
 *
 * The log is opened read-only (poe__tracelog_open_readonly: no writer
 * thread, no new run, nothing created), and queries and exports go
 * through the inspector's own code, so an export here is byte for byte
 * the one GET /api/v1/trace/export gives for the same filters.
 *
 * Exit status: 0, 1 when the log cannot be read (missing, not a trace
 * log, unknown run, an output that cannot be written), 2 for a bad
 * command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tracelog-internal.h"

#define PROG "poe-trace"

enum {
        OPT_RUN = 1 << 0,
        OPT_SINCE = 1 << 1,
        OPT_UNTIL = 1 << 2,
        OPT_SESSION = 1 << 3,
        OPT_GROUP = 1 << 4,
        OPT_EVENT = 1 << 5,
        OPT_KIND = 1 << 6,
        OPT_LIMIT = 1 << 7,
        OPT_FORMAT = 1 << 8,
        OPT_OUTPUT = 1 << 9,
};

#define OPT_FILTERS (OPT_RUN | OPT_SINCE | OPT_UNTIL | OPT_SESSION | OPT_GROUP | OPT_EVENT | OPT_KIND)

typedef struct options {
        unsigned seen;
        const char *run, *since, *until, *session, *group, *event, *kind, *limit, *format,
                *output;
} options;

static const char usage_text[] =
        "Usage: " PROG " COMMAND DB [OPTIONS]\n"
        "\n"
        "Reads a libpoe trace log (the SQLite file POE_TRACE_DB names) without\n"
        "changing it.\n"
        "\n"
        "Commands:\n"
        "  runs DB [--format text|jsonl]\n"
        "      the runs the log holds: id, pid, start time, kernel id, libpoe\n"
        "      version, records and records dropped\n"
        "  sessions DB [--run N] [--format text|jsonl]\n"
        "      the sessions a run's records mention: id, first and last seen, records\n"
        "  records DB [FILTERS] [--limit N] [--format text|jsonl]\n"
        "      the records, oldest first: text prints POE's trace lines\n"
        "      (=== PID === <ev> message), jsonl one JSON object per record\n"
        "  export DB --format csv|chrome|jsonl|otlp [FILTERS] [-o FILE]\n"
        "      the inspector's export of the selected records (chrome: a Chrome\n"
        "      trace Perfetto opens; otlp: OpenTelemetry OTLP/JSON lines)\n"
        "\n"
        "Filters (a run defaults to the newest):\n"
        "  --run N          the run's id (see `runs')\n"
        "  --since T        records at or after T: epoch seconds, or an ISO 8601\n"
        "                   time such as 2024-05-01T12:00:00[.123][Z] (Z: UTC, else local)\n"
        "  --until T        records at or before T\n"
        "  --session ID     records about one session (0: the kernel)\n"
        "  --group G[,G]    trace groups: TRACE_EVENTS or events, comma-separated\n"
        "  --event E        records about the event named E\n"
        "  --kind K         records of one kind (enqueue, dispatch, return, ...)\n"
        "\n"
        "Other options:\n"
        "  --limit N        records: at most N records\n"
        "  --format F       the output format, as above\n"
        "  -o, --output F   export: write to F instead of standard output\n"
        "  -h, --help       this text\n"
        "      --version    the version\n"
        "\n"
        "Exit status: 0, 1 when the log cannot be read, 2 for a bad command line.\n";

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
        va_list ap;

        if (fmt) {
                fprintf(stderr, PROG ": ");
                va_start(ap, fmt);
                vfprintf(stderr, fmt, ap);
                va_end(ap);
                fputc('\n', stderr);
        }
        fputs(usage_text, stderr);
        exit(2);
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, PROG ": ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1);
}

/* ---- times ---- */

/* Epoch seconds, or ISO 8601 (a "T" or a space between date and time,
 * optional fraction, "Z" for UTC, local time otherwise).  -EINVAL when
 * it is neither. */
static int parse_time(const char *s, double *ret)
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

/* UTC, to the millisecond: sortable and unambiguous across machines. */
static const char *iso_time(double t, char *buf, size_t size)
{
        time_t sec = (time_t)floor(t);
        int ms = (int)((t - floor(t)) * 1000.0);
        struct tm tm;
        char day[32];

        if (!isfinite(t) || t <= 0 || !gmtime_r(&sec, &tm)) {
                snprintf(buf, size, "-");
                return buf;
        }
        if (ms > 999)
                ms = 999;
        strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, size, "%s.%03dZ", day, ms);
        return buf;
}

/* ---- the log ---- */

static poe__tracelog *open_log(const char *path)
{
        poe__tracelog *t;
        char err[600];

        if (poe__tracelog_open_readonly(path, &t, err, sizeof(err)) < 0)
                fail("%s", err);
        return t;
}

static sqlite3 *reader(poe__tracelog *t)
{
        char err[600];
        sqlite3 *db = poe__tl_reader_open(t, err, sizeof(err));

        if (!db)
                fail("%s", err);
        return db;
}

/* The run's pid; -ENOENT when the log has no such run. */
static int run_pid(poe__tracelog *t, int64_t run, int64_t *pid)
{
        sqlite3 *db = reader(t);
        sqlite3_stmt *st = NULL;
        int rc;

        rc = sqlite3_prepare_v2(db, "SELECT pid FROM runs WHERE id = ?", -1, &st, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(st, 1, run);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                *pid = sqlite3_column_int64(st, 0);
        else if (rc != SQLITE_DONE)
                fail("%s: cannot read its runs: %s", poe__tracelog_path(t), sqlite3_errmsg(db));
        sqlite3_finalize(st);
        sqlite3_close(db);
        return rc == SQLITE_ROW ? 0 : -ENOENT;
}

/* The run a command is about (--run, or the newest), checked to exist. */
static int64_t pick_run(poe__tracelog *t, const char *db_arg, const options *o, int64_t *pid)
{
        int64_t run = poe__tracelog_run_id(t);
        char *end;

        if (o->run) {
                errno = 0;
                run = strtoll(o->run, &end, 10);
                if (!*o->run || *end || errno || run < 1)
                        usage_error("--run: expected a run id (a positive integer), got `%s'",
                                    o->run);
        } else if (run == 0) {
                fail("%s: the trace log holds no runs", db_arg);
        }
        if (run_pid(t, run, pid) < 0)
                fail("%s: no run %lld in this trace log (see `" PROG " runs %s')", db_arg,
                     (long long)run, db_arg);
        return run;
}

/* The filters as a query, parsed by the inspector's own parser so that
 * groups, sessions and their errors are the API's. */
static void build_query(const options *o, int64_t run, poe__trace_query *q)
{
        poe__params p = { .n = 0 };
        char err[300];

#define ADD(k, v)                                                                                  \
        do {                                                                                       \
                if (v) {                                                                           \
                        p.kv[p.n].key = (k);                                                       \
                        p.kv[p.n].value = (v);                                                     \
                        p.n++;                                                                     \
                }                                                                                  \
        } while (0)
        ADD("session", o->session);
        ADD("group", o->group);
        ADD("event", o->event);
        ADD("kind", o->kind);
#undef ADD
        if (poe__trace_query_parse(&p, q, err, sizeof(err)) < 0)
                usage_error("--%s", err);
        if (o->since && parse_time(o->since, &q->since) < 0)
                usage_error("--since: expected epoch seconds or an ISO 8601 time, got `%s'",
                            o->since);
        if (o->until && parse_time(o->until, &q->until) < 0)
                usage_error("--until: expected epoch seconds or an ISO 8601 time, got `%s'",
                            o->until);
        q->run_id = run;
}

static void finish_output(void)
{
        if (fflush(stdout) != 0 || ferror(stdout))
                fail("standard output: %s", strerror(errno ? errno : EIO));
}

/* ---- commands ---- */

static bool want_jsonl(const options *o)
{
        if (!o->format || strcmp(o->format, "text") == 0)
                return false;
        if (strcmp(o->format, "jsonl") == 0)
                return true;
        usage_error("--format: expected text or jsonl, got `%s'", o->format);
}

static void put_json(json_t *j)
{
        obuf b = { .p = NULL };

        poe__tl_ob_json(&b, j);
        if (b.oom)
                fail("out of memory");
        fwrite(b.p, 1, b.len, stdout);
        fputc('\n', stdout);
        free(b.p);
}

static int cmd_runs(poe__tracelog *t, const options *o)
{
        bool jsonl = want_jsonl(o);
        char err[600], when[64];
        json_t *runs = poe__tracelog_runs(t, err, sizeof(err));
        json_t *r;
        size_t i;

        if (!runs)
                fail("%s", err);
        if (!jsonl)
                printf("%-6s %-8s %-24s %-30s %-10s %10s %8s\n", "ID", "PID", "STARTED",
                       "KERNEL", "VERSION", "RECORDS", "DROPPED");
        json_array_foreach(runs, i, r) {
                if (jsonl) {
                        json_incref(r);
                        put_json(r);
                        continue;
                }
                printf("%-6lld %-8lld %-24s %-30s %-10s %10lld %8lld\n",
                       (long long)json_integer_value(json_object_get(r, "id")),
                       (long long)json_integer_value(json_object_get(r, "pid")),
                       iso_time(json_real_value(json_object_get(r, "started")), when,
                                sizeof(when)),
                       json_string_value(json_object_get(r, "kernel_id"))
                               ? json_string_value(json_object_get(r, "kernel_id"))
                               : "-",
                       json_string_value(json_object_get(r, "poe_version"))
                               ? json_string_value(json_object_get(r, "poe_version"))
                               : "-",
                       (long long)json_integer_value(json_object_get(r, "records")),
                       (long long)json_integer_value(json_object_get(r, "dropped")));
        }
        json_decref(runs);
        return 0;
}

static int cmd_sessions(poe__tracelog *t, const char *db_arg, const options *o)
{
        bool jsonl = want_jsonl(o);
        int64_t pid, run = pick_run(t, db_arg, o, &pid);
        sqlite3 *db = reader(t);
        sqlite3_stmt *st = NULL;
        char first[64], last[64];
        int rc;

        rc = sqlite3_prepare_v2(db,
                                "SELECT s.session_id, s.first_seen, s.last_seen, "
                                "(SELECT count(*) FROM records r WHERE r.run_id = s.run_id "
                                "AND r.session = s.session_id) "
                                "FROM sessions s WHERE s.run_id = ? ORDER BY s.session_id",
                                -1, &st, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(st, 1, run);
        if (rc != SQLITE_OK)
                fail("%s: cannot read its sessions: %s", db_arg, sqlite3_errmsg(db));
        if (!jsonl)
                printf("%-10s %-24s %-24s %10s\n", "SESSION", "FIRST SEEN", "LAST SEEN",
                       "RECORDS");
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                long long sid = sqlite3_column_int64(st, 0), n = sqlite3_column_int64(st, 3);
                double f = sqlite3_column_double(st, 1), l = sqlite3_column_double(st, 2);

                if (jsonl) {
                        json_t *j = json_pack("{sIsIsfsfsI}", "run", (json_int_t)run, "session",
                                              (json_int_t)sid, "first_seen", f, "last_seen", l,
                                              "records", (json_int_t)n);

                        if (!j)
                                fail("out of memory");
                        put_json(j);
                } else {
                        printf("%-10lld %-24s %-24s %10lld\n", sid,
                               iso_time(f, first, sizeof(first)), iso_time(l, last, sizeof(last)),
                               n);
                }
        }
        if (rc != SQLITE_DONE)
                fail("%s: reading its sessions failed: %s", db_arg, sqlite3_errmsg(db));
        sqlite3_finalize(st);
        sqlite3_close(db);
        return 0;
}

static int cmd_records(poe__tracelog *t, const char *db_arg, const options *o)
{
        bool jsonl = want_jsonl(o);
        int64_t pid, limit = 0, run = pick_run(t, db_arg, o, &pid);
        poe__trace_query q;
        sqlite3 *db;
        sqlite3_stmt *st = NULL;
        char err[600], *end;
        int rc;

        if (o->limit) {
                errno = 0;
                limit = strtoll(o->limit, &end, 10);
                if (!*o->limit || *end || errno || limit < 1)
                        usage_error("--limit: expected a positive integer, got `%s'", o->limit);
        }
        build_query(o, run, &q);
        q.page.limit = limit;
        db = reader(t);
        /* One snapshot, as the inspector's exports take. */
        rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                fail("%s: %s", db_arg, sqlite3_errmsg(db));
        if (poe__tl_records(t, db, &q, limit > 0, false, &st, err, sizeof(err)) < 0)
                fail("%s", err);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                const char *prefix = (const char *)sqlite3_column_text(st, COL_PREFIX);
                const char *msg = (const char *)sqlite3_column_text(st, COL_MESSAGE);

                if (jsonl) {
                        /* poe__tl_row_json: the export's own objects. */
                        put_json(poe__tl_row_json(st));
                } else if (prefix && *prefix) {
                        /* As the kernel's text sink prints it (debug.c). */
                        printf("=== %lld === %s %s\n", (long long)pid, prefix, msg ? msg : "");
                } else {
                        printf("=== %lld === %s\n", (long long)pid, msg ? msg : "");
                }
        }
        if (rc != SQLITE_DONE) {
                poe__tl_step_failed(db, rc, err, sizeof(err));
                fail("%s", err);
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, p, n);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

static int cmd_export(poe__tracelog *t, const char *db_arg, const options *o)
{
        static const char *const ok[] = { "csv", "chrome", "jsonl", "otlp" };
        int64_t pid, run;
        poe__trace_query q;
        const char *ctype;
        char err[600], *body = NULL;
        size_t len, i;
        int fd = -1, out = STDOUT_FILENO, rc;

        if (!o->format)
                usage_error("export: --format is required (csv, chrome, jsonl or otlp)");
        for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
                if (strcmp(o->format, ok[i]) == 0)
                        break;
        /* Not "sqlite": its copy is made next to the log, and this tool
         * never writes there. */
        if (i == sizeof(ok) / sizeof(ok[0]))
                usage_error("--format: expected csv, chrome, jsonl or otlp, got `%s'", o->format);
        run = pick_run(t, db_arg, o, &pid);
        build_query(o, run, &q);
        rc = poe__tracelog_export(t, o->format, &q, &body, &fd, &len, &ctype, err, sizeof(err));
        if (rc < 0)
                fail("%s", err);
        if (fd >= 0)
                close(fd);
        /* The file is made only once there is something to put in it. */
        if (o->output && strcmp(o->output, "-") != 0) {
                out = open(o->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
                if (out < 0)
                        fail("%s: %s", o->output, strerror(errno));
        }
        rc = write_all(out, body ? body : "", body ? len : 0);
        free(body);
        if (rc < 0)
                fail("%s: %s", o->output ? o->output : "standard output", strerror(-rc));
        if (out != STDOUT_FILENO && close(out) < 0)
                fail("%s: %s", o->output, strerror(errno));
        return 0;
}

/* ---- main ---- */

static const struct {
        const char *name;
        unsigned allowed;
} commands[] = {
        { "runs", OPT_FORMAT },
        { "sessions", OPT_RUN | OPT_FORMAT },
        { "records", OPT_FILTERS | OPT_LIMIT | OPT_FORMAT },
        { "export", OPT_FILTERS | OPT_FORMAT | OPT_OUTPUT },
};

static const char *const opt_names[] = { "run",   "since", "until", "session", "group",
                                         "event", "kind",  "limit", "format",  "output" };

int main(int argc, char **argv)
{
        static const struct option longopts[] = {
                { "run", required_argument, NULL, 'r' },
                { "since", required_argument, NULL, 's' },
                { "until", required_argument, NULL, 'u' },
                { "session", required_argument, NULL, 'S' },
                { "group", required_argument, NULL, 'g' },
                { "event", required_argument, NULL, 'e' },
                { "kind", required_argument, NULL, 'k' },
                { "limit", required_argument, NULL, 'l' },
                { "format", required_argument, NULL, 'f' },
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { NULL, 0, NULL, 0 },
        };
        options o = { .seen = 0 };
        poe__tracelog *t;
        const char *cmd, *db_arg;
        size_t c, i;
        int ch, rc = 0;

        opterr = 0;
        while ((ch = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
                const char **slot = NULL;
                unsigned bit = 0;

                switch (ch) {
                case 'h':
                        fputs(usage_text, stdout);
                        return 0;
                case 'V':
                        printf(PROG " (libpoe " POE_VERSION ")\n");
                        return 0;
                case 'r': slot = &o.run, bit = OPT_RUN; break;
                case 's': slot = &o.since, bit = OPT_SINCE; break;
                case 'u': slot = &o.until, bit = OPT_UNTIL; break;
                case 'S': slot = &o.session, bit = OPT_SESSION; break;
                case 'g': slot = &o.group, bit = OPT_GROUP; break;
                case 'e': slot = &o.event, bit = OPT_EVENT; break;
                case 'k': slot = &o.kind, bit = OPT_KIND; break;
                case 'l': slot = &o.limit, bit = OPT_LIMIT; break;
                case 'f': slot = &o.format, bit = OPT_FORMAT; break;
                case 'o': slot = &o.output, bit = OPT_OUTPUT; break;
                case ':':
                        usage_error("option `%s' needs a value", argv[optind - 1]);
                default:
                        usage_error("unknown option `%s'", argv[optind - 1]);
                }
                if (o.seen & bit)
                        usage_error("option --%s given twice", opt_names[__builtin_ctz(bit)]);
                o.seen |= bit;
                *slot = optarg;
        }
        if (optind >= argc)
                usage_error("no command given");
        cmd = argv[optind];
        for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
                if (strcmp(cmd, commands[c].name) == 0)
                        break;
        if (c == sizeof(commands) / sizeof(commands[0]))
                usage_error("unknown command `%s'", cmd);
        if (optind + 1 >= argc)
                usage_error("%s: no trace log (DB) given", cmd);
        if (optind + 2 < argc)
                usage_error("%s: unexpected argument `%s'", cmd, argv[optind + 2]);
        db_arg = argv[optind + 1];
        for (i = 0; i < sizeof(opt_names) / sizeof(opt_names[0]); i++)
                if ((o.seen & (1u << i)) && !(commands[c].allowed & (1u << i)))
                        usage_error("%s: option --%s does not apply", cmd, opt_names[i]);

        t = open_log(db_arg);
        if (c == 0)
                rc = cmd_runs(t, &o);
        else if (c == 1)
                rc = cmd_sessions(t, db_arg, &o);
        else if (c == 2)
                rc = cmd_records(t, db_arg, &o);
        else
                rc = cmd_export(t, db_arg, &o);
        poe__tracelog_close(t);
        finish_output();
        return rc < 0 ? 1 : 0;
}
