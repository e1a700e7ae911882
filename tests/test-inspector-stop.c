/*
 * poe_inspector_stop returns within a second in every state the server
 * can be in (inspector/http.c, http-work.c):
 *
 *  - idle;
 *  - holding 200 idle connections and 64 that send their headers a line
 *    at a time (from addresses across 127.0.0.0/8, under the limit per
 *    address);
 *  - with 8 long polls waiting for records that do not come;
 *  - with a request waiting for the kernel's thread while the kernel is
 *    stuck in a handler (stop is called from that handler);
 *  - while a trace query runs on the pool, and while an export does: the
 *    log's readers go through a SQLite VFS that makes each page read of
 *    a read-only database slow, so the read is surely still running when
 *    stop is called (it would run for seconds), and stop must interrupt
 *    it rather than wait for it.
 *
 * Each state is reached for sure before stop is called (the inspector's
 * own counts say so: connections, long polls, requests waiting, pool
 * workers busy, reads made), and the time poe_inspector_stop takes is
 * measured on CLOCK_MONOTONIC and must be under STOP_BOUND seconds, times
 * the run's slowness (valgrind, POE_TEST_SLOW): a bound on a deadline,
 * not a speed.  Every client then sees its connection end.  Waits poll a
 * condition against a deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "testlib.h"

#include "http.h"

#define STOP_BOUND 1.0
#define IDLE_CONNS 200
#define SLOW_CONNS 64
/* What each page read of a read-only database costs under the slow VFS. */
#define SLOW_READ_MS 20

static char dir[] = "/tmp/poe-inspector-stop-XXXXXX";
static char db[128];

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* valgrind's 10, or the sanitize setup's POE_TEST_SLOW, or 1. */
static int slowness(void)
{
        const char *s = getenv("POE_TEST_SLOW");
        int n = s ? atoi(s) : 1;

        return n > tl_time_scale() ? n : tl_time_scale();
}

/* A millisecond between two looks at a condition another thread makes. */
static void pause_1ms(void)
{
        struct timespec ts = { 0, 1000000 };

        nanosleep(&ts, NULL);
}

#define WAIT_FOR(cond, seconds)                                                             \
        do {                                                                                \
                double wf__end = now() + (seconds) * slowness();                            \
                while (!(cond)) {                                                           \
                        if (now() > wf__end)                                                \
                                fail_msg("%s:%d: %s not reached within %d s", __FILE__,    \
                                         __LINE__, #cond, (int)((seconds) * slowness())); \
                        pause_1ms();                                                        \
                }                                                                           \
        } while (0)

/* ---- a VFS whose page reads of read-only databases are slow ---- */

typedef struct slow_file {
        sqlite3_file base;
        sqlite3_file *real; /* follows this struct */
        bool slow;
} slow_file;

static sqlite3_vfs slow_vfs, *real_vfs;
static _Atomic bool slowing;
static _Atomic int slow_reads;

#define REAL(f) (((slow_file *)(f))->real)

static int sf_close(sqlite3_file *f)
{
        int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : SQLITE_OK;

        f->pMethods = NULL;
        return rc;
}

static int sf_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
        struct timespec ts = { 0, SLOW_READ_MS * 1000000L };

        if (((slow_file *)f)->slow && atomic_load(&slowing)) {
                atomic_fetch_add(&slow_reads, 1);
                nanosleep(&ts, NULL);
        }
        return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}

static int sf_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
        return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
}

static int sf_truncate(sqlite3_file *f, sqlite3_int64 size)
{
        return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int sf_sync(sqlite3_file *f, int flags)
{
        return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int sf_size(sqlite3_file *f, sqlite3_int64 *size)
{
        return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int sf_lock(sqlite3_file *f, int lock)
{
        return REAL(f)->pMethods->xLock(REAL(f), lock);
}

static int sf_unlock(sqlite3_file *f, int lock)
{
        return REAL(f)->pMethods->xUnlock(REAL(f), lock);
}

static int sf_reserved(sqlite3_file *f, int *out)
{
        return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int sf_control(sqlite3_file *f, int op, void *arg)
{
        return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int sf_sector(sqlite3_file *f)
{
        return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int sf_device(sqlite3_file *f)
{
        return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int sf_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **pp)
{
        return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, pp);
}

static int sf_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
        return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void sf_shm_barrier(sqlite3_file *f)
{
        REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int sf_shm_unmap(sqlite3_file *f, int del)
{
        return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int sf_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
        /* No memory-mapped reads: every page goes through sf_read. */
        (void)f;
        (void)off;
        (void)n;
        *pp = NULL;
        return SQLITE_OK;
}

static int sf_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
        (void)f;
        (void)off;
        (void)p;
        return SQLITE_OK;
}

static const sqlite3_io_methods slow_methods = {
        3,           sf_close,    sf_read,      sf_write,       sf_truncate,  sf_sync,
        sf_size,     sf_lock,     sf_unlock,    sf_reserved,    sf_control,   sf_sector,
        sf_device,   sf_shm_map,  sf_shm_lock,  sf_shm_barrier, sf_shm_unmap, sf_fetch,
        sf_unfetch,
};

static int sv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
        slow_file *sf = (slow_file *)f;
        int rc;

        (void)vfs;
        sf->real = (sqlite3_file *)(sf + 1);
        rc = real_vfs->xOpen(real_vfs, name, sf->real, flags, out);
        /* Only the readers' database: the writer and the WALs go on. */
        sf->slow = (flags & SQLITE_OPEN_MAIN_DB) && (flags & SQLITE_OPEN_READONLY);
        f->pMethods = rc == SQLITE_OK ? &slow_methods : NULL;
        return rc;
}

/* Makes the slow VFS the default one, for every connection opened from
 * now on (the log's readers open one per query). */
static void slow_vfs_install(void)
{
        if (real_vfs)
                return;
        real_vfs = sqlite3_vfs_find(NULL);
        slow_vfs = *real_vfs;
        slow_vfs.zName = "poe-test-slow";
        slow_vfs.szOsFile = (int)sizeof(slow_file) + real_vfs->szOsFile;
        slow_vfs.xOpen = sv_open;
        assert_int_equal(sqlite3_vfs_register(&slow_vfs, 1), SQLITE_OK);
}

/* ---- clients ---- */

/* A connection to the inspector from source address 127.0.0.src. */
static int connect_from(int port, int src)
{
        struct sockaddr_in a = { .sin_family = AF_INET }, from = { .sin_family = AF_INET };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        from.sin_addr.s_addr = htonl(0x7f000000u | (unsigned)src);
        if (bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0)
                fail_msg("bind 127.0.0.%d: %s", src, strerror(errno));
        a.sin_port = htons((uint16_t)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
                fail_msg("connect: %s", strerror(errno));
        return fd;
}

static void send_str(int fd, const char *s)
{
        assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

static int request(int port, int src, const char *path)
{
        char buf[512];
        int fd = connect_from(port, src);

        snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                 path);
        send_str(fd, buf);
        return fd;
}

/* Whether the server has ended the connection (its answer, if any, read
 * and dropped), waiting up to seconds. */
static bool ended(int fd, double seconds)
{
        double end = now() + seconds * slowness();
        char buf[4096];

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int ms = (int)((end - now()) * 1000);
                ssize_t n;

                if (ms < 0)
                        return false;
                if (poll(&p, 1, ms) <= 0)
                        continue;
                n = recv(fd, buf, sizeof(buf), 0);
                if (n <= 0)
                        return true;
        }
}

static void all_end(int *fds, int n)
{
        int i;

        for (i = 0; i < n; i++) {
                if (!ended(fds[i], 5))
                        fail_msg("connection %d of %d still open after the stop", i, n);
                close(fds[i]);
        }
}

/* ---- the inspector ---- */

static poe_inspector *start(int answer_ms)
{
        poe_inspector_options o;
        poe_inspector *in = NULL;

        memset(&o, 0, sizeof(o));
        o.address = "127.0.0.1:0";
        o.trace_db = db;
        o.answer_timeout_ms = answer_ms;
        TL_EQ(poe_inspector_start(tl.k, &o, &in), 0);
        return in;
}

static poe__http_counts counts(poe_inspector *in)
{
        poe__http_counts n;

        poe__http_counts_get(in, &n);
        return n;
}

/* Stops in and checks the bound; returns the time it took. */
static double stop_timed(poe_inspector *in, const char *state)
{
        double t0 = now(), took;

        assert_null(poe_inspector_stop(in));
        took = now() - t0;
        fprintf(stderr, "stop %s: %.3f s\n", state, took);
        if (took >= STOP_BOUND * slowness())
                fail_msg("poe_inspector_stop took %.3f s %s (bound %.1f s)", took, state,
                         STOP_BOUND * slowness());
        return took;
}

static int setup(void **state)
{
        snprintf(db, sizeof(db), "%s/trace.db", dir);
        unlink(db);
        atomic_store(&slowing, false);
        return tl_setup(state);
}

/* ---- the states ---- */

static void t_idle(void **state)
{
        (void)state;
        stop_timed(start(1000), "idle");
}

static void t_connections(void **state)
{
        poe_inspector *in = start(1000);
        int port = poe_inspector_port(in), fds[IDLE_CONNS + SLOW_CONNS], i;

        (void)state;
        /* 25 per address: under the limit of 32 per address. */
        for (i = 0; i < IDLE_CONNS; i++)
                fds[i] = connect_from(port, 10 + i / 25);
        for (i = 0; i < SLOW_CONNS; i++) {
                fds[IDLE_CONNS + i] = connect_from(port, 30 + i / 25);
                send_str(fds[IDLE_CONNS + i], "GET /api/v1/kernel HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                              "X-Slow: 1\r\n");
        }
        WAIT_FOR(counts(in).connections == IDLE_CONNS + SLOW_CONNS, 10);
        stop_timed(in, "with 264 idle and slow connections");
        all_end(fds, IDLE_CONNS + SLOW_CONNS);
}

static void t_long_polls(void **state)
{
        poe_inspector *in = start(1000);
        int port = poe_inspector_port(in), fds[8], i;

        (void)state;
        for (i = 0; i < 8; i++)
                fds[i] = request(port, 1, "/api/v1/trace/tail?after=999999999&wait=30");
        WAIT_FOR(counts(in).long_polls == 8 && counts(in).pool_busy == 0, 10);
        stop_timed(in, "with 8 long polls waiting");
        all_end(fds, 8);
}

/* Stuck in a handler: a request for live state waits for this thread
 * (with a 30 s answer timeout, it still waits at the stop), and the
 * handler stops the inspector. */
static poe_inspector *stuck_in;
static int stuck_fd;

static poe_value stuck_handler(poe_ctx *c)
{
        (void)c;
        stuck_fd = request(poe_inspector_port(stuck_in), 1, "/api/v1/sessions");
        WAIT_FOR(counts(stuck_in).waiting_kernel == 1, 10);
        stop_timed(stuck_in, "with a request waiting for a stuck kernel");
        stuck_in = NULL;
        return poe_nil();
}

static void t_kernel_stuck(void **state)
{
        (void)state;
        stuck_in = start(30000);
        TL_CREATE(tl.k, { "_start", stuck_handler });
        tl_run_to_end(tl.k, 100);
        assert_null(stuck_in);
        all_end(&stuck_fd, 1);
}

/* A log of some thousands of records (a few hundred pages), written by
 * an inspector that then stops. */
static poe_value ping(poe_ctx *c)
{
        long n = (long)poe_value_int(poe_ctx_arg(c, 0));

        if (n > 0)
                poe_kernel_yield(poe_ctx_kernel(c), "ping", POE_ARGS(poe_int(n - 1)));
        return poe_nil();
}

static poe_value ping_start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "ping", POE_ARGS(poe_int(3000)));
        return poe_nil();
}

static void make_log(void)
{
        poe_inspector *in = start(1000);

        TL_CREATE(tl.k, { "_start", ping_start }, { "ping", ping });
        tl_run_to_end(tl.k, 100000);
        assert_null(poe_inspector_stop(in));
}

/* A read on the pool, made slow: started, then stopped while it runs. */
static void slow_read(const char *path, const char *state)
{
        poe_inspector *in;
        int fd;

        make_log();
        slow_vfs_install();
        in = start(1000);
        atomic_store(&slow_reads, 0);
        atomic_store(&slowing, true);
        fd = request(poe_inspector_port(in), 1, path);
        /* Some pages read, hundreds to go at 20 ms each: it runs. */
        WAIT_FOR(counts(in).pool_busy == 1 && atomic_load(&slow_reads) >= 5, 10);
        stop_timed(in, state);
        atomic_store(&slowing, false);
        all_end(&fd, 1);
}

static void t_query(void **state)
{
        (void)state;
        /* The run's records all read: no index serves since= */
        slow_read("/api/v1/trace?since=4000000000&run=1", "during a trace query");
}

static void t_export(void **state)
{
        (void)state;
        slow_read("/api/v1/export/jsonl?run=1", "during an export");
}

static int teardown(void **state)
{
        atomic_store(&slowing, false);
        return tl_teardown(state);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(t_idle, setup, teardown),
                cmocka_unit_test_setup_teardown(t_connections, setup, teardown),
                cmocka_unit_test_setup_teardown(t_long_polls, setup, teardown),
                cmocka_unit_test_setup_teardown(t_kernel_stuck, setup, teardown),
                cmocka_unit_test_setup_teardown(t_query, setup, teardown),
                cmocka_unit_test_setup_teardown(t_export, setup, teardown),
        };
        char cmd[128];
        int r;

        if (!mkdtemp(dir))
                return 2;
        r = cmocka_run_group_tests(tests, NULL, NULL);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "cannot remove %s\n", dir);
        return r;
}
