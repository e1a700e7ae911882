/*
 * API misuse never crashes.  A seeded random driver calls every public
 * function of poe.h with valid, stale and garbage arguments -- dead
 * session ids, removed aliases and timers, closed fds, removed states,
 * NULL where the header lets a pointer be checked, negative and huge
 * numbers, empty strings -- in random order, from outside any handler
 * and from inside handlers (which draw their own calls from the same
 * generator).  Every call's result must be one the header documents
 * for that function (the table below); after every call the kernel's
 * books must balance (tl_check_kernel, and ASSERT_DATA is on); at the
 * end the kernel runs to completion, every pointer argument's
 * destructor has run exactly once, and nothing is left allocated.
 *
 * POE_MISUSE_SEEDS=a-b (or a single count n for 1..n) and
 * POE_MISUSE_OPS pick the seeds and the calls per seed; a failure names
 * its seed, so `POE_MISUSE_SEEDS=s-s` replays it.  The defaults are
 * smaller under valgrind.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testlib.h"

#include "misuse-api.h"

/* ---- what each function may return (its header comment) ---- */

static const struct api_entry {
        const char *name;
        unsigned ok;
} api[] = {
#define MU_ENTRY(fn, ok) { #fn, ok },
        MU_API(MU_ENTRY)
#undef MU_ENTRY
};

static unsigned long api_calls[MU_N];

/* The call being checked, for failure messages. */
static uint64_t cur_seed;
static unsigned long cur_op;

static unsigned rc_bit(int r)
{
        switch (r) {
        case 0: return R0;
        case -EINVAL: return RINVAL;
        case -ESRCH: return RSRCH;
        case -EPERM: return RPERM;
        case -ENOMEM: return RNOMEM;
        case -EEXIST: return REXIST;
        case -ENOENT: return RNOENT;
        case -EBADF: return RBADF;
        case -EBUSY: return RBUSY;
        case -ECANCELED: return RCANCELED;
        case -ENOSPC: return RNOSPC;
        case -EOPNOTSUPP: return RNOTSUP;
        default: return r > 0 ? RPOS : 0;
        }
}

static void capture_end(void);
static int saved_fd2 = -1;

/*
 * Checks one call's result against the table.  bad says the call was
 * given a parameter the header's conventions call bad (NULL kernel,
 * NULL string, negative fd...): -EINVAL is then always acceptable,
 * whatever the function's own comment lists.
 */
static void check_rc(enum mu_fn fn, int r, bool bad, int line)
{
        unsigned ok = api[fn].ok;

        api_calls[fn]++;
        if (getenv("POE_MISUSE_LOG"))
                fprintf(stderr, "misuse:   %s -> %d%s (active %llu)\n", api[fn].name, r,
                        bad ? " (bad)" : "",
                        (unsigned long long)poe_kernel_get_active_session(tl.k));
        if (ok & RVOID)
                return;
        if (bad)
                ok |= RINVAL;
        if (r < 0 && (ok & RANYNEG))
                return;
        if (rc_bit(r) & ok)
                return;
        if (getenv("POE_MISUSE_SURVEY")) {
                /* Lists every undocumented result instead of stopping. */
                dprintf(saved_fd2 >= 0 ? saved_fd2 : 2, "undocumented: %s %d (%s)%s\n",
                        api[fn].name, r, strerror(-r), bad ? " bad" : "");
                return;
        }
        capture_end();
        fail_msg("seed %llu op %lu (line %d): %s returned %d (%s), which its header comment "
                 "does not document", (unsigned long long)cur_seed, cur_op, line, api[fn].name,
                 r, r < 0 ? strerror(-r) : "positive");
}

#define RC(fn, bad, call) check_rc(MU_##fn, (call), (bad), __LINE__)
#define HIT(fn) (api_calls[MU_##fn]++)

/*
 * ASSERT_DATA stays on for the books, but under it a destination that
 * names no session is fatal (POE's _explain_resolve_failure), as is
 * decrementing a tag a session does not hold (_data_extref_dec), and
 * this test does both on purpose: those calls run with the group off.
 * No draw from the generator, so seeds replay as before.
 */
static void data_traps(poe_kernel *k, int on)
{
        if (k)
                poe_kernel_debug_set(k, POE_ASSERT_DATA, on);
}

/* ---- the generator: splitmix64 ---- */

static uint64_t rng;

static uint64_t rnd(void)
{
        uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
}

static unsigned rn(unsigned n)
{
        return (unsigned)(rnd() % n);
}

static bool chance(unsigned percent)
{
        return rn(100) < percent;
}

/* ---- the pools of things, live and dead ---- */

#define MAX_SIDS 48
#define MAX_TIDS 48
#define MAX_PBS 12
#define N_FDS 6
#define FD_BASE 700 /* above anything else this process opens, so a
                       closed pool fd stays closed */

static poe_sid sids[MAX_SIDS];
static unsigned n_sids;
static poe_alarm_id tids[MAX_TIDS];
static unsigned n_tids;
static poe_postback *pbs[MAX_PBS];
static bool fd_open[N_FDS];
static int sinks[4];
static int live_ptrs; /* pointer arguments whose destructor has not run */
static int ops_budget; /* calls handlers may still make in this batch */
static int depth;      /* handler nesting, roughly */
static char trace_path[64];

/* Each pointer argument is a token that remembers the call it was
 * given to, so one never destroyed (or destroyed twice) can be named. */
typedef struct token {
        unsigned long op;
        int destroyed;
} token;

static token **tokens;
static size_t n_tokens, cap_tokens;

static void ptr_destroy(void *p)
{
        token *t = p;

        if (t->destroyed++)
                fail_msg("seed %llu: the pointer argument of op %lu was destroyed twice",
                         (unsigned long long)cur_seed, t->op);
        live_ptrs--;
}

static poe_value new_token(void)
{
        token *t = calloc(1, sizeof(*t));

        assert_non_null(t);
        if (n_tokens == cap_tokens) {
                cap_tokens = cap_tokens ? 2 * cap_tokens : 256;
                tokens = realloc(tokens, cap_tokens * sizeof(*tokens));
                assert_non_null(tokens);
        }
        tokens[n_tokens++] = t;
        t->op = cur_op;
        live_ptrs++;
        return poe_ptr(t, ptr_destroy);
}

/* Names the tokens never destroyed, then frees them all. */
static int tokens_check(void)
{
        size_t i;
        int lost = 0;

        for (i = 0; i < n_tokens; i++) {
                if (!tokens[i]->destroyed && lost++ < 5)
                        print_error("seed %llu: the pointer argument of op %lu was never "
                                    "destroyed\n", (unsigned long long)cur_seed, tokens[i]->op);
                free(tokens[i]);
        }
        free(tokens);
        tokens = NULL;
        n_tokens = cap_tokens = 0;
        return lost;
}

static void remember_sid(poe_sid sid)
{
        if (n_sids < MAX_SIDS)
                sids[n_sids++] = sid;
        else
                sids[rn(MAX_SIDS)] = sid;
}

static void remember_tid(poe_alarm_id id)
{
        if (n_tids < MAX_TIDS)
                tids[n_tids++] = id;
        else
                tids[rn(MAX_TIDS)] = id;
}

/* A session id: one seen alive once (maybe dead now), the kernel's, or
 * one never handed out. */
static poe_sid pick_sid(void)
{
        switch (rn(10)) {
        case 0:
                return POE_KERNEL;
        case 1:
                return rn(2) ? UINT64_MAX : (poe_sid)1000000 + rn(5);
        default:
                return n_sids ? sids[rn(n_sids)] : (poe_sid)rn(4);
        }
}

static poe_alarm_id pick_tid(void)
{
        if (!n_tids || chance(15))
                return rn(2) ? 0 : UINT64_MAX - rn(3);
        return tids[rn(n_tids)];
}

static const char *const events[] = { "ev0", "ev1", "t0", "t1", "io", "sig",
                                      "nohandler", "_start", "_stop", "_child",
                                      "_default", "_parent", "", "die", "tick" };

/* An event name; NULL only when null is allowed (the bad flag is set). */
static const char *pick_event(bool *bad)
{
        if (bad && chance(4)) {
                *bad = true;
                return NULL;
        }
        return events[rn(sizeof(events) / sizeof(events[0]))];
}

static const char *const aliases[] = { "a0", "a1", "a2", "a3", "1", "2", "007",
                                       "a-very-long-alias-name-that-is-long" };

static const char *pick_alias(bool *bad, bool empty_is_bad)
{
        unsigned i = rn(12);

        if (i == 8 || i == 9) {
                *bad = true;
                return NULL;
        }
        if (i == 10) {
                if (empty_is_bad)
                        *bad = true;
                return "";
        }
        return aliases[i % 8];
}

static const char *const signals[] = { "USR1", "USR2", "HUP", "WINCH", "INT", "TERM",
                                       "KILL", "STOP", "CHLD", "DIE", "IDLE", "ZOMBIE",
                                       "UIDESTROY", "FOO", "PIPE", "ALRM" };

static const char *pick_signal(bool *bad)
{
        if (chance(5)) {
                *bad = true;
                return rn(2) ? NULL : "";
        }
        return signals[rn(sizeof(signals) / sizeof(signals[0]))];
}

static int pool_fd(unsigned i)
{
        return FD_BASE + (int)i;
}

/* An fd: from the pool (open or closed), or nonsense. */
static int pick_fd(bool *bad)
{
        switch (rn(12)) {
        case 0:
                *bad = true;
                return rn(2) ? -1 : INT32_MIN;
        case 1:
                return 1 << 20; /* never open, past FD_SETSIZE */
        default:
                return pool_fd(rn(N_FDS));
        }
}

static double pick_time(bool relative)
{
        switch (rn(10)) {
        case 0:
                return POE_NO_TIME;
        case 1:
                return rn(2) ? INFINITY : -INFINITY;
        case 2:
                return rn(2) ? 1e300 : -1e300;
        case 3:
                return -(double)rn(5);
        default:
                return (relative ? 0 : poe_kernel_time(tl.k)) + (double)rn(100) / 10.0;
        }
}

/*
 * Arguments.  with_ptrs adds pointers with destructors, for the calls
 * whose header says they steal them (post, yield, call, signal,
 * create, postbacks); other calls get plain values.  Sometimes a NULL
 * array with a count, which is a bad parameter.
 */
static poe_value listbuf[2];

/* argbuf is the caller's: a handler running inside the call must not
 * rewrite the arguments the kernel is still borrowing. */
#define pick_args(n, with_ptrs, bad) pick_args_into(argbuf, (n), (with_ptrs), (bad))

static const poe_value *pick_args_into(poe_value *argbuf, size_t *n, bool with_ptrs, bool *bad)
{
        size_t i, cnt = rn(4);

        if (chance(4)) {
                *bad = true;
                *n = 1 + rn(3);
                return NULL;
        }
        listbuf[0] = poe_strn("a\0b", 3);
        listbuf[1] = poe_int(-1);
        for (i = 0; i < cnt; i++) {
                switch (rn(7)) {
                case 0: argbuf[i] = poe_int((int64_t)rnd()); break;
                case 1: argbuf[i] = poe_str("s"); break;
                case 2: argbuf[i] = poe_list(listbuf, 2); break;
                case 3: argbuf[i] = poe_double(NAN); break;
                case 4: argbuf[i] = poe_session(pick_sid()); break;
                case 5: argbuf[i] = poe_ptr(&live_ptrs, NULL); break;
                default:
                        if (with_ptrs) {
                                argbuf[i] = new_token();
                        } else {
                                argbuf[i] = poe_nil();
                        }
                        break;
                }
        }
        *n = cnt;
        return cnt ? argbuf : (chance(50) ? NULL : argbuf);
}

/* ---- stderr: the kernel's warnings about misuse go to a file ---- */

static FILE *cap;

static void capture_begin(void)
{
        if (getenv("POE_MISUSE_NOCAPTURE"))
                return;
        fflush(stderr);
        cap = tmpfile();
        assert_non_null(cap);
        saved_fd2 = dup(2);
        assert_true(saved_fd2 >= 0);
        TL_EQ(dup2(fileno(cap), 2), 2);
}

/* Ends the capture.  The captured text is dropped, unless verbose or
 * the test failed (then its last 8 KiB, which hold cmocka's message). */
static void capture_finish(bool show)
{
        char buf[8192];
        long size;
        size_t n;

        if (saved_fd2 < 0)
                return;
        fflush(stderr);
        dup2(saved_fd2, 2);
        close(saved_fd2);
        saved_fd2 = -1;
        if (show || getenv("TL_VERBOSE")) {
                fseek(cap, 0, SEEK_END);
                size = ftell(cap);
                if (getenv("TL_VERBOSE"))
                        size = 0;
                fseek(cap, size > (long)sizeof(buf) ? size - (long)sizeof(buf) : 0, SEEK_SET);
                while ((n = fread(buf, 1, sizeof(buf), cap)) > 0)
                        fwrite(buf, 1, n, stderr);
        }
        fclose(cap);
        cap = NULL;
}

static void capture_end(void)
{
        capture_finish(false);
}

static int misuse_teardown(void **state)
{
        (void)state;
        capture_finish(true);
        tl_watchdog_stop();
        return 0;
}

/* ---- handlers ---- */

static void random_ops(poe_kernel *k, poe_ctx *c, int n);

static poe_value h_any(poe_ctx *c)
{
        int saved = depth;
        poe_kernel *k = poe_ctx_kernel(c);

        depth++;
        if (depth < 4 && ops_budget > 0)
                random_ops(k, c, (int)rn(4));
        depth = saved;
        switch (rn(4)) {
        case 0: return poe_int(rn(3));
        case 1: return poe_str("ret");
        default: return poe_nil();
        }
}

static poe_value h_io(poe_ctx *c)
{
        char buf[64];
        int fd = (int)poe_value_int(poe_ctx_arg(c, 0));

        /* The fd may have been closed and its number reused by a
         * blocking socket since the kernel made it non-blocking. */
        if (chance(50) && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0) {
                /* not readable, or a write watcher: fine */
        }
        return h_any(c);
}

static const poe_handler all_handlers[] = {
        { "_start", h_any }, { "_stop", h_any },  { "_child", h_any }, { "_parent", h_any },
        { "_default", h_any }, { "ev0", h_any }, { "ev1", h_any }, { "t0", h_any },
        { "t1", h_any },      { "io", h_io },     { "sig", h_any },  { "die", h_any },
        { "tick", tl_h_nop },
};
#define N_HANDLERS (sizeof(all_handlers) / sizeof(all_handlers[0]))

/* ---- the calls ---- */

static int walk_fn(void *ctx, const void *item)
{
        (void)item;
        return *(int *)ctx && chance(30) ? 7 : 0;
}

static int walk_sessions(void *ctx, const poe_session_info *s)
{
        return walk_fn(ctx, s);
}

static int walk_handlers(void *ctx, const char *ev)
{
        return walk_fn(ctx, ev);
}

static int walk_reasons(void *ctx, const poe_peek_item *it)
{
        return walk_fn(ctx, it);
}

static int walk_postbacks(void *ctx, const poe_peek_postback *pb)
{
        return walk_fn(ctx, pb);
}

static int walk_events(void *ctx, const poe_peek_event *ev)
{
        return walk_fn(ctx, ev);
}

static int walk_watchers(void *ctx, const poe_peek_watcher *w)
{
        return walk_fn(ctx, w);
}

static int walk_signals(void *ctx, const poe_peek_signal *w)
{
        return walk_fn(ctx, w);
}

static int sink(void *ctx, const poe_trace_record *r)
{
        (void)ctx;
        (void)r;
        return 0;
}

/* A sink's slots: one record, lent zeroed again each time, its filling
 * thrown away. */
static poe_trace_record slot_room;

static void slot_sink(void *ctx, poe_trace_record **slot)
{
        (void)ctx;
        memset(&slot_room, 0, sizeof(slot_room));
        *slot = rn(4) ? &slot_room : NULL;
}

static void describer(void *ctx, poe_sid sid, void *heap, char *buf, size_t size)
{
        (void)ctx;
        (void)heap;
        snprintf(buf, size, "heap of %llu", (unsigned long long)sid);
}

static int in_loop_runs;

static void in_loop(poe_kernel *k, void *ctx)
{
        (void)k;
        (void)ctx;
        in_loop_runs--;
}

static void remove_all_fn(void *ctx, const poe_alarm_info *a)
{
        (void)ctx;
        assert_non_null(a->event);
}

static void create_session(poe_kernel *k)
{
        poe_handler h[N_HANDLERS + 1];
        poe_option opt[2];
        poe_session_spec spec;
        poe_value argbuf[4];
        size_t n = 0, i, nargs;
        bool bad = !k;
        poe_sid sid = 0;
        int r;

        for (i = 0; i < N_HANDLERS; i++)
                if (i == 0 || chance(85))
                        h[n++] = all_handlers[i];
        if (chance(5)) {
                h[n].event = rn(2) ? NULL : "broken";
                h[n].fn = h[n].event ? NULL : h_any;
                h[n++].object = NULL;
                bad = true;
        }
        memset(&spec, 0, sizeof(spec));
        spec.handlers = h;
        spec.n_handlers = n;
        spec.args = pick_args(&nargs, true, &bad);
        spec.n_args = nargs;
        opt[0].name = rn(2) ? "default" : "trace";
        opt[0].value = rn(2) ? poe_str("on") : poe_int(0);
        opt[1].name = chance(5) ? NULL : "mine";
        opt[1].value = poe_str("x");
        if (!opt[1].name)
                bad = true;
        spec.options = opt;
        spec.n_options = rn(3);
        if (spec.n_options < 2 && !opt[1].name)
                opt[1].name = "mine";
        if (chance(2)) {
                /* No spec: its arguments were never handed over. */
                RC(poe_session_create, true, poe_session_create(k, NULL, &sid));
                for (i = 0; i < nargs && spec.args; i++)
                        if (spec.args[i].type == POE_T_PTR && spec.args[i].u.ptr.destroy)
                                spec.args[i].u.ptr.destroy(spec.args[i].u.ptr.p);
                return;
        }
        r = poe_session_create(k, &spec, chance(20) ? NULL : &sid);
        RC(poe_session_create, bad, r);
        if (r == 0 && sid)
                remember_sid(sid);
}

/* State machines: spawned with a bad spec now and then, transitions
 * aimed at any id (a plain session's is -EINVAL), to states that may not
 * exist (the machine's die when the transition is dispatched). */
static void nfa_ops(poe_kernel *k)
{
        static const poe_nfa_state good[] = { { "s0", all_handlers, N_HANDLERS },
                                              { "s1", all_handlers, N_HANDLERS } };
        static const poe_nfa_state twice[] = { { "s0", all_handlers, N_HANDLERS },
                                               { "s0", all_handlers, N_HANDLERS } };
        static const char *const states[] = { "s0", "s1", "nope" };
        const poe_value *args;
        poe_nfa_spec spec;
        const char *cur, *state, *ev, **where;
        poe_value argbuf[4];
        bool bad = !k;
        size_t nargs;
        poe_sid sid = 0;
        int r;

        switch (rn(7)) {
        case 0:
        case 1:
                memset(&spec, 0, sizeof(spec));
                spec.states = good;
                spec.n_states = rn(3);
                if (chance(5)) {
                        spec.states = rn(2) ? NULL : twice;
                        spec.n_states = 2;
                        bad = true;
                }
                r = poe_nfa_spawn(k, &spec, chance(20) ? NULL : &sid);
                RC(poe_nfa_spawn, bad, r);
                if (r == 0 && sid)
                        remember_sid(sid);
                break;
        case 2:
                state = chance(10) ? (bad = true, NULL) : states[rn(3)];
                ev = rn(2) ? pick_event(NULL) : NULL;
                args = pick_args(&nargs, true, &bad);
                RC(poe_nfa_goto_state, bad, poe_nfa_goto_state(k, pick_sid(), state, ev, args,
                                                               nargs));
                break;
        case 3:
                state = chance(10) ? (bad = true, NULL) : states[rn(3)];
                ev = rn(2) ? pick_event(NULL) : NULL;
                args = pick_args(&nargs, true, &bad);
                RC(poe_nfa_call_state, bad,
                   poe_nfa_call_state(k, pick_sid(), rn(2) ? pick_event(NULL) : NULL, state, ev,
                                      args, nargs));
                break;
        case 4:
                args = pick_args(&nargs, true, &bad);
                RC(poe_nfa_return_state, bad, poe_nfa_return_state(k, pick_sid(), args, nargs));
                break;
        case 5:
                if (chance(20))
                        RC(poe_nfa_stop, bad, poe_nfa_stop(k, pick_sid()));
                break;
        default:
                where = &cur;
                if (chance(25)) {
                        where = NULL;
                        bad = true;
                }
                RC(poe_nfa_get_current_state, bad, poe_nfa_get_current_state(k, pick_sid(), where));
                (void)poe_nfa_get_runstate(k, pick_sid());
                HIT(poe_nfa_get_runstate);
                break;
        }
}

/* Which pool fds are real: pairs (0,1), (2,3), (4,5). */
static void fd_pair_open(unsigned pair)
{
        int sv[2];

        TL_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        TL_EQ(dup2(sv[0], pool_fd(2 * pair)), pool_fd(2 * pair));
        TL_EQ(dup2(sv[1], pool_fd(2 * pair + 1)), pool_fd(2 * pair + 1));
        close(sv[0]);
        close(sv[1]);
        fd_open[2 * pair] = fd_open[2 * pair + 1] = true;
}

static void fd_ops(void)
{
        unsigned i = rn(N_FDS);

        if (fd_open[i] && chance(40)) {
                close(pool_fd(i));
                fd_open[i] = false;
        } else if (fd_open[i]) {
                if (send(pool_fd(i), "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
                        /* the peer is closed or the buffer full */
                }
        } else if (!fd_open[i & ~1u] && !fd_open[i | 1u]) {
                fd_pair_open(i / 2);
        }
}

/* One random call.  c is the running handler's context, or NULL. */
static void random_op(poe_kernel *k, poe_ctx *c)
{
        bool bad = false;
        const poe_value *args;
        size_t nargs;
        poe_value ret;
        poe_sid sid;
        poe_alarm_id id;
        double t;
        const char *ev, *s;
        int r, fd, walk = 1;
        poe_kernel *kk = chance(3) ? (bad = true, NULL) : k;
        poe_value argbuf[4];
        unsigned which = rn(60);

        cur_op++;
        if (getenv("POE_MISUSE_LOG"))
                fprintf(stderr, "misuse: op %lu case %u %s depth %d\n", cur_op, which,
                        c ? "inside" : "outside", depth);
        switch (which) {
        case 0:
        case 1:
                create_session(kk);
                break;
        case 2:
        case 3:
        case 4:
                ev = pick_event(&bad);
                args = pick_args(&nargs, true, &bad);
                data_traps(kk, 0);
                RC(poe_kernel_post_at, bad, poe_kernel_post_at(kk, rn(2) ? NULL : "f", -1,
                                                               pick_sid(), ev, args, nargs));
                data_traps(kk, 1);
                break;
        case 5:
                s = pick_alias(&bad, false);
                ev = pick_event(&bad);
                args = pick_args(&nargs, true, &bad);
                data_traps(kk, 0);
                RC(poe_kernel_post_alias_at, bad,
                   poe_kernel_post_alias_at(kk, "f", 1, s, ev, args, nargs));
                data_traps(kk, 1);
                break;
        case 6:
                ev = pick_event(&bad);
                args = pick_args(&nargs, true, &bad);
                RC(poe_kernel_yield_at, bad, poe_kernel_yield_at(kk, "f", 2, ev, args, nargs));
                break;
        case 7:
        case 8:
                if (depth >= 4)
                        break;
                ev = pick_event(&bad);
                args = pick_args(&nargs, true, &bad);
                ret = poe_int(9);
                data_traps(kk, 0);
                r = poe_kernel_call_at(kk, "f", 3, pick_sid(), ev, args, nargs,
                                       rn(2) ? &ret : NULL);
                data_traps(kk, 1);
                RC(poe_kernel_call_at, bad, r);
                poe_value_release(&ret);
                HIT(poe_value_release);
                break;
        case 9:
                if (depth >= 4)
                        break;
                s = pick_alias(&bad, false);
                ev = pick_event(&bad);
                args = pick_args(&nargs, true, &bad);
                data_traps(kk, 0);
                r = poe_kernel_call_alias_at(kk, "f", 4, s, ev, args, nargs, NULL);
                data_traps(kk, 1);
                RC(poe_kernel_call_alias_at, bad, r);
                break;
        case 10:
                ev = pick_event(&bad);
                args = pick_args(&nargs, false, &bad);
                switch (rn(4)) {
                case 0:
                        RC(poe_kernel_alarm_at, bad, poe_kernel_alarm_at(kk, "f", 5, ev,
                                                        pick_time(false), args, nargs));
                        break;
                case 1:
                        RC(poe_kernel_alarm_add_at, bad,
                           poe_kernel_alarm_add_at(kk, "f", 5, ev, pick_time(false), args, nargs));
                        break;
                case 2:
                        RC(poe_kernel_delay_at, bad,
                           poe_kernel_delay_at(kk, "f", 5, ev, pick_time(true), args, nargs));
                        break;
                default:
                        RC(poe_kernel_delay_add_at, bad,
                           poe_kernel_delay_add_at(kk, "f", 5, ev, pick_time(true), args, nargs));
                        break;
                }
                break;
        case 11:
        case 12:
                ev = pick_event(&bad);
                args = pick_args(&nargs, false, &bad);
                id = 0;
                if (rn(2)) {
                        r = poe_kernel_alarm_set_at(kk, "f", 6, ev, pick_time(false), args, nargs,
                                                    rn(5) ? &id : NULL);
                        RC(poe_kernel_alarm_set_at, bad, r);
                } else {
                        r = poe_kernel_delay_set_at(kk, "f", 6, ev, pick_time(true), args, nargs,
                                                    rn(5) ? &id : NULL);
                        RC(poe_kernel_delay_set_at, bad, r);
                }
                if (r == 0 && id)
                        remember_tid(id);
                break;
        case 13:
                t = pick_time(true);
                bad = bad || isnan(t);
                if (rn(2))
                        RC(poe_kernel_alarm_adjust, bad,
                           poe_kernel_alarm_adjust(kk, pick_tid(), t, rn(2) ? &t : NULL));
                else
                        RC(poe_kernel_delay_adjust, bad,
                           poe_kernel_delay_adjust(kk, pick_tid(), t, rn(2) ? &t : NULL));
                break;
        case 14: {
                poe_alarm_info info;

                RC(poe_kernel_alarm_remove, bad,
                   poe_kernel_alarm_remove(kk, pick_tid(), rn(2) ? &info : NULL));
                if (chance(20))
                        RC(poe_kernel_alarm_remove_all, bad,
                           poe_kernel_alarm_remove_all(kk, rn(2) ? remove_all_fn : NULL, NULL));
                break;
        }
        case 15:
                RC(poe_kernel_get_next_event_time, bad,
                   poe_kernel_get_next_event_time(kk, rn(2) ? &t : NULL));
                break;
        case 16:
        case 17:
                fd = pick_fd(&bad);
                ev = chance(20) ? NULL : rn(2) ? "io" : pick_event(NULL);
                args = pick_args(&nargs, false, &bad);
                switch (rn(4)) {
                case 0: RC(poe_kernel_select_read, bad, poe_kernel_select_read(kk, fd, ev, args, nargs)); break;
                case 1: RC(poe_kernel_select_write, bad, poe_kernel_select_write(kk, fd, ev, args, nargs)); break;
                case 2: RC(poe_kernel_select_expedite, bad, poe_kernel_select_expedite(kk, fd, ev, args, nargs)); break;
                default:
                        RC(poe_kernel_select, bad,
                           poe_kernel_select(kk, fd, rn(2) ? "io" : NULL, rn(2) ? "io" : NULL,
                                             rn(2) ? NULL : "io", args, nargs));
                        break;
                }
                break;
        case 18:
                fd = pick_fd(&bad);
                switch (rn(4)) {
                case 0: RC(poe_kernel_select_pause_read, bad, poe_kernel_select_pause_read(kk, fd)); break;
                case 1: RC(poe_kernel_select_resume_read, bad, poe_kernel_select_resume_read(kk, fd)); break;
                case 2: RC(poe_kernel_select_pause_write, bad, poe_kernel_select_pause_write(kk, fd)); break;
                default: RC(poe_kernel_select_resume_write, bad, poe_kernel_select_resume_write(kk, fd)); break;
                }
                break;
        case 19:
                fd_ops();
                break;
        case 20:
        case 21:
                s = pick_alias(&bad, true);
                if (rn(3))
                        RC(poe_kernel_alias_set, bad, poe_kernel_alias_set(kk, s));
                else
                        RC(poe_kernel_alias_remove, bad, poe_kernel_alias_remove(kk, s));
                break;
        case 22: {
                const char *list[3];

                s = pick_alias(&bad, false);
                RC(poe_kernel_alias_resolve, bad,
                   poe_kernel_alias_resolve(kk, s, rn(2) ? &sid : NULL));
                if (rn(4)) {
                        RC(poe_kernel_alias_list, bad, poe_kernel_alias_list(kk, pick_sid(), list, 3));
                } else {
                        bad = true;
                        RC(poe_kernel_alias_list, bad, poe_kernel_alias_list(kk, pick_sid(), NULL, 2));
                }
                break;
        }
        case 23:
        case 24:
                s = chance(5) ? (bad = true, NULL) : rn(2) ? "tag" : rn(2) ? "" : "other";
                if (rn(2))
                        if (rn(2))
                                RC(poe_kernel_refcount_increment, bad,
                                   (poe_kernel_refcount_increment)(kk, pick_sid(), s));
                        else
                                RC(poe_kernel_refcount_increment_at, bad,
                                   poe_kernel_refcount_increment(kk, pick_sid(), s));
                else {
                        /* A tag the session does not hold: fatal under
                         * ASSERT_DATA, as POE's _data_extref_dec. */
                        data_traps(kk, 0);
                        RC(poe_kernel_refcount_decrement, bad,
                           poe_kernel_refcount_decrement(kk, pick_sid(), s));
                        data_traps(kk, 1);
                }
                break;
        case 25:
        case 26:
                s = pick_signal(&bad);
                args = pick_args(&nargs, false, &bad);
                r = poe_kernel_sig(kk, s, chance(20) ? NULL : rn(2) ? "sig" : pick_event(NULL),
                                   args, nargs);
                /* "or the sigaction error": KILL and STOP cannot be caught. */
                RC(poe_kernel_sig, bad || (s && (!strcmp(s, "KILL") || !strcmp(s, "STOP"))), r);
                break;
        case 27:
                s = pick_signal(&bad);
                args = pick_args(&nargs, true, &bad);
                data_traps(kk, 0);
                RC(poe_kernel_signal_at, bad,
                   poe_kernel_signal_at(kk, "f", 7, pick_sid(), s, args, nargs));
                data_traps(kk, 1);
                break;
        case 28:
                RC(poe_kernel_sig_handled, bad, poe_kernel_sig_handled(kk));
                break;
        case 29: {
                int pid = rn(3) == 0 ? (bad = true, -(int)rn(3)) : rn(2) ? 1 : 999999 + (int)rn(5);

                args = pick_args(&nargs, false, &bad);
                RC(poe_kernel_sig_child, bad,
                   poe_kernel_sig_child(kk, pid, rn(5) ? "sig" : NULL, args, nargs));
                break;
        }
        case 30: {
                unsigned i = rn(MAX_PBS);
                bool cb = rn(2);
                poe_postback **slot = chance(3) ? (bad = true, NULL) : &pbs[i];

                if (pbs[i]) {
                        pbs[i] = poe_postback_free(pbs[i]);
                        HIT(poe_postback_free);
                }
                ev = pick_event(&bad);
                args = pick_args(&nargs, true, &bad);
                if (cb && rn(2))
                        RC(poe_session_callback, bad,
                           (poe_session_callback)(kk, pick_sid(), ev, args, nargs, slot));
                else if (cb)
                        RC(poe_session_callback_at, bad,
                           poe_session_callback(kk, pick_sid(), ev, args, nargs, slot));
                else if (rn(2))
                        RC(poe_session_postback, bad,
                           (poe_session_postback)(kk, pick_sid(), ev, args, nargs, slot));
                else
                        RC(poe_session_postback_at, bad,
                           poe_session_postback(kk, pick_sid(), ev, args, nargs, slot));
                break;
        }
        case 31:
        case 32: {
                unsigned i = rn(MAX_PBS);

                if (depth >= 4)
                        break;
                args = pick_args(&nargs, true, &bad);
                ret = poe_int(1);
                if (!pbs[i])
                        bad = true;
                data_traps(k, 0);
                RC(poe_postback_invoke, bad,
                   poe_postback_invoke(pbs[i], args, nargs, rn(2) ? &ret : NULL));
                data_traps(k, 1);
                poe_value_release(&ret);
                if (pbs[i] && chance(20)) {
                        assert_ptr_equal(poe_postback_weaken(pbs[i]), pbs[i]);
                        HIT(poe_postback_weaken);
                }
                if (chance(20)) {
                        pbs[i] = poe_postback_free(pbs[i]);
                        HIT(poe_postback_free);
                }
                (void)poe_postback_session(pbs[i]);
                HIT(poe_postback_session);
                break;
        }
        case 33:
                ev = pick_event(&bad);
                RC(poe_kernel_state, bad,
                   poe_kernel_state(kk, ev, rn(3) ? h_any : NULL, NULL));
                break;
        case 34:
                s = chance(5) ? (bad = true, NULL) : rn(2) ? "mine" : rn(2) ? "default" : "";
                if (rn(2)) {
                        poe_value old;

                        RC(poe_session_option_set, bad,
                           poe_session_option_set(kk, pick_sid(), s,
                                                  rn(3) ? poe_str("yes") : poe_nil(),
                                                  rn(2) ? &old : NULL));
                } else {
                        bool b2 = bad || chance(10);

                        RC(poe_session_option_get, b2,
                           poe_session_option_get(kk, pick_sid(), s,
                                                  b2 && chance(50) ? NULL : &ret));
                }
                break;
        case 35:
                (void)poe_session_get_heap(kk, pick_sid());
                HIT(poe_session_get_heap);
                RC(poe_kernel_ID_id_to_session, bad, poe_kernel_ID_id_to_session(kk, pick_sid()));
                if (rn(5))
                        RC(poe_session_get_parent, bad,
                           poe_session_get_parent(kk, pick_sid(), &sid));
                else
                        RC(poe_session_get_parent, true, poe_session_get_parent(kk, pick_sid(), NULL));
                break;
        case 36:
                if (rn(2))
                        RC(poe_kernel_detach_myself, bad, poe_kernel_detach_myself(kk));
                else {
                        data_traps(kk, 0);
                        RC(poe_kernel_detach_child, bad, poe_kernel_detach_child(kk, pick_sid()));
                        data_traps(kk, 1);
                }
                break;
        case 37:
                (void)poe_kernel_time(kk);
                HIT(poe_kernel_time);
                if (rn(2)) {
                        t = rn(4) ? (double)rn(10) : rn(2) ? NAN : rn(2) ? -1.0 : 1e300;
                        bad = bad || !isfinite(t) || t < 0;
                        RC(poe_kernel_clock_advance, bad, poe_kernel_clock_advance(kk, t));
                } else {
                        t = rn(4) ? 1e9 + rn(10) : NAN;
                        bad = bad || !isfinite(t);
                        RC(poe_kernel_clock_fake, bad, poe_kernel_clock_fake(kk, t));
                }
                break;
        case 38:
                if (c && chance(50)) {
                        int64_t ns;

                        /* A handler may not run the kernel. */
                        RC(poe_kernel_run_one_timeslice, bad, poe_kernel_run_one_timeslice(kk));
                        RC(poe_kernel_prepare, bad, poe_kernel_prepare(kk, rn(2) ? &ns : NULL));
                        RC(poe_kernel_dispatch, bad, poe_kernel_dispatch(kk));
                        RC(poe_kernel_run, bad, poe_kernel_run(kk));
                        walk = 1;
                        RC(poe_kernel_run_while, true, poe_kernel_run_while(kk, rn(2) ? &walk : NULL));
                } else if (!c && chance(10)) {
                        poe_kernel_stop(kk);
                        HIT(poe_kernel_stop);
                } else if (c && chance(2)) {
                        poe_kernel_stop(kk);
                        HIT(poe_kernel_stop);
                }
                break;
        case 39:
                (void)poe_kernel_get_active_session(kk);
                (void)poe_kernel_get_active_event(kk);
                (void)poe_kernel_get_event_count(kk);
                (void)poe_kernel_id(kk);
                (void)poe_kernel_loop_name(kk);
                (void)poe_kernel_owned_loop(kk);
                HIT(poe_kernel_owned_loop);
                /* A select or poll kernel asked for its fd moves to
                 * epoll, which would end this run's test of its backend. */
                if (bad || strcmp(poe_kernel_loop_name(kk), "epoll") == 0)
                        RC(poe_kernel_get_fd, bad, poe_kernel_get_fd(bad ? NULL : kk));
                else
                        HIT(poe_kernel_get_fd);
                (void)poe_kernel_exception(kk);
                (void)poe_kernel_debug_get(kk);
                HIT(poe_kernel_get_active_session);
                HIT(poe_kernel_get_active_event);
                HIT(poe_kernel_get_event_count);
                HIT(poe_kernel_id);
                HIT(poe_kernel_loop_name);
                HIT(poe_kernel_exception);
                HIT(poe_kernel_debug_get);
                break;
        case 40: {
                poe_kernel_activity a;

                poe_kernel_activity_get(kk, rn(5) ? &a : NULL);
                HIT(poe_kernel_activity_get);
                args = pick_args(&nargs, true, &bad);
                RC(poe_kernel_post_from_thread, bad,
                   poe_kernel_post_from_thread(kk, pick_sid(), pick_event(&bad), args, nargs));
                if (rn(2)) {
                        bool nofn = chance(10);

                        r = poe_kernel_run_in_loop(kk, nofn ? NULL : in_loop, NULL);
                        RC(poe_kernel_run_in_loop, bad || nofn, r);
                        if (r == 0)
                                in_loop_runs++;
                }
                break;
        }
        case 41: {
                poe_dispatch_stats st;

                RC(poe_kernel_set_dispatch_timing, bad, poe_kernel_set_dispatch_timing(kk, (int)rn(2)));
                r = rn(4) == 0;
                RC(poe_kernel_set_slow_dispatch, bad || r,
                   poe_kernel_set_slow_dispatch(kk, r ? -1.0 : 0.25 + rn(4)));
                r = rn(5) == 0; /* a NULL output pointer */
                RC(poe_kernel_dispatch_stats, bad || r, poe_kernel_dispatch_stats(kk, r ? NULL : &st));
                break;
        }
        case 42: {
                /* Trace groups only: a switched-on assertion group is
                 * fatal by design (ASSERT_DATA stays on throughout). */
                unsigned g = rn(4) ? 1u << rn(8) : rn(2) ? 0x80000000u : 1u << (8 + rn(8));

                r = chance(30);
                if (getenv("POE_MISUSE_LOG"))
                        break; /* logging replays keep the traces they asked for */
                RC(poe_kernel_debug_set, bad || (g & ~(unsigned)POE_TRACE_ALL),
                   poe_kernel_debug_set(kk, g, r));
                break;
        }
        case 43:
                switch (rn(6)) {
                case 0:
                        r = poe_kernel_trace_sink_add(kk, rn(8) ? sink : NULL, NULL);
                        RC(poe_kernel_trace_sink_add, bad || r == -EINVAL, r);
                        if (r > 0)
                                sinks[rn(4)] = r;
                        break;
                case 4:
                        r = poe_kernel_trace_sink_add_slots(kk, rn(8) ? sink : NULL,
                                                            rn(8) ? slot_sink : NULL, NULL);
                        RC(poe_kernel_trace_sink_add_slots, bad || r == -EINVAL, r);
                        if (r > 0)
                                sinks[rn(4)] = r;
                        break;
                case 1:
                        RC(poe_kernel_trace_sink_groups, bad,
                           poe_kernel_trace_sink_groups(kk, sinks[rn(4)] - (int)rn(2),
                                                        rn(3) ? POE_TRACE_EVENTS : POE_ASSERT_DATA));
                        break;
                case 2:
                        fd = sinks[rn(4)] + (int)rn(2);
                        /* Logging replays keep the text lines. */
                        if (fd == 0 && getenv("POE_MISUSE_LOG"))
                                fd = 99;
                        RC(poe_kernel_trace_sink_remove, bad, poe_kernel_trace_sink_remove(kk, fd));
                        break;
                case 3:
                        r = poe_kernel_trace_file(kk, rn(3) ? NULL : rn(2) ? trace_path
                                                                        : "/nonexistent/dir/t");
                        RC(poe_kernel_trace_file, bad || r == -ENOENT, r);
                        break;
                default:
                        poe_kernel_set_heap_describer(kk, rn(2) ? describer : NULL, NULL);
                        HIT(poe_kernel_set_heap_describer);
                        break;
                }
                break;
        case 44: {
                poe_kernel_info ki;
                poe_session_info si;

                r = rn(5) == 0;
                RC(poe_peek_kernel, bad || r, poe_peek_kernel(kk, r ? NULL : &ki));
                r = rn(5) == 0;
                RC(poe_peek_session, bad || r, poe_peek_session(kk, pick_sid(), r ? NULL : &si));
                RC(poe_peek_sessions, bad, poe_peek_sessions(kk, walk_sessions, &walk));
                RC(poe_peek_handlers, bad, poe_peek_handlers(kk, pick_sid(), walk_handlers, &walk));
                break;
        }
        case 45:
                RC(poe_peek_reasons, bad, poe_peek_reasons(kk, pick_sid(), walk_reasons, &walk));
                r = rn(8) == 0;
                RC(poe_peek_postbacks, bad || r,
                   poe_peek_postbacks(kk, rn(2) ? POE_KERNEL : pick_sid(),
                                      r ? NULL : walk_postbacks, &walk));
                RC(poe_peek_queue, bad, poe_peek_queue(kk, walk_events, &walk));
                RC(poe_peek_timers, bad, poe_peek_timers(kk, walk_events, &walk));
                RC(poe_peek_watchers, bad, poe_peek_watchers(kk, walk_watchers, &walk));
                RC(poe_peek_signals, bad, poe_peek_signals(kk, walk_signals, &walk));
                break;
        case 46: {
                char buf[32];
                poe_exception e;
                poe_value v = rn(2) ? poe_str("12abc") : poe_list(listbuf, rn(3));

                (void)poe_version();
                (void)poe_version_string();
                HIT(poe_version);
                HIT(poe_version_string);
                (void)poe_nil();
                (void)poe_int(1);
                (void)poe_double(1.5);
                (void)poe_str(rn(2) ? NULL : "x");
                (void)poe_strn(NULL, 3);
                (void)poe_ptr(NULL, NULL);
                (void)poe_session(pick_sid());
                (void)poe_list(NULL, 3);
                HIT(poe_nil);
                HIT(poe_int);
                HIT(poe_double);
                HIT(poe_str);
                HIT(poe_strn);
                HIT(poe_ptr);
                HIT(poe_session);
                HIT(poe_list);
                (void)poe_value_true(rn(2) ? &v : NULL);
                (void)poe_value_int(rn(2) ? &v : NULL);
                (void)poe_value_str(rn(2) ? &v : NULL);
                HIT(poe_value_true);
                HIT(poe_value_int);
                HIT(poe_value_str);
                RC(poe_value_format, false, poe_value_format(rn(2) ? &v : NULL, buf, rn(2) ? sizeof(buf) : 0));
                RC(poe_value_exception, true, poe_value_exception(rn(2) ? &v : NULL, rn(2) ? &e : NULL));
                poe_value_release(rn(2) ? &v : NULL);
                HIT(poe_value_release);
                break;
        }
        case 47: {
                /* A record of any kind, with ids nobody defined: the
                 * formatter writes "?" for them, and never fails but for
                 * a missing record or buffer. */
                poe_trace_record tr;
                char line[64];
                unsigned kind = (unsigned)rn(POE_TK_KINDS + 2);

                memset(&tr, 0, sizeof(tr));
                tr.kind = (uint16_t)(kind > POE_TK_KINDS ? POE_TK_DEF_NAME : kind);
                tr.event = rn(2) ? POE_TRACE_NO_NAME : (uint32_t)rnd();
                tr.session_name = (uint32_t)rn(4);
                tr.arg.i[0] = rn(2) ? (int64_t)rnd() : (int64_t)rn(8);
                tr.text = rn(2) ? "func\0file" : NULL;
                tr.text_len = tr.text ? 9 : 0;
                r = rn(5) == 0;
                RC(poe_trace_format, r,
                   poe_trace_format(r ? NULL : &tr, NULL, NULL, line, rn(2) ? sizeof(line) : 0));
                RC(poe_kernel_trace_format, r || !kk,
                   poe_kernel_trace_format(kk, r ? NULL : &tr, line, sizeof(line)));
                (void)poe_kernel_trace_lookup(kk, (unsigned)rn(4), (uint32_t)rn(64));
                HIT(poe_kernel_trace_lookup);
                (void)poe_trace_kind_name(rn(2) ? (unsigned)rn(80) : (unsigned)rnd());
                (void)poe_trace_kind_parse(rn(3) ? "dispatch" : rn(2) ? NULL : "nope");
                (void)poe_debug_group_prefix(rn(2) ? POE_TRACE_EVENTS : (unsigned)rnd());
                HIT(poe_trace_kind_name);
                HIT(poe_trace_kind_parse);
                HIT(poe_debug_group_prefix);
        }
                (void)poe_debug_compiled();
                (void)poe_debug_group_name(rn(2) ? POE_TRACE_EVENTS : (unsigned)rnd());
                (void)poe_debug_group_parse(rn(3) ? "trace_events" : rn(2) ? NULL : "");
                (void)poe_reason_name(rn(2) ? (int)rn(POE_REASON_MAX) : (int)rnd());
                HIT(poe_debug_compiled);
                HIT(poe_debug_group_name);
                HIT(poe_debug_group_parse);
                HIT(poe_reason_name);
                break;
        case 48:
                /* Without a fork, has_forked rebuilds the loop in place. */
                if (chance(10))
                        RC(poe_kernel_has_forked, bad, poe_kernel_has_forked(kk));
                break;
        case 49:
                if (c)
                        break;
                /* Some destructive calls only make sense outside. */
                if (chance(10)) {
                        poe_kernel *d = poe_kernel_default();

                        HIT(poe_kernel_default);
                        assert_ptr_equal(d, poe_kernel_default());
                }
                break;
        case 50:
        case 51:
                nfa_ops(kk);
                break;
        default:
                if (c)
                        break;
                /* Outside a handler, the handler-only calls again. */
                RC(poe_kernel_yield_at, false, poe_kernel_yield_at(k, "f", 9, "ev0", POE_NOARGS));
                RC(poe_kernel_alias_set, false, poe_kernel_alias_set(k, "a0"));
                RC(poe_kernel_state, false, poe_kernel_state(k, "ev0", h_any, NULL));
                RC(poe_kernel_alarm_set_at, false,
                   poe_kernel_alarm_set_at(k, "f", 9, "t0", 1.0, POE_NOARGS, NULL));
                RC(poe_kernel_select_read, false, poe_kernel_select_read(k, pool_fd(0), "io", POE_NOARGS));
                break;
        }
        (void)kk;
}

/* Inside a handler: the context too, and sometimes a die. */
static void ctx_ops(poe_ctx *c)
{
        poe_value v;

        assert_ptr_equal(poe_ctx_kernel(c), tl.k);
        (void)poe_ctx_session(c);
        (void)poe_ctx_heap(c);
        (void)poe_ctx_state(c);
        (void)poe_ctx_sender(c);
        (void)poe_ctx_object(c);
        (void)poe_ctx_caller_file(c);
        (void)poe_ctx_caller_line(c);
        (void)poe_ctx_caller_state(c);
        (void)poe_ctx_argc(c);
        (void)poe_ctx_arg(c, rn(2) ? rn(4) : SIZE_MAX);
        (void)poe_nfa_ctx_state(c);
        HIT(poe_nfa_ctx_state);
        HIT(poe_ctx_kernel);
        HIT(poe_ctx_session);
        HIT(poe_ctx_heap);
        HIT(poe_ctx_state);
        HIT(poe_ctx_sender);
        HIT(poe_ctx_object);
        HIT(poe_ctx_caller_file);
        HIT(poe_ctx_caller_line);
        HIT(poe_ctx_caller_state);
        HIT(poe_ctx_argc);
        HIT(poe_ctx_arg);
        if (chance(30)) {
                v = poe_ctx_take_arg(c, rn(2) ? rn(4) : SIZE_MAX);
                HIT(poe_ctx_take_arg);
                /* A taken pointer is the handler's to destroy. */
                if (v.type == POE_T_PTR && v.u.ptr.destroy)
                        poe_value_release(&v);
        }
        if (poe_ctx_argc(c) >= 2 && poe_ctx_arg(c, 1)->type == POE_T_LIST) {
                poe_exception e;

                RC(poe_value_exception, true, poe_value_exception(poe_ctx_arg(c, 1), &e));
        }
        if (chance(2)) {
                HIT(poe_die_at);
                poe_die_at(c, "f", 10, "misuse %d", 1);
        }
}

static void random_ops(poe_kernel *k, poe_ctx *c, int n)
{
        int i;

        for (i = 0; i < n && ops_budget > 0; i++) {
                ops_budget--;
                if (c && chance(25))
                        ctx_ops(c);
                else
                        random_op(k, c);
                tl_check_kernel(k);
        }
}

/* ---- one seed ---- */

static unsigned long env_ul(const char *name, unsigned long dflt)
{
        const char *s = getenv(name);

        return s && *s ? strtoul(s, NULL, 10) : dflt;
}

static bool under_valgrind(void)
{
        const char *p = getenv("LD_PRELOAD");

        return p && strstr(p, "valgrind");
}

/* Keeps the loop from sleeping (with the fake clock and nothing due it
 * would wait for I/O forever): a pending run_in_loop makes it poll. */
static void tick(poe_kernel *k)
{
        TL_EQ(poe_kernel_run_in_loop(k, in_loop, NULL), 0);
        in_loop_runs++;
        if (n_sids) {
                data_traps(k, 0);
                poe_kernel_post(k, sids[rn(n_sids)], "tick", POE_NOARGS);
                data_traps(k, 1);
        }
}

/* A kernel hook that must not run: run_seed removes it before any
 * kernel is made. */
static void *never_hook(poe_kernel *k, void *data)
{
        (void)k;
        (void)data;
        fail_msg("a kernel hook the misuse test removed ran");
        return NULL;
}

static void run_seed(uint64_t seed, unsigned long ops)
{
        unsigned long done = 0;
        unsigned i;
        int r;

        cur_seed = seed;
        cur_op = 0;
        rng = seed * 0x2545f4914f6cdd1dull + 1;
        n_sids = n_tids = 0;
        memset(pbs, 0, sizeof(pbs));
        memset(sinks, 0, sizeof(sinks));
        live_ptrs = in_loop_runs = 0;
        for (i = 0; i < N_FDS / 2; i++)
                fd_pair_open(i);
        assert_int_equal(tl_setup(NULL), 0);
        HIT(poe_kernel_new);
        /* The kernel hooks: no draw from the generator (seeds replay as
         * before); a hook that is never run, as no kernel is made while
         * it is registered. */
        RC(poe_kernel_hook_add, true, poe_kernel_hook_add(NULL, NULL, NULL));
        RC(poe_kernel_hook_remove, true, poe_kernel_hook_remove(NULL, NULL, NULL));
        RC(poe_kernel_hook_add, false, poe_kernel_hook_add(never_hook, NULL, &rng));
        RC(poe_kernel_hook_add, false, poe_kernel_hook_add(never_hook, NULL, &rng));
        RC(poe_kernel_hook_remove, false, poe_kernel_hook_remove(never_hook, NULL, &rng));
        RC(poe_kernel_hook_remove, false, poe_kernel_hook_remove(never_hook, NULL, &rng));
        /* Misuse is answered with error codes: only the data checks are
         * on (a failed one aborts, which fails the test). */
        TL_EQ(poe_kernel_debug_set(tl.k, POE_ASSERT_ALL, 0), 0);
        TL_EQ(poe_kernel_debug_set(tl.k, POE_ASSERT_DATA, 1), 0);
        TL_EQ(poe_kernel_clock_fake(tl.k, 1e9), 0);
        capture_begin();
        while (done < ops) {
                int batch = 1 + (int)rn(20);

                depth = 0;
                ops_budget = batch * 3;
                random_ops(tl.k, NULL, batch);
                done += (unsigned long)batch;
                /* Handlers draw from the same budget while the kernel runs. */
                for (i = rn(4); i > 0; i--) {
                        ops_budget = 40;
                        tick(tl.k);
                        r = poe_kernel_run_one_timeslice(tl.k);
                        RC(poe_kernel_run_one_timeslice, false, r);
                        tl_check_kernel(tl.k);
                        if (r <= 0)
                                break;
                }
        }
        /* The end: every session stopped, the kernel run dry. */
        ops_budget = 0;
        poe_kernel_stop(tl.k);
        HIT(poe_kernel_stop);
        r = poe_kernel_run(tl.k);
        RC(poe_kernel_run, false, r);
        tl_check_kernel(tl.k);
        TL_EQ(tl_session_count(tl.k), 0);
        /* Postbacks outlive sessions; half of them outlive the kernel. */
        for (i = 0; i < MAX_PBS; i += 2)
                pbs[i] = poe_postback_free(pbs[i]);
        poe_kernel_trace_file(tl.k, NULL);
        capture_end();
        tl_kernel_free_checked();
        HIT(poe_kernel_free);
        TL_EQ(in_loop_runs, 0);
        for (i = 1; i < MAX_PBS; i += 2) {
                if (pbs[i])
                        TL_EQ(poe_postback_invoke(pbs[i], POE_NOARGS, NULL), -ESRCH);
                pbs[i] = poe_postback_free(pbs[i]);
        }
        /* Every pointer given to the kernel was destroyed exactly once. */
        TL_EQ(tokens_check(), 0);
        TL_EQ(live_ptrs, 0);
        for (i = 0; i < N_FDS; i++)
                if (fd_open[i]) {
                        close(pool_fd(i));
                        fd_open[i] = false;
                }
}

static void test_random_misuse(void **state)
{
        unsigned long first = 1, last, ops, seed;
        const char *s = getenv("POE_MISUSE_SEEDS");
        char dir[] = "/tmp/poe-misuse-XXXXXX";

        (void)state;
        last = under_valgrind() ? 30 : 200;
        ops = env_ul("POE_MISUSE_OPS", under_valgrind() ? 1000 : 3000);
        if (s && strchr(s, '-'))
                sscanf(s, "%lu-%lu", &first, &last);
        else if (s && *s)
                last = strtoul(s, NULL, 10);
        assert_non_null(mkdtemp(dir));
        snprintf(trace_path, sizeof(trace_path), "%s/trace", dir);
        tl_watchdog_start();
        for (seed = first; seed <= last; seed++) {
                tl_watchdog_arm(under_valgrind() ? 300 : 60);
                run_seed(seed, ops);
                tl_watchdog_disarm();
        }
        unlink(trace_path);
        rmdir(dir);
        print_message("%lu seeds x %lu calls\n", last - first + 1, ops);
}

/* Every public function was called at least once over the seeds. */
static void test_every_function_called(void **state)
{
        size_t i;
        int missing = 0;

        (void)state;
        for (i = 0; i < MU_N; i++) {
                if (api_calls[i])
                        continue;
                print_error("never called: %s\n", api[i].name);
                missing++;
        }
        TL_EQ(missing, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_random_misuse, misuse_teardown),
                cmocka_unit_test(test_every_function_called),
        };

        /* A caught OS signal is only ever raised at the kernel; SIGPIPE
         * from a closed socketpair end would end the program instead. */
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
