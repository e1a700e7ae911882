/*
 * poe-demo: a small but real program to explore with the inspector.
 *
 *  - "listener": a TCP line server on 127.0.0.1 (select_read on the
 *    listening socket); each accepted connection gets a session of its
 *    own that echoes lines back in upper case and asks the "stats"
 *    service, by call(), how many lines it has seen.
 *  - "client" sessions connect to that server every few seconds, send a
 *    few lines with a delay between them, and hang up.
 *  - "ticker": a named delay every second, and an alarm_set id timer it
 *    adjusts and removes, so the timers view always has something.
 *  - "workers": a pool that forks a child process every few seconds, and
 *    reaps it with sig_child; the child sleeps a little and exits with a
 *    code the pool reports.
 *  - "stats": an aliased service answering post and call.
 *  - "flaky": a handler that dies on every third event; the session
 *    handles DIE and carries on.
 *  - INT or TERM stops everything gracefully and at once: connections and
 *    clients hang up, workers are ended, then the sessions end.
 *
 * It starts the inspector on --inspector HOST:PORT (or POE_INSPECTOR;
 * default 127.0.0.1:8080), with the trace log in --trace-db PATH (or
 * POE_TRACE_DB), and says where to point the browser.  The token that
 * unlocks the inspector's switches comes from the environment only, never
 * the command line (which ps shows every local user): POE_INSPECTOR_TOKEN,
 * or POE_INSPECTOR_TOKEN_FILE, a file whose first line is the token (a
 * systemd credential, a container secret).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <poe/inspector.h>
#include <poe/poe.h>

static int server_port;

/* ---- stats: an aliased service ---- */

struct stats {
        long lines, clients, children;
};

static poe_value stats_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "stats");
        return poe_nil();
}

static poe_value stats_count(poe_ctx *c)
{
        struct stats *st = poe_ctx_heap(c);
        const char *what = poe_value_str(poe_ctx_arg(c, 0));

        if (what && strcmp(what, "line") == 0)
                return poe_int(++st->lines);
        if (what && strcmp(what, "client") == 0)
                return poe_int(++st->clients);
        if (what && strcmp(what, "child") == 0)
                return poe_int(++st->children);
        return poe_int(0);
}

/* ---- a connection's session ---- */

struct conn {
        int fd;
        char buf[512];
        size_t len;
};

static poe_value conn_start(poe_ctx *c)
{
        struct conn *cn = poe_ctx_heap(c);

        poe_kernel_select_read(poe_ctx_kernel(c), cn->fd, "readable", POE_NOARGS);
        poe_kernel_sig(poe_ctx_kernel(c), "INT", "hangup", POE_NOARGS);
        poe_kernel_sig(poe_ctx_kernel(c), "TERM", "hangup", POE_NOARGS);
        return poe_nil();
}

/* INT or TERM: the demo is stopping, so its server does not wait for
 * the peer to leave; it hangs up (the root handles the signal). */
static poe_value conn_hangup(poe_ctx *c)
{
        struct conn *cn = poe_ctx_heap(c);

        if (cn->fd >= 0) {
                poe_kernel_select_read(poe_ctx_kernel(c), cn->fd, NULL, POE_NOARGS);
                close(cn->fd);
                cn->fd = -1;
        }
        return poe_nil();
}

static poe_value conn_readable(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct conn *cn = poe_ctx_heap(c);
        ssize_t n = read(cn->fd, cn->buf + cn->len, sizeof(cn->buf) - cn->len - 1);
        char *nl;

        if (n <= 0) {
                /* The peer hung up: unwatch, and the session ends. */
                poe_kernel_select_read(k, cn->fd, NULL, POE_NOARGS);
                close(cn->fd);
                cn->fd = -1;
                return poe_nil();
        }
        cn->len += (size_t)n;
        cn->buf[cn->len] = '\0';
        while ((nl = strchr(cn->buf, '\n'))) {
                char out[600];
                poe_value count = poe_int(0);
                size_t i, line = (size_t)(nl - cn->buf);
                int m;

                /* During a shutdown "stats" may be gone already (-ESRCH),
                 * and call then leaves count as it was: line 0. */
                poe_kernel_call_alias(k, "stats", "count", POE_ARGS(poe_str("line")), &count);
                for (i = 0; i < line; i++)
                        cn->buf[i] = (char)(cn->buf[i] >= 'a' && cn->buf[i] <= 'z'
                                                    ? cn->buf[i] - 'a' + 'A'
                                                    : cn->buf[i]);
                m = snprintf(out, sizeof(out), "%.*s (line %lld)\n", (int)line, cn->buf,
                             (long long)poe_value_int(&count));
                if (m > 0 && write(cn->fd, out, (size_t)m) < 0) {
                        /* the peer went away; its read will say so */
                }
                memmove(cn->buf, nl + 1, cn->len - line);
                cn->len -= line + 1;
        }
        return poe_nil();
}

static poe_value conn_stop(poe_ctx *c)
{
        struct conn *cn = poe_ctx_heap(c);

        if (cn->fd >= 0)
                close(cn->fd);
        free(cn);
        return poe_nil();
}

/* ---- the listener ---- */

static poe_value listener_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int *fd = poe_ctx_heap(c);

        poe_kernel_alias_set(k, "listener");
        poe_kernel_select_read(k, *fd, "accept", POE_NOARGS);
        return poe_nil();
}

static poe_value listener_accept(poe_ctx *c)
{
        static const poe_handler h[] = {
                { "_start", conn_start, NULL },
                { "readable", conn_readable, NULL },
                { "hangup", conn_hangup, NULL },
                { "_stop", conn_stop, NULL },
        };
        poe_session_spec spec = { .handlers = h, .n_handlers = 4 };
        int *lfd = poe_ctx_heap(c);
        struct conn *cn;
        int fd = accept(*lfd, NULL, NULL);

        if (fd < 0)
                return poe_nil();
        cn = calloc(1, sizeof(*cn));
        if (!cn) {
                close(fd);
                return poe_nil();
        }
        cn->fd = fd;
        spec.heap = cn;
        poe_kernel_post_alias(poe_ctx_kernel(c), "stats", "count", POE_ARGS(poe_str("client")));
        if (poe_session_create(poe_ctx_kernel(c), &spec, NULL) < 0) {
                close(fd);
                free(cn);
        }
        return poe_nil();
}

static poe_value listener_shutdown(poe_ctx *c)
{
        int *fd = poe_ctx_heap(c);

        poe_kernel_select_read(poe_ctx_kernel(c), *fd, NULL, POE_NOARGS);
        poe_kernel_alias_remove(poe_ctx_kernel(c), "listener");
        return poe_nil();
}

/* ---- clients of our own server ---- */

struct client {
        int fd;
        int sent;
};

static poe_value client_start(poe_ctx *c)
{
        struct client *cl = poe_ctx_heap(c);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)server_port) };

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        cl->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (cl->fd < 0 || connect(cl->fd, (struct sockaddr *)&a, sizeof(a)) < 0)
                return poe_nil();
        poe_kernel_select_read(poe_ctx_kernel(c), cl->fd, "reply", POE_NOARGS);
        poe_kernel_delay(poe_ctx_kernel(c), "send", 0.2, POE_NOARGS);
        poe_kernel_sig(poe_ctx_kernel(c), "INT", "hangup", POE_NOARGS);
        poe_kernel_sig(poe_ctx_kernel(c), "TERM", "hangup", POE_NOARGS);
        return poe_nil();
}

/* INT or TERM: the client leaves now instead of finishing its lines. */
static poe_value client_hangup(poe_ctx *c)
{
        struct client *cl = poe_ctx_heap(c);
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_delay(k, "send", POE_NO_TIME, POE_NOARGS);
        if (cl->fd >= 0) {
                poe_kernel_select_read(k, cl->fd, NULL, POE_NOARGS);
                close(cl->fd);
                cl->fd = -1;
        }
        return poe_nil();
}

static poe_value client_send(poe_ctx *c)
{
        static const char *const lines[] = { "hello poe\n", "sessions all the way down\n",
                                             "goodbye\n" };
        struct client *cl = poe_ctx_heap(c);

        if (cl->sent < 3) {
                if (write(cl->fd, lines[cl->sent], strlen(lines[cl->sent])) < 0)
                        return poe_nil();
                cl->sent++;
                poe_kernel_delay(poe_ctx_kernel(c), "send", 0.5, POE_NOARGS);
        } else {
                /* Hang up; the reply watcher sees EOF and lets go. */
                shutdown(cl->fd, SHUT_WR);
        }
        return poe_nil();
}

static poe_value client_reply(poe_ctx *c)
{
        struct client *cl = poe_ctx_heap(c);
        char buf[256];

        if (read(cl->fd, buf, sizeof(buf)) <= 0)
                poe_kernel_select_read(poe_ctx_kernel(c), cl->fd, NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value client_stop(poe_ctx *c)
{
        struct client *cl = poe_ctx_heap(c);

        if (cl->fd >= 0)
                close(cl->fd);
        free(cl);
        return poe_nil();
}

/* ---- the ticker: named and id timers ---- */

struct ticker {
        long ticks;
        poe_alarm_id id;
        int stopping;
};

static poe_value ticker_start(poe_ctx *c)
{
        struct ticker *t = poe_ctx_heap(c);
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_set(k, "ticker");
        poe_kernel_delay(k, "tick", 1.0, POE_NOARGS);
        poe_kernel_delay_set(k, "rare", 30.0, POE_NOARGS, &t->id);
        return poe_nil();
}

static void spawn_client(poe_kernel *k);

static poe_value ticker_tick(poe_ctx *c)
{
        struct ticker *t = poe_ctx_heap(c);
        poe_kernel *k = poe_ctx_kernel(c);

        if (t->stopping)
                return poe_nil();
        t->ticks++;
        poe_kernel_delay(k, "tick", 1.0, POE_NOARGS);
        /* Every 4 s a client, every 5 s a worker, every tick something
         * for the flaky session; and the id timer is pushed back. */
        if (t->ticks % 4 == 0)
                spawn_client(k);
        if (t->ticks % 5 == 0)
                poe_kernel_post_alias(k, "workers", "spawn", POE_NOARGS);
        poe_kernel_post_alias(k, "flaky", "work", POE_ARGS(poe_int(t->ticks)));
        poe_kernel_alarm_adjust(k, t->id, 1.0, NULL);
        return poe_nil();
}

static poe_value ticker_rare(poe_ctx *c)
{
        struct ticker *t = poe_ctx_heap(c);

        if (!t->stopping)
                poe_kernel_delay_set(poe_ctx_kernel(c), "rare", 30.0, POE_NOARGS, &t->id);
        return poe_nil();
}

static poe_value ticker_shutdown(poe_ctx *c)
{
        struct ticker *t = poe_ctx_heap(c);
        poe_kernel *k = poe_ctx_kernel(c);

        t->stopping = 1;
        poe_kernel_alarm_remove_all(k, NULL, NULL);
        poe_kernel_alias_remove(k, "ticker");
        return poe_nil();
}

static void spawn_client(poe_kernel *k)
{
        static const poe_handler h[] = {
                { "_start", client_start, NULL },
                { "send", client_send, NULL },
                { "reply", client_reply, NULL },
                { "hangup", client_hangup, NULL },
                { "_stop", client_stop, NULL },
        };
        poe_session_spec spec = { .handlers = h, .n_handlers = 5 };
        struct client *cl = calloc(1, sizeof(*cl));

        if (!cl)
                return;
        cl->fd = -1;
        spec.heap = cl;
        if (poe_session_create(k, &spec, NULL) < 0)
                free(cl);
}

/* ---- workers: child processes reaped with sig_child ---- */

/* The children still running, so that a shutdown can end them. */
static pid_t worker_pids[64];

static poe_value workers_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "workers");
        return poe_nil();
}

static poe_value workers_spawn(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        pid_t pid;

        fflush(NULL);
        pid = fork();
        if (pid < 0)
                return poe_nil();
        if (pid == 0) {
                /* The child: some "work", then an exit code. */
                struct timespec t = { 1, 500000000 };

                nanosleep(&t, NULL);
                _exit((int)(getpid() % 4));
        }
        for (size_t i = 0; i < sizeof(worker_pids) / sizeof(worker_pids[0]); i++) {
                if (worker_pids[i] == 0) {
                        worker_pids[i] = pid;
                        break;
                }
        }
        poe_kernel_sig_child(k, (int)pid, "reaped", POE_NOARGS);
        return poe_nil();
}

static poe_value workers_reaped(poe_ctx *c)
{
        int status = (int)poe_value_int(poe_ctx_arg(c, 2));
        pid_t pid = (pid_t)poe_value_int(poe_ctx_arg(c, 1));

        for (size_t i = 0; i < sizeof(worker_pids) / sizeof(worker_pids[0]); i++)
                if (worker_pids[i] == pid)
                        worker_pids[i] = 0;
        poe_kernel_post_alias(poe_ctx_kernel(c), "stats", "count", POE_ARGS(poe_str("child")));
        if (WIFSIGNALED(status))
                printf("worker %lld ended by signal %d\n", (long long)pid, WTERMSIG(status));
        else
                printf("worker %lld exited with %d\n", (long long)pid, WEXITSTATUS(status));
        fflush(stdout);
        return poe_nil();
}

static poe_value workers_shutdown(poe_ctx *c)
{
        /* The children's work is not worth waiting for: they are ended,
         * and reaped as any other. */
        for (size_t i = 0; i < sizeof(worker_pids) / sizeof(worker_pids[0]); i++)
                if (worker_pids[i] > 0)
                        kill(worker_pids[i], SIGTERM);
        poe_kernel_alias_remove(poe_ctx_kernel(c), "workers");
        return poe_nil();
}

/* ---- flaky: a handler that dies, and a session that copes ---- */

static poe_value flaky_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_set(k, "flaky");
        poe_kernel_sig(k, "DIE", "oops", POE_NOARGS);
        return poe_nil();
}

static poe_value flaky_work(poe_ctx *c)
{
        long n = (long)poe_value_int(poe_ctx_arg(c, 0));

        if (n % 3 == 0)
                poe_die(c, "flaky: tick %ld is divisible by three", n);
        return poe_int(n);
}

static poe_value flaky_oops(poe_ctx *c)
{
        poe_exception e;

        if (poe_value_exception(poe_ctx_arg(c, 1), &e) == 0)
                fprintf(stderr, "poe-demo: handled DIE in '%s': %s", e.event, e.error_str);
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value flaky_shutdown(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_sig(k, "DIE", NULL, POE_NOARGS);
        poe_kernel_alias_remove(k, "flaky");
        return poe_nil();
}

/* The token in POE_INSPECTOR_TOKEN_FILE's first line (blanks and line end
 * stripped) into buf, or POE_INSPECTOR_TOKEN; NULL for none, and -1 when
 * the file is named but holds no token or cannot be read. */
static int token_from_env(char *buf, size_t size, const char **ret)
{
        const char *path = getenv("POE_INSPECTOR_TOKEN_FILE");
        size_t n, start = 0;
        FILE *f;

        *ret = getenv("POE_INSPECTOR_TOKEN");
        if (!path || !*path)
                return 0;
        f = fopen(path, "re");
        if (!f) {
                fprintf(stderr, "poe-demo: POE_INSPECTOR_TOKEN_FILE=%s: %s\n", path,
                        strerror(errno));
                return -1;
        }
        n = fread(buf, 1, size - 1, f);
        fclose(f);
        buf[n] = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        n = strlen(buf);
        while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
                buf[--n] = '\0';
        while (buf[start] == ' ' || buf[start] == '\t')
                start++;
        if (!buf[start]) {
                fprintf(stderr, "poe-demo: POE_INSPECTOR_TOKEN_FILE=%s: no token in it\n", path);
                return -1;
        }
        *ret = buf + start;
        return 0;
}

/* ---- the root: owns everything, and stops it on INT or TERM ---- */

static poe_value root_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_set(k, "demo");
        poe_kernel_sig(k, "INT", "shutdown", POE_NOARGS);
        poe_kernel_sig(k, "TERM", "shutdown", POE_NOARGS);
        return poe_nil();
}

static poe_value root_shutdown(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        static const char *const services[] = { "listener", "ticker", "workers", "flaky" };
        size_t i;

        fprintf(stderr, "poe-demo: %s: stopping\n", poe_value_str(poe_ctx_arg(c, 0)));
        poe_kernel_sig_handled(k);
        /* Graceful: each service lets go of what it holds, and the
         * sessions end when nothing is left; stats goes last. */
        for (i = 0; i < sizeof(services) / sizeof(services[0]); i++)
                poe_kernel_post_alias(k, services[i], "shutdown", POE_NOARGS);
        poe_kernel_sig(k, "INT", NULL, POE_NOARGS);
        poe_kernel_sig(k, "TERM", NULL, POE_NOARGS);
        poe_kernel_alias_remove(k, "demo");
        poe_kernel_post_alias(k, "stats", "shutdown", POE_NOARGS);
        return poe_nil();
}

static poe_value stats_shutdown(poe_ctx *c)
{
        poe_kernel_alias_remove(poe_ctx_kernel(c), "stats");
        return poe_nil();
}

static int make_listener(void)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
            getsockname(fd, (struct sockaddr *)&a, &len) < 0)
                return -1;
        server_port = ntohs(a.sin_port);
        return fd;
}

static int create(poe_kernel *k, const poe_handler *h, size_t n, void *heap)
{
        poe_session_spec spec = { .handlers = h, .n_handlers = n, .heap = heap };

        return poe_session_create(k, &spec, NULL);
}

int main(int argc, char **argv)
{
        static const poe_handler root[] = { { "_start", root_start, NULL },
                                            { "shutdown", root_shutdown, NULL } };
        static const poe_handler stats_h[] = { { "_start", stats_start, NULL },
                                               { "count", stats_count, NULL },
                                               { "shutdown", stats_shutdown, NULL } };
        static const poe_handler listener[] = { { "_start", listener_start, NULL },
                                                { "accept", listener_accept, NULL },
                                                { "shutdown", listener_shutdown, NULL } };
        static const poe_handler ticker[] = { { "_start", ticker_start, NULL },
                                              { "tick", ticker_tick, NULL },
                                              { "rare", ticker_rare, NULL },
                                              { "shutdown", ticker_shutdown, NULL } };
        static const poe_handler workers[] = { { "_start", workers_start, NULL },
                                               { "spawn", workers_spawn, NULL },
                                               { "reaped", workers_reaped, NULL },
                                               { "shutdown", workers_shutdown, NULL } };
        static const poe_handler flaky[] = { { "_start", flaky_start, NULL },
                                             { "work", flaky_work, NULL },
                                             { "oops", flaky_oops, NULL },
                                             { "shutdown", flaky_shutdown, NULL } };
        static const struct option longopts[] = {
                { "inspector", required_argument, NULL, 'i' },
                { "trace-db", required_argument, NULL, 'd' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        poe_inspector_options o;
        struct stats st = { 0, 0, 0 };
        struct ticker tk = { 0, 0, 0 };
        poe_inspector *in = NULL;
        poe_kernel *k;
        char token[4096];
        int lfd, r, opt;

        memset(&o, 0, sizeof(o));
        o.address = getenv("POE_INSPECTOR") ? getenv("POE_INSPECTOR") : "127.0.0.1:8080";
        o.trace_db = getenv("POE_TRACE_DB");
        o.allow_remote = getenv("POE_INSPECTOR_REMOTE") && atoi(getenv("POE_INSPECTOR_REMOTE"));
        while ((opt = getopt_long(argc, argv, "i:d:h", longopts, NULL)) != -1) {
                switch (opt) {
                case 'i':
                        o.address = optarg;
                        break;
                case 'd':
                        o.trace_db = optarg;
                        break;
                case 'h':
                        printf("usage: poe-demo [--inspector HOST:PORT] [--trace-db PATH]\n"
                               "The inspector's token: POE_INSPECTOR_TOKEN, or "
                               "POE_INSPECTOR_TOKEN_FILE (its first line).\n");
                        return 0;
                default:
                        fprintf(stderr, "usage: poe-demo [--inspector HOST:PORT] "
                                        "[--trace-db PATH] (the token: POE_INSPECTOR_TOKEN "
                                        "or POE_INSPECTOR_TOKEN_FILE)\n");
                        return 2;
                }
        }
        if (token_from_env(token, sizeof(token), &o.token) < 0)
                return 2;
        /* The demo starts its inspector itself; keep poe_kernel_new from
         * starting a second one from the same variable. */
        unsetenv("POE_INSPECTOR");
        lfd = make_listener();
        if (lfd < 0 || poe_kernel_new(&k, NULL) < 0) {
                perror("poe-demo");
                return 1;
        }
        if (create(k, root, 2, NULL) < 0 || create(k, stats_h, 3, &st) < 0 ||
            create(k, listener, 3, &lfd) < 0 || create(k, ticker, 4, &tk) < 0 ||
            create(k, workers, 4, NULL) < 0 || create(k, flaky, 4, NULL) < 0) {
                fprintf(stderr, "poe-demo: cannot create the sessions\n");
                return 1;
        }
        r = poe_inspector_start(k, &o, &in);
        if (r < 0)
                fprintf(stderr, "poe-demo: no inspector on %s: %s\n", o.address, strerror(-r));
        else if (strncmp(poe_inspector_url(in), "http://0.0.0.0:", 15) == 0)
                printf("poe-demo: line server on 127.0.0.1:%d; point your browser at "
                       "http://127.0.0.1:%d/ (the inspector listens on every address)\n",
                       server_port, poe_inspector_port(in));
        else
                printf("poe-demo: line server on 127.0.0.1:%d; point your browser at %s\n",
                       server_port, poe_inspector_url(in));
        fflush(stdout);
        r = poe_kernel_run(k);
        {
                /* Said apart from the demo's own graceful end (a worker's
                 * sleep, a client's last lines), which can take longer. */
                struct timespec t0, t1;

                clock_gettime(CLOCK_MONOTONIC, &t0);
                in = poe_inspector_stop(in);
                clock_gettime(CLOCK_MONOTONIC, &t1);
                fprintf(stderr, "poe-demo: the inspector stopped in %.3f s\n",
                        (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
        }
        close(lfd);
        printf("poe-demo: done: %ld lines, %ld clients, %ld workers (run: %d)\n", st.lines,
               st.clients, st.children, r);
        poe_kernel_free(k);
        return r == 0 ? 0 : 1;
}
