/*
 * The SQLite export's copy: a consistent copy of the whole database
 * (every run), through the backup API, which reads one snapshot of the
 * WAL database while the writer goes on.  The copy is made into a
 * temporary file and turned from WAL into an ordinary single-file
 * database; the file is unlinked and its descriptor, opened before
 * SQLite touched the file and at offset 0, kept: the body is read from it
 * as it is sent (tracelog-export.c), so it costs no memory, and the file
 * disappears when the descriptor is closed.  A copy that fills the log's
 * file system is made again in TMPDIR.  It is made COPY_PAGES at a time,
 * and stops between two steps when its caller says so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tracelog-internal.h"

static void unlink_sidecars(const char *path)
{
        static const char *const suffix[] = { "-journal", "-wal", "-shm" };
        char p[4096];
        size_t i;

        for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++)
                if ((size_t)snprintf(p, sizeof(p), "%s%s", path, suffix[i]) < sizeof(p))
                        unlink(p);
}

/*
 * A temporary file for the copy: first next to the log, whose directory
 * the writer already writes and whose file system already holds the log
 * (a small tmpfs as TMPDIR might not); then, when that fails or its file
 * system fills up during the copy, in TMPDIR (or /tmp).
 */
static int make_temp(const char *log, bool next_to_log, char *path, size_t size, char *err,
                     size_t errlen)
{
        const char *dir = getenv("TMPDIR");
        int fd = -1, e = ENAMETOOLONG;

        if (!dir || !*dir)
                dir = "/tmp";
        if ((size_t)(next_to_log ? snprintf(path, size, "%s.export-XXXXXX", log)
                                 : snprintf(path, size, "%s/poe-trace-export-XXXXXX", dir)) <
            size) {
                fd = mkstemp(path);
                e = errno;
        }
        if (fd < 0)
                poe__tl_set_err(err, errlen,
                                "trace log export: cannot make a temporary file %s %s: %s",
                                next_to_log ? "next to" : "in", next_to_log ? log : dir,
                                strerror(e));
        return fd;
}

/* Pages copied between two checks for a stop: 4 MiB of 4 KiB pages,
 * some tens of milliseconds. */
#define COPY_PAGES 1024

/* What a copy is asked to do. */
typedef struct copy_job {
        sqlite3 *src;
        const char *(*stop)(void *ctx);
        void *ctx;
} copy_job;

/* Copies the source into the temporary file at path (fd, opened before
 * SQLite touched it), COPY_PAGES at a time, stopping when asked; its
 * size, or -errno with err. */
static int64_t copy_into(const copy_job *j, int fd, const char *path, char *err, size_t errlen)
{
        sqlite3 *dst = NULL;
        sqlite3_backup *bk;
        const char *why;
        struct stat sb;
        int rc, e;

        rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
                e = poe__tl_fail_db(dst, rc, path, "cannot open the export copy", err, errlen);
                goto fail;
        }
        bk = sqlite3_backup_init(dst, "main", j->src, "main");
        if (!bk) {
                e = poe__tl_fail_db(dst, sqlite3_errcode(dst), path, "cannot copy the trace log",
                                    err, errlen);
                goto fail;
        }
        /* The source's read transaction, open since before the first
         * step, keeps every step on one snapshot: the writer's commits
         * meanwhile neither show nor restart the copy. */
        while ((rc = sqlite3_backup_step(bk, COPY_PAGES)) == SQLITE_OK && !(why = j->stop(j->ctx)))
                ;
        sqlite3_backup_finish(bk);
        if (rc == SQLITE_OK) {
                poe__tl_set_err(err, errlen, "trace log export: stopped: %s", why);
                e = -ECANCELED;
                goto fail;
        }
        if (rc != SQLITE_DONE) {
                poe__tl_set_err(err, errlen, "trace log export: copying into %s failed: %s", path,
                                sqlite3_errstr(rc));
                e = poe__tl_sqlite_errno(NULL, rc);
                goto fail;
        }
        /* The copy keeps the source's WAL flag: make it one plain file. */
        rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                e = poe__tl_fail_db(dst, rc, path, "cannot finish the export copy", err, errlen);
                goto fail;
        }
        /* SQLite closes its own descriptor before ours goes: closing any
         * descriptor of a file drops the process's POSIX locks on it. */
        rc = sqlite3_close(dst);
        dst = NULL;
        if (rc != SQLITE_OK) {
                poe__tl_set_err(err, errlen, "trace log export: closing the copy failed: %s",
                                sqlite3_errstr(rc));
                e = poe__tl_sqlite_errno(NULL, rc);
                goto fail;
        }
        if (fstat(fd, &sb) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
                e = -errno;
                poe__tl_set_err(err, errlen, "trace log export: reading the copy failed: %s",
                                strerror(-e));
                goto fail;
        }
        return (int64_t)sb.st_size;
fail:
        if (dst)
                sqlite3_close(dst);
        return e;
}

int poe__tl_copy(poe__tracelog *t, sqlite3 *src, const char *(*stop)(void *ctx), void *ctx,
                 int *ret_fd, int64_t *ret_size, char *err, size_t errlen)
{
        copy_job j = { .src = src, .stop = stop, .ctx = ctx };
        int64_t size;
        char path[4096], first[512] = "";
        int fd, e = -EIO, where, rc;

        /* One snapshot for both places. */
        rc = sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return poe__tl_step_failed(src, rc, err, errlen);
        for (where = 0; where < 2; where++) {
                fd = make_temp(t->path, where == 0, path, sizeof(path), err, errlen);
                if (fd >= 0) {
                        size = copy_into(&j, fd, path, err, errlen);
                        unlink(path);
                        unlink_sidecars(path);
                        if (size >= 0) {
                                *ret_fd = fd;
                                *ret_size = size;
                                return 0;
                        }
                        e = (int)size;
                        close(fd);
                } else {
                        e = -EIO;
                }
                /* Only a full (or unwritable) log file system is worth a
                 * second place; say what the first one said too. */
                if (where == 0 && e != -ENOSPC && e != -EIO && e != -EACCES && e != -EROFS &&
                    e != -EDQUOT)
                        return e;
                if (where == 0)
                        snprintf(first, sizeof(first), "%s", err);
        }
        if (first[0]) {
                char second[512];

                snprintf(second, sizeof(second), "%s", err);
                poe__tl_set_err(err, errlen, "%s; then %s", first, second);
        }
        return e;
}

