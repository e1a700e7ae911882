/*
 * Where a trace log's records become text: when they are read.  The
 * writer stores what the kernel made, integers and ids (schema version
 * 3, see tracelog.c); a reader's connection selects the same fourteen
 * columns a record always had (COL_* in tracelog-internal.h), the group,
 * prefix, kind and message rendered by SQL functions registered on it,
 * the event's name joined from the names table, so queries, exports and
 * poe-trace read a record as they always did, and their output is what
 * it was.
 *
 * Records written before version 3 are kept as they were written, with
 * their text columns: a log of version 1 or 2 read as it is (poe-trace
 * never changes a log), or a log migrated to version 3, whose old records
 * were moved to records_v2.  A run is read from the table that holds it:
 * the old one for the runs up to the last it holds, the new one after.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracelog-internal.h"

/* ---- SQL functions ---- */

static void fn_group_name(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
        (void)argc;
        sqlite3_result_text(cx, poe__tl_group_name((unsigned)sqlite3_value_int64(argv[0])), -1,
                            SQLITE_STATIC);
}

static void fn_group_prefix(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
        (void)argc;
        sqlite3_result_text(cx, poe_debug_group_prefix((unsigned)sqlite3_value_int64(argv[0])),
                            -1, SQLITE_STATIC);
}

static void fn_kind_name(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
        const char *name = poe_trace_kind_name((unsigned)sqlite3_value_int64(argv[0]));

        (void)argc;
        if (name)
                sqlite3_result_text(cx, name, -1, SQLITE_STATIC);
        else
                sqlite3_result_null(cx);
}

/* The arguments of poe_message(), in order. */
enum {
        M_KIND,
        M_GROUP,
        M_EVENT_ID,
        M_SESSION,
        M_REFCOUNT,
        M_EVENT,
        M_SESSION_NAME,
        M_PEER_NAME,
        M_ARG0, /* ... M_ARG0 + 4 */
        M_NUM = M_ARG0 + 5,
        M_TEXT,
        M_EVENT_TEXT,
        M_SESSION_TEXT,
        M_PEER_TEXT,
        M_AUX_TEXT, /* the name arg0 names: a wait's loop */
        M_ARGS
};

/* The texts the row's joins found, by the ids the record carries. */
typedef struct row_names {
        const poe_trace_record *r;
        const char *event, *session, *peer, *aux;
} row_names;

static const char *row_lookup(void *ctx, unsigned what, uint32_t id)
{
        const row_names *n = ctx;

        if (what == POE_TRACE_LOOKUP_NAME) {
                if (id == n->r->event)
                        return n->event;
                if (n->r->kind == POE_TK_WAIT && id == (uint32_t)n->r->arg.i[0])
                        return n->aux;
                return NULL;
        }
        if (id == n->r->session_name)
                return n->session;
        if (id == n->r->peer_name)
                return n->peer;
        return NULL;
}

static const char *text_arg(sqlite3_value *v)
{
        return (const char *)sqlite3_value_text(v);
}

/* poe_message(...): the record's text line, rendered by the kernel's own
 * formatter from the columns (M_* say which, in what order). */
static void fn_message(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
        poe_trace_record r;
        row_names names;
        char small[1024], *buf = small;
        int i, n;

        if (argc != M_ARGS) {
                sqlite3_result_error(cx, "poe_message: wrong number of arguments", -1);
                return;
        }
        memset(&r, 0, sizeof(r));
        r.kind = (uint16_t)sqlite3_value_int64(argv[M_KIND]);
        r.group = (uint32_t)sqlite3_value_int64(argv[M_GROUP]);
        r.event_id = (uint64_t)sqlite3_value_int64(argv[M_EVENT_ID]);
        r.session = (poe_sid)sqlite3_value_int64(argv[M_SESSION]);
        r.refcount = (uint32_t)sqlite3_value_int64(argv[M_REFCOUNT]);
        r.event = sqlite3_value_type(argv[M_EVENT]) == SQLITE_NULL
                          ? POE_TRACE_NO_NAME
                          : (uint32_t)sqlite3_value_int64(argv[M_EVENT]);
        r.session_name = (uint32_t)sqlite3_value_int64(argv[M_SESSION_NAME]);
        r.peer_name = (uint32_t)sqlite3_value_int64(argv[M_PEER_NAME]);
        /* The numbers as the kernel filled them (refcount records pack
         * two 32-bit counts per integer, in the writing machine's
         * order). */
        for (i = 0; i < 5; i++)
                r.arg.i[i] = sqlite3_value_int64(argv[M_ARG0 + i]);
        r.num = sqlite3_value_double(argv[M_NUM]);
        r.text = (const char *)sqlite3_value_blob(argv[M_TEXT]);
        n = sqlite3_value_bytes(argv[M_TEXT]);
        r.text_len = (uint16_t)(n < UINT16_MAX ? n : UINT16_MAX);
        names.r = &r;
        names.event = text_arg(argv[M_EVENT_TEXT]);
        names.session = text_arg(argv[M_SESSION_TEXT]);
        names.peer = text_arg(argv[M_PEER_TEXT]);
        names.aux = text_arg(argv[M_AUX_TEXT]);
        n = poe_trace_format(&r, row_lookup, &names, small, sizeof(small));
        if (n < 0) {
                sqlite3_result_null(cx);
                return;
        }
        if ((size_t)n >= sizeof(small)) {
                buf = sqlite3_malloc(n + 1);
                if (!buf) {
                        sqlite3_result_error_nomem(cx);
                        return;
                }
                poe_trace_format(&r, row_lookup, &names, buf, (size_t)n + 1);
        }
        sqlite3_result_text(cx, buf, n, buf == small ? SQLITE_TRANSIENT : sqlite3_free);
}

int poe__tl_register_functions(sqlite3 *db)
{
        const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
        int rc;

        rc = sqlite3_create_function(db, "poe_group_name", 1, flags, NULL, fn_group_name, NULL,
                                     NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_create_function(db, "poe_group_prefix", 1, flags, NULL,
                                             fn_group_prefix, NULL, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_create_function(db, "poe_kind_name", 1, flags, NULL, fn_kind_name,
                                             NULL, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_create_function(db, "poe_message", M_ARGS, flags, NULL, fn_message,
                                             NULL, NULL);
        return rc;
}

/* ---- which table a run's records are in ---- */

static int one_int(sqlite3 *db, const char *sql, int64_t *ret)
{
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

        if (rc != SQLITE_OK)
                return rc;
        rc = sqlite3_step(st);
        *ret = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL
                       ? sqlite3_column_int64(st, 0)
                       : 0;
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
        sqlite3_finalize(st);
        return rc;
}

int poe__tl_legacy_of(sqlite3 *db, tl_legacy *ret)
{
        int64_t version = 0, n = 0;
        int rc;

        memset(ret, 0, sizeof(*ret));
        rc = one_int(db, "PRAGMA user_version", &version);
        if (rc != SQLITE_OK)
                return rc;
        if (version == 1 || version == 2) {
                ret->table = "records";
                ret->version = (int)version;
                ret->max_run = INT64_MAX;
                return SQLITE_OK;
        }
        rc = one_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                         "name = 'records_v2'", &n);
        if (rc != SQLITE_OK || !n)
                return rc;
        ret->table = "records_v2";
        ret->version = 2;
        return one_int(db, "SELECT max(run_id) FROM records_v2", &ret->max_run);
}

bool poe__tl_legacy_run(const tl_legacy *lg, int64_t run)
{
        return lg->table && run <= lg->max_run;
}

/* The fourteen columns, from a table of each kind, the table aliased r
 * so that the conditions after it read the same; then the record's raw
 * text and first number, which the OTLP export takes a die's message,
 * file and line from (NULL in the old tables, which have no die). */
static const char select_v3[] =
        "SELECT r.id, r.run_id, r.mono_ns, r.wall, poe_group_name(r.grp), "
        "poe_group_prefix(r.grp), poe_kind_name(r.kind), r.session, n.text, r.sender, "
        "r.refcount, r.queue, "
        "poe_message(r.kind, r.grp, r.event_id, r.session, r.refcount, r.event, "
        "r.session_name, r.peer_name, r.arg0, r.arg1, r.arg2, r.arg3, r.arg4, r.num, r.text, "
        "n.text, ls.text, lp.text, n2.text), "
        "r.event_id, r.text, r.arg0 FROM records r "
        "LEFT JOIN names n ON n.run_id = r.run_id AND n.id = r.event "
        "LEFT JOIN loggables ls ON ls.run_id = r.run_id AND ls.serial = r.session_name "
        "LEFT JOIN loggables lp ON lp.run_id = r.run_id AND lp.serial = r.peer_name "
        "LEFT JOIN names n2 ON r.kind = 9 AND n2.run_id = r.run_id AND n2.id = r.arg0";
_Static_assert(POE_TK_WAIT == 9, "select_v3 joins a wait's loop name by its kind");

static const char select_v2[] =
        "SELECT r.id, r.run_id, r.mono_ns, r.wall, r.grp, r.prefix, r.kind, r.session, "
        "r.event, r.sender, r.refcount, r.queue, r.message, r.event_id, NULL, NULL FROM ";

static const char select_v1[] =
        "SELECT r.id, r.run_id, r.mono_ns, r.wall, r.grp, r.prefix, r.kind, r.session, "
        "r.event, r.sender, r.refcount, r.queue, r.message, NULL, NULL, NULL FROM ";

void poe__tl_select(const tl_legacy *lg, int64_t run, char *buf, size_t size)
{
        if (!poe__tl_legacy_run(lg, run))
                snprintf(buf, size, "%s", select_v3);
        else
                snprintf(buf, size, "%s%s r", lg->version == 1 ? select_v1 : select_v2,
                         lg->table);
}
