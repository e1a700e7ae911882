/*
 * Trace records written in place (kernel/trace.c, poe_trace_slot_fn): a
 * sink that lends slots gets, record for record and field for field, what
 * a plain sink gets for the same program, whether the kernel fills its
 * slots straight from the trace point (the sink alone on its groups) or
 * copies records built the general way into them (another sink on the
 * same groups); when the sink lends none, is removed and added again, or
 * the static epoch changes under it.
 *
 * The same program runs on two kernels with the same fake clock, one with
 * each kind of sink, and their records are compared.  The test's slot
 * sink keeps the records in order, checks that every slot comes back
 * filled where it was lent, and reckons walls as a slot sink must (from
 * the definitions' num).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define GROUPS (POE_TRACE_EVENTS | POE_TRACE_SESSIONS | POE_TRACE_REFCNT | POE_TRACE_FILES)
#define WALL0  1700000000.25
#define SHED_BYTE 0xab

/* ---- a sink's records, kept ---- */

typedef struct kept {
        poe_trace_record r; /* text NULL */
        char *text;
        bool in_slot;
} kept;

typedef struct sink {
        kept *k;
        size_t n, cap;
        /* A slot sink's: the slots it lends in turn, the one lent (NULL:
         * none), the static epoch of the last definition, and every
         * refuse-th request for a slot answered with none. */
        poe_trace_record slots[4];
        poe_trace_record *lent;
        unsigned next, requests, refuse;
        /* Every shed-th request answered with the shedding slot (kind
         * POE_TK_SHED, its budget shed_run, its other bytes SHED_BYTE);
         * each record counted in it comes back as a record of its group
         * alone (in_slot and kind POE_TK_SHED); n_backs, the times it
         * came back. */
        poe_trace_record shed_slot;
        unsigned shed, shed_run;
        size_t n_shed, n_backs;
        double epoch;
        size_t in_slots;
        bool removed; /* from its kernel: calls are wrong */
} sink;

static void keep(sink *s, const poe_trace_record *r, bool in_slot)
{
        kept *x;

        if (s->n == s->cap) {
                s->cap = s->cap ? 2 * s->cap : 256;
                s->k = realloc(s->k, s->cap * sizeof(*s->k));
                assert_non_null(s->k);
        }
        x = &s->k[s->n++];
        x->r = *r;
        x->r.text = NULL;
        x->text = NULL;
        if (r->text_len) {
                x->text = malloc(r->text_len + 1u);
                assert_non_null(x->text);
                memcpy(x->text, r->text, r->text_len);
                x->text[r->text_len] = '\0';
        }
        x->in_slot = in_slot;
}

static void sink_clear(sink *s)
{
        size_t i;

        for (i = 0; i < s->n; i++)
                free(s->k[i].text);
        free(s->k);
        memset(s, 0, sizeof(*s));
}

static int plain_fn(void *ctx, const poe_trace_record *r)
{
        sink *s = ctx;

        assert_false(s->removed);
        if (r->kind >= POE_TK_KINDS)
                s->epoch = r->num;
        keep(s, r, false);
        return 0;
}

/* The slot function: the record filled is the slot lent, whole but for
 * wall, which is this sink's to reckon; the next slot is lent zeroed. */
static void slot_fn(void *ctx, poe_trace_record **slot)
{
        sink *s = ctx;
        poe_trace_record *r = *slot;
        double wall;

        assert_false(s->removed);
        if (!r && s->lent == &s->shed_slot && s->shed_slot.group) {
                poe_trace_record sentinel;
                uint64_t i, n;

                /* The kernel wrote the group and the count alone, within
                 * the budget, and forgot the slot. */
                r = &s->shed_slot;
                n = r->event_id;
                TL_EQ(r->kind, POE_TK_SHED);
                assert_true((r->group & (r->group - 1)) == 0);
                assert_true(n >= 1 && n <= s->shed_run);
                memset(&sentinel, SHED_BYTE, sizeof(sentinel));
                sentinel.kind = POE_TK_SHED;
                sentinel.group = r->group;
                sentinel.event_id = n;
                sentinel.arg.i[0] = s->shed_run;
                assert_memory_equal(r, &sentinel, sizeof(sentinel));
                memset(&sentinel, 0, sizeof(sentinel));
                sentinel.kind = POE_TK_SHED;
                sentinel.group = r->group;
                for (i = 0; i < n; i++)
                        keep(s, &sentinel, true);
                s->n_shed += n;
                s->n_backs++;
                r = NULL;
        }
        if (r) {
                assert_ptr_equal(r, s->lent);
                assert_true(r->kind > POE_TK_NONE && r->kind < POE_TK_KINDS);
                assert_null(r->text);
                TL_EQ(r->text_len, 0);
                wall = s->epoch + (double)r->mono_ns / 1e9;
                /* Left 0 when filled from the trace point; a record made
                 * the general way has it already, the same. */
                assert_true(r->wall == 0 || r->wall == wall);
                r->wall = wall;
                keep(s, r, true);
                s->in_slots++;
        }
        s->lent = NULL;
        if (s->refuse && ++s->requests % s->refuse == 0) {
                *slot = NULL;
                return;
        }
        if (s->shed && ++s->requests % s->shed == 0) {
                memset(&s->shed_slot, SHED_BYTE, sizeof(s->shed_slot));
                s->shed_slot.kind = POE_TK_SHED;
                s->shed_slot.group = 0;
                s->shed_slot.event_id = 0;
                s->shed_slot.arg.i[0] = s->shed_run;
                s->lent = *slot = &s->shed_slot;
                return;
        }
        s->lent = &s->slots[s->next++ % 4];
        memset(s->lent, 0, sizeof(*s->lent));
        *slot = s->lent;
}

/* ---- the program: a ticker calls an answerer, which returns each kind
 * of value in turn; every fourth tick is a timer ---- */

#define TICKS 40

static struct {
        poe_sid answerer;
        int ticks;
} wk;

static poe_value h_ask(poe_ctx *c)
{
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));

        switch (n % 6) {
        case 0:
                return poe_nil();
        case 1:
                return poe_int(n * 1000);
        case 2:
                return poe_double((double)n / 4);
        case 3:
                return poe_str("a string");
        case 4:
                return poe_session(poe_ctx_sender(c));
        default:
                return poe_ptr(&wk, NULL);
        }
}

static poe_value h_answerer_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "answerer"), 0);
        return poe_nil();
}

static poe_value h_bye(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_remove(poe_ctx_kernel(c), "answerer"), 0);
        return poe_nil();
}

static poe_value h_tick(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));
        poe_value next = poe_int(n + 1), ret;

        wk.ticks++;
        TL_EQ(poe_kernel_call(k, wk.answerer, "ask", &next, 1, &ret), 0);
        poe_value_release(&ret);
        if (n + 1 == TICKS)
                TL_EQ(poe_kernel_post(k, wk.answerer, "bye", POE_NOARGS), 0);
        else if (n % 4 == 3)
                TL_EQ(poe_kernel_alarm_set(k, "tick", poe_kernel_time(k) - 1, &next, 1, NULL), 0);
        else
                TL_EQ(poe_kernel_yield(k, "tick", &next, 1), 0);
        return poe_nil();
}

static poe_value h_ticker_start(poe_ctx *c)
{
        poe_value zero = poe_int(0);

        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "tick", &zero, 1), 0);
        return poe_nil();
}

/* A kernel on the fake clock, without text lines. */
static poe_kernel *kernel(void)
{
        poe_allocator al = tl_allocator(&tl.alloc);
        poe_kernel *k;

        TL_EQ(poe_kernel_new(&k, &al), 0);
        TL_EQ(poe_kernel_clock_fake(k, WALL0), 0);
        TL_EQ(poe_kernel_trace_sink_remove(k, 0), 0);
        return k;
}

static int add_sink(poe_kernel *k, sink *s, bool slots)
{
        int id = slots ? poe_kernel_trace_sink_add_slots(k, plain_fn, slot_fn, s)
                       : poe_kernel_trace_sink_add(k, plain_fn, s);

        assert_true(id > 0);
        TL_EQ(poe_kernel_trace_sink_groups(k, id, GROUPS), 0);
        return id;
}

/* Runs the program on k to its end. */
static void program(poe_kernel *k)
{
        memset(&wk, 0, sizeof(wk));
        wk.answerer = TL_CREATE(k, {"_start", h_answerer_start}, {"ask", h_ask}, {"bye", h_bye});
        TL_CREATE(k, {"_start", h_ticker_start}, {"tick", h_tick});
        TL_EQ(poe_kernel_run(k), 0);
        TL_EQ(wk.ticks, TICKS);
}

/* The two sinks kept the same records, definitions included. */
static void assert_same(const sink *a, const sink *b)
{
        size_t i;

        TL_EQ(a->n, b->n);
        for (i = 0; i < a->n; i++) {
                const kept *x = &a->k[i], *y = &b->k[i];

                if (memcmp(&x->r, &y->r, sizeof(x->r)) != 0) {
                        print_error("a: kind %u mono %lld wall %.9f sess %llu ev %u epoch %u "
                                    "sn %u pn %u rc %u q %llu\n",
                                    x->r.kind, (long long)x->r.mono_ns, x->r.wall,
                                    (unsigned long long)x->r.session, x->r.event, x->r.epoch,
                                    x->r.session_name, x->r.peer_name, x->r.refcount,
                                    (unsigned long long)x->r.queue_length);
                        print_error("b: kind %u mono %lld wall %.9f sess %llu ev %u epoch %u "
                                    "sn %u pn %u rc %u q %llu\n",
                                    y->r.kind, (long long)y->r.mono_ns, y->r.wall,
                                    (unsigned long long)y->r.session, y->r.event, y->r.epoch,
                                    y->r.session_name, y->r.peer_name, y->r.refcount,
                                    (unsigned long long)y->r.queue_length);
                        fail_msg("record %zu (kind %s, in a slot: %d) differs", i,
                                 poe_trace_kind_name(x->r.kind), x->in_slot);
                }
                assert_true((x->text == NULL) == (y->text == NULL));
                if (x->text)
                        assert_string_equal(x->text, y->text);
        }
}

/* ---- tests ---- */

/* Alone on its groups, the slot sink is filled from the trace points:
 * the records are the plain sink's, the most of them in slots. */
static void t_alone(void **state)
{
        sink a = {0}, b = {0};
        poe_kernel *kb = kernel();
        poe_kernel *ka = kernel();

        (void)state;
        add_sink(ka, &a, true);
        add_sink(kb, &b, false);
        program(ka);
        program(kb);
        assert_true(a.n > 300);
        assert_same(&a, &b);
        assert_true(a.in_slots > a.n / 2);
        poe_kernel_free(ka);
        poe_kernel_free(kb);
        sink_clear(&a);
        sink_clear(&b);
}

/* Another sink on the same groups: the records are made the general way
 * and copied into the slots; both sinks get the plain sinks' records
 * (two of them too, as a record carries the epoch each sink added
 * begins). */
static void t_with_another(void **state)
{
        sink a = {0}, other = {0}, b = {0}, b2 = {0};
        poe_kernel *kb = kernel();
        poe_kernel *ka = kernel();

        (void)state;
        add_sink(ka, &a, true);
        add_sink(ka, &other, false);
        add_sink(kb, &b, false);
        add_sink(kb, &b2, false);
        program(ka);
        program(kb);
        assert_same(&a, &b);
        assert_same(&other, &b2);
        assert_true(a.in_slots > a.n / 2);
        poe_kernel_free(ka);
        poe_kernel_free(kb);
        sink_clear(&a);
        sink_clear(&other);
        sink_clear(&b);
        sink_clear(&b2);
}

/* A sink that often lends no slot (as a full ring does) gets the rest
 * through its function, in order. */
static void t_refused(void **state)
{
        sink a = {0}, b = {0};
        poe_kernel *kb = kernel();
        poe_kernel *ka = kernel();

        (void)state;
        a.refuse = 3;
        add_sink(ka, &a, true);
        add_sink(kb, &b, false);
        program(ka);
        program(kb);
        assert_same(&a, &b);
        assert_true(a.in_slots > 0 && a.in_slots < a.n);
        poe_kernel_free(ka);
        poe_kernel_free(kb);
        sink_clear(&a);
        sink_clear(&b);
}

/* Removed with a slot lent, the sink is never called with it; added
 * again, it gets every definition again before the records that use
 * them, and slots again. */
static void t_remove_add(void **state)
{
        sink a = {0}, b = {0};
        poe_kernel *k = kernel();
        int id;

        (void)state;
        id = add_sink(k, &a, true);
        memset(&wk, 0, sizeof(wk));
        wk.answerer = TL_CREATE(k, {"_start", h_answerer_start}, {"ask", h_ask}, {"bye", h_bye});
        TL_CREATE(k, {"_start", h_ticker_start}, {"tick", h_tick});
        TL_EQ(poe_kernel_run_one_timeslice(k), 1);
        TL_EQ(poe_kernel_run_one_timeslice(k), 1);
        assert_true(a.in_slots > 0);
        assert_non_null(a.lent);
        TL_EQ(poe_kernel_trace_sink_remove(k, id), 0);
        a.removed = true;
        TL_EQ(poe_kernel_run_one_timeslice(k), 1);
        add_sink(k, &b, true);
        TL_EQ(poe_kernel_run(k), 0);
        TL_EQ(wk.ticks, TICKS);
        assert_true(b.in_slots > b.n / 2);
        /* The new sink's first records are definitions. */
        TL_EQ(b.k[0].r.kind >= POE_TK_KINDS, 1);
        poe_kernel_free(k);
        sink_clear(&a);
        sink_clear(&b);
}

/* The static epoch changes (the clock is made fake again): the
 * definitions that carry the new one come before the next record, so a
 * slot sink reckons every wall as the kernel does. */
static poe_value h_refake(poe_ctx *c)
{
        TL_EQ(poe_kernel_clock_fake(poe_ctx_kernel(c), WALL0 + 1000), 0);
        return poe_nil();
}

static void t_epoch_change(void **state)
{
        sink a = {0}, b = {0};
        poe_kernel *k[2];
        sink *s[2] = {&a, &b};
        size_t i, j;
        int n = 0;

        (void)state;
        for (i = 0; i < 2; i++) {
                k[i] = kernel();
                add_sink(k[i], s[i], i == 0);
                TL_CREATE(k[i], {"_start", h_refake});
                TL_CREATE(k[i], {"_start", h_refake});
                TL_EQ(poe_kernel_run(k[i]), 0);
        }
        assert_same(&a, &b);
        for (j = 0; j < a.n; j++)
                if (a.k[j].r.kind < POE_TK_KINDS && a.k[j].r.wall > WALL0 + 999)
                        n++;
        assert_true(n > 0);
        assert_true(a.in_slots > 0);
        for (i = 0; i < 2; i++)
                poe_kernel_free(k[i]);
        sink_clear(&a);
        sink_clear(&b);
}

/* A sink that sheds now and then (as a full trace log does): each
 * record it sheds comes back in the shedding slot with its group alone
 * (checked in slot_fn), and the records are the plain sink's, in order,
 * with those shed in their place.  Shedding defines nothing, so the
 * definitions, and with them the serials and epochs, may come at other
 * places: those are not compared. */
static void t_shed(void **state)
{
        sink a = {0}, b = {0};
        poe_kernel *kb = kernel();
        poe_kernel *ka = kernel();
        size_t i = 0, j = 0, shed = 0;

        (void)state;
        a.shed = 5;
        a.shed_run = 3;
        add_sink(ka, &a, true);
        add_sink(kb, &b, false);
        program(ka);
        program(kb);
        assert_true(a.n_shed > 20);
        /* Counted, not handed back one by one. */
        assert_true(a.n_backs < a.n_shed);
        for (;;) {
                while (i < a.n && a.k[i].r.kind >= POE_TK_DEF_NAME)
                        i++;
                while (j < b.n && b.k[j].r.kind >= POE_TK_KINDS)
                        j++;
                if (i == a.n || j == b.n)
                        break;
                TL_EQ(a.k[i].r.group, b.k[j].r.group);
                if (a.k[i].r.kind == POE_TK_SHED) {
                        shed++;
                } else {
                        const poe_trace_record *x = &a.k[i].r, *y = &b.k[j].r;

                        TL_EQ(x->kind, y->kind);
                        TL_EQ(x->mono_ns, y->mono_ns);
                        TL_EQ(x->session, y->session);
                        TL_EQ(x->sender, y->sender);
                        TL_EQ(x->event, y->event);
                        TL_EQ(x->event_id, y->event_id);
                        TL_EQ(x->refcount, y->refcount);
                        TL_EQ(x->queue_length, y->queue_length);
                        assert_memory_equal(&x->arg, &y->arg, sizeof(x->arg));
                        assert_true((a.k[i].text == NULL) == (b.k[j].text == NULL));
                        if (a.k[i].text)
                                assert_string_equal(a.k[i].text, b.k[j].text);
                }
                i++;
                j++;
        }
        /* Both ran out together: nothing lost, nothing added. */
        TL_EQ(i, a.n);
        TL_EQ(j, b.n);
        TL_EQ(shed, a.n_shed);
        poe_kernel_free(ka);
        poe_kernel_free(kb);
        sink_clear(&a);
        sink_clear(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_TEST(t_alone),      TL_TEST(t_with_another), TL_TEST(t_refused),
                TL_TEST(t_remove_add), TL_TEST(t_epoch_change), TL_TEST(t_shed),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
