/*
 * Out of memory in the inspector.  poe_inspector_start is run with its
 * Nth allocation failing -- every allocation of the process, through
 * oom-malloc.c, so libmicrohttpd's, jansson's, sqlite's and libc's
 * count too -- for N = 1, 2, ... until it succeeds with nothing failed:
 * failing only the Nth and the Nth and all after it, counting only the
 * kernel thread's allocations and every thread's.  A failed start must
 * return a documented error and leave *ret alone; either way the
 * kernel still runs, a new start succeeds and serves a real HTTP
 * request, and after poe_inspector_stop and poe_kernel_free the
 * process holds no more blocks than before (valgrind and LSan check
 * the same).  Then the inspector's life: failures while it serves
 * requests and records traces, and while poe_inspector_stop runs.
 *
 * inspector.h, function by function (tests/build/check-api-coverage.py
 * fails when a public function is missing here):
 *   poe_inspector_start           swept: every N, both modes, both scopes
 *   poe_inspector_stop            swept: failing during the life and the stop
 *   poe_inspector_start_from_env  no allocation of its own (but the token of
 *                                 POE_INSPECTOR_TOKEN_FILE, which is not set here): reads the
 *                                 environment and calls poe_inspector_start
 *   poe_inspector_port            no allocation: reads a field
 *   poe_inspector_url             no allocation: reads a field
 *   poe_inspector_trace_db        no allocation: reads a field
 *   poe_inspector_parse_groups    no allocation: parses into a stack buffer
 *   poe_inspector_recorded_groups no allocation: reads fields and the
 *                                 kernel's groups
 *
 * POE_OOM_STRIDE=k tries every kth N only.  A start makes about 1900
 * allocations and a start/stop cycle costs about half a second of
 * mostly waiting, so the suite's default is 101 (about 19 starts per
 * sweep); POE_OOM_STRIDE=1 tries every N (about ten minutes).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testlib.h"

#include "oom-malloc.h"
#include "poe/inspector.h"

static char dir[] = "/tmp/poe-oom-inspector-XXXXXX";
static char db[96];

static poe_inspector_options options(void)
{
        poe_inspector_options o;

        memset(&o, 0, sizeof(o));
        o.address = "127.0.0.1:0";
        o.token = "secret";
        o.trace_db = db;
        o.ring_size = 1024;
        /* The requests are made from the kernel's own thread, which is
         * not running the kernel meanwhile: /api/v1/kernel is answered
         * by the stuck-kernel path once this runs out.  The default
         * second made that 31 of the test's 43 s (one a request in
         * test_life_and_stop); the path taken is the same. */
        o.answer_timeout_ms = 50;
        return o;
}

/* GET path over a real socket; returns the status code, or -1. */
static int http_get(int port, const char *path)
{
        struct sockaddr_in a;
        char buf[512];
        int fd, status = -1;
        ssize_t n;

        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
                return -1;
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
                snprintf(buf, sizeof(buf), "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n", path, port);
                if (write(fd, buf, strlen(buf)) == (ssize_t)strlen(buf)) {
                        n = read(fd, buf, sizeof(buf) - 1);
                        if (n > 12) {
                                buf[n] = '\0';
                                sscanf(buf, "HTTP/1.%*d %d", &status);
                        }
                }
        }
        close(fd);
        return status;
}

static poe_value on_start_post(poe_ctx *c)
{
        return poe_kernel_yield(poe_ctx_kernel(c), "go", POE_NOARGS) == 0 ? poe_nil() : poe_int(1);
}

/* The kernel still works: a session runs and stops. */
static void kernel_runs(poe_kernel *k)
{
        poe_sid sid = 0;
        poe_session_spec spec = TL_SPEC({ "_start", on_start_post }, { "go", tl_h_nop });

        TL_EQ(poe_session_create(k, &spec, &sid), 0);
        assert_true(sid > 0);
        TL_EQ(poe_kernel_run(k), 0);
}

/* A start with nothing failing, which must serve a page. */
static void start_serves(poe_kernel *k)
{
        poe_inspector_options o = options();
        poe_inspector *in = NULL;

        TL_EQ(poe_inspector_start(k, &o, &in), 0);
        assert_non_null(in);
        TL_EQ(http_get(poe_inspector_port(in), "/"), 200);
        assert_null(poe_inspector_stop(in));
}

static unsigned long stride(void)
{
        const char *s = getenv("POE_OOM_STRIDE");

        return s && atol(s) > 0 ? (unsigned long)atol(s) : 101;
}

static void sweep_start(bool rest, bool all)
{
        unsigned long n, failures, step = stride();
        long before;

        for (n = 1;; n += step) {
                poe_inspector_options o = options();
                poe_inspector *in = (poe_inspector *)&n; /* must stay as it is */
                poe_kernel *k = NULL;
                int r;

                if (n > 20000)
                        fail_msg("poe_inspector_start never succeeded");
                before = om_live();
                TL_EQ(poe_kernel_new(&k, NULL), 0);
                om_arm(n, rest, all);
                r = poe_inspector_start(k, &o, &in);
                failures = om_disarm();
                if (r < 0) {
                        if (r != -ENOMEM && r != -EIO)
                                fail_msg("allocation %lu (%s, %s) failing: start gave %d (%s)", n,
                                         rest ? "and after" : "alone",
                                         all ? "all threads" : "kernel thread", r, strerror(-r));
                        assert_ptr_equal(in, (poe_inspector *)&n);
                        assert_true(failures > 0);
                } else {
                        assert_non_null(in);
                        assert_true(poe_inspector_port(in) > 0);
                        assert_null(poe_inspector_stop(in));
                }
                kernel_runs(k);
                start_serves(k);
                assert_null(poe_kernel_free(k));
                unlink(db);
                if (om_live_exact() && om_live() != before)
                        fail_msg("allocation %lu (%s, %s) failing: %ld blocks leaked", n,
                                 rest ? "and after" : "alone", all ? "all threads" : "kernel thread",
                                 om_live() - before);
                if (r == 0 && failures == 0)
                        break;
        }
        if (getenv("TL_VERBOSE"))
                print_message("start: %lu allocations (%s, %s)\n", n - 1, rest ? "rest" : "nth",
                              all ? "all threads" : "kernel thread");
        assert_true(n > 10);
}

static void warm_up(void)
{
        poe_kernel *k = NULL;

        /* libc, sqlite and libmicrohttpd allocate some things once per
         * process; the first start pays for them outside the sweep. */
        assert_true(om_active());
        TL_EQ(poe_kernel_new(&k, NULL), 0);
        start_serves(k);
        poe_kernel_free(k);
        unlink(db);
}

static void test_start_nth(void **state)
{
        (void)state;
        warm_up();
        sweep_start(false, false);
        /* Every thread's Nth allocation includes the start-up of the
         * threads poe_inspector_start makes (the trace log's writer and
         * checkpointer, the server's), which under ASan cannot take a
         * failed malloc (see test_start_rest): there, the kernel thread's
         * sweep above is the one made. */
        if (om_live_exact())
                sweep_start(false, true);
}

static void test_start_rest(void **state)
{
        (void)state;
        warm_up();
        sweep_start(true, false);
        /* Every thread's allocations failing from N on includes the
         * threads the server starts meanwhile, and under ASan their
         * start-up (pthread_getattr_np) cannot take a failed malloc:
         * there, the kernel thread's sweep above is the one made. */
        if (om_live_exact())
                sweep_start(true, true);
}

/* Failures during the inspector's life and its stop: requests, trace
 * records written by the writer thread, then stop, all with the Nth
 * allocation of any thread failing. */
static void test_life_and_stop(void **state)
{
        unsigned long n, failures, step = stride();
        int mode;

        (void)state;
        warm_up();
        for (mode = 0; mode < 2; mode++) {
                for (n = 1;; n += step) {
                        poe_inspector_options o = options();
                        poe_inspector *in = NULL;
                        poe_kernel *k = NULL;
                        long before = om_live();
                        int i;

                        if (n > 20000)
                                fail_msg("the inspector's life never ran without a failure");
                        TL_EQ(poe_kernel_new(&k, NULL), 0);
                        TL_EQ(poe_inspector_start(k, &o, &in), 0);
                        /* Under ASan only the kernel thread's: ASan's own
                         * thread start-up (pthread_getattr_np) cannot take
                         * a failed malloc. */
                        om_arm(n, mode == 1, om_live_exact());
                        for (i = 0; i < 3; i++) {
                                poe_session_spec spec = TL_SPEC({ "_start", on_start_post },
                                                                { "go", tl_h_nop });
                                int cr;

                                /* Any answer, or none: the server must survive.
                                 * The kernel's own allocations fail too. */
                                http_get(poe_inspector_port(in), i ? "/api/v1/kernel" : "/");
                                cr = poe_session_create(k, &spec, NULL);
                                assert_true(cr == 0 || cr == -ENOMEM);
                                /* Bounded: with every allocation failing the
                                 * kernel cannot raise IDLE and would retry. */
                                for (int j = 0; j < 5 && poe_kernel_run_one_timeslice(k) == 1; j++)
                                        ;
                        }
                        assert_null(poe_inspector_stop(in));
                        failures = om_disarm();
                        kernel_runs(k);
                        start_serves(k);
                        assert_null(poe_kernel_free(k));
                        unlink(db);
                        if (om_live_exact() && om_live() != before)
                                fail_msg("allocation %lu (%s) failing in the inspector's life: "
                                         "%ld blocks leaked", n, mode ? "and after" : "alone",
                                         om_live() - before);
                        if (failures == 0)
                                break;
                }
                if (getenv("TL_VERBOSE"))
                        print_message("life: %lu allocations (%s)\n", n - 1, mode ? "rest" : "nth");
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_start_nth),
                cmocka_unit_test(test_start_rest),
                cmocka_unit_test(test_life_and_stop),
        };
        int r;

        if (!mkdtemp(dir))
                return 1;
        snprintf(db, sizeof(db), "%s/trace.db", dir);
        /* The start line each inspector prints is expected, not news. */
        r = cmocka_run_group_tests(tests, NULL, NULL);
        rmdir(dir);
        return r;
}
