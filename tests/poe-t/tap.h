/*
 * The ports of POE's own tests (tests/poe-t/, docs/poe-tests.md) print
 * TAP as Test::More does: a plan, then "ok N - name" or "not ok N -
 * name" per assertion, in the upstream file's order.  An assertion that
 * cannot exist in C (Perl references, wantarray, Perl's warning text,
 * use_ok, wheels and components) is a skip with its reason, never a
 * pass.  An assertion libpoe fails on purpose (a difference written in
 * docs/coming-from-perl.md) is a TODO: it still runs and still fails,
 * and says why.  Every port exits through tap_done(), which fails the
 * program if an assertion failed or the count differs from the plan.
 */
#ifndef POE_TAP_H
#define POE_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tap_state {
        int planned, run, failed;
};

static inline struct tap_state *tap_state(void)
{
        static struct tap_state t;

        return &t;
}

static inline void tap_plan(int n)
{
        tap_state()->planned = n;
        /* Lines from forked children and the kernel must not reorder. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        printf("1..%d\n", n);
}

/* Test::More's ok(): returns cond. */
static inline int tap_ok(int cond, const char *name)
{
        struct tap_state *t = tap_state();

        t->run++;
        if (!cond)
                t->failed++;
        printf("%sok %d - %s\n", cond ? "" : "not ", t->run, name);
        return cond;
}

static inline void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...)
{
        va_list ap;

        printf("# ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
}

static inline int tap_pass(const char *name)
{
        return tap_ok(1, name);
}

static inline int tap_fail(const char *name)
{
        return tap_ok(0, name);
}

static inline int tap_is_int(long long got, long long want, const char *name)
{
        if (!tap_ok(got == want, name))
                tap_diag("got: %lld, expected: %lld", got, want);
        return got == want;
}

static inline int tap_is_str(const char *got, const char *want, const char *name)
{
        int eq = got && want ? strcmp(got, want) == 0 : got == want;

        if (!tap_ok(eq, name))
                tap_diag("got: '%s', expected: '%s'", got ? got : "undef", want ? want : "undef");
        return eq;
}

/* like() with a literal pattern: the upstream regexes are plain text. */
static inline int tap_like(const char *got, const char *text, const char *name)
{
        int m = got && strstr(got, text) != NULL;

        if (!tap_ok(m, name))
                tap_diag("'%s' does not contain '%s'", got ? got : "undef", text);
        return m;
}

/* An assertion that cannot be written in C: a skip, with the reason. */
static inline void tap_skip(const char *name, const char *why)
{
        struct tap_state *t = tap_state();

        t->run++;
        printf("ok %d - %s # skip %s\n", t->run, name, why);
}

/* An assertion libpoe fails on purpose: run, and a TODO when it fails. */
static inline int tap_known(int cond, const char *name, const char *why)
{
        struct tap_state *t = tap_state();

        t->run++;
        printf("%sok %d - %s # TODO %s\n", cond ? "" : "not ", t->run, name, why);
        return cond;
}

static inline int tap_done(void)
{
        struct tap_state *t = tap_state();

        fflush(stdout);
        if (t->run != t->planned) {
                printf("# planned %d tests but ran %d\n", t->planned, t->run);
                return 1;
        }
        if (t->failed)
                printf("# failed %d test(s) of %d\n", t->failed, t->run);
        return t->failed ? 1 : 0;
}

#endif /* POE_TAP_H */
