/*
 * A trace log opened only to read it: what poe-trace (and any other
 * reader of a finished log) uses instead of poe__tracelog_open, which
 * would start a writer thread, create or migrate the schema and add a
 * run.  The handle carries just what queries and exports read (the path
 * their read-only connections open and the run they default to), so
 * poe__tracelog_query, poe__tracelog_runs and poe__tracelog_export work
 * on it unchanged and their output stays byte for byte the inspector's.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tracelog-internal.h"

static int ro_int(sqlite3 *db, const char *sql, int64_t *ret)
{
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

        if (rc != SQLITE_OK)
                return rc;
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                *ret = sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 0);
                rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
                *ret = 0;
                rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
        return rc;
}

/* Refuses what queries cannot read: not a database, a database of
 * something else, a schema newer than this reader's.  A log of version 1
 * or 2 (text columns) is read as it is, through the old columns
 * (tracelog-render.c): a reader never migrates. */
static int ro_check(sqlite3 *db, const char *path, int64_t *ret_run, char *err, size_t errlen)
{
        int64_t app = 0, version = 0;
        int rc;

        if ((rc = ro_int(db, "PRAGMA application_id", &app)) != SQLITE_OK ||
            (rc = ro_int(db, "PRAGMA user_version", &version)) != SQLITE_OK) {
                if ((rc & 0xff) == SQLITE_NOTADB) {
                        poe__tl_set_err(err, errlen, "%s: not a SQLite database", path);
                        return -EINVAL;
                }
                return poe__tl_fail_db(db, rc, path, "cannot read its schema", err, errlen);
        }
        if (app != APPLICATION_ID) {
                poe__tl_set_err(err, errlen,
                                "%s: not a libpoe trace log (a SQLite database with "
                                "application_id %lld, not %d)",
                                path, (long long)app, APPLICATION_ID);
                return -EINVAL;
        }
        if (version < 1 || version > SCHEMA_VERSION) {
                poe__tl_set_err(err, errlen,
                                "%s: trace log schema version %lld, this reader knows 1 to %d",
                                path, (long long)version, SCHEMA_VERSION);
                return -EPROTONOSUPPORT;
        }
        /* Without a writer there is no current run: the newest stands in
         * for it, as it is the one a live inspector would show. */
        rc = ro_int(db, "SELECT max(id) FROM runs", ret_run);
        if (rc != SQLITE_OK)
                return poe__tl_fail_db(db, rc, path, "cannot read its runs", err, errlen);
        return 0;
}

int poe__tracelog_open_readonly(const char *path, poe__tracelog **ret, char *err, size_t errlen)
{
        poe__tracelog *t;
        struct stat sb;
        sqlite3 *db = NULL;
        int64_t run = 0;
        char *abs;
        int rc;

        *ret = NULL;
        poe__tl_set_err(err, errlen, "%s", "");
        if (!path || !*path) {
                poe__tl_set_err(err, errlen, "trace log: no path given");
                return -EINVAL;
        }
        /* SQLite would open a missing file as an empty database (even
         * read-only, it reports no error until the first read); a reader
         * must name the real problem and never create anything. */
        if (stat(path, &sb) < 0) {
                rc = -errno;
                poe__tl_set_err(err, errlen, "%s: %s", path, strerror(errno));
                return rc;
        }
        if (S_ISDIR(sb.st_mode)) {
                poe__tl_set_err(err, errlen, "%s: %s", path, strerror(EISDIR));
                return -EISDIR;
        }
        rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
                rc = poe__tl_fail_db(db, rc, path, "cannot open it for reading", err, errlen);
                sqlite3_close(db);
                return rc;
        }
        sqlite3_busy_timeout(db, READER_BUSY_MS);
        t = calloc(1, sizeof(*t));
        if (!t) {
                sqlite3_close(db);
                poe__tl_set_err(err, errlen, "trace log: out of memory");
                return -ENOMEM;
        }
        rc = ro_check(db, path, &run, err, errlen);
        atomic_init(&t->run_id, run);
        sqlite3_close(db);
        if (rc < 0) {
                free(t);
                return rc;
        }
        /* Readers open the path again, one connection per call: an
         * absolute one keeps meaning the same file. */
        abs = realpath(path, NULL);
        t->path = abs ? abs : strdup(path);
        /* poe__tracelog_close destroys these; no thread ever uses them. */
        if (!t->path || pthread_mutex_init(&t->mu, NULL) != 0) {
                free(t->path);
                free(t);
                poe__tl_set_err(err, errlen, "trace log: out of memory");
                return -ENOMEM;
        }
        if (pthread_mutex_init(&t->err_mu, NULL) != 0) {
                pthread_mutex_destroy(&t->mu);
                free(t->path);
                free(t);
                poe__tl_set_err(err, errlen, "trace log: out of memory");
                return -ENOMEM;
        }
        if (pthread_cond_init(&t->cv, NULL) != 0) {
                pthread_mutex_destroy(&t->err_mu);
                pthread_mutex_destroy(&t->mu);
                free(t->path);
                free(t);
                poe__tl_set_err(err, errlen, "trace log: out of memory");
                return -ENOMEM;
        }
        *ret = t;
        return 0;
}

const char *poe__tracelog_path(const poe__tracelog *t)
{
        return t ? t->path : NULL;
}

int64_t poe__tracelog_run_id(const poe__tracelog *t)
{
        return t ? atomic_load(&t->run_id) : 0;
}
