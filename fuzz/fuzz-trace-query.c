/*
 * fuzz-trace-query: the trace log's query filters (since, until, session,
 * group, event, kind, after, run, offset, limit, order), parsed by
 * poe__trace_query_parse as GET /api/v1/trace and poe-trace parse them,
 * then run as a query and as every export over a real trace log the
 * library wrote once (two runs).
 *
 * Input: a count byte, then per parameter a key selector byte (one of the
 * known keys, or a raw key from the input) and a value field; then one
 * byte choosing the exports to run.  Checks: a bad filter is refused
 * with a message; a good one never makes the query or an export fail on
 * a sound log; the records obey the filters, the paging and the order;
 * every JSON output parses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "tracelog-internal.h"

static poe__tracelog *log_ro;
static char db_path[512];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        char err[600];

        (void)argc;
        (void)argv;
        snprintf(db_path, sizeof(db_path), "%s/trace.db", fz_tmpdir());
        /* Two runs: a query defaults to the newest, run=1 picks the other. */
        if (fz_write_trace_log(db_path, 30) < 0 || fz_write_trace_log(db_path, 20) < 0)
                fz_fail("cannot write the trace log %s", db_path);
        if (poe__tracelog_open_readonly(db_path, &log_ro, err, sizeof(err)) < 0)
                fz_fail("%s", err);
        return 0;
}

static const char *const keys[] = { "since", "until", "session", "group", "event", "kind",
                                    "after", "run",   "offset",  "limit", "order" };
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* Every line of a JSON Lines body parses. */
static void check_lines(const char *what, const char *body, size_t len)
{
        const char *p = body, *end = body + len;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                json_error_t jerr;
                json_t *j;

                if (n) {
                        j = json_loadb(p, n, 0, &jerr);
                        if (!j)
                                fz_fail("%s export: a line is not JSON: %s", what, jerr.text);
                        json_decref(j);
                }
                p += n + 1;
        }
}

static void check_export(const poe__trace_query *q, const char *format)
{
        char *body = NULL, err[600];
        const char *type = NULL;
        size_t len = 0;
        int fd = -1, r;

        r = poe__tracelog_export(log_ro, format, q, &body, &fd, &len, &type, err, sizeof(err));
        if (r < 0)
                fz_fail("export %s failed on a sound log: %s", format, err);
        if (!type)
                fz_fail("export %s: no content type", format);
        if (strcmp(format, "sqlite") == 0) {
                if (fd < 0 || body)
                        fz_fail("export sqlite: no file descriptor");
                close(fd);
                return;
        }
        if (fd >= 0 || (!body && len))
                fz_fail("export %s: a descriptor or no body", format);
        if (strcmp(format, "chrome") == 0) {
                json_error_t jerr;
                json_t *j = json_loadb(body, len, 0, &jerr);

                if (!j)
                        fz_fail("chrome export is not JSON: %s", jerr.text);
                json_decref(j);
        } else if (strcmp(format, "csv") != 0) {
                check_lines(format, body, len);
        }
        free(body);
}

/* The records answer what was asked. */
static void check_result(const poe__trace_query *q, json_t *res)
{
        json_t *recs = json_object_get(res, "records"), *r;
        int64_t run = q->run_id ? q->run_id : poe__tracelog_run_id(log_ro);
        json_int_t total = json_integer_value(json_object_get(res, "total")), prev = 0;
        size_t i;
        char *s;

        if (!json_is_array(recs) || !json_is_integer(json_object_get(res, "total")))
                fz_fail("a query result without records or total");
        if ((int64_t)json_array_size(recs) > q->page.limit ||
            (json_int_t)json_array_size(recs) > total)
                fz_fail("%zu records for limit %lld, total %lld", json_array_size(recs),
                        (long long)q->page.limit, (long long)total);
        json_array_foreach(recs, i, r) {
                json_int_t id = json_integer_value(json_object_get(r, "id"));
                const char *ev = json_string_value(json_object_get(r, "event"));
                double wall = json_real_value(json_object_get(r, "wall"));

                if (json_integer_value(json_object_get(r, "run")) != run)
                        fz_fail("record %lld is of run %lld, not %lld", (long long)id,
                                (long long)json_integer_value(json_object_get(r, "run")),
                                (long long)run);
                if (q->has_session &&
                    (poe_sid)json_integer_value(json_object_get(r, "session")) != q->session)
                        fz_fail("record %lld is about another session", (long long)id);
                /* Names that are not UTF-8 come back repaired. */
                if (q->event && (!ev || strcmp(ev, q->event) != 0) &&
                    poe__tl_utf8_valid(q->event, strlen(q->event)))
                        fz_fail("record %lld is about event %s, not %s", (long long)id,
                                ev ? ev : "(null)", q->event);
                if (id <= q->after_id)
                        fz_fail("record %lld is not after %lld", (long long)id,
                                (long long)q->after_id);
                if ((q->since > 0 && wall < q->since) || (q->until > 0 && wall > q->until))
                        fz_fail("record %lld at %f is outside [%f, %f]", (long long)id, wall,
                                q->since, q->until);
                if (i > 0 && (q->descending ? id >= prev : id <= prev))
                        fz_fail("records out of order: %lld after %lld", (long long)id,
                                (long long)prev);
                prev = id;
        }
        s = json_dumps(res, JSON_COMPACT);
        if (!s)
                fz_fail("a query result that does not encode");
        free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const formats[] = { "jsonl", "csv", "chrome", "otlp", "sqlite" };
        fz_in in = { data, size };
        poe__params p;
        poe__trace_query q;
        char vals[POE__MAX_PARAMS][256], rawkeys[POE__MAX_PARAMS][32], err[600];
        int i, n, r;
        uint8_t pick;
        json_t *res;

        memset(&p, 0, sizeof(p));
        n = fz_byte(&in) % POE__MAX_PARAMS;
        for (i = 0; i < n; i++) {
                uint8_t k = fz_byte(&in);

                p.kv[i].key = k < 0xf0 ? keys[k % N_KEYS]
                                       : fz_str(&in, rawkeys[i], sizeof(rawkeys[i]) - 1);
                p.kv[i].value = fz_str(&in, vals[i], sizeof(vals[i]) - 1);
                p.n++;
        }
        pick = fz_byte(&in);
        err[0] = '\0';
        r = poe__trace_query_parse(&p, &q, err, sizeof(err));
        if (r < 0) {
                if (r != -EINVAL || !err[0])
                        fz_fail("a refused query (%d) without a message", r);
                return 0;
        }
        res = poe__tracelog_query(log_ro, &q, err, sizeof(err));
        if (!res)
                fz_fail("the query failed on a sound log: %s", err);
        check_result(&q, res);
        json_decref(res);
        /* Exports cost more than a page: a few per input. */
        for (i = 0; i < 5; i++)
                if (pick & (1u << i))
                        check_export(&q, formats[i]);
        if (pick & 0x80) {
                char *body = NULL;
                const char *type = NULL;
                size_t len = 0;
                int fd = -1;

                if (poe__tracelog_export(log_ro, vals[0], &q, &body, &fd, &len, &type, err,
                                         sizeof(err)) == 0) {
                        free(body);
                        if (fd >= 0)
                                close(fd);
                }
        }
        if (pick & 0x40) {
                res = poe__tracelog_runs(log_ro, err, sizeof(err));
                if (!res || json_array_size(res) != 2)
                        fz_fail("runs: %s", res ? "not two runs" : err);
                json_decref(res);
        }
        return 0;
}
