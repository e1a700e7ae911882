/*
 * uv-server: libpoe sessions inside a libuv program with its own TCP
 * server, through libpoe-uv.
 *
 * The program listens on 127.0.0.1 (a free port) with libuv and answers
 * each line in upper case.  A POE session connects to it with a plain
 * non-blocking socket, watched with select_write and select_read, sends
 * a line, prints the answer and closes; when the session stops, the
 * program closes its server, and uv_run returns, since the kernel holds
 * the loop up only while it has sessions.  Run it with
 * POE_INSPECTOR=127.0.0.1:8080 to watch the session in a browser.
 * Usage: uv-server
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <poe/inspector.h>
#include <poe/poe-uv.h>

static uv_tcp_t server;
static struct sockaddr_in addr;
static int client_fd = -1;

/* ---- the program's own server, in libuv ---- */

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
        (void)h;
        buf->base = malloc(size);
        buf->len = buf->base ? size : 0;
}

static void on_written(uv_write_t *w, int status)
{
        (void)status;
        free(w->data);
        free(w);
}

static void on_conn_closed(uv_handle_t *h)
{
        free(h);
}

static void on_read(uv_stream_t *conn, ssize_t n, const uv_buf_t *buf)
{
        if (n > 0) {
                uv_write_t *w = malloc(sizeof(*w));
                char *up = malloc((size_t)n);
                uv_buf_t out;
                ssize_t i;

                for (i = 0; i < n; i++)
                        up[i] = (char)(buf->base[i] >= 'a' && buf->base[i] <= 'z' ?
                                               buf->base[i] - 32 : buf->base[i]);
                printf("uv: server read %zd bytes\n", n);
                out = uv_buf_init(up, (unsigned)n);
                w->data = up;
                uv_write(w, conn, &out, 1, on_written);
        } else if (n < 0) {
                printf("uv: client went away\n");
                uv_close((uv_handle_t *)conn, on_conn_closed);
        }
        free(buf->base);
}

static void on_connection(uv_stream_t *srv, int status)
{
        uv_tcp_t *conn = malloc(sizeof(*conn));

        if (status < 0 || !conn) {
                free(conn);
                return;
        }
        uv_tcp_init(srv->loop, conn);
        if (uv_accept(srv, (uv_stream_t *)conn) == 0) {
                printf("uv: server accepted a client\n");
                uv_read_start((uv_stream_t *)conn, on_alloc, on_read);
        } else {
                uv_close((uv_handle_t *)conn, on_conn_closed);
        }
}

/* ---- the POE session, a client of it ---- */

static poe_value on_start(poe_ctx *c)
{
        client_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (connect(client_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 &&
            errno != EINPROGRESS)
                perror("connect");
        poe_kernel_select_write(poe_ctx_kernel(c), client_fd, "connected", POE_NOARGS);
        return poe_nil();
}

static poe_value on_connected(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        printf("poe: connected; sending a line\n");
        poe_kernel_select_write(k, client_fd, NULL, POE_NOARGS);
        if (write(client_fd, "hello, uv\n", 10) != 10)
                perror("write");
        poe_kernel_select_read(k, client_fd, "answer", POE_NOARGS);
        return poe_nil();
}

static poe_value on_answer(poe_ctx *c)
{
        char buf[64];
        ssize_t n = read(client_fd, buf, sizeof(buf) - 1);

        buf[n > 0 ? n : 0] = '\0';
        printf("poe: the server answered %s", buf);
        poe_kernel_select_read(poe_ctx_kernel(c), client_fd, NULL, POE_NOARGS);
        close(client_fd);
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        (void)c;
        printf("poe: session stopped; closing the server\n");
        uv_close((uv_handle_t *)&server, NULL);
        return poe_nil();
}

int main(void)
{
        static const poe_handler handlers[] = {
                { "_start", on_start, NULL },
                { "connected", on_connected, NULL },
                { "answer", on_answer, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_session_spec spec = { .handlers = handlers, .n_handlers = 4 };
        uv_loop_t *loop = uv_default_loop();
        socklen_t len = sizeof(addr);
        poe_inspector *in = NULL;
        poe_kernel *k;
        poe_uv *h;

        uv_ip4_addr("127.0.0.1", 0, &addr);
        uv_tcp_init(loop, &server);
        if (uv_tcp_bind(&server, (struct sockaddr *)&addr, 0) < 0 ||
            uv_listen((uv_stream_t *)&server, 8, on_connection) < 0 ||
            uv_tcp_getsockname(&server, (struct sockaddr *)&addr, (int *)&len) < 0)
                return 1;
        printf("uv: listening\n");
        if (poe_kernel_new(&k, NULL) < 0 || poe_inspector_start_from_env(k, &in) < 0 ||
            poe_uv_attach(k, loop, &h) < 0 || poe_session_create(k, &spec, NULL) < 0)
                return 1;
        uv_run(loop, UV_RUN_DEFAULT);
        poe_uv_detach(h);
        uv_run(loop, UV_RUN_NOWAIT); /* the kernel's handles' close callbacks */
        poe_inspector_stop(in);
        poe_kernel_free(k);
        printf("uv: loop done\n");
        return uv_loop_close(loop) == 0 ? 0 : 1;
}
