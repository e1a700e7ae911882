/*
 * The in-process inspector tests' shared parts (inspector-harness.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "inspector-harness.h"

char ih_db[160];
static char dir[100];

double ih_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int ih_slowness(void)
{
        const char *s = getenv("POE_TEST_SLOW");
        int n = s ? atoi(s) : 1;

        return n > tl_time_scale() ? n : tl_time_scale();
}

void ih_pause_1ms(void)
{
        struct timespec ts = { 0, 1000000 };

        nanosleep(&ts, NULL);
}

/* ---- the readers' VFS ---- */

typedef struct slow_file {
        sqlite3_file base;
        sqlite3_file *real; /* follows this struct */
        bool slow;
} slow_file;

static sqlite3_vfs slow_vfs, *real_vfs;
_Atomic bool ih_slowing, ih_gate_closed, ih_locked;
_Atomic int ih_slow_reads, ih_gate_waiters, ih_lock_refusals;

#define REAL(f) (((slow_file *)(f))->real)

static int sf_close(sqlite3_file *f)
{
        int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : SQLITE_OK;

        f->pMethods = NULL;
        return rc;
}

static int sf_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
        struct timespec ts = { 0, IH_SLOW_READ_MS * 1000000L };

        if (((slow_file *)f)->slow && atomic_load(&ih_gate_closed)) {
                /* Blocked: what the gate stands for is a read that does
                 * not come back until the test says. */
                atomic_fetch_add(&ih_gate_waiters, 1);
                while (atomic_load(&ih_gate_closed))
                        ih_pause_1ms();
                atomic_fetch_sub(&ih_gate_waiters, 1);
        }
        if (((slow_file *)f)->slow && atomic_load(&ih_slowing)) {
                atomic_fetch_add(&ih_slow_reads, 1);
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
        if (((slow_file *)f)->slow && atomic_load(&ih_locked)) {
                atomic_fetch_add(&ih_lock_refusals, 1);
                return SQLITE_BUSY;
        }
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

void ih_vfs_install(void)
{
        if (real_vfs)
                return;
        real_vfs = sqlite3_vfs_find(NULL);
        slow_vfs = *real_vfs;
        slow_vfs.zName = "poe-test-readers";
        slow_vfs.szOsFile = (int)sizeof(slow_file) + real_vfs->szOsFile;
        slow_vfs.xOpen = sv_open;
        assert_int_equal(sqlite3_vfs_register(&slow_vfs, 1), SQLITE_OK);
}

void ih_vfs_reset(void)
{
        atomic_store(&ih_slowing, false);
        atomic_store(&ih_gate_closed, false);
        atomic_store(&ih_locked, false);
}

/* ---- clients ---- */

/* A connection to the inspector from source address 127.0.0.src. */
int ih_connect_from(int port, int src)
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

void ih_send_str(int fd, const char *s)
{
        assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

int ih_request(int port, int src, const char *path)
{
        char buf[512];
        int fd = ih_connect_from(port, src);

        snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                 path);
        ih_send_str(fd, buf);
        return fd;
}

bool ih_ended(int fd, double seconds)
{
        double end = ih_now() + seconds * ih_slowness();
        char buf[4096];

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int ms = (int)((end - ih_now()) * 1000);
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

void ih_all_end(int *fds, int n)
{
        int i;

        for (i = 0; i < n; i++) {
                if (!ih_ended(fds[i], 5))
                        fail_msg("connection %d of %d still open after the stop", i, n);
                close(fds[i]);
        }
}

/* ---- the inspector ---- */

int ih_dir_make(const char *name)
{
        snprintf(dir, sizeof(dir), "/tmp/poe-%s-XXXXXX", name);
        if (!mkdtemp(dir))
                return -1;
        snprintf(ih_db, sizeof(ih_db), "%s/trace.db", dir);
        return 0;
}

void ih_dir_remove(void)
{
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "cannot remove %s\n", dir);
}

poe_inspector *ih_start(int answer_ms)
{
        poe_inspector_options o;
        poe_inspector *in = NULL;

        memset(&o, 0, sizeof(o));
        o.address = "127.0.0.1:0";
        o.trace_db = ih_db;
        o.answer_timeout_ms = answer_ms;
        TL_EQ(poe_inspector_start(tl.k, &o, &in), 0);
        return in;
}

poe__http_counts ih_counts(poe_inspector *in)
{
        poe__http_counts n;

        poe__http_counts_get(in, &n);
        return n;
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

void ih_make_log(void)
{
        poe_inspector *in = ih_start(1000);

        TL_CREATE(tl.k, { "_start", ping_start }, { "ping", ping });
        tl_run_to_end(tl.k, 100000);
        assert_null(poe_inspector_stop(in));
}

