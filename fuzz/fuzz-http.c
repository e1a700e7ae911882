/*
 * fuzz-http: the inspector's request path, query parameters, method,
 * headers and body, over real HTTP on a loopback socket.
 *
 * The harness owns a kernel with a population (common.c: a session tree,
 * aliases, timers, a pipe watcher, an extref, signal watchers) and an
 * inspector on 127.0.0.1, port 0, with a token and a trace log in the
 * scratch directory.  Each input becomes one request: a method, an
 * endpoint from the table below or a path from the input, a query of
 * parameters (known names or the input's, values from the input), an
 * optional body, Host and Authorization headers good, missing or from
 * the input.  A client thread per request sends it and reads the reply
 * until the server closes; meanwhile this thread runs the kernel's
 * timeslices, as a program does.  The one hand-over between them is a
 * flag the client sets, then poe_kernel_run_in_loop to wake the kernel
 * (which sleeps otherwise until its next timer, an hour away): there is
 * no watcher to arm or cancel, so no wake-up to lose in the harness.  A
 * kernel that slept through that wake-up is reported by the client, at
 * its deadline, instead of hanging the run.
 *
 * Checks: a complete reply arrives within the deadline; its status is
 * never 500; its Content-Length is its body's; an /api error is the JSON
 * envelope {"api":1,"error":{"status":N,"message":...}} with N the
 * status; JSON answers and JSON exports parse; the kernel passes its
 * consistency check after every request.  A request that took the
 * population apart (a signal stops sessions) is followed by a new kernel
 * and inspector, so each input meets the same world.
 *
 * Input layout (fz_in): method byte, flags byte, endpoint byte, path
 * field, parameter count, then per parameter a key selector and a value
 * field (and a key field for raw keys), then body, Host and
 * Authorization fields as the flags ask.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <poe/inspector.h>

#include "fuzz.h"

#define TOKEN       "fuzz-token"
#define DEADLINE_S  10.0
#define MAX_REPLY   (8u << 20)
#define RESTART_EVERY 250

static const char *const endpoints[] = {
        "/",
        "/index.html",
        "/app.js",
        "/style.css",
        "/views/",
        "/no-such-file.png",
        "/../meson.build",
        "/metrics",
        "/api/",
        "/api/v2/kernel",
        "/api/v1/",
        "/api/v1/kernel",
        "/api/v1/sessions",
        "/api/v1/sessions/",
        "/api/v1/sessions/1",
        "/api/v1/sessions/2/reasons",
        "/api/v1/sessions/0",
        "/api/v1/sessions/18446744073709551615",
        "/api/v1/why",
        "/api/v1/tree",
        "/api/v1/queue",
        "/api/v1/timers",
        "/api/v1/watchers",
        "/api/v1/signals",
        "/api/v1/aliases",
        "/api/v1/extrefs",
        "/api/v1/lints",
        "/api/v1/trace",
        "/api/v1/trace/tail",
        "/api/v1/trace/runs",
        "/api/v1/events/1/lineage",
        "/api/v1/events/999999/lineage",
        "/api/v1/trace/records/5/lineage",
        "/api/v1/trace/groups",
        "/api/v1/export/jsonl",
        "/api/v1/export/csv",
        "/api/v1/export/chrome",
        "/api/v1/export/otlp",
        "/api/v1/export/sqlite",
        "/api/v1/export/",
        "/api/v1/sessions/1/signal",
        "/api/v1/sessions/3/signal",
        "/api/v1/sessions/0/signal",
};
#define N_ENDPOINTS (sizeof(endpoints) / sizeof(endpoints[0]))

static const char *const keys[] = {
        "limit", "offset", "q",     "parent", "session", "root",  "depth",
        "items", "type",   "signal", "since", "until",   "group", "event",
        "kind",  "after",  "run",   "order",  "wait",  "sort",  "idle",
        "slow",  "grow",   "postback", "past",
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS" };

/* ---- the subject ---- */

static poe_kernel *k;
static poe_inspector *insp;
static fz_world world;
static int port;
static unsigned long served;

static void subject_start(void)
{
        poe_inspector_options o;
        char db[600], text[600];
        int i, r;

        if (poe_kernel_new(&k, NULL) < 0)
                fz_fail("poe_kernel_new");
        /* Trace switches from the input print POE's lines: into a file. */
        snprintf(text, sizeof(text), "%s/trace.txt", fz_tmpdir());
        poe_kernel_trace_file(k, text);
        if (fz_world_build(&world, k, 0) < 0)
                fz_fail("cannot build the population");
        snprintf(db, sizeof(db), "%s/trace.db", fz_tmpdir());
        memset(&o, 0, sizeof(o));
        o.address = "127.0.0.1:0";
        o.token = TOKEN;
        o.trace_db = db;
        o.answer_timeout_ms = 5000;
        r = poe_inspector_start(k, &o, &insp);
        if (r < 0)
                fz_fail("poe_inspector_start: %s", strerror(-r));
        port = poe_inspector_port(insp);
        /* The population's first events (yields, a death), dispatched:
         * each posted event keeps the timeslice from waiting. */
        for (i = 0; i < 20; i++) {
                poe_kernel_post(k, world.root, "ping", POE_NOARGS);
                poe_kernel_run_one_timeslice(k);
        }
}

static void subject_stop(void)
{
        insp = poe_inspector_stop(insp);
        k = poe_kernel_free(k);
        fz_world_close(&world);
}

/* The population as it was made: the root and every session it made. */
static bool subject_intact(void)
{
        poe_session_info si;

        return poe_peek_session(k, world.root, &si) == 0 &&
               fz_session_count(k) == world.sessions;
}

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void noop(poe_kernel *kk, void *ctx)
{
        (void)kk;
        (void)ctx;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        subject_start();
        return 0;
}

/* ---- the request ---- */

typedef struct buf {
        char *p;
        size_t len, cap;
} buf;

static void put(buf *b, const char *s, size_t n)
{
        if (b->len + n + 1 > b->cap) {
                b->cap = (b->len + n + 1) * 2;
                b->p = realloc(b->p, b->cap);
                if (!b->p)
                        fz_fail("out of memory");
        }
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
}

static void puts_(buf *b, const char *s)
{
        put(b, s, strlen(s));
}

/* Bytes into a URL: unreserved ones as they are, the rest as %XX.  With
 * raw, only what would end the request line or start a query or a
 * fragment is escaped; the server's own unescaping sees the rest. */
static void put_url(buf *b, const char *s, size_t n, bool raw)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t i;

        for (i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                             (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                             c == '~' || c == '/';

                if (raw)
                        plain = c > 0x20 && c != 0x7f && c != '?' && c != '#' && c != '&' &&
                                c != '=';
                if (plain) {
                        put(b, (const char *)&c, 1);
                } else {
                        char e[3] = { '%', hex[c >> 4], hex[c & 15] };

                        put(b, e, 3);
                }
        }
}

/* A header value cannot hold CR or LF: they would end it. */
static void put_header(buf *b, const char *name, const char *v)
{
        size_t i;

        puts_(b, name);
        puts_(b, ": ");
        for (i = 0; v[i]; i++)
                if (v[i] != '\r' && v[i] != '\n')
                        put(b, v + i, 1);
        puts_(b, "\r\n");
}

typedef struct request {
        const char *method;
        bool api;        /* the path starts with /api/ */
        bool standard;   /* a method, Host and HTTP version the server knows */
        bool head;
        char path[300];  /* as written on the request line */
} request;

static void build(fz_in *in, request *rq, buf *out)
{
        uint8_t m = fz_byte(in), flags = fz_byte(in), ep = fz_byte(in);
        char field[256], key[64], method[32];
        buf path = { NULL, 0, 0 };
        size_t n;
        int i, nparams;
        bool raw_path = flags & 0x20, host_ok = true;

        memset(rq, 0, sizeof(*rq));
        if (m % 8 < 6) {
                rq->method = methods[m % 8];
        } else {
                /* A method token from the input: letters only, as the
                 * request line needs. */
                fz_str(in, field, 16);
                for (i = 0, n = 0; field[i]; i++)
                        if ((field[i] >= 'A' && field[i] <= 'Z') ||
                            (field[i] >= 'a' && field[i] <= 'z'))
                                method[n++] = field[i];
                method[n] = '\0';
                rq->method = n ? method : "GET";
        }
        rq->head = strcmp(rq->method, "HEAD") == 0;
        rq->standard = m % 8 < 6 || !strcmp(rq->method, "GET");

        /* The path: an endpoint, and bytes from the input after it (or
         * instead of it). */
        n = fz_field(in, field, 200);
        if (ep < 0xf0)
                puts_(&path, endpoints[ep % N_ENDPOINTS]);
        else
                puts_(&path, "/");
        put_url(&path, field, n, raw_path);
        snprintf(rq->path, sizeof(rq->path), "%s", path.p);
        rq->api = strncmp(path.p, "/api/", 5) == 0;

        puts_(out, rq->method);
        puts_(out, " ");
        put(out, path.p, path.len);
        free(path.p);

        nparams = fz_byte(in) % 20;
        for (i = 0; i < nparams; i++) {
                uint8_t ks = fz_byte(in);
                const char *kname;
                size_t vn;

                if (ks < 0xe0) {
                        kname = keys[ks % N_KEYS];
                        n = strlen(kname);
                } else {
                        n = fz_field(in, key, sizeof(key) - 1);
                        kname = key;
                }
                vn = fz_field(in, field, 200);
                puts_(out, i ? "&" : "?");
                put_url(out, kname, n, false);
                if (ks & 1 && vn == 0 && ks >= 0xe0)
                        continue; /* a key without '=' */
                puts_(out, "=");
                /* A long poll waits up to 30 s for records that may never
                 * come: the harness keeps its waits short. */
                if (n == 4 && memcmp(kname, "wait", 4) == 0 && !(atof(field) <= 0.05))
                        put_url(out, "0.05", 4, false);
                else
                        put_url(out, field, vn, false);
        }
        puts_(out, flags & 0x40 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");

        switch (flags & 3) {
        case 0: {
                char h[64];

                snprintf(h, sizeof(h), "127.0.0.1:%d", port);
                put_header(out, "Host", h);
                break;
        }
        case 1: put_header(out, "Host", "localhost"); break;
        case 2: host_ok = false; break;
        default:
                put_header(out, "Host", fz_str(in, field, 100));
                host_ok = false;
                break;
        }
        switch ((flags >> 2) & 3) {
        case 0: break;
        case 1: put_header(out, "Authorization", "Bearer " TOKEN); break;
        case 2: put_header(out, "Authorization", "Bearer not-the-token"); break;
        default: put_header(out, "Authorization", fz_str(in, field, 100)); break;
        }
        put_header(out, "Connection", "close");
        if (flags & 0x10) {
                char cl[32];

                n = fz_field(in, field, 255);
                snprintf(cl, sizeof(cl), "%zu", n);
                put_header(out, "Content-Type", "application/json");
                put_header(out, "Content-Length", cl);
                puts_(out, "\r\n");
                put(out, field, n);
        } else {
                puts_(out, "\r\n");
        }
        rq->standard = rq->standard && host_ok && !(flags & 0x40);
}

/* ---- the reply ---- */

/* A connect interrupted by a signal (the fuzzed /signal endpoint raises
 * real ones) is made again on a fresh socket: an interrupted blocking
 * connect may still be under way, so the old socket is not reused. */
static int connect_local(void)
{
        struct sockaddr_in a = { .sin_family = AF_INET };

        a.sin_port = htons((uint16_t)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        for (;;) {
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

                if (fd < 0)
                        fz_fail("socket: %s", strerror(errno));
                if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
                        return fd;
                if (errno != EINTR)
                        fz_fail("connect to the inspector: %s", strerror(errno));
                close(fd);
        }
}

static void send_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

                if (w < 0 && errno == EINTR)
                        continue;
                /* The server may answer and close before it reads all
                 * (a refused body): what it answered still counts. */
                if (w <= 0)
                        return;
                p += w;
                n -= (size_t)w;
        }
}

/* One request's client, on a thread of its own. */
typedef struct client {
        const buf *req;
        buf *reply;
        double deadline;
        atomic_bool done;   /* the reply is in (or the deadline passed) */
        int done_fd;        /* an eventfd written with done */
        int seen_fd;        /* an eventfd: the kernel's thread saw done */
        bool timed_out;
} client;

/* Sends the request, reads the reply until the server closes, then
 * tells the kernel's thread: done first, then the wake-up, so a
 * timeslice that began before the flag was set is woken, and one that
 * begins after it is not needed. */
static void *client_main(void *arg)
{
        client *cl = arg;
        char chunk[65536];
        uint64_t one = 1;
        int fd = connect_local();

        send_all(fd, cl->req->p, cl->req->len);
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int ms = (int)((cl->deadline - now()) * 1000) + 1;
                ssize_t r;

                if (ms <= 0) {
                        cl->timed_out = true;
                        break;
                }
                r = poll(&p, 1, ms);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        fz_fail("poll: %s", strerror(errno));
                if (r == 0)
                        continue; /* the deadline is checked above */
                r = recv(fd, chunk, sizeof(chunk), 0);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                put(cl->reply, chunk, (size_t)r);
                if (cl->reply->len > MAX_REPLY)
                        fz_fail("a reply larger than %u bytes", MAX_REPLY);
        }
        close(fd);
        atomic_store(&cl->done, true);
        if (write(cl->done_fd, &one, sizeof(one)) < 0)
                fz_fail("eventfd: %s", strerror(errno));
        if (poe_kernel_run_in_loop(k, noop, NULL) < 0)
                fz_fail("poe_kernel_run_in_loop failed");
        /* The kernel's thread must come round now: if it sleeps on, the
         * kernel lost this wake-up, and that is the finding. */
        for (;;) {
                struct pollfd p = { .fd = cl->seen_fd, .events = POLLIN };
                int r = poll(&p, 1, (int)(DEADLINE_S * 1000));

                if (r > 0)
                        return NULL;
                if (r == 0)
                        fz_fail("the kernel slept through poe_kernel_run_in_loop for %.0f s",
                                DEADLINE_S);
                if (errno != EINTR)
                        fz_fail("poll: %s", strerror(errno));
        }
}

/* Runs the kernel's timeslices until the client thread has the reply. */
static void exchange(const buf *req, buf *reply)
{
        client cl = { .req = req, .reply = reply, .deadline = now() + DEADLINE_S };
        pthread_t t;
        uint64_t n;

        atomic_init(&cl.done, false);
        cl.done_fd = eventfd(0, EFD_CLOEXEC);
        cl.seen_fd = eventfd(0, EFD_CLOEXEC);
        if (cl.done_fd < 0 || cl.seen_fd < 0)
                fz_fail("eventfd: %s", strerror(errno));
        if (pthread_create(&t, NULL, client_main, &cl) != 0)
                fz_fail("pthread_create");
        while (!atomic_load(&cl.done)) {
                poe_kernel_run_one_timeslice(k);
                if (fz_session_count(k) == 0) {
                        /* No session: the timeslice does not wait, and
                         * jobs from the server run at the next one. */
                        struct pollfd p = { .fd = cl.done_fd, .events = POLLIN };

                        poll(&p, 1, 5);
                }
        }
        n = 1;
        if (write(cl.seen_fd, &n, sizeof(n)) < 0)
                fz_fail("eventfd: %s", strerror(errno));
        pthread_join(t, NULL);
        close(cl.done_fd);
        close(cl.seen_fd);
        if (cl.timed_out)
                fz_fail("no complete reply within %.0f s (%zu bytes so far)", DEADLINE_S,
                        reply->len);
}

static const char *header(const char *head, size_t head_len, const char *name, char *out,
                          size_t size)
{
        const char *p = head, *end = head + head_len;
        size_t n = strlen(name);

        while (p < end) {
                const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);

                if (!eol)
                        eol = end;
                if ((size_t)(eol - p) > n + 1 && strncasecmp(p, name, n) == 0 && p[n] == ':') {
                        const char *v = p + n + 1;
                        size_t vn;

                        while (v < eol && *v == ' ')
                                v++;
                        vn = (size_t)(eol - v);
                        if (vn >= size)
                                vn = size - 1;
                        memcpy(out, v, vn);
                        out[vn] = '\0';
                        return out;
                }
                p = eol + 2;
        }
        return NULL;
}

static void check_json_lines(const char *body, size_t len)
{
        const char *p = body, *end = body + len;
        json_error_t jerr;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                json_t *j;

                if (n) {
                        j = json_loadb(p, n, 0, &jerr);
                        if (!j)
                                fz_fail("an export line is not JSON: %s", jerr.text);
                        json_decref(j);
                }
                p += n + 1;
        }
}

/* Decodes a chunked body (exports stream so) in place; its length, or
 * a failure when it does not end with its last chunk. */
static size_t dechunk(const request *rq, char *body, size_t len)
{
        size_t in = 0, out = 0, n;
        char *end;

        for (;;) {
                if (in >= len || !memchr(body + in, '\n', len - in))
                        fz_fail("%s %s: a chunked body cut short", rq->method, rq->path);
                n = (size_t)strtoull(body + in, &end, 16);
                end = (char *)memchr(end, '\n', len - (size_t)(end - body)) + 1;
                in = (size_t)(end - body);
                if (n == 0)
                        return out;
                if (n > len - in)
                        fz_fail("%s %s: a chunk past the body's end", rq->method, rq->path);
                memmove(body + out, body + in, n);
                out += n;
                in += n + 2; /* the chunk's CRLF */
        }
}

static void check_reply(const request *rq, const buf *reply)
{
        char ctype[128], clen[32], te[32];
        const char *end;
        char *body;
        size_t head_len, body_len;
        int status;
        json_t *j;
        json_error_t jerr;

        if (reply->len < 12 || memcmp(reply->p, "HTTP/1.", 7) != 0 ||
            sscanf(reply->p + 9, "%3d", &status) != 1)
                fz_fail("%s %s: no HTTP status line in the reply (%zu bytes)", rq->method,
                        rq->path, reply->len);
        if (getenv("FUZZ_VERBOSE"))
                fprintf(stderr, "fuzz-http: %s %s -> %d (%zu bytes)\n", rq->method, rq->path,
                        status, reply->len);
        if (status == 500)
                fz_fail("%s %s: 500: %.*s", rq->method, rq->path, (int)reply->len, reply->p);
        if (status < 100 || status > 599)
                fz_fail("%s %s: status %d", rq->method, rq->path, status);
        end = memmem(reply->p, reply->len, "\r\n\r\n", 4);
        if (!end)
                fz_fail("%s %s: the reply's head does not end", rq->method, rq->path);
        head_len = (size_t)(end - reply->p);
        body = (char *)end + 4;
        body_len = reply->len - head_len - 4;
        if (!rq->head && header(reply->p, head_len, "Transfer-Encoding", te, sizeof(te)) &&
            strcmp(te, "chunked") == 0)
                body_len = dechunk(rq, body, body_len);
        if (!rq->head && header(reply->p, head_len, "Content-Length", clen, sizeof(clen)) &&
            strtoull(clen, NULL, 10) != body_len)
                fz_fail("%s %s: Content-Length %s, body %zu bytes", rq->method, rq->path, clen,
                        body_len);
        if (!header(reply->p, head_len, "Content-Type", ctype, sizeof(ctype)))
                ctype[0] = '\0';
        if (rq->head || !rq->standard)
                return;
        if (!rq->api)
                return;
        /* Every /api answer of ours is JSON, or an export. */
        if (strncmp(ctype, "application/json", 16) != 0) {
                if (status >= 400)
                        fz_fail("%s %s: error %d without a JSON body (%s)", rq->method,
                                rq->path, status, ctype);
                if (strstr(ctype, "ndjson") || strstr(ctype, "jsonl"))
                        check_json_lines(body, body_len);
                return;
        }
        j = json_loadb(body, body_len, 0, &jerr);
        if (!j) {
                /* An OTLP export is JSON Lines under a JSON type. */
                if (status == 200 && strstr(rq->path, "/export/")) {
                        check_json_lines(body, body_len);
                        return;
                }
                fz_fail("%s %s: %d with a body that is not JSON: %s", rq->method, rq->path,
                        status, jerr.text);
        }
        if (status >= 400) {
                json_t *e = json_object_get(j, "error");

                if (json_integer_value(json_object_get(j, "api")) != 1 || !json_is_object(e) ||
                    json_integer_value(json_object_get(e, "status")) != status ||
                    !json_is_string(json_object_get(e, "message")))
                        fz_fail("%s %s: error %d without the error envelope: %.*s", rq->method,
                                rq->path, status, (int)body_len, body);
        } else if (status == 200 && !strstr(rq->path, "/export/") &&
                   (json_integer_value(json_object_get(j, "api")) != 1 ||
                    !json_object_get(j, "data"))) {
                fz_fail("%s %s: 200 without the envelope", rq->method, rq->path);
        }
        json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        fz_in in = { data, size };
        buf req = { NULL, 0, 0 }, reply = { NULL, 0, 0 };
        request rq;

        build(&in, &rq, &req);
        exchange(&req, &reply);
        check_reply(&rq, &reply);
        free(req.p);
        free(reply.p);

        fz_check_kernel(k);
        /* Trace switches from the input are switched back, and a world a
         * signal took apart is made again, so each input meets the same. */
        poe_kernel_debug_set(k, POE_DEBUG_ALL & poe_debug_compiled(), 0);
        /* Every request adds records to the log: now and then a fresh
         * one, so exports and queries stay the same size. */
        if (!subject_intact() || ++served % RESTART_EVERY == 0) {
                subject_stop();
                if (served % RESTART_EVERY == 0)
                        fz_tmpdir_clean();
                subject_start();
        }
        return 0;
}
