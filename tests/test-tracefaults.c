/*
 * The trace log against the faults it meets in the field, one cycle per
 * fault: the fault is made real (a path whose parent is a regular file,
 * a file of text where the log should be, someone else's database, a
 * disk that reports itself full, a write lock held by another process),
 * the kernel goes on dispatching through it, the log's status names it
 * and counts what it drops per group, then the fault is cleared and new
 * records reach the file.  At the end, for every group, the records the
 * kernel produced (counted by a second sink) equal the rows in the file
 * plus the drops the log counted -- exactly.
 *
 * The full disk is a SQLite VFS registered here that wraps the default
 * one and answers SQLITE_FULL to every write while a flag is set: it
 * works wherever the tests run (no mount needed, root or not).  The lock
 * is held by this program run again as a child (--hold-lock PATH), which
 * takes BEGIN EXCLUSIVE and keeps it until its stdin closes.
 *
 * Every fault here fails for root too (chmod would not).  Waits poll the
 * status against a deadline while the kernel runs; nothing sleeps for a
 * fixed time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tracelog-fixture.h"

/* Dispatches the kernel must make while the fault lasts. */
#define DISPATCHES_DURING_FAULT 200

/* ---- a VFS whose writes fail while `full` is set ---- */

static sqlite3_vfs full_vfs, *base_vfs;
static volatile int full; /* read by the writer thread, set by the test */

typedef struct full_file {
        sqlite3_file base;
        sqlite3_file *real; /* the default VFS's file, right after this one */
} full_file;

#define REAL(f) (((full_file *)(f))->real)

static int ff_close(sqlite3_file *f)
{
        return REAL(f)->pMethods->xClose(REAL(f));
}

static int ff_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
        return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}

/* What a full disk does to the default VFS: ENOSPC becomes SQLITE_FULL. */
static int ff_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
        if (__atomic_load_n(&full, __ATOMIC_SEQ_CST))
                return SQLITE_FULL;
        return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
}

static int ff_truncate(sqlite3_file *f, sqlite3_int64 size)
{
        return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int ff_sync(sqlite3_file *f, int flags)
{
        return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int ff_size(sqlite3_file *f, sqlite3_int64 *size)
{
        return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int ff_lock(sqlite3_file *f, int l)
{
        return REAL(f)->pMethods->xLock(REAL(f), l);
}

static int ff_unlock(sqlite3_file *f, int l)
{
        return REAL(f)->pMethods->xUnlock(REAL(f), l);
}

static int ff_reserved(sqlite3_file *f, int *out)
{
        return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int ff_control(sqlite3_file *f, int op, void *arg)
{
        return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int ff_sector(sqlite3_file *f)
{
        return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int ff_chars(sqlite3_file *f)
{
        return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int ff_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **p)
{
        return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, p);
}

static int ff_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
        return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void ff_shm_barrier(sqlite3_file *f)
{
        REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int ff_shm_unmap(sqlite3_file *f, int del)
{
        return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int ff_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **p)
{
        return REAL(f)->pMethods->xFetch(REAL(f), off, n, p);
}

static int ff_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
        return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods ff_methods = {
        3,           ff_close,       ff_read,      ff_write,   ff_truncate, ff_sync,  ff_size,
        ff_lock,     ff_unlock,      ff_reserved,  ff_control, ff_sector,   ff_chars, ff_shm_map,
        ff_shm_lock, ff_shm_barrier, ff_shm_unmap, ff_fetch,   ff_unfetch,
};

static int ff_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
        full_file *ff = (full_file *)f;
        int rc;

        (void)vfs;
        ff->real = (sqlite3_file *)(ff + 1);
        rc = base_vfs->xOpen(base_vfs, name, ff->real, flags, out);
        /* SQLite closes a file whose methods are set, even after a failed
         * open: ours are set exactly when the real ones are. */
        ff->base.pMethods = ff->real->pMethods ? &ff_methods : NULL;
        return rc;
}

/* Registers the VFS (not as the default) once per process. */
static void full_vfs_register(void)
{
        if (base_vfs)
                return;
        base_vfs = sqlite3_vfs_find(NULL);
        assert_non_null(base_vfs);
        assert_true(base_vfs->iVersion >= 3);
        full_vfs = *base_vfs;
        full_vfs.zName = "poe-test-full";
        full_vfs.szOsFile = (int)sizeof(full_file) + base_vfs->szOsFile;
        full_vfs.xOpen = ff_open;
        full_vfs.pNext = NULL;
        assert_int_equal(sqlite3_vfs_register(&full_vfs, 0), SQLITE_OK);
}

/* ---- another process holding the write lock ---- */

/* The child's side (this program, run with --hold-lock PATH): takes the
 * write lock, says "L" on stdout, and holds it until stdin closes. */
static int hold_lock(const char *path)
{
        sqlite3 *db = NULL;
        char c;

        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
                goto fail;
        sqlite3_busy_timeout(db, 10000);
        if (sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK)
                goto fail;
        if (write(1, "L", 1) != 1)
                goto fail;
        while (read(0, &c, 1) > 0)
                ;
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(db);
        return 0;
fail:
        fprintf(stderr, "hold-lock %s: %s\n", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return 1;
}

static struct {
        pid_t pid;
        int to, from; /* its stdin, its stdout */
} locker = {-1, -1, -1};

static void locker_start(const char *path)
{
        int in[2], out[2];
        char self[4096], c = 0;
        ssize_t n;
        struct pollfd pfd;

        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        assert_true(n > 0);
        self[n] = '\0';
        TL_EQ(pipe(in), 0);
        TL_EQ(pipe(out), 0);
        locker.pid = fork();
        assert_true(locker.pid >= 0);
        if (locker.pid == 0) {
                /* exec at once: this process has a writer thread whose
                 * locks a forked copy must never touch. */
                dup2(in[0], 0);
                dup2(out[1], 1);
                close(in[1]);
                close(out[0]);
                execl(self, self, "--hold-lock", path, (char *)NULL);
                _exit(127);
        }
        close(in[0]);
        close(out[1]);
        locker.to = in[1];
        locker.from = out[0];
        pfd.fd = locker.from;
        pfd.events = POLLIN;
        TL_EQ(poll(&pfd, 1, TF_DEADLINE_MS), 1);
        TL_EQ(read(locker.from, &c, 1), 1);
        TL_EQ(c, 'L');
}

/* Lets the child roll back and exit; it must exit cleanly. */
static void locker_release(void)
{
        int st = 0;

        if (locker.pid <= 0)
                return;
        close(locker.to);
        TL_EQ(waitpid(locker.pid, &st, 0), locker.pid);
        close(locker.from);
        locker.pid = -1;
        assert_true(WIFEXITED(st));
        TL_EQ(WEXITSTATUS(st), 0);
}

/* ---- the fixture ---- */

static struct {
        char blocker[128];
        uint64_t produced[32]; /* per group bit, by the counting sink */
} fx;

static int count_sink(void *ctx, const poe_trace_record *r)
{
        (void)ctx;
        if (r->kind < POE_TK_KINDS) /* not a definition */
                fx.produced[__builtin_ctz(r->group)]++;
        return 0;
}

static uint64_t produced_total(void)
{
        uint64_t n = 0;
        int g;

        for (g = 0; g < 32; g++)
                n += fx.produced[g];
        return n;
}

static int setup(void **state)
{
        memset(&fx, 0, sizeof(fx));
        return tf_setup(state, "tracefaults");
}

static int teardown(void **state)
{
        tf_release();
        if (locker.pid > 0) {
                kill(locker.pid, SIGKILL);
                waitpid(locker.pid, NULL, 0);
                close(locker.to);
                close(locker.from);
                locker.pid = -1;
        }
        __atomic_store_n(&full, 0, __ATOMIC_SEQ_CST);
        poe__tracelog_set_vfs(NULL);
        return tf_teardown(state);
}

#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* Opens the log the way the inspector does (retrying) and attaches it
 * and the counting sink to the kernel. */
static void attach(size_t ring, char *err, size_t errlen)
{
        TL_EQ(poe__tracelog_open_retrying(tf.path, ring, tl.k, &tf.t, err, errlen), 0);
        tf_attach(count_sink);
}

/* ---- the kernel ---- */

static uint64_t dispatched(void)
{
        poe_kernel_info ki;

        TL_EQ(poe_peek_kernel(tl.k, &ki), 0);
        return ki.events_dispatched;
}

/* ---- the workload: a session that yields to itself and posts to
 * another, forever until told to stop ---- */

static struct {
        bool stop;
        poe_sid b;
} wl;

static poe_value h_note(poe_ctx *c)
{
        if (wl.stop)
                poe_kernel_alias_remove(poe_ctx_kernel(c), "listener");
        return poe_nil();
}

static poe_value h_tick(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_post(k, wl.b, "note", NULL, 0), 0);
        if (!wl.stop)
                TL_EQ(poe_kernel_yield(k, "tick", NULL, 0), 0);
        return poe_nil();
}

static void workload_start(void)
{
        memset(&wl, 0, sizeof(wl));
        wl.b = TL_CREATE(tl.k, {"_start", tf_h_listener_start}, {"note", h_note});
        TL_CREATE(tl.k, {"_start", tf_h_ticker_start}, {"tick", h_tick});
}

static bool s_error_says(json_t *s, const void *arg)
{
        json_t *e = json_object_get(s, "error");

        return json_is_string(e) && strstr(json_string_value(e), arg);
}

static bool s_dropped_events(json_t *s, const void *arg)
{
        (void)arg;
        return tf_dropped(s, "TRACE_EVENTS") > 0;
}

/* ---- one fault, start to end ---- */

typedef struct fault {
        const char *name;
        bool at_open; /* present before the log opens, or made later */
        void (*make)(void);
        const char *says; /* what the status's error must contain */
        void (*clear)(void);
} fault;

static void cycle(const fault *f)
{
        char err[512], sql[160];
        int64_t written_at_fault, run, pending, in_file;
        uint64_t before;
        double cleared_at;
        struct timespec wall;
        json_t *s;
        sqlite3 *db;
        int g;

        if (f->at_open)
                f->make();
        attach(4096, err, sizeof(err));
        print_message("  (%s: open says: %s)\n", f->name, err[0] ? err : "opened");
        if (f->at_open)
                assert_non_null(strstr(err, f->says));
        else
                TL_EQ(err[0], '\0');
        workload_start();
        if (!f->at_open) {
                int64_t zero = 0;

                tf_run_until(tf_s_healthy_past, &zero, "records before the fault");
                f->make();
        }

        /* The fault: the status names it, records are dropped and
         * counted, and the kernel does not notice. */
        before = dispatched();
        tf_run_until(s_error_says, f->says, f->says);
        tf_run_until(s_dropped_events, NULL, "TRACE_EVENTS drops");
        while (dispatched() < before + DISPATCHES_DURING_FAULT)
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        s = tf_status();
        print_message("  (%s: %s; %lld dropped)\n", f->name,
                      json_string_value(json_object_get(s, "error")),
                      (long long)tf_st_int(s, "dropped_total"));
        assert_true(json_is_string(json_object_get(s, "error")));
        written_at_fault = tf_st_int(s, "records_written");
        json_decref(s);

        /* Cleared: the log finds out by itself and writes again. */
        f->clear();
        clock_gettime(CLOCK_REALTIME, &wall);
        cleared_at = (double)wall.tv_sec + wall.tv_nsec / 1e9;
        tf_run_until(tf_s_healthy_past, &written_at_fault, "the log to write again");

        /* The end: every record the kernel produced is in the file or
         * counted as dropped, group by group. */
        wl.stop = true;
        tl_run_to_end(tl.k, 100000);
        tf_detach();
        for (int64_t deadline = tf_now_ms() + TF_DEADLINE_MS;;) {
                s = tf_status();
                pending = tf_st_int(s, "records_pending");
                if (!pending)
                        break;
                json_decref(s);
                if (tf_now_ms() > deadline)
                        fail_msg("the ring did not drain");
                tf_poll_pause();
        }
        run = tf_st_int(s, "run_id");
        assert_true(run > 0);
        assert_true(json_is_null(json_object_get(s, "error")));
        TL_EQ(tf_st_int(s, "records_produced"), produced_total());
        TL_EQ(tf_st_int(s, "records_written") + tf_st_int(s, "dropped_total"), produced_total());
        tf_log_close();

        db = tf_db_open_ro(tf.path);
        in_file = tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run);
        TL_EQ(in_file, tf_st_int(s, "records_written"));
        TL_EQ(tf_sql_int(db, "SELECT coalesce(sum(count), 0) FROM drops WHERE run_id = ?", run),
              tf_st_int(s, "dropped_total"));
        for (g = 0; g < 32; g++) {
                const char *name = poe_debug_group_name(1u << g);

                if (!fx.produced[g])
                        continue;
                snprintf(sql, sizeof(sql),
                         "SELECT count(*) FROM records WHERE run_id = ? AND grp = %u", 1u << g);
                TL_EQ(tf_sql_int(db, sql, run) + tf_dropped(s, name), fx.produced[g]);
        }
        /* Every record written names only what the file defines: the
         * definitions the writer could not write (while the file was
         * missing or failing) were sent again, and records that might
         * have used the lost ones were dropped and counted. */
        TL_EQ(tf_sql_int(db,
                         "SELECT count(*) FROM records r WHERE r.run_id = ?1 AND ("
                         "(r.event IS NOT NULL AND NOT EXISTS (SELECT 1 FROM names n WHERE "
                         "n.run_id = r.run_id AND n.id = r.event)) OR "
                         "(r.session_name > 1 AND NOT EXISTS (SELECT 1 FROM loggables l WHERE "
                         "l.run_id = r.run_id AND l.serial = r.session_name)) OR "
                         "(r.peer_name > 1 AND NOT EXISTS (SELECT 1 FROM loggables l WHERE "
                         "l.run_id = r.run_id AND l.serial = r.peer_name)))",
                         run),
              0);
        assert_true(tf_sql_int(db, "SELECT count(*) FROM names WHERE run_id = ?", run) > 0);
        /* Records from after the fault cleared are in the file. */
        {
                sqlite3_stmt *st;

                assert_int_equal(sqlite3_prepare_v2(db,
                                                    "SELECT count(*) FROM records WHERE "
                                                    "run_id = ? AND wall >= ?",
                                                    -1, &st, NULL),
                                 SQLITE_OK);
                sqlite3_bind_int64(st, 1, run);
                sqlite3_bind_double(st, 2, cleared_at);
                assert_int_equal(sqlite3_step(st), SQLITE_ROW);
                assert_true(sqlite3_column_int64(st, 0) > 0);
                sqlite3_finalize(st);
        }
        sqlite3_close(db);
        print_message("  (%s: %llu produced, %lld written, %lld dropped)\n", f->name,
                      (unsigned long long)produced_total(), (long long)in_file,
                      (long long)tf_st_int(s, "dropped_total"));
        json_decref(s);
}

/* ---- the faults ---- */

/* A regular file where the log's directory should be: ENOTDIR, for root
 * as for anyone.  Cleared by a directory in its place. */
static void block_path(void)
{
        int fd;

        snprintf(fx.blocker, sizeof(fx.blocker), "%s/logs", tf.dir);
        snprintf(tf.path, sizeof(tf.path), "%s/trace.db", fx.blocker);
        fd = open(fx.blocker, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        close(fd);
}

static void unblock_path(void)
{
        TL_EQ(unlink(fx.blocker), 0);
        TL_EQ(mkdir(fx.blocker, 0700), 0);
}

static void t_unwritable_path(void **state)
{
        static const fault f = {"unwritable path", true, block_path, "Not a directory",
                                unblock_path};

        (void)state;
        cycle(&f);
}

/* Text where the log should be; cleared when it is moved away. */
static void text_file(void)
{
        FILE *fp = fopen(tf.path, "w");
        int i;

        assert_non_null(fp);
        for (i = 0; i < 100; i++)
                fputs("this is a text file, not a database\n", fp);
        TL_EQ(fclose(fp), 0);
}

static void move_away(void)
{
        char to[200];

        snprintf(to, sizeof(to), "%s.moved", tf.path);
        TL_EQ(rename(tf.path, to), 0);
}

static void t_not_a_database(void **state)
{
        static const fault f = {"not a database", true, text_file, "not a SQLite database",
                                move_away};

        (void)state;
        cycle(&f);
}

/* Someone else's database is refused, and left alone, until it is gone. */
static void other_database(void)
{
        sqlite3 *db;

        assert_int_equal(sqlite3_open(tf.path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "CREATE TABLE customers(id, name);", NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);
}

static void t_other_database(void **state)
{
        static const fault f = {"someone else's database", true, other_database,
                                "not a libpoe trace log", move_away};

        (void)state;
        cycle(&f);
}

static void disk_full(void)
{
        __atomic_store_n(&full, 1, __ATOMIC_SEQ_CST);
}

static void disk_freed(void)
{
        __atomic_store_n(&full, 0, __ATOMIC_SEQ_CST);
}

/* The disk fills up under a running log: SQLITE_FULL from the VFS. */
static void t_disk_full(void **state)
{
        static const fault f = {"disk full", false, disk_full, "full", disk_freed};

        (void)state;
        full_vfs_register();
        poe__tracelog_set_vfs("poe-test-full");
        cycle(&f);
}

/* And a disk already full when the log is created. */
static void t_disk_full_at_open(void **state)
{
        static const fault f = {"disk full at open", true, disk_full, "full", disk_freed};

        (void)state;
        full_vfs_register();
        poe__tracelog_set_vfs("poe-test-full");
        cycle(&f);
}

static void lock_elsewhere(void)
{
        locker_start(tf.path);
}

/* Another process takes the write lock of a running log and keeps it. */
static void t_locked_by_process(void **state)
{
        static const fault f = {"locked by another process", false, lock_elsewhere, "locked",
                                locker_release};

        (void)state;
        cycle(&f);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                FX_TEST(t_unwritable_path),   FX_TEST(t_not_a_database),
                FX_TEST(t_other_database),    FX_TEST(t_disk_full),
                FX_TEST(t_disk_full_at_open), FX_TEST(t_locked_by_process),
        };

        if (argc == 3 && strcmp(argv[1], "--hold-lock") == 0)
                return hold_lock(argv[2]);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
