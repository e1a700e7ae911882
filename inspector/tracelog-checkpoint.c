/*
 * The trace log's checkpointer: a thread with a connection of its own
 * that moves what the writer commits to the WAL into the database file,
 * so that the writer's thread never copies pages nor waits for a sync
 * but once per turn of the WAL, and the WAL stays within its share of
 * the size bound (tracelog-bound.c) whatever readers do.
 *
 * The policy.  The writer's connection checkpoints nothing by itself (a
 * WAL hook replaces SQLite's autocheckpoint); the hook, run after each of
 * its commits, notes the WAL's length in frames.  Three marks, in frames
 * of the bound's WAL reserve (an eighth of the bound, 128 KiB to
 * WAL_RESERVE_MAX; apply_limits sets them):
 *
 *  - every step (a sixteenth of the reserve) the hook wakes the
 *    checkpointer, which runs a PASSIVE checkpoint on its own
 *    connection: it syncs the WAL, copies the frames no reader still
 *    needs and syncs the database, while the writer goes on appending;
 *  - at restart (half the reserve), the writer asks the checkpointer for
 *    one more run and waits for it (at most CKPT_WAIT_MS): when that run
 *    has moved every frame, the writer's next transaction starts the WAL
 *    again from its first frame.  The other runs did most of the copying
 *    already, so this wait is the last few frames and two syncs (the
 *    WAL's, and the database file's once every frame is in it): once per
 *    turn of the WAL, half the reserve, rather than at every checkpoint;
 *  - at the cap (the whole reserve) the writer writes no transaction
 *    until a run has moved every frame: a batch is dropped and counted,
 *    and the status says why.  journal_size_limit (the reserve) cuts the
 *    file back when the WAL starts again.
 *
 * A reader holding the WAL.  A reader's snapshot (a query, an export's
 * cursor or copy, another process's read transaction) keeps a
 * checkpoint from moving the frames written after it began, and so the
 * WAL from starting again: the runs report it (blocked), the writer
 * stops waiting for them, and writes on until the cap; there it drops
 * and counts its batches, and the status names the cause, until the
 * reader ends and a run (the checkpointer tries every CKPT_POLL_MS
 * meanwhile) moves every frame.  The WAL therefore never holds more than
 * the reserve plus one transaction (a batch, or one chunk of the bounds'
 * removals, which stop at the cap too), however long a reader reads:
 * the log loses records rather than the bound.  The inspector's own
 * reads end by their deadlines (10 s a query, 5 min an export), so
 * behind one of them records are lost only while it lasts past the
 * cap; a reader of another process can hold the WAL as long as it
 * likes, and the drops say for how long.
 *
 * Syncs, and what a crash or a power loss can lose.  Both connections
 * run synchronous=NORMAL: a commit syncs nothing; a checkpoint syncs
 * the WAL before it copies frames into the database, and the database
 * before the WAL starts again; SQLite's WAL checksums let recovery
 * find the last whole transaction.
 *  - The process killed or crashed (the OS still running): nothing
 *    committed is lost: the OS holds every write.  What is lost is what
 *    the ring and the open transaction held, a batch or so, and the
 *    counts in the file say how many (produced - written - dropped;
 *    README, tracelog.c).
 *  - The OS crashed or the power lost: the database stays sound
 *    (integrity_check passes), and it keeps every transaction up to the
 *    last checkpoint's sync of the WAL; the transactions committed after
 *    it may be lost, with their counts, unless the OS wrote them back
 *    first: at most a step's worth of WAL (a sixteenth of the reserve,
 *    2 MiB or some 15,000 of a yield chain's records at the default
 *    bound), or, while a reader keeps the checkpoints from copying
 *    anything (then nothing is synced), at most the reserve's.
 *    synchronous=FULL would sync every commit and make every batch wait
 *    for the disk, a trace log's cost for a guarantee it does not need:
 *    the records that matter after a power loss are rarely the last few
 *    thousand, and the log says which run was cut short (no end time).
 *    synchronous=OFF would also skip the checkpoints' syncs, and a power
 *    loss could then corrupt the file: not taken.
 *
 * A checkpointer that cannot start (no thread, or its connection cannot
 * be opened) is no fault: the writer then runs the same PASSIVE
 * checkpoint itself at the restart mark, as SQLite's autocheckpoint
 * would, and the marks hold as before.
 *
 * Threads.  The writer owns t->ckpt and the marks; the checkpointer
 * reads and writes only its struct's fields under its mutex, and its own
 * connection, which the writer closes once the thread has ended.  The
 * thread starts when the writer's database opens (poe__tl_db_open) and
 * ends when it closes, or when the writer stops (poe__tl_ckpt_stop):
 * its current checkpoint is interrupted (sqlite3_interrupt; a checkpoint
 * checks between two pages), so a stop does not wait for a long copy.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tracelog-internal.h"

#define CKPT_WAIT_MS 1000 /* the most the writer waits for a run */
#define CKPT_POLL_MS 100  /* how often a blocked checkpointer tries again */

struct tl_ckpt {
        pthread_t thread;
        sqlite3 *db; /* the checkpointer's connection */
        pthread_mutex_t mu;
        pthread_cond_t cv;      /* the checkpointer waits on it for work */
        pthread_cond_t done_cv; /* the writer waits on it for a run */
        bool stop;
        uint64_t asked;  /* runs asked for: wakes by the hook, the writer's waits */
        uint64_t served; /* the last of them a finished run began after */
        bool full;       /* the last run moved every frame */
        bool blocked;    /* it could not: a reader, a lock, or an error */
};

static struct timespec deadline_ts(int64_t ms)
{
        struct timespec ts;
        int64_t at = now_ms() + ms;

        ts.tv_sec = at / 1000;
        ts.tv_nsec = (long)(at % 1000) * 1000000;
        return ts;
}

/*
 * One PASSIVE checkpoint of the WAL into the database: whether it moved
 * every frame.  SQLite syncs the database file only when a checkpoint
 * reaches the WAL's end, which a run concurrent with the writer seldom
 * does; sync (the checkpointer's) syncs it after every run that moved
 * frames, so that the run the writer waits for has only its own pages
 * to sync, not a whole turn of the WAL's.
 */
static bool checkpoint(sqlite3 *db, bool sync)
{
        int nlog = -1, nckpt = -1;
        int rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
        bool full = rc == SQLITE_OK && nlog >= 0 && nckpt == nlog;
        sqlite3_file *f = NULL;

        if (sync && !full && rc == SQLITE_OK && nckpt > 0 &&
            sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) == SQLITE_OK && f &&
            f->pMethods)
                f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
        return full;
}

static void *ckpt_main(void *arg)
{
        poe__tracelog *t = arg;
        struct tl_ckpt *c = t->ckpt;
        struct timespec ts;
        uint64_t take;
        bool full, retry;

        poe__tl_thread_init("poe-trace-ckpt");
        pthread_mutex_lock(&c->mu);
        for (;;) {
                retry = false;
                while (!c->stop && c->asked == c->served && !retry) {
                        if (!c->blocked) {
                                pthread_cond_wait(&c->cv, &c->mu);
                                continue;
                        }
                        /* Nothing tells when a reader ends: try again
                         * now and then. */
                        ts = deadline_ts(CKPT_POLL_MS);
                        if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT)
                                retry = true;
                }
                if (c->stop)
                        break;
                take = c->asked;
                pthread_mutex_unlock(&c->mu);
                full = checkpoint(c->db, true);
                pthread_mutex_lock(&c->mu);
                c->served = take;
                c->full = full;
                c->blocked = !full;
                atomic_fetch_add(&t->checkpoints, 1);
                pthread_cond_broadcast(&c->done_cv);
        }
        pthread_mutex_unlock(&c->mu);
        return NULL;
}

/* ---- the writer's side ---- */

/* After each commit of the writer's connection: the WAL's length, and a
 * run asked for every step. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
        poe__tracelog *t = arg;
        uint32_t n = frames > 0 ? (uint32_t)frames : 0;
        struct tl_ckpt *c = t->ckpt;

        (void)db;
        (void)name;
        if (n < t->wal_frames) /* the WAL started again */
                t->ckpt_next_at = t->wal_step;
        t->wal_frames = n;
        if (n > t->wal_frames_max)
                t->wal_frames_max = n;
        if (c && n >= t->ckpt_next_at) {
                t->ckpt_next_at = n + t->wal_step;
                pthread_mutex_lock(&c->mu);
                c->asked++;
                pthread_cond_signal(&c->cv);
                pthread_mutex_unlock(&c->mu);
        }
        return SQLITE_OK;
}

/* Asks for a run and waits for it, at most CKPT_WAIT_MS: whether it
 * moved every frame. */
static bool run_and_wait(poe__tracelog *t)
{
        struct tl_ckpt *c = t->ckpt;
        struct timespec ts = deadline_ts(CKPT_WAIT_MS), t0, t1;
        uint64_t want;
        bool full = false;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        pthread_mutex_lock(&c->mu);
        want = ++c->asked;
        pthread_cond_signal(&c->cv);
        while (c->served < want && !c->stop)
                if (pthread_cond_timedwait(&c->done_cv, &c->mu, &ts) == ETIMEDOUT)
                        break;
        if (c->served >= want)
                full = c->full;
        pthread_mutex_unlock(&c->mu);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        t->ckpt_waits++;
        t->ckpt_wait_ns +=
                (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec));
        return full;
}

static bool blocked(struct tl_ckpt *c)
{
        bool b;

        pthread_mutex_lock(&c->mu);
        b = c->blocked;
        pthread_mutex_unlock(&c->mu);
        return b;
}

bool poe__tl_wal_room(poe__tracelog *t)
{
        bool full;

        if (!t->db || !t->wal_restart || t->wal_frames < t->wal_restart)
                return true;
        if (!t->ckpt)
                full = checkpoint(t->db, false); /* no checkpointer: as autocheckpoint */
        else if (t->wal_frames >= t->wal_cap || !blocked(t->ckpt))
                full = run_and_wait(t);
        else
                full = false; /* a reader holds the WAL: no wait until the cap */
        /* Every frame moved: the next transaction starts the WAL again. */
        return full || t->wal_frames < t->wal_cap;
}

bool poe__tl_wal_past_cap(const poe__tracelog *t)
{
        return t->wal_cap && t->wal_frames >= t->wal_cap;
}

void poe__tl_wal_limits(poe__tracelog *t, uint64_t reserve, int64_t page_size)
{
        uint64_t cap = reserve / ((uint64_t)page_size + 24);

        if (cap < 8)
                cap = 8;
        t->wal_cap = (uint32_t)cap;
        t->wal_restart = (uint32_t)(cap / 2);
        t->wal_step = cap / 16 ? (uint32_t)(cap / 16) : 1;
        t->ckpt_next_at = t->wal_frames + t->wal_step;
}

/* ---- start and stop ---- */

static void ckpt_free(struct tl_ckpt *c)
{
        sqlite3_close(c->db);
        pthread_cond_destroy(&c->done_cv);
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        free(c);
}

/* The checkpointer's connection to the writer's file: WAL already, and
 * read once so that SQLite has found the WAL. */
static sqlite3 *ckpt_connect(poe__tracelog *t)
{
        const char *path = sqlite3_db_filename(t->db, "main");
        sqlite3 *db = NULL;

        if (!path || !*path ||
            sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                            poe__tl_vfs()) != SQLITE_OK ||
            sqlite3_exec(db, "PRAGMA synchronous = NORMAL; SELECT count(*) FROM sqlite_master",
                         NULL, NULL, NULL) != SQLITE_OK) {
                sqlite3_close(db);
                return NULL;
        }
        return db;
}

void poe__tl_ckpt_start(poe__tracelog *t)
{
        struct tl_ckpt *c;
        pthread_condattr_t ca;
        sigset_t all, old;
        int rc;

        t->wal_frames = 0;
        t->ckpt_next_at = t->wal_step;
        sqlite3_wal_hook(t->db, wal_hook, t);
        if (t->ckpt || !(c = calloc(1, sizeof(*c))))
                return;
        if (pthread_mutex_init(&c->mu, NULL) != 0) {
                free(c);
                return;
        }
        if (pthread_condattr_init(&ca) != 0) {
                pthread_mutex_destroy(&c->mu);
                free(c);
                return;
        }
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        rc = pthread_cond_init(&c->cv, &ca);
        if (rc == 0 && (rc = pthread_cond_init(&c->done_cv, &ca)) != 0)
                pthread_cond_destroy(&c->cv);
        pthread_condattr_destroy(&ca);
        if (rc != 0) {
                pthread_mutex_destroy(&c->mu);
                free(c);
                return;
        }
        if (!(c->db = ckpt_connect(t))) {
                ckpt_free(c);
                return;
        }
        t->ckpt = c;
        /* No signals, as the writer: they are the kernel thread's. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        rc = pthread_create(&c->thread, NULL, ckpt_main, t);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0) {
                t->ckpt = NULL;
                ckpt_free(c);
        }
}

void poe__tl_ckpt_stop(poe__tracelog *t)
{
        struct tl_ckpt *c = t->ckpt;

        if (!c)
                return;
        pthread_mutex_lock(&c->mu);
        c->stop = true;
        /* A checkpoint under way stops at its next page. */
        sqlite3_interrupt(c->db);
        pthread_cond_signal(&c->cv);
        pthread_cond_broadcast(&c->done_cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->thread, NULL);
        t->ckpt = NULL;
        ckpt_free(c);
}
