/*
 * POE t/90_regression/rt19908-merlyn-stop.t: a die in _stop reaches
 * run()'s caller, and _stop runs once.  Upstream's five-second alarm()
 * guard is the test runner's timeout here.  Upstream's assertions have
 * no names but the first; they are named after their comments.
 */
#include <errno.h>
#include <string.h>

#include <poe/poe.h>

#include "../tap.h"

static int stop_count;

static poe_value on_start(poe_ctx *c)
{
        (void)c;
        tap_pass("started");
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        stop_count++;
        poe_die(c, "stop\n");
}

int main(void)
{
        static const poe_handler h[] = {{"_start", on_start, NULL}, {"_stop", on_stop, NULL}};
        poe_session_spec spec = {.handlers = h, .n_handlers = 2};
        const char *e;
        poe_kernel *k;
        int rc;

        tap_plan(3);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        rc = poe_kernel_run(k);
        e = rc == -ECANCELED ? poe_kernel_exception(k) : NULL;
        tap_ok(e && strcmp(e, "stop\n") == 0, "stopped due to a 'stop' exception (in _stop)");
        tap_ok(stop_count == 1, "stopped after one _stop");
        poe_kernel_free(k);
        return tap_done();
}
