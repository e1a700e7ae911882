/* io-tcp-echo: the C side of io-tcp-echo.pl (see there). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "oracle.h"

/* A side's log, printed after run() returns. */
struct log {
        char lines[16][64];
        int n;
};

static struct log server_log, client_log;
static struct sockaddr_in addr;
static int listener = -1, conn = -1, sock = -1;
static char sbuf[4096], cbuf[4096];
static int client_lines;

/* Appends the line a + b to a log. */
static void note(struct log *l, const char *a, const char *b)
{
        if (l->n < 16)
                snprintf(l->lines[l->n++], sizeof(l->lines[0]), "%s%s", a, b);
}

static void die(const char *what)
{
        perror(what);
        exit(1);
}

/* Takes complete lines off the front of buf, calling fn for each. */
static void each_line(char *buf, void (*fn)(const char *line))
{
        char *nl;

        while ((nl = strchr(buf, '\n'))) {
                *nl = '\0';
                fn(buf);
                memmove(buf, nl + 1, strlen(nl + 1) + 1);
        }
}

static void server_line(const char *line)
{
        char out[128];
        int n = snprintf(out, sizeof(out), "echo: %s\n", line);

        note(&server_log, "got ", line);
        if (write(conn, out, (size_t)n) != n)
                die("write");
}

static void client_line(const char *line)
{
        note(&client_log, "got ", line);
        client_lines++;
}

static poe_value s_start(poe_ctx *c)
{
        socklen_t len = sizeof(addr);

        listener = socket(AF_INET, SOCK_STREAM, 0);
        if (listener < 0)
                die("socket");
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (bind(listener, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(listener, 4) < 0 ||
            getsockname(listener, (struct sockaddr *)&addr, &len) < 0)
                die("listen");
        poe_kernel_select_read(poe_ctx_kernel(c), listener, "accept", POE_NOARGS);
        return poe_nil();
}

static poe_value s_accept(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        conn = accept(listener, NULL, NULL);
        if (conn < 0)
                return poe_nil();
        note(&server_log, "accepted", "");
        poe_kernel_select_read(k, listener, NULL, POE_NOARGS);
        close(listener);
        listener = -1;
        poe_kernel_select_read(k, conn, "read", POE_NOARGS);
        return poe_nil();
}

static poe_value s_read(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        size_t have = strlen(sbuf);
        ssize_t n = read(conn, sbuf + have, sizeof(sbuf) - 1 - have);

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return poe_nil();
        if (n < 0)
                die("read");
        if (n == 0) {
                note(&server_log, "eof", "");
                poe_kernel_select_read(k, conn, NULL, POE_NOARGS);
                close(conn);
                conn = -1;
                return poe_nil();
        }
        sbuf[have + (size_t)n] = '\0';
        each_line(sbuf, server_line);
        return poe_nil();
}

static poe_value s_stop(poe_ctx *c)
{
        note(&server_log, "_stop", "");
        return poe_nil();
}

static poe_value c_start(poe_ctx *c)
{
        sock = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (sock < 0)
                die("socket");
        if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0 && errno != EINPROGRESS)
                die("connect");
        poe_kernel_select_write(poe_ctx_kernel(c), sock, "connected", POE_NOARGS);
        return poe_nil();
}

static poe_value c_connected(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        socklen_t len = sizeof(int);
        int err = -1;
        char line[64];

        getsockopt(sock, SOL_SOCKET, SO_ERROR, &err, &len);
        snprintf(line, sizeof(line), "connected, error %d, mode %s", err, val(poe_ctx_arg(c, 1)));
        note(&client_log, line, "");
        poe_kernel_select_write(k, sock, NULL, POE_NOARGS);
        if (write(sock, "hello\nworld\n", 12) != 12)
                die("write");
        poe_kernel_select_read(k, sock, "read", POE_NOARGS);
        return poe_nil();
}

static poe_value c_read(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        size_t have = strlen(cbuf);
        ssize_t n = read(sock, cbuf + have, sizeof(cbuf) - 1 - have);

        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return poe_nil();
        if (n <= 0)
                die("read");
        cbuf[have + (size_t)n] = '\0';
        each_line(cbuf, client_line);
        if (client_lines == 2) {
                note(&client_log, "hang up", "");
                poe_kernel_select_read(k, sock, NULL, POE_NOARGS);
                close(sock);
                sock = -1;
        }
        return poe_nil();
}

static poe_value c_stop(poe_ctx *c)
{
        note(&client_log, "_stop", "");
        return poe_nil();
}

int main(void)
{
        static const poe_handler sh[] = {
                { "_start", s_start, NULL },
                { "accept", s_accept, NULL },
                { "read", s_read, NULL },
                { "_stop", s_stop, NULL },
        };
        static const poe_handler ch[] = {
                { "_start", c_start, NULL },
                { "connected", c_connected, NULL },
                { "read", c_read, NULL },
                { "_stop", c_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();
        int i;

        oracle_create(k, sh, ORACLE_N(sh), POE_NOARGS, NULL);
        oracle_create(k, ch, ORACLE_N(ch), POE_NOARGS, NULL);
        poe_kernel_run(k);
        for (i = 0; i < server_log.n; i++)
                printf("server: %s\n", server_log.lines[i]);
        for (i = 0; i < client_log.n; i++)
                printf("client: %s\n", client_log.lines[i]);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
