/* nfa-basics: the C side of nfa-basics.pl (see there). */
#include <errno.h>

#include "oracle.h"

#define N ORACLE_N

/* ---- machine A ---- */

static poe_value a_internal_added(poe_ctx *c)
{
        printf("A internal added in state %s\n", poe_nfa_ctx_state(c));
        return poe_nil();
}

static poe_value a_internal_both(poe_ctx *c)
{
        (void)c;
        printf("A internal both\n");
        return poe_nil();
}

static poe_value a_one_enter(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        printf("A one/enter ARG0=%s STATE=%s EVENT=%s sender=%s\n", val(poe_ctx_arg(c, 0)),
               poe_nfa_ctx_state(c), poe_ctx_state(c), id_of(poe_ctx_sender(c)));
        poe_kernel_state(k, "added", a_internal_added, NULL);
        poe_kernel_state(k, "both", a_internal_both, NULL);
        return poe_nil();
}

static poe_value a_one_leave(poe_ctx *c)
{
        printf("A leave one EVENT=%s\n", poe_ctx_state(c));
        return poe_nil();
}

static poe_value a_two_enter(poe_ctx *c)
{
        printf("A two/enter STATE=%s\n", poe_nfa_ctx_state(c));
        return poe_nil();
}

static poe_value a_two_default(poe_ctx *c)
{
        const poe_value *list = poe_ctx_arg(c, 1);
        char items[256] = "";
        size_t i, n = 0;

        for (i = 0; list->type == POE_T_LIST && i < list->len; i++)
                n += (size_t)snprintf(items + n, sizeof(items) - n, "%s%s", i ? " " : "",
                                      val(&list->u.list[i]));
        printf("A two/_default EVENT=%s %s [%s]\n", poe_ctx_state(c), val(poe_ctx_arg(c, 0)),
               items);
        return poe_int(0);
}

static poe_value a_two_both(poe_ctx *c)
{
        printf("A two/both\n");
        poe_nfa_call_state(poe_ctx_kernel(c), poe_ctx_session(c), "ret", "three", "enter",
                           POE_ARGS(poe_int(5)));
        return poe_nil();
}

static poe_value a_two_ret(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        const char *cur = NULL;

        printf("A two/ret %s %s STATE=%s\n", val(poe_ctx_arg(c, 0)), val(poe_ctx_arg(c, 1)),
               poe_nfa_ctx_state(c));
        poe_nfa_stop(k, poe_ctx_session(c));
        poe_nfa_get_current_state(k, poe_ctx_session(c), &cur);
        printf("A stop posted, still in %s\n", cur);
        return poe_nil();
}

static poe_value a_two_stop(poe_ctx *c)
{
        (void)c;
        printf("never: A _stop\n");
        return poe_nil();
}

static poe_value a_three_enter(poe_ctx *c)
{
        printf("A three/enter %s\n", val(poe_ctx_arg(c, 0)));
        poe_nfa_return_state(poe_ctx_kernel(c), poe_ctx_session(c),
                             POE_ARGS(poe_str("r1"), poe_str("r2")));
        return poe_nil();
}

static poe_value a_three_leave(poe_ctx *c)
{
        (void)c;
        printf("A leave three\n");
        return poe_nil();
}

static poe_sid spawn_a(poe_kernel *k)
{
        static const poe_handler one[] = {{"enter", a_one_enter, NULL},
                                          {"leave", a_one_leave, NULL}};
        static const poe_handler two[] = {{"enter", a_two_enter, NULL},
                                          {"_default", a_two_default, NULL},
                                          {"both", a_two_both, NULL},
                                          {"ret", a_two_ret, NULL},
                                          {"_stop", a_two_stop, NULL}};
        static const poe_handler three[] = {{"enter", a_three_enter, NULL},
                                            {"leave", a_three_leave, NULL}};
        static const poe_nfa_state states[] = {
                {"one", one, N(one)}, {"two", two, N(two)}, {"three", three, N(three)}};
        poe_nfa_spec spec = {.states = states, .n_states = N(states)};
        poe_sid sid = 0;

        if (poe_nfa_spawn(k, &spec, &sid) < 0)
                exit(1);
        return sid;
}

/* ---- machine B ---- */

static poe_value b_go(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        const char *cur = NULL;

        printf("B s1/go\n");
        poe_nfa_goto_state(k, poe_ctx_session(c), "s2", "arrive", POE_ARGS(poe_str("y")));
        poe_nfa_get_current_state(k, poe_ctx_session(c), &cur);
        printf("B back in go, now in %s STATE=%s\n", cur, poe_nfa_ctx_state(c));
        return poe_nil();
}

static poe_value b_arrive(poe_ctx *c)
{
        printf("B s2/arrive %s STATE=%s\n", val(poe_ctx_arg(c, 0)), poe_nfa_ctx_state(c));
        return poe_nil();
}

static void spawn_b(poe_kernel *k)
{
        static const poe_handler s1[] = {{"go", b_go, NULL}};
        static const poe_handler s2[] = {{"arrive", b_arrive, NULL}};
        static const poe_nfa_state states[] = {{"s1", s1, N(s1)}, {"s2", s2, N(s2)}};
        poe_option opts[] = {{"immediate", poe_int(1)}, {"trace", poe_int(1)}};
        poe_nfa_spec spec = {
                .states = states, .n_states = N(states), .options = opts, .n_options = N(opts)};
        poe_sid sid = 0;

        if (poe_nfa_spawn(k, &spec, &sid) < 0)
                exit(1);
        poe_nfa_goto_state(k, sid, "s1", "go", POE_NOARGS);
}

/* ---- the machines that die ---- */

static const char *how;

static poe_value d_go(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid me = poe_ctx_session(c);

        printf("D go (%s)\n", how);
        if (strcmp(how, "state") == 0)
                poe_nfa_goto_state(k, me, "nowhere", NULL, POE_NOARGS);
        if (strcmp(how, "entry") == 0)
                poe_nfa_goto_state(k, me, "a", "zz", POE_NOARGS);
        if (strcmp(how, "event") == 0)
                poe_kernel_yield(k, "nothing", POE_NOARGS);
        if (strcmp(how, "pop") == 0)
                poe_nfa_return_state(k, me, POE_ARGS(poe_str("x")));
        return poe_nil();
}

static void spawn_die(poe_kernel *k)
{
        static const poe_handler a[] = {{"go", d_go, NULL}};
        static const poe_nfa_state states[] = {{"a", a, N(a)}};
        poe_nfa_spec spec = {.states = states, .n_states = N(states)};
        poe_sid sid = 0;

        if (poe_nfa_spawn(k, &spec, &sid) < 0)
                exit(1);
        poe_nfa_goto_state(k, sid, "a", "go", POE_NOARGS);
}

/* The die's message as the Perl side prints it: "=== PID === " taken
 * out, the poster's " from FILE at LINE " made " from F at L ", newlines
 * made '|'. */
static void print_died(const char *label, int rc, const char *e)
{
        char buf[1024], *p, *q;
        size_t i;

        if (rc != -ECANCELED) {
                printf("%s: run returned %s\n", label, err(rc));
                return;
        }
        p = strstr(e, " === ");
        snprintf(buf, sizeof(buf), "%s", strncmp(e, "=== ", 4) == 0 && p ? p + 5 : e);
        p = strstr(buf, " from ");
        q = p ? strstr(p + 6, " at ") : NULL;
        if (p && q) {
                char *end = q + 4;

                while (*end >= '0' && *end <= '9')
                        end++;
                memmove(p + 15, end, strlen(end) + 1);
                memcpy(p, " from F at L", 12);
                memmove(p + 12, p + 15, strlen(p + 15) + 1);
        }
        for (i = 0; buf[i]; i++)
                if (buf[i] == '\n')
                        buf[i] = '|';
        printf("%s: run died: [%s]\n", label, buf);
}

/* ---- stdout and stderr, in order ---- */

static FILE *both;
static int saved_out = -1, saved_err = -1;

static void both_begin(void)
{
        fflush(stdout);
        fflush(stderr);
        both = tmpfile();
        saved_out = dup(1);
        saved_err = dup(2);
        if (!both || saved_out < 0 || saved_err < 0 || dup2(fileno(both), 1) < 0 ||
            dup2(fileno(both), 2) < 0)
                exit(1);
        setvbuf(stdout, NULL, _IONBF, 0);
}

static void both_end(void)
{
        char line[1024];

        fflush(stdout);
        fflush(stderr);
        dup2(saved_out, 1);
        dup2(saved_err, 2);
        close(saved_out);
        close(saved_err);
        setvbuf(stdout, NULL, _IOLBF, 0);
        rewind(both);
        while (fgets(line, sizeof(line), both)) {
                char *p = strstr(line, " === ");

                if (strncmp(line, "=== ", 4) == 0 && p)
                        printf("warn: %s", p + 5);
                else
                        printf("%s", line);
        }
        fclose(both);
}

/* ---- P ---- */

static poe_sid a_id;

static poe_value p_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        const char *cur = NULL;

        printf("P _start\n");
        a_id = spawn_a(k);
        poe_nfa_get_current_state(k, a_id, &cur);
        printf("A is %s in %s\n", id_of(a_id), cur);
        poe_nfa_goto_state(k, a_id, "one", "enter", POE_ARGS(poe_str("x")));
        poe_nfa_get_current_state(k, a_id, &cur);
        printf("P after first goto: A in %s\n", cur);
        poe_nfa_goto_state(k, a_id, "two", "enter", POE_NOARGS);
        poe_nfa_get_current_state(k, a_id, &cur);
        printf("P after second goto: A in %s\n", cur);
        poe_kernel_yield(k, "poke", POE_NOARGS);
        return poe_nil();
}

static poe_value p_poke(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_post(k, a_id, "unknown_ev", POE_ARGS(poe_int(1), poe_int(2)));
        poe_kernel_post(k, a_id, "both", POE_NOARGS);
        poe_kernel_post(k, a_id, "added", POE_NOARGS);
        return poe_nil();
}

static poe_value p_child(poe_ctx *c)
{
        printf("P _child %s %s\n", val(poe_ctx_arg(c, 0)), val(poe_ctx_arg(c, 1)));
        return poe_nil();
}

static poe_value p_stop(poe_ctx *c)
{
        (void)c;
        printf("P _stop\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler p[] = {{"_start", p_start, NULL},
                                        {"poke", p_poke, NULL},
                                        {"_child", p_child, NULL},
                                        {"_stop", p_stop, NULL}};
        static const char *const hows[] = {"state", "entry", "event", "pop"};
        poe_kernel *k = oracle_kernel();
        size_t i;
        int rc;

        oracle_create(k, p, N(p), POE_NOARGS, NULL);
        if (poe_kernel_run(k) < 0)
                printf("run failed\n");
        printf("run 1 returned\n");

        /* The trace's warnings and B's lines interleave: both go to one
         * file, in order; the kernel's are those with POE's "=== PID ==="
         * prefix, printed as the Perl side's $SIG{__WARN__} prints them. */
        both_begin();
        spawn_b(k);
        rc = poe_kernel_run(k);
        both_end();
        if (rc < 0)
                printf("run failed\n");
        printf("run 2 returned\n");

        for (i = 0; i < N(hows); i++) {
                how = hows[i];
                spawn_die(k);
                rc = poe_kernel_run(k);
                print_died(how, rc, rc == -ECANCELED ? poe_kernel_exception(k) : "");
        }
        poe_kernel_free(k);
        return 0;
}
