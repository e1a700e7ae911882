/*
 * Exports over HTTP, in process (inspector/http-export.c):
 *
 *  - an export's blocks are made on the pool, not on libmicrohttpd's
 *    polling thread: with the export's reads held behind a gate (the
 *    readers' VFS, inspector-harness.c) while its body is mid-stream,
 *    /api/v1/kernel, /metrics and the page are still answered; with the
 *    blocks made on the polling thread none of them would be, as that
 *    thread would be the one waiting at the gate.  Then the gate opens
 *    and the body ends whole (its final chunk, every record);
 *  - an export past its deadline (shortened by the trace log's test
 *    hook, poe__tracelog_set_export_deadline) ends: its body is cut (no
 *    final chunk, so the client can tell), /metrics counts it as
 *    {how="deadline"}, its slot is given back, and the next export is
 *    whole again.
 *
 * The kernel runs on the test's thread (live state and /metrics are made
 * there) while a client thread makes the requests; a failure in the
 * client is reported by the test's thread.  Every wait polls a condition
 * against a deadline; the one wait on time is for the export's deadline
 * to have passed, which is what is tested.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sqlite3.h>

#include "inspector-harness.h"

/* The export deadline the test sets, in ms (times the run's slowness):
 * long enough for the export to open and send its head. */
#define DEADLINE_MS 500

/* ---- a client thread while the kernel runs ---- */

typedef struct client {
        void (*fn)(struct client *cl);
        poe_inspector *in;
        int port;
        _Atomic bool done;
        char failure[1024];
} client;

static client *current;

#define CL_CHECK(cl, cond, ...)                                                    \
        do {                                                                       \
                if (!(cond)) {                                                     \
                        int cl__n = snprintf((cl)->failure, sizeof((cl)->failure), \
                                             "%s:%d: %s: ", __FILE__, __LINE__,    \
                                             #cond);                               \
                        snprintf((cl)->failure + cl__n,                            \
                                 sizeof((cl)->failure) - (size_t)cl__n,            \
                                 __VA_ARGS__);                                     \
                        return;                                                    \
                }                                                                  \
        } while (0)

static void *client_main(void *arg)
{
        client *cl = arg;

        cl->fn(cl);
        atomic_store(&cl->done, true);
        return NULL;
}

/* Keeps the kernel running (and answering) until the client is done. */
static poe_value keep_tick(poe_ctx *c)
{
        if (!atomic_load(&current->done))
                poe_kernel_delay(poe_ctx_kernel(c), "tick", 0.01, POE_NOARGS);
        return poe_nil();
}

static void run_client(client *cl)
{
        pthread_t th;

        current = cl;
        TL_CREATE(tl.k, { "_start", keep_tick }, { "tick", keep_tick });
        assert_int_equal(pthread_create(&th, NULL, client_main, cl), 0);
        TL_RUN_UNTIL(tl.k, atomic_load(&cl->done), 100000000);
        pthread_join(th, NULL);
        /* A failed client may have left the gate closed. */
        ih_vfs_reset();
        tl_run_to_end(tl.k, 1000);
        if (cl->failure[0])
                fail_msg("%s", cl->failure);
}

/* ---- HTTP ---- */

typedef struct body {
        char *p;
        size_t len, cap;
} body;

static void body_add(body *b, const char *s, size_t n)
{
        if (b->len + n + 1 > b->cap) {
                b->cap = (b->len + n + 1) * 2;
                b->p = realloc(b->p, b->cap);
                assert_non_null(b->p);
        }
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
}

/* Reads what fd has within ms into b: 1 for bytes, 0 at its end, -1 for
 * none within ms. */
static int read_some(int fd, body *b, int ms)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };
        char buf[16384];
        ssize_t n;

        if (poll(&p, 1, ms) <= 0)
                return -1;
        n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0)
                return 0;
        body_add(b, buf, (size_t)n);
        return 1;
}

/* Reads until the server ends the connection, at most seconds (scaled);
 * whether it ended. */
static bool read_to_end(int fd, body *b, double seconds)
{
        double end = ih_now() + seconds * ih_slowness();

        while (ih_now() < end)
                if (read_some(fd, b, 10) == 0)
                        return true;
        return false;
}

/* GET path (Connection: close): the status, the whole answer in b. */
static int get(client *cl, const char *path, body *b)
{
        int fd = ih_request(cl->port, 1, path), status = 0;

        b->len = 0;
        if (read_to_end(fd, b, 10) && b->len)
                sscanf(b->p, "HTTP/1.1 %d", &status);
        close(fd);
        /* Every scrape a test makes passes Prometheus' own linter; a
         * failure fails the test when the client is done. */
        if (status == 200 && strcmp(path, "/metrics") == 0) {
                const char *text = strstr(b->p, "\r\n\r\n");
                char why[512];

                if (!text)
                        snprintf(why, sizeof(why), "no body");
                if ((!text || !tl_promtool_check(text + 4, why, sizeof(why))) && !cl->failure[0])
                        snprintf(cl->failure, sizeof(cl->failure),
                                 "%s:%d: promtool check metrics: %s", __FILE__, __LINE__, why);
        }
        return status;
}

/* A chunked body from its first byte: the lines its data holds, and
 * whether it ended with its final (zero) chunk.  False when the framing
 * is broken. */
static bool dechunk(const char *p, size_t len, long *lines, bool *complete)
{
        size_t i = 0, size;
        char *end;

        *lines = 0;
        *complete = false;
        while (i < len) {
                size = strtoul(p + i, &end, 16);
                if (end == p + i || (size_t)(end - p) + 2 > len || end[0] != '\r')
                        return (size_t)(end - p) >= len; /* cut in a chunk's head */
                i = (size_t)(end - p) + 2;
                if (size == 0) {
                        *complete = i + 2 <= len && memcmp(p + i, "\r\n", 2) == 0;
                        return true;
                }
                for (; size && i < len; size--, i++)
                        *lines += p[i] == '\n';
                if (size)
                        return true; /* cut in a chunk's data */
                i += 2;
        }
        return true;
}

/* Starts an export of run 1 as JSON Lines from a client with a small
 * receive buffer; returns the socket with the head read into b (body
 * bytes after it included). */
static int export_start(client *cl, body *b, size_t *body_at)
{
        struct sockaddr_in a = { .sin_family = AF_INET };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), small = 4096;
        char *head_end = NULL;
        double end;

        /* Before connecting: the window is agreed then. */
        assert_true(fd >= 0);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
        a.sin_port = htons((uint16_t)cl->port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
                fail_msg("connect: %s", strerror(errno));
        ih_send_str(fd, "GET /api/v1/export/jsonl?run=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Connection: close\r\n\r\n");
        b->len = 0;
        end = ih_now() + 10 * ih_slowness();
        while (!(b->p && (head_end = strstr(b->p, "\r\n\r\n"))) && ih_now() < end)
                if (read_some(fd, b, 10) == 0)
                        break;
        *body_at = head_end ? (size_t)(head_end + 4 - b->p) : 0;
        return fd;
}

/* The records of run 1, read straight from the log. */
static long run1_records(void)
{
        sqlite3 *db;
        sqlite3_stmt *st;
        long n = -1;

        assert_int_equal(sqlite3_open_v2(ih_db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM records WHERE run_id = 1", -1, &st,
                               NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
                n = (long)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return n;
}

/* The value of a metric line ("name{labels} value") in b, or -1. */
static long metric(const body *b, const char *line_start)
{
        const char *s;
        char pat[128];

        snprintf(pat, sizeof(pat), "\n%s", line_start);
        s = b->p ? strstr(b->p, pat) : NULL;
        return s ? atol(s + strlen(pat)) : -1;
}

/* ---- the tests ---- */

static long records;

/* The export's reads wait at the gate while other requests come. */
static void mid_stream(client *cl)
{
        body b = { 0 }, other = { 0 };
        size_t at;
        long lines;
        bool complete, ended;
        int fd, st;

        fd = export_start(cl, &b, &at);
        CL_CHECK(cl, at && strncmp(b.p, "HTTP/1.1 200", 12) == 0 && strstr(b.p, "chunked"),
                 "%.300s", b.p ? b.p : "(nothing)");
        atomic_store(&ih_gate_closed, true);
        /* Read what comes until the next block's reads wait at the gate. */
        ended = false;
        for (double end = ih_now() + 10 * ih_slowness();
             atomic_load(&ih_gate_waiters) == 0 && ih_now() < end && !ended;)
                ended = read_some(fd, &b, 1) == 0;
        CL_CHECK(cl, atomic_load(&ih_gate_waiters) >= 1 && !ended,
                 "the export's reads never waited at the gate (ended: %d, %zu bytes)", ended,
                 b.len);

        /* Mid-stream: the export waits for its next block.  Others are
         * answered meanwhile. */
        st = get(cl, "/api/v1/kernel", &other);
        CL_CHECK(cl, st == 200, "/api/v1/kernel during the export: %d %.200s", st,
                 other.p ? other.p : "");
        st = get(cl, "/metrics", &other);
        CL_CHECK(cl, st == 200 && metric(&other, "poe_inspector_exports ") == 1,
                 "/metrics during the export: %d, exports %ld", st,
                 metric(&other, "poe_inspector_exports "));
        st = get(cl, "/", &other);
        CL_CHECK(cl, st == 200, "the page during the export: %d", st);
        CL_CHECK(cl, atomic_load(&ih_gate_waiters) >= 1,
                 "the export's reads left the gate while it was closed");

        atomic_store(&ih_gate_closed, false);
        CL_CHECK(cl, read_to_end(fd, &b, 30), "the export did not end (%zu bytes)", b.len);
        close(fd);
        CL_CHECK(cl, dechunk(b.p + at, b.len - at, &lines, &complete) && complete &&
                         lines == records,
                 "the body: complete %d, %ld lines of %ld records", complete, lines, records);
        st = get(cl, "/metrics", &other);
        CL_CHECK(cl, metric(&other, "poe_inspector_exports_ended_total{how=\"complete\"} ") == 1,
                 "%.2000s", other.p ? other.p : "");
        free(b.p);
        free(other.p);
}

static void t_mid_stream(void **state)
{
        client cl = { .fn = mid_stream };

        (void)state;
        ih_make_log();
        records = run1_records();
        assert_true(records > 1000);
        ih_vfs_install();
        cl.in = ih_start(10000);
        cl.port = poe_inspector_port(cl.in);
        run_client(&cl);
        assert_null(poe_inspector_stop(cl.in));
}

/* The export's reads wait at the gate until its deadline has passed. */
static void past_deadline(client *cl)
{
        body b = { 0 }, other = { 0 };
        double end, deadline;
        size_t at;
        long lines;
        bool complete, ended = false;
        int fd, st;

        fd = export_start(cl, &b, &at);
        /* The export opened before its head came. */
        deadline = ih_now() + DEADLINE_MS * ih_slowness() / 1000.0;
        CL_CHECK(cl, at && strncmp(b.p, "HTTP/1.1 200", 12) == 0, "%.300s",
                 b.p ? b.p : "(nothing)");
        atomic_store(&ih_gate_closed, true);
        for (end = ih_now() + 10 * ih_slowness();
             atomic_load(&ih_gate_waiters) == 0 && ih_now() < end && !ended;)
                ended = read_some(fd, &b, 1) == 0;
        CL_CHECK(cl, atomic_load(&ih_gate_waiters) >= 1 && !ended,
                 "the export's reads never waited at the gate (ended: %d, %zu bytes)", ended,
                 b.len);
        while (ih_now() <= deadline)
                ih_pause_1ms();
        atomic_store(&ih_gate_closed, false);

        CL_CHECK(cl, read_to_end(fd, &b, 30), "the export did not end (%zu bytes)", b.len);
        close(fd);
        CL_CHECK(cl, dechunk(b.p + at, b.len - at, &lines, &complete) && !complete &&
                         lines < records,
                 "the body past its deadline: complete %d, %ld lines of %ld records", complete,
                 lines, records);
        st = get(cl, "/metrics", &other);
        CL_CHECK(cl, st == 200 &&
                         metric(&other, "poe_inspector_exports_ended_total{how=\"deadline\"} ") ==
                                 1 &&
                         metric(&other, "poe_inspector_exports ") == 0,
                 "%.3000s", other.p ? other.p : "");

        /* The deadline back as it was: the next export is whole. */
        poe__tracelog_set_export_deadline(cl->in->log, 0);
        fd = export_start(cl, &b, &at);
        CL_CHECK(cl, at && read_to_end(fd, &b, 30), "the next export: %zu bytes", b.len);
        close(fd);
        CL_CHECK(cl, dechunk(b.p + at, b.len - at, &lines, &complete) && complete &&
                         lines == records,
                 "the next export: complete %d, %ld lines of %ld", complete, lines, records);
        free(b.p);
        free(other.p);
}

static void t_deadline(void **state)
{
        client cl = { .fn = past_deadline };

        (void)state;
        ih_make_log();
        records = run1_records();
        ih_vfs_install();
        cl.in = ih_start(10000);
        cl.port = poe_inspector_port(cl.in);
        poe__tracelog_set_export_deadline(cl.in->log, DEADLINE_MS * ih_slowness());
        run_client(&cl);
        assert_null(poe_inspector_stop(cl.in));
}

static int setup(void **state)
{
        unlink(ih_db);
        ih_vfs_reset();
        return tl_setup(state);
}

static int teardown(void **state)
{
        ih_vfs_reset();
        return tl_teardown(state);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(t_mid_stream, setup, teardown),
                cmocka_unit_test_setup_teardown(t_deadline, setup, teardown),
        };
        int r;

        if (ih_dir_make("inspector-export") < 0)
                return 2;
        r = cmocka_run_group_tests(tests, NULL, NULL);
        ih_dir_remove();
        return r;
}
