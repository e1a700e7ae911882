/* postback-basics: the C side of postback-basics.pl (see there). */
#include "oracle.h"

static poe_postback *pb, *cb, *pb2, *pbb;
static poe_sid aid, bid;
static int tick;

static void print_list(const poe_value *v)
{
        uint32_t i;

        printf("[");
        for (i = 0; v->type == POE_T_LIST && i < v->len; i++)
                printf("%s%s", i ? " " : "", val(&v->u.list[i]));
        printf("]");
}

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value a_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        aid = poe_ctx_session(c);
        poe_session_postback(k, aid, "pb_ev", POE_ARGS(poe_int(1), poe_str("two")), &pb);
        poe_session_callback(k, aid, "cb_ev", POE_ARGS(poe_str("c")), &cb);
        poe_session_postback(k, aid, "late", POE_ARGS(poe_str("x")), &pb2);
        printf("%s made them\n", id_of(aid));
        return poe_nil();
}

static poe_value a_pb_ev(poe_ctx *c)
{
        printf("%s pb_ev ", id_of(poe_ctx_session(c)));
        print_list(poe_ctx_arg(c, 0));
        printf(" ");
        print_list(poe_ctx_arg(c, 1));
        printf(" sender=%s\n", id_of(poe_ctx_sender(c)));
        return poe_nil();
}

static poe_value a_cb_ev(poe_ctx *c)
{
        const poe_value *a0 = poe_ctx_arg(c, 0), *a1 = poe_ctx_arg(c, 1);
        static char ret[64];

        printf("%s cb_ev ", id_of(poe_ctx_session(c)));
        print_list(a0);
        printf(" ");
        print_list(a1);
        printf("\n");
        snprintf(ret, sizeof(ret), "%s+%s", val(&a0->u.list[0]), val(&a1->u.list[0]));
        return poe_str(ret);
}

static poe_value a_late(poe_ctx *c)
{
        (void)c;
        printf("late: never\n");
        return poe_nil();
}

static poe_value b_start(poe_ctx *c)
{
        bid = poe_ctx_session(c);
        poe_session_postback(poe_ctx_kernel(c), bid, "unused", POE_NOARGS, &pbb);
        return poe_nil();
}

static poe_value t_start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "tick", POE_NOARGS);
        return poe_nil();
}

static const char *alive(poe_kernel *k, poe_sid sid)
{
        return poe_kernel_ID_id_to_session(k, sid) == 0 ? "yes" : "no";
}

static poe_value t_tick(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value r = poe_nil();
        int rc;

        tick++;
        printf("tick %d A alive=%s B alive=%s\n", tick, alive(k, aid), alive(k, bid));
        if (tick == 1) {
                poe_postback_invoke(pb, POE_ARGS(poe_int(3), poe_int(4)), NULL);
                poe_postback_invoke(pb, POE_NOARGS, NULL);
        } else if (tick == 2) {
                rc = poe_postback_invoke(cb, POE_ARGS(poe_int(5)), &r);
                printf("callback returned %s\n", rc < 0 ? err(rc) : val(&r));
        } else if (tick == 3) {
                pb = poe_postback_free(pb);
                cb = poe_postback_free(cb);
                pbb = poe_postback_free(pbb);
                printf("freed three\n");
        } else if (tick == 5) {
                poe_kernel_signal(k, aid, "KILL", POE_NOARGS);
        } else if (tick == 6) {
                rc = poe_postback_invoke(pb2, POE_ARGS(poe_int(9)), NULL);
                /* POE's postback returns 0 and leaves post's $! behind. */
                printf("invoke after stop: err %d\n", rc < 0 ? -rc : 0);
                pb2 = poe_postback_free(pb2);
                return poe_nil();
        }
        poe_kernel_yield(k, "tick", POE_NOARGS);
        return poe_nil();
}

int main(void)
{
        static const poe_handler ha[] = {
                { "_start", a_start, NULL }, { "pb_ev", a_pb_ev, NULL },
                { "cb_ev", a_cb_ev, NULL },  { "late", a_late, NULL },
                { "_stop", on_stop, NULL },
        };
        static const poe_handler hb[] = {
                { "_start", b_start, NULL },
                { "_stop", on_stop, NULL },
        };
        static const poe_handler ht[] = {
                { "_start", t_start, NULL },
                { "tick", t_tick, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, ha, ORACLE_N(ha), POE_NOARGS, NULL);
        oracle_create(k, hb, ORACLE_N(hb), POE_NOARGS, NULL);
        oracle_create(k, ht, ORACLE_N(ht), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
