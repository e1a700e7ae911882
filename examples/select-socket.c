/*
 * select-socket: a tiny TCP server and its client in one program.
 *
 * The server listens on 127.0.0.1 (a free port) and watches the
 * listening socket with select_read; each ready event accepts a client
 * and watches it too.  It answers every line in upper case.  The client
 * connects, sends a line, waits for the answer (select_read on its own
 * socket), sends the next, and closes after the last.  Each watched fd
 * keeps its session alive; unwatching the last one lets the session stop.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <poe/poe.h>

static const char *const lines[] = { "hello", "bye" };
static int port;

static poe_value server_start(poe_ctx *c)
{
        struct sockaddr_in a = { .sin_family = AF_INET };
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, len) < 0 || listen(fd, 4) < 0 ||
            getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
                perror("server");
                exit(EXIT_FAILURE);
        }
        port = ntohs(a.sin_port);
        poe_kernel_select_read(poe_ctx_kernel(c), fd, "accept", POE_NOARGS);
        printf("server: listening\n");
        return poe_nil();
}

static poe_value server_accept(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int lfd = (int)poe_value_int(poe_ctx_arg(c, 0));
        int fd = accept(lfd, NULL, NULL);

        if (fd < 0)
                return poe_nil(); /* the client went away first */
        printf("server: accepted a client\n");
        poe_kernel_select_read(k, fd, "input", POE_NOARGS);
        /* One client is all this demo serves: stop listening. */
        poe_kernel_select_read(k, lfd, NULL, POE_NOARGS);
        close(lfd);
        return poe_nil();
}

static poe_value server_input(poe_ctx *c)
{
        int fd = (int)poe_value_int(poe_ctx_arg(c, 0));
        char buf[256];
        ssize_t n = read(fd, buf, sizeof(buf) - 1), i;

        if (n <= 0) {
                /* End of file: unwatch before closing, as POE asks. */
                printf("server: client closed\n");
                poe_kernel_select_read(poe_ctx_kernel(c), fd, NULL, POE_NOARGS);
                close(fd);
                return poe_nil();
        }
        for (i = 0; i < n; i++)
                buf[i] = (char)toupper((unsigned char)buf[i]);
        if (write(fd, buf, (size_t)n) != n)
                perror("server: write");
        return poe_nil();
}

static poe_value server_stop(poe_ctx *c)
{
        printf("server: stopped\n");
        return poe_nil();
}

static int sent;

static void client_send(int fd)
{
        char line[64];
        int n = snprintf(line, sizeof(line), "%s\n", lines[sent++]);

        printf("client: sending %s", line);
        if (write(fd, line, (size_t)n) != n)
                perror("client: write");
}

static poe_value client_start(poe_ctx *c)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        /* A blocking connect to a listening loopback port returns at once. */
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                perror("client");
                exit(EXIT_FAILURE);
        }
        poe_kernel_select_read(poe_ctx_kernel(c), fd, "reply", POE_NOARGS);
        client_send(fd);
        return poe_nil();
}

static poe_value client_reply(poe_ctx *c)
{
        int fd = (int)poe_value_int(poe_ctx_arg(c, 0));
        char buf[256];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);

        if (n <= 0)
                return poe_nil();
        buf[n] = '\0';
        printf("client: got %s", buf);
        if (sent < (int)(sizeof(lines) / sizeof(lines[0]))) {
                client_send(fd);
                return poe_nil();
        }
        poe_kernel_select_read(poe_ctx_kernel(c), fd, NULL, POE_NOARGS);
        close(fd);
        printf("client: done\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler server[] = {
                { "_start", server_start, NULL },
                { "accept", server_accept, NULL },
                { "input", server_input, NULL },
                { "_stop", server_stop, NULL },
        };
        static const poe_handler client[] = {
                { "_start", client_start, NULL },
                { "reply", client_reply, NULL },
        };
        poe_session_spec s = { .handlers = server, .n_handlers = 4 };
        poe_session_spec cl = { .handlers = client, .n_handlers = 2 };
        poe_kernel *k;

        /* Line-buffered, so the transcript keeps its order in a pipe too. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (poe_kernel_new(&k, NULL) < 0)
                return EXIT_FAILURE;
        /* The server's _start has bound the port before the client starts. */
        if (poe_session_create(k, &s, NULL) < 0 || poe_session_create(k, &cl, NULL) < 0)
                return EXIT_FAILURE;
        poe_kernel_run(k);
        poe_kernel_free(k);
        return EXIT_SUCCESS;
}
