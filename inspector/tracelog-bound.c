/*
 * The trace log's bounds: the writer keeps the file within a size
 * (POE_TRACE_DB_MAX, 256 MiB unless told) and, when asked, an age
 * (POE_TRACE_DB_MAX_AGE), by removing the oldest records, lowest ids
 * first, TRIM_CHUNK at a time, each chunk in a transaction of its own,
 * between two batches (poe__tl_bound_pass, called after each batch that
 * commits).  Nothing is VACUUMed: the pages a removal frees go to the
 * database's free list, and the next batches reuse them, so the file
 * stops growing once it is full and keeps its size.
 *
 * The size is the pages in use (page_count - freelist_count, times the
 * page size) plus the WAL.  The WAL gets a reserve, an eighth of the
 * bound (at least 128 KiB, at most 32 MiB), which it never exceeds by
 * more than one transaction: the checkpointer (tracelog-checkpoint.c)
 * moves it into the database as it grows, the writer starts it again
 * at half the reserve, and writes nothing past the reserve while a
 * reader keeps it from being checkpointed; journal_size_limit cuts the
 * file back to the reserve when it restarts.  The pages in use
 * are held under the bound less the reserve: once past it, the writer
 * removes records until they are a sixteenth under it (hysteresis, so
 * it does not trim after every batch), at most TRIM_CHUNKS_PER_PASS
 * chunks between two batches unless it takes more to get back under it
 * at all (then up to TRIM_CHUNKS_MAX: a file far past its bound comes
 * down over several passes rather than stall the writer).
 *
 * What the file can still exceed the bound by: one batch's records
 * (added before the pass after them trims), and one transaction beyond
 * the WAL's reserve, reader or not (a reader that keeps a snapshot open
 * past the reserve costs records, dropped and counted, not room).  A
 * file already larger than the bound when the log opens
 * (an older log, a bound lowered) keeps its size on disk: its records go
 * until it is within the bound, and its free pages are reused; `sqlite3
 * FILE VACUUM` shrinks it, offline.
 *
 * The age: a record is too old when its wall time is more than max_age
 * seconds before the newest record this run has written.  The kernel's
 * clock, not the writer's: records carry the kernel's time (its fake
 * clock in tests), and the writer never reads the kernel.
 *
 * What goes: records, oldest first (a migrated log's old ones, in
 * records_v2, before any in records), but never the newest record of
 * all, so that ids never start again from 1 (the page's tail asks for
 * ids after the last it saw).  A run goes when no record of it is left
 * and it is older than every run that still has records; the current
 * run's row and what describes its records (sessions, names, loggables,
 * drops) always stay.  A trigger (runs_gone) takes a run's rows of the
 * other tables along with it.
 *
 * Counting: each chunk adds what it removed, per run and group, to the
 * table `removed` in the same transaction, so a run's records in the
 * file are always its written count (runs.written) less its removed
 * ones; the status counts this run's by group, and earlier runs'
 * records and rows as totals.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tracelog-internal.h"

#define WAL_RESERVE_MIN (128 << 10)
/* 32 MiB at the default bound of 256 MiB: the writer waits for a
 * checkpoint once per 16 MiB of WAL, some 120,000 of a yield chain's
 * records (docs/performance.md). */
#define WAL_RESERVE_MAX (32 << 20)

/* A table records are removed from: the SQL is fixed per table. */
typedef struct source {
        sqlite3_stmt *head;  /* the oldest records' ids and times */
        sqlite3_stmt *count; /* those up to an id, by run and group */
        sqlite3_stmt *del;   /* removes them */
        bool group_names;    /* grp holds names (records_v2), not bits */
} source;

struct tl_bound {
        source src[2]; /* records_v2 (NULL statements without it), records */
        sqlite3_stmt *page_count, *freelist, *newest_id, *min_run, *runs_gone, *removed;
        int64_t page_size;
        const char *wal_path; /* SQLite's, valid while the database is open */
};

/* Each reads or removes a range of ids from the start.  NOT INDEXED:
 * the planner would otherwise group by scanning a whole (run_id, ...)
 * index for the few rows of the range. */
static const struct {
        const char *head, *count, *del;
} source_sql[2] = {
        {
                "SELECT id, wall FROM records_v2 ORDER BY id LIMIT ?",
                "SELECT run_id, grp, count(*) FROM records_v2 NOT INDEXED WHERE id <= ? "
                "GROUP BY run_id, grp",
                "DELETE FROM records_v2 WHERE id <= ?",
        },
        {
                "SELECT id, wall FROM records ORDER BY id LIMIT ?",
                "SELECT run_id, grp, count(*) FROM records NOT INDEXED WHERE id <= ? "
                "GROUP BY run_id, grp",
                "DELETE FROM records WHERE id <= ?",
        },
};

static void apply_limits(poe__tracelog *t, uint64_t max);

static int prepare(poe__tracelog *t, const char *sql, sqlite3_stmt **st, const char *path,
                   char *err, size_t errlen)
{
        int rc = sqlite3_prepare_v3(t->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);

        if (rc != SQLITE_OK)
                return poe__tl_fail_db(t->db, rc, path, "cannot prepare its statements", err,
                                       errlen);
        return 0;
}

/* Steps st for one integer (0 for NULL or no row) and resets it. */
static bool step_int(sqlite3_stmt *st, int64_t *ret)
{
        int rc = sqlite3_step(st);

        *ret = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL
                       ? sqlite3_column_int64(st, 0)
                       : 0;
        sqlite3_reset(st);
        return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

int poe__tl_bound_open(poe__tracelog *t, const char *path, char *err, size_t errlen)
{
        struct tl_bound *b = calloc(1, sizeof(*b));
        sqlite3_stmt *st = NULL;
        bool has_v2 = false, ok;
        int i, rc;

        if (!b) {
                poe__tl_set_err(err, errlen, "trace log `%s': out of memory", path);
                return -ENOMEM;
        }
        t->bound = b;
        t->applied_max = 0;
        t->trimming = false;
        rc = prepare(t, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                        "name = 'records_v2'",
                     &st, path, err, errlen);
        if (rc < 0)
                return rc;
        if (sqlite3_step(st) == SQLITE_ROW)
                has_v2 = sqlite3_column_int64(st, 0) > 0;
        sqlite3_finalize(st);
        for (i = has_v2 ? 0 : 1; i < 2; i++) {
                b->src[i].group_names = i == 0;
                source *s = &b->src[i];

                if ((rc = prepare(t, source_sql[i].head, &s->head, path, err, errlen)) < 0 ||
                    (rc = prepare(t, source_sql[i].count, &s->count, path, err, errlen)) < 0 ||
                    (rc = prepare(t, source_sql[i].del, &s->del, path, err, errlen)) < 0)
                        return rc;
        }
        if ((rc = prepare(t, "PRAGMA page_count", &b->page_count, path, err, errlen)) < 0 ||
            (rc = prepare(t, "PRAGMA freelist_count", &b->freelist, path, err, errlen)) < 0 ||
            (rc = prepare(t, "SELECT max(id) FROM records", &b->newest_id, path, err,
                          errlen)) < 0 ||
            (rc = prepare(t,
                          has_v2 ? "SELECT min(m) FROM (SELECT min(run_id) AS m FROM records "
                                   "UNION ALL SELECT min(run_id) FROM records_v2)"
                                 : "SELECT min(run_id) FROM records",
                          &b->min_run, path, err, errlen)) < 0 ||
            (rc = prepare(t, "DELETE FROM runs WHERE id < ? AND id <> ?", &b->runs_gone, path,
                          err, errlen)) < 0 ||
            (rc = prepare(t,
                          "INSERT INTO removed(run_id, grp, count) VALUES(?, ?, ?) "
                          "ON CONFLICT(run_id, grp) DO UPDATE SET count = count + excluded.count",
                          &b->removed, path, err, errlen)) < 0)
                return rc;
        if ((rc = prepare(t, "PRAGMA page_size", &st, path, err, errlen)) < 0)
                return rc;
        ok = step_int(st, &b->page_size);
        sqlite3_finalize(st);
        if (!ok || b->page_size <= 0)
                return poe__tl_fail_db(t->db, SQLITE_ERROR, path, "cannot read its page size",
                                       err, errlen);
        b->wal_path = sqlite3_filename_wal(sqlite3_db_filename(t->db, "main"));
        /* The WAL's limits from the first batch on (a bound set later is
         * applied by the pass after it). */
        apply_limits(t, atomic_load(&t->max_bytes));
        return 0;
}

void poe__tl_bound_close(poe__tracelog *t)
{
        struct tl_bound *b = t->bound;
        int i;

        if (!b)
                return;
        for (i = 0; i < 2; i++) {
                sqlite3_finalize(b->src[i].head);
                sqlite3_finalize(b->src[i].count);
                sqlite3_finalize(b->src[i].del);
        }
        sqlite3_finalize(b->page_count);
        sqlite3_finalize(b->freelist);
        sqlite3_finalize(b->newest_id);
        sqlite3_finalize(b->min_run);
        sqlite3_finalize(b->runs_gone);
        sqlite3_finalize(b->removed);
        free(b);
        t->bound = NULL;
}

/* ---- measuring ---- */

static uint64_t wal_reserve(uint64_t max)
{
        uint64_t r = max / 8;

        return r < WAL_RESERVE_MIN ? WAL_RESERVE_MIN : r > WAL_RESERVE_MAX ? WAL_RESERVE_MAX : r;
}

/* The WAL's limits for a bound: the checkpointer's marks
 * (tracelog-checkpoint.c), the file cut back to the reserve when the WAL
 * restarts.  A PRAGMA takes no parameters: the value is an integer of
 * ours, printed. */
static void apply_limits(poe__tracelog *t, uint64_t max)
{
        uint64_t reserve = wal_reserve(max);
        char sql[64];

        poe__tl_wal_limits(t, reserve, t->bound->page_size);
        snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit = %llu",
                 (unsigned long long)reserve);
        sqlite3_exec(t->db, sql, NULL, NULL, NULL);
        t->applied_max = max;
}

/* The bytes of the pages in use into *in_use; the file's size with its
 * WAL's into the status.  False when SQLite cannot say. */
static bool measure(poe__tracelog *t, int64_t *in_use)
{
        struct tl_bound *b = t->bound;
        int64_t pages, free_pages, wal = 0;
        struct stat sb;

        if (!step_int(b->page_count, &pages) || !step_int(b->freelist, &free_pages))
                return false;
        if (b->wal_path && stat(b->wal_path, &sb) == 0)
                wal = sb.st_size;
        *in_use = (pages - free_pages) * b->page_size;
        atomic_store(&t->size_bytes, (uint64_t)(pages * b->page_size + wal));
        return true;
}

/* ---- removing ---- */

/*
 * Picks the records a chunk removes: up to TRIM_CHUNK of the oldest in
 * the first table that has any, those older than cutoff only when
 * cutoff > 0, never the newest record of records.  Their last id into
 * *upto and their table into *ret (*upto 0: none).
 */
static bool pick(poe__tracelog *t, double cutoff, source **ret, int64_t *upto)
{
        struct tl_bound *b = t->bound;
        int64_t newest = INT64_MAX, id;
        bool any = false;
        source *s;
        int i, rc = SQLITE_DONE;

        *upto = 0;
        for (i = 0; i < 2 && !any; i++) {
                s = &b->src[i];
                if (!s->head)
                        continue;
                if (i == 1 && !step_int(b->newest_id, &newest))
                        return false;
                if (sqlite3_bind_int64(s->head, 1, TRIM_CHUNK) != SQLITE_OK)
                        return false;
                while ((rc = sqlite3_step(s->head)) == SQLITE_ROW) {
                        any = true;
                        id = sqlite3_column_int64(s->head, 0);
                        if ((cutoff > 0 && sqlite3_column_double(s->head, 1) >= cutoff) ||
                            id >= newest)
                                break;
                        *upto = id;
                        *ret = s;
                }
                sqlite3_reset(s->head);
                if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                        return false;
        }
        return true;
}

/* Counts what the chunk removes into `removed`, this run's by group into
 * mine[] and other runs' into *earlier. */
static bool count_removed(poe__tracelog *t, source *s, int64_t upto, int64_t run,
                          uint64_t mine[N_GROUP_BITS], uint64_t *earlier)
{
        struct tl_bound *b = t->bound;
        int64_t rid, n, grp;
        const char *name;
        int rc;

        if (sqlite3_bind_int64(s->count, 1, upto) != SQLITE_OK)
                return false;
        while ((rc = sqlite3_step(s->count)) == SQLITE_ROW) {
                rid = sqlite3_column_int64(s->count, 0);
                n = sqlite3_column_int64(s->count, 2);
                if (s->group_names) {
                        name = (const char *)sqlite3_column_text(s->count, 1);
                        *earlier += (uint64_t)n;
                } else {
                        grp = sqlite3_column_int64(s->count, 1);
                        name = poe__tl_group_name((unsigned)grp);
                        if (rid == run)
                                mine[group_index((unsigned)grp)] += (uint64_t)n;
                        else
                                *earlier += (uint64_t)n;
                }
                if (sqlite3_bind_int64(b->removed, 1, rid) != SQLITE_OK ||
                    sqlite3_bind_text(b->removed, 2, name ? name : "UNKNOWN", -1,
                                      SQLITE_TRANSIENT) != SQLITE_OK ||
                    sqlite3_bind_int64(b->removed, 3, n) != SQLITE_OK ||
                    !poe__tl_run(t, b->removed, "counting removed records")) {
                        sqlite3_reset(s->count);
                        return false;
                }
        }
        sqlite3_reset(s->count);
        if (rc != SQLITE_DONE)
                snprintf(t->fault, sizeof(t->fault), "counting removed records: %s",
                         sqlite3_errmsg(t->db));
        return rc == SQLITE_DONE;
}

/* Removes the runs older than every run with records left, but the
 * current one; their rows elsewhere go with them (runs_gone). */
static bool runs_gone(poe__tracelog *t, int64_t run, uint64_t *gone)
{
        struct tl_bound *b = t->bound;
        int64_t oldest;

        if (!step_int(b->min_run, &oldest))
                return false;
        if (sqlite3_bind_int64(b->runs_gone, 1, oldest ? oldest : run) != SQLITE_OK ||
            sqlite3_bind_int64(b->runs_gone, 2, run) != SQLITE_OK ||
            !poe__tl_run(t, b->runs_gone, "removing old runs"))
                return false;
        *gone = (uint64_t)sqlite3_changes(t->db);
        return true;
}

/*
 * One chunk, in its own transaction: the oldest records (older than
 * cutoff, when > 0) and the runs they leave empty.  1: some removed, 0:
 * nothing may go, -1: the database failed (t->fault says how).
 */
static int remove_chunk(poe__tracelog *t, double cutoff)
{
        uint64_t mine[N_GROUP_BITS] = { 0 }, earlier = 0, gone = 0;
        int64_t run = atomic_load(&t->run_id), upto;
        source *s = NULL;
        unsigned g;

        if (!poe__tl_run(t, t->st_begin, "starting a transaction to remove records"))
                return -1;
        if (!pick(t, cutoff, &s, &upto)) {
                snprintf(t->fault, sizeof(t->fault), "finding the oldest records: %s",
                         sqlite3_errmsg(t->db));
                return -1;
        }
        if (!upto)
                return poe__tl_run(t, t->st_commit, "committing") ? 0 : -1;
        if (!count_removed(t, s, upto, run, mine, &earlier) ||
            sqlite3_bind_int64(s->del, 1, upto) != SQLITE_OK ||
            !poe__tl_run(t, s->del, "removing the oldest records") ||
            !runs_gone(t, run, &gone) || !poe__tl_run(t, t->st_commit, "committing"))
                return -1;
        for (g = 0; g < N_GROUP_BITS; g++)
                if (mine[g])
                        atomic_fetch_add(&t->removed[g], mine[g]);
        atomic_fetch_add(&t->removed_earlier, earlier);
        atomic_fetch_add(&t->runs_removed, gone);
        return 1;
}

/* Whether the oldest record is older than cutoff: a read, so that a
 * log within its age costs no write transaction. */
static bool older_than(poe__tracelog *t, double cutoff)
{
        struct tl_bound *b = t->bound;
        bool old = false;
        int i, rc;

        for (i = 0; i < 2; i++) {
                if (!b->src[i].head || sqlite3_bind_int64(b->src[i].head, 1, 1) != SQLITE_OK)
                        continue;
                rc = sqlite3_step(b->src[i].head);
                if (rc == SQLITE_ROW)
                        old = sqlite3_column_double(b->src[i].head, 1) < cutoff;
                sqlite3_reset(b->src[i].head);
                if (rc == SQLITE_ROW)
                        return old;
        }
        return false;
}

void poe__tl_bound_pass(poe__tracelog *t)
{
        uint64_t max = atomic_load(&t->max_bytes), age = atomic_load(&t->max_age);
        int64_t in_use, limit, low;
        double cutoff;
        int chunks = 0, r;

        if (!t->bound || !t->db || t->in_error)
                return;
        if (max != t->applied_max)
                apply_limits(t, max);
        limit = (int64_t)(max - wal_reserve(max));
        low = limit - limit / 16;
        if (!measure(t, &in_use))
                return;
        if (in_use > limit)
                t->trimming = true;
        while (t->trimming) {
                if (in_use <= low) {
                        t->trimming = false;
                        break;
                }
                /* The rest after the next batch, unless the log is
                 * still past the bound itself; even then, a log far past
                 * it (a bound lowered, an old log) comes down a bounded
                 * number of chunks at a time, so that batches go on. */
                if (chunks >= TRIM_CHUNKS_PER_PASS &&
                    (in_use <= limit || chunks >= TRIM_CHUNKS_MAX))
                        break;
                /* A removal is a transaction in the WAL too: none past
                 * its cap (a reader holds it, tracelog-checkpoint.c). */
                if (poe__tl_wal_past_cap(t) && !poe__tl_wal_room(t))
                        break;
                r = remove_chunk(t, 0);
                if (r < 0)
                        goto failed;
                /* Nothing left that may go: what stays (the newest
                 * record, the runs' descriptions) is all there is. */
                if (r == 0)
                        t->trimming = false;
                chunks++;
                if (!measure(t, &in_use))
                        return;
        }
        if (age && t->newest_wall > 0) {
                cutoff = t->newest_wall - (double)age;
                for (chunks = 0; chunks < TRIM_CHUNKS_PER_PASS && older_than(t, cutoff);
                     chunks++) {
                        r = remove_chunk(t, cutoff);
                        if (r < 0)
                                goto failed;
                        if (r == 0)
                                break;
                }
                measure(t, &in_use);
        }
        return;
failed:
        poe__tl_batch_failed(t);
}
