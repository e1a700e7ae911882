/* timer-ids-returns: the C side of timer-ids-returns.pl (see there). */
#include "oracle.h"

static double t0;

/* Seconds after the start, rounded down to a half second (see the .pl);
 * never negative, so truncating is rounding down. */
static double rel_half(double t)
{
        return (double)(long long)((t - t0 + 0.01) * 2) / 2;
}
static poe_sid b;
static poe_alarm_id id_t3, id_t4;

static const char *rel(double t)
{
        char *s = oracle_buf();

        snprintf(s, 256, "%.1f", rel_half(t));
        return s;
}

/* Perl's "defined $r ? $r : 'undef err ' . $!" for a call returning a
 * time (adjust) or a list (remove). */
static const char *e_time(int rc, double t)
{
        char *s = oracle_buf();

        if (rc < 0)
                snprintf(s, 256, "undef err %d", -rc);
        else
                snprintf(s, 256, "%.1f", rel_half(t));
        return s;
}

static const char *args_of(const poe_value *args, size_t n)
{
        char *s = oracle_buf();
        size_t i, len = 0;

        s[0] = '\0';
        for (i = 0; i < n; i++)
                len += (size_t)snprintf(s + len, 256 - len, "%s%s", i ? " " : "", val(&args[i]));
        return s;
}

static poe_value nop(poe_ctx *c)
{
        return poe_nil();
}

static poe_value b_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "B");
        return poe_nil();
}

static poe_value b_stop(poe_ctx *c)
{
        printf("B _stop\n");
        return poe_nil();
}

static poe_value b_p(poe_ctx *c)
{
        printf("B got p\n");
        return poe_nil();
}

static poe_value b_meddle(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_alarm_id id = (poe_alarm_id)poe_value_int(poe_ctx_arg(c, 0));
        poe_alarm_info info;
        double t = 0;

        printf("B alarm_remove A's -> %s\n", e_time(poe_kernel_alarm_remove(k, id, &info), 0));
        printf("B alarm_adjust A's -> %s\n", e_time(poe_kernel_alarm_adjust(k, id, 1, &t), t));
        printf("B alarm_remove 99999 -> %s\n",
               e_time(poe_kernel_alarm_remove(k, 99999, &info), 0));
        printf("B alarm_adjust 99999 -> %s\n",
               e_time(poe_kernel_alarm_adjust(k, 99999, 1, &t), t));
        poe_kernel_alias_remove(k, "B");
        poe_kernel_post(k, poe_ctx_sender(c), "check", POE_NOARGS);
        return poe_nil();
}

static poe_value child_stop(poe_ctx *c)
{
        printf("child _stop\n");
        return poe_nil();
}

static poe_value a_start(poe_ctx *c)
{
        static const poe_handler child[] = {
                { "_start", nop, NULL },
                { "_stop", child_stop, NULL },
        };
        poe_kernel *k = poe_ctx_kernel(c);
        poe_alarm_id id1 = 0, id2 = 0, id3 = 0;
        poe_alarm_info info;

        t0 = poe_kernel_time(k);
        poe_kernel_alarm_set(k, "t1", t0 + 10, POE_ARGS(poe_str("x"), poe_str("y")), &id1);
        printf("A id1 = %" PRIu64 "\n", id1);
        poe_kernel_yield(k, "nothing", POE_NOARGS);
        poe_kernel_post(k, b, "p", POE_NOARGS);
        poe_kernel_signal(k, b, "USR1", POE_NOARGS);
        oracle_create(k, child, ORACLE_N(child), POE_NOARGS, NULL);
        poe_kernel_delay(k, "t2", 10, POE_NOARGS);
        poe_kernel_delay_set(k, "t3", 10, POE_ARGS(poe_str("z")), &id2);
        printf("A id2 - id1 = %" PRId64 "\n", (int64_t)(id2 - id1));
        poe_kernel_alarm_set(k, "t4", t0 + 5, POE_ARGS(poe_str("a")), &id3);
        printf("A id3 - id2 = %" PRId64 "\n", (int64_t)(id3 - id2));

        if (poe_kernel_alarm_remove(k, id1, &info) == 0)
                printf("A alarm_remove id1 -> %s %s [%s]\n", info.event, rel(info.time),
                       args_of(info.args, info.nargs));
        printf("A alarm_remove id1 again -> %s\n",
               e_time(poe_kernel_alarm_remove(k, id1, &info), 0));
        poe_kernel_delay(k, "t2", POE_NO_TIME, POE_NOARGS);

        poe_kernel_alarm_set(k, "t5", t0 + 5, POE_ARGS(poe_str("b")), NULL);
        poe_kernel_alarm_add(k, "t6", t0 + 1, POE_ARGS(poe_str("c")));
        poe_kernel_delay_set(k, "t7", 2, POE_ARGS(poe_str("d")), NULL);
        id_t3 = id2;
        id_t4 = id3;
        poe_kernel_post(k, b, "meddle", POE_ARGS(poe_int((int64_t)id3)));
        return poe_nil();
}

static void print_removed(void *ctx, const poe_alarm_info *a)
{
        printf("A removed %s %s [%s]\n", a->event, rel(a->time), args_of(a->args, a->nargs));
}

static poe_value a_check(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        double t = 0;
        int rc;

        rc = poe_kernel_alarm_adjust(k, id_t3, 0.5, &t);
        printf("A alarm_adjust t3 by 0.5 -> %s\n", e_time(rc, t));
        rc = poe_kernel_delay_adjust(k, id_t3, 3, &t);
        printf("A delay_adjust t3 to 3 -> %s\n", e_time(rc, t));
        rc = poe_kernel_alarm_adjust(k, id_t4, 0, &t);
        printf("A alarm_adjust t4 by 0 -> %s\n", e_time(rc, t));
        rc = poe_kernel_alarm_adjust(k, id_t4, -0.5, &t);
        printf("A alarm_adjust t4 by -0.5 -> %s\n", e_time(rc, t));
        poe_kernel_alarm_remove_all(k, print_removed, NULL);
        printf("A alarm_remove_all again -> %d\n", poe_kernel_alarm_remove_all(k, NULL, NULL));
        return poe_nil();
}

static poe_value a_stop(poe_ctx *c)
{
        printf("A _stop\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler bh[] = {
                { "_start", b_start, NULL },
                { "_stop", b_stop, NULL },
                { "p", b_p, NULL },
                { "meddle", b_meddle, NULL },
                { "_default", nop, NULL },
        };
        static const poe_handler ah[] = {
                { "_start", a_start, NULL },
                { "check", a_check, NULL },
                { "_stop", a_stop, NULL },
                { "_default", nop, NULL },
        };
        poe_kernel *k = oracle_kernel();

        b = oracle_create(k, bh, ORACLE_N(bh), POE_NOARGS, NULL);
        oracle_create(k, ah, ORACLE_N(ah), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
