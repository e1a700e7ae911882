/*
 * Shared helpers for the cmocka unit tests.
 *
 *  - A counting allocator that can fail the Nth allocation (and
 *    optionally every one after it) and that tracks live blocks and
 *    bytes, so each test can assert that poe_kernel_free() left nothing
 *    behind.
 *  - A per-test fixture: tl_setup() makes a kernel on that allocator,
 *    tl_teardown() frees it and fails the test if anything leaked.
 *  - A transcript: handlers append lines, tests compare the whole
 *    transcript with the expected lines, which makes event order
 *    assertions short and their failures readable.
 *  - Session spec builders and generic handlers.
 *  - tl_check_kernel(): the kernel's internal bookkeeping (itemized
 *    reference counts, the tree, the alias table) checked against what
 *    it describes.
 */
#ifndef POE_TESTLIB_H
#define POE_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "poe/poe.h"

/* Handler tables are written as { event, fn } pairs, as the README does;
 * the object field is meant to default to NULL there. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* ---- assertions ---- */

/* cmocka prints integers in hex and unsigned; errno values and counts
 * read better as signed decimals. */
#define TL_EQ(a, b) tl__eq((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
void tl__eq(long long a, long long b, const char *sa, const char *sb, const char *file, int line);

/* ---- the counting, failing allocator ---- */

typedef struct tl_alloc {
        unsigned long calls;    /* allocation attempts so far (malloc and realloc) */
        unsigned long fail_at;  /* the attempt number that fails; 0: none */
        bool fail_rest;         /* fail every attempt after fail_at too */
        unsigned long failures; /* attempts that were failed */
        size_t live_blocks;
        size_t live_bytes;
        size_t peak_bytes;
        void *quarantine; /* freed blocks, poisoned, until released */
        size_t quarantine_bytes;
} tl_alloc;

void tl_alloc_init(tl_alloc *a);
/* The allocator to hand to poe_kernel_new(); it points at a. */
poe_allocator tl_allocator(tl_alloc *a);
/* Fails the nth allocation attempt from now (1: the next one), and every
 * one after it when rest is true. */
void tl_alloc_fail_nth(tl_alloc *a, unsigned long nth, bool rest);
/* Lets every allocation succeed again. */
void tl_alloc_disarm(tl_alloc *a);
/* Checks that no freed block was written to since it was freed, and
 * gives the freed blocks back to libc.  0, or -1 (after printing what
 * was found). */
int tl_alloc_release(tl_alloc *a);

/* ---- the fixture ---- */

typedef struct tl_env {
        poe_kernel *k;
        tl_alloc alloc;
} tl_env;

/* The running test's kernel and allocator.  Tests are single-threaded,
 * so handlers reach the fixture through this rather than a heap. */
extern tl_env tl;

int tl_setup(void **state);
int tl_teardown(void **state);
#define TL_TEST(fn) cmocka_unit_test_setup_teardown(fn, tl_setup, tl_teardown)

/* Frees tl.k now and asserts that the allocator holds nothing. */
void tl_kernel_free_checked(void);

/* ---- the transcript ---- */

void tl_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Appends "SID STATE ARG0 ARG1 ..." for a handler; nil prints "undef". */
void tl_log_ctx(const poe_ctx *c);
const char *tl_transcript(void);
void tl_transcript_clear(void);
/* Asserts the transcript is exactly these lines (NULL-terminated list),
 * then clears it. */
#define TL_EXPECT(...) tl__expect(__FILE__, __LINE__, __VA_ARGS__, (const char *)NULL)
#define TL_EXPECT_NONE() tl__expect(__FILE__, __LINE__, (const char *)NULL)
void tl__expect(const char *file, int line, ...);

/* Formats a value into a static buffer (for messages and logs). */
const char *tl_fmt(const poe_value *v);

/* ---- sessions ---- */

#define TL_HANDLERS(...) ((const poe_handler[]){ __VA_ARGS__ })
#define TL_NHANDLERS(...) (sizeof(TL_HANDLERS(__VA_ARGS__)) / sizeof(poe_handler))

poe_session_spec tl_spec(const poe_handler *h, size_t n, void *heap);
#define TL_SPEC(...) tl_spec(TL_HANDLERS(__VA_ARGS__), TL_NHANDLERS(__VA_ARGS__), NULL)

/* Creates a session from handlers and asserts success; returns its id. */
poe_sid tl_create_spec(poe_kernel *k, const poe_session_spec *spec);
#define TL_CREATE(k, ...)                                                         \
        tl_create_spec((k), &(poe_session_spec){ .handlers = TL_HANDLERS(__VA_ARGS__), \
                                                 .n_handlers = TL_NHANDLERS(__VA_ARGS__) })

/* Generic handlers.  tl_h_log logs the call with tl_log_ctx and returns
 * nil; tl_h_nop does nothing; tl_h_ret_arg0 returns ARG0 (borrowed). */
poe_value tl_h_log(poe_ctx *c);
poe_value tl_h_nop(poe_ctx *c);
poe_value tl_h_ret_arg0(poe_ctx *c);

/* ---- driving the kernel ---- */

/* Runs timeslices until cond holds; fails the test if the kernel runs
 * out of sessions or max slices pass first.  Returns the slices run. */
#define TL_RUN_UNTIL(k, cond, max)                                                    \
        do {                                                                          \
                int tl__n = 0;                                                        \
                while (!(cond)) {                                                     \
                        if (tl__n++ >= (max))                                         \
                                fail_msg("%s:%d: condition %s not reached after %d " \
                                         "timeslices", __FILE__, __LINE__, #cond,    \
                                         (int)(max));                                 \
                        if (poe_kernel_run_one_timeslice(k) != 1 && !(cond))          \
                                fail_msg("%s:%d: kernel ran out of sessions before " \
                                         "%s", __FILE__, __LINE__, #cond);            \
                }                                                                     \
        } while (0)

/* Runs timeslices until run_one_timeslice returns 0; returns how many
 * returned 1.  Fails past max. */
int tl_run_to_end(poe_kernel *k, int max);

/* ---- internal consistency ---- */

/* Checks, for every session, that its itemized reasons sum to its
 * refcount and that each reason matches what it counts (queued events
 * to and from it, children, aliases, extra references), that parent
 * and child links agree, and that the alias table matches the sessions'
 * alias lists.  Fails the test on the first mismatch. */
#define tl_check_kernel(k) tl__check_kernel((k), __FILE__, __LINE__)
void tl__check_kernel(poe_kernel *k, const char *file, int line);

/* The session's reference count and one itemized reason, from the
 * internals; -1 if the session does not exist. */
long tl_refcnt(poe_kernel *k, poe_sid sid);
long tl_reason(poe_kernel *k, poe_sid sid, int reason);
/* Live sessions, not counting the kernel's own. */
size_t tl_session_count(poe_kernel *k);

/* ---- pointer destructors ---- */

/* A destructor that counts its calls in the int it is given. */
void tl_count_destroy(void *p);

/* How much longer a real-time deadline should be in this run: 10 under
 * POE_TEST_WRAPPER (valgrind runs programs about thirty times slower; the
 * valgrind setup sets it, as the script runners already honour), else 1.
 * A test that waits for a condition in real time scales its deadline by
 * this; none should count on a throughput. */
int tl_time_scale(void);

/* A watchdog thread for programs whose tests could block the kernel:
 * start it in main, and register tests with TL_WD_TEST (a 60 s deadline
 * each, times tl_time_scale(), on top of the usual fixture). */
void tl_watchdog_start(void);
void tl_watchdog_stop(void);
void tl_watchdog_arm(int seconds);
void tl_watchdog_disarm(void);
int tl_wd_setup(void **state);
int tl_wd_teardown(void **state);
#define TL_WD_TEST(fn) cmocka_unit_test_setup_teardown(fn, tl_wd_setup, tl_wd_teardown)

/* Runs `promtool check metrics` (Prometheus' own linter of the text
 * format) on text: true when it passes.  Otherwise false, with why
 * (NUL-terminated) holding promtool's output, or saying that promtool is
 * missing: it is required (the prometheus package, scripts/deps.sh), not
 * a reason to skip.  Thread-safe. */
bool tl_promtool_check(const char *text, char *why, size_t size);

/* Captures what the kernel writes to stderr between the two calls into
 * buf (NUL-terminated), then echoes it. */
void tl_stderr_begin(void);
void tl_stderr_end(char *buf, size_t size);

#endif
