/*
 * POE t/90_regression/ton-stop-corruption.t: stop() from an I/O
 * handler stops the session once.  POE::Pipe::OneWay is pipe(2).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <poe/poe.h>

#include "../tap.h"

static int rd = -1, wr = -1, stop_was_called;

static poe_value on_start(poe_ctx *c)
{
        poe_kernel_select_read(poe_ctx_kernel(c), rd, "readable", POE_NOARGS);
        return poe_nil();
}

static poe_value readable(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tap_pass("got readable callback; calling stop");
        poe_kernel_select_read(k, rd, NULL, POE_NOARGS);
        poe_kernel_stop(k);
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        (void)c;
        stop_was_called++;
        return poe_nil();
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL}, {"readable", readable, NULL}, {"_stop", on_stop, NULL},
                {"_parent", nop, NULL},     {"_child", nop, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 5};
        int fds[2] = {-1, -1};
        poe_kernel *k;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(5);
        tap_skip("use POE", "use_ok: there is no module to load in C");
        tap_skip("use POE::Pipe::OneWay", "use_ok: there is no module to load in C");
        tap_ok(pipe(fds) == 0, "created a pipe for testing");
        rd = fds[0];
        wr = fds[1];
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        close(wr);
        poe_kernel_run(k);
        tap_is_int(stop_was_called, 1, "stop was only called once");
        poe_kernel_free(k);
        close(rd);
        return tap_done();
}
