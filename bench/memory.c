/*
 * bench-memory: what one idle session, one queued event, one pending
 * timer and one watched fd cost, measured from the allocator: glibc's
 * mallinfo2() before and after making N of them, heap bytes in use plus
 * mmapped blocks, so malloc's own headers and the tables' spare room
 * are counted (nothing here is computed from sizeof).  Prints
 *
 *   memory=WHAT n=N bytes_per=B
 *
 * for session, event, timer (ids not asked for), timer_id (each id
 * handed back) and fd, at N (default 100000; fds at 1000).
 */
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <poe/poe.h>

static long n = 100000;
static size_t base;
static double result;

static size_t in_use(void)
{
        struct mallinfo2 mi = mallinfo2();

        return mi.uordblks + mi.hblkhd;
}

static void die(const char *what, int rc)
{
        fprintf(stderr, "bench-memory: %s: %s\n", what, strerror(-rc));
        exit(1);
}

/* Sessions: each sets one alias in _start, POE's idiom for a service
 * that waits for work, and so stays alive holding nothing else. */
static poe_value idle_start(poe_ctx *c)
{
        char name[32];
        int rc;

        snprintf(name, sizeof(name), "s%llu", (unsigned long long)poe_ctx_session(c));
        rc = poe_kernel_alias_set(poe_ctx_kernel(c), name);
        if (rc < 0)
                die("alias_set", rc);
        return poe_nil();
}

/*
 * Each session's _garbage_collect event is queued at its creation, so
 * making N sessions in one handler queues N argumentless events, whose
 * blocks the kernel keeps for reuse after they run (events.c: the memory
 * held is the peak number queued at once).  That is the event cache's
 * high-water mark, not what an idle session holds: the cache is filled to
 * N first, with N yields that run before the base is read, so the
 * sessions' events reuse its blocks and the figure is the sessions' own.
 */
static poe_value sessions_warm(poe_ctx *c)
{
        long i;

        for (i = 0; i < n; i++)
                if (poe_kernel_yield(poe_ctx_kernel(c), "noop", POE_NOARGS) < 0)
                        abort();
        poe_kernel_yield(poe_ctx_kernel(c), "create", POE_NOARGS);
        return poe_nil();
}

static poe_value sessions_noop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value sessions_start(poe_ctx *c)
{
        static const poe_handler h[] = {{"_start", idle_start, NULL}};
        poe_session_spec spec = {.handlers = h, .n_handlers = 1};
        long i;

        base = in_use();
        for (i = 0; i < n; i++) {
                int rc = poe_session_create(poe_ctx_kernel(c), &spec, NULL);

                if (rc < 0)
                        die("session_create", rc);
        }
        /* Their _garbage_collect events are still queued: one more slice
         * and only the sessions remain. */
        poe_kernel_yield(poe_ctx_kernel(c), "measure", POE_NOARGS);
        return poe_nil();
}

static poe_value sessions_measure(poe_ctx *c)
{
        result = (double)(in_use() - base) / (double)n;
        poe_kernel_stop(poe_ctx_kernel(c));
        return poe_nil();
}

/* Events: N argumentless posts queued, measured before any runs. */
static poe_value events_start(poe_ctx *c)
{
        long i;

        base = in_use();
        for (i = 0; i < n; i++)
                if (poe_kernel_yield(poe_ctx_kernel(c), "ev", POE_NOARGS) < 0)
                        abort();
        result = (double)(in_use() - base) / (double)n;
        poe_kernel_stop(poe_ctx_kernel(c));
        return poe_nil();
}

/* Timers: N argumentless delay_set timers pending; timer_id: the same
 * with their ids handed back, which makes the kernel keep its alarm id
 * map (a timer's id is never asked for otherwise). */
static bool keep_ids;

static poe_value timers_start(poe_ctx *c)
{
        poe_alarm_id id;
        long i;

        base = in_use();
        for (i = 0; i < n; i++)
                if (poe_kernel_delay_set(poe_ctx_kernel(c), "t", 100.0 + (double)(i % 997),
                                         POE_NOARGS, keep_ids ? &id : NULL) < 0)
                        abort();
        result = (double)(in_use() - base) / (double)n;
        poe_kernel_stop(poe_ctx_kernel(c));
        return poe_nil();
}

/* Watched fds: N pipe ends watched for reading. */
static int *fds;

static poe_value fds_start(poe_ctx *c)
{
        long i;

        base = in_use();
        for (i = 0; i < n; i++)
                if (poe_kernel_select_read(poe_ctx_kernel(c), fds[i], "r", POE_NOARGS) < 0)
                        abort();
        result = (double)(in_use() - base) / (double)n;
        poe_kernel_stop(poe_ctx_kernel(c));
        return poe_nil();
}

static double measure(const char *what)
{
        static const poe_handler hs[] = {{"_start", sessions_warm, NULL},
                                         {"noop", sessions_noop, NULL},
                                         {"create", sessions_start, NULL},
                                         {"measure", sessions_measure, NULL}};
        static const poe_handler he[] = {{"_start", events_start, NULL}};
        static const poe_handler ht[] = {{"_start", timers_start, NULL}};
        static const poe_handler hf[] = {{"_start", fds_start, NULL}};
        poe_session_spec spec = {0};
        poe_kernel *k;
        int rc;

        if (strcmp(what, "session") == 0)
                spec.handlers = hs, spec.n_handlers = 4;
        else if (strcmp(what, "event") == 0)
                spec.handlers = he, spec.n_handlers = 1;
        else if (strcmp(what, "timer") == 0 || strcmp(what, "timer_id") == 0)
                spec.handlers = ht, spec.n_handlers = 1;
        else
                spec.handlers = hf, spec.n_handlers = 1;
        keep_ids = strcmp(what, "timer_id") == 0;
        rc = poe_kernel_new(&k, NULL);
        if (rc < 0)
                die("kernel_new", rc);
        rc = poe_session_create(k, &spec, NULL);
        if (rc < 0)
                die("session_create", rc);
        rc = poe_kernel_run(k);
        if (rc < 0)
                die("run", rc);
        poe_kernel_free(k);
        return result;
}

int main(int argc, char **argv)
{
        const char *all[] = {"session", "event", "timer", "timer_id", "fd"};
        long n_main;
        size_t i;

        if (argc > 1)
                n = atol(argv[1]);
        n_main = n;
        for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
                if (argc > 2 && strcmp(argv[2], all[i]) != 0)
                        continue;
                if (strcmp(all[i], "fd") == 0) {
                        /* One pipe per two fds; keep within RLIMIT_NOFILE. */
                        struct rlimit rl;
                        long j;

                        getrlimit(RLIMIT_NOFILE, &rl);
                        n = n_main < 1000 ? n_main : 1000;
                        if ((rlim_t)(2 * n + 64) > rl.rlim_cur)
                                n = ((long)rl.rlim_cur - 64) / 2;
                        fds = malloc((size_t)n * sizeof(*fds));
                        for (j = 0; j < n; j++) {
                                int p[2];

                                if (pipe(p) < 0) {
                                        perror("pipe");
                                        return 1;
                                }
                                fds[j] = p[0];
                        }
                }
                printf("memory=%s n=%ld bytes_per=%.1f\n", all[i], n, measure(all[i]));
                n = n_main;
        }
        return 0;
}
