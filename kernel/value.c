/*
 * poe_value: constructors, Perl-like conversions, and the deep copy that
 * puts an event's arguments, their strings and their lists into the
 * event's own allocation.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

POE_EXPORT poe_value poe_nil(void)
{
        poe_value v;

        memset(&v, 0, sizeof(v));
        return v;
}

/*
 * A value made in registers and stored as its callers copy it: its first
 * 16 bytes in one store, its last 8 in another.  Made field by field in
 * memory, it is read back as 16 bytes over narrower stores by the copy
 * that returns it, which the CPU cannot forward from: a stall in each
 * constructor (poe_int alone was 6 % of session_churn's time under
 * perf; the median run's CPU time 165.1 -> 158.7 ms for 1M sessions).
 * That needs a value to be a 4 + 4 byte head and two 8-byte words (LP64)
 * and GNU C's vectors; elsewhere, or with POE_VALUE_FIELDWISE defined
 * (how the other way is tested here), field by field: w1 and w2 are the
 * union's first and second words, as the type reads them.
 */
#if defined(__GNUC__) && UINTPTR_MAX == UINT64_MAX && !defined(POE_VALUE_FIELDWISE)
typedef uint64_t value_lo __attribute__((vector_size(16)));

static inline poe_value value_make(poe_type type, uint32_t len, uint64_t w1, uint64_t w2)
{
        struct {
                uint32_t type, len;
        } head = { (uint32_t)type, len };
        uint64_t w0;
        value_lo lo;
        poe_value v;

        _Static_assert(sizeof(poe_value) == 24 && offsetof(poe_value, u) == 8,
                       "a value is a head and two words");
        memcpy(&w0, &head, sizeof(w0));
        lo = (value_lo){ w0, w1 };
        memcpy(&v, &lo, sizeof(lo));
        memcpy((char *)&v + sizeof(lo), &w2, sizeof(w2));
        return v;
}
#else
static inline poe_value value_make(poe_type type, uint32_t len, uint64_t w1, uint64_t w2)
{
        poe_value v = poe_nil();

        v.type = type;
        v.len = len;
        switch (type) {
        case POE_T_DOUBLE:
                memcpy(&v.u.d, &w1, sizeof(v.u.d));
                break;
        case POE_T_STR:
                v.u.s = (const char *)(uintptr_t)w1;
                break;
        case POE_T_LIST:
                v.u.list = (const poe_value *)(uintptr_t)w1;
                break;
        case POE_T_PTR:
                v.u.ptr.p = (void *)(uintptr_t)w1;
                memcpy(&v.u.ptr.destroy, &w2, sizeof(v.u.ptr.destroy));
                break;
        case POE_T_SESSION:
                v.u.sid = (poe_sid)w1;
                break;
        default:
                v.u.i = (int64_t)w1;
                break;
        }
        return v;
}
#endif

POE_EXPORT poe_value poe_int(int64_t i)
{
        return value_make(POE_T_INT, 0, (uint64_t)i, 0);
}

POE_EXPORT poe_value poe_double(double d)
{
        uint64_t w;

        memcpy(&w, &d, sizeof(w));
        return value_make(POE_T_DOUBLE, 0, w, 0);
}

POE_EXPORT poe_value poe_strn(const char *s, size_t len)
{
        if (!s || len > UINT32_MAX)
                return poe_nil();
        return value_make(POE_T_STR, (uint32_t)len, (uint64_t)(uintptr_t)s, 0);
}

POE_EXPORT poe_value poe_str(const char *s)
{
        return s ? poe_strn(s, strlen(s)) : poe_nil();
}

POE_EXPORT poe_value poe_ptr(void *p, void (*destroy)(void *p))
{
        uint64_t w2 = 0;

        /* A function pointer is not converted to an integer, but copied
         * (its bytes first in w2, where value_make reads them back). */
        _Static_assert(sizeof(destroy) <= sizeof(w2), "a function pointer fits a word");
        memcpy(&w2, &destroy, sizeof(destroy));
        return value_make(POE_T_PTR, 0, (uint64_t)(uintptr_t)p, w2);
}

POE_EXPORT poe_value poe_session(poe_sid sid)
{
        return value_make(POE_T_SESSION, 0, (uint64_t)sid, 0);
}

POE_EXPORT poe_value poe_list(const poe_value *items, size_t n)
{
        if (n > UINT32_MAX || (n && !items))
                return poe_nil();
        return value_make(POE_T_LIST, (uint32_t)n, (uint64_t)(uintptr_t)items, 0);
}

POE_EXPORT void poe_value_release(poe_value *v)
{
        if (!v)
                return;
        poe__values_destroy(v, 1);
        *v = poe_nil();
}

POE_EXPORT int poe_value_true(const poe_value *v)
{
        if (!v)
                return 0;
        switch (v->type) {
        case POE_T_NIL:
                return 0;
        case POE_T_INT:
                return v->u.i != 0;
        case POE_T_DOUBLE:
                return v->u.d != 0.0;
        case POE_T_STR:
                return !(v->len == 0 || (v->len == 1 && v->u.s[0] == '0'));
        default:
                return 1;
        }
}

/* A double as an integer: truncated toward zero, NaN as 0, and out of
 * range saturated (a plain cast would be undefined behaviour). */
static int64_t double_int(double d)
{
        if (d != d)
                return 0;
        if (d >= 9223372036854775807.0)
                return INT64_MAX;
        if (d <= -9223372036854775808.0)
                return INT64_MIN;
        return (int64_t)d;
}

POE_EXPORT int64_t poe_value_int(const poe_value *v)
{
        char buf[64];
        size_t n;

        /* An integer first, the common case: one test, not the switch's
         * search (call_chain: 6 instructions fewer a call). */
        if (__builtin_expect(v && v->type == POE_T_INT, 1))
                return v->u.i;
        if (!v)
                return 0;
        switch (v->type) {
        case POE_T_DOUBLE:
                return double_int(v->u.d);
        case POE_T_SESSION:
                return (int64_t)v->u.sid;
        case POE_T_STR: {
                char *end;
                long long i;

                n = v->len < sizeof(buf) - 1 ? v->len : sizeof(buf) - 1;
                memcpy(buf, v->u.s, n);
                buf[n] = '\0';
                /* Perl numifies "1e3" as 1000 and "2.5" as 2.5: integers
                 * stay exact, anything with a fraction or exponent goes
                 * through a double. */
                i = strtoll(buf, &end, 10);
                if (*end == '.' || *end == 'e' || *end == 'E')
                        return double_int(strtod(buf, NULL));
                return i;
        }
        default:
                return 0;
        }
}

POE_EXPORT const char *poe_value_str(const poe_value *v)
{
        return v && v->type == POE_T_STR ? v->u.s : NULL;
}

/* Appends to buf like snprintf, tracking the full length in *len. */
static void put(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
        if (*len < size) {
                size_t room = size - *len - 1;

                memcpy(buf + *len, s, n < room ? n : room);
        }
        *len += n;
}

static void format(const poe_value *v, char *buf, size_t size, size_t *len)
{
        char tmp[64];
        int n = 0;
        uint32_t i;

        switch (v->type) {
        case POE_T_NIL:
                return;
        case POE_T_INT:
                n = snprintf(tmp, sizeof(tmp), "%" PRId64, v->u.i);
                break;
        case POE_T_DOUBLE:
                n = snprintf(tmp, sizeof(tmp), "%.15g", v->u.d);
                break;
        case POE_T_SESSION:
                n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v->u.sid);
                break;
        case POE_T_PTR:
                n = snprintf(tmp, sizeof(tmp), "PTR(%p)", v->u.ptr.p);
                break;
        case POE_T_STR:
                put(buf, size, len, v->u.s, v->len);
                return;
        case POE_T_LIST:
                put(buf, size, len, "[", 1);
                for (i = 0; i < v->len; i++) {
                        if (i)
                                put(buf, size, len, " ", 1);
                        format(&v->u.list[i], buf, size, len);
                }
                put(buf, size, len, "]", 1);
                return;
        }
        put(buf, size, len, tmp, (size_t)n);
}

POE_EXPORT int poe_value_format(const poe_value *v, char *buf, size_t size)
{
        size_t len = 0;

        if (v)
                format(v, buf, size, &len);
        if (size)
                buf[len < size ? len : size - 1] = '\0';
        return (int)len;
}

/* Strings are padded so that a list placed after one stays aligned. */
#define POOL_ALIGN(n) (((n) + sizeof(poe_value) - 1) / sizeof(poe_value) * sizeof(poe_value))

/*
 * The bytes a deep copy of n values needs beyond the n poe_value slots
 * themselves: string bytes (NUL-terminated) and nested list arrays.
 */
size_t poe__values_size(const poe_value *v, size_t n)
{
        size_t total = 0, i;

        for (i = 0; i < n; i++) {
                if (v[i].type == POE_T_STR)
                        total += POOL_ALIGN(v[i].len + 1);
                else if (v[i].type == POE_T_LIST)
                        total += v[i].len * sizeof(poe_value) +
                                 poe__values_size(v[i].u.list, v[i].len);
        }
        return total;
}

/*
 * Copies n values into dst, placing strings and lists at *pool (which
 * advances).  The pool must be aligned for poe_value and sized by
 * poe__values_size; every piece placed keeps it aligned.
 */
void poe__values_copy(poe_value *dst, const poe_value *src, size_t n, char **pool)
{
        size_t i;

        if (!n)
                return;
        memcpy(dst, src, n * sizeof(*dst));
        for (i = 0; i < n; i++) {
                if (src[i].type == POE_T_LIST) {
                        poe_value *items = (poe_value *)(void *)*pool;

                        *pool += src[i].len * sizeof(poe_value);
                        poe__values_copy(items, src[i].u.list, src[i].len, pool);
                        dst[i].u.list = items;
                }
        }
        for (i = 0; i < n; i++) {
                if (src[i].type == POE_T_STR) {
                        memcpy(*pool, src[i].u.s, src[i].len);
                        (*pool)[src[i].len] = '\0';
                        dst[i].u.s = *pool;
                        *pool += POOL_ALIGN(src[i].len + 1);
                }
        }
}

/* Runs the destructors of pointer values (recursing into lists) and
 * clears them so they never run twice. */
void poe__values_destroy(poe_value *v, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (v[i].type == POE_T_PTR && v[i].u.ptr.destroy) {
                        void (*destroy)(void *) = v[i].u.ptr.destroy;

                        v[i].u.ptr.destroy = NULL;
                        destroy(v[i].u.ptr.p);
                } else if (v[i].type == POE_T_LIST) {
                        poe__values_destroy_borrowed(v[i].u.list, v[i].len);
                }
        }
}

/* The same for values the kernel does not own but has been given the
 * destructors of (a failed post, a finished call).  A NULL array with a
 * count is a caller's bad parameter that some error paths pass on as
 * they got it (the timer setters' -EINVAL): it holds nothing to destroy. */
void poe__values_destroy_borrowed(const poe_value *v, size_t n)
{
        size_t i;

        if (!v)
                return;
        for (i = 0; i < n; i++) {
                if (v[i].type == POE_T_PTR && v[i].u.ptr.destroy)
                        v[i].u.ptr.destroy(v[i].u.ptr.p);
                else if (v[i].type == POE_T_LIST)
                        poe__values_destroy_borrowed(v[i].u.list, v[i].len);
        }
}

/* Clears the destructors in a deep copy (recursing into its lists), for
 * copies that hand values out but must not own them. */
void poe__values_strip(poe_value *v, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (v[i].type == POE_T_PTR)
                        v[i].u.ptr.destroy = NULL;
                else if (v[i].type == POE_T_LIST)
                        poe__values_strip((poe_value *)v[i].u.list, v[i].len);
        }
}

/* One allocation holding a deep copy of n values. */
int poe__values_dup(poe_kernel *k, const poe_value *src, size_t n, poe_value **ret)
{
        char *pool;
        poe_value *dst;

        if (!n) {
                *ret = NULL;
                return 0;
        }
        dst = poe__malloc(k, n * sizeof(poe_value) + poe__values_size(src, n));
        if (!dst)
                return -ENOMEM;
        pool = (char *)(dst + n);
        poe__values_copy(dst, src, n, &pool);
        *ret = dst;
        return 0;
}
