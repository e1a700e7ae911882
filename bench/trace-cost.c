/*
 * trace-cost: what tracing costs the kernel's thread.  One session yields
 * to itself N times, as yield-chain does, in one of three set-ups:
 *
 *   bare    no inspector;
 *   nolog   an inspector attached, no trace log (trace_db "");
 *   log     an inspector with its trace log and its default groups;
 *   shed    the same with a ring of SHED_RING records, which the writer
 *           cannot keep empty: most records are shed (dropped, counted),
 *           the path a program pays for while its log cannot keep up.
 *
 * Wall time on a shared machine says little, so the figure to read is
 * the kernel thread's instruction count under callgrind, at N and at 2N
 * yields: (I(2N) - I(N)) / N is the cost of one yield, free of start-up,
 * and the log's records per yield turn it into a cost per record:
 *
 *   valgrind --tool=callgrind --separate-threads=yes \
 *           --callgrind-out-file=/tmp/tc.%p build-bench/bench/trace-cost 20000 log
 *
 * and read the "totals:" line of the file ending in -01 (thread 1, the
 * kernel's).  bench/trace-cost.sh does the runs and the arithmetic.  The
 * log's ring is made large enough for every record of the run, so that
 * no record is dropped (a dropped record costs less than a kept one and
 * would flatter the figure); the program prints the counts to check it:
 *
 *   workload=trace_cost mode=M n=N seconds=S rate=R records=P written=W dropped=D
 *
 * records is what the log was handed (written + dropped, read back from
 * the database once the inspector has flushed it).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <poe/inspector.h>
#include <poe/poe.h>

#define SHED_RING 16

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

/* One integer from the finished log. */
static long long db_int(sqlite3 *db, const char *sql)
{
        sqlite3_stmt *st;
        long long v = -1;

        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
                return -1;
        if (sqlite3_step(st) == SQLITE_ROW)
                v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
}

int main(int argc, char **argv)
{
        static const poe_handler h[] = { { "_start", start, NULL }, { "step", step, NULL } };
        poe_session_spec spec = { .handlers = h, .n_handlers = 2 };
        long n = argc > 1 ? atol(argv[1]) : 20000;
        const char *mode = argc > 2 ? argv[2] : "log";
        poe_inspector_options o;
        poe_inspector *in = NULL;
        char dir[] = "/tmp/trace-cost-XXXXXX", db_path[64];
        long long written = 0, dropped = 0;
        struct timespec t0, t1;
        poe_kernel *k;
        double s;

        bool logged = strcmp(mode, "log") == 0 || strcmp(mode, "shed") == 0;

        if (n <= 0 || (strcmp(mode, "bare") && strcmp(mode, "nolog") && !logged)) {
                fprintf(stderr, "usage: trace-cost [N] [bare|nolog|log|shed]\n");
                return 2;
        }
        remaining = n;
        if (poe_kernel_new(&k, NULL) < 0)
                return 1;
        if (strcmp(mode, "bare") != 0) {
                if (!mkdtemp(dir))
                        return 1;
                snprintf(db_path, sizeof(db_path), "%s/trace.db", dir);
                memset(&o, 0, sizeof(o));
                o.address = "127.0.0.1:0";
                o.trace_db = logged ? db_path : "";
                /* Room for every record (about 4 per yield), or shedding. */
                o.ring_size = strcmp(mode, "shed") == 0 ? SHED_RING : (size_t)n * 8 + 1024;
                if (poe_inspector_start(k, &o, &in) < 0)
                        return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (poe_session_create(k, &spec, NULL) < 0)
                return 1;
        poe_kernel_run(k);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        in = poe_inspector_stop(in);
        poe_kernel_free(k);
        if (logged) {
                sqlite3 *db;

                if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
                        written = db_int(db, "SELECT count(*) FROM records");
                        dropped = db_int(db, "SELECT coalesce(sum(count), 0) FROM drops");
                }
                sqlite3_close(db);
                unlink(db_path);
                snprintf(db_path, sizeof(db_path), "%s/trace.db-wal", dir);
                unlink(db_path);
                snprintf(db_path, sizeof(db_path), "%s/trace.db-shm", dir);
                unlink(db_path);
        }
        if (strcmp(mode, "bare") != 0)
                rmdir(dir);
        s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        printf("workload=trace_cost mode=%s n=%ld seconds=%.6f rate=%.0f records=%lld "
               "written=%lld dropped=%lld\n",
               mode, n, s, n / s, written + dropped, written, dropped);
        return 0;
}
