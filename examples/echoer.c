/*
 * echoer: an aliased service, the POE documentation's "echo" pattern.
 *
 * The server session takes the alias "echoer" and handles one event,
 * "echo".  Called (call), it answers with its return value, at once.
 * Posted (post) with a reply event name in ARG1, it answers by posting
 * that event back to SENDER, later.  The alias keeps the server alive
 * with nothing to do; when the client is gone the kernel sees that
 * nothing can happen any more, raises IDLE, and the server stops too.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <poe/poe.h>

static char reply_buf[128];

static poe_value server_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "echoer");
        printf("server: listening as \"echoer\"\n");
        return poe_nil();
}

static poe_value server_echo(poe_ctx *c)
{
        const char *text = poe_value_str(poe_ctx_arg(c, 0));
        const char *reply_to = poe_value_str(poe_ctx_arg(c, 1));

        printf("server: session %" PRIu64 " said \"%s\"\n", poe_ctx_sender(c), text);
        snprintf(reply_buf, sizeof(reply_buf), "echo: %s", text ? text : "");
        /* A post carries the name of the event to answer with. */
        if (reply_to)
                poe_kernel_post(poe_ctx_kernel(c), poe_ctx_sender(c), reply_to,
                                POE_ARGS(poe_str(reply_buf)));
        /* Static storage: the caller reads it before we run again. */
        return poe_str(reply_buf);
}

static poe_value server_stop(poe_ctx *c)
{
        printf("server: stopped\n");
        return poe_nil();
}

static poe_value client_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value r;

        if (poe_kernel_call_alias(k, "echoer", "echo", POE_ARGS(poe_str("hello")), &r) == 0)
                printf("client: call returned \"%s\"\n", poe_value_str(&r));
        poe_kernel_post_alias(k, "echoer", "echo", POE_ARGS(poe_str("world"), poe_str("echoed")));
        printf("client: posted \"world\"\n");
        return poe_nil();
}

static poe_value client_echoed(poe_ctx *c)
{
        printf("client: the post came back as \"%s\"\n", poe_value_str(poe_ctx_arg(c, 0)));
        return poe_nil();
}

static poe_value client_stop(poe_ctx *c)
{
        printf("client: stopped\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler server[] = {
                { "_start", server_start, NULL },
                { "echo", server_echo, NULL },
                { "_stop", server_stop, NULL },
        };
        static const poe_handler client[] = {
                { "_start", client_start, NULL },
                { "echoed", client_echoed, NULL },
                { "_stop", client_stop, NULL },
        };
        poe_session_spec s = { .handlers = server, .n_handlers = 3 };
        poe_session_spec cl = { .handlers = client, .n_handlers = 3 };
        poe_kernel *k;

        if (poe_kernel_new(&k, NULL) < 0)
                return EXIT_FAILURE;
        if (poe_session_create(k, &s, NULL) < 0 || poe_session_create(k, &cl, NULL) < 0)
                return EXIT_FAILURE;
        poe_kernel_run(k);
        printf("run() returned\n");
        poe_kernel_free(k);
        return EXIT_SUCCESS;
}
