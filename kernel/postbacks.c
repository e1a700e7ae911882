/*
 * Postbacks and callbacks (POE::Session's postback and callback): small
 * objects that, when invoked, post (or call) an event to the session that
 * made them, with the creation arguments as a list in ARG0 and the
 * invocation's arguments as a list in ARG1.  Each keeps its session
 * alive until freed or weakened, as POE's 'anon_event' reference does.
 *
 * They belong to the application, which may keep one past its kernel,
 * so they are allocated with libc rather than the kernel's allocator;
 * freeing the kernel detaches them, and invoking one then is -ESRCH.
 *
 * A callback's handler runs while the invocation still uses the callback:
 * its ARG0 is the callback's own list of creation arguments, and the
 * kernel's call() reads that list again after the handler.  So a handler
 * that frees the callback it was called through (POE: drops the last
 * reference to it) only releases its session; the memory and the
 * creation arguments' destructors go when the outermost invocation
 * returns, as POE's \@etc lives on in the handler's @_ until then.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "clock.h"
#include "exceptions.h"
#include "postbacks.h"
#include "sessions.h"

struct poe_postback {
        poe_kernel *k; /* NULL once the kernel is gone */
        poe_sid sid;
        bool weak;
        bool callback;
        bool freed;    /* poe_postback_free came while invocations ran */
        unsigned busy; /* callback invocations running */
        char *event;
        char *file; /* where it was made (in the same allocation) */
        int line;
        int64_t created;  /* monotonic */
        uint64_t invoked; /* invocations so far */
        size_t nargs;
        poe_value *args;  /* deep copy without destructors: what invoking sends */
        poe_value *owned; /* deep copy with them: run once, when freed */
        poe__list_node link; /* k->postbacks */
};

static int make(poe_kernel *k, const char *file, int line, poe_sid sid, const char *event,
                const poe_value *args, size_t nargs, bool callback, poe_postback **ret)
{
        poe__session *s;
        poe_postback *pb;
        char *pool;
        size_t extra, flen;

        /* Checked before anything reads args: NULL with a count is -EINVAL. */
        POE_CHECK_ARGS(k, k && event && ret && (args || !nargs), -EINVAL, args, nargs);
        extra = nargs * sizeof(poe_value) + poe__values_size(args, nargs);
        s = poe__session_get(k, sid);
        if (!s || s->is_kernel) {
                poe__values_destroy_borrowed(args, nargs);
                return -ESRCH;
        }
        /* Its session counts it in its more (poe__reason_slot). */
        if (poe__need_more(k, s) < 0) {
                poe__values_destroy_borrowed(args, nargs);
                return -ENOMEM;
        }
        if (!file)
                file = "";
        flen = strlen(file) + 1;
        pb = malloc(sizeof(*pb) + 2 * extra + flen);
        if (!pb || !(pb->event = strdup(event))) {
                free(pb);
                poe__values_destroy_borrowed(args, nargs);
                return -ENOMEM;
        }
        pb->k = k;
        pb->sid = sid;
        pb->weak = false;
        pb->callback = callback;
        pb->freed = false;
        pb->busy = 0;
        pb->nargs = nargs;
        /* The creation arguments go out with every invocation, so the
         * events must not own their pointers: the postback does, and runs
         * their destructors once, when it is freed. */
        pb->args = (poe_value *)(pb + 1);
        pool = (char *)(pb->args + nargs);
        poe__values_copy(pb->args, args, nargs, &pool);
        poe__values_strip(pb->args, nargs);
        pb->owned = (poe_value *)(void *)pool;
        pool = (char *)(pb->owned + nargs);
        poe__values_copy(pb->owned, args, nargs, &pool);
        pb->file = memcpy(pool, file, flen);
        pb->line = line;
        pb->created = poe__mono(k);
        pb->invoked = 0;
        poe__list_append(&k->postbacks, &pb->link);
        k->n_live_postbacks++;
        poe__ref(k, s, POE_REASON_POSTBACKS);
        *ret = pb;
        return 0;
}

POE_EXPORT int poe_session_postback_at(poe_kernel *k, const char *file, int line, poe_sid sid,
                                       const char *event, const poe_value *args, size_t nargs,
                                       poe_postback **ret)
{
        return make(k, file, line, sid, event, args, nargs, false, ret);
}

POE_EXPORT int poe_session_callback_at(poe_kernel *k, const char *file, int line, poe_sid sid,
                                       const char *event, const poe_value *args, size_t nargs,
                                       poe_postback **ret)
{
        return make(k, file, line, sid, event, args, nargs, true, ret);
}

/* The calls before they recorded their caller: compiled code that calls
 * them still links, and is known by no place. */
POE_EXPORT int(poe_session_postback)(poe_kernel *k, poe_sid sid, const char *event,
                                     const poe_value *args, size_t nargs, poe_postback **ret)
{
        return make(k, NULL, 0, sid, event, args, nargs, false, ret);
}

POE_EXPORT int(poe_session_callback)(poe_kernel *k, poe_sid sid, const char *event,
                                     const poe_value *args, size_t nargs, poe_postback **ret)
{
        return make(k, NULL, 0, sid, event, args, nargs, true, ret);
}

/* Drops the reference a strong postback holds on its session. */
static void release(poe_postback *pb)
{
        poe__session *s;

        if (pb->weak || !pb->k)
                return;
        pb->weak = true;
        pb->k->n_live_postbacks--;
        s = poe__session_get(pb->k, pb->sid);
        if (s)
                poe__unref(pb->k, s, POE_REASON_POSTBACKS);
}

/* Runs the creation arguments' destructors and frees the memory. */
static void destroy(poe_postback *pb)
{
        if (pb->k)
                poe__list_remove(&pb->link);
        poe__values_destroy(pb->owned, pb->nargs);
        free(pb->event);
        free(pb);
}

/* Ends one invocation of a callback; the last one ending frees it if a
 * handler asked for that meanwhile. */
static void unbusy(poe_postback *pb)
{
        if (--pb->busy == 0 && pb->freed)
                destroy(pb);
}

/*
 * A callback: calls its session, holding the callback until the call
 * returns (see the top of the file).  A die can unwind past this call
 * (a session calling itself, or call()'s rethrow), so inside a handler
 * a landing frame lets go of the callback and unwinds on.  Outside any
 * handler there is no frame for an unwind to reach beyond this one, and
 * none is set: call() rethrows only when k->frame is set.
 */
static int invoke_callback(poe_postback *pb, poe_value *two, poe_value *ret)
{
        poe_kernel *k = pb->k;
        poe__frame f;
        int r;

        pb->busy++;
        if (!k->frame) {
                r = poe_kernel_call_at(k, __FILE__, __LINE__, pb->sid, pb->event, two, 2, ret);
                unbusy(pb);
                return r;
        }
        /* Nothing open in it: it only lets go (exceptions.c, the die path). */
        poe__frame_push(k, &f);
        if (POE__SETJMP(f.jb) != 0) {
                k->frame = f.up;
                unbusy(pb);
                poe__unwind(k);
        }
        r = poe_kernel_call_at(k, __FILE__, __LINE__, pb->sid, pb->event, two, 2, ret);
        k->frame = f.up;
        unbusy(pb);
        return r;
}

POE_EXPORT int poe_postback_invoke(poe_postback *pb, const poe_value *args, size_t nargs,
                                   poe_value *ret)
{
        poe_value two[2];

        if (!pb || (nargs && !args)) {
                poe__values_destroy_borrowed(args, nargs);
                return -EINVAL;
        }
        if (!pb->k) {
                poe__values_destroy_borrowed(args, nargs);
                return -ESRCH;
        }
        pb->invoked++;
        two[0] = poe_list(pb->args, pb->nargs);
        two[1] = poe_list(args, nargs);
        if (pb->callback)
                return invoke_callback(pb, two, ret);
        if (ret)
                *ret = poe_nil();
        return poe_kernel_post_at(pb->k, __FILE__, __LINE__, pb->sid, pb->event, two, 2);
}

POE_EXPORT poe_postback *poe_postback_weaken(poe_postback *pb)
{
        if (pb)
                release(pb);
        return pb;
}

POE_EXPORT poe_postback *poe_postback_free(poe_postback *pb)
{
        if (!pb)
                return NULL;
        release(pb);
        /* From the handler of one of its invocations: freed when the
         * last one returns. */
        if (pb->busy)
                pb->freed = true;
        else
                destroy(pb);
        return NULL;
}

POE_EXPORT poe_sid poe_postback_session(const poe_postback *pb)
{
        return pb ? pb->sid : POE_KERNEL;
}

/* A session stopped while postbacks still pointed at it (a signal, or
 * stop()): their hold on it is gone, so they no longer count as work
 * that keeps the kernel from idling.  O(postbacks), paid only then. */
void poe__postbacks_clear_session(poe_kernel *k, poe__session *s)
{
        poe__list_node *pos;

        if (!poe__reason_get(s, POE_REASON_POSTBACKS))
                return;
        poe__list_foreach(pos, &k->postbacks) {
                poe_postback *pb = poe__container_of(pos, poe_postback, link);

                if (pb->sid == s->id && !pb->weak) {
                        pb->weak = true;
                        k->n_live_postbacks--;
                        poe__unref(k, s, POE_REASON_POSTBACKS);
                }
        }
}

POE_EXPORT int poe_peek_postbacks(const poe_kernel *k, poe_sid sid,
                                  int (*fn)(void *ctx, const poe_peek_postback *pb), void *ctx)
{
        poe__list_node *pos;
        int r;

        POE_CHECK(k, k && fn, -EINVAL);
        if (sid != POE_KERNEL && !poe__session_get(k, sid))
                return -ESRCH;
        poe__list_foreach(pos, &k->postbacks) {
                const poe_postback *pb = poe__container_of(pos, poe_postback, link);
                poe_peek_postback p;

                if ((sid != POE_KERNEL && pb->sid != sid) || pb->freed)
                        continue;
                memset(&p, 0, sizeof(p));
                p.session = pb->sid;
                p.event = pb->event;
                p.callback = pb->callback;
                p.weak = pb->weak;
                p.file = pb->file;
                p.line = pb->line;
                p.created = poe__mono2wall(k, pb->created);
                p.invocations = pb->invoked;
                r = fn(ctx, &p);
                if (r)
                        return r;
        }
        return 0;
}

/* Kernel teardown: postbacks outlive it, inert. */
void poe__postbacks_detach(poe_kernel *k)
{
        while (!poe__list_empty(&k->postbacks)) {
                poe_postback *pb = poe__container_of(poe__list_first(&k->postbacks),
                                                     poe_postback, link);

                poe__list_remove(&pb->link);
                pb->k = NULL;
        }
}
