/*
 * POE t/90_regression/meh-startstop-return.t: the values _start and
 * _stop return reach the parent's _child as ARG2 ("create", "lose").
 * Upstream's object_states become handlers with an object pointer.
 */
#include <stdlib.h>
#include <string.h>

#include <poe/poe.h>

#include "../tap.h"

static char results[4][2][16];
static int n_results;

static poe_value fubar_start(poe_ctx *c)
{
        (void)c;
        return poe_str("_start");
}

static poe_value fubar_stop(poe_ctx *c)
{
        (void)c;
        return poe_str("_stop");
}

static poe_value on_start(poe_ctx *c)
{
        static int fubar; /* the object */
        static const poe_handler h[] = {
                {"_start", fubar_start, &fubar},
                {"_stop", fubar_stop, &fubar},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 2};

        poe_session_create(poe_ctx_kernel(c), &spec, NULL);
        return poe_nil();
}

static poe_value on_child(poe_ctx *c)
{
        const char *op = poe_value_str(poe_ctx_arg(c, 0));
        const char *ret = poe_value_str(poe_ctx_arg(c, 2));

        if (n_results < 4) {
                snprintf(results[n_results][0], 16, "%s", op ? op : "undef");
                snprintf(results[n_results][1], 16, "%s", ret ? ret : "undef");
        }
        n_results++;
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
                {"_start", on_start, NULL},
                {"_child", on_child, NULL},
                {"_stop", nop, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 3};
        poe_kernel *k;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(1);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        tap_ok(n_results == 2 && !strcmp(results[0][0], "create") &&
                       !strcmp(results[0][1], "_start") && !strcmp(results[1][0], "lose") &&
                       !strcmp(results[1][1], "_stop"),
               "_child gets _start's and _stop's return values");
        poe_kernel_free(k);
        return tap_done();
}
