/*
 * POE::Test::Loops ses_session.pm: POE::Session at large.  Ten task
 * sessions count events through yield, post, call and _default; one
 * catches SIGALRM and SIGPIPE sent to the process; a client and a
 * server trade postbacks and callbacks; object and package states (a
 * handler's object; a "package" is an object too in C) see their
 * OBJECT; options are set and read back; POE::Kernel->stop() stops a
 * tree of sessions holding timers and aliases; the kernel runs again.
 * Perl-only assertions (POE::Session->new, an odd argument list, the
 * ARG constants, DESTROY counts) are skips.  Delays run on the fake
 * clock (the signals are sent by the process to itself).
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <poe/poe.h>

#include "../tap.h"

#define MACHINE_COUNT 10
#define EVENT_COUNT   5

static int sigalrm_caught, sigpipe_caught, sender_count, got_heap_count, default_count;
static int completions[MACHINE_COUNT], objpack[4];

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

/* ---- the task sessions ---- */

struct task {
        int count, id, got_heap;
};

static poe_value task_start(poe_ctx *c)
{
        struct task *heap = poe_ctx_heap(c);

        heap->count = 0;
        poe_kernel_yield(poe_ctx_kernel(c), "count", poe_ctx_arg(c, 0), 1);
        return poe_nil();
}

static poe_value task_run(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct task *heap = poe_ctx_heap(c);
        poe_sid session = poe_ctx_session(c);
        poe_value id = *poe_ctx_arg(c, 0), r = poe_nil();

        if (poe_ctx_sender(c) == session)
                sender_count++;
        if (heap->count & 1)
                poe_kernel_yield(k, "bogus", &id, 1);
        else
                poe_kernel_post(k, session, "bogus", &id, 1);
        poe_kernel_call(k, session, "next_count", &id, 1, &r);
        if (poe_value_int(&r) < EVENT_COUNT) {
                if (heap->count & 1)
                        poe_kernel_yield(k, "count", &id, 1);
                else
                        poe_kernel_post(k, session, "count", &id, 1);
        } else {
                heap->id = (int)poe_value_int(&id);
        }
        return poe_nil();
}

static poe_value task_default(poe_ctx *c)
{
        const char *event = poe_value_str(poe_ctx_arg(c, 0));

        if (event && strcmp(event, "_signal") == 0)
                return poe_int(0);
        if (strcmp(poe_ctx_state(c), "_default") == 0)
                default_count++;
        return poe_nil();
}

static poe_value task_next_count(poe_ctx *c)
{
        return poe_int(++((struct task *)poe_ctx_heap(c))->count);
}

static poe_value task_stop(poe_ctx *c)
{
        struct task *heap = poe_ctx_heap(c);

        if (heap->id >= 0 && heap->id < MACHINE_COUNT)
                completions[heap->id] = heap->count;
        if (heap->got_heap == heap->id)
                got_heap_count++;
        return poe_nil();
}

/* ---- signals ---- */

struct sigs {
        int kills_to_go;
};

static poe_value sigs_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        ((struct sigs *)poe_ctx_heap(c))->kills_to_go = EVENT_COUNT;
        poe_kernel_sig(k, "ALRM", "sigalrm_target", POE_NOARGS);
        poe_kernel_sig(k, "PIPE", "sigpipe_target", POE_NOARGS);
        poe_kernel_delay(k, "fire_signals", 0.5, POE_NOARGS);
        return poe_nil();
}

static poe_value fire_signals(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct sigs *heap = poe_ctx_heap(c);

        if (heap->kills_to_go--) {
                poe_kernel_delay(k, "fire_signals", 0.5, POE_NOARGS);
                kill(getpid(), SIGALRM);
                kill(getpid(), SIGPIPE);
        } else {
                poe_kernel_delay(k, "done_waiting", 1, POE_NOARGS);
        }
        return poe_nil();
}

static poe_value sigalrm_target(poe_ctx *c)
{
        const char *s = poe_value_str(poe_ctx_arg(c, 0));

        if (s && strcmp(s, "ALRM") == 0)
                sigalrm_caught++;
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value sigpipe_target(poe_ctx *c)
{
        const char *s = poe_value_str(poe_ctx_arg(c, 0));

        if (s && strcmp(s, "PIPE") == 0)
                sigpipe_caught++;
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value done_waiting(poe_ctx *c)
{
        poe_kernel_sig(poe_ctx_kernel(c), "ALRM", NULL, POE_NOARGS);
        poe_kernel_sig(poe_ctx_kernel(c), "PIPE", NULL, POE_NOARGS);
        return poe_nil();
}

/* ---- postbacks and callbacks ---- */

static void free_postback(void *pb)
{
        poe_postback_free(pb);
}

struct server {
        int response;
};

static poe_value server_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "server");
        ((struct server *)poe_ctx_heap(c))->response = 0;
        return poe_nil();
}

/* $_[ARG0]->(++$_[HEAP]->{response}) */
static poe_value server_query(poe_ctx *c)
{
        struct server *heap = poe_ctx_heap(c);
        const poe_value *pb = poe_ctx_arg(c, 0);

        if (pb->type == POE_T_PTR)
                poe_postback_invoke(pb->u.ptr.p, POE_ARGS(poe_int(++heap->response)), NULL);
        return poe_nil();
}

static int postback_test = 1, callback_test = 1;

struct client {
        int cookie, sync_called_back;
};

static poe_value client_start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "query", POE_NOARGS);
        ((struct client *)poe_ctx_heap(c))->cookie = 0;
        return poe_nil();
}

static poe_value client_query(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct client *heap = poe_ctx_heap(c);
        poe_postback *pb = NULL;

        poe_session_postback(k, poe_ctx_session(c), "response", POE_ARGS(poe_int(++heap->cookie)),
                             &pb);
        poe_kernel_post_alias(k, "server", "query", POE_ARGS(poe_ptr(pb, free_postback)));
        heap->sync_called_back = 0;
        pb = NULL;
        poe_session_callback(k, poe_ctx_session(c), "sync_response",
                             POE_ARGS(poe_int(++heap->cookie)), &pb);
        poe_kernel_call_alias(k, "server", "sync_query", POE_ARGS(poe_ptr(pb, free_postback)),
                              NULL);
        if (!heap->sync_called_back)
                callback_test = 0;
        return poe_nil();
}

/* $_[ARG0]->[0] and $_[ARG1]->[0]: the first item of each list. */
static long long first(const poe_value *list)
{
        return list->type == POE_T_LIST && list->len ? poe_value_int(&list->u.list[0]) : -1;
}

static poe_value sync_response(poe_ctx *c)
{
        if (first(poe_ctx_arg(c, 0)) != first(poe_ctx_arg(c, 1)) + 1)
                callback_test = 0;
        ((struct client *)poe_ctx_heap(c))->sync_called_back = 1;
        return poe_nil();
}

static poe_value response(poe_ctx *c)
{
        if (first(poe_ctx_arg(c, 0)) != first(poe_ctx_arg(c, 1)) - 1)
                postback_test = 0;
        if (((struct client *)poe_ctx_heap(c))->cookie < 5)
                poe_kernel_yield(poe_ctx_kernel(c), "query", POE_NOARGS);
        return poe_nil();
}

static poe_value client_stop(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        tap_ok(poe_kernel_get_active_session(k) == poe_ctx_session(c),
               "get_active_session within session");
        tap_ok(poe_session_get_heap(k, poe_kernel_get_active_session(k)) == poe_ctx_heap(c),
               "get_heap during stop");
        return poe_nil();
}

/* ---- object and package states ---- */

struct counted {
        int count, id;
};

/* The four objects: UnmappedObject, MappedObject, UnmappedPackage,
 * MappedPackage.  A handler's object says which one it belongs to. */
static int objects[4];

static poe_value op_start(poe_ctx *c)
{
        struct counted *heap = poe_ctx_heap(c);

        poe_kernel_yield(poe_ctx_kernel(c), "count", POE_NOARGS);
        heap->count = 0;
        heap->id = (int)poe_value_int(poe_ctx_arg(c, 0));
        return poe_nil();
}

static poe_value op_count(poe_ctx *c)
{
        struct counted *heap = poe_ctx_heap(c);

        if (poe_ctx_object(c) != &objects[heap->id])
                return poe_nil();
        if (++heap->count < EVENT_COUNT)
                poe_kernel_yield(poe_ctx_kernel(c), "count", POE_NOARGS);
        return poe_nil();
}

static poe_value op_stop(poe_ctx *c)
{
        struct counted *heap = poe_ctx_heap(c);

        objpack[heap->id] = heap->count;
        return poe_nil();
}

/* ---- options ---- */

static poe_value options_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_sid s = poe_ctx_session(c);
        poe_value orig = poe_nil(), rv = poe_nil();
        int orig_true;

        poe_session_option_set(k, s, "default", poe_int(1), &orig);
        orig_true = poe_value_true(&orig);
        tap_ok(orig_true, "option original value");
        poe_session_option_get(k, s, "default", &rv);
        tap_ok(poe_value_true(&rv), "set default option successfully");
        poe_session_option_set(k, s, "default", poe_int(orig_true), &rv);
        tap_ok(poe_value_true(&rv), "reset default option successfully");
        poe_session_option_get(k, s, "default", &rv);
        tap_ok(!(poe_value_true(&rv) ^ orig_true), "reset default option successfully");
        poe_kernel_yield(k, "idle", POE_NOARGS);
        return poe_nil();
}

/* ---- stop() over a tree of sessions ---- */

static int stop_called, parent_called, child_called;

static poe_value tree_parent(poe_ctx *c)
{
        (void)c;
        parent_called++;
        return poe_nil();
}

static poe_value tree_child(poe_ctx *c)
{
        const char *op = poe_value_str(poe_ctx_arg(c, 0));

        if (op && strcmp(op, "lose") == 0)
                child_called++;
        return poe_nil();
}

static poe_value tree_stop(poe_ctx *c)
{
        (void)c;
        stop_called++;
        return poe_nil();
}

/* Level N (1-4) makes level N+1, then a long delay and alias testN. */
static poe_value tree_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        long level = (long)(intptr_t)poe_ctx_object(c);
        char alias[16];

        if (level < 4) {
                void *next = (void *)(intptr_t)(level + 1);
                poe_handler h[] = {
                        {"_start", tree_start, next},
                        {"_parent", tree_parent, next},
                        {"_child", level + 1 == 4 ? nop : tree_child, next},
                        {"_stop", tree_stop, next},
                };
                poe_session_spec spec = {.handlers = h, .n_handlers = 4};

                poe_session_create(k, &spec, NULL);
        }
        poe_kernel_delay(k, "nonexistent", 3600, POE_NOARGS);
        snprintf(alias, sizeof(alias), "test%ld", level);
        poe_kernel_alias_set(k, alias);
        if (level == 1)
                poe_kernel_yield(k, "stop", POE_NOARGS);
        return poe_nil();
}

static poe_value tree_stop_event(poe_ctx *c)
{
        poe_kernel_stop(poe_ctx_kernel(c));
        tap_skip("3 sessions destroyed (expected 3)",
                 "counts Perl DESTROY calls of a POE::Session subclass");
        tap_skip("3 objects destroyed (expected 3)", "counts Perl DESTROY calls of heap objects");
        return poe_nil();
}

/* ---- the event loop, restarted ---- */

static poe_value again_start(poe_ctx *c)
{
        tap_pass("restarted event loop session _start");
        poe_kernel_yield(poe_ctx_kernel(c), "woot", POE_NOARGS);
        poe_kernel_delay(poe_ctx_kernel(c), "narf", 1, POE_NOARGS);
        return poe_nil();
}

static poe_value woot(poe_ctx *c)
{
        (void)c;
        tap_pass("restarted event loop session yield()");
        return poe_nil();
}

static poe_value narf(poe_ctx *c)
{
        (void)c;
        tap_pass("restarted event loop session timer delay()");
        return poe_nil();
}

static poe_value again_stop(poe_ctx *c)
{
        (void)c;
        tap_pass("restarted event loop session _stop");
        return poe_nil();
}

int main(void)
{
        static const poe_handler task_h[] = {
                {"_start", task_start, NULL},     {"_stop", task_stop, NULL},
                {"count", task_run, NULL},        {"next_count", task_next_count, NULL},
                {"_default", task_default, NULL},
        };
        static const poe_handler sigs_h[] = {
                {"_start", sigs_start, NULL},
                {"fire_signals", fire_signals, NULL},
                {"sigalrm_target", sigalrm_target, NULL},
                {"sigpipe_target", sigpipe_target, NULL},
                {"done_waiting", done_waiting, NULL},
                {"_stop", nop, NULL},
        };
        static const poe_handler server_h[] = {
                {"_start", server_start, NULL},
                {"sync_query", server_query, NULL},
                {"query", server_query, NULL},
                {"_stop", nop, NULL},
        };
        static const poe_handler client_h[] = {
                {"_start", client_start, NULL},         {"query", client_query, NULL},
                {"sync_response", sync_response, NULL}, {"response", response, NULL},
                {"_stop", client_stop, NULL},
        };
        static const poe_handler options_h[] = {
                {"_start", options_start, NULL},
                {"idle", nop, NULL},
                {"_stop", nop, NULL},
        };
        static const poe_handler tree_h[] = {
                {"_start", tree_start, (void *)1}, {"_parent", tree_parent, NULL},
                {"_child", tree_child, NULL},      {"_stop", tree_stop, NULL},
                {"stop", tree_stop_event, NULL},
        };
        static const poe_handler again_h[] = {
                {"_start", again_start, NULL},
                {"woot", woot, NULL},
                {"narf", narf, NULL},
                {"_stop", again_stop, NULL},
        };
        static struct task tasks[MACHINE_COUNT];
        static struct sigs sigs_heap;
        static struct server server_heap;
        static struct client client_heap;
        static struct counted counted[4];
        poe_option default_on = {"default", poe_int(1)};
        poe_option again_options[] = {
                {"trace", poe_int(1)},
                {"default", poe_int(1)},
                {"debug", poe_int(1)},
        };
        poe_session_spec spec;
        poe_value arg;
        poe_kernel *k;
        int i, same;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(41);
        tap_diag("This test generates some STDERR during trace testing.");
        if (poe_kernel_new(&k, NULL) < 0 || poe_kernel_clock_fake(k, 1.7e9) < 0)
                return 2;

        spec = (poe_session_spec){.handlers = sigs_h, .n_handlers = 6, .heap = &sigs_heap};
        poe_session_create(k, &spec, NULL);
        for (i = 0; i < MACHINE_COUNT; i++) {
                tasks[i].got_heap = i;
                tasks[i].id = -1;
                arg = poe_int(i);
                spec = (poe_session_spec){.handlers = task_h,
                                          .n_handlers = 5,
                                          .args = &arg,
                                          .n_args = 1,
                                          .heap = &tasks[i]};
                poe_session_create(k, &spec, NULL);
        }
        spec = (poe_session_spec){.handlers = server_h, .n_handlers = 4, .heap = &server_heap};
        poe_session_create(k, &spec, NULL);
        spec = (poe_session_spec){.handlers = client_h, .n_handlers = 5, .heap = &client_heap};
        poe_session_create(k, &spec, NULL);
        for (i = 0; i < 4; i++) {
                poe_handler h[] = {
                        {"_start", op_start, &objects[i]},
                        {"count", op_count, &objects[i]},
                        {"_stop", op_stop, &objects[i]},
                };

                arg = poe_int(i);
                spec = (poe_session_spec){.handlers = h,
                                          .n_handlers = 3,
                                          .args = &arg,
                                          .n_args = 1,
                                          .heap = &counted[i]};
                poe_session_create(k, &spec, NULL);
        }
        spec = (poe_session_spec){
                .handlers = options_h, .n_handlers = 3, .options = &default_on, .n_options = 1};
        poe_session_create(k, &spec, NULL);

        tap_skip("new() is deprecated", "POE::Session->new: there is no such call in C");
        tap_skip("create() doesn't accept an odd number of args",
                 "a Perl argument list; poe_session_spec is a struct");
        tap_ok(poe_kernel_get_active_session(k) == POE_KERNEL,
               "get_active_session before POE::Kernel->run()");
        poe_kernel_run(k);
        tap_ok(poe_kernel_get_active_session(k) == POE_KERNEL,
               "get_active_session after POE::Kernel->run()");
        for (i = 0; i < MACHINE_COUNT; i++) {
                char name[32];

                snprintf(name, sizeof(name), "test %d ran", i);
                tap_is_int(completions[i], EVENT_COUNT, name);
        }
        tap_is_int(sigalrm_caught, EVENT_COUNT, "caught enough SIGALRMs");
        tap_is_int(sigpipe_caught, EVENT_COUNT, "caught enough SIGPIPEs");
        tap_ok(postback_test, "postback test");
        tap_ok(callback_test, "callback test");
        tap_skip("ARG constants are good", "Perl's ARG0..ARG9 constants; C indexes arguments");
        tap_is_int(sender_count, MACHINE_COUNT * EVENT_COUNT, "sender_count");
        tap_is_int(default_count, MACHINE_COUNT * EVENT_COUNT, "default_count");
        tap_is_int(got_heap_count, MACHINE_COUNT, "got_heap_count");
        for (i = 0, same = 1; i < 4; i++)
                same = same && objpack[i] == EVENT_COUNT;
        tap_ok(same, "object/package session event count");

        spec = (poe_session_spec){.handlers = tree_h, .n_handlers = 5};
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        tap_is_int(stop_called, 4, "_stop was called the correct number of times");
        tap_is_int(child_called, 3, "_child wasn't called");
        tap_is_int(parent_called, 0, "_parent wasn't called");
        tap_skip("destroyed 4 sessions (expected 4)",
                 "counts Perl DESTROY calls of a POE::Session subclass");
        tap_skip("destroyed 4 objects (expected 4)", "counts Perl DESTROY calls of heap objects");

        spec = (poe_session_spec){
                .handlers = again_h, .n_handlers = 4, .options = again_options, .n_options = 3};
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        tap_pass("restarted event loop returned normally");
        poe_kernel_free(k);
        return tap_done();
}
