/*
 * bench-floor WORKLOAD N: the floor of bench/run (issue 18), the cheapest
 * honest C shape of POE's string-keyed API, so each libpoe rate has a
 * ratio to what the API itself costs:
 *
 *   events    an array ring of 32-byte events (target session, interned
 *             nothing: the name is a string pointer, one argument, the
 *             sender);
 *   dispatch  pop, find the target in the session map, then an FNV-1a
 *             open-addressing lookup of the event's name in the target
 *             session's handler table (string compare on a hash hit);
 *   timers    a binary heap of (due, id) plus an id-to-index array, so a
 *             remove by id is O(log n);
 *   sessions  an integer map (open addressing) from id to session; an
 *             alias is a name in a kernel-wide FNV-1a table.
 *
 * None of POE's bookkeeping (reference counts, parent/child links, the
 * die path, garbage collection) is there beyond what a workload needs to
 * do the same visible work: session_churn still sends _start, _child
 * create, _stop and _child lose, signal_fanout still looks up each
 * watcher's handler.  The workloads and their operations are those of
 * bench/workloads.c; io_pipe has no mapping (a floor for it is the raw
 * loops of bench/raw.c), so it exits 3.  Prints
 *
 *   workload=W impl=floor n=N seconds=S rate=R
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long n, done;
static double t0, t1;

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The same generator and seed as workloads.c. */
static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static void *xmalloc(size_t size)
{
        void *p = malloc(size);

        if (!p)
                abort();
        return p;
}

static void *xcalloc(size_t count, size_t size)
{
        void *p = calloc(count, size);

        if (!p)
                abort();
        return p;
}

static uint64_t fnv1a(const char *s)
{
        uint64_t h = 14695981039346656037ULL;

        while (*s) {
                h ^= (unsigned char)*s++;
                h *= 1099511628211ULL;
        }
        return h;
}

/* ---- events and sessions ---------------------------------------------- */

struct session;
struct event;
typedef int64_t (*handler_fn)(struct session *s, const struct event *e);

struct event { /* 32 bytes */
        uint64_t target;
        const char *name;
        int64_t arg;
        uint64_t sender;
};

struct handler_slot {
        const char *name; /* NULL: empty */
        handler_fn fn;
};

struct session {
        uint64_t id;
        uint64_t parent;
        void *heap;
        size_t mask; /* handler table: mask + 1 slots, a power of two */
        struct handler_slot *slots;
};

struct handler {
        const char *name;
        handler_fn fn;
};

/* The ring. */
static struct event *ring;
static size_t ring_cap = 64, ring_head, ring_len;

static void post(uint64_t target, const char *name, int64_t arg, uint64_t sender)
{
        struct event *e;

        if (ring_len == ring_cap) {
                struct event *r = xmalloc(2 * ring_cap * sizeof(*r));
                size_t i;

                for (i = 0; i < ring_len; i++)
                        r[i] = ring[(ring_head + i) & (ring_cap - 1)];
                free(ring);
                ring = r;
                ring_cap *= 2;
                ring_head = 0;
        }
        e = &ring[(ring_head + ring_len++) & (ring_cap - 1)];
        e->target = target;
        e->name = name;
        e->arg = arg;
        e->sender = sender;
}

/* Sessions in an integer map: open addressing on the id, tombstones as
 * id 0 with a non-NULL marker. */
struct smap_slot {
        uint64_t id; /* 0: empty */
        struct session *s;
};
static struct smap_slot *smap;
static size_t smap_mask = 63, smap_used, smap_live;
static uint64_t next_sid = 1;
static struct session tombstone;

static size_t id_hash(uint64_t id)
{
        return (size_t)(id * 0x9E3779B97F4A7C15ULL >> 20);
}

static void smap_put(struct session *s);

static void smap_grow(void)
{
        struct smap_slot *old = smap;
        size_t i, old_mask = smap_mask;

        if (smap_live * 2 >= smap_mask)
                smap_mask = smap_mask * 2 + 1;
        smap = xcalloc(smap_mask + 1, sizeof(*smap));
        smap_used = smap_live = 0;
        for (i = 0; i <= old_mask; i++)
                if (old[i].id)
                        smap_put(old[i].s);
        free(old);
}

static void smap_put(struct session *s)
{
        size_t i;

        if ((smap_used + 1) * 4 >= (smap_mask + 1) * 3)
                smap_grow();
        for (i = id_hash(s->id) & smap_mask; smap[i].id; i = (i + 1) & smap_mask)
                ;
        if (!smap[i].s)
                smap_used++;
        smap[i].id = s->id;
        smap[i].s = s;
        smap_live++;
}

static struct session *smap_get(uint64_t id)
{
        size_t i;

        for (i = id_hash(id) & smap_mask; smap[i].id || smap[i].s; i = (i + 1) & smap_mask)
                if (smap[i].id == id)
                        return smap[i].s;
        return NULL;
}

static void smap_del(uint64_t id)
{
        size_t i;

        for (i = id_hash(id) & smap_mask; smap[i].id || smap[i].s; i = (i + 1) & smap_mask)
                if (smap[i].id == id) {
                        smap[i].id = 0;
                        smap[i].s = &tombstone;
                        smap_live--;
                        return;
                }
}

static handler_fn lookup(const struct session *s, const char *name)
{
        size_t i;

        for (i = fnv1a(name) & s->mask; s->slots[i].name; i = (i + 1) & s->mask)
                if (strcmp(s->slots[i].name, name) == 0)
                        return s->slots[i].fn;
        return NULL;
}

static int64_t deliver(uint64_t target, const char *name, int64_t arg, uint64_t sender)
{
        struct event e = {target, name, arg, sender};
        struct session *s = smap_get(target);
        handler_fn fn = s ? lookup(s, name) : NULL;

        return fn ? fn(s, &e) : 0;
}

static struct session *session_new(const struct handler *h, size_t nh, void *heap, uint64_t parent)
{
        struct session *s = xmalloc(sizeof(*s));
        size_t cap = 4, i, j;

        while (cap < 2 * nh)
                cap *= 2;
        s->id = next_sid++;
        s->parent = parent;
        s->heap = heap;
        s->mask = cap - 1;
        s->slots = xcalloc(cap, sizeof(*s->slots));
        for (i = 0; i < nh; i++) {
                for (j = fnv1a(h[i].name) & s->mask; s->slots[j].name; j = (j + 1) & s->mask)
                        ;
                s->slots[j].name = h[i].name;
                s->slots[j].fn = h[i].fn;
        }
        smap_put(s);
        return s;
}

/* _start, then the parent's _child create, both synchronous as in POE. */
static struct session *spawn(const struct handler *h, size_t nh, void *heap, uint64_t parent)
{
        struct session *s = session_new(h, nh, heap, parent);

        deliver(s->id, "_start", 0, parent);
        if (parent)
                deliver(parent, "_child", 1, s->id);
        return s;
}

/* _stop, the parent's _child lose, and the session is gone. */
static void session_stop(struct session *s)
{
        uint64_t id = s->id, parent = s->parent;

        deliver(id, "_stop", 0, 0);
        if (parent)
                deliver(parent, "_child", 2, id);
        smap_del(id);
        free(s->slots);
        free(s);
}

/* ---- timers: a binary heap with an id-to-index array --------------------- */

struct timer {
        double due;
        uint64_t id;
};
static struct timer *heap;
static size_t heap_len, heap_cap;
static size_t *index_of;       /* by id; SIZE_MAX: not pending */
static struct event *timer_ev; /* by id: the event it posts */
static size_t ids_cap;
static uint64_t next_tid;

static void heap_set(size_t i, struct timer t)
{
        heap[i] = t;
        index_of[t.id] = i;
}

static void sift_up(size_t i, struct timer t)
{
        while (i > 0 && heap[(i - 1) / 2].due > t.due) {
                heap_set(i, heap[(i - 1) / 2]);
                i = (i - 1) / 2;
        }
        heap_set(i, t);
}

static void sift_down(size_t i, struct timer t)
{
        for (;;) {
                size_t c = 2 * i + 1;

                if (c >= heap_len)
                        break;
                if (c + 1 < heap_len && heap[c + 1].due < heap[c].due)
                        c++;
                if (heap[c].due >= t.due)
                        break;
                heap_set(i, heap[c]);
                i = c;
        }
        heap_set(i, t);
}

static uint64_t timer_set(double delay, uint64_t target, const char *name)
{
        uint64_t id = next_tid++;
        struct timer t = {now() + delay, id};

        if (id >= ids_cap) {
                ids_cap = ids_cap ? 2 * ids_cap : 1024;
                index_of = realloc(index_of, ids_cap * sizeof(*index_of));
                timer_ev = realloc(timer_ev, ids_cap * sizeof(*timer_ev));
                if (!index_of || !timer_ev)
                        abort();
        }
        if (heap_len == heap_cap) {
                heap_cap = heap_cap ? 2 * heap_cap : 1024;
                heap = realloc(heap, heap_cap * sizeof(*heap));
                if (!heap)
                        abort();
        }
        timer_ev[id] = (struct event){target, name, 0, target};
        sift_up(heap_len++, t);
        return id;
}

static void heap_remove_at(size_t i)
{
        struct timer last = heap[--heap_len];

        index_of[heap[i].id] = SIZE_MAX;
        if (i == heap_len)
                return;
        if (i > 0 && heap[(i - 1) / 2].due > last.due)
                sift_up(i, last);
        else
                sift_down(i, last);
}

static int timer_remove(uint64_t id)
{
        if (id >= next_tid || index_of[id] == SIZE_MAX)
                return -1;
        heap_remove_at(index_of[id]);
        return 0;
}

/* ---- the loop ----------------------------------------------------------- */

static int stopped;

static void run(void)
{
        while (!stopped) {
                if (ring_len) {
                        struct event e = ring[ring_head];

                        ring_head = (ring_head + 1) & (ring_cap - 1);
                        ring_len--;
                        deliver(e.target, e.name, e.arg, e.sender);
                        continue;
                }
                if (!heap_len)
                        break;
                {
                        double t = now();

                        while (heap_len && heap[0].due <= t) {
                                struct event e = timer_ev[heap[0].id];

                                heap_remove_at(0);
                                post(e.target, e.name, e.arg, e.sender);
                        }
                }
        }
}

/* ---- the workloads (as in bench/workloads.c) ----------------------------- */

static int64_t nop(struct session *s, const struct event *e)
{
        (void)s;
        (void)e;
        return 0;
}

/* yield_chain */
static int64_t yc_step(struct session *s, const struct event *e)
{
        (void)e;
        if (++done < n)
                post(s->id, "step", 0, s->id);
        else
                t1 = now();
        return 0;
}

static int64_t yc_start(struct session *s, const struct event *e)
{
        (void)e;
        t0 = now();
        post(s->id, "step", 0, s->id);
        return 0;
}

static void yield_chain(void)
{
        static const struct handler h[] = {{"_start", yc_start}, {"step", yc_step}};

        spawn(h, 2, NULL, 0);
}

/* post_pingpong: the alias is looked up by name at each post. */
struct alias_slot {
        const char *name;
        uint64_t id;
};
static struct alias_slot aliases[64];

static void alias_set(const char *name, uint64_t id)
{
        size_t i;

        for (i = fnv1a(name) & 63; aliases[i].name; i = (i + 1) & 63)
                ;
        aliases[i].name = name;
        aliases[i].id = id;
}

static uint64_t alias_resolve(const char *name)
{
        size_t i;

        for (i = fnv1a(name) & 63; aliases[i].name; i = (i + 1) & 63)
                if (strcmp(aliases[i].name, name) == 0)
                        return aliases[i].id;
        return 0;
}

static int64_t pp_hit(struct session *s, const struct event *e)
{
        (void)e;
        if (++done < n)
                post(alias_resolve((const char *)s->heap), "hit", 0, s->id);
        else {
                t1 = now();
                stopped = 1;
        }
        return 0;
}

static int64_t pp_pong_start(struct session *s, const struct event *e)
{
        (void)e;
        alias_set("pong", s->id);
        return 0;
}

static int64_t pp_ping_start(struct session *s, const struct event *e)
{
        (void)e;
        alias_set("ping", s->id);
        t0 = now();
        post(alias_resolve("pong"), "hit", 0, s->id);
        return 0;
}

static void post_pingpong(void)
{
        static const struct handler pong[] = {{"_start", pp_pong_start}, {"hit", pp_hit}};
        static const struct handler ping[] = {{"_start", pp_ping_start}, {"hit", pp_hit}};

        spawn(pong, 2, (void *)"ping", 0);
        spawn(ping, 2, (void *)"pong", 0);
}

/* call_chain: a synchronous call by alias and name, its return value the
 * next argument. */
static int64_t cc_add(struct session *s, const struct event *e)
{
        (void)s;
        return e->arg + 1;
}

static int64_t cc_callee_start(struct session *s, const struct event *e)
{
        (void)e;
        alias_set("callee", s->id);
        return 0;
}

static int64_t cc_caller_start(struct session *s, const struct event *e)
{
        int64_t v = 0;
        long i;

        (void)e;
        t0 = now();
        for (i = 0; i < n; i++)
                v = deliver(alias_resolve("callee"), "add", v, s->id);
        t1 = now();
        done = v;
        return 0;
}

static void call_chain(void)
{
        static const struct handler callee[] = {{"_start", cc_callee_start}, {"add", cc_add}};
        static const struct handler caller[] = {{"_start", cc_caller_start}};

        spawn(callee, 2, NULL, 0);
        spawn(caller, 1, NULL, 0);
}

/* fanout_queue */
static int64_t fq_ev(struct session *s, const struct event *e)
{
        (void)s;
        (void)e;
        if (++done == n)
                t1 = now();
        return 0;
}

static int64_t fq_start(struct session *s, const struct event *e)
{
        long i;

        (void)e;
        t0 = now();
        for (i = 0; i < n; i++)
                post(s->id, "ev", 0, s->id);
        return 0;
}

static void fanout_queue(void)
{
        static const struct handler h[] = {{"_start", fq_start}, {"ev", fq_ev}};

        spawn(h, 2, NULL, 0);
}

/* timers_setremove */
static int64_t ts_start(struct session *s, const struct event *e)
{
        uint64_t *ids = xmalloc((size_t)n * sizeof(*ids));
        double *delay = xmalloc((size_t)n * sizeof(*delay));
        size_t *order = xmalloc((size_t)n * sizeof(*order));
        long i;

        (void)e;
        for (i = 0; i < n; i++) {
                delay[i] = 1 + (double)(next_rand() % 999000) / 1000.0;
                order[i] = (size_t)i;
        }
        for (i = n - 1; i > 0; i--) {
                size_t j = next_rand() % (size_t)(i + 1), t = order[i];

                order[i] = order[j];
                order[j] = t;
        }
        t0 = now();
        for (i = 0; i < n; i++)
                ids[i] = timer_set(delay[i], s->id, "t");
        for (i = 0; i < n; i++)
                if (timer_remove(ids[order[i]]) < 0)
                        abort();
        t1 = now();
        done = n;
        free(ids);
        free(delay);
        free(order);
        return 0;
}

static void timers_setremove(void)
{
        static const struct handler h[] = {{"_start", ts_start}};

        spawn(h, 1, NULL, 0);
}

/* timers_fire */
static int64_t tf_start(struct session *s, const struct event *e)
{
        double *delay = xmalloc((size_t)n * sizeof(*delay));
        long i;

        (void)e;
        for (i = 0; i < n; i++)
                delay[i] = (double)(next_rand() % 1000) / 1e6;
        t0 = now();
        for (i = 0; i < n; i++)
                timer_set(delay[i], s->id, "t");
        free(delay);
        return 0;
}

static void timers_fire(void)
{
        static const struct handler h[] = {{"_start", tf_start}, {"t", fq_ev}};

        spawn(h, 2, NULL, 0);
}

/* session_churn: the child has nothing to do, so it stops at once; its
 * parent's _child lose creates the next. */
static const struct handler sc_child[] = {{"_start", nop}, {"_stop", nop}};
static struct session *sc_current;

static int64_t sc_parent_child(struct session *s, const struct event *e)
{
        if (e->arg == 2) {
                if (++done < n)
                        sc_current = spawn(sc_child, 2, NULL, s->id);
                else
                        t1 = now();
        }
        return 0;
}

static int64_t sc_parent_start(struct session *s, const struct event *e)
{
        (void)e;
        t0 = now();
        sc_current = spawn(sc_child, 2, NULL, s->id);
        return 0;
}

static void session_churn(void)
{
        static const struct handler h[] = {{"_start", sc_parent_start},
                                           {"_child", sc_parent_child}};

        spawn(h, 2, NULL, 0);
        /* A kernel's garbage collection: a session with nothing to do stops. */
        while (sc_current) {
                struct session *s = sc_current;

                sc_current = NULL;
                session_stop(s);
        }
}

/* signal_fanout: one signal event, dispatched to each watcher's handler
 * by name; one op = one signal, delivered to all 1000. */
#define WATCHERS 1000

struct watch {
        uint64_t session;
        const char *event;
};
static struct watch watchers[WATCHERS];
static size_t n_watchers;
static const char *signal_name = "BENCH";
static long delivered;

static int64_t sf_got(struct session *s, const struct event *e)
{
        (void)s;
        (void)e;
        if (++delivered % WATCHERS == 0) {
                if (++done < n)
                        post(0, signal_name, 0, 0);
                else {
                        t1 = now();
                        stopped = 1;
                }
        }
        return 0;
}

static int64_t sf_watcher_start(struct session *s, const struct event *e)
{
        (void)e;
        watchers[n_watchers].session = s->id;
        watchers[n_watchers++].event = "got";
        return 0;
}

/* The kernel's session (id 0 is never a session's): a signal posted to it
 * goes to every watcher of that name. */
static void signal_dispatch(const struct event *e)
{
        size_t i;

        if (strcmp(e->name, signal_name) != 0)
                return;
        for (i = 0; i < n_watchers; i++)
                deliver(watchers[i].session, watchers[i].event, 0, 0);
}

static void signal_fanout(void)
{
        static const struct handler w[] = {{"_start", sf_watcher_start}, {"got", sf_got}};
        int i;

        for (i = 0; i < WATCHERS; i++)
                spawn(w, 2, NULL, 0);
        t0 = now();
        post(0, signal_name, 0, 0);
        while (!stopped && ring_len) {
                struct event e = ring[ring_head];

                ring_head = (ring_head + 1) & (ring_cap - 1);
                ring_len--;
                signal_dispatch(&e);
        }
}

static const struct {
        const char *name;
        void (*setup)(void);
} workloads[] = {
        {"yield_chain", yield_chain},
        {"post_pingpong", post_pingpong},
        {"call_chain", call_chain},
        {"fanout_queue", fanout_queue},
        {"timers_setremove", timers_setremove},
        {"timers_fire", timers_fire},
        {"session_churn", session_churn},
        {"signal_fanout", signal_fanout},
};

int main(int argc, char **argv)
{
        size_t i;

        if (argc != 3 || (n = atol(argv[2])) <= 0) {
                fprintf(stderr, "usage: bench-floor WORKLOAD N\n");
                return 2;
        }
        if (strcmp(argv[1], "io_pipe") == 0)
                return 3;
        for (i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
                if (strcmp(argv[1], workloads[i].name) == 0)
                        break;
        if (i == sizeof(workloads) / sizeof(workloads[0])) {
                fprintf(stderr, "bench-floor: unknown workload %s\n", argv[1]);
                return 2;
        }
        ring = xmalloc(ring_cap * sizeof(*ring));
        smap = xcalloc(smap_mask + 1, sizeof(*smap));
        workloads[i].setup();
        run();
        if (done != n) {
                fprintf(stderr, "bench-floor: %s finished %ld of %ld ops\n", argv[1], done, n);
                return 1;
        }
        printf("workload=%s impl=floor n=%ld seconds=%.6f rate=%.0f\n", argv[1], n, t1 - t0,
               n / (t1 - t0));
        return 0;
}
