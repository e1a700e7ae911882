/*
 * POE::Test::Loops k_detach.pm: detach_myself and detach_child, and
 * the _parent and _child events they cause, traced through each
 * session's get_alias.  The half-second delay runs on the fake clock.
 * Every session uses the same handlers; its id (what get_alias returns)
 * is the handlers' object.
 */
#include <stdlib.h>
#include <string.h>

#include <poe/poe.h>

#include "../tap.h"

static char test_trace[4096];

/* Appends "(kind a b c)". */
static void trace(char kind, const char *a, const char *b, const char *c)
{
        size_t n = strlen(test_trace);

        snprintf(test_trace + n, sizeof(test_trace) - n, "(%c %s %s %s)", kind, a, b, c);
}

/* $kernel->call($session, 'get_alias'), or 'kernel' for the kernel. */
static const char *alias_of(poe_ctx *c, const poe_value *s, char *buf, size_t size)
{
        poe_value r = poe_nil();

        if (s->type != POE_T_SESSION || s->u.sid == POE_KERNEL)
                return "kernel";
        if (poe_kernel_call(poe_ctx_kernel(c), s->u.sid, "get_alias", POE_NOARGS, &r) < 0)
                return "undef";
        snprintf(buf, size, "%s", poe_value_str(&r) ? poe_value_str(&r) : "undef");
        poe_value_release(&r);
        return buf;
}

static poe_value on_parent(poe_ctx *c)
{
        char a[64], b[64];
        const char *old_alias = alias_of(c, poe_ctx_arg(c, 0), a, sizeof(a));
        const char *new_alias = alias_of(c, poe_ctx_arg(c, 1), b, sizeof(b));

        trace('p', poe_ctx_object(c), old_alias, new_alias);
        return poe_nil();
}

static poe_value on_child(poe_ctx *c)
{
        char a[64];
        const char *child_alias = alias_of(c, poe_ctx_arg(c, 1), a, sizeof(a));

        trace('c', poe_ctx_object(c), poe_value_str(poe_ctx_arg(c, 0)), child_alias);
        return poe_nil();
}

static poe_value get_alias(poe_ctx *c)
{
        return poe_str(poe_ctx_object(c));
}

static poe_value detach_self(poe_ctx *c)
{
        poe_kernel_detach_myself(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value detach_child(poe_ctx *c)
{
        poe_sid sid;

        if (poe_kernel_alias_resolve(poe_ctx_kernel(c), poe_value_str(poe_ctx_arg(c, 0)), &sid) ==
            0)
                poe_kernel_detach_child(poe_ctx_kernel(c), sid);
        return poe_nil();
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value grandchild_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), poe_ctx_object(c));
        return poe_nil();
}

/* Ids live as long as the program: they are the handlers' objects. */
static char ids[32][16];
static int n_ids;

/* "PREFIX_N" when prefix is given, else "aN". */
static char *new_id(const char *prefix, int n)
{
        char *id = ids[n_ids++];

        if (prefix)
                snprintf(id, 16, "%s_%d", prefix, n);
        else
                snprintf(id, 16, "a%d", n);
        return id;
}

static void spawn_grandchild(poe_kernel *k, char *grandchild_id)
{
        poe_handler h[] = {
                {"_start", grandchild_start, grandchild_id},
                {"_parent", on_parent, grandchild_id},
                {"_child", on_child, grandchild_id},
                {"get_alias", get_alias, grandchild_id},
                {"detach_self", detach_self, grandchild_id},
                {"detach_child", detach_child, grandchild_id},
                {"_stop", nop, grandchild_id},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 7};

        poe_session_create(k, &spec, NULL);
}

static poe_value child_start(poe_ctx *c)
{
        /* The alias is "a" + the id; the id is after the "a". */
        poe_kernel_alias_set(poe_ctx_kernel(c), (char *)poe_ctx_object(c) - 1);
        poe_kernel_yield(poe_ctx_kernel(c), "spawn_grandchildren", POE_NOARGS);
        return poe_nil();
}

static poe_value spawn_grandchildren(poe_ctx *c)
{
        const char *alias = (const char *)poe_ctx_object(c) - 1;
        int i;

        for (i = 1; i <= 3; i++)
                spawn_grandchild(poe_ctx_kernel(c), new_id(alias, i));
        return poe_nil();
}

static void spawn_child(poe_kernel *k, int child_id)
{
        /* "aN": the alias is the whole string, the id from its second
         * byte on. */
        char *alias = new_id(NULL, child_id), *id = alias + 1;
        poe_handler h[] = {
                {"_start", child_start, id},
                {"spawn_grandchildren", spawn_grandchildren, id},
                {"_parent", on_parent, id},
                {"_child", on_child, id},
                {"get_alias", get_alias, id},
                {"detach_self", detach_self, id},
                {"detach_child", detach_child, id},
                {"_stop", nop, id},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 8};

        poe_session_create(k, &spec, NULL);
}

static poe_value main_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "main");
        poe_kernel_yield(poe_ctx_kernel(c), "spawn_children", POE_NOARGS);
        return poe_nil();
}

static poe_value spawn_children(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        spawn_child(k, 1);
        spawn_child(k, 2);
        spawn_child(k, 3);
        poe_kernel_delay(k, "run_tests", 0.5, POE_NOARGS);
        return poe_nil();
}

static void call_and_check(poe_kernel *k, const char *who, const char *event, const char *arg,
                           const char *want, const char *name)
{
        test_trace[0] = '\0';
        if (arg)
                poe_kernel_call_alias(k, who, event, POE_ARGS(poe_str(arg)), NULL);
        else
                poe_kernel_call_alias(k, who, event, POE_NOARGS, NULL);
        tap_is_str(test_trace, want, name);
}

static poe_value run_tests(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        call_and_check(k, "a1_1", "detach_self", NULL, "(c 1 lose a1_1)(p a1_1 1 kernel)",
                       "a1_1 detached itself");
        call_and_check(k, "a2_1", "detach_self", NULL, "(c 2 lose a2_1)(p a2_1 2 kernel)",
                       "a2_1 detached itself");
        call_and_check(k, "a3_1", "detach_self", NULL, "(c 3 lose a3_1)(p a3_1 3 kernel)",
                       "a3_1 detached itself");
        call_and_check(k, "a1", "detach_child", "a1_2", "(c 1 lose a1_2)(p a1_2 1 kernel)",
                       "a1 detached child a1_2");
        call_and_check(k, "a2", "detach_child", "a2_2", "(c 2 lose a2_2)(p a2_2 2 kernel)",
                       "a2 detached child a2_2");
        call_and_check(k, "a3", "detach_child", "a3_2", "(c 3 lose a3_2)(p a3_2 3 kernel)",
                       "a3 detached child a3_2");
        call_and_check(k, "a1", "detach_self", NULL, "(c main lose 1)(p 1 main kernel)",
                       "a1 detached itself");
        call_and_check(k, "main", "detach_child", "a2", "(c main lose 2)(p 2 main kernel)",
                       "a2 detached itself");
        return poe_nil();
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
        static char main_id[] = "main";
        static const poe_handler h[] = {
                {"_start", main_start, main_id},
                {"spawn_children", spawn_children, main_id},
                {"get_alias", get_alias, main_id},
                {"detach_self", detach_self, main_id},
                {"detach_child", detach_child, main_id},
                {"run_tests", run_tests, main_id},
                {"_parent", on_parent, main_id},
                {"_child", on_child, main_id},
                {"_stop", nop, main_id},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 9};
        char *parts[64], sorted[4096] = "", *p;
        size_t n = 0, i;
        poe_kernel *k;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(9);
        if (poe_kernel_new(&k, NULL) < 0 || poe_kernel_clock_fake(k, 1e9) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);

        /* The trace's order can vary: split at ")(", sort, rejoin. */
        p = test_trace;
        while (*p == '(' && n < 64) {
                char *end = strchr(p, ')');

                if (!end)
                        break;
                *end = '\0';
                parts[n++] = p + 1;
                p = end + 1;
        }
        qsort(parts, n, sizeof(*parts), cmp_str);
        for (i = 0; i < n; i++) {
                size_t len = strlen(sorted);

                snprintf(sorted + len, sizeof(sorted) - len, "(%s)", parts[i]);
        }
        tap_is_str(sorted,
                   "(c 1 lose a1_3)(c 2 lose a2_3)(c 3 lose a3_3)(c main lose 2)(c main lose 3)"
                   "(p 2 main kernel)",
                   "session destruction order");
        poe_kernel_free(k);
        return tap_done();
}
