/*
 * trace: what watching a program costs it.  The yield_chain workload
 * (one session yielding to itself N times, see yield-chain.c) run in one
 * of three configurations:
 *
 *   bare      the kernel alone;
 *   attached  an inspector on a loopback port, no trace log;
 *   log       an inspector with its default trace log (default groups, a
 *             fresh SQLite file in $TMPDIR), as POE_INSPECTOR with
 *             POE_TRACE_DB unset gives any program.
 *
 *   bench-trace CONFIG N
 *   workload=yield_chain impl=trace-CONFIG n=N seconds=S rate=R
 *       kernel_cpu_seconds=C [produced=P written=W dropped=D
 *       dropped_ring_full=F records_per_yield=X]
 *
 * The time is the kernel's run, from the session's creation to the last
 * dispatch; kernel_cpu_seconds is the CPU time the kernel's thread took
 * over the same span (CLOCK_THREAD_CPUTIME_ID): on a machine whose other
 * jobs take the cores, the wall time also counts the waits for a core,
 * which this does not; the log's counts are read after its writer has drained the
 * ring (which is not timed), so produced = written + dropped must hold
 * exactly.  bench/run --trace runs the three side by side.
 *
 * BENCH_TRACE_CPU=N (bench/run sets 0) pins the kernel's thread to CPU N
 * once the inspector has started, and every other thread of the program
 * (the log's writer and checkpointer, the HTTP server's) to the other
 * CPUs: on the build machine's VM one vCPU runs this loop at half the
 * speed of the other (the host's sibling thread, presumably), so a run
 * left to the scheduler measures which CPU it landed on, not the
 * configuration.  Unset: no pinning.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <poe/inspector.h>
#include <poe/poe.h>

#include "http.h"
#include "inspector-internal.h"

static long remaining;

static poe_value step(poe_ctx *c)
{
        if (--remaining > 0)
                poe_kernel_yield(poe_ctx_kernel(c), "step", POE_NOARGS);
        return poe_nil();
}

static poe_value start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "step", POE_NOARGS);
        return poe_nil();
}

/* BENCH_TRACE_CPU: the calling thread on that CPU, the program's other
 * threads on the rest.  Returns the CPU, or -1 (unset, or it failed). */
static int pin_threads(void)
{
        const char *v = getenv("BENCH_TRACE_CPU");
        cpu_set_t one, rest;
        struct dirent *d;
        pid_t self = gettid();
        DIR *dir;
        int cpu, i;

        if (!v || !*v)
                return -1;
        cpu = atoi(v);
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        if (sched_getaffinity(0, sizeof(rest), &rest) < 0 || !CPU_ISSET(cpu, &rest))
                return -1;
        CPU_CLR(cpu, &rest);
        if (CPU_COUNT(&rest) == 0)
                rest = one;
        if (sched_setaffinity(0, sizeof(one), &one) < 0)
                return -1;
        if (!(dir = opendir("/proc/self/task")))
                return cpu;
        while ((d = readdir(dir))) {
                i = atoi(d->d_name);
                if (i > 0 && i != self)
                        sched_setaffinity(i, sizeof(rest), &rest);
        }
        closedir(dir);
        return cpu;
}

static long long counter(json_t *st, const char *key)
{
        json_t *v = json_object_get(st, key);

        return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

int main(int argc, char **argv)
{
        static const poe_handler h[] = { { "_start", start, NULL }, { "step", step, NULL } };
        poe_session_spec spec = { .handlers = h, .n_handlers = 2 };
        const char *config = argc > 1 ? argv[1] : "bare";
        long n = argc > 2 ? atol(argv[2]) : 1000000;
        const char *tmpdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        poe_inspector_options o;
        poe_inspector *in = NULL;
        struct timespec t0, t1, c0, c1;
        char db[512], side[600];
        poe_kernel *k;
        json_t *st;
        double s, cpu_s;
        int cpu;
        int r;

        if (strcmp(config, "bare") != 0 && strcmp(config, "attached") != 0 &&
            strcmp(config, "log") != 0) {
                fprintf(stderr, "usage: bench-trace bare|attached|log [N]\n");
                return 2;
        }
        remaining = n;
        if (poe_kernel_new(&k, NULL) < 0)
                return 1;
        snprintf(db, sizeof(db), "%s/bench-trace-%d.db", tmpdir, (int)getpid());
        if (strcmp(config, "bare") != 0) {
                memset(&o, 0, sizeof(o));
                o.address = "127.0.0.1:0";
                o.trace_db = strcmp(config, "log") == 0 ? db : "";
                r = poe_inspector_start(k, &o, &in);
                if (r < 0) {
                        fprintf(stderr, "bench-trace: poe_inspector_start: %s\n", strerror(-r));
                        return 1;
                }
        }
        cpu = pin_threads();
        clock_gettime(CLOCK_MONOTONIC, &t0);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
        if (poe_session_create(k, &spec, NULL) < 0)
                return 1;
        poe_kernel_run(k);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        cpu_s = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
        printf("workload=yield_chain impl=trace-%s n=%ld seconds=%.6f rate=%.0f "
               "kernel_cpu_seconds=%.6f cpu=%d",
               config, n, s, n / s, cpu_s, cpu);
        if (in && in->log) {
                poe__tracelog_stop(in->log);
                st = poe__tracelog_status(in->log);
                printf(" produced=%lld written=%lld dropped=%lld dropped_ring_full=%lld "
                       "records_per_yield=%.3f",
                       counter(st, "records_produced"), counter(st, "records_written"),
                       counter(st, "dropped_total"), counter(st, "dropped_ring_full"),
                       (double)counter(st, "records_produced") / (double)n);
                json_decref(st);
        }
        printf("\n");
        poe_inspector_stop(in);
        poe_kernel_free(k);
        unlink(db);
        snprintf(side, sizeof(side), "%s-wal", db);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", db);
        unlink(side);
        return 0;
}
