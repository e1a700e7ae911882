/*
 * GET /metrics: the kernel's counters in Prometheus' text format (0.0.4),
 * built on the kernel's thread.
 */
#include <dirent.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "http.h"
#include "otlp-push.h"
#include "poe/tracelog.h"

struct buf {
        char *s;
        size_t len, cap;
        bool failed;
};

static void put(struct buf *b, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (b->failed)
                return;
        for (;;) {
                va_start(ap, fmt);
                n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
                va_end(ap);
                if (n < 0) {
                        b->failed = true;
                        return;
                }
                if ((size_t)n < b->cap - b->len) {
                        b->len += (size_t)n;
                        return;
                }
                {
                        size_t cap = (b->cap + (size_t)n) * 2;
                        char *s = realloc(b->s, cap);

                        if (!s) {
                                b->failed = true;
                                return;
                        }
                        b->s = s;
                        b->cap = cap;
                }
        }
}

/* A label value as the text format wants it: backslash, double quote and
 * newline escaped. */
static void label_value(struct buf *b, const char *v)
{
        for (; *v; v++) {
                if (*v == '\\')
                        put(b, "\\\\");
                else if (*v == '"')
                        put(b, "\\\"");
                else if (*v == '\n')
                        put(b, "\\n");
                else
                        put(b, "%c", *v);
        }
}

static void metric(struct buf *b, const char *name, const char *type, const char *help,
                   double value)
{
        put(b, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, value);
}

/* The HTTP server's own gauges (http.h): thread-safe, so also when the
 * kernel is stuck. */
static void pipeline_metrics(struct buf *b, poe_inspector *in)
{
        poe__http_counts n;

        poe__http_counts_get(in, &n);
        metric(b, "poe_inspector_long_polls", "gauge",
               "trace tails waiting for records now (at most 8; more get a 429)",
               (double)n.long_polls);
        metric(b, "poe_inspector_exports", "gauge",
               "trace exports running now (at most 2; more get a 429)", (double)n.exports);
        {
                static const char *const how[POE__EXPORT_ENDS] = {
                        [POE__EXPORT_COMPLETE] = "complete",
                        [POE__EXPORT_GONE] = "client_gone",
                        [POE__EXPORT_DEADLINE] = "deadline",
                        [POE__EXPORT_STOPPED] = "stopped",
                        [POE__EXPORT_FAILED] = "failed",
                };
                int i;

                put(b, "# HELP poe_inspector_exports_ended_total trace exports ended, by how: "
                        "body sent whole, client gone first, or body cut at the export's "
                        "deadline, by the stop, or by a fault\n"
                        "# TYPE poe_inspector_exports_ended_total counter\n");
                for (i = 0; i < POE__EXPORT_ENDS; i++)
                        put(b, "poe_inspector_exports_ended_total{how=\"%s\"} %llu\n", how[i],
                            (unsigned long long)n.exports_ended[i]);
        }
        metric(b, "poe_inspector_connections", "gauge", "HTTP connections open now",
               (double)n.connections);
        metric(b, "poe_inspector_connections_max", "gauge",
               "HTTP connections allowed at once (32 per client address)",
               (double)n.connections_max);
        metric(b, "poe_inspector_connections_expired_total", "counter",
               "connections closed because their request did not arrive within 10 s",
               (double)n.expired);
        metric(b, "poe_inspector_connections_evicted_total", "counter",
               "connections waiting for a request closed to make room for new ones",
               (double)n.evicted);
        metric(b, "poe_inspector_kernel_waits", "gauge",
               "requests waiting for the kernel's thread now", (double)n.waiting_kernel);
        metric(b, "poe_inspector_pool_busy", "gauge",
               "workers of the pool running a trace log read now", (double)n.pool_busy);
        metric(b, "poe_inspector_pool_queued", "gauge",
               "trace log reads waiting for a worker now", (double)n.pool_queued);
}

/* The live OTLP push's counts (otlp-push.c): thread-safe, so also when
 * the kernel is stuck.  Nothing without a push. */
static void otlp_push_metrics(struct buf *b, poe_inspector *in)
{
        poe__otlp_push_counts c;

        if (!in->push)
                return;
        poe__otlp_push_counts_get(in->push, &c);
        metric(b, "poe_otlp_spans_sent_total", "counter",
               "spans the OTLP collector took (a 2xx answer)", (double)c.sent);
        put(b, "# HELP poe_otlp_spans_dropped_total spans never sent: the push's queue was "
                "full, or they were still queued when it stopped\n"
                "# TYPE poe_otlp_spans_dropped_total counter\n"
                "poe_otlp_spans_dropped_total{reason=\"queue_full\"} %llu\n"
                "poe_otlp_spans_dropped_total{reason=\"shutdown\"} %llu\n",
            (unsigned long long)c.dropped_full, (unsigned long long)c.dropped_stop);
        put(b, "# HELP poe_otlp_spans_failed_total spans sent and not taken: refused by the "
                "collector (4xx but 429), or still failing after the last retry\n"
                "# TYPE poe_otlp_spans_failed_total counter\n"
                "poe_otlp_spans_failed_total{reason=\"rejected\"} %llu\n"
                "poe_otlp_spans_failed_total{reason=\"retries_exhausted\"} %llu\n",
            (unsigned long long)c.rejected, (unsigned long long)c.retries_out);
        metric(b, "poe_otlp_requests_total", "counter",
               "OTLP/HTTP requests made, retries included",
               (double)c.requests);
        metric(b, "poe_otlp_retries_total", "counter", "OTLP/HTTP requests that were retries",
               (double)c.retries);
        metric(b, "poe_otlp_queue_spans", "gauge", "spans waiting to be sent",
               (double)c.queued_spans);
        metric(b, "poe_otlp_queue_max_spans", "gauge", "the push queue's bound, in spans",
               (double)c.queue_max);
        metric(b, "poe_otlp_feed_errors_total", "counter",
               "reads of the trace log by the push that failed", (double)c.feed_errors);
}

/* The trace log's counters: thread-safe, so also when the kernel is stuck. */
static void trace_log_metrics(struct buf *b, poe_inspector *in, bool on_kernel)
{
        json_t *st, *dropped, *v;
        const char *group;

        st = in->log ? poe__tracelog_status(in->log) : NULL;
        if (st && on_kernel) {
                unsigned rec = poe_inspector_recorded_groups(in), bit;

                put(b, "# HELP poe_trace_group_recorded 1 for each trace group the trace log "
                        "records now, 0 for the others compiled in\n"
                        "# TYPE poe_trace_group_recorded gauge\n");
                for (bit = 1; bit; bit <<= 1)
                        if ((bit & POE_TRACE_ALL & poe_debug_compiled()) &&
                            poe_debug_group_name(bit))
                                put(b, "poe_trace_group_recorded{group=\"%s\"} %d\n",
                                    poe_debug_group_name(bit), (rec & bit) != 0);
        }
        pipeline_metrics(b, in);
        if (st) {
                metric(b, "poe_trace_records_produced_total", "counter",
                       "trace records the kernel handed the trace log",
                       (double)json_integer_value(json_object_get(st, "records_produced")));
                metric(b, "poe_trace_records_written_total", "counter",
                       "trace records written to the trace log",
                       (double)json_integer_value(json_object_get(st, "records_written")));
                put(b, "# HELP poe_trace_records_dropped_total trace records dropped, by "
                        "group\n# TYPE poe_trace_records_dropped_total counter\n");
                dropped = json_object_get(st, "dropped");
                json_object_foreach(dropped, group, v)
                        put(b, "poe_trace_records_dropped_total{group=\"%s\"} %lld\n", group,
                            (long long)json_integer_value(v));
                /* Removed records were written first: they count among
                 * the written too. */
                put(b, "# HELP poe_trace_records_removed_total trace records removed from "
                        "the trace log to keep it within its bounds, by group\n"
                        "# TYPE poe_trace_records_removed_total counter\n");
                json_object_foreach(json_object_get(st, "removed"), group, v)
                        put(b, "poe_trace_records_removed_total{group=\"%s\"} %lld\n", group,
                            (long long)json_integer_value(v));
                metric(b, "poe_trace_log_size_bytes", "gauge",
                       "the trace log's file and its WAL, at the writer's last look",
                       (double)json_integer_value(json_object_get(st, "size_bytes")));
                metric(b, "poe_trace_log_max_bytes", "gauge", "the trace log's size bound",
                       (double)json_integer_value(json_object_get(st, "max_bytes")));
                metric(b, "poe_trace_log_error", "gauge", "1 while the trace log cannot write",
                       json_is_string(json_object_get(st, "error")) ? 1 : 0);
                json_decref(st);
        }
}

/* A histogram from non-cumulative buckets with upper bounds le (the
 * last, -1, is +Inf): its count is the sum of the buckets. */
static void histogram(struct buf *b, const char *name, const char *help, const uint64_t *buckets,
                      const double *le, int n, double sum)
{
        uint64_t cum = 0;
        int i;

        put(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
        for (i = 0; i < n; i++) {
                cum += buckets[i];
                if (le[i] < 0)
                        put(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
                else
                        put(b, "%s_bucket{le=\"%g\"} %llu\n", name, le[i], (unsigned long long)cum);
        }
        put(b, "%s_sum %.9f\n%s_count %llu\n", name, sum, name, (unsigned long long)cum);
}

/* The whole of a small /proc file, NUL-terminated, into buf; its length
 * or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
        FILE *f = fopen(path, "re");
        size_t n;

        if (!f)
                return -1;
        n = fread(buf, 1, size - 1, f);
        fclose(f);
        buf[n] = '\0';
        return (ssize_t)n;
}

/* The file descriptors the process has open: /proc/self/fd's entries,
 * less the one reading it.  -1 if it cannot be read. */
static long open_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        long n = 0;

        if (!d)
                return -1;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1;
}

/*
 * The process_* metrics every Prometheus client library exports, as
 * client_golang reads them from /proc: CPU seconds (utime + stime),
 * resident and virtual memory, open and allowed file descriptors, and
 * the start time (boot time + starttime).  Thread-safe, no kernel state:
 * so also while the kernel is stuck.  A value /proc does not give is
 * left out, never made up.
 */
static void process_metrics(struct buf *b)
{
        char stat[1024], boot[4096], *p;
        unsigned long long utime, stime, starttime, vsize;
        long long rss;
        long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE), fds;
        struct rlimit rl;

        /* The fields after the command name, which may hold spaces and
         * parentheses: from the last ')' on, state is field 3. */
        if (read_small("/proc/self/stat", stat, sizeof(stat)) > 0 && (p = strrchr(stat, ')')) &&
            tck > 0 &&
            sscanf(p + 1,
                   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
                   "%*d %*d %llu %llu %lld",
                   &utime, &stime, &starttime, &vsize, &rss) == 5) {
                metric(b, "process_cpu_seconds_total", "counter",
                       "Total user and system CPU time spent in seconds.",
                       (double)(utime + stime) / (double)tck);
                metric(b, "process_resident_memory_bytes", "gauge",
                       "Resident memory size in bytes.", (double)rss * (double)page);
                metric(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
                       (double)vsize);
                if (read_small("/proc/stat", boot, sizeof(boot)) > 0 &&
                    (p = strstr(boot, "\nbtime ")))
                        metric(b, "process_start_time_seconds", "gauge",
                               "Start time of the process since unix epoch in seconds.",
                               strtod(p + 7, NULL) + (double)starttime / (double)tck);
        }
        fds = open_fds();
        if (fds >= 0)
                metric(b, "process_open_fds", "gauge", "Number of open file descriptors.",
                       (double)fds);
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
                metric(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
                       (double)rl.rlim_cur);
}

/* poe_build_info: 1, with what this build is in its labels. */
static void build_info(struct buf *b, const char *loop)
{
        put(b, "# HELP poe_build_info libpoe's version, the event loop in use and the versions "
               "of the libraries the inspector runs on\n# TYPE poe_build_info gauge\n"
               "poe_build_info{version=\"");
        label_value(b, POE_VERSION);
        put(b, "\",loop=\"");
        label_value(b, loop ? loop : "");
        put(b, "\",microhttpd=\"");
        label_value(b, MHD_get_version());
        put(b, "\",jansson=\"");
        label_value(b, JANSSON_VERSION);
        put(b, "\"} 1\n");
}

/* The lints' findings now, by kind, at the inspector's thresholds (a
 * scrape takes a growth sample too: lints.c).  Nothing when out of
 * memory rather than counts that are wrong. */
static void lint_metrics(struct buf *b, poe_kernel *k, poe_inspector *in)
{
        size_t counts[POE__LINT_KINDS] = { 0 }, n, i;
        poe__lint *v;
        int kind;

        if (poe__lints_find(in, k, &in->lint_cfg, &v, &n) < 0)
                return;
        for (i = 0; i < n; i++)
                counts[v[i].kind]++;
        poe__lints_release(v);
        put(b, "# HELP poe_lints findings of the inspector's lints now, by kind (GET "
               "/api/v1/lints lists them)\n# TYPE poe_lints gauge\n");
        for (kind = 0; kind < POE__LINT_KINDS; kind++)
                put(b, "poe_lints{kind=\"%s\"} %zu\n", poe__lint_kind_name(kind), counts[kind]);
}

char *poe__metrics_text(poe_kernel *k, poe_inspector *in)
{
        struct buf b = { malloc(4096), 0, 4096, false };
        poe_kernel_info ki;
        poe_dispatch_stats ds;

        if (!b.s)
                return NULL;
        b.s[0] = '\0';
        /* One snapshot: on the kernel's thread, between two dispatches,
         * so the counts below agree (poe_dispatch_stats). */
        if (poe_peek_kernel(k, &ki) < 0 || poe_kernel_dispatch_stats(k, &ds) < 0) {
                free(b.s);
                return NULL;
        }
        build_info(&b, in->loop_name);
        process_metrics(&b);
        metric(&b, "poe_sessions", "gauge", "sessions alive, the kernel's own not counted",
               (double)ki.sessions);
        lint_metrics(&b, k, in);
        metric(&b, "poe_queue_length", "gauge", "events queued, timers included",
               (double)ki.queue_length);
        metric(&b, "poe_timers", "gauge", "pending alarms and delays", (double)ki.timers);
        metric(&b, "poe_fds_watched", "gauge", "file descriptors watched",
               (double)ki.fds_watched);
        metric(&b, "poe_signal_watchers", "gauge", "sig() watchers",
               (double)ki.signal_watchers);
        metric(&b, "poe_pid_watchers", "gauge", "sig_child() watches", (double)ki.pid_watchers);
        metric(&b, "poe_events_dispatched_total", "counter",
               "handlers run: the sum of poe_dispatches_total and the count of "
               "poe_dispatch_duration_seconds",
               (double)ds.dispatched);
        {
                static const char *const kinds[POE_DISPATCH_KINDS] = {
                        "post", "call", "alarm", "signal", "select", "sig_child", "die", "internal",
                };
                int i;

                put(&b, "# HELP poe_dispatches_total handlers run, by kind of event\n"
                        "# TYPE poe_dispatches_total counter\n");
                for (i = 0; i < POE_DISPATCH_KINDS; i++)
                        put(&b, "poe_dispatches_total{kind=\"%s\"} %llu\n", kinds[i],
                            (unsigned long long)ds.by_kind[i]);
        }
        /* Until one dispatch is timed there is no duration to count the
         * dispatches by: no histogram rather than one whose count
         * disagrees. */
        if (ds.timed)
                histogram(&b, "poe_dispatch_duration_seconds",
                          "time in handlers, sampled while the inspector runs: one dispatch in "
                          "32 is timed and stands for the handlers run up to the next",
                          ds.duration_buckets, ds.bucket_le, POE_DURATION_BUCKETS, ds.duration_sum);
        histogram(&b, "poe_queue_wait_seconds",
                  "how long posted events and signals waited in the queue, from the time "
                  "they were queued to the start of the timeslice that dispatched them",
                  ds.wait_buckets, ds.lag_le, POE_LAG_BUCKETS, ds.wait_sum);
        histogram(&b, "poe_loop_lag_seconds",
                  "how late timers fired: the start of the timeslice that dispatched them "
                  "less their due time",
                  ds.lag_buckets, ds.lag_le, POE_LAG_BUCKETS, ds.lag_sum);
        put(&b, "# HELP poe_kernel_responding 1 while the kernel answers within the "
                "answer timeout, 0 while it is stuck\n# TYPE poe_kernel_responding gauge\n"
                "poe_kernel_responding 1\n");
        trace_log_metrics(&b, in, true);
        otlp_push_metrics(&b, in);
        if (b.failed) {
                free(b.s);
                return NULL;
        }
        return b.s;
}

/*
 * /metrics while the kernel is stuck (it did not take the job within the
 * answer timeout): what the kernel publishes atomically and the trace
 * log's counters, with poe_kernel_responding 0, so a scrape tells a stuck
 * program from a dead one (which does not answer at all).
 */
char *poe__metrics_stuck_text(poe_inspector *in, const poe_kernel_activity *a, double since)
{
        struct buf b = { malloc(4096), 0, 4096, false };

        if (!b.s)
                return NULL;
        b.s[0] = '\0';
        build_info(&b, in->loop_name);
        process_metrics(&b);
        put(&b, "# HELP poe_kernel_responding 1 while the kernel answers within the "
                "answer timeout, 0 while it is stuck\n# TYPE poe_kernel_responding gauge\n"
                "poe_kernel_responding 0\n");
        metric(&b, "poe_kernel_stuck_seconds", "gauge",
               "how long the kernel has not come round (its dispatch count standing still)",
               since);
        if (a->dispatching) {
                put(&b, "# HELP poe_kernel_stuck_handler the handler the kernel is stuck in\n"
                        "# TYPE poe_kernel_stuck_handler gauge\n"
                        "poe_kernel_stuck_handler{session=\"%llu\",event=\"",
                    (unsigned long long)a->session);
                label_value(&b, a->event ? a->event : "");
                put(&b, "\"} 1\n");
        }
        metric(&b, "poe_events_dispatched_total", "counter",
               "handlers run: the sum of poe_dispatches_total and the count of "
               "poe_dispatch_duration_seconds",
               (double)a->dispatches);
        trace_log_metrics(&b, in, false);
        otlp_push_metrics(&b, in);
        if (b.failed) {
                free(b.s);
                return NULL;
        }
        return b.s;
}

/* GET /metrics on the kernel's thread (the route's handler). */
int poe__metrics(poe__call *c)
{
        return poe__reply_text(c, poe__metrics_text(c->k, c->in));
}
