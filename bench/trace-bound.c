/*
 * trace-bound: what the trace log's size bound costs its writer.  One
 * session yields to itself N times with an inspector and its trace log
 * attached (default groups, a ring large enough that nothing is
 * dropped), the log bounded to MAX bytes (default: the inspector's own,
 * 256 MiB, which this run never reaches).  Wall time on a shared machine
 * says little; the figure to read is the process's instruction count
 * under callgrind, with a bound the run passes and without:
 *
 *   valgrind --tool=callgrind --callgrind-out-file=/tmp/tb.%p \
 *           build/bench/trace-bound 30000 2M
 *   valgrind --tool=callgrind --callgrind-out-file=/tmp/tb.%p \
 *           build/bench/trace-bound 30000
 *
 * (the "Collected" line of each; callgrind_annotate --inclusive=yes
 * shows poe__tl_bound_pass and remove_chunk).  The difference over the
 * records removed is the cost of removing one.  It prints what the file
 * says once the inspector has stopped:
 *
 *   workload=trace_bound n=N max=M seconds=S produced=P written=W
 *   dropped=D removed=R in_file=F bytes=B
 *
 * in_file is W - R, and bytes the file's size (its WAL is gone).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <poe/inspector.h>
#include <poe/poe.h>

static long remaining;

static poe_value tick(poe_ctx *c)
{
        if (--remaining > 0)
                poe_kernel_yield(poe_ctx_kernel(c), "tick", NULL, 0);
        return poe_nil();
}

static poe_value start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "tick", NULL, 0);
        return poe_nil();
}

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long long one(sqlite3 *db, const char *sql)
{
        sqlite3_stmt *st;
        long long v = -1;

        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
                v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
}

/* "2M", "1048576": a K, M or G suffix, binary. */
static unsigned long long size_arg(const char *s)
{
        char *end;
        unsigned long long v = strtoull(s, &end, 10);

        if (*end == 'K' || *end == 'k')
                v <<= 10;
        else if (*end == 'M' || *end == 'm')
                v <<= 20;
        else if (*end == 'G' || *end == 'g')
                v <<= 30;
        return v;
}

int main(int argc, char **argv)
{
        static const poe_handler h[] = { { "_start", start, NULL }, { "tick", tick, NULL } };
        poe_session_spec spec = { .handlers = h, .n_handlers = 2 };
        char dir[] = "/tmp/poe-trace-bound-XXXXXX", path[64], wal[72];
        poe_inspector_options o;
        poe_inspector *in;
        poe_kernel *k;
        struct stat sb;
        sqlite3 *db;
        double t0, t1;
        long n;

        if (argc < 2 || (n = atol(argv[1])) <= 0) {
                fprintf(stderr, "usage: trace-bound N [MAX_BYTES]\n");
                return 2;
        }
        if (!mkdtemp(dir))
                return 1;
        snprintf(path, sizeof(path), "%s/trace.db", dir);
        memset(&o, 0, sizeof(o));
        o.address = "127.0.0.1:0";
        o.trace_db = path;
        o.ring_size = (size_t)n * 5 + 1024; /* a yield makes 3 or 4 records */
        o.trace_db_max = argc > 2 ? size_arg(argv[2]) : 0;
        if (poe_kernel_new(&k, NULL) < 0 || poe_inspector_start(k, &o, &in) < 0)
                return 1;
        remaining = n;
        if (poe_session_create(k, &spec, NULL) < 0)
                return 1;
        t0 = now();
        poe_kernel_run(k);
        in = poe_inspector_stop(in);
        t1 = now();
        poe_kernel_free(k);

        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
                return 1;
        printf("workload=trace_bound n=%ld max=%s seconds=%.3f produced=%lld written=%lld "
               "dropped=%lld removed=%lld in_file=%lld bytes=%lld\n",
               n, argc > 2 ? argv[2] : "default", t1 - t0,
               one(db, "SELECT produced FROM runs"), one(db, "SELECT written FROM runs"),
               one(db, "SELECT coalesce(sum(count), 0) FROM drops"),
               one(db, "SELECT coalesce(sum(count), 0) FROM removed"),
               one(db, "SELECT count(*) FROM records"),
               stat(path, &sb) == 0 ? (long long)sb.st_size : -1LL);
        sqlite3_close(db);
        snprintf(wal, sizeof(wal), "%s-wal", path);
        unlink(wal);
        unlink(path);
        rmdir(dir);
        return 0;
}
