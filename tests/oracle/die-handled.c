/* die-handled: the C side of die-handled.pl (see there). */
#include <errno.h>

#include "oracle.h"

static int die_line, post_line, step;

/* The message as the Perl side prints it: this file's name and the die's
 * line replaced, a newline shown as \n. */
static const char *err_text(const char *e)
{
        char *b = oracle_buf(), *at;
        char tail[256];
        size_t n = strlen(e);

        snprintf(tail, sizeof(tail), " at %s line %d.\n", __FILE__, die_line);
        at = strstr(e, tail);
        if (at && strlen(at) == strlen(tail)) {
                snprintf(b, 256, "%.*s at FILE line N.\\n", (int)(at - e), e);
                return b;
        }
        if (n && e[n - 1] == '\n')
                snprintf(b, 256, "%.*s\\n", (int)(n - 1), e);
        else
                snprintf(b, 256, "%s", e);
        return b;
}

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value on_die(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_exception e;
        char line[32];

        if (poe_value_exception(poe_ctx_arg(c, 1), &e) != 0) {
                printf("bad DIE fields\n");
                return poe_nil();
        }
        snprintf(line, sizeof(line), "%d", e.line);
        printf("%s on_die %s event=%s dest=%s source=%s from_state=%s file=%s line=%s "
               "error=%s\n",
               id_of(poe_ctx_session(c)), val(poe_ctx_arg(c, 0)), e.event,
               id_of(e.dest_session), id_of(e.source_session),
               e.from_state ? e.from_state : "undef",
               strcmp(e.file, __FILE__) == 0 ? "ok" : e.file,
               e.line == post_line ? "ok" : line, err_text(e.error_str));
        if (poe_ctx_session(c) == 1) {
                poe_kernel_sig_handled(k);
                poe_kernel_yield(k, "step", POE_NOARGS);
        }
        return poe_nil();
}

static poe_value c_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "C");
        poe_kernel_sig(poe_ctx_kernel(c), "DIE", "on_die", POE_NOARGS);
        return poe_nil();
}

static poe_value c_boom0(poe_ctx *c)
{
        printf("boom0\n");
        die_line = __LINE__; poe_die(c, "oops %d", 42);
}

static poe_value c_boom1(poe_ctx *c)
{
        printf("boom1\n");
        die_line = __LINE__; poe_die(c, "oops %d", 43);
}

static poe_value c_boom2(poe_ctx *c)
{
        printf("boom2\n");
        poe_die(c, "plain\n");
}

static poe_value c_bye(poe_ctx *c)
{
        poe_kernel_alias_remove(poe_ctx_kernel(c), "C");
        poe_kernel_sig(poe_ctx_kernel(c), "DIE", NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value p_start(poe_ctx *c)
{
        static const poe_handler h[] = {
                { "_start", c_start, NULL }, { "_stop", on_stop, NULL },
                { "on_die", on_die, NULL },  { "boom0", c_boom0, NULL },
                { "boom1", c_boom1, NULL },  { "boom2", c_boom2, NULL },
                { "bye", c_bye, NULL },
        };
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_set(k, "P");
        poe_kernel_sig(k, "DIE", "on_die", POE_NOARGS);
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        return poe_nil();
}

static poe_value p_step(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value r = poe_nil();
        int rc;

        step++;
        printf("step %d\n", step);
        if (step == 1) {
                post_line = __LINE__; poe_kernel_post_alias(k, "C", "boom1", POE_NOARGS);
        } else if (step == 2) {
                post_line = __LINE__; rc = poe_kernel_call_alias(k, "C", "boom2", POE_NOARGS, &r);
                /* A died call returns nothing: Perl's undef. */
                if (rc == -ECANCELED)
                        printf("call returned undef\n");
                else
                        printf("call returned %s (rc %d)\n", val(&r), rc);
        } else {
                poe_kernel_post_alias(k, "C", "bye", POE_NOARGS);
                poe_kernel_alias_remove(k, "P");
                poe_kernel_sig(k, "DIE", NULL, POE_NOARGS);
        }
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", p_start, NULL },
                { "_stop", on_stop, NULL },
                { "on_die", on_die, NULL },
                { "step", p_step, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        post_line = __LINE__; poe_kernel_post_alias(k, "C", "boom0", POE_NOARGS);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
