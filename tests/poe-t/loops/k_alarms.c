/*
 * POE::Test::Loops k_alarms.pm: every timer call.  alarm, alarm_add,
 * delay and delay_add replace or add as documented; alarms come out in
 * time order, duplicates in the order set, through a queue of 600
 * fillers and micro-adjustments; the id API (alarm_set, delay_set,
 * alarm_remove, alarm_adjust, alarm_remove_all) returns what POE does.
 * Upstream's queue_peek_alarms (defined in the test over POE's queue)
 * is poe_peek_timers filtered to the session.  WAIT runs on the fake
 * clock; the fillers' random times come from rand() unseeded.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <poe/poe.h>

#include "../tap.h"

#define WAIT 0.5

/* ---- the id-based API (June 2001) ---- */

struct ids {
        poe_alarm_id test_13;
        double tests[16];
        int n_tests;
};

static poe_value ids_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct ids *heap = poe_ctx_heap(c);
        poe_alarm_id test_14 = 0, test_15 = 0;
        poe_alarm_info info;
        double now;
        int rc;

        poe_kernel_alarm_set(k, "test_13", 1, POE_ARGS(poe_int(13)), &heap->test_13);
        poe_kernel_alarm_set(k, "test_14", 1, POE_ARGS(poe_int(14)), &test_14);
        rc = poe_kernel_alarm_remove(k, test_14, &info);
        tap_is_str(rc == 0 ? info.event : NULL, "test_14", "alarm 14 remove: name is correct");
        tap_ok(rc == 0 && info.time == 1, "alarm 14 remove: time is correct");
        tap_ok(rc == 0 && info.nargs == 1 && poe_value_int(&info.args[0]) == 14,
               "alarm 14 remove: data is correct");

        now = poe_kernel_time(k);
        poe_kernel_delay_set(k, "test_15", WAIT, POE_ARGS(poe_int(15)), &test_15);
        rc = poe_kernel_alarm_remove(k, test_15, &info);
        tap_is_str(rc == 0 ? info.event : NULL, "test_15", "alarm 15 remove: name is correct");
        tap_ok(rc == 0 && info.time <= now + 3 && info.time >= now,
               "alarm 15 remove: time is correct");
        tap_ok(rc == 0 && info.nargs == 1 && poe_value_int(&info.args[0]) == 15,
               "alarm 15 remove: data is correct");
        return poe_nil();
}

static double adjust(poe_kernel *k, poe_alarm_id id, double delta)
{
        double t = NAN;

        poe_kernel_alarm_adjust(k, id, delta, &t);
        return t;
}

static poe_value test_13(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_alarm_id alarm_id = 0, filler[100];
        int i;

        tap_is_int(poe_value_int(poe_ctx_arg(c, 0)), 13, "alarm 13: received proper data");

        poe_kernel_delay(k, "test_16", WAIT, POE_NOARGS);
        poe_kernel_delay(k, "test_17", WAIT, POE_NOARGS);
        poe_kernel_alarm_remove_all(k, NULL, NULL);

        poe_kernel_alarm_set(k, "test_18", 50, POE_ARGS(poe_int(18)), &alarm_id);
        tap_ok(adjust(k, alarm_id, -1) == 49, "alarm 18: adjusted backward correctly");
        tap_ok(adjust(k, alarm_id, 1) == 50, "alarm 18: adjusted forward correctly");

        poe_kernel_alarm_set(k, "test_19", 52, POE_ARGS(poe_int(19)), &alarm_id);
        tap_ok(adjust(k, alarm_id, -4) == 48, "alarm 19: adjusted backward correctly");
        tap_ok(adjust(k, alarm_id, 4) == 52, "alarm 19: adjusted forward correctly");

        poe_kernel_alarm_set(k, "test_20", 49, POE_ARGS(poe_int(20)), &alarm_id);
        tap_ok(adjust(k, alarm_id, 2) == 51, "alarm 20: adjusted forward once correctly");
        tap_ok(adjust(k, alarm_id, 2) == 53, "alarm 20: adjusted forward twice correctly");
        tap_ok(adjust(k, alarm_id, -2) == 51, "alarm 20: adjusted backward correctly");

        for (i = 0; i < 100; i++)
                poe_kernel_alarm_set(k, "filler", i + 1, POE_NOARGS, &filler[i]);

        poe_kernel_alarm_set(k, "test_21", 50, POE_ARGS(poe_int(21)), &alarm_id);
        tap_ok(adjust(k, alarm_id, -10) == 40, "alarm 21: adjusted backward correctly");
        tap_ok(adjust(k, alarm_id, 20) == 60, "alarm 21: adjusted forward correctly");
        tap_ok(adjust(k, alarm_id, -100) == -40, "alarm 21: adjusted first correctly");

        poe_kernel_alarm_set(k, "test_22", 50, POE_ARGS(poe_int(22)), &alarm_id);
        tap_ok(adjust(k, alarm_id, 100) == 150, "alarm 22: adjusted last correctly");

        for (i = 0; i < 100; i++)
                poe_kernel_alarm_remove(k, filler[i], NULL);
        return poe_nil();
}

static poe_value must_not_ring(poe_ctx *c)
{
        char name[64];

        snprintf(name, sizeof(name), "alarm %s should have been removed",
                 poe_ctx_state(c) + strlen("test_"));
        tap_fail(name);
        return poe_nil();
}

static poe_value ids_default(poe_ctx *c)
{
        struct ids *heap = poe_ctx_heap(c);
        const char *event = poe_value_str(poe_ctx_arg(c, 0));
        const poe_value *args = poe_ctx_arg(c, 1);

        if (event && strncmp(event, "test_", 5) == 0 && event[5] >= '0' && event[5] <= '9' &&
            args->type == POE_T_LIST && args->len > 0 && heap->n_tests < 16)
                heap->tests[heap->n_tests++] = (double)poe_value_int(&args->u.list[0]);
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value ids_stop(poe_ctx *c)
{
        struct ids *heap = poe_ctx_heap(c);

        tap_is_int(heap->n_tests, 5, "the right number of alarms were dispatched");
        tap_is_int((long long)heap->tests[0], 21, "alarm 21 was dispatched first");
        tap_is_int((long long)heap->tests[1], 18, "alarm 18 was dispatched second");
        tap_is_int((long long)heap->tests[2], 20, "alarm 20 was dispatched third");
        tap_is_int((long long)heap->tests[3], 19, "alarm 19 was dispatched fourth");
        tap_is_int((long long)heap->tests[4], 22, "alarm 22 was dispatched fifth");
        return poe_nil();
}

/* ---- the old tests: paths one to eleven ---- */

enum { ONE, TWO, THREE, FOUR, FIVE, SIX, SEVEN, EIGHT, NINE, TEN, N_PATHS };

struct paths {
        int test[N_PATHS];
        char alarms_eleven[32][24];
        int n_eleven;
        double start_time;
};

struct peek_ctx {
        struct paths *heap;
        poe_sid session;
};

/* grep /^path_eleven_[0-9_]+$/, for the active session's alarms. */
static int peek_eleven(void *ctx, const poe_peek_event *ev)
{
        struct peek_ctx *p = ctx;
        const char *rest;

        if (ev->to != p->session || strcmp(ev->type, "alarm") != 0 ||
            strncmp(ev->event, "path_eleven_", 12) != 0)
                return 0;
        rest = ev->event + 12;
        if (!*rest || rest[strspn(rest, "0123456789_")])
                return 0;
        if (p->heap->n_eleven < 32)
                snprintf(p->heap->alarms_eleven[p->heap->n_eleven++], 24, "%s", ev->event);
        return 0;
}

static poe_value test_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct paths *heap = poe_ctx_heap(c);
        poe_alarm_id id_25_1, id_25_2, id_25_3, id_204, id_205, id_206;
        struct peek_ctx peek = {heap, poe_ctx_session(c)};
        static const int eleven[] = {100, 200, 300, 50, 150, 250, 350, 75, 175, 275, 325, 225, 125};
        char name[32];
        int count, i;

#define NOW poe_kernel_time(k)
        heap->test[ONE] = 0;
        poe_kernel_alarm(k, "path_one", NOW + WAIT, POE_ARGS(poe_double(1.1)));

        heap->test[TWO] = 0;
        poe_kernel_alarm(k, "path_two", NOW + WAIT, POE_ARGS(poe_double(2.1)));
        poe_kernel_alarm(k, "path_two", NOW + WAIT, POE_ARGS(poe_double(2.2)));

        heap->test[THREE] = 0;
        poe_kernel_alarm_add(k, "path_three", NOW + WAIT, POE_ARGS(poe_double(3.1)));
        poe_kernel_alarm_add(k, "path_three", NOW + WAIT, POE_ARGS(poe_double(3.2)));

        heap->test[FOUR] = 0;
        poe_kernel_alarm(k, "path_four", NOW + WAIT, POE_ARGS(poe_double(4.1)));
        poe_kernel_alarm_add(k, "path_four", NOW + WAIT, POE_ARGS(poe_double(4.2)));
        poe_kernel_alarm(k, "path_four", NOW + WAIT, POE_ARGS(poe_double(4.3)));
        poe_kernel_alarm_add(k, "path_four", NOW + WAIT, POE_ARGS(poe_double(4.4)));

        heap->test[FIVE] = 1;
        poe_kernel_alarm(k, "path_five", NOW + WAIT, POE_ARGS(poe_double(5.1)));
        poe_kernel_alarm(k, "path_five", POE_NO_TIME, POE_NOARGS);

        heap->test[SIX] = 0;
        poe_kernel_delay(k, "path_six", WAIT, POE_ARGS(poe_double(6.1)));

        heap->test[SEVEN] = 0;
        poe_kernel_delay(k, "path_seven", WAIT, POE_ARGS(poe_double(7.1)));
        poe_kernel_delay(k, "path_seven", WAIT, POE_ARGS(poe_double(7.2)));

        heap->test[EIGHT] = 0;
        poe_kernel_delay_add(k, "path_eight", WAIT, POE_ARGS(poe_double(8.1)));
        poe_kernel_delay_add(k, "path_eight", WAIT, POE_ARGS(poe_double(8.2)));

        /* Upstream's path nine calls alarm() with WAIT as an epoch time. */
        heap->test[NINE] = 0;
        poe_kernel_alarm(k, "path_nine", WAIT, POE_ARGS(poe_double(9.1)));
        poe_kernel_alarm_add(k, "path_nine", WAIT, POE_ARGS(poe_double(9.2)));
        poe_kernel_alarm(k, "path_nine", WAIT, POE_ARGS(poe_double(9.3)));
        poe_kernel_alarm_add(k, "path_nine", WAIT, POE_ARGS(poe_double(9.4)));

        heap->test[TEN] = 1;
        poe_kernel_delay(k, "path_ten", WAIT, POE_ARGS(poe_double(10.1)));
        poe_kernel_alarm(k, "path_ten", POE_NO_TIME, POE_NOARGS);

        poe_kernel_alarm_set(k, "path_eleven_025_3", 25, POE_NOARGS, &id_25_3);
        poe_kernel_alarm_set(k, "path_eleven_025_2", 25, POE_NOARGS, &id_25_2);
        poe_kernel_alarm_set(k, "path_eleven_025_1", 25, POE_NOARGS, &id_25_1);
        poe_kernel_alarm_adjust(k, id_25_1, -0.01, NULL);
        poe_kernel_alarm_adjust(k, id_25_3, 0.01, NULL);

        for (count = 0; count < 600; count++) {
                int t;

                do
                        t = rand() % 300;
                while (!t);
                snprintf(name, sizeof(name), "path_eleven_fill_%d", count);
                poe_kernel_alarm(k, name, t, POE_NOARGS);
        }
        for (i = 0; i < (int)(sizeof(eleven) / sizeof(eleven[0])); i++) {
                snprintf(name, sizeof(name), "path_eleven_%03d", eleven[i]);
                poe_kernel_alarm(k, name, eleven[i], POE_NOARGS);
        }
        poe_kernel_alarm_set(k, "path_eleven_206", 205, POE_NOARGS, &id_206);
        poe_kernel_alarm_set(k, "path_eleven_205", 205, POE_NOARGS, &id_205);
        poe_kernel_alarm_set(k, "path_eleven_204", 205, POE_NOARGS, &id_204);
        poe_kernel_alarm_adjust(k, id_204, -0.01, NULL);
        poe_kernel_alarm_adjust(k, id_206, 0.01, NULL);
        (void)id_25_2;
        (void)id_205;

        for (count = 0; count < 600; count++) {
                snprintf(name, sizeof(name), "path_eleven_fill_%d", count);
                poe_kernel_alarm(k, name, POE_NO_TIME, POE_NOARGS);
        }

        heap->n_eleven = 0;
        poe_peek_timers(k, peek_eleven, &peek);
        for (i = 0; i < heap->n_eleven; i++)
                poe_kernel_alarm(k, heap->alarms_eleven[i], POE_NO_TIME, POE_NOARGS);

        heap->start_time = NOW;
#undef NOW
        return poe_nil();
}

static poe_value test_stop(poe_ctx *c)
{
        static const char *expected[] = {
                "path_eleven_025_1", "path_eleven_025_2", "path_eleven_025_3", "path_eleven_050",
                "path_eleven_075",   "path_eleven_100",   "path_eleven_125",   "path_eleven_150",
                "path_eleven_175",   "path_eleven_200",   "path_eleven_204",   "path_eleven_205",
                "path_eleven_206",   "path_eleven_225",   "path_eleven_250",   "path_eleven_275",
                "path_eleven_300",   "path_eleven_325",   "path_eleven_350",
        };
        struct paths *heap = poe_ctx_heap(c);
        int same = heap->n_eleven == 19, i;

        tap_is_int(heap->test[ONE], 1, "single alarm rang ok");
        tap_is_int(heap->test[TWO], 1, "second alarm superseded first");
        tap_is_int(heap->test[THREE], 11, "two alarms rang in proper order");
        tap_is_int(heap->test[FOUR], 11, "mixed alarm APIs rang properly");
        tap_is_int(heap->test[FIVE], 1, "stopped alarm should not ring");
        tap_is_int(heap->test[SIX], 1, "single delay rang ok");
        tap_is_int(heap->test[SEVEN], 1, "second delay superseded first");
        tap_is_int(heap->test[EIGHT], 11, "two delays rang in proper order");
        tap_is_int(heap->test[NINE], 11, "mixed delay APIs rang properly");
        tap_is_int(heap->test[TEN], 1, "stopped delay should not ring");
        tap_ok(poe_kernel_time(poe_ctx_kernel(c)) - heap->start_time <= 15,
               "tests ran reasonably fast");
        for (i = 0; same && i < 19; i++)
                same = strcmp(heap->alarms_eleven[i], expected[i]) == 0;
        if (!tap_ok(same, "alarms rang in order"))
                for (i = 0; i < heap->n_eleven; i++)
                        tap_diag("%s", heap->alarms_eleven[i]);
        return poe_nil();
}

/* The paths' handlers: ARG0 is the test id; which ids count, in which
 * order, is upstream's. */
static int is_id(poe_ctx *c, double id)
{
        const poe_value *v = poe_ctx_arg(c, 0);

        return v->type == POE_T_DOUBLE && fabs(v->u.d - id) < 1e-9;
}

static poe_value path_single(poe_ctx *c)
{
        struct paths *heap = poe_ctx_heap(c);
        const int *which = poe_ctx_object(c); /* { path, id * 10 } */

        heap->test[which[0]] += is_id(c, which[1] / 10.0) ? 1 : 1000;
        return poe_nil();
}

static poe_value path_pair(poe_ctx *c)
{
        struct paths *heap = poe_ctx_heap(c);
        const int *which = poe_ctx_object(c); /* { path, first * 10, second * 10 } */
        int *t = &heap->test[which[0]];

        if (is_id(c, which[1] / 10.0) && *t == 0)
                *t += 1;
        else if (is_id(c, which[2] / 10.0) && *t == 1)
                *t += 10;
        else
                *t += 1000;
        return poe_nil();
}

static poe_value path_counted(poe_ctx *c)
{
        struct paths *heap = poe_ctx_heap(c);
        const int *which = poe_ctx_object(c);

        heap->test[which[0]] += 1;
        return poe_nil();
}

int main(void)
{
        static const int one[] = {ONE, 11}, two[] = {TWO, 22}, three[] = {THREE, 31, 32},
                         four[] = {FOUR, 43, 44}, five[] = {FIVE}, six[] = {SIX, 61},
                         seven[] = {SEVEN, 72}, eight[] = {EIGHT, 81, 82}, nine[] = {NINE, 93, 94},
                         ten[] = {TEN};
        static const poe_handler ids_h[] = {
                {"_start", ids_start, NULL},      {"test_13", test_13, NULL},
                {"test_14", must_not_ring, NULL}, {"test_15", must_not_ring, NULL},
                {"test_16", must_not_ring, NULL}, {"test_17", must_not_ring, NULL},
                {"_default", ids_default, NULL},  {"_stop", ids_stop, NULL},
        };
        static const poe_handler paths_h[] = {
                {"_start", test_start, NULL},
                {"_stop", test_stop, NULL},
                {"path_one", path_single, (void *)one},
                {"path_two", path_single, (void *)two},
                {"path_three", path_pair, (void *)three},
                {"path_four", path_pair, (void *)four},
                {"path_five", path_counted, (void *)five},
                {"path_six", path_single, (void *)six},
                {"path_seven", path_single, (void *)seven},
                {"path_eight", path_pair, (void *)eight},
                {"path_nine", path_pair, (void *)nine},
                {"path_ten", path_counted, (void *)ten},
        };
        static struct ids ids_heap;
        static struct paths paths_heap;
        poe_session_spec spec = {.handlers = ids_h, .n_handlers = 8, .heap = &ids_heap};
        poe_kernel *k;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(37);
        tap_skip("use POE", "use_ok: there is no module to load in C");
        if (poe_kernel_new(&k, NULL) < 0 || poe_kernel_clock_fake(k, 1.7e9) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        spec = (poe_session_spec){.handlers = paths_h, .n_handlers = 12, .heap = &paths_heap};
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        poe_kernel_free(k);
        return tap_done();
}
