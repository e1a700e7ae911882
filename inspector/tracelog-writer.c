/*
 * The trace log's writer: the thread that drains the ring into SQLite,
 * what it does when the database fails, and the database it writes (its
 * schema, checked or created on open, and this run's row).  See
 * tracelog.c for the design and the schema.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "tracelog-internal.h"

/* The version the runs table names: the build defines it from
 * meson.project_version(). */
#ifndef POE_VERSION
#define POE_VERSION "unknown"
#endif

static struct timespec ms_to_ts(int64_t ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

        return ts;
}

/* The VFS writers open their database with: NULL (the default) but in
 * tests, which fail writes on purpose (poe__tracelog_set_vfs). */
static const char *writer_vfs;

void poe__tracelog_set_vfs(const char *name)
{
        writer_vfs = name;
}

const char *poe__tl_vfs(void)
{
        return writer_vfs;
}

/* ---- the writer ---- */

static void status_error(poe__tracelog *t, const char *msg)
{
        pthread_mutex_lock(&t->err_mu);
        if (msg) {
                snprintf(t->error, sizeof(t->error), "%s", msg);
                t->has_error = true;
        } else {
                t->has_error = false;
        }
        pthread_mutex_unlock(&t->err_mu);
}

/* Runs a statement to completion and resets it; on failure keeps the
 * SQLite message in t->fault for the status. */
bool poe__tl_run(poe__tracelog *t, sqlite3_stmt *st, const char *what)
{
        int rc = sqlite3_step(st);

        if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
                sqlite3_reset(st);
                return true;
        }
        /* The message often is the code's own text: say it once. */
        if (strcmp(sqlite3_errmsg(t->db), sqlite3_errstr(rc)) == 0)
                snprintf(t->fault, sizeof(t->fault), "%s: %s", what, sqlite3_errmsg(t->db));
        else
                snprintf(t->fault, sizeof(t->fault), "%s: %s (%s)", what, sqlite3_errmsg(t->db),
                         sqlite3_errstr(rc));
        t->fault_rc = rc;
        sqlite3_reset(st);
        return false;
}

/* Binds a string from the ring, made valid UTF-8 if it is not. */
static int bind_text(poe__tracelog *t, sqlite3_stmt *st, int i, const char *s, size_t n)
{
        if (poe__tl_utf8_valid(s, n))
                return sqlite3_bind_text(st, i, s, (int)n, SQLITE_STATIC);
        n = poe__tl_utf8_clean(s, n, t->scratch);
        return sqlite3_bind_text(st, i, t->scratch, (int)n, SQLITE_TRANSIENT);
}

/* ---- the batch: one INSERT for a transaction's records ---- */

/*
 * A transaction's records go into SQLite in one statement,
 *
 *   INSERT INTO records(run_id, <RECORD_COLUMNS>)
 *           SELECT ?1, <RECORD_COLUMNS> FROM poe_batch ORDER BY rowid
 *
 * where poe_batch is a virtual table of this connection's (eponymous:
 * no schema, nothing in the file) whose rows are t->batch.  One statement
 * per record costs SQLite about 2.4 times the instructions per record
 * (callgrind, bench/trace-writer.c): each step binds twenty values, opens
 * a cursor on the table and on each of its three indexes, seeks each
 * index from its root (a comparison of records at every level) and halts;
 * one statement per batch opens and seeks once, and appends the rest
 * where its cursors already are.  The records are copied out of the ring
 * (the ring moves on while SQLite reads them), their texts made valid
 * UTF-8 on the way, so that every row converts to JSON.  Nothing is
 * rendered: the text line is made where a record is read
 * (tracelog-render.c).
 */
#define RECORD_COLUMNS                                                                             \
        "mono_ns, wall, grp, kind, session, sender, event, event_id, refcount, queue, "            \
        "session_name, peer_name, arg0, arg1, arg2, arg3, arg4, num, text"

/* poe_batch's columns, in RECORD_COLUMNS' order. */
enum {
        BC_MONO_NS,
        BC_WALL,
        BC_GROUP,
        BC_KIND,
        BC_SESSION,
        BC_SENDER,
        BC_EVENT,
        BC_EVENT_ID,
        BC_REFCOUNT,
        BC_QUEUE,
        BC_SESSION_NAME,
        BC_PEER_NAME,
        BC_ARG0, /* ... to BC_ARG0 + 4 */
        BC_NUM = BC_ARG0 + 5,
        BC_TEXT,
};

typedef struct batch_vtab {
        sqlite3_vtab base;
        poe__tracelog *t;
} batch_vtab;

typedef struct batch_cursor {
        sqlite3_vtab_cursor base;
        poe__tracelog *t;
        size_t i;
} batch_cursor;

static int batch_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                         sqlite3_vtab **ret, char **err)
{
        batch_vtab *v;
        int rc;

        (void)argc;
        (void)argv;
        (void)err;
        rc = sqlite3_declare_vtab(db, "CREATE TABLE x(" RECORD_COLUMNS ")");
        if (rc != SQLITE_OK)
                return rc;
        v = sqlite3_malloc(sizeof(*v));
        if (!v)
                return SQLITE_NOMEM;
        memset(v, 0, sizeof(*v));
        v->t = aux;
        *ret = &v->base;
        return SQLITE_OK;
}

static int batch_disconnect(sqlite3_vtab *v)
{
        sqlite3_free(v);
        return SQLITE_OK;
}

/* A scan of the batch, in its order: the ORDER BY rowid is done. */
static int batch_best_index(sqlite3_vtab *v, sqlite3_index_info *info)
{
        (void)v;
        if (info->nOrderBy == 1 && info->aOrderBy[0].iColumn < 0 && !info->aOrderBy[0].desc)
                info->orderByConsumed = 1;
        info->estimatedCost = BATCH_MAX;
        info->estimatedRows = BATCH_MAX;
        return SQLITE_OK;
}

static int batch_open(sqlite3_vtab *v, sqlite3_vtab_cursor **ret)
{
        batch_cursor *c = sqlite3_malloc(sizeof(*c));

        if (!c)
                return SQLITE_NOMEM;
        memset(c, 0, sizeof(*c));
        c->t = ((batch_vtab *)v)->t;
        *ret = &c->base;
        return SQLITE_OK;
}

static int batch_close(sqlite3_vtab_cursor *c)
{
        sqlite3_free(c);
        return SQLITE_OK;
}

static int batch_filter(sqlite3_vtab_cursor *c, int idx, const char *idx_str, int argc,
                        sqlite3_value **argv)
{
        (void)idx;
        (void)idx_str;
        (void)argc;
        (void)argv;
        ((batch_cursor *)c)->i = 0;
        return SQLITE_OK;
}

static int batch_next(sqlite3_vtab_cursor *c)
{
        ((batch_cursor *)c)->i++;
        return SQLITE_OK;
}

static int batch_eof(sqlite3_vtab_cursor *c)
{
        return ((batch_cursor *)c)->i >= ((batch_cursor *)c)->t->batch_n;
}

static void result_int_or_null(sqlite3_context *ctx, int64_t v, int64_t none)
{
        if (v == none)
                sqlite3_result_null(ctx);
        else
                sqlite3_result_int64(ctx, v);
}

/* A record's columns, as the kernel made them. */
static int batch_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
        batch_cursor *c = (batch_cursor *)cur;
        const poe_trace_record *r = &c->t->batch[c->i];
        uint64_t bits;

        switch (col) {
        case BC_MONO_NS:
                sqlite3_result_int64(ctx, r->mono_ns);
                break;
        case BC_WALL:
                sqlite3_result_double(ctx, r->wall);
                break;
        case BC_GROUP:
                sqlite3_result_int64(ctx, r->group);
                break;
        case BC_KIND:
                sqlite3_result_int64(ctx, r->kind);
                break;
        case BC_SESSION:
                sqlite3_result_int64(ctx, (sqlite3_int64)r->session);
                break;
        case BC_SENDER:
                sqlite3_result_int64(ctx, (sqlite3_int64)r->sender);
                break;
        case BC_EVENT:
                result_int_or_null(ctx, r->event, POE_TRACE_NO_NAME);
                break;
        case BC_EVENT_ID:
                /* 0 is "about no queue item": NULL, as SQL says "none". */
                result_int_or_null(ctx, (sqlite3_int64)r->event_id, 0);
                break;
        case BC_REFCOUNT:
                sqlite3_result_int64(ctx, r->refcount);
                break;
        case BC_QUEUE:
                sqlite3_result_int64(ctx, (sqlite3_int64)r->queue_length);
                break;
        case BC_SESSION_NAME:
                sqlite3_result_int64(ctx, r->session_name);
                break;
        case BC_PEER_NAME:
                sqlite3_result_int64(ctx, r->peer_name);
                break;
        case BC_NUM:
                /* num has no column type, so a real is kept bit for bit
                 * (-0.0 too); +0.0, most records', is NULL and takes no
                 * room. */
                memcpy(&bits, &r->num, sizeof(bits));
                if (bits)
                        sqlite3_result_double(ctx, r->num);
                else
                        sqlite3_result_null(ctx);
                break;
        case BC_TEXT:
                if (r->text_len)
                        sqlite3_result_text(ctx, r->text, r->text_len, SQLITE_STATIC);
                else
                        sqlite3_result_null(ctx);
                break;
        default:
                sqlite3_result_int64(ctx, r->arg.i[col - BC_ARG0]);
                break;
        }
        return SQLITE_OK;
}

static int batch_rowid(sqlite3_vtab_cursor *c, sqlite3_int64 *ret)
{
        *ret = (sqlite3_int64)((batch_cursor *)c)->i;
        return SQLITE_OK;
}

/* Read-only and eponymous-only (no xCreate: CREATE VIRTUAL TABLE is
 * refused). */
static const sqlite3_module batch_module = {
        .iVersion = 1,
        .xConnect = batch_connect,
        .xBestIndex = batch_best_index,
        .xDisconnect = batch_disconnect,
        .xOpen = batch_open,
        .xClose = batch_close,
        .xFilter = batch_filter,
        .xNext = batch_next,
        .xEof = batch_eof,
        .xColumn = batch_column,
        .xRowid = batch_rowid,
};

static void batch_clear(poe__tracelog *t)
{
        t->batch_n = 0;
        t->batch_text_used = 0;
}

/* Inserts the batch's records, if any, and empties it. */
static bool batch_flush(poe__tracelog *t)
{
        bool ok;

        if (!t->batch_n)
                return true;
        if (sqlite3_bind_int64(t->st_batch, 1, t->run_id) != SQLITE_OK) {
                snprintf(t->fault, sizeof(t->fault), "binding the records: %s",
                         sqlite3_errmsg(t->db));
                batch_clear(t);
                return false;
        }
        ok = poe__tl_run(t, t->st_batch, "inserting records");
        batch_clear(t);
        return ok;
}

/*
 * A record as it came from the kernel, into the batch: a copy of its
 * fixed part, and its text (the rare kinds') valid UTF-8 in batch_text.
 * A batch whose texts would not fit goes in first: 64 KiB of texts per
 * statement at most, whatever the records.
 */
static bool batch_add(poe__tracelog *t, const entry *e)
{
        size_t len = e->rec.text_len, need = len ? 3 * len + 1 : 0;
        poe_trace_record *r;
        char *out;

        if ((t->batch_n == BATCH_MAX || t->batch_text_used + need > BATCH_TEXT) && !batch_flush(t))
                return false;
        r = &t->batch[t->batch_n++];
        *r = e->rec;
        r->text = NULL;
        if (!len)
                return true;
        out = t->batch_text + t->batch_text_used;
        if (poe__tl_utf8_valid(e_text(e), len))
                memcpy(out, e_text(e), len);
        else
                len = poe__tl_utf8_clean(e_text(e), len, out);
        r->text = out;
        r->text_len = (uint16_t)len;
        t->batch_text_used += len;
        return true;
}

/* A definition: the text of a name id or of a loggable serial, for the
 * records of this run that carry it. */
static bool insert_definition(poe__tracelog *t, const entry *e)
{
        const poe_trace_record *r = &e->rec;
        sqlite3_stmt *st;
        int rc;

        if (r->kind == POE_TK_DEF_NAME) {
                st = t->st_name;
                rc = sqlite3_bind_int64(st, 1, t->run_id);
                rc |= sqlite3_bind_int64(st, 2, r->event);
                rc |= bind_text(t, st, 3, e_text(e), r->text_len);
        } else if (r->kind == POE_TK_DEF_LOGGABLE) {
                st = t->st_loggable;
                rc = sqlite3_bind_int64(st, 1, t->run_id);
                rc |= sqlite3_bind_int64(st, 2, r->session_name);
                rc |= sqlite3_bind_int64(st, 3, (sqlite3_int64)r->session);
                rc |= bind_text(t, st, 4, e_text(e), r->text_len);
        } else {
                return true; /* a kind of definition this writer does not know */
        }
        if (rc != SQLITE_OK) {
                snprintf(t->fault, sizeof(t->fault), "binding a definition: %s",
                         sqlite3_errmsg(t->db));
                sqlite3_reset(st);
                return false;
        }
        return poe__tl_run(t, st, "inserting a definition");
}

/* Definitions up to this epoch never reached the file: records of the
 * epoch are dropped from now on, and the sink asks the kernel for every
 * definition again (see tracelog.c). */
static void definitions_lost(poe__tracelog *t, uint32_t epoch)
{
        if (epoch > atomic_load(&t->writer_stale_epoch))
                atomic_store(&t->writer_stale_epoch, epoch);
        atomic_store(&t->redefine, true);
}

/* The batch's sessions: each is written once per batch, with the first
 * and last times it was seen in it. */
static void sess_note(poe__tracelog *t, uint64_t sid, double wall)
{
        uint32_t i = (uint32_t)((sid * 0x9e3779b97f4a7c15ull) >> 53) & (SMAP_SIZE - 1);

        while (t->smap[i].used && t->smap[i].sid != sid)
                i = (i + 1) & (SMAP_SIZE - 1);
        if (!t->smap[i].used) {
                t->smap[i].used = true;
                t->smap[i].sid = sid;
                t->smap[i].first = t->smap[i].last = wall;
                t->smap_used[t->smap_count++] = i;
                return;
        }
        if (wall < t->smap[i].first)
                t->smap[i].first = wall;
        if (wall > t->smap[i].last)
                t->smap[i].last = wall;
}

static void sess_clear(poe__tracelog *t)
{
        size_t i;

        for (i = 0; i < t->smap_count; i++)
                t->smap[t->smap_used[i]].used = false;
        t->smap_count = 0;
}

static bool sess_write(poe__tracelog *t)
{
        size_t i;

        for (i = 0; i < t->smap_count; i++) {
                const sess_slot *s = &t->smap[t->smap_used[i]];

                if (sqlite3_bind_int64(t->st_session, 1, t->run_id) != SQLITE_OK ||
                    sqlite3_bind_int64(t->st_session, 2, (sqlite3_int64)s->sid) != SQLITE_OK ||
                    sqlite3_bind_double(t->st_session, 3, s->first) != SQLITE_OK ||
                    sqlite3_bind_double(t->st_session, 4, s->last) != SQLITE_OK) {
                        snprintf(t->fault, sizeof(t->fault), "binding a session: %s",
                                 sqlite3_errmsg(t->db));
                        return false;
                }
                if (!poe__tl_run(t, t->st_session, "updating the sessions"))
                        return false;
        }
        return true;
}

/*
 * Writes the drop counts that changed (all of them when force) and the
 * run's produced and written counts into the open transaction; the drops
 * written go to now[] for after COMMIT.  written is the run's count with
 * this transaction's records; ended marks the run's last word, at a
 * clean stop.
 *
 * The produced count is read last, after the drops (acquire: a drop the
 * sink counted comes after its record was counted as produced) and
 * after the records this transaction writes were taken from the ring,
 * so that as stored, produced >= written + dropped: what is left over
 * (produced - written - dropped) is what the ring or the writer held
 * when the transaction committed.  After a SIGKILL that is what never
 * reached the file, give or take the records produced during the batch
 * that was being written then, which no count holds.
 */
static bool counts_write(poe__tracelog *t, bool force, uint64_t written, bool ended,
                         uint64_t now[N_GROUP_BITS])
{
        struct timespec wall;
        uint64_t produced;
        unsigned g;
        int rc;

        for (g = 0; g < N_GROUP_BITS; g++) {
                now[g] = poe__tl_dropped(t, g);
                if (!now[g] || (!force && now[g] == t->drops_recorded[g]))
                        continue;
                if (sqlite3_bind_int64(t->st_drop, 1, t->run_id) != SQLITE_OK ||
                    sqlite3_bind_text(t->st_drop, 2, poe__tl_group_name(1u << g), -1,
                                      SQLITE_STATIC) != SQLITE_OK ||
                    sqlite3_bind_int64(t->st_drop, 3, (sqlite3_int64)now[g]) != SQLITE_OK) {
                        snprintf(t->fault, sizeof(t->fault), "binding a drop count: %s",
                                 sqlite3_errmsg(t->db));
                        return false;
                }
                if (!poe__tl_run(t, t->st_drop, "recording drops"))
                        return false;
        }
        produced = atomic_load(&t->produced);
        clock_gettime(CLOCK_REALTIME, &wall);
        rc = sqlite3_bind_int64(t->st_counters, 1, (sqlite3_int64)produced);
        rc |= sqlite3_bind_int64(t->st_counters, 2, (sqlite3_int64)written);
        rc |= ended ? sqlite3_bind_double(t->st_counters, 3,
                                          (double)wall.tv_sec + wall.tv_nsec / 1e9)
                    : sqlite3_bind_null(t->st_counters, 3);
        rc |= sqlite3_bind_int64(t->st_counters, 4, t->run_id);
        if (rc != SQLITE_OK) {
                snprintf(t->fault, sizeof(t->fault), "binding the run's counts: %s",
                         sqlite3_errmsg(t->db));
                return false;
        }
        return poe__tl_run(t, t->st_counters, "recording the run's counts");
}

static bool drops_pending(poe__tracelog *t)
{
        unsigned g;

        for (g = 0; g < N_GROUP_BITS; g++)
                if (poe__tl_dropped(t, g) != t->drops_recorded[g])
                        return true;
        return false;
}

/* Before a retry: after a full disk, moves what the WAL holds into the
 * database and truncates the WAL.  Otherwise a WAL on a small disk never
 * reaches the autocheckpoint size, is never rewound, and the log stays
 * stuck even once space is freed.  Best effort: a failure here shows in
 * the retry itself. */
static void before_retry(poe__tracelog *t)
{
        if ((t->fault_rc & 0xff) == SQLITE_FULL)
                sqlite3_wal_checkpoint_v2(t->db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

static void rollback(poe__tracelog *t)
{
        /* A failed statement may already have rolled the transaction
         * back (SQLITE_FULL does); only roll back what is still open. */
        if (!sqlite3_get_autocommit(t->db)) {
                char keep[sizeof(t->fault)];

                memcpy(keep, t->fault, sizeof(keep));
                poe__tl_run(t, t->st_rollback, "rolling back");
                memcpy(t->fault, keep, sizeof(keep));
        }
}

void poe__tl_batch_failed(poe__tracelog *t)
{
        char msg[sizeof(t->fault) + 96];

        rollback(t);
        t->in_error = true;
        t->next_retry_ms = now_ms() + RETRY_MS;
        snprintf(msg, sizeof(msg),
                 "%s; retrying every %d ms, dropping and counting records "
                 "meanwhile",
                 t->fault, RETRY_MS);
        status_error(t, msg);
}

static void batch_succeeded(poe__tracelog *t, const uint64_t drops_now[N_GROUP_BITS])
{
        memcpy(t->drops_recorded, drops_now, sizeof(t->drops_recorded));
        if (t->in_error) {
                t->in_error = false;
                status_error(t, NULL);
        }
}

/*
 * Whether the WAL takes another transaction (tracelog-checkpoint.c): at
 * its cap, with a reader in the way of every checkpoint, the batch is
 * dropped and counted instead, and the status says why until the WAL
 * can start again.
 */
static bool wal_room(poe__tracelog *t)
{
        char msg[200];

        if (poe__tl_wal_room(t)) {
                if (t->wal_held) {
                        t->wal_held = false;
                        status_error(t, NULL);
                }
                return true;
        }
        if (!t->wal_held) {
                t->wal_held = true;
                snprintf(msg, sizeof(msg),
                         "the WAL is at its limit (%u frames) and cannot be checkpointed (a "
                         "reader's snapshot holds it, or the disk is slow); dropping and "
                         "counting records until it can",
                         t->wal_cap);
                status_error(t, msg);
        }
        return false;
}

static void drop(poe__tracelog *t, unsigned group)
{
        atomic_fetch_add(&t->dropped[group_index(group)], 1);
}

/*
 * Moves up to BATCH_MAX records from the ring into the database in one
 * transaction (with the definitions among them), the records in one
 * statement (batch_flush).  While the database is failing and the retry
 * time has not come, or when the transaction fails, the records are
 * consumed all the same and counted as dropped: the ring must keep moving
 * for the kernel.
 */
static void write_batch(poe__tracelog *t)
{
        uint64_t per_group[N_GROUP_BITS] = { 0 }, drops_now[N_GROUP_BITS];
        double newest = 0;
        bool attempt = t->db && (!t->in_error || now_ms() >= t->next_retry_ms), ok = attempt;
        uint32_t stale = atomic_load(&t->writer_stale_epoch), def_epoch = 0;
        size_t n = 0, entries = 0;
        unsigned g;
        entry *e;

        if (ok && t->in_error)
                before_retry(t);
        if (ok && !wal_room(t))
                attempt = ok = false;
        if (ok)
                ok = poe__tl_run(t, t->st_begin, "starting a transaction");
        while (entries < BATCH_MAX && (e = poe__tl_ring_peek(t))) {
                entries++;
                if (e->rec.kind >= POE_TK_KINDS) {
                        if (ok)
                                ok = insert_definition(t, e);
                        def_epoch = e->rec.epoch;
                } else if (e->rec.epoch <= stale) {
                        /* It may name a definition that was lost. */
                        drop(t, e->rec.group);
                } else {
                        if (ok) {
                                ok = batch_add(t, e);
                                sess_note(t, e->rec.session, e->rec.wall);
                        }
                        if (e->rec.wall > newest)
                                newest = e->rec.wall;
                        per_group[group_index(e->rec.group)]++;
                        n++;
                }
                poe__tl_ring_pop(t, e);
        }
        if (ok)
                ok = batch_flush(t) && sess_write(t) &&
                     counts_write(t, false, atomic_load(&t->written) + n, false, drops_now) &&
                     poe__tl_run(t, t->st_commit, "committing");
        sess_clear(t);
        batch_clear(t);
        if (ok) {
                atomic_fetch_add(&t->written, n);
                batch_succeeded(t, drops_now);
                if (newest > t->newest_wall)
                        t->newest_wall = newest;
                /* Between this batch and the next: the bounds. */
                poe__tl_bound_pass(t);
                return;
        }
        if (attempt)
                poe__tl_batch_failed(t);
        if (def_epoch)
                definitions_lost(t, def_epoch);
        for (g = 0; g < N_GROUP_BITS; g++)
                if (per_group[g])
                        atomic_fetch_add(&t->dropped[g], per_group[g]);
}

/* Writes the counts alone: after a fault with nothing else to write,
 * this is the retry that finds out whether the fault cleared (a real
 * write, so a full disk is not mistaken for a cured one), and at the
 * end, the last word (ended). */
static bool write_counts_only(poe__tracelog *t, bool ended)
{
        uint64_t drops_now[N_GROUP_BITS];

        if (t->in_error)
                before_retry(t);
        if (poe__tl_run(t, t->st_begin, "starting a transaction") &&
            counts_write(t, t->in_error, atomic_load(&t->written), ended, drops_now) &&
            poe__tl_run(t, t->st_commit, "committing")) {
                batch_succeeded(t, drops_now);
                return true;
        }
        poe__tl_batch_failed(t);
        return false;
}

/* One try at opening the database of a log that retries; see
 * tracelog-internal.h. */
bool poe__tl_try_open(poe__tracelog *t, char *err, size_t errlen)
{
        char msg[sizeof(t->fault) + 96];
        int64_t delay;

        if (poe__tl_db_open(t, t->path, t->fault, sizeof(t->fault)) == 0) {
                t->in_error = false;
                t->open_delay_ms = 0;
                status_error(t, NULL);
                if (err && errlen)
                        err[0] = '\0';
                return true;
        }
        poe__tl_db_close(t);
        t->fault_rc = 0;
        delay = t->open_delay_ms ? t->open_delay_ms * 2 : RETRY_MS;
        if (delay > OPEN_RETRY_MAX_MS)
                delay = OPEN_RETRY_MAX_MS;
        t->open_delay_ms = delay;
        t->in_error = true;
        t->next_retry_ms = now_ms() + delay;
        snprintf(msg, sizeof(msg),
                 "%s; trying again in %lld ms, dropping and counting records meanwhile",
                 t->fault, (long long)delay);
        status_error(t, msg);
        if (err && errlen)
                snprintf(err, errlen, "%s", msg);
        return false;
}

/*
 * Whether the database file is still the one the writer opened: a file
 * deleted (no links left) or replaced (another inode at the path) while
 * the program runs would take every write without error and show none of
 * it to anyone.  One stat() per batch.
 */
static bool file_gone(poe__tracelog *t)
{
        struct stat st;

        if (!t->db || !t->file_known)
                return false;
        if (stat(t->path, &st) == 0 && st.st_dev == t->file_dev && st.st_ino == t->file_ino)
                return false;
        return true;
}

/* ... and if it is not, starts a new file at the path, with a new run: the
 * records of the batch at hand go there, and so do the drop counts (in
 * full, as the new run has none yet).  What the old file held is gone
 * with it; the status says so from now on. */
static void start_new_file(poe__tracelog *t)
{
        char note[sizeof(t->file_note) - 64];
        int64_t old_run = atomic_load(&t->run_id);
        bool opened;

        snprintf(note, sizeof(note), "trace log `%s' was %s while the program ran (run %lld)",
                 t->path, access(t->path, F_OK) == 0 ? "replaced" : "deleted",
                 (long long)old_run);
        poe__tl_db_close(t);
        memset(t->drops_recorded, 0, sizeof(t->drops_recorded));
        t->next_retry_ms = 0;
        opened = poe__tl_try_open(t, NULL, 0);
        pthread_mutex_lock(&t->err_mu);
        t->files_started++;
        snprintf(t->file_note, sizeof(t->file_note), "%.400s; %s", note,
                 opened ? "started a new file" : "cannot start a new file yet");
        pthread_mutex_unlock(&t->err_mu);
        if (opened)
                fprintf(stderr, "poe-inspector: %s; started a new file (run %lld in it)\n",
                        note, (long long)atomic_load(&t->run_id));
        else
                fprintf(stderr, "poe-inspector: %s; cannot start a new file yet, retrying\n",
                        note);
}

void *poe__tl_writer_main(void *arg)
{
        poe__tracelog *t = arg;
        bool stopping = false;
        int64_t deadline;
        struct timespec ts;
        uint64_t g, total = 0;

        poe__tl_thread_init("poe-trace-write");
        for (;;) {
                pthread_mutex_lock(&t->mu);
                /* Asleep until the first record, stop, or (while failing)
                 * the next retry.  wake_at is stored before the ring is
                 * looked at again, so a record pushed in between either
                 * is seen here or makes the sink signal when it next
                 * looks at wake_at: at once for a record it copies in,
                 * within SLOT_GRANT records for the ones the kernel
                 * writes in its slots, and whenever the kernel sleeps or
                 * returns to its caller (tracelog.c, "Waking the
                 * writer").  A kernel busy in one long handler does
                 * neither, so the writer also looks every IDLE_LOOK_MS. */
                while (!t->stop && poe__tl_ring_empty(t)) {
                        atomic_store(&t->wake_at, 1);
                        if (!poe__tl_ring_empty(t))
                                break;
                        if (!t->in_error) {
                                ts = ms_to_ts(now_ms() +
                                              atomic_load_explicit(&t->idle_look_ms,
                                                                   memory_order_relaxed));
                                pthread_cond_timedwait(&t->cv, &t->mu, &ts);
                                continue;
                        }
                        ts = ms_to_ts(t->next_retry_ms);
                        if (pthread_cond_timedwait(&t->cv, &t->mu, &ts) == ETIMEDOUT)
                                break;
                }
                /* A batch: wait for BATCH_MAX records or BATCH_MS. */
                deadline = now_ms() + BATCH_MS;
                while (!t->stop && !poe__tl_ring_empty(t) && poe__tl_ring_count(t) < t->threshold) {
                        atomic_store(&t->wake_at, t->threshold);
                        if (poe__tl_ring_count(t) >= t->threshold)
                                break;
                        ts = ms_to_ts(deadline);
                        if (pthread_cond_timedwait(&t->cv, &t->mu, &ts) == ETIMEDOUT)
                                break;
                }
                atomic_store(&t->wake_at, UINT64_MAX);
                stopping = t->stop;
                pthread_mutex_unlock(&t->mu);

                /* The last flush tries the database once more, whatever
                 * the retry clock says. */
                if (stopping && t->in_error)
                        t->next_retry_ms = 0;
                if (!t->db && now_ms() >= t->next_retry_ms)
                        poe__tl_try_open(t, NULL, 0);
                while (!poe__tl_ring_empty(t)) {
                        if (file_gone(t))
                                start_new_file(t);
                        write_batch(t);
                }
                if (t->db && t->in_error && now_ms() >= t->next_retry_ms)
                        write_counts_only(t, false);
                if (stopping)
                        break;
        }
        /* The run's last counts, and its clean end; then the
         * checkpointer goes (closing the database moves what is left of
         * the WAL). */
        if (t->db && !t->in_error)
                write_counts_only(t, true);
        poe__tl_ckpt_stop(t);
        if (drops_pending(t)) {
                /* The one loss the log itself cannot record: say it where
                 * someone may read it. */
                for (g = 0; g < N_GROUP_BITS; g++)
                        total += poe__tl_dropped(t, g);
                if (!t->db)
                        fprintf(stderr,
                                "poe-inspector: trace log %s never opened; %llu records "
                                "dropped: %s\n",
                                t->path, (unsigned long long)total, t->fault);
                else
                        fprintf(stderr,
                                "poe-inspector: trace log %s: %llu records dropped in run "
                                "%lld could not be recorded in it: %s\n",
                                t->path, (unsigned long long)total,
                                (long long)atomic_load(&t->run_id), t->fault);
        }
        return NULL;
}

/* ---- opening ---- */

static const char schema_sql[] =
        "CREATE TABLE IF NOT EXISTS runs(id INTEGER PRIMARY KEY, pid INTEGER, kernel_id TEXT, "
        "started REAL, hostname TEXT, poe_version TEXT, produced INTEGER, written INTEGER, "
        "ended REAL);"
        "CREATE TABLE IF NOT EXISTS sessions(run_id INTEGER NOT NULL, session_id INTEGER NOT "
        "NULL, first_seen REAL, last_seen REAL, PRIMARY KEY(run_id, session_id));"
        "CREATE TABLE IF NOT EXISTS records(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, "
        "mono_ns INTEGER, wall REAL, grp INTEGER, kind INTEGER, session INTEGER, "
        "sender INTEGER, event INTEGER, event_id INTEGER, refcount INTEGER, queue INTEGER, "
        "session_name INTEGER, peer_name INTEGER, arg0 INTEGER, arg1 INTEGER, arg2 INTEGER, "
        "arg3 INTEGER, arg4 INTEGER, num, text TEXT);"
        "CREATE TABLE IF NOT EXISTS names(run_id INTEGER NOT NULL, id INTEGER NOT NULL, "
        "text TEXT NOT NULL, PRIMARY KEY(run_id, id)) WITHOUT ROWID;"
        "CREATE TABLE IF NOT EXISTS loggables(run_id INTEGER NOT NULL, serial INTEGER NOT NULL, "
        "session INTEGER, text TEXT NOT NULL, PRIMARY KEY(run_id, serial)) WITHOUT ROWID;"
        "CREATE INDEX IF NOT EXISTS trace_run ON records(run_id);"
        "CREATE INDEX IF NOT EXISTS trace_run_session ON records(run_id, session);"
        "CREATE INDEX IF NOT EXISTS trace_run_event ON records(run_id, event);"
        "CREATE TABLE IF NOT EXISTS drops(run_id INTEGER NOT NULL, grp TEXT NOT NULL, "
        "count INTEGER NOT NULL, PRIMARY KEY(run_id, grp));"
        "CREATE TABLE IF NOT EXISTS removed(run_id INTEGER NOT NULL, grp TEXT NOT NULL, "
        "count INTEGER NOT NULL, PRIMARY KEY(run_id, grp));"
        /* A run that goes takes what describes it along. */
        "CREATE TRIGGER IF NOT EXISTS runs_gone AFTER DELETE ON runs BEGIN "
        "DELETE FROM sessions WHERE run_id = old.id; "
        "DELETE FROM names WHERE run_id = old.id; "
        "DELETE FROM loggables WHERE run_id = old.id; "
        "DELETE FROM drops WHERE run_id = old.id; "
        "DELETE FROM removed WHERE run_id = old.id; END;"
        "PRAGMA application_id = " APPLICATION_ID_DEC ";"
        "PRAGMA user_version = " STR(SCHEMA_VERSION) ";";

/*
 * What takes a log of version N to N + 1, at migrations[N].  Each runs in
 * the transaction that checked the version, so a log is migrated whole or
 * not at all.  Version 2 to 3 moves the records of text columns aside, to
 * records_v2 (a rename: no row is copied, whatever the log's size), where
 * readers find the runs they belong to (tracelog-render.c), and gives
 * runs the counts this version keeps (NULL for the runs before it);
 * schema_sql then makes the new records table and the rest.  A process
 * of an older libpoe still writing the log then fails to insert into it,
 * and says so in its status.
 */
static const char *const migrations[SCHEMA_VERSION] = {
        [1] = "ALTER TABLE records ADD COLUMN event_id INTEGER;"
              "CREATE INDEX records_run_event_id ON records(run_id, event_id);",
        [2] = "ALTER TABLE records RENAME TO records_v2;"
              "ALTER TABLE runs ADD COLUMN produced INTEGER;"
              "ALTER TABLE runs ADD COLUMN written INTEGER;"
              "ALTER TABLE runs ADD COLUMN ended REAL;",
};

/* A negative errno for a SQLite failure. */
int poe__tl_sqlite_errno(sqlite3 *db, int rc)
{
        int e;

        switch (rc & 0xff) {
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CANTOPEN:
                e = db ? sqlite3_system_errno(db) : 0;
                return e > 0 ? -e : -EACCES;
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
                return -EINVAL;
        case SQLITE_INTERRUPT:
                return -ETIMEDOUT; /* a reader's deadline, or its log closing */
        default:
                return -EIO;
        }
}

/* One integer from a query without parameters (a PRAGMA, a count). */
static int query_int(sqlite3 *db, const char *sql, int64_t *ret)
{
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

        if (rc != SQLITE_OK)
                return rc;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                *ret = sqlite3_column_int64(st, 0);
                rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
        return rc;
}

/*
 * SQLite's last system error for a file it could not open is that of its
 * last try: a new file on a read-only file system fails to be created
 * (EROFS), then to be opened read-only (ENOENT), and ENOENT is what it
 * keeps.  A missing file whose directory exists is the directory's
 * fault: say what the directory says.
 */
static int open_errno(const char *path, int sys)
{
        char dir[PATH_MAX];
        struct statvfs vfs;
        const char *slash;

        if (sys != ENOENT || !path || access(path, F_OK) == 0 || errno != ENOENT)
                return sys;
        slash = strrchr(path, '/');
        if (!slash)
                snprintf(dir, sizeof(dir), ".");
        else if (slash == path)
                snprintf(dir, sizeof(dir), "/");
        else
                snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
        if (statvfs(dir, &vfs) != 0)
                return sys; /* the directory is missing: ENOENT is right */
        if (vfs.f_flag & ST_RDONLY)
                return EROFS;
        if (access(dir, W_OK) != 0)
                return errno;
        return sys;
}

int poe__tl_fail_db(sqlite3 *db, int rc, const char *path, const char *what, char *err,
                    size_t errlen)
{
        int e = poe__tl_sqlite_errno(db, rc), sys = db ? sqlite3_system_errno(db) : 0;

        if ((rc & 0xff) == SQLITE_CANTOPEN && sys > 0) {
                sys = open_errno(path, sys);
                e = -sys;
        }

        if ((rc & 0xff) == SQLITE_NOTADB)
                poe__tl_set_err(err, errlen, "trace log `%s': not a SQLite database (%s)", path,
                                sqlite3_errstr(rc));
        else if (sys > 0 && ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_IOERR))
                poe__tl_set_err(err, errlen, "trace log `%s': %s: %s (%s)", path, what,
                                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc), strerror(sys));
        else
                poe__tl_set_err(err, errlen, "trace log `%s': %s: %s", path, what,
                                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        return e;
}

/*
 * Makes sure the file is a libpoe trace log, or an empty database that
 * becomes one, inside one write transaction (two processes opening the
 * same new file cannot both create the schema halfway).
 */
static int check_schema(sqlite3 *db, const char *path, char *err, size_t errlen)
{
        int64_t app = 0, version = 0, tables = 0;
        char what[80];
        int rc;

        rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return poe__tl_fail_db(db, rc, path, "cannot lock it", err, errlen);
        if ((rc = query_int(db, "PRAGMA application_id", &app)) != SQLITE_OK ||
            (rc = query_int(db, "PRAGMA user_version", &version)) != SQLITE_OK ||
            (rc = query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                            &tables)) != SQLITE_OK) {
                poe__tl_fail_db(db, rc, path, "cannot read its schema", err, errlen);
                goto fail;
        }
        if (app == APPLICATION_ID && version > SCHEMA_VERSION) {
                poe__tl_set_err(err, errlen,
                                "trace log `%s': schema version %lld is newer than this "
                                "libpoe's (%d); use another file",
                                path, (long long)version, SCHEMA_VERSION);
                rc = -EPROTONOSUPPORT;
                goto refuse;
        }
        if (app == APPLICATION_ID && version < 1) {
                poe__tl_set_err(err, errlen,
                                "trace log `%s': a libpoe trace log with an unknown schema "
                                "version (%lld); use another file",
                                path, (long long)version);
                rc = -EPROTONOSUPPORT;
                goto refuse;
        }
        if (app != APPLICATION_ID && (tables > 0 || app != 0)) {
                poe__tl_set_err(
                        err, errlen,
                        "trace log `%s': a SQLite database of something else "
                        "(%lld tables, application_id %lld), not a libpoe trace log; refusing "
                        "to write into it",
                        path, (long long)tables, (long long)app);
                rc = -EINVAL;
                goto refuse;
        }
        for (; app == APPLICATION_ID && version < SCHEMA_VERSION; version++) {
                rc = sqlite3_exec(db, migrations[version], NULL, NULL, NULL);
                if (rc != SQLITE_OK) {
                        snprintf(what, sizeof(what),
                                 "cannot migrate its schema from version %lld to %lld",
                                 (long long)version, (long long)version + 1);
                        poe__tl_fail_db(db, rc, path, what, err, errlen);
                        goto fail;
                }
        }
        /* Creates what is missing, and sets the version. */
        rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                poe__tl_fail_db(db, rc, path, "cannot create its tables", err, errlen);
                goto fail;
        }
        return 0;
fail:
        rc = poe__tl_sqlite_errno(db, rc);
refuse:
        if (!sqlite3_get_autocommit(db))
                sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, const char *path, char *err,
                   size_t errlen)
{
        int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);

        if (rc != SQLITE_OK)
                return poe__tl_fail_db(db, rc, path, "cannot prepare its statements", err, errlen);
        return 0;
}

static int add_run(poe__tracelog *t, const char *path, char *err, size_t errlen)
{
        char host[256] = "";
        sqlite3_stmt *st;
        int rc;

        if (gethostname(host, sizeof(host) - 1) < 0)
                host[0] = '\0';
        rc = sqlite3_prepare_v2(t->db,
                                "INSERT INTO runs(pid, kernel_id, started, hostname, poe_version) "
                                "VALUES(?, ?, ?, ?, ?)",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
                return poe__tl_fail_db(t->db, rc, path, "cannot add this run", err, errlen);
        rc = sqlite3_bind_int64(st, 1, t->run_pid);
        if (rc == SQLITE_OK)
                rc = t->kernel_id ? sqlite3_bind_text(st, 2, t->kernel_id, -1, SQLITE_STATIC)
                                  : sqlite3_bind_null(st, 2);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_double(st, 3, t->run_started);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 4, host, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 5, POE_VERSION, -1, SQLITE_STATIC);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
                return poe__tl_fail_db(t->db, rc, path, "cannot add this run", err, errlen);
        atomic_store(&t->run_id, sqlite3_last_insert_rowid(t->db));
        return 0;
}

/* WAL lets the readers read while the writer writes; NORMAL syncs at
 * checkpoints only, which a trace can afford (what a crash or a power
 * loss can lose: tracelog-checkpoint.c). */
static int set_journal(sqlite3 *db, const char *path, char *err, size_t errlen)
{
        int rc = sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);

        if (rc == SQLITE_OK)
                rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return poe__tl_fail_db(db, rc, path, "cannot set its journal mode", err, errlen);
        return 0;
}

int poe__tl_db_open(poe__tracelog *t, const char *path, char *err, size_t errlen)
{
        struct stat st = { 0 };
        int64_t schema = 0, app = 0;
        bool fresh;
        int rc;

        rc = sqlite3_open_v2(path, &t->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             writer_vfs);
        if (rc != SQLITE_OK)
                return poe__tl_fail_db(t->db, rc, path, "cannot open it", err, errlen);
        sqlite3_extended_result_codes(t->db, 1);
        /* An existing file we may not write is opened read-only, silently:
         * say so now rather than at the first batch. */
        if (sqlite3_db_readonly(t->db, "main") == 1) {
                poe__tl_set_err(err, errlen,
                                "trace log `%s': cannot open it for writing (read-only)", path);
                return -EACCES;
        }
        /* SQLite reads nothing until asked: this is where a file that is
         * not a database shows. */
        rc = query_int(t->db, "PRAGMA schema_version", &schema);
        if (rc != SQLITE_OK)
                return poe__tl_fail_db(t->db, rc, path, "cannot read it", err, errlen);
        sqlite3_busy_timeout(t->db, OPEN_BUSY_MS);
        /* A database with no schema and no application_id (a new file)
         * is ours: its journal mode is set before its tables are made, so
         * that they are made in the WAL without a sync, instead of
         * through a rollback journal that syncs the journal, the file and
         * the directory several times (eight fdatasyncs a new log's start,
         * each of them milliseconds on a busy disk).  Anything else is
         * checked first: a file that is not ours, even one with no tables
         * yet but another program's application_id, keeps its journal
         * mode. */
        if (schema == 0) {
                rc = query_int(t->db, "PRAGMA application_id", &app);
                if (rc != SQLITE_OK)
                        return poe__tl_fail_db(t->db, rc, path, "cannot read it", err, errlen);
        }
        fresh = schema == 0 && app == 0;
        if (fresh && (rc = set_journal(t->db, path, err, errlen)) < 0)
                return rc;
        if ((rc = check_schema(t->db, path, err, errlen)) < 0)
                return rc;
        if (!fresh && (rc = set_journal(t->db, path, err, errlen)) < 0)
                return rc;
        if ((rc = add_run(t, path, err, errlen)) < 0)
                return rc;
        /* The batch, and the table st_batch reads it through. */
        t->batch = malloc(BATCH_MAX * sizeof(*t->batch));
        t->batch_text = malloc(BATCH_TEXT);
        if (!t->batch || !t->batch_text) {
                poe__tl_set_err(err, errlen, "trace log `%s': out of memory", path);
                return -ENOMEM;
        }
        batch_clear(t);
        rc = sqlite3_create_module_v2(t->db, "poe_batch", &batch_module, t, NULL);
        if (rc != SQLITE_OK)
                return poe__tl_fail_db(t->db, rc, path, "cannot prepare its statements", err,
                                       errlen);
        if ((rc = prepare(t->db, "BEGIN IMMEDIATE", &t->st_begin, path, err, errlen)) < 0 ||
            (rc = prepare(t->db, "COMMIT", &t->st_commit, path, err, errlen)) < 0 ||
            (rc = prepare(t->db, "ROLLBACK", &t->st_rollback, path, err, errlen)) < 0 ||
            (rc = prepare(t->db,
                          "INSERT INTO records(run_id, " RECORD_COLUMNS
                          ") SELECT ?1, " RECORD_COLUMNS " FROM poe_batch ORDER BY rowid",
                          &t->st_batch, path, err, errlen)) < 0 ||
            (rc = prepare(t->db,
                          "INSERT OR REPLACE INTO names(run_id, id, text) VALUES(?, ?, ?)",
                          &t->st_name, path, err, errlen)) < 0 ||
            (rc = prepare(t->db,
                          "INSERT OR REPLACE INTO loggables(run_id, serial, session, text) "
                          "VALUES(?, ?, ?, ?)",
                          &t->st_loggable, path, err, errlen)) < 0 ||
            (rc = prepare(t->db,
                          "INSERT INTO sessions(run_id, session_id, first_seen, last_seen) "
                          "VALUES(?, ?, ?, ?) ON CONFLICT(run_id, session_id) DO UPDATE SET "
                          "first_seen = min(first_seen, excluded.first_seen), "
                          "last_seen = max(last_seen, excluded.last_seen)",
                          &t->st_session, path, err, errlen)) < 0 ||
            (rc = prepare(t->db,
                          "INSERT INTO drops(run_id, grp, count) VALUES(?, ?, ?) "
                          "ON CONFLICT(run_id, grp) DO UPDATE SET count = excluded.count",
                          &t->st_drop, path, err, errlen)) < 0 ||
            (rc = prepare(t->db,
                          "UPDATE runs SET produced = ?, written = ?, ended = ? WHERE id = ?",
                          &t->st_counters, path, err, errlen)) < 0 ||
            (rc = poe__tl_bound_open(t, path, err, errlen)) < 0)
                return rc;
        sqlite3_busy_timeout(t->db, WRITER_BUSY_MS);
        /* The WAL is moved into the database on a thread of its own. */
        poe__tl_ckpt_start(t);
        t->file_known = stat(path, &st) == 0;
        t->file_dev = st.st_dev;
        t->file_ino = st.st_ino;
        return 0;
}

void poe__tl_db_close(poe__tracelog *t)
{
        poe__tl_ckpt_stop(t);
        t->wal_held = false;
        sqlite3_finalize(t->st_begin);
        sqlite3_finalize(t->st_commit);
        sqlite3_finalize(t->st_rollback);
        sqlite3_finalize(t->st_batch);
        sqlite3_finalize(t->st_session);
        sqlite3_finalize(t->st_drop);
        sqlite3_finalize(t->st_name);
        sqlite3_finalize(t->st_loggable);
        sqlite3_finalize(t->st_counters);
        poe__tl_bound_close(t);
        t->st_begin = t->st_commit = t->st_rollback = NULL;
        t->st_batch = t->st_session = t->st_drop = NULL;
        t->st_name = t->st_loggable = t->st_counters = NULL;
        if (t->db)
                sqlite3_close(t->db);
        t->db = NULL;
        free(t->batch);
        free(t->batch_text);
        t->batch = NULL;
        t->batch_text = NULL;
}
