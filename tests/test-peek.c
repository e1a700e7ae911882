/*
 * Peek: the read-only view of a kernel (POE::API::Peek's spirit).  The
 * kernel's counters, the session tree in its documented order, one
 * session's fields, its reasons to live item by item with the object
 * behind each, the queue in dispatch order (checked against the order
 * the events then dispatch in), timers, I/O watchers and signal
 * watchers; early stops, stale ids and allocation failures.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#include "internal.h"

#define T0 1000.0

static bool near(double a, double b)
{
        return fabs(a - b) < 1e-6;
}

#define ASSERT_NEAR(a, b)                                                              \
        do {                                                                           \
                if (!near((a), (b)))                                                   \
                        fail_msg("%s:%d: %s is %.9f, expected %.9f", __FILE__, __LINE__, \
                                 #a, (double)(a), (double)(b));                        \
        } while (0)

/* ---- handlers ---- */

/* Takes the alias named by the heap (a string), which keeps it alive. */
static poe_value h_alias_from_heap(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), poe_ctx_heap(c)), 0);
        return poe_nil();
}

/* Drops every alias the session has, so it can end. */
static poe_value h_drop_aliases(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        const char *names[8];
        int i, n = poe_kernel_alias_list(k, poe_ctx_session(c), names, 8);
        char copy[8][32];

        assert_true(n >= 0 && n <= 8);
        for (i = 0; i < n; i++)
                snprintf(copy[i], sizeof(copy[i]), "%s", names[i]);
        for (i = 0; i < n; i++)
                TL_EQ(poe_kernel_alias_remove(k, copy[i]), 0);
        return poe_nil();
}

static poe_sid create_with_heap(poe_kernel *k, poe_handler_fn start, const char *heap)
{
        poe_handler h[] = { { "_start", start }, { "bye", h_drop_aliases } };
        poe_session_spec spec = tl_spec(h, 2, (void *)heap);

        return tl_create_spec(k, &spec);
}

/* ================================================================== */
/* The kernel                                                          */
/* ================================================================== */

static poe_kernel_info seen;
static char seen_event[64];

static poe_value h_look(poe_ctx *c)
{
        TL_EQ(poe_peek_kernel(poe_ctx_kernel(c), &seen), 0);
        snprintf(seen_event, sizeof(seen_event), "%s",
                 seen.active_event ? seen.active_event : "(null)");
        tl_log_ctx(c);
        return poe_nil();
}

static poe_value h_alias_look(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "look"), 0);
        return poe_nil();
}

static void t_kernel_info(void **state)
{
        poe_kernel_info info;
        poe_sid a;
        uint64_t before;

        (void)state;
        TL_EQ(poe_peek_kernel(tl.k, &info), 0);
        assert_string_equal(info.id, poe_kernel_id(tl.k));
        TL_EQ(info.pid, getpid());
        assert_string_equal(info.loop, poe_kernel_loop_name(tl.k));
        assert_true(strcmp(info.loop, "epoll") == 0 || strcmp(info.loop, "poll") == 0 ||
                    strcmp(info.loop, "select") == 0 || strcmp(info.loop, "glib") == 0 ||
                    strcmp(info.loop, "uv") == 0 || strcmp(info.loop, "ev") == 0);
        TL_EQ(info.sessions, 0);
        TL_EQ(info.queue_length, 0);
        TL_EQ(info.timers, 0);
        TL_EQ(info.fds_watched, 0);
        TL_EQ(info.signal_watchers, 0);
        TL_EQ(info.pid_watchers, 0);
        TL_EQ(info.postbacks, 0);
        TL_EQ(info.events_dispatched, 0);
        TL_EQ(info.debug_compiled, poe_debug_compiled());
        TL_EQ(info.debug_enabled, 0);
        TL_EQ(info.active_session, POE_KERNEL);
        assert_null(info.active_event);
        TL_EQ(info.dispatching, 0);
        assert_true(info.started > 1e9 && info.now >= info.started);

        TL_EQ(poe_kernel_debug_set(tl.k, POE_ASSERT_EVENTS | POE_ASSERT_DATA, 1), 0);
        a = TL_CREATE(tl.k, { "_start", h_alias_look }, { "look", h_look },
                      { "bye", h_drop_aliases });
        TL_EQ(poe_peek_kernel(tl.k, &info), 0);
        TL_EQ(info.debug_enabled, POE_ASSERT_EVENTS | POE_ASSERT_DATA);
        TL_EQ(info.sessions, 1);
        TL_EQ(info.running, 1);
        TL_EQ(info.queue_length, poe_kernel_get_event_count(tl.k));
        /* _start ran. */
        TL_EQ(info.events_dispatched, 1);
        before = info.events_dispatched;

        /* Inside a handler: the session and event dispatched. */
        poe_kernel_post(tl.k, a, "look", POE_NOARGS);
        poe_kernel_post(tl.k, a, "look", POE_NOARGS);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EXPECT("1 look", "1 look");
        TL_EQ(seen.active_session, a);
        assert_string_equal(seen_event, "look");
        TL_EQ(seen.dispatching, 1);
        TL_EQ(seen.sessions, 1);
        /* Outside again. */
        TL_EQ(poe_peek_kernel(tl.k, &info), 0);
        TL_EQ(info.active_session, POE_KERNEL);
        assert_null(info.active_event);
        TL_EQ(info.dispatching, 0);
        TL_EQ(info.events_dispatched, before + 2);
        /* A call counts too. */
        TL_EQ(poe_kernel_call(tl.k, a, "look", POE_NOARGS, NULL), 0);
        TL_EXPECT("1 look");
        TL_EQ(seen.active_session, a);
        TL_EQ(poe_peek_kernel(tl.k, &info), 0);
        TL_EQ(info.events_dispatched, before + 3);

        poe_kernel_post(tl.k, a, "bye", POE_NOARGS);
        TL_EQ(poe_kernel_run(tl.k), 0);
        TL_EQ(poe_peek_kernel(tl.k, &info), 0);
        TL_EQ(info.sessions, 0);
        TL_EQ(info.running, 0);
        TL_EQ(poe_peek_kernel(tl.k, NULL), -EINVAL);
        TL_EQ(poe_peek_kernel(NULL, &info), -EINVAL);
        assert_true(info.uptime >= 0 && info.uptime < 3600);

        /* Uptime counts on the monotonic (here the fake) clock. */
        TL_EQ(poe_kernel_clock_fake(tl.k, 2000000000.0), 0);
        TL_EQ(poe_peek_kernel(tl.k, &info), 0);
        assert_true(info.uptime == 0.0);
        TL_EQ(poe_kernel_clock_advance(tl.k, 5.5), 0);
        TL_EQ(poe_peek_kernel(tl.k, &info), 0);
        assert_true(info.uptime == 5.5);
        assert_true(info.now - info.started == 5.5);
}

/* ================================================================== */
/* The tree                                                            */
/* ================================================================== */

static poe_value st_a1(poe_ctx *c);

/* A: two children, A1 (which has A1a) then A2. */
static poe_value st_a(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_alias_set(k, "A"), 0);
        create_with_heap(k, st_a1, "A1");
        create_with_heap(k, h_alias_from_heap, "A2");
        return poe_nil();
}

static poe_value st_a1(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_alias_set(k, "A1"), 0);
        create_with_heap(k, h_alias_from_heap, "A1a");
        return poe_nil();
}

static poe_value st_b(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_alias_set(k, "B"), 0);
        create_with_heap(k, h_alias_from_heap, "B1");
        return poe_nil();
}

typedef struct walk {
        int calls, stop_at, stop_with;
        char order[256];
        poe_session_info last;
} walk;

static int on_session(void *ctx, const poe_session_info *s)
{
        walk *w = ctx;
        size_t n = strlen(w->order);

        w->calls++;
        snprintf(w->order + n, sizeof(w->order) - n, "%s%s<%llu", n ? " " : "",
                 s->first_alias ? s->first_alias : "?", (unsigned long long)s->parent);
        w->last = *s;
        return w->calls == w->stop_at ? w->stop_with : 0;
}

static void t_sessions_order(void **state)
{
        walk w;
        poe_sid a, b;

        (void)state;
        memset(&w, 0, sizeof(w));
        TL_EQ(poe_peek_sessions(tl.k, on_session, &w), 0);
        TL_EQ(w.calls, 0);

        a = create_with_heap(tl.k, st_a, "unused");
        b = create_with_heap(tl.k, st_b, "unused");
        TL_EQ(a, 1);
        TL_EQ(b, 5);
        /* Ids: A 1, A1 2, A1a 3, A2 4, B 5, B1 6.  Depth first, each
         * parent before its children, children in creation order; each
         * entry is alias<parent. */
        TL_EQ(poe_peek_sessions(tl.k, on_session, &w), 0);
        TL_EQ(w.calls, 6);
        assert_string_equal(w.order, "A<0 A1<1 A1a<2 A2<1 B<0 B1<5");

        /* A callback's non-zero value stops the walk and is returned. */
        memset(&w, 0, sizeof(w));
        w.stop_at = 3;
        w.stop_with = 7;
        TL_EQ(poe_peek_sessions(tl.k, on_session, &w), 7);
        TL_EQ(w.calls, 3);
        assert_string_equal(w.order, "A<0 A1<1 A1a<2");
        memset(&w, 0, sizeof(w));
        w.stop_at = 1;
        w.stop_with = -5;
        TL_EQ(poe_peek_sessions(tl.k, on_session, &w), -5);
        TL_EQ(w.calls, 1);

        /* A2 leaves: the order closes up. */
        poe_kernel_post(tl.k, 4, "bye", POE_NOARGS);
        TL_RUN_UNTIL(tl.k, poe_kernel_ID_id_to_session(tl.k, 4) == -ESRCH, 5);
        memset(&w, 0, sizeof(w));
        TL_EQ(poe_peek_sessions(tl.k, on_session, &w), 0);
        assert_string_equal(w.order, "A<0 A1<1 A1a<2 B<0 B1<5");
        TL_EQ(poe_peek_sessions(tl.k, NULL, NULL), -EINVAL);
}

/* ================================================================== */
/* One session, and its reasons to live                                */
/* ================================================================== */

/* What the hub's handlers need. */
static struct {
        poe_sid other;   /* a session the hub posts to */
        poe_sid child;   /* the hub's child */
        poe_alarm_id timer;
        int io[2];       /* watched: io[0] in read and write */
        int release[2];  /* the forked child waits on release[0] */
        pid_t pid;
} H;

static poe_value h_hub_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid self = poe_ctx_session(c);

        /* Aliases out of order: first_alias is the first sorted. */
        TL_EQ(poe_kernel_alias_set(k, "zeta"), 0);
        TL_EQ(poe_kernel_alias_set(k, "alpha"), 0);
        TL_EQ(poe_kernel_refcount_increment(k, self, "tag"), 1);
        TL_EQ(poe_kernel_refcount_increment(k, self, "tag"), 2);
        TL_EQ(poe_kernel_delay_set(k, "tick", 10, POE_NOARGS, &H.timer), 0);
        TL_EQ(poe_kernel_select_read(k, H.io[0], "rd", POE_NOARGS), 0);
        TL_EQ(poe_kernel_select_write(k, H.io[0], "wr", POE_NOARGS), 0);
        H.child = create_with_heap(k, h_alias_from_heap, "kid");
        TL_EQ(poe_kernel_sig_child(k, H.pid, "chld", POE_NOARGS), 0);
        TL_EQ(poe_kernel_sig(k, "MYSIG", "got", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value h_hub_setup(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_post(k, H.other, "hello", POE_NOARGS), 0);
        TL_EQ(poe_kernel_select_pause_write(k, H.io[0]), 1);
        return poe_nil();
}

static const poe_handler hub_handlers[] = {
        { "_start", h_hub_start }, { "setup", h_hub_setup }, { "later", tl_h_log },
        { "tick", tl_h_log },      { "rd", tl_h_log },       { "wr", tl_h_log },
        { "chld", tl_h_log },      { "got", tl_h_log },      { "pb", tl_h_log },
};
#define N_HUB (sizeof(hub_handlers) / sizeof(hub_handlers[0]))

static poe_postback *pb1, *pb2;

/* Builds the hub: a session holding one of each kind of reason (two
 * aliases and two postbacks), with nothing else queued. */
static poe_sid make_hub(void)
{
        poe_session_spec spec = tl_spec(hub_handlers, N_HUB, NULL);
        poe_sid hub;
        char c;

        memset(&H, 0, sizeof(H));
        TL_EQ(poe_kernel_clock_fake(tl.k, T0), 0);
        TL_EQ(pipe(H.io), 0);
        TL_EQ(pipe(H.release), 0);
        fflush(NULL);
        H.pid = fork();
        assert_true(H.pid >= 0);
        if (H.pid == 0) {
                /* Blocks until the test closes its end. */
                close(H.release[1]);
                while (read(H.release[0], &c, 1) < 0 && errno == EINTR)
                        ;
                _exit(0);
        }
        close(H.release[0]);
        H.other = create_with_heap(tl.k, h_alias_from_heap, "other");
        hub = tl_create_spec(tl.k, &spec);
        /* Creation's GC events go first; the timer stays. */
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(poe_kernel_get_event_count(tl.k), 1);
        TL_EQ(poe_kernel_call(tl.k, hub, "setup", POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_post(tl.k, hub, "later", POE_NOARGS), 0);
        TL_EQ(poe_session_postback(tl.k, hub, "pb", POE_NOARGS, &pb1), 0);
        TL_EQ(poe_session_postback(tl.k, hub, "pb", POE_NOARGS, &pb2), 0);
        TL_EXPECT_NONE();
        return hub;
}

/* Lets the forked child go, reaps it, and frees everything. */
static void unmake_hub(void)
{
        int status;

        close(H.release[1]);
        TL_EQ(waitpid(H.pid, &status, 0), H.pid);
        pb1 = poe_postback_free(pb1);
        pb2 = poe_postback_free(pb2);
        tl_kernel_free_checked();
        close(H.io[0]);
        close(H.io[1]);
}

static void t_session_info(void **state)
{
        poe_session_info s;
        uint32_t sum = 0;
        poe_sid hub;
        int i;

        (void)state;
        hub = make_hub();
        TL_EQ(poe_peek_session(tl.k, hub, &s), 0);
        TL_EQ(s.id, hub);
        TL_EQ(s.parent, POE_KERNEL);
        TL_EQ(s.reasons[POE_REASON_EVENTS_TO], 1);   /* later */
        TL_EQ(s.reasons[POE_REASON_EVENTS_FROM], 1); /* hello */
        TL_EQ(s.reasons[POE_REASON_CHILDREN], 1);
        TL_EQ(s.reasons[POE_REASON_ALIASES], 2);
        TL_EQ(s.reasons[POE_REASON_EXTREFS], 1);     /* one tag, count 2 */
        TL_EQ(s.reasons[POE_REASON_TIMERS], 1);
        TL_EQ(s.reasons[POE_REASON_HANDLES], 1);     /* one fd, two modes */
        TL_EQ(s.reasons[POE_REASON_SIGCHILD], 1);
        TL_EQ(s.reasons[POE_REASON_POSTBACKS], 2);
        for (i = 0; i < POE_REASON_MAX; i++)
                sum += s.reasons[i];
        TL_EQ(s.refcount, sum);
        TL_EQ(s.refcount, tl_refcnt(tl.k, hub));
        TL_EQ(s.n_children, 1);
        TL_EQ(s.n_aliases, 2);
        assert_non_null(s.first_alias);
        assert_string_equal(s.first_alias, "alpha");
        TL_EQ(s.n_handlers, N_HUB);
        ASSERT_NEAR(s.created, T0);
        TL_EQ(s.events_dispatched, 2); /* _start and setup */
        TL_EQ(s.stopping, 0);
        TL_EQ(s.marked_for_gc, 0);

        /* The child's view of its parent; the other's, of the post. */
        TL_EQ(poe_peek_session(tl.k, H.child, &s), 0);
        TL_EQ(s.parent, hub);
        assert_string_equal(s.first_alias, "kid");
        TL_EQ(s.n_handlers, 2);
        TL_EQ(poe_peek_session(tl.k, H.other, &s), 0);
        TL_EQ(s.reasons[POE_REASON_EVENTS_TO], 1);
        TL_EQ(s.reasons[POE_REASON_EVENTS_FROM], 0);

        unmake_hub();
}

typedef struct item_log {
        int n, stop_at, stop_with;
        poe_peek_item items[32];
        char names[32][32];
} item_log;

static int on_item(void *ctx, const poe_peek_item *it)
{
        item_log *l = ctx;

        if (l->n < 32) {
                l->items[l->n] = *it;
                snprintf(l->names[l->n], sizeof(l->names[0]), "%s", it->name ? it->name : "");
                l->items[l->n].name = it->name ? l->names[l->n] : NULL;
        }
        l->n++;
        return l->n == l->stop_at ? l->stop_with : 0;
}

/* The items of one kind, in order. */
static int items_of(const item_log *l, int reason, const poe_peek_item **ret, int max)
{
        int i, n = 0;

        for (i = 0; i < l->n && i < 32; i++)
                if (l->items[i].reason == reason && n < max)
                        ret[n++] = &l->items[i];
        return n;
}

typedef struct ev_log {
        int n, stop_at, stop_with;
        poe_peek_event evs[32];
        char names[32][32];
        char types[32][16];
        char files[32][128];
} ev_log;

static int on_event(void *ctx, const poe_peek_event *ev)
{
        ev_log *l = ctx;

        if (l->n < 32) {
                l->evs[l->n] = *ev;
                snprintf(l->names[l->n], sizeof(l->names[0]), "%s", ev->event ? ev->event : "");
                snprintf(l->types[l->n], sizeof(l->types[0]), "%s", ev->type ? ev->type : "");
                snprintf(l->files[l->n], sizeof(l->files[0]), "%s", ev->file ? ev->file : "");
                l->evs[l->n].event = l->names[l->n];
                l->evs[l->n].type = l->types[l->n];
                l->evs[l->n].file = l->files[l->n];
        }
        l->n++;
        return l->n == l->stop_at ? l->stop_with : 0;
}

static const poe_peek_event *find_event(const ev_log *l, const char *name)
{
        int i;

        for (i = 0; i < l->n && i < 32; i++)
                if (strcmp(l->names[i], name) == 0)
                        return &l->evs[i];
        return NULL;
}

static void t_reasons_items(void **state)
{
        const poe_peek_item *v[8];
        poe_session_info s;
        item_log l;
        ev_log q;
        const poe_peek_event *later, *hello;
        poe_sid hub;
        int i;

        (void)state;
        hub = make_hub();
        TL_EQ(poe_peek_session(tl.k, hub, &s), 0);
        memset(&l, 0, sizeof(l));
        TL_EQ(poe_peek_reasons(tl.k, hub, on_item, &l), 0);
        memset(&q, 0, sizeof(q));
        TL_EQ(poe_peek_queue(tl.k, on_event, &q), 0);
        later = find_event(&q, "later");
        hello = find_event(&q, "hello");
        assert_non_null(later);
        assert_non_null(hello);

        /* As many items of each kind as the count says; postbacks are one
         * item carrying the count. */
        for (i = 0; i < POE_REASON_MAX; i++) {
                int n = items_of(&l, i, v, 8);

                if (i == POE_REASON_POSTBACKS)
                        TL_EQ(n, 1);
                else if ((uint32_t)n != s.reasons[i])
                        fail_msg("%d items of %s, reasons[] says %u", n, poe_reason_name(i),
                                 s.reasons[i]);
        }
        for (i = 0; i < l.n; i++)
                assert_string_equal(l.items[i].reason_name, poe_reason_name(l.items[i].reason));

        /* A post to it: the event's name and id, its sender, when due. */
        TL_EQ(items_of(&l, POE_REASON_EVENTS_TO, v, 8), 1);
        assert_string_equal(v[0]->name, "later");
        TL_EQ(v[0]->id, later->id);
        TL_EQ(v[0]->other, POE_KERNEL);
        ASSERT_NEAR(v[0]->when, T0);
        /* A post from it: named, with its receiver. */
        TL_EQ(items_of(&l, POE_REASON_EVENTS_FROM, v, 8), 1);
        assert_string_equal(v[0]->name, "hello");
        TL_EQ(v[0]->id, hello->id);
        TL_EQ(v[0]->other, H.other);
        /* The timer: its id and due time. */
        TL_EQ(items_of(&l, POE_REASON_TIMERS, v, 8), 1);
        TL_EQ(v[0]->id, H.timer);
        assert_string_equal(v[0]->name, "tick");
        ASSERT_NEAR(v[0]->when, T0 + 10);
        /* The fd, once, with both modes' bits. */
        TL_EQ(items_of(&l, POE_REASON_HANDLES, v, 8), 1);
        TL_EQ(v[0]->id, H.io[0]);
        TL_EQ(v[0]->count, 1 | 2);
        assert_string_equal(v[0]->name, "rd");
        /* The child. */
        TL_EQ(items_of(&l, POE_REASON_CHILDREN, v, 8), 1);
        TL_EQ(v[0]->id, H.child);
        /* The aliases, sorted. */
        TL_EQ(items_of(&l, POE_REASON_ALIASES, v, 8), 2);
        assert_string_equal(v[0]->name, "alpha");
        assert_string_equal(v[1]->name, "zeta");
        /* The tag with its count. */
        TL_EQ(items_of(&l, POE_REASON_EXTREFS, v, 8), 1);
        assert_string_equal(v[0]->name, "tag");
        TL_EQ(v[0]->count, 2);
        /* The awaited pid and its event. */
        TL_EQ(items_of(&l, POE_REASON_SIGCHILD, v, 8), 1);
        TL_EQ(v[0]->id, H.pid);
        assert_string_equal(v[0]->name, "chld");
        /* The postbacks. */
        TL_EQ(items_of(&l, POE_REASON_POSTBACKS, v, 8), 1);
        TL_EQ(v[0]->count, 2);

        /* A weakened postback no longer counts. */
        poe_postback_weaken(pb2);
        memset(&l, 0, sizeof(l));
        TL_EQ(poe_peek_reasons(tl.k, hub, on_item, &l), 0);
        TL_EQ(items_of(&l, POE_REASON_POSTBACKS, v, 8), 1);
        TL_EQ(v[0]->count, 1);

        /* The other session sees the same post as an event to it. */
        memset(&l, 0, sizeof(l));
        TL_EQ(poe_peek_reasons(tl.k, H.other, on_item, &l), 0);
        TL_EQ(items_of(&l, POE_REASON_EVENTS_TO, v, 8), 1);
        assert_string_equal(v[0]->name, "hello");
        TL_EQ(v[0]->other, hub);

        /* Early stop, at every position. */
        memset(&l, 0, sizeof(l));
        TL_EQ(poe_peek_reasons(tl.k, hub, on_item, &l), 0);
        {
                int total = l.n, at;

                for (at = 1; at <= total; at++) {
                        memset(&l, 0, sizeof(l));
                        l.stop_at = at;
                        l.stop_with = 100 + at;
                        TL_EQ(poe_peek_reasons(tl.k, hub, on_item, &l), 100 + at);
                        TL_EQ(l.n, at);
                }
        }
        unmake_hub();
}

/* ================================================================== */
/* The queue and the timers                                            */
/* ================================================================== */

static poe_value h_fill(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_alarm_id id;

        TL_EQ(poe_kernel_delay_set(k, "t2", 2, POE_NOARGS, &id), 0);
        TL_EQ(poe_kernel_delay_set(k, "t1", 1, POE_ARGS(poe_int(1), poe_int(2)), &id), 0);
        TL_EQ(poe_kernel_yield(k, "p1", POE_ARGS(poe_str("x"))), 0);
        /* Due now, like the posts: (due, id) orders it between them. */
        TL_EQ(poe_kernel_alarm_set(k, "t0", poe_kernel_time(k), POE_NOARGS, &id), 0);
        TL_EQ(poe_kernel_yield(k, "p2", POE_NOARGS), 0);
        TL_EQ(poe_kernel_delay_set(k, "t1b", 1, POE_NOARGS, &id), 0);
        return poe_nil();
}

static poe_value h_name(poe_ctx *c)
{
        tl_log("%s", poe_ctx_state(c));
        return poe_nil();
}

static void t_queue_order(void **state)
{
        poe_handler h[] = { { "_start", h_alias_from_heap }, { "fill", h_fill },
                            { "p1", h_name }, { "p2", h_name }, { "t0", h_name },
                            { "t1", h_name }, { "t1b", h_name }, { "t2", h_name } };
        poe_session_spec spec = tl_spec(h, sizeof(h) / sizeof(h[0]), (void *)"q");
        ev_log q;
        poe_sid a;
        int i;
        char want[256] = "";

        (void)state;
        TL_EQ(poe_kernel_clock_fake(tl.k, T0), 0);
        a = tl_create_spec(tl.k, &spec);
        TL_EXPECT_NONE();
        memset(&q, 0, sizeof(q));
        TL_EQ(poe_peek_queue(tl.k, on_event, &q), 0);
        TL_EQ(q.n, 1); /* creation's GC event */
        assert_string_equal(q.types[0], "gc");
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);

        TL_EQ(poe_kernel_call(tl.k, a, "fill", POE_NOARGS, NULL), 0);
        memset(&q, 0, sizeof(q));
        TL_EQ(poe_peek_queue(tl.k, on_event, &q), 0);
        TL_EQ(q.n, 6);
        TL_EQ(q.n, poe_kernel_get_event_count(tl.k));
        for (i = 0; i < q.n; i++) {
                size_t n = strlen(want);

                snprintf(want + n, sizeof(want) - n, "%s%s", i ? " " : "", q.names[i]);
                TL_EQ(q.evs[i].to, a);
                TL_EQ(q.evs[i].from, a);
                if (i)
                        assert_true(q.evs[i].due >= q.evs[i - 1].due);
                assert_true(strcmp(q.types[i], q.names[i][0] == 'p' ? "post" : "alarm") == 0);
                assert_true(strstr(q.files[i], "test-peek.c") != NULL);
                assert_true(q.evs[i].line > 0);
        }
        assert_string_equal(want, "p1 t0 p2 t1 t1b t2");
        TL_EQ(find_event(&q, "p1")->nargs, 1);
        TL_EQ(find_event(&q, "t1")->nargs, 2);
        ASSERT_NEAR(find_event(&q, "t1")->due, T0 + 1);
        ASSERT_NEAR(find_event(&q, "t2")->due, T0 + 2);

        /* And that is the order they dispatch in. */
        TL_RUN_UNTIL(tl.k, poe_kernel_get_event_count(tl.k) == 0, 10);
        TL_EXPECT("p1", "t0", "p2", "t1", "t1b", "t2");

        /* Early stop. */
        TL_EQ(poe_kernel_call(tl.k, a, "fill", POE_NOARGS, NULL), 0);
        memset(&q, 0, sizeof(q));
        q.stop_at = 2;
        q.stop_with = 9;
        TL_EQ(poe_peek_queue(tl.k, on_event, &q), 9);
        TL_EQ(q.n, 2);
        memset(&q, 0, sizeof(q));
        q.stop_at = 6;
        q.stop_with = -3;
        TL_EQ(poe_peek_queue(tl.k, on_event, &q), -3);
        TL_EQ(q.n, 6);
        TL_EQ(poe_peek_queue(tl.k, NULL, NULL), -EINVAL);
        tl_kernel_free_checked();
}

static poe_value h_three_timers(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_alarm_id *ids = poe_ctx_heap(c);

        TL_EQ(poe_kernel_delay_set(k, "five", 5, POE_NOARGS, &ids[0]), 0);
        TL_EQ(poe_kernel_delay_set(k, "one", 1, POE_NOARGS, &ids[1]), 0);
        TL_EQ(poe_kernel_delay_set(k, "three", 3, POE_NOARGS, &ids[2]), 0);
        TL_EQ(poe_kernel_yield(k, "not_a_timer", POE_NOARGS), 0);
        return poe_nil();
}

static void t_timers(void **state)
{
        poe_alarm_id ids[3];
        poe_handler h[] = { { "_start", h_three_timers } };
        poe_session_spec spec = tl_spec(h, 1, ids);
        poe_sid a;
        ev_log q;

        (void)state;
        TL_EQ(poe_kernel_clock_fake(tl.k, T0), 0);
        memset(&q, 0, sizeof(q));
        TL_EQ(poe_peek_timers(tl.k, on_event, &q), 0);
        TL_EQ(q.n, 0);
        a = tl_create_spec(tl.k, &spec);
        TL_EQ(poe_peek_timers(tl.k, on_event, &q), 0);
        TL_EQ(q.n, 3);
        assert_string_equal(q.names[0], "one");
        assert_string_equal(q.names[1], "three");
        assert_string_equal(q.names[2], "five");
        TL_EQ(q.evs[0].id, ids[1]);
        TL_EQ(q.evs[1].id, ids[2]);
        TL_EQ(q.evs[2].id, ids[0]);
        ASSERT_NEAR(q.evs[0].due, T0 + 1);
        ASSERT_NEAR(q.evs[1].due, T0 + 3);
        ASSERT_NEAR(q.evs[2].due, T0 + 5);
        assert_string_equal(q.types[0], "alarm");
        TL_EQ(q.evs[0].to, a);

        memset(&q, 0, sizeof(q));
        q.stop_at = 1;
        q.stop_with = 4;
        TL_EQ(poe_peek_timers(tl.k, on_event, &q), 4);
        TL_EQ(q.n, 1);
        TL_EQ(poe_peek_timers(tl.k, NULL, NULL), -EINVAL);
}

/* The queue and timer walks sort a copy of the timers; without memory
 * they fail cleanly, without calling back. */
static void t_walks_oom(void **state)
{
        poe_alarm_id ids[3];
        poe_handler h[] = { { "_start", h_three_timers } };
        poe_session_spec spec = tl_spec(h, 1, ids);
        ev_log q;

        (void)state;
        TL_EQ(poe_kernel_clock_fake(tl.k, T0), 0);
        tl_create_spec(tl.k, &spec);
        memset(&q, 0, sizeof(q));
        tl_alloc_fail_nth(&tl.alloc, 1, true);
        TL_EQ(poe_peek_queue(tl.k, on_event, &q), -ENOMEM);
        TL_EQ(poe_peek_timers(tl.k, on_event, &q), -ENOMEM);
        TL_EQ(q.n, 0);
        assert_true(tl.alloc.failures >= 2);
        tl_alloc_disarm(&tl.alloc);
        TL_EQ(poe_peek_queue(tl.k, on_event, &q), 0);
        TL_EQ(q.n, 5); /* three timers, a yield, the GC event */
        memset(&q, 0, sizeof(q));
        TL_EQ(poe_peek_timers(tl.k, on_event, &q), 0);
        TL_EQ(q.n, 3);
        /* The other walks allocate nothing. */
        tl_alloc_fail_nth(&tl.alloc, 1, true);
        {
                poe_kernel_info info;
                item_log l;
                walk w;

                memset(&l, 0, sizeof(l));
                memset(&w, 0, sizeof(w));
                TL_EQ(poe_peek_kernel(tl.k, &info), 0);
                TL_EQ(poe_peek_sessions(tl.k, on_session, &w), 0);
                TL_EQ(w.calls, 1);
                TL_EQ(poe_peek_reasons(tl.k, 1, on_item, &l), 0);
                assert_true(l.n >= 4);
        }
        tl_alloc_disarm(&tl.alloc);
}

/* ================================================================== */
/* Watchers and signals                                                */
/* ================================================================== */

typedef struct watch_log {
        int n, stop_at, stop_with;
        poe_peek_watcher w[8];
        char events[8][16];
} watch_log;

static int on_watcher(void *ctx, const poe_peek_watcher *w)
{
        watch_log *l = ctx;

        if (l->n < 8) {
                l->w[l->n] = *w;
                snprintf(l->events[l->n], sizeof(l->events[0]), "%s", w->event);
        }
        l->n++;
        return l->n == l->stop_at ? l->stop_with : 0;
}

typedef struct sig_log {
        int n, stop_at, stop_with;
        poe_peek_signal s[8];
        char sigs[8][16], events[8][16];
} sig_log;

static int on_signal(void *ctx, const poe_peek_signal *s)
{
        sig_log *l = ctx;

        if (l->n < 8) {
                l->s[l->n] = *s;
                snprintf(l->sigs[l->n], sizeof(l->sigs[0]), "%s", s->signal);
                snprintf(l->events[l->n], sizeof(l->events[0]), "%s", s->event);
        }
        l->n++;
        return l->n == l->stop_at ? l->stop_with : 0;
}

static void t_watchers_and_signals(void **state)
{
        poe_kernel_info info;
        watch_log w;
        sig_log s;
        poe_sid hub;

        (void)state;
        hub = make_hub();
        memset(&w, 0, sizeof(w));
        TL_EQ(poe_peek_watchers(tl.k, on_watcher, &w), 0);
        TL_EQ(w.n, 2);
        TL_EQ(w.w[0].fd, H.io[0]);
        TL_EQ(w.w[0].mode, 0);
        TL_EQ(w.w[0].session, hub);
        assert_string_equal(w.events[0], "rd");
        TL_EQ(w.w[0].paused, 0);
        TL_EQ(w.w[1].fd, H.io[0]);
        TL_EQ(w.w[1].mode, 1);
        assert_string_equal(w.events[1], "wr");
        TL_EQ(w.w[1].paused, 1); /* paused by setup */
        memset(&w, 0, sizeof(w));
        w.stop_at = 1;
        w.stop_with = 11;
        TL_EQ(poe_peek_watchers(tl.k, on_watcher, &w), 11);
        TL_EQ(w.n, 1);

        /* The signal watcher, then the awaited pid. */
        memset(&s, 0, sizeof(s));
        TL_EQ(poe_peek_signals(tl.k, on_signal, &s), 0);
        TL_EQ(s.n, 2);
        assert_string_equal(s.sigs[0], "MYSIG");
        assert_string_equal(s.events[0], "got");
        TL_EQ(s.s[0].session, hub);
        TL_EQ(s.s[0].pid, 0);
        assert_string_equal(s.sigs[1], "CHLD");
        assert_string_equal(s.events[1], "chld");
        TL_EQ(s.s[1].session, hub);
        TL_EQ(s.s[1].pid, H.pid);
        memset(&s, 0, sizeof(s));
        s.stop_at = 1;
        s.stop_with = 12;
        TL_EQ(poe_peek_signals(tl.k, on_signal, &s), 12);
        TL_EQ(s.n, 1);
        memset(&s, 0, sizeof(s));
        s.stop_at = 2;
        s.stop_with = 13;
        TL_EQ(poe_peek_signals(tl.k, on_signal, &s), 13);
        TL_EQ(s.n, 2);

        /* The kernel's counts of the same. */
        TL_EQ(poe_peek_kernel(tl.k, &info), 0);
        TL_EQ(info.sessions, 3);
        TL_EQ(info.queue_length, 3); /* hello, later, tick */
        TL_EQ(info.timers, 1);
        TL_EQ(info.fds_watched, 1);
        TL_EQ(info.signal_watchers, 1);
        TL_EQ(info.pid_watchers, 1);
        TL_EQ(info.postbacks, 2);
        unmake_hub();
}

/* ================================================================== */
/* Handlers, stale ids                                                 */
/* ================================================================== */

typedef struct name_log {
        int n, stop_at, stop_with;
        char names[16][32];
} name_log;

static int on_handler(void *ctx, const char *event)
{
        name_log *l = ctx;

        if (l->n < 16)
                snprintf(l->names[l->n], sizeof(l->names[0]), "%s", event);
        l->n++;
        return l->n == l->stop_at ? l->stop_with : 0;
}

static bool has_name(const name_log *l, const char *name)
{
        int i;

        for (i = 0; i < l->n && i < 16; i++)
                if (strcmp(l->names[i], name) == 0)
                        return true;
        return false;
}

static void t_handlers(void **state)
{
        name_log l;
        poe_sid a;

        (void)state;
        a = TL_CREATE(tl.k, { "_start", tl_h_nop }, { "one", tl_h_nop }, { "two", tl_h_nop });
        memset(&l, 0, sizeof(l));
        TL_EQ(poe_peek_handlers(tl.k, a, on_handler, &l), 0);
        TL_EQ(l.n, 3);
        assert_true(has_name(&l, "_start"));
        assert_true(has_name(&l, "one"));
        assert_true(has_name(&l, "two"));
        memset(&l, 0, sizeof(l));
        l.stop_at = 2;
        l.stop_with = 21;
        TL_EQ(poe_peek_handlers(tl.k, a, on_handler, &l), 21);
        TL_EQ(l.n, 2);
        TL_EQ(poe_kernel_run(tl.k), 0);
}

static int never(void *ctx, const poe_session_info *s)
{
        (void)ctx;
        (void)s;
        fail_msg("called back for a session that should not be there");
        return 0;
}

static void t_stale_ids(void **state)
{
        poe_session_info s;
        item_log l;
        name_log n;
        poe_sid a;

        (void)state;
        memset(&l, 0, sizeof(l));
        memset(&n, 0, sizeof(n));
        TL_EQ(poe_peek_session(tl.k, 1, &s), -ESRCH);
        TL_EQ(poe_peek_reasons(tl.k, 1, on_item, &l), -ESRCH);
        TL_EQ(poe_peek_handlers(tl.k, 1, on_handler, &n), -ESRCH);
        /* The kernel's own session is not a session to peek at. */
        TL_EQ(poe_peek_session(tl.k, POE_KERNEL, &s), -ESRCH);
        TL_EQ(poe_peek_reasons(tl.k, POE_KERNEL, on_item, &l), -ESRCH);
        TL_EQ(poe_peek_handlers(tl.k, POE_KERNEL, on_handler, &n), -ESRCH);
        a = TL_CREATE(tl.k, { "_start", tl_h_nop });
        TL_EQ(poe_peek_session(tl.k, a, &s), 0);
        TL_EQ(poe_peek_session(tl.k, a + 1, &s), -ESRCH);
        TL_EQ(poe_kernel_run(tl.k), 0);
        /* Gone. */
        TL_EQ(poe_peek_session(tl.k, a, &s), -ESRCH);
        TL_EQ(poe_peek_reasons(tl.k, a, on_item, &l), -ESRCH);
        TL_EQ(poe_peek_handlers(tl.k, a, on_handler, &n), -ESRCH);
        TL_EQ(poe_peek_sessions(tl.k, never, NULL), 0);
        TL_EQ(l.n, 0);
        TL_EQ(n.n, 0);
        TL_EQ(poe_peek_session(tl.k, a, NULL), -EINVAL);
}

static void t_reason_names(void **state)
{
        static const char *const names[POE_REASON_MAX] = {
                "events to", "events from", "children",   "aliases",   "extra refs",
                "timers",    "handles",     "child pids", "postbacks",
        };
        int i;

        (void)state;
        for (i = 0; i < POE_REASON_MAX; i++)
                assert_string_equal(poe_reason_name(i), names[i]);
        assert_string_equal(poe_reason_name(-1), "?");
        assert_string_equal(poe_reason_name(POE_REASON_MAX), "?");
}

/* ---- busy time, last dispatch, lints' evidence, places ---- */

static double spin_for;

/* Stays alive on an alias of its own. */
static poe_value h_keep(poe_ctx *c)
{
        char name[32];

        snprintf(name, sizeof(name), "keep-%llu", (unsigned long long)poe_ctx_session(c));
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), name), 0);
        return poe_nil();
}

/* Works for spin_for seconds of the fake clock. */
static poe_value h_spin(poe_ctx *c)
{
        TL_EQ(poe_kernel_clock_advance(poe_ctx_kernel(c), spin_for), 0);
        return poe_nil();
}

/* Sets a timer 5 s in the past. */
static poe_value h_late_timer(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_alarm_set(k, "nothing", poe_kernel_time(k) - 5, POE_NOARGS, NULL), 0);
        /* A timer for now is not in the past. */
        TL_EQ(poe_kernel_alarm_set(k, "nothing", poe_kernel_time(k), POE_NOARGS, NULL), 0);
        return poe_nil();
}

static int pb_cb(void *ctx, const poe_peek_postback *pb)
{
        poe_peek_postback *out = ctx;

        *out = *pb;
        return 1;
}

static int extref_cb(void *ctx, const poe_peek_item *it)
{
        poe_peek_item *out = ctx;

        if (it->reason != POE_REASON_EXTREFS)
                return 0;
        *out = *it;
        return 1;
}

static void t_busy_and_lints(void **state)
{
        poe_session_info s;
        poe_peek_postback pb;
        poe_peek_item it;
        poe_postback *p;
        poe_sid a, b;
        int line;

        (void)state;
        TL_EQ(poe_kernel_clock_fake(tl.k, T0), 0);
        a = TL_CREATE(tl.k, { "_start", h_keep }, { "spin", h_spin },
                      { "late", h_late_timer }, { "nothing", tl_h_nop });
        b = TL_CREATE(tl.k, { "_start", h_keep }, { "spin", h_spin }, { "nothing", tl_h_nop });
        TL_EQ(poe_peek_session(tl.k, a, &s), 0);
        ASSERT_NEAR(s.busy_seconds, 0);
        ASSERT_NEAR(s.last_dispatch, T0); /* _start */
        TL_EQ(s.slow_dispatches, 0);
        assert_null(s.slowest_event);

        /* Two dispatches in one slice, each charged its own time;
         * neither is slow at the default 0.5 s. */
        TL_EQ(poe_kernel_clock_advance(tl.k, 10), 0);
        spin_for = 0.25;
        TL_EQ(poe_kernel_post(tl.k, a, "spin", POE_NOARGS), 0);
        TL_EQ(poe_kernel_post(tl.k, b, "spin", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(poe_peek_session(tl.k, a, &s), 0);
        ASSERT_NEAR(s.busy_seconds, 0.25);
        ASSERT_NEAR(s.last_dispatch, T0 + 10);
        TL_EQ(s.slow_dispatches, 0);
        TL_EQ(poe_peek_session(tl.k, b, &s), 0);
        ASSERT_NEAR(s.busy_seconds, 0.25);
        ASSERT_NEAR(s.last_dispatch, T0 + 10.25);

        /* A slow one, at a threshold of 1 s; the host's time after the
         * slice is nobody's. */
        TL_EQ(poe_kernel_set_slow_dispatch(tl.k, 0), -EINVAL);
        TL_EQ(poe_kernel_set_slow_dispatch(tl.k, 1.0), 0);
        spin_for = 2;
        TL_EQ(poe_kernel_post(tl.k, a, "spin", POE_NOARGS), 0);
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(poe_kernel_clock_advance(tl.k, 100), 0);
        TL_EQ(poe_kernel_post(tl.k, b, "spin", POE_NOARGS), 0);
        spin_for = 0;
        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
        TL_EQ(poe_peek_session(tl.k, a, &s), 0);
        ASSERT_NEAR(s.busy_seconds, 2.25);
        TL_EQ(s.slow_dispatches, 1);
        ASSERT_NEAR(s.slowest_seconds, 2);
        assert_string_equal(s.slowest_event, "spin");
        ASSERT_NEAR(s.last_slow, T0 + 10.5);
        TL_EQ(poe_peek_session(tl.k, b, &s), 0);
        ASSERT_NEAR(s.busy_seconds, 0.25);
        TL_EQ(s.slow_dispatches, 0);

        /* A call from outside any handler is charged too. */
        spin_for = 0.5;
        TL_EQ(poe_kernel_call(tl.k, b, "spin", POE_NOARGS, NULL), 0);
        TL_EQ(poe_peek_session(tl.k, b, &s), 0);
        ASSERT_NEAR(s.busy_seconds, 0.75);

        /* Timers set in the past. */
        TL_EQ(poe_kernel_call(tl.k, a, "late", POE_NOARGS, NULL), 0);
        TL_EQ(poe_kernel_clock_advance(tl.k, 1), 0);
        TL_EQ(poe_kernel_call(tl.k, a, "late", POE_NOARGS, NULL), 0);
        TL_EQ(poe_peek_session(tl.k, a, &s), 0);
        TL_EQ(s.timers_past, 2);
        ASSERT_NEAR(s.timers_past_first, T0 + 113);
        ASSERT_NEAR(s.timers_past_last, T0 + 114);

        /* Where an extra reference was last raised, and a postback made. */
        line = __LINE__ + 1;
        TL_EQ(poe_kernel_refcount_increment(tl.k, b, "held"), 1);
        memset(&it, 0, sizeof(it));
        TL_EQ(poe_peek_reasons(tl.k, b, extref_cb, &it), 1);
        assert_string_equal(it.name, "held");
        assert_non_null(it.file);
        assert_non_null(strstr(it.file, "test-peek.c"));
        TL_EQ(it.line, line);
        TL_EQ((poe_kernel_refcount_increment)(tl.k, b, "held"), 2);
        TL_EQ(poe_peek_reasons(tl.k, b, extref_cb, &it), 1);
        assert_string_equal(it.file, "");
        TL_EQ(it.line, 0);

        TL_EQ(poe_peek_postbacks(tl.k, b, pb_cb, &pb), 0); /* none */
        line = __LINE__ + 1;
        TL_EQ(poe_session_postback(tl.k, b, "nothing", POE_NOARGS, &p), 0);
        memset(&pb, 0, sizeof(pb));
        TL_EQ(poe_peek_postbacks(tl.k, POE_KERNEL, pb_cb, &pb), 1);
        TL_EQ(pb.session, b);
        assert_string_equal(pb.event, "nothing");
        assert_non_null(strstr(pb.file, "test-peek.c"));
        TL_EQ(pb.line, line);
        ASSERT_NEAR(pb.created, T0 + 114);
        TL_EQ(pb.invocations, 0);
        TL_EQ(pb.callback, 0);
        TL_EQ(pb.weak, 0);
        TL_EQ(poe_postback_invoke(p, POE_NOARGS, NULL), 0);
        TL_EQ(poe_peek_postbacks(tl.k, b, pb_cb, &pb), 1);
        TL_EQ(pb.invocations, 1);
        TL_EQ(poe_peek_postbacks(tl.k, a, pb_cb, &pb), 0);
        TL_EQ(poe_peek_postbacks(tl.k, 999, pb_cb, &pb), -ESRCH);
        TL_EQ(poe_peek_postbacks(tl.k, b, NULL, &pb), -EINVAL);
        p = poe_postback_free(p);
        TL_EQ(poe_peek_postbacks(tl.k, POE_KERNEL, pb_cb, &pb), 0);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, b, "held"), 1);
        TL_EQ(poe_kernel_refcount_decrement(tl.k, b, "held"), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                TL_TEST(t_kernel_info),
                TL_TEST(t_sessions_order),
                TL_TEST(t_session_info),
                TL_TEST(t_reasons_items),
                TL_TEST(t_queue_order),
                TL_TEST(t_timers),
                TL_TEST(t_walks_oom),
                TL_TEST(t_watchers_and_signals),
                TL_TEST(t_handlers),
                TL_TEST(t_stale_ids),
                TL_TEST(t_reason_names),
                TL_TEST(t_busy_and_lints),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
