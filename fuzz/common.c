/* What the fuzz targets share: see fuzz.h. */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "inspector-internal.h"
#include "kcheck.h"

void fz_fail(const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "fuzz: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        abort();
}

/* ---- scratch directory ---- */

static char tmpdir[256];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        remove(path);
        return 0;
}

static void rm_tmpdir(void)
{
        if (tmpdir[0])
                nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Everything below the directory, not the directory itself. */
static int rm_below(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        if (ftw->level > 0)
                remove(path);
        return 0;
}

void fz_tmpdir_clean(void)
{
        nftw(fz_tmpdir(), rm_below, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fz_tmpdir(void)
{
        const char *base = getenv("TMPDIR");

        if (tmpdir[0])
                return tmpdir;
        snprintf(tmpdir, sizeof(tmpdir), "%s/poe-fuzz-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir))
                fz_fail("mkdtemp %s: %s", tmpdir, strerror(errno));
        atexit(rm_tmpdir);
        return tmpdir;
}

/* ---- the population ---- */

/* Event names an export must quote or escape: CSV's comma and quote,
 * JSON's control characters, a name that is not UTF-8. */
static const char *const odd_events[] = {
        "evt,\"quoted\"\nline", "tab\there", "\xff\xfe not utf-8", "caf\xc3\xa9",
};

static poe_value quit(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        const char *names[8];
        int i, n = poe_kernel_alias_list(k, poe_ctx_session(c), names, 8);
        char copy[8][64];

        /* The list borrows the kernel's strings; removing frees them. */
        for (i = 0; i < n && i < 8; i++)
                snprintf(copy[i], sizeof(copy[i]), "%s", names[i]);
        for (i = 0; i < n && i < 8; i++)
                poe_kernel_alias_remove(k, copy[i]);
        poe_kernel_alarm_remove_all(k, NULL, NULL);
        return poe_nil();
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value boom(poe_ctx *c)
{
        poe_die(c, "boom: a handler died on purpose (%d)", 42);
}

static poe_value handled(poe_ctx *c)
{
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value leaf_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_set(k, "leaf");
        poe_kernel_alias_set(k, "\xc3\xbcnic\xc3\xb6" "de alias");
        return poe_nil();
}

static poe_value mid_start(poe_ctx *c)
{
        static const poe_handler h[] = {
                { "_start", leaf_start, NULL }, { "quit", quit, NULL },
                { "ping", nop, NULL },          { "_default", nop, NULL },
        };
        poe_session_spec spec = { .handlers = h, .n_handlers = 4 };
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_set(k, "middle");
        poe_session_create(k, &spec, NULL);
        return poe_nil();
}

static poe_value on_read(poe_ctx *c)
{
        fz_world *w = poe_ctx_heap(c);
        char buf[64];

        if (read(w->pipefd[0], buf, sizeof(buf)) <= 0)
                poe_kernel_select_read(poe_ctx_kernel(c), w->pipefd[0], NULL, POE_NOARGS);
        return poe_nil();
}

/* The last tick lets go of everything, so the kernel runs dry. */
static poe_value tick(poe_ctx *c)
{
        fz_world *w = poe_ctx_heap(c);
        poe_kernel *k = poe_ctx_kernel(c);
        size_t i;

        if (--w->ticks > 0) {
                poe_kernel_yield(k, odd_events[w->ticks % 4], POE_ARGS(poe_int(w->ticks)));
                poe_kernel_delay(k, "tick", 0.001, POE_NOARGS);
                if (w->ticks % 5 == 0 && write(w->pipefd[1], "x", 1) < 0)
                        return poe_nil();
                return poe_nil();
        }
        for (i = 0; i < 4; i++)
                poe_kernel_post_alias(k, "worker", odd_events[i], POE_NOARGS);
        poe_kernel_post_alias(k, "leaf", "quit", POE_NOARGS);
        poe_kernel_post_alias(k, "middle", "quit", POE_NOARGS);
        poe_kernel_post_alias(k, "worker", "quit", POE_NOARGS);
        poe_kernel_select_read(k, w->pipefd[0], NULL, POE_NOARGS);
        poe_kernel_refcount_decrement(k, poe_ctx_session(c), "held-by-fuzz");
        poe_kernel_sig(k, "TERM", NULL, POE_NOARGS);
        poe_kernel_sig(k, "USR1", NULL, POE_NOARGS);
        poe_kernel_sig(k, "DIE", NULL, POE_NOARGS);
        return quit(c);
}

static poe_value worker_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_set(k, "worker");
        poe_kernel_yield(k, "boom", POE_NOARGS);
        poe_kernel_delay(k, "ping", 3600, POE_ARGS(poe_str("an hour away")));
        return poe_nil();
}

static poe_value root_start(poe_ctx *c)
{
        static const poe_handler mid[] = { { "_start", mid_start, NULL },
                                           { "quit", quit, NULL },
                                           { "_default", nop, NULL } };
        static const poe_handler worker[] = {
                { "_start", worker_start, NULL }, { "quit", quit, NULL },
                { "boom", boom, NULL },           { "ping", nop, NULL },
                { "_default", nop, NULL },
        };
        poe_session_spec ms = { .handlers = mid, .n_handlers = 3 };
        poe_session_spec ws = { .handlers = worker, .n_handlers = 5 };
        fz_world *w = poe_ctx_heap(c);
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_alias_set(k, "root");
        poe_kernel_alias_set(k, "service");
        poe_session_create(k, &ms, NULL);
        poe_session_create(k, &ws, NULL);
        poe_kernel_sig(k, "TERM", "handled", POE_NOARGS);
        poe_kernel_sig(k, "USR1", "handled", POE_NOARGS);
        poe_kernel_sig(k, "DIE", "handled", POE_NOARGS);
        poe_kernel_delay(k, "tick", w->ticks > 0 ? 0.001 : 3600, POE_NOARGS);
        poe_kernel_delay(k, "ping", 7200, POE_ARGS(poe_int(1), poe_str("two"), poe_double(3.5)));
        poe_kernel_select_read(k, w->pipefd[0], "on_read", POE_NOARGS);
        poe_kernel_refcount_increment(k, poe_ctx_session(c), "held-by-fuzz");
        poe_kernel_yield(k, "ping", POE_ARGS(poe_str("x")));
        return poe_nil();
}

int fz_world_build(fz_world *w, poe_kernel *k, int ticks)
{
        static const poe_handler h[] = {
                { "_start", root_start, NULL }, { "tick", tick, NULL },
                { "on_read", on_read, NULL },   { "handled", handled, NULL },
                { "quit", quit, NULL },         { "ping", nop, NULL },
                { "_default", nop, NULL },
        };
        poe_session_spec spec = { .handlers = h, .n_handlers = 7, .heap = w };
        size_t before = fz_session_count(k);
        int r;

        memset(w, 0, sizeof(*w));
        w->k = k;
        w->ticks = ticks;
        if (pipe(w->pipefd) < 0)
                return -errno;
        r = poe_session_create(k, &spec, &w->root);
        if (r < 0) {
                fz_world_close(w);
                return r;
        }
        w->sessions = fz_session_count(k) - before;
        return 0;
}

void fz_world_close(fz_world *w)
{
        if (w->pipefd[0] > 0)
                close(w->pipefd[0]);
        if (w->pipefd[1] > 0)
                close(w->pipefd[1]);
        w->pipefd[0] = w->pipefd[1] = -1;
}

size_t fz_session_count(poe_kernel *k)
{
        poe_kernel_info ki;

        if (poe_peek_kernel(k, &ki) < 0)
                return 0;
        return ki.sessions;
}

void fz_check_kernel(poe_kernel *k)
{
        char why[512];

        if (tl_kernel_consistent(k, why, sizeof(why)) < 0)
                fz_fail("kernel inconsistent: %s", why);
}

/* ---- a trace log written by the library ---- */

int fz_write_trace_log(const char *path, int ticks)
{
        poe__tracelog *log = NULL;
        poe_kernel *k;
        fz_world w;
        char err[512];
        int r, sink, n = 0;

        r = poe_kernel_new(&k, NULL);
        if (r < 0)
                return r;
        r = poe__tracelog_open(path, 4096, k, &log, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "fuzz: %s\n", err);
                poe_kernel_free(k);
                return r;
        }
        sink = poe_kernel_trace_sink_add_slots(k, poe__tracelog_sink, poe__tracelog_slot, log);
        if (sink > 0)
                poe_kernel_trace_sink_groups(k, sink, POE_TRACE_ALL & poe_debug_compiled());
        r = fz_world_build(&w, k, ticks);
        while (r == 0 && (r = poe_kernel_run_one_timeslice(k)) == 1 && ++n < 100000)
                ;
        if (sink > 0)
                poe_kernel_trace_sink_remove(k, sink);
        poe__tracelog_close(log);
        fz_world_close(&w);
        poe_kernel_free(k);
        return r < 0 ? r : 0;
}

/* ---- the input ---- */

uint8_t fz_byte(fz_in *in)
{
        uint8_t b;

        if (!in->n)
                return 0;
        b = *in->p++;
        in->n--;
        return b;
}

size_t fz_field(fz_in *in, char *buf, size_t max)
{
        size_t n = fz_byte(in);

        if (n > max)
                n = max;
        if (n > in->n)
                n = in->n;
        memcpy(buf, in->p, n);
        buf[n] = '\0';
        in->p += n;
        in->n -= n;
        return n;
}

const char *fz_str(fz_in *in, char *buf, size_t max)
{
        size_t n = fz_field(in, buf, max), i, j = 0;

        for (i = 0; i < n; i++)
                if (buf[i])
                        buf[j++] = buf[i];
        buf[j] = '\0';
        return buf;
}
