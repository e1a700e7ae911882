/* Shared helpers for the unit tests: see testlib.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kcheck.h"
#include "testlib.h"

#include "internal.h"
#include "sessions.h"

/* Under valgrind or ASan, quarantined blocks are also marked as off
 * limits, so a read through a dangling pointer is reported where it
 * happens, not only a write when the quarantine is checked. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define TL_NOACCESS(p, n) VALGRIND_MAKE_MEM_NOACCESS((p), (n))
#define TL_DEFINED(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#endif
#if defined(__SANITIZE_ADDRESS__) && __has_include(<sanitizer/asan_interface.h>)
#include <sanitizer/asan_interface.h>
#undef TL_NOACCESS
#undef TL_DEFINED
#define TL_NOACCESS(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define TL_DEFINED(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#endif
#endif
#ifndef TL_NOACCESS
#define TL_NOACCESS(p, n) ((void)(p), (void)(n))
#define TL_DEFINED(p, n) ((void)(p), (void)(n))
#endif

tl_env tl;

void tl__eq(long long a, long long b, const char *sa, const char *sb, const char *file, int line)
{
        if (a == b)
                return;
        print_error("%s:%d: %s is %lld, expected %s (%lld)\n", file, line, sa, a, sb, b);
        _fail(file, line);
}

/* ---- the allocator ---- */

/*
 * Each block carries a header with its size and a magic number, so the
 * allocator can count live bytes and catch a free of something it never
 * handed out.  The header is padded to max_align_t to keep the block
 * aligned for anything.
 *
 * Freed blocks are not given back at once: they are filled with a
 * poison byte and kept in a quarantine until tl_alloc_release(), which
 * checks that the poison is intact.  So a write through a dangling
 * pointer, or a second free, is caught even without valgrind or ASan.
 */
#define TL_MAGIC 0x706f6521u
#define TL_FREED 0x64656164u
#define TL_POISON 0xdd

typedef union tl_header {
        struct {
                size_t size;
                unsigned magic;
                union tl_header *next; /* the quarantine, once freed */
        } h;
        max_align_t align;
} tl_header;

void tl_alloc_init(tl_alloc *a)
{
        memset(a, 0, sizeof(*a));
}

void tl_alloc_fail_nth(tl_alloc *a, unsigned long nth, bool rest)
{
        a->fail_at = a->calls + nth;
        a->fail_rest = rest;
}

void tl_alloc_disarm(tl_alloc *a)
{
        a->fail_at = 0;
        a->fail_rest = false;
}

/* Counts an attempt and says whether it must fail. */
static bool attempt_fails(tl_alloc *a)
{
        a->calls++;
        if (a->fail_at &&
            (a->calls == a->fail_at || (a->fail_rest && a->calls > a->fail_at))) {
                a->failures++;
                return true;
        }
        return false;
}

static void *tl_malloc(size_t size, void *ctx)
{
        tl_alloc *a = ctx;
        tl_header *h;

        if (size == 0)
                fail_msg("the kernel asked for a 0-byte block");
        if (attempt_fails(a))
                return NULL;
        h = malloc(sizeof(*h) + size);
        if (!h)
                fail_msg("the real malloc failed");
        h->h.size = size;
        h->h.magic = TL_MAGIC;
        h->h.next = NULL;
        a->live_blocks++;
        a->live_bytes += size;
        if (a->live_bytes > a->peak_bytes)
                a->peak_bytes = a->live_bytes;
        /* Fresh memory is not zero: code that relies on it being so
         * shows up. */
        memset(h + 1, 0xa5, size);
        return h + 1;
}

static tl_header *header_of(void *p)
{
        tl_header *h = (tl_header *)p - 1;

        if (h->h.magic == TL_FREED)
                fail_msg("the kernel freed or resized a block it had already freed (%p)", p);
        if (h->h.magic != TL_MAGIC)
                fail_msg("the kernel freed or resized a block it did not allocate (%p)", p);
        return h;
}

/* Past this many bytes the quarantine is checked and emptied, so long
 * tests stay within reason. */
#define TL_QUARANTINE_MAX (32u << 20)

/* Retires a block: poisoned and kept, so later writes can be seen. */
static void quarantine(tl_alloc *a, tl_header *h)
{
        h->h.magic = TL_FREED;
        memset(h + 1, TL_POISON, h->h.size);
        TL_NOACCESS(h + 1, h->h.size);
        h->h.next = a->quarantine;
        a->quarantine = h;
        a->quarantine_bytes += h->h.size;
        if (a->quarantine_bytes > TL_QUARANTINE_MAX && tl_alloc_release(a) < 0)
                fail_msg("the kernel wrote to memory it had freed");
}

static void tl_free(void *p, void *ctx)
{
        tl_alloc *a = ctx;
        tl_header *h;

        if (!p)
                return;
        h = header_of(p);
        if (a->live_blocks == 0 || a->live_bytes < h->h.size)
                fail_msg("allocator accounting underflow: double free?");
        a->live_blocks--;
        a->live_bytes -= h->h.size;
        quarantine(a, h);
}

/* Always moves the block, so stale pointers to the old one are caught
 * as writes to freed memory. */
static void *tl_realloc(void *p, size_t size, void *ctx)
{
        tl_alloc *a = ctx;
        tl_header *h, *n;

        if (size == 0)
                fail_msg("the kernel called realloc(p, 0)");
        if (!p)
                return tl_malloc(size, ctx);
        h = header_of(p);
        if (attempt_fails(a))
                return NULL;
        n = malloc(sizeof(*n) + size);
        if (!n)
                fail_msg("the real malloc failed");
        n->h.size = size;
        n->h.magic = TL_MAGIC;
        n->h.next = NULL;
        memcpy(n + 1, h + 1, h->h.size < size ? h->h.size : size);
        if (size > h->h.size)
                memset((char *)(n + 1) + h->h.size, 0xa5, size - h->h.size);
        a->live_bytes = a->live_bytes - h->h.size + size;
        if (a->live_bytes > a->peak_bytes)
                a->peak_bytes = a->live_bytes;
        quarantine(a, h);
        return n + 1;
}

int tl_alloc_release(tl_alloc *a)
{
        tl_header *h = a->quarantine, *next;
        int bad = 0;

        for (; h; h = next) {
                const unsigned char *b = (const unsigned char *)(h + 1);
                size_t i;

                next = h->h.next;
                TL_DEFINED(h + 1, h->h.size);
                for (i = 0; i < h->h.size; i++) {
                        if (b[i] != TL_POISON) {
                                if (!bad)
                                        print_error("the kernel wrote to freed memory: byte "
                                                    "%zu of a freed %zu-byte block is 0x%02x\n",
                                                    i, h->h.size, b[i]);
                                bad++;
                                break;
                        }
                }
                free(h);
        }
        a->quarantine = NULL;
        a->quarantine_bytes = 0;
        return bad ? -1 : 0;
}

poe_allocator tl_allocator(tl_alloc *a)
{
        poe_allocator al = { tl_malloc, tl_realloc, tl_free, a };

        return al;
}

/* ---- the fixture ---- */

int tl_setup(void **state)
{
        poe_allocator al;

        (void)state;
        memset(&tl, 0, sizeof(tl));
        tl_alloc_init(&tl.alloc);
        tl_transcript_clear();
        al = tl_allocator(&tl.alloc);
        if (poe_kernel_new(&tl.k, &al) != 0 || !tl.k) {
                print_error("poe_kernel_new failed\n");
                return -1;
        }
        return 0;
}

static int check_no_leaks(void)
{
        if (tl_alloc_release(&tl.alloc) < 0)
                return -1;
        if (tl.alloc.live_blocks || tl.alloc.live_bytes) {
                print_error("leak: %zu blocks, %zu bytes still allocated after "
                            "poe_kernel_free\n",
                            tl.alloc.live_blocks, tl.alloc.live_bytes);
                return -1;
        }
        return 0;
}

void tl_kernel_free_checked(void)
{
        tl_alloc_disarm(&tl.alloc);
        tl.k = poe_kernel_free(tl.k);
        if (check_no_leaks() < 0)
                fail();
}

int tl_teardown(void **state)
{
        (void)state;
        tl_alloc_disarm(&tl.alloc);
        tl.k = poe_kernel_free(tl.k);
        return check_no_leaks();
}

/* ---- the transcript ---- */

static char *tr_buf;
static size_t tr_len, tr_cap;

static void tr_append(const char *s, size_t n)
{
        if (tr_len + n + 1 > tr_cap) {
                size_t cap = tr_cap ? tr_cap : 256;

                while (cap < tr_len + n + 1)
                        cap *= 2;
                tr_buf = realloc(tr_buf, cap);
                if (!tr_buf)
                        abort();
                tr_cap = cap;
        }
        memcpy(tr_buf + tr_len, s, n);
        tr_len += n;
        tr_buf[tr_len] = '\0';
}

void tl_log(const char *fmt, ...)
{
        char line[1024];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (n < 0)
                abort();
        tr_append(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
        tr_append("\n", 1);
}

const char *tl_fmt(const poe_value *v)
{
        static char buf[4][512];
        static int which;
        char *b = buf[which++ & 3];

        if (v->type == POE_T_NIL)
                return "undef";
        poe_value_format(v, b, sizeof(buf[0]));
        return b;
}

void tl_log_ctx(const poe_ctx *c)
{
        char line[1024];
        size_t i, n;

        n = (size_t)snprintf(line, sizeof(line), "%llu %s",
                             (unsigned long long)poe_ctx_session(c), poe_ctx_state(c));
        for (i = 0; i < poe_ctx_argc(c) && n < sizeof(line); i++)
                n += (size_t)snprintf(line + n, sizeof(line) - n, " %s",
                                      tl_fmt(poe_ctx_arg(c, i)));
        tl_log("%s", line);
}

const char *tl_transcript(void)
{
        return tr_buf ? tr_buf : "";
}

void tl_transcript_clear(void)
{
        tr_len = 0;
        if (tr_buf)
                tr_buf[0] = '\0';
}

void tl__expect(const char *file, int line, ...)
{
        char *want = NULL;
        size_t len = 0;
        const char *s;
        va_list ap;
        FILE *f = open_memstream(&want, &len);

        if (!f)
                abort();
        va_start(ap, line);
        while ((s = va_arg(ap, const char *)))
                fprintf(f, "%s\n", s);
        va_end(ap);
        fclose(f);
        if (strcmp(want, tl_transcript()) != 0) {
                print_error("%s:%d: transcript mismatch\n--- expected:\n%s--- got:\n%s---\n",
                            file, line, want, tl_transcript());
                free(want);
                _fail(file, line);
        }
        free(want);
        tl_transcript_clear();
}

/* ---- sessions ---- */

poe_session_spec tl_spec(const poe_handler *h, size_t n, void *heap)
{
        poe_session_spec spec;

        memset(&spec, 0, sizeof(spec));
        spec.handlers = h;
        spec.n_handlers = n;
        spec.heap = heap;
        return spec;
}

poe_sid tl_create_spec(poe_kernel *k, const poe_session_spec *spec)
{
        poe_sid sid = 0;
        int r = poe_session_create(k, spec, &sid);

        TL_EQ(r, 0);
        assert_true(sid != 0);
        return sid;
}

poe_value tl_h_log(poe_ctx *c)
{
        tl_log_ctx(c);
        return poe_nil();
}

poe_value tl_h_nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

poe_value tl_h_ret_arg0(poe_ctx *c)
{
        return *poe_ctx_arg(c, 0);
}

int tl_run_to_end(poe_kernel *k, int max)
{
        int n = 0, r;

        while ((r = poe_kernel_run_one_timeslice(k)) == 1) {
                if (++n > max)
                        fail_msg("the kernel still had sessions after %d timeslices", max);
        }
        TL_EQ(r, 0);
        return n;
}

/* ---- internal consistency ---- */

void tl__check_kernel(poe_kernel *k, const char *file, int line)
{
        char why[512];

        if (tl_kernel_consistent(k, why, sizeof(why)) < 0) {
                print_error("%s:%d: kernel inconsistent: %s\n", file, line, why);
                _fail(file, line);
        }
}

long tl_refcnt(poe_kernel *k, poe_sid sid)
{
        poe__session *s = poe__session_get(k, sid);

        return s ? (long)s->refcnt : -1;
}

long tl_reason(poe_kernel *k, poe_sid sid, int reason)
{
        poe__session *s = poe__session_get(k, sid);

        return s ? (long)poe__reason_get(s, reason) : -1;
}

size_t tl_session_count(poe_kernel *k)
{
        size_t n = k->n_sessions;

        if (k->ksession && k->ksession->alive && n > 0)
                n--;
        return n;
}

void tl_count_destroy(void *p)
{
        (*(int *)p)++;
}

/* ---- the watchdog ---- */

/*
 * A thread that ends the test program if a test runs past its deadline,
 * so that a kernel blocked in its wait (a lost wake-up) fails the test
 * instead of hanging the suite.  Armed by tl_wd_setup for each test.
 */
static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cond;
static struct timespec wd_deadline;
static bool wd_armed, wd_quit;
static pthread_t wd_thread;

static void *wd_main(void *arg)
{
        (void)arg;
        pthread_mutex_lock(&wd_lock);
        while (!wd_quit) {
                if (!wd_armed) {
                        pthread_cond_wait(&wd_cond, &wd_lock);
                        continue;
                }
                if (pthread_cond_timedwait(&wd_cond, &wd_lock, &wd_deadline) == ETIMEDOUT &&
                    wd_armed) {
                        static const char msg[] = "watchdog: a test did not finish within "
                                                  "its deadline (the kernel blocked?)\n";

                        if (write(2, msg, sizeof(msg) - 1) < 0) {
                                /* exiting anyway */
                        }
                        _exit(1);
                }
        }
        pthread_mutex_unlock(&wd_lock);
        return NULL;
}

void tl_watchdog_start(void)
{
        pthread_condattr_t a;

        pthread_condattr_init(&a);
        pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
        pthread_cond_init(&wd_cond, &a);
        pthread_condattr_destroy(&a);
        if (pthread_create(&wd_thread, NULL, wd_main, NULL) != 0)
                abort();
}

void tl_watchdog_stop(void)
{
        pthread_mutex_lock(&wd_lock);
        wd_quit = true;
        pthread_cond_signal(&wd_cond);
        pthread_mutex_unlock(&wd_lock);
        pthread_join(wd_thread, NULL);
}

void tl_watchdog_arm(int seconds)
{
        pthread_mutex_lock(&wd_lock);
        clock_gettime(CLOCK_MONOTONIC, &wd_deadline);
        wd_deadline.tv_sec += seconds;
        wd_armed = true;
        pthread_cond_signal(&wd_cond);
        pthread_mutex_unlock(&wd_lock);
}

void tl_watchdog_disarm(void)
{
        pthread_mutex_lock(&wd_lock);
        wd_armed = false;
        pthread_cond_signal(&wd_cond);
        pthread_mutex_unlock(&wd_lock);
}

int tl_time_scale(void)
{
        const char *w = getenv("POE_TEST_WRAPPER");

        return w && *w ? 10 : 1;
}

int tl_wd_setup(void **state)
{
        tl_watchdog_arm(60 * tl_time_scale());
        return tl_setup(state);
}

int tl_wd_teardown(void **state)
{
        tl_watchdog_disarm();
        return tl_teardown(state);
}

/* ---- stderr capture ---- */

static int saved_stderr = -1;
static FILE *cap_file;

void tl_stderr_begin(void)
{
        fflush(stderr);
        cap_file = tmpfile();
        assert_non_null(cap_file);
        saved_stderr = dup(2);
        assert_true(saved_stderr >= 0);
        TL_EQ(dup2(fileno(cap_file), 2), 2);
}

void tl_stderr_end(char *buf, size_t size)
{
        size_t n;

        fflush(stderr);
        TL_EQ(dup2(saved_stderr, 2), 2);
        close(saved_stderr);
        saved_stderr = -1;
        rewind(cap_file);
        n = fread(buf, 1, size - 1, cap_file);
        buf[n] = '\0';
        fclose(cap_file);
        cap_file = NULL;
        /* Show it anyway: it is the kernel's message, not noise. */
        fputs(buf, stderr);
}

bool tl_promtool_check(const char *text, char *why, size_t size)
{
        char in[] = "/tmp/tl-metrics-XXXXXX", out[] = "/tmp/tl-promtool-XXXXXX";
        char cmd[160];
        size_t len = strlen(text), n;
        int fd_in = mkstemp(in), fd_out = mkstemp(out), rc;
        FILE *f;

        why[0] = '\0';
        if (fd_in < 0 || fd_out < 0 || write(fd_in, text, len) != (ssize_t)len) {
                snprintf(why, size, "cannot write a temporary file: %s", strerror(errno));
                rc = -1;
        } else {
                snprintf(cmd, sizeof(cmd), "promtool check metrics < %s > %s 2>&1", in, out);
                rc = system(cmd);
                if (rc != 0 && (f = fdopen(dup(fd_out), "r"))) {
                        n = fread(why, 1, size - 1, f);
                        why[n] = '\0';
                        fclose(f);
                }
                if (WIFEXITED(rc) && WEXITSTATUS(rc) == 127)
                        snprintf(why, size,
                                 "promtool is required and was not found (apt-get install "
                                 "prometheus; scripts/deps.sh)");
        }
        if (fd_in >= 0) {
                close(fd_in);
                unlink(in);
        }
        if (fd_out >= 0) {
                close(fd_out);
                unlink(out);
        }
        return rc == 0;
}
