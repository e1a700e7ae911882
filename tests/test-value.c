/*
 * poe_value: constructors, Perl truth and numification, formatting, and
 * the ownership rule for pointer values (a destructor runs exactly once:
 * after dispatch, when the event is discarded, or when the call that was
 * given it fails, unless a handler took the pointer).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "testlib.h"

/* ---- constructors ---- */

static void test_constructors(void **state)
{
        static const char bytes[] = { 'a', '\0', 'b' };
        poe_value items[2];
        poe_value v;
        int x;

        (void)state;
        v = poe_nil();
        TL_EQ(v.type, POE_T_NIL);

        v = poe_int(-5);
        TL_EQ(v.type, POE_T_INT);
        TL_EQ(v.u.i, -5);
        v = poe_int(INT64_MIN);
        assert_true(v.u.i == INT64_MIN);

        v = poe_double(2.5);
        TL_EQ(v.type, POE_T_DOUBLE);
        assert_true(v.u.d == 2.5);

        v = poe_str("hello");
        TL_EQ(v.type, POE_T_STR);
        TL_EQ(v.len, 5);
        assert_string_equal(poe_value_str(&v), "hello");

        /* NULL is undef, not an empty string. */
        v = poe_str(NULL);
        TL_EQ(v.type, POE_T_NIL);
        assert_null(poe_value_str(&v));

        v = poe_strn(bytes, sizeof(bytes));
        TL_EQ(v.type, POE_T_STR);
        TL_EQ(v.len, 3);
        assert_memory_equal(v.u.s, bytes, 3);

        v = poe_ptr(&x, tl_count_destroy);
        TL_EQ(v.type, POE_T_PTR);
        assert_ptr_equal(v.u.ptr.p, &x);
        assert_true(v.u.ptr.destroy == tl_count_destroy);

        v = poe_session(42);
        TL_EQ(v.type, POE_T_SESSION);
        TL_EQ(v.u.sid, 42);

        items[0] = poe_int(1);
        items[1] = poe_str("two");
        v = poe_list(items, 2);
        TL_EQ(v.type, POE_T_LIST);
        TL_EQ(v.len, 2);
        assert_ptr_equal(v.u.list, items);

        /* poe_value_str answers only for strings. */
        v = poe_int(3);
        assert_null(poe_value_str(&v));
        assert_null(poe_value_str(NULL));
}

/* ---- Perl truth ---- */

static void test_truth(void **state)
{
        poe_value empty_list = poe_list(NULL, 0);
        poe_value v;
        int x;

        (void)state;
        /* Perl's false values: undef, 0, 0.0, "" and "0". */
        v = poe_nil();
        assert_false(poe_value_true(&v));
        v = poe_int(0);
        assert_false(poe_value_true(&v));
        v = poe_double(0.0);
        assert_false(poe_value_true(&v));
        v = poe_double(-0.0);
        assert_false(poe_value_true(&v));
        v = poe_str("");
        assert_false(poe_value_true(&v));
        v = poe_str("0");
        assert_false(poe_value_true(&v));
        v = poe_strn("0", 1);
        assert_false(poe_value_true(&v));
        assert_false(poe_value_true(NULL));

        /* Everything else is true, including strings that only look
         * like zero ("0.0", "00", " 0", "0\0") and references. */
        v = poe_int(1);
        assert_true(poe_value_true(&v));
        v = poe_int(-1);
        assert_true(poe_value_true(&v));
        v = poe_double(0.001);
        assert_true(poe_value_true(&v));
        v = poe_str("0.0");
        assert_true(poe_value_true(&v));
        v = poe_str("00");
        assert_true(poe_value_true(&v));
        v = poe_str(" 0");
        assert_true(poe_value_true(&v));
        v = poe_strn("0\0", 2);
        assert_true(poe_value_true(&v));
        v = poe_str("a");
        assert_true(poe_value_true(&v));
        v = poe_ptr(&x, NULL);
        assert_true(poe_value_true(&v));
        v = poe_session(1);
        assert_true(poe_value_true(&v));
        /* An array reference is true even when the array is empty. */
        assert_true(poe_value_true(&empty_list));
}

/* ---- numification ---- */

static void test_int(void **state)
{
        poe_value v;
        int x;

        (void)state;
        v = poe_nil();
        TL_EQ(poe_value_int(&v), 0);
        assert_true(poe_value_int(NULL) == 0);
        v = poe_int(-12345678901LL);
        TL_EQ(poe_value_int(&v), -12345678901LL);
        /* Doubles truncate toward zero, as Perl's int(). */
        v = poe_double(3.9);
        TL_EQ(poe_value_int(&v), 3);
        v = poe_double(-3.9);
        TL_EQ(poe_value_int(&v), -3);
        /* NaN is 0 and doubles beyond int64 saturate, from a double or
         * from a string read as one (a bare cast is undefined). */
        v = poe_double(NAN);
        TL_EQ(poe_value_int(&v), 0);
        v = poe_double(1e300);
        assert_true(poe_value_int(&v) == INT64_MAX);
        v = poe_double(-INFINITY);
        assert_true(poe_value_int(&v) == INT64_MIN);
        v = poe_str("1e30");
        assert_true(poe_value_int(&v) == INT64_MAX);
        v = poe_session(17);
        TL_EQ(poe_value_int(&v), 17);

        /* Strings: leading whitespace skipped, a leading sign, then the
         * longest numeric prefix; anything else is 0. */
        v = poe_str("42");
        TL_EQ(poe_value_int(&v), 42);
        v = poe_str("-7");
        TL_EQ(poe_value_int(&v), -7);
        v = poe_str("+8");
        TL_EQ(poe_value_int(&v), 8);
        v = poe_str(" \t\n12");
        TL_EQ(poe_value_int(&v), 12);
        v = poe_str("42abc");
        TL_EQ(poe_value_int(&v), 42);
        v = poe_str("3.7");
        TL_EQ(poe_value_int(&v), 3);
        v = poe_str("abc");
        TL_EQ(poe_value_int(&v), 0);
        v = poe_str("");
        TL_EQ(poe_value_int(&v), 0);
        /* Perl does not read hex in numification: "0x10" + 0 == 0. */
        v = poe_str("0x10");
        TL_EQ(poe_value_int(&v), 0);
        /* The string's length bounds it, not a NUL. */
        v = poe_strn("123456", 2);
        TL_EQ(poe_value_int(&v), 12);
        v = poe_ptr(&x, NULL);
        TL_EQ(poe_value_int(&v), 0);
}

/*
 * Perl numifies exponents and fractions before int(): "1e3" + 0 is 1000
 * and int("2.5e1") is 25 (perl -e 'print int("1e3"), " ", int("2.5e1")'
 * prints "1000 25").  The contract says "parsed like Perl's
 * numification".
 */
static void test_int_exponent(void **state)
{
        poe_value v;

        (void)state;
        v = poe_str("1e3");
        TL_EQ(poe_value_int(&v), 1000);
        v = poe_str("2.5e1");
        TL_EQ(poe_value_int(&v), 25);
}

/* ---- formatting ---- */

static const char *fmt(poe_value v)
{
        static char buf[256];
        int n = poe_value_format(&v, buf, sizeof(buf));

        TL_EQ(n, strlen(buf));
        return buf;
}

static void test_format(void **state)
{
        static const char bytes[] = { 'a', '\0', 'b' };
        poe_value inner[2], outer[3], holey[3];
        char buf[64];
        int x, n;

        (void)state;
        assert_string_equal(fmt(poe_nil()), "");
        assert_string_equal(fmt(poe_int(0)), "0");
        assert_string_equal(fmt(poe_int(-42)), "-42");
        assert_string_equal(fmt(poe_int(INT64_MAX)), "9223372036854775807");
        assert_string_equal(fmt(poe_int(INT64_MIN)), "-9223372036854775808");
        /* Perl prints doubles with %.15g: whole numbers without a point. */
        assert_string_equal(fmt(poe_double(0.5)), "0.5");
        assert_string_equal(fmt(poe_double(3.0)), "3");
        assert_string_equal(fmt(poe_double(0.1)), "0.1");
        assert_string_equal(fmt(poe_double(-2.25)), "-2.25");
        assert_string_equal(fmt(poe_double(1e21)), "1e+21");
        assert_string_equal(fmt(poe_str("hi there")), "hi there");
        assert_string_equal(fmt(poe_str("")), "");
        assert_string_equal(fmt(poe_session(7)), "7");

        /* A string's length, not a NUL, says where it ends. */
        assert_string_equal(fmt(poe_strn("abcdef", 3)), "abc");
        memset(buf, 'x', sizeof(buf));
        n = poe_value_format(&(poe_value){ 0 }, buf, sizeof(buf));
        TL_EQ(n, 0);
        n = poe_value_format(&(poe_value){ .type = POE_T_STR, .len = 3, .u.s = bytes }, buf,
                             sizeof(buf));
        TL_EQ(n, 3);
        assert_memory_equal(buf, bytes, 3);
        TL_EQ(buf[3], '\0');

        /* Lists: items between brackets, separated by spaces, nested. */
        inner[0] = poe_str("b");
        inner[1] = poe_str("c");
        outer[0] = poe_str("a");
        outer[1] = poe_list(inner, 2);
        outer[2] = poe_int(3);
        assert_string_equal(fmt(poe_list(outer, 2)), "[a [b c]]");
        assert_string_equal(fmt(poe_list(outer, 3)), "[a [b c] 3]");
        assert_string_equal(fmt(poe_list(NULL, 0)), "[]");
        /* undef inside a list prints as nothing, as in Perl's "@list". */
        holey[0] = poe_str("a");
        holey[1] = poe_nil();
        holey[2] = poe_str("b");
        assert_string_equal(fmt(poe_list(holey, 3)), "[a  b]");

        assert_true(strncmp(fmt(poe_ptr(&x, NULL)), "PTR(0x", 6) == 0);
        assert_true(fmt(poe_ptr(&x, NULL))[strlen(fmt(poe_ptr(&x, NULL))) - 1] == ')');
}

static void test_format_truncates_like_snprintf(void **state)
{
        poe_value items[2] = { poe_str("hello"), poe_str("world") };
        char buf[8];
        int n;

        (void)state;
        memset(buf, 'x', sizeof(buf));
        n = poe_value_format(&(poe_value){ .type = POE_T_STR, .len = 5, .u.s = "hello" }, buf,
                             4);
        TL_EQ(n, 5);
        assert_string_equal(buf, "hel");
        TL_EQ(buf[4], 'x');

        /* The full length of a list is counted past the cut. */
        n = poe_value_format(&(poe_value){ .type = POE_T_LIST, .len = 2, .u.list = items },
                             buf, sizeof(buf));
        TL_EQ(n, (int)strlen("[hello world]"));
        assert_string_equal(buf, "[hello ");

        /* Size 0 writes nothing at all. */
        memset(buf, 'x', sizeof(buf));
        n = poe_value_format(&items[0], buf, 0);
        TL_EQ(n, 5);
        TL_EQ(buf[0], 'x');

        /* Size 1 writes only the terminator. */
        n = poe_value_format(&items[0], buf, 1);
        TL_EQ(n, 5);
        TL_EQ(buf[0], '\0');
}

static void test_release(void **state)
{
        int count = 0;
        poe_value v = poe_ptr(&count, tl_count_destroy);
        poe_value w = poe_int(5);

        (void)state;
        poe_value_release(&v);
        TL_EQ(count, 1);
        TL_EQ(v.type, POE_T_NIL);
        /* Released values are nil, so a second release does nothing. */
        poe_value_release(&v);
        TL_EQ(count, 1);
        poe_value_release(&w);
        TL_EQ(w.type, POE_T_NIL);
        poe_value_release(NULL);
}

/* ---- pointer ownership through the kernel ---- */

static int destroyed;
static int destroyed_at_dispatch;

static poe_value on_take_ptr_check(poe_ctx *c)
{
        /* During dispatch the pointer must still be alive. */
        destroyed_at_dispatch = destroyed;
        tl_log_ctx(c);
        return poe_nil();
}

static void test_ptr_destroyed_after_dispatch(void **state)
{
        poe_sid sid;
        int r;

        (void)state;
        destroyed = 0;
        destroyed_at_dispatch = -1;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "ev", on_take_ptr_check });
        r = poe_kernel_post(tl.k, sid, "ev", POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)));
        TL_EQ(r, 0);
        TL_EQ(destroyed, 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(destroyed_at_dispatch, 0);
        TL_EQ(destroyed, 1);
}

static void test_ptr_in_list_destroyed_once(void **state)
{
        poe_value items[2];
        poe_sid sid;

        (void)state;
        destroyed = 0;
        destroyed_at_dispatch = -1;
        items[0] = poe_str("x");
        items[1] = poe_ptr(&destroyed, tl_count_destroy);
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "ev", on_take_ptr_check });
        TL_EQ(poe_kernel_post(tl.k, sid, "ev", POE_ARGS(poe_list(items, 2))), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(destroyed_at_dispatch, 0);
        TL_EQ(destroyed, 1);
}

static poe_value on_start_post_then_stop(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_yield(k, "never", POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))), 0);
        return poe_nil();
}

static poe_value on_never(poe_ctx *c)
{
        (void)c;
        fail_msg("an event of a stopped session was dispatched");
        return poe_nil();
}

static void test_ptr_destroyed_when_discarded_by_stop(void **state)
{
        (void)state;
        destroyed = 0;
        TL_CREATE(tl.k, { "_start", on_start_post_then_stop }, { "never", on_never });
        TL_EQ(destroyed, 0);
        TL_EQ(poe_kernel_get_event_count(tl.k), 2); /* the yield and the GC event */
        /* Stopping every session discards their queued events. */
        poe_kernel_stop(tl.k);
        TL_EQ(destroyed, 1);
        TL_EQ(poe_kernel_get_event_count(tl.k), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(destroyed, 1);
}

static void test_ptr_destroyed_when_kernel_freed(void **state)
{
        poe_sid sid;

        (void)state;
        destroyed = 0;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "ev", on_never });
        TL_EQ(poe_kernel_post(tl.k, sid, "ev", POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))),
              0);
        tl_kernel_free_checked();
        TL_EQ(destroyed, 1);
}

/* The "stolen even on failure" rule: a call that fails still owns, and
 * so destroys, the pointers it was given. */
static void test_ptr_destroyed_when_call_fails(void **state)
{
        poe_value ret = poe_int(99);
        int count = 0;

        (void)state;
        TL_EQ(poe_kernel_post(tl.k, 12345, "ev", POE_ARGS(poe_ptr(&count, tl_count_destroy))),
              -ESRCH);
        TL_EQ(count, 1);
        TL_EQ(poe_kernel_post_alias(tl.k, "nobody", "ev",
                                    POE_ARGS(poe_int(1), poe_ptr(&count, tl_count_destroy))),
              -ESRCH);
        TL_EQ(count, 2);
        TL_EQ(poe_kernel_call(tl.k, 12345, "ev", POE_ARGS(poe_ptr(&count, tl_count_destroy)),
                              &ret),
              -ESRCH);
        TL_EQ(count, 3);
        /* Output parameters are written only on success. */
        TL_EQ(ret.type, POE_T_INT);
        TL_EQ(poe_kernel_call_alias(tl.k, "nobody", "ev",
                                    POE_ARGS(poe_ptr(&count, tl_count_destroy)), NULL),
              -ESRCH);
        TL_EQ(count, 4);
        /* yield outside a handler is refused, and still destroys. */
        TL_EQ(poe_kernel_yield(tl.k, "ev", POE_ARGS(poe_ptr(&count, tl_count_destroy))), -EPERM);
        TL_EQ(count, 5);
        TL_EQ(poe_kernel_signal(tl.k, 12345, "USR1", POE_ARGS(poe_ptr(&count, tl_count_destroy))),
              -ESRCH);
        TL_EQ(count, 6);
}

/* The rule has no exception for bad parameters: a call that refuses
 * its arguments as invalid has still been given the pointers. */
static void test_ptr_destroyed_when_call_einval(void **state)
{
        const poe_handler no_fn[] = { { "_start", NULL } };
        poe_session_spec spec = tl_spec(no_fn, 1, NULL);
        poe_value arg;
        int count = 0;
        poe_sid sid;

        (void)state;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop });
        arg = poe_ptr(&count, tl_count_destroy);
        TL_EQ(poe_kernel_post(tl.k, sid, NULL, &arg, 1), -EINVAL);
        TL_EQ(count, 1);
        arg = poe_ptr(&count, tl_count_destroy);
        TL_EQ(poe_kernel_call(tl.k, sid, NULL, &arg, 1, NULL), -EINVAL);
        TL_EQ(count, 2);
        arg = poe_ptr(&count, tl_count_destroy);
        TL_EQ(poe_kernel_signal(tl.k, sid, "", &arg, 1), -EINVAL);
        TL_EQ(count, 3);
        arg = poe_ptr(&count, tl_count_destroy);
        spec.args = &arg;
        spec.n_args = 1;
        TL_EQ(poe_session_create(tl.k, &spec, NULL), -EINVAL);
        TL_EQ(count, 4);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static void *taken;

static poe_value on_take(poe_ctx *c)
{
        poe_value v = poe_ctx_take_arg(c, 1);

        TL_EQ(v.type, POE_T_PTR);
        assert_true(v.u.ptr.destroy == tl_count_destroy);
        taken = v.u.ptr.p;
        /* Taking past the end gives nil. */
        TL_EQ(poe_ctx_take_arg(c, 7).type, POE_T_NIL);
        /* Taking a non-pointer returns it as it is. */
        TL_EQ(poe_ctx_take_arg(c, 0).type, POE_T_INT);
        return poe_nil();
}

static void test_take_arg_keeps_ptr(void **state)
{
        poe_sid sid;

        (void)state;
        destroyed = 0;
        taken = NULL;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "ev", on_take });
        TL_EQ(poe_kernel_post(tl.k, sid, "ev",
                              POE_ARGS(poe_int(1), poe_ptr(&destroyed, tl_count_destroy))),
              0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        assert_ptr_equal(taken, &destroyed);
        TL_EQ(destroyed, 0);
        /* The handler owns it now; with call() too. */
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "ev", on_take });
        TL_EQ(poe_kernel_call(tl.k, sid, "ev",
                              POE_ARGS(poe_int(1), poe_ptr(&destroyed, tl_count_destroy)), NULL),
              0);
        TL_EQ(destroyed, 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(destroyed, 0);
}

static poe_value on_call_check(poe_ctx *c)
{
        destroyed_at_dispatch = destroyed;
        return poe_nil();
}

static void test_ptr_call_destroyed_after_handler(void **state)
{
        poe_sid sid;

        (void)state;
        destroyed = 0;
        destroyed_at_dispatch = -1;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "ev", on_call_check });
        TL_EQ(poe_kernel_call(tl.k, sid, "ev", POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)),
                              NULL),
              0);
        TL_EQ(destroyed_at_dispatch, 0);
        TL_EQ(destroyed, 1);
        /* A call with no handler at all still destroys what it stole. */
        TL_EQ(poe_kernel_call(tl.k, sid, "unhandled",
                              POE_ARGS(poe_ptr(&destroyed, tl_count_destroy)), NULL),
              0);
        TL_EQ(destroyed, 2);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(destroyed, 2);
}

static poe_value on_ret_ptr(poe_ctx *c)
{
        (void)c;
        return poe_ptr(&destroyed, tl_count_destroy);
}

static void test_ptr_return_values(void **state)
{
        poe_value ret;
        poe_sid sid;

        (void)state;
        destroyed = 0;
        sid = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "ev", on_ret_ptr });
        /* call(): the caller owns what the handler returned. */
        TL_EQ(poe_kernel_call(tl.k, sid, "ev", POE_NOARGS, &ret), 0);
        TL_EQ(ret.type, POE_T_PTR);
        TL_EQ(destroyed, 0);
        poe_value_release(&ret);
        TL_EQ(destroyed, 1);
        /* call() without a place for the value: released at once. */
        TL_EQ(poe_kernel_call(tl.k, sid, "ev", POE_NOARGS, NULL), 0);
        TL_EQ(destroyed, 2);
        /* post(): nobody receives the return value; the kernel releases it. */
        TL_EQ(poe_kernel_post(tl.k, sid, "ev", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(destroyed, 3);
}

static poe_value on_start_check_ptr(poe_ctx *c)
{
        TL_EQ(poe_ctx_argc(c), 2);
        TL_EQ(poe_ctx_arg(c, 1)->type, POE_T_PTR);
        destroyed_at_dispatch = destroyed;
        return poe_nil();
}

static void test_ptr_start_args(void **state)
{
        poe_value args[2];
        poe_session_spec spec = TL_SPEC({ "_start", on_start_check_ptr });

        (void)state;
        destroyed = 0;
        destroyed_at_dispatch = -1;
        args[0] = poe_str("a");
        args[1] = poe_ptr(&destroyed, tl_count_destroy);
        spec.args = args;
        spec.n_args = 2;
        tl_create_spec(tl.k, &spec);
        TL_EQ(destroyed_at_dispatch, 0);
        TL_EQ(destroyed, 1);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(destroyed, 1);
}

static poe_value on_start_watch(poe_ctx *c)
{
        TL_EQ(poe_kernel_sig(poe_ctx_kernel(c), "USR1", "got", POE_NOARGS), 0);
        return poe_nil();
}

static int got_count;

static poe_value on_got(poe_ctx *c)
{
        destroyed_at_dispatch = destroyed;
        TL_EQ(poe_ctx_arg(c, 1)->type, POE_T_PTR);
        got_count++;
        return poe_nil();
}

/* One signal reaching two watchers owns its pointer once. */
static void test_ptr_signal_destroyed_once(void **state)
{
        (void)state;
        destroyed = 0;
        destroyed_at_dispatch = -1;
        got_count = 0;
        TL_CREATE(tl.k, { "_start", on_start_watch }, { "got", on_got });
        TL_CREATE(tl.k, { "_start", on_start_watch }, { "got", on_got });
        TL_EQ(poe_kernel_signal(tl.k, POE_KERNEL, "USR1",
                                POE_ARGS(poe_ptr(&destroyed, tl_count_destroy))),
              0);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(got_count, 2);
        TL_EQ(destroyed_at_dispatch, 0);
        TL_EQ(destroyed, 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_constructors),
                cmocka_unit_test(test_truth),
                cmocka_unit_test(test_int),
                cmocka_unit_test(test_int_exponent),
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_format_truncates_like_snprintf),
                cmocka_unit_test(test_release),
                TL_TEST(test_ptr_destroyed_after_dispatch),
                TL_TEST(test_ptr_in_list_destroyed_once),
                TL_TEST(test_ptr_destroyed_when_discarded_by_stop),
                TL_TEST(test_ptr_destroyed_when_kernel_freed),
                TL_TEST(test_ptr_destroyed_when_call_fails),
                TL_TEST(test_ptr_destroyed_when_call_einval),
                TL_TEST(test_take_arg_keeps_ptr),
                TL_TEST(test_ptr_call_destroyed_after_handler),
                TL_TEST(test_ptr_return_values),
                TL_TEST(test_ptr_start_args),
                TL_TEST(test_ptr_signal_destroyed_once),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
