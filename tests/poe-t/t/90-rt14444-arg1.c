/*
 * POE t/90_regression/rt14444-arg1.t: _default gets the original event's
 * arguments as a list in ARG1, which survives being passed on as it is
 * ("by reference") and as a copy.
 */
#include <string.h>

#include <poe/poe.h>

#include "../tap.h"

static const char *test_state = "some_random_state";
static const char *test_args[] = {"some", "random", "args"};

/* is_deeply(\@test_args, $list): a list of the three strings. */
static int same_args(const poe_value *v)
{
        uint32_t i;

        if (v->type != POE_T_LIST || v->len != 3)
                return 0;
        for (i = 0; i < 3; i++) {
                const char *s = poe_value_str(&v->u.list[i]);

                if (!s || strcmp(s, test_args[i]) != 0)
                        return 0;
        }
        return 1;
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel_yield(
                poe_ctx_kernel(c), test_state,
                POE_ARGS(poe_str(test_args[0]), poe_str(test_args[1]), poe_str(test_args[2])));
        return poe_nil();
}

static poe_value on_default(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        const poe_value *orig_args = poe_ctx_arg(c, 1);
        const char *orig_state = poe_value_str(poe_ctx_arg(c, 0));
        poe_value copy[3];
        uint32_t i;

        if (orig_state && strcmp(orig_state, test_state) == 0)
                tap_ok(same_args(orig_args), "test args passed okay");
        poe_kernel_yield(k, "check_ref", orig_args, 1);
        for (i = 0; i < 3 && orig_args->type == POE_T_LIST && i < orig_args->len; i++)
                copy[i] = orig_args->u.list[i];
        poe_kernel_yield(k, "check_copy", POE_ARGS(poe_list(copy, i)));
        return poe_nil();
}

static poe_value check_ref(poe_ctx *c)
{
        tap_ok(same_args(poe_ctx_arg(c, 0)), "args preserved in pass by reference");
        return poe_nil();
}

static poe_value check_copy(poe_ctx *c)
{
        tap_ok(same_args(poe_ctx_arg(c, 0)), "args preserved in pass by copy");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},
                {"_default", on_default, NULL},
                {"check_ref", check_ref, NULL},
                {"check_copy", check_copy, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 4};
        poe_kernel *k;

        tap_plan(3);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        poe_kernel_free(k);
        return tap_done();
}
