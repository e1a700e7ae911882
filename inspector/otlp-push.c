/*
 * The live OTLP push: the trace log's spans sent to an OpenTelemetry
 * collector while the program runs, as OTLP/HTTP with the JSON encoding
 * (POST ENDPOINT/v1/traces, Content-Type application/json), the way the
 * OpenTelemetry SDKs' batch span processor sends them, from the same
 * environment variables.
 *
 * One thread of its own does all of it, never the kernel's: every
 * OTEL_BSP_SCHEDULE_DELAY it reads the records written since its last
 * look (tracelog-feed.c: the OTLP export's code, which keeps what is
 * still open from one look to the next), puts each request's worth of
 * spans (at most OTEL_BSP_MAX_EXPORT_BATCH_SIZE) in a queue bounded at
 * OTEL_BSP_MAX_QUEUE_SIZE spans, and sends the queue's head.  A batch
 * that finds the queue full is dropped and counted.  A request that
 * fails for a reason that may pass (no connection, a timeout, 429, 502,
 * 503, 504) is tried again after a wait that doubles from RETRY_MIN_MS to
 * RETRY_MAX_MS, or what the collector's Retry-After says (at most
 * RETRY_AFTER_MAX_S), at most RETRIES times; one that the collector
 * refuses (400 and the other 4xx) is not: both are counted.  The counts
 * are in /metrics, in /api/v1/kernel's otlp_push and on the page.
 *
 * The HTTP client is a small HTTP/1.1 one, plain sockets, one connection
 * a request ("Connection: close"), every step under the request's
 * deadline (OTEL_EXPORTER_OTLP_TIMEOUT).  No TLS: an https:// endpoint
 * is refused at start (send to a local collector's plain port).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "otlp-push.h"

#define RETRY_MIN_MS      1000
#define RETRY_MAX_MS      32000
#define RETRY_AFTER_MAX_S 60
#define RETRIES           5
/* At most this many records read a look; a look that reads as many
 * looks again at once. */
#define FEED_RECORDS 20000
/* The most the last sends at stop may take, in all. */
#define STOP_FLUSH_MS 5000
#define HEADERS_MAX   2048

/* A batch waiting to be sent: one TracesData line. */
typedef struct batch {
        struct batch *next;
        size_t spans, len;
        int attempts;
        char body[];
} batch;

struct poe__otlp_push {
        poe__tracelog *t;
        poe__otlp_feed *feed;
        /* The endpoint, parsed. */
        char *url, *host, *port, *path;
        char *headers; /* extra header lines, each ending in \r\n */
        int timeout_ms, delay_ms;
        size_t queue_max, batch_max;

        pthread_t thread;
        bool started;
        pthread_mutex_t mu; /* stop, the wait, last_error, state */
        pthread_cond_t cv;
        bool stop;

        /* The queue: the thread's alone. */
        batch *head, *tail;
        size_t queued;

        _Atomic uint64_t queued_spans, sent, dropped_full, dropped_stop, rejected, retries_out;
        _Atomic uint64_t requests, retries, feed_errors;
        _Atomic int last_status;
        char last_error[256];
        const char *state;
};

static int64_t mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The state ("idle", "sending", "backoff", "stopped"; NULL: as it is)
 * and the last error (NULL: as it is). */
static void set_state(poe__otlp_push *p, const char *state, const char *error)
{
        pthread_mutex_lock(&p->mu);
        if (state)
                p->state = state;
        if (error)
                snprintf(p->last_error, sizeof(p->last_error), "%s", error);
        pthread_mutex_unlock(&p->mu);
}

/* ---- the environment ---- */

/* The first of two variables that is set and not empty. */
static const char *env2(const char *a, const char *b)
{
        const char *v = getenv(a);

        if (v && *v)
                return v;
        v = b ? getenv(b) : NULL;
        return v && *v ? v : NULL;
}

/* A positive integer variable, or def. */
static long env_num(const char *a, const char *b, long def, long max)
{
        const char *v = env2(a, b);
        char *end;
        long n;

        if (!v)
                return def;
        errno = 0;
        n = strtol(v, &end, 10);
        if (errno || *end || n <= 0) {
                fprintf(stderr, "poe-inspector: %s=%s: expected a positive integer; using %ld\n",
                        getenv(a) && *getenv(a) ? a : b, v, def);
                return def;
        }
        return n > max ? max : n;
}

/* "http://HOST[:PORT][/PATH]", HOST a name, an IPv4 address or [IPv6]. */
static int parse_url(poe__otlp_push *p, const char *url, char *err, size_t errlen)
{
        const char *h, *hend, *port = NULL, *path;
        size_t plen;

        if (strncasecmp(url, "https://", 8) == 0) {
                snprintf(err, errlen,
                         "%s: https is not supported (no TLS in libpoe): use the plain HTTP "
                         "port of a collector nearby",
                         url);
                return -EINVAL;
        }
        if (strncasecmp(url, "http://", 7) != 0) {
                snprintf(err, errlen, "%s: expected http://HOST[:PORT][/PATH]", url);
                return -EINVAL;
        }
        h = url + 7;
        path = h + strcspn(h, "/?#");
        if (*h == '[') {
                hend = memchr(h, ']', (size_t)(path - h));
                if (!hend) {
                        snprintf(err, errlen, "%s: an IPv6 address without its ]", url);
                        return -EINVAL;
                }
                h++;
                if (hend[1] == ':')
                        port = hend + 2;
        } else {
                hend = memchr(h, ':', (size_t)(path - h));
                if (hend)
                        port = hend + 1;
                else
                        hend = path;
        }
        if (hend == h ||
            (port && (port == path || strspn(port, "0123456789") != (size_t)(path - port)))) {
                snprintf(err, errlen, "%s: expected http://HOST[:PORT][/PATH]", url);
                return -EINVAL;
        }
        plen = *path == '/' ? strlen(path) : 0;
        p->url = strdup(url);
        p->host = strndup(h, (size_t)(hend - h));
        p->port = port ? strndup(port, (size_t)(path - port)) : strdup("80");
        p->path = plen ? strndup(path, plen) : strdup("/");
        if (!p->url || !p->host || !p->port || !p->path)
                return -ENOMEM;
        return 0;
}

static int hexval(int c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* OTEL_EXPORTER_OTLP_HEADERS: "key=value,key2=value2", values
 * percent-decoded, as header lines.  A pair without "=" or with a byte
 * that could end a header line is left out, with a warning. */
static int parse_headers(poe__otlp_push *p, const char *list)
{
        char *out = malloc(HEADERS_MAX + 1), *o = out;
        const char *s = list, *end, *eq;

        if (!out)
                return -ENOMEM;
        for (; *s; s = *end ? end + 1 : end) {
                char line[512];
                size_t n = 0;
                const char *c;
                bool bad = false;

                end = s + strcspn(s, ",");
                eq = memchr(s, '=', (size_t)(end - s));
                while (s < end && *s == ' ')
                        s++;
                if (!eq || eq == s) {
                        if (end > s)
                                fprintf(stderr, "poe-inspector: OTEL_EXPORTER_OTLP_HEADERS: "
                                                "a pair without key=value left out\n");
                        continue;
                }
                for (c = s; c < eq && n < sizeof(line) - 4; c++)
                        if (*c != ' ')
                                line[n++] = *c;
                line[n++] = ':';
                line[n++] = ' ';
                for (c = eq + 1; c < end && n < sizeof(line) - 3; c++) {
                        int ch = (unsigned char)*c;

                        if (ch == '%' && c + 2 < end + 0 && hexval(c[1]) >= 0 &&
                            hexval(c[2]) >= 0) {
                                ch = hexval(c[1]) * 16 + hexval(c[2]);
                                c += 2;
                        }
                        bad |= ch == '\r' || ch == '\n' || ch == 0;
                        line[n++] = (char)ch;
                }
                if (bad || (size_t)(o - out) + n + 2 > HEADERS_MAX) {
                        fprintf(stderr, "poe-inspector: OTEL_EXPORTER_OTLP_HEADERS: a header "
                                        "left out (a line break in it, or too long)\n");
                        continue;
                }
                memcpy(o, line, n);
                o += n;
                *o++ = '\r';
                *o++ = '\n';
        }
        *o = '\0';
        p->headers = out;
        return 0;
}

/* ---- HTTP/1.1, one request a connection ---- */

/* Waits until fd is ready for events, at most until deadline: 0,
 * -ETIMEDOUT, or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
        struct pollfd pfd = { .fd = fd, .events = events };
        int64_t left;
        int r;

        for (;;) {
                left = deadline - mono_ms();
                if (left <= 0)
                        return -ETIMEDOUT;
                r = poll(&pfd, 1, (int)(left > 1000 ? 1000 : left));
                if (r > 0)
                        return 0;
                if (r < 0 && errno != EINTR)
                        return -errno;
        }
}

static int connect_to(poe__otlp_push *p, int64_t deadline, char *err, size_t errlen)
{
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
        int fd = -1, r, e = 0;
        socklen_t elen = sizeof(e);

        r = getaddrinfo(p->host, p->port, &hints, &res);
        if (r != 0) {
                snprintf(err, errlen, "cannot resolve %s: %s", p->host, gai_strerror(r));
                return -EHOSTUNREACH;
        }
        r = -ECONNREFUSED;
        for (ai = res; ai; ai = ai->ai_next) {
                fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                            ai->ai_protocol);
                if (fd < 0) {
                        r = -errno;
                        continue;
                }
                if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
                        break;
                r = -errno;
                if (r == -EINPROGRESS) {
                        r = wait_fd(fd, POLLOUT, deadline);
                        if (r == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) == 0)
                                r = -e;
                        if (r == 0)
                                break;
                }
                close(fd);
                fd = -1;
        }
        freeaddrinfo(res);
        if (fd < 0)
                snprintf(err, errlen, "cannot connect to %s:%s: %s", p->host, p->port,
                         strerror(-r));
        return fd < 0 ? r : fd;
}

static int send_all(int fd, const char *s, size_t n, int64_t deadline)
{
        ssize_t w;
        int r;

        while (n > 0) {
                w = send(fd, s, n, MSG_NOSIGNAL);
                if (w > 0) {
                        s += w;
                        n -= (size_t)w;
                        continue;
                }
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno != EAGAIN)
                        return -errno;
                r = wait_fd(fd, POLLOUT, deadline);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The status line and headers of the answer (its body is read and
 * dropped): the status in *status, Retry-After's seconds in
 * *retry_after (-1: none). */
static int read_answer(int fd, int64_t deadline, int *status, int *retry_after)
{
        char buf[8192], *eoh, *line;
        size_t len = 0;
        ssize_t n;
        int r;

        for (;;) {
                n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
                if (n > 0) {
                        len += (size_t)n;
                        buf[len] = '\0';
                        if ((eoh = strstr(buf, "\r\n\r\n")))
                                break;
                        if (len == sizeof(buf) - 1)
                                return -EPROTO;
                        continue;
                }
                if (n == 0)
                        return -ECONNRESET;
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                r = wait_fd(fd, POLLIN, deadline);
                if (r < 0)
                        return r;
        }
        *eoh = '\0';
        if (sscanf(buf, "HTTP/1.%*d %d", status) != 1 || *status < 100 || *status > 599)
                return -EPROTO;
        *retry_after = -1;
        for (line = strstr(buf, "\r\n"); line; line = strstr(line + 2, "\r\n"))
                if (strncasecmp(line + 2, "Retry-After:", 12) == 0) {
                        char *v = line + 14, *end;
                        long s;

                        while (*v == ' ' || *v == '\t')
                                v++;
                        s = strtol(v, &end, 10);
                        /* Seconds; an HTTP date is left to the backoff. */
                        if (end != v && s >= 0)
                                *retry_after = (int)(s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : s);
                }
        return 0;
}

/* POSTs body: 0 with the answer's status, or -errno (no answer) with
 * err. */
static int http_post(poe__otlp_push *p, const char *body, size_t len, int64_t deadline, int *status,
                     int *retry_after, char *err, size_t errlen)
{
        char head[HEADERS_MAX + 1024];
        int fd, r, n;

        fd = connect_to(p, deadline, err, errlen);
        if (fd < 0)
                return fd;
        n = snprintf(head, sizeof(head),
                     "POST %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: libpoe-otlp/" POE_VERSION
                     "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n%s\r\n",
                     p->path, strchr(p->host, ':') ? "[" : "", p->host,
                     strchr(p->host, ':') ? "]" : "", p->port, len, p->headers);
        r = n > 0 && (size_t)n < sizeof(head) ? send_all(fd, head, (size_t)n, deadline) : -E2BIG;
        if (r == 0)
                r = send_all(fd, body, len, deadline);
        if (r == 0)
                r = read_answer(fd, deadline, status, retry_after);
        if (r < 0)
                snprintf(err, errlen, "POST %s: %s", p->url,
                         r == -EPROTO ? "not an HTTP answer" : strerror(-r));
        close(fd);
        return r;
}

/* ---- the queue ---- */

static void on_line(void *ctx, const char *line, size_t len, size_t spans)
{
        poe__otlp_push *p = ctx;
        batch *b;

        /* Without its newline: the body is one JSON object. */
        if (len && line[len - 1] == '\n')
                len--;
        if (p->queued + spans > p->queue_max || !(b = malloc(sizeof(*b) + len + 1))) {
                atomic_fetch_add(&p->dropped_full, spans);
                return;
        }
        b->next = NULL;
        b->spans = spans;
        b->len = len;
        b->attempts = 0;
        memcpy(b->body, line, len);
        b->body[len] = '\0';
        if (p->tail)
                p->tail->next = b;
        else
                p->head = b;
        p->tail = b;
        p->queued += spans;
        atomic_store(&p->queued_spans, p->queued);
}

static void pop(poe__otlp_push *p)
{
        batch *b = p->head;

        p->head = b->next;
        if (!p->head)
                p->tail = NULL;
        p->queued -= b->spans;
        atomic_store(&p->queued_spans, p->queued);
        free(b);
}

/* One look at the log: true when it read as many records as it may (there
 * may be more). */
static bool feed(poe__otlp_push *p, bool finish)
{
        char err[256] = "";
        int n = poe__otlp_feed_poll(p->feed, FEED_RECORDS, finish, on_line, p, err, sizeof(err));

        if (n < 0) {
                atomic_fetch_add(&p->feed_errors, 1);
                set_state(p, NULL, err);
        }
        return n >= FEED_RECORDS;
}

/* Whether a status is worth another try (the OTLP specification's list:
 * 429, 502, 503, 504). */
static bool retryable(int status)
{
        return status == 429 || status == 502 || status == 503 || status == 504;
}

/* Sends the queue's head once: the wait before the next try in ms, 0 when
 * it is done with (sent, refused, or given up on). */
static int64_t send_head(poe__otlp_push *p, int64_t deadline, bool last)
{
        batch *b = p->head;
        char err[512] = "";
        int status = 0, retry_after = -1, r;
        int64_t wait;

        set_state(p, "sending", NULL);
        atomic_fetch_add(&p->requests, 1);
        if (b->attempts++ > 0)
                atomic_fetch_add(&p->retries, 1);
        r = http_post(p, b->body, b->len, deadline, &status, &retry_after, err, sizeof(err));
        if (r == 0) {
                atomic_store(&p->last_status, status);
                if (status >= 200 && status < 300) {
                        atomic_fetch_add(&p->sent, b->spans);
                        set_state(p, "idle", NULL);
                        pop(p);
                        return 0;
                }
                snprintf(err, sizeof(err), "POST %s: HTTP %d", p->url, status);
                if (!retryable(status)) {
                        atomic_fetch_add(&p->rejected, b->spans);
                        set_state(p, "idle", err);
                        pop(p);
                        return 0;
                }
        }
        if (b->attempts > RETRIES || last) {
                atomic_fetch_add(last ? &p->dropped_stop : &p->retries_out, b->spans);
                set_state(p, "idle", err);
                pop(p);
                return 0;
        }
        wait = retry_after >= 0 ? (int64_t)retry_after * 1000
                                : (int64_t)RETRY_MIN_MS << (b->attempts - 1);
        if (wait > RETRY_MAX_MS && retry_after < 0)
                wait = RETRY_MAX_MS;
        set_state(p, "backoff", err);
        return wait > 0 ? wait : 1;
}

/* ---- the thread ---- */

static void *push_main(void *arg)
{
        poe__otlp_push *p = arg;
        int64_t next_look = mono_ms() + p->delay_ms, retry_at = 0, now, until, wait;
        struct timespec ts;
        bool stop = false, more;

        while (!stop) {
                now = mono_ms();
                if (now >= next_look) {
                        more = feed(p, false);
                        next_look = more ? now : now + p->delay_ms;
                }
                if (p->head && mono_ms() >= retry_at) {
                        wait = send_head(p, mono_ms() + p->timeout_ms, false);
                        retry_at = mono_ms() + wait;
                        /* The next batch goes at once. */
                        if (!wait)
                                continue;
                }
                until = next_look;
                if (p->head && retry_at < until)
                        until = retry_at;
                pthread_mutex_lock(&p->mu);
                while (!p->stop && mono_ms() < until) {
                        clock_gettime(CLOCK_REALTIME, &ts);
                        wait = until - mono_ms();
                        if (wait > 1000)
                                wait = 1000;
                        ts.tv_sec += wait / 1000;
                        ts.tv_nsec += (wait % 1000) * 1000000L;
                        if (ts.tv_nsec >= 1000000000L) {
                                ts.tv_sec++;
                                ts.tv_nsec -= 1000000000L;
                        }
                        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
                }
                stop = p->stop;
                pthread_mutex_unlock(&p->mu);
        }
        /* The last look: the log's writer has stopped, so this is
         * everything; what is still open ends here. */
        while (feed(p, false))
                ;
        feed(p, true);
        until = mono_ms() + (p->timeout_ms < STOP_FLUSH_MS ? p->timeout_ms : STOP_FLUSH_MS);
        while (p->head) {
                if (mono_ms() >= until) {
                        atomic_fetch_add(&p->dropped_stop, p->head->spans);
                        pop(p);
                        continue;
                }
                send_head(p, until, true);
        }
        set_state(p, "stopped", NULL);
        return NULL;
}

int poe__otlp_push_start(poe__tracelog *t, poe__otlp_push **ret, char *err, size_t errlen)
{
        const char *traces = env2("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", NULL);
        const char *base = env2("OTEL_EXPORTER_OTLP_ENDPOINT", NULL);
        const char *v, *proto;
        char url[1024];
        poe__otlp_push *p;
        size_t n;
        int r;

        *ret = NULL;
        v = getenv("OTEL_SDK_DISABLED");
        if ((!traces && !base) || (v && strcasecmp(v, "true") == 0))
                return 0;
        v = getenv("OTEL_TRACES_EXPORTER");
        if (v && strcasecmp(v, "none") == 0)
                return 0;
        if (!t) {
                snprintf(err, errlen, "no trace log to send spans from");
                return -EINVAL;
        }
        if (traces) {
                snprintf(url, sizeof(url), "%s", traces);
        } else {
                /* The specification: the signal's path appended to the
                 * base, one slash between. */
                n = strlen(base);
                while (n > 0 && base[n - 1] == '/')
                        n--;
                snprintf(url, sizeof(url), "%.*s/v1/traces", (int)(n < 1000 ? n : 1000), base);
        }
        proto = env2("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL");
        if (proto && strcmp(proto, "http/json") != 0)
                fprintf(stderr,
                        "poe-inspector: OTLP protocol %s asked for; libpoe sends "
                        "http/json, which a collector's OTLP/HTTP receiver takes too\n",
                        proto);
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->t = t;
        p->state = "idle";
        p->timeout_ms = (int)env_num("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
                                     "OTEL_EXPORTER_OTLP_TIMEOUT", 10000, 600000);
        p->delay_ms = (int)env_num("OTEL_BSP_SCHEDULE_DELAY", NULL, 5000, 3600000);
        p->queue_max = (size_t)env_num("OTEL_BSP_MAX_QUEUE_SIZE", NULL, 2048, 1 << 24);
        p->batch_max = (size_t)env_num("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", NULL, 512, 1000);
        if (p->batch_max > p->queue_max)
                p->batch_max = p->queue_max;
        r = parse_url(p, url, err, errlen);
        v = env2("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS");
        if (r == 0)
                r = parse_headers(p, v ? v : "");
        if (r == 0)
                r = poe__otlp_feed_new(t, getenv("OTEL_SERVICE_NAME"), p->batch_max, &p->feed);
        if (r == 0) {
                pthread_mutex_init(&p->mu, NULL);
                pthread_cond_init(&p->cv, NULL);
                r = -pthread_create(&p->thread, NULL, push_main, p);
                p->started = r == 0;
                if (r < 0)
                        snprintf(err, errlen, "cannot start the OTLP push: %s", strerror(-r));
        } else if (r == -ENOMEM) {
                snprintf(err, errlen, "out of memory");
        }
        if (r < 0) {
                if (!p->started && p->feed) {
                        pthread_mutex_destroy(&p->mu);
                        pthread_cond_destroy(&p->cv);
                }
                poe__otlp_feed_free(p->feed);
                free(p->url);
                free(p->host);
                free(p->port);
                free(p->path);
                free(p->headers);
                free(p);
                return r;
        }
        *ret = p;
        return 0;
}

void poe__otlp_push_stop(poe__otlp_push *p)
{
        if (!p)
                return;
        pthread_mutex_lock(&p->mu);
        p->stop = true;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->thread, NULL);
        while (p->head)
                pop(p);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        poe__otlp_feed_free(p->feed);
        free(p->url);
        free(p->host);
        free(p->port);
        free(p->path);
        free(p->headers);
        free(p);
}

void poe__otlp_push_counts_get(poe__otlp_push *p, poe__otlp_push_counts *ret)
{
        memset(ret, 0, sizeof(*ret));
        if (!p)
                return;
        ret->queued_spans = atomic_load(&p->queued_spans);
        ret->queue_max = p->queue_max;
        ret->sent = atomic_load(&p->sent);
        ret->dropped_full = atomic_load(&p->dropped_full);
        ret->dropped_stop = atomic_load(&p->dropped_stop);
        ret->rejected = atomic_load(&p->rejected);
        ret->retries_out = atomic_load(&p->retries_out);
        ret->requests = atomic_load(&p->requests);
        ret->retries = atomic_load(&p->retries);
        ret->feed_errors = atomic_load(&p->feed_errors);
}

json_t *poe__otlp_push_status(poe__otlp_push *p)
{
        poe__otlp_push_counts c;
        json_t *j;
        int status = atomic_load(&p->last_status);

        poe__otlp_push_counts_get(p, &c);
        pthread_mutex_lock(&p->mu);
        j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:s}", "endpoint",
                      p->url, "queued_spans", (json_int_t)c.queued_spans, "queue_max",
                      (json_int_t)c.queue_max, "sent_spans", (json_int_t)c.sent, "dropped_spans",
                      (json_int_t)(c.dropped_full + c.dropped_stop), "failed_spans",
                      (json_int_t)(c.rejected + c.retries_out), "requests", (json_int_t)c.requests,
                      "retries", (json_int_t)c.retries, "feed_errors", (json_int_t)c.feed_errors,
                      "last_status", status ? json_integer(status) : json_null(), "last_error",
                      p->last_error[0] ? json_string(p->last_error) : json_null(), "state",
                      p->state);
        pthread_mutex_unlock(&p->mu);
        return j;
}
