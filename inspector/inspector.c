/*
 * The inspector's lifecycle: options and environment, the trace log's
 * sink, and the HTTP server (http.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http.h"
#include "otlp-push.h"
#include "poe/tracelog.h"

/*
 * "HOST:PORT" or "[V6]:PORT" into a socket address.  Only numeric hosts
 * and "localhost" are accepted: the inspector must not depend on name
 * resolution to know whether it is exposed.
 */
int poe__inspector_parse_address(const char *address, struct sockaddr_storage *ss,
                                 socklen_t *len, bool *loopback)
{
        char host[128];
        const char *colon, *port_s;
        char *end;
        long port;

        if (!address || strlen(address) >= sizeof(host))
                return -EINVAL;
        if (address[0] == '[') {
                const char *close = strchr(address, ']');

                if (!close || close[1] != ':')
                        return -EINVAL;
                memcpy(host, address + 1, (size_t)(close - address - 1));
                host[close - address - 1] = '\0';
                port_s = close + 2;
        } else {
                colon = strrchr(address, ':');
                if (!colon)
                        return -EINVAL;
                memcpy(host, address, (size_t)(colon - address));
                host[colon - address] = '\0';
                port_s = colon + 1;
        }
        errno = 0;
        port = strtol(port_s, &end, 10);
        if (!*port_s || *end || errno || port < 0 || port > 65535)
                return -EINVAL;
        if (strcmp(host, "localhost") == 0 || !*host)
                strcpy(host, "127.0.0.1");
        memset(ss, 0, sizeof(*ss));
        if (strchr(host, ':')) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

                if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
                        return -EINVAL;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons((uint16_t)port);
                *len = sizeof(*a);
                *loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *)ss;

                if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
                        return -EINVAL;
                a->sin_family = AF_INET;
                a->sin_port = htons((uint16_t)port);
                *len = sizeof(*a);
                *loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
        }
        return 0;
}

/* One dispatch in 32 is timed for /metrics: timing every one would cost
 * a watched program half its speed (two clock reads are as dear as a
 * yield), one in 32 costs about 3 %, and the histogram's shape is the
 * same for any handler that runs often enough to matter. */
#define TIMING_EVERY 32

POE_EXPORT int poe_inspector_start(poe_kernel *k, const poe_inspector_options *opts, poe_inspector **ret)
{
        poe_inspector_options o;
        poe_inspector *in;
        bool loopback = false;
        char path[256];
        int err;

        if (!k || !ret)
                return -EINVAL;
        memset(&o, 0, sizeof(o));
        if (opts)
                o = *opts;
        if (!o.address)
                o.address = "127.0.0.1:8080";
        if (!o.ring_size)
                o.ring_size = 65536;
        if (!o.answer_timeout_ms)
                o.answer_timeout_ms = 1000;
        if (!o.trace_groups)
                o.trace_groups = POE_INSPECTOR_DEFAULT_GROUPS;
        if (o.answer_timeout_ms < 0 || (o.trace_groups & ~POE_TRACE_ALL))
                return -EINVAL;
        if (!o.trace_db_max)
                o.trace_db_max = POE__TRACE_DB_MAX_DEFAULT;
        if (o.trace_db_max < POE__TRACE_DB_MAX_MIN || o.trace_db_max > POE__TRACE_DB_MAX_MAX ||
            o.trace_db_max_age > POE__TRACE_DB_AGE_MAX)
                return -EINVAL;
        in = calloc(1, sizeof(*in));
        if (!in)
                return -ENOMEM;
        in->k = k;
        snprintf(in->loop_name, sizeof(in->loop_name), "%s", poe_kernel_loop_name(k));
        atomic_init(&in->refs, 1);
        in->opts = o;
        in->sink_id = -1;
        in->started = poe_kernel_time(k);
        /* The lints' thresholds; the kernel records the slow dispatches. */
        poe__lint_cfg_default(&in->lint_cfg);
        if (poe__lint_cfg_parse(&in->lint_cfg, getenv("POE_INSPECTOR_LINTS")) < 0)
                fprintf(stderr, "poe-inspector: POE_INSPECTOR_LINTS=%s: expected "
                                "name=seconds,... (idle, slow, grow, postback; past=count); "
                                "using the defaults for the rest\n",
                        getenv("POE_INSPECTOR_LINTS"));
        poe_kernel_set_slow_dispatch(k, in->lint_cfg.slow);
        err = poe__inspector_parse_address(o.address, &in->addr, &in->addr_len, &loopback);
        if (err == 0 && !loopback && !o.allow_remote)
                err = -EPERM;
        if (err == 0 && o.token && !(in->token = strdup(o.token)))
                err = -ENOMEM;
        if (err == 0 && o.web_root && !(in->web_root = strdup(o.web_root)))
                err = -ENOMEM;
        if (err < 0) {
                poe_inspector_stop(in);
                return err;
        }
        in->opts.token = in->token;
        in->opts.web_root = in->web_root;

        /* The trace log is optional: without it the inspector still runs
         * and the kernel summary says why.  A database that cannot be
         * opened yet (a directory still to be made, a file in the way)
         * does not stop it either: the log retries it, and meanwhile
         * counts what it drops. */
        if (!o.trace_db) {
                snprintf(path, sizeof(path), "poe-trace-%d.db", (int)getpid());
                o.trace_db = path;
        }
        if (*o.trace_db) {
                in->trace_path = strdup(o.trace_db);
                err = in->trace_path
                              ? poe__tracelog_open_retrying(in->trace_path, o.ring_size, k,
                                                            &in->log, in->log_error,
                                                            sizeof(in->log_error))
                              : -ENOMEM;
                if (err < 0 && !in->log_error[0])
                        snprintf(in->log_error, sizeof(in->log_error), "%s", strerror(-err));
                /* Before the sink: the bounds hold from the first batch. */
                if (err == 0)
                        poe__tracelog_set_bounds(in->log, o.trace_db_max, o.trace_db_max_age);
                if (err == 0) {
                        in->sink_id = poe_kernel_trace_sink_add_slots(k, poe__tracelog_sink,
                                                                      poe__tracelog_slot, in->log);
                        if (in->sink_id < 0 ||
                            poe_kernel_trace_sink_groups(k, in->sink_id, o.trace_groups) < 0)
                                snprintf(in->log_error, sizeof(in->log_error),
                                         "cannot register the trace sink: %s",
                                         strerror(in->sink_id < 0 ? -in->sink_id : EINVAL));
                }
        }
        /* The live push reads the log: with OTEL_EXPORTER_OTLP_ENDPOINT
         * and no log, it says why there is none. */
        err = poe__otlp_push_start(in->log, &in->push, in->push_error, sizeof(in->push_error));
        if (err < 0) {
                fprintf(stderr, "poe-inspector: not sending spans: %s\n", in->push_error);
                err = 0;
        }
        err = poe__http_start(in);
        if (err < 0) {
                poe_inspector_stop(in);
                return err;
        }
        /* /metrics' duration histogram: two clock reads for one dispatch
         * in TIMING_EVERY while an inspector watches. */
        poe_kernel_set_dispatch_timing(k, TIMING_EVERY);
        if (in->log && in->log_error[0])
                fprintf(stderr, "poe-inspector: %s (trace log %s)\n", in->url, in->log_error);
        else
                fprintf(stderr, "poe-inspector: %s (trace log %s)\n", in->url,
                        in->log ? in->trace_path : in->log_error[0] ? in->log_error : "off");
        *ret = in;
        return 0;
}

/* Digits, then one of the units (or none); the product, without
 * overflow, into *ret.  0 or -EINVAL. */
static int parse_scaled(const char *s, const char *units, const uint64_t *scale, uint64_t *ret)
{
        const char *u;
        uint64_t v = 0;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++) {
                if (v > (UINT64_MAX - 9) / 10)
                        return -EINVAL;
                v = v * 10 + (uint64_t)(*s - '0');
        }
        if (*s) {
                u = strchr(units, *s);
                if (!u || s[1] || v > UINT64_MAX / scale[u - units])
                        return -EINVAL;
                v *= scale[u - units];
        }
        *ret = v;
        return 0;
}

int poe__inspector_parse_size(const char *s, uint64_t *ret)
{
        static const uint64_t scale[] = { 1ull << 10, 1ull << 10, 1ull << 20, 1ull << 20,
                                          1ull << 30, 1ull << 30, 1ull << 40, 1ull << 40 };
        uint64_t v;

        if (parse_scaled(s, "kKmMgGtT", scale, &v) < 0 || v < POE__TRACE_DB_MAX_MIN ||
            v > POE__TRACE_DB_MAX_MAX)
                return -EINVAL;
        *ret = v;
        return 0;
}

int poe__inspector_parse_age(const char *s, uint64_t *ret)
{
        static const uint64_t scale[] = { 1, 60, 3600, 86400 };
        uint64_t v;

        if (parse_scaled(s, "smhd", scale, &v) < 0 || v > POE__TRACE_DB_AGE_MAX)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* A bound from the environment into *ret (left alone when the variable
 * is unset or empty); a value it cannot use is said on stderr. */
static int env_bound(const char *name, int (*parse)(const char *, uint64_t *), const char *want,
                     uint64_t *ret)
{
        const char *v = getenv(name);
        char echo[68];
        size_t i;

        if (!v || !*v)
                return 0;
        if (parse(v, ret) == 0)
                return 0;
        /* Quoted as printable ASCII, and short: it may be anything. */
        for (i = 0; v[i] && i < sizeof(echo) - 4; i++)
                echo[i] = v[i] >= 0x20 && v[i] < 0x7f ? v[i] : '?';
        snprintf(echo + i, sizeof(echo) - i, "%s", v[i] ? "..." : "");
        fprintf(stderr, "poe-inspector: %s=%s: expected %s\n", name, echo, want);
        return -EINVAL;
}

/*
 * The token in the file at path into *ret (malloc'd): its first line,
 * without the line end and surrounding blanks, as systemd's LoadCredential=
 * or a container secret leaves it.  -errno when it cannot be read,
 * -EINVAL when it is empty or longer than 4 KiB; said on stderr.
 */
static int token_from_file(const char *path, char **ret)
{
        char buf[4098];
        size_t n, start = 0;
        FILE *f = fopen(path, "re");

        if (!f) {
                int err = errno;

                fprintf(stderr, "poe-inspector: POE_INSPECTOR_TOKEN_FILE=%s: %s\n", path,
                        strerror(err));
                return -err;
        }
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        n = strlen(buf);
        while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
                n--;
        buf[n] = '\0';
        while (buf[start] == ' ' || buf[start] == '\t')
                start++;
        if (!buf[start] || n > 4096) {
                fprintf(stderr, "poe-inspector: POE_INSPECTOR_TOKEN_FILE=%s: %s\n", path,
                        buf[start] ? "longer than 4 KiB" : "no token in it");
                explicit_bzero(buf, sizeof(buf));
                return -EINVAL;
        }
        *ret = strdup(buf + start);
        explicit_bzero(buf, sizeof(buf));
        return *ret ? 0 : -ENOMEM;
}

POE_EXPORT int poe_inspector_start_from_env(poe_kernel *k, poe_inspector **ret)
{
        poe_inspector_options o;
        const char *addr = getenv("POE_INSPECTOR");
        const char *remote = getenv("POE_INSPECTOR_REMOTE");
        const char *groups, *token_file = getenv("POE_INSPECTOR_TOKEN_FILE");
        char *token = NULL;
        int r;
        uint64_t max = 0, age = 0;

        if (!ret)
                return -EINVAL;
        *ret = NULL;
        if (!addr || !*addr)
                return 0;
        if (env_bound("POE_TRACE_DB_MAX", poe__inspector_parse_size,
                      "a size in bytes from 1M to 1024T, digits with an optional K, M, G or "
                      "T (such as 256M)",
                      &max) < 0 ||
            env_bound("POE_TRACE_DB_MAX_AGE", poe__inspector_parse_age,
                      "seconds, digits with an optional s, m, h or d (such as 7d), at most "
                      "100 years; 0 for no age limit",
                      &age) < 0)
                return -EINVAL;
        memset(&o, 0, sizeof(o));
        o.address = addr;
        o.token = getenv("POE_INSPECTOR_TOKEN");
        o.trace_db = getenv("POE_TRACE_DB");
        groups = getenv("POE_TRACE_DB_GROUPS");
        if (groups && *groups) {
                r = poe_inspector_parse_groups(groups, &o.trace_groups);
                if (r < 0)
                        return r;
        }
        if (token_file && *token_file) {
                r = token_from_file(token_file, &token);
                if (r < 0)
                        return r;
                o.token = token;
        }
        o.allow_remote = remote && strcmp(remote, "0") != 0 && *remote;
        o.trace_db_max = max;
        o.trace_db_max_age = (unsigned)age;
        r = poe_inspector_start(k, &o, ret);
        if (token) {
                explicit_bzero(token, strlen(token));
                free(token);
        }
        return r;
}

POE_EXPORT int poe_inspector_parse_groups(const char *list, unsigned *ret)
{
        unsigned groups = 0, g;
        char name[64];
        const char *p, *end;
        size_t len;

        if (!list || !ret)
                return -EINVAL;
        for (p = list; *p; p = *end ? end + 1 : end) {
                end = p + strcspn(p, ",");
                while (p < end && (*p == ' ' || *p == '\t'))
                        p++;
                len = (size_t)(end - p);
                while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
                        len--;
                if (!len)
                        continue;
                if (len >= sizeof(name) - 6)
                        return -EINVAL;
                memcpy(name, p, len);
                name[len] = '\0';
                if (strcasecmp(name, "default") == 0) {
                        groups |= POE_INSPECTOR_DEFAULT_GROUPS;
                        continue;
                }
                if (strcasecmp(name, "all") == 0) {
                        groups |= POE_TRACE_ALL;
                        continue;
                }
                g = poe_debug_group_parse(name);
                if (!g) {
                        /* "events" for TRACE_EVENTS, as the page shows them. */
                        snprintf(name, sizeof(name), "TRACE_%.*s", (int)len, p);
                        g = poe_debug_group_parse(name);
                }
                if (!g || (g & ~POE_TRACE_ALL))
                        return -EINVAL;
                groups |= g;
        }
        if (!groups)
                return -EINVAL;
        *ret = groups;
        return 0;
}

POE_EXPORT unsigned poe_inspector_recorded_groups(const poe_inspector *in)
{
        if (!in || !in->log || in->sink_id <= 0)
                return 0;
        /* The kernel hands a sink its own groups and every group switched
         * on for the text lines; only what is compiled in exists. */
        return (in->opts.trace_groups | poe_kernel_debug_get(in->k)) & POE_TRACE_ALL &
               poe_debug_compiled();
}

POE_EXPORT int poe_inspector_port(const poe_inspector *in)
{
        return in ? in->port : -EINVAL;
}

POE_EXPORT const char *poe_inspector_url(const poe_inspector *in)
{
        return in ? in->url : NULL;
}

POE_EXPORT const char *poe_inspector_trace_db(const poe_inspector *in)
{
        return in && in->log ? in->trace_path : NULL;
}

/* The inspector's memory goes with its last reference: jobs still in
 * the kernel's queue hold one each (http.c). */
void poe__inspector_unref(poe_inspector *in)
{
        if (atomic_fetch_sub(&in->refs, 1) != 1)
                return;
        if (in->lock_ready)
                pthread_mutex_destroy(&in->lock);
        if (in->pool_cv_ready)
                pthread_cond_destroy(&in->pool_cv);
        if (in->clock_cv_ready)
                pthread_cond_destroy(&in->clock_cv);
        poe__lints_free(in->lints);
        free(in->trace_path);
        free(in->token);
        free(in->web_root);
        free(in);
}

/* The log's last word, once its writer has stopped: what the kernel
 * produced, what reached the file, what was dropped, and what of the
 * written the bounds removed since, so that a run's accounting can be
 * checked against the file (bench/soak does). */
static void log_totals(poe_inspector *in)
{
        json_t *st = poe__tracelog_status(in->log), *e;

        if (!st)
                return;
        e = json_object_get(st, "error");
        fprintf(stderr,
                "poe-inspector: trace log %s: %lld records produced, %lld written, %lld "
                "dropped, %lld removed%s%s\n",
                json_string_value(json_object_get(st, "path")),
                (long long)json_integer_value(json_object_get(st, "records_produced")),
                (long long)json_integer_value(json_object_get(st, "records_written")),
                (long long)json_integer_value(json_object_get(st, "dropped_total")),
                (long long)json_integer_value(json_object_get(st, "removed_total")),
                json_is_string(e) ? "; " : "", json_is_string(e) ? json_string_value(e) : "");
        json_decref(st);
}

POE_EXPORT poe_inspector *poe_inspector_stop(poe_inspector *in)
{
        if (!in)
                return NULL;
        poe__http_stop(in);
        if (in->port)
                poe_kernel_set_dispatch_timing(in->k, 0);
        if (in->sink_id > 0)
                poe_kernel_trace_sink_remove(in->k, in->sink_id);
        if (in->log) {
                poe__tracelog_stop(in->log);
                /* After the writer: the push's last look finds every
                 * record. */
                poe__otlp_push_stop(in->push);
                in->push = NULL;
                log_totals(in);
                poe__tracelog_close(in->log);
        }
        in->log = NULL;
        poe__inspector_unref(in);
        return NULL;
}

/* ["TRACE_EVENTS", ...] for a set of groups. */
json_t *poe__inspector_groups_json(unsigned mask)
{
        json_t *arr = json_array();
        const char *name;
        unsigned bit;

        for (bit = 0; arr && bit < 32; bit++) {
                name = (mask & (1u << bit)) ? poe_debug_group_name(1u << bit) : NULL;
                if (name && json_array_append_new(arr, json_string(name)) != 0) {
                        json_decref(arr);
                        return NULL;
                }
        }
        return arr;
}

/* The live push's status; {"error": why} when it was asked for and did
 * not start; null when it was not asked for. */
static json_t *push_status(poe_inspector *in)
{
        if (in->push)
                return poe__otlp_push_status(in->push);
        if (in->push_error[0])
                return json_pack("{s:s}", "error", in->push_error);
        return json_null();
}

json_t *poe__inspector_summary_extra(poe_inspector *in)
{
        json_t *log = in->log ? poe__tracelog_status(in->log)
                              : json_pack("{s:n, s:s}", "path", "error",
                                          in->log_error[0] ? in->log_error : "no trace log");

        /* What the log records now (its own groups and whatever the text
         * lines show), and what it was asked to record. */
        if (log && in->log &&
            (json_object_set_new(log, "groups",
                                 poe__inspector_groups_json(poe_inspector_recorded_groups(in))) ||
             json_object_set_new(log, "groups_asked",
                                 poe__inspector_groups_json(in->opts.trace_groups)))) {
                json_decref(log);
                return NULL;
        }

        return json_pack("{s:s, s:b, s:o*, s:o*, s:f, s:b, s:i}", "url", in->url, "read_only",
                         !in->token, "trace_log", log, "otlp_push", push_status(in),
                         "inspector_started", in->started, "responding", 1, "answer_timeout_ms",
                         in->opts.answer_timeout_ms);
}

/*
 * "POE_INSPECTOR=HOST:PORT in the environment of any program that links
 * it": when this library is loaded, a constructor adds a kernel hook
 * (poe_kernel_hook_add), so every kernel made with POE_INSPECTOR set starts
 * an inspector, and poe_kernel_free stops it; libpoe knows nothing of it.
 * A failure to start is reported on stderr and the program goes on
 * without an inspector.  poe_inspector_autostart and _autostop are what
 * libpoe called before the hook, exported still for the ABI (abi/).
 */
POE_EXPORT void *poe_inspector_autostart(poe_kernel *k);
POE_EXPORT void poe_inspector_autostop(void *in);

POE_EXPORT void *poe_inspector_autostart(poe_kernel *k)
{
        poe_inspector *in = NULL;
        int r = poe_inspector_start_from_env(k, &in);

        if (r < 0)
                fprintf(stderr, "poe-inspector: POE_INSPECTOR=%s%s%s: %s; running without an "
                                "inspector\n", getenv("POE_INSPECTOR"),
                        getenv("POE_TRACE_DB_GROUPS") ? ", POE_TRACE_DB_GROUPS=" : "",
                        getenv("POE_TRACE_DB_GROUPS") ? getenv("POE_TRACE_DB_GROUPS") : "",
                        strerror(-r));
        return in;
}

POE_EXPORT void poe_inspector_autostop(void *in)
{
        poe_inspector_stop(in);
}

static void *autostart_hook(poe_kernel *k, void *data)
{
        (void)data;
        return getenv("POE_INSPECTOR") ? poe_inspector_autostart(k) : NULL;
}

static void autostop_hook(poe_kernel *k, void *in, void *data)
{
        (void)k;
        (void)data;
        poe_inspector_autostop(in);
}

/* Loaded: hook in.  It cannot fail but with 8 hooks registered already,
 * and then no inspector starts by itself, which is said on stderr. */
__attribute__((constructor)) static void autostart_register(void)
{
        int r = poe_kernel_hook_add(autostart_hook, autostop_hook, NULL);

        if (r < 0 && r != -EEXIST)
                fprintf(stderr, "poe-inspector: no kernel hook (%s): POE_INSPECTOR will start "
                                "no inspector\n", strerror(-r));
}

/* Unloaded (dlclose): kernels made from now on no longer run the hook. */
__attribute__((destructor)) static void autostart_unregister(void)
{
        poe_kernel_hook_remove(autostart_hook, autostop_hook, NULL);
}
