/*
 * Extra references: POE::Resource::Extrefs, refcount_increment and
 * refcount_decrement.  Each named tag holds its session alive while its
 * count is above zero.  Tags per session are few, so a list serves.
 */
#include <string.h>

#include "internal.h"
#include "aliases.h"
#include "debug.h"
#include "sessions.h"

static poe__extref *find(poe__session *s, const char *tag)
{
        poe__list_node *pos;

        poe__list_foreach(pos, POE__MORE_LIST(s, extrefs))
        {
                poe__extref *e = poe__container_of(pos, poe__extref, in_session);

                if (strcmp(e->tag, tag) == 0)
                        return e;
        }
        return NULL;
}

static void extref_remove(poe_kernel *k, poe__session *s, poe__extref *e)
{
        poe__list_remove(&e->in_session);
        poe__free(k, e->tag);
        poe__free(k, e);
        if (poe__list_empty(&s->more->extrefs))
                k->n_extref_sessions--;
        poe__unref(k, s, POE_REASON_EXTREFS);
}

POE_EXPORT int poe_kernel_refcount_increment_at(poe_kernel *k, const char *file, int line,
                                                poe_sid sid, const char *tag)
{
        poe__session *s;
        poe__extref *e;
        uint32_t fid;

        POE_CHECK(k, k && tag, -EINVAL);
        s = poe__session_get(k, sid);
        if (!s || s->is_kernel)
                return poe__rv(k, -ESRCH, __func__);
        fid = poe__file(k, file ? file : "");
        if (fid == POE__NO_NAME)
                return poe__rv(k, -ENOMEM, __func__);
        e = find(s, tag);
        if (e) {
                if (e->count == INT32_MAX)
                        return poe__rv(k, -EOVERFLOW, __func__);
                e->file = fid;
                e->line = line;
                return poe__rv(k, ++e->count, __func__);
        }
        e = poe__need_more(k, s) < 0 ? NULL : poe__calloc(k, 1, sizeof(*e));
        if (!e || !(e->tag = poe__strdup(k, tag))) {
                poe__free(k, e);
                return poe__rv(k, -ENOMEM, __func__);
        }
        e->count = 1;
        e->file = fid;
        e->line = line;
        if (poe__list_empty(&s->more->extrefs))
                k->n_extref_sessions++;
        poe__list_append(&s->more->extrefs, &e->in_session);
        poe__ref(k, s, POE_REASON_EXTREFS);
        return poe__rv(k, 1, __func__);
}

/* The call before it recorded its caller: compiled code that calls it
 * still links, and is known by no place. */
POE_EXPORT int(poe_kernel_refcount_increment)(poe_kernel *k, poe_sid sid, const char *tag)
{
        return poe_kernel_refcount_increment_at(k, NULL, 0, sid, tag);
}

POE_EXPORT int poe_kernel_refcount_decrement(poe_kernel *k, poe_sid sid, const char *tag)
{
        poe__session *s;
        poe__extref *e;
        int count;

        POE_CHECK(k, k && tag, -EINVAL);
        s = poe__session_get(k, sid);
        if (!s || s->is_kernel)
                return poe__rv(k, -ESRCH, __func__);
        e = find(s, tag);
        if (!e) {
                /* POE's _data_extref_dec traps under ASSERT_DATA; without it,
                 * POE's count goes negative, libpoe's call fails. */
                POE_ASSERT(k, POE_ASSERT_DATA, !poe__list_empty(POE__MORE_LIST(s, extrefs)),
                           "decrementing extref for session without any");
                POE_ASSERT(k, POE_ASSERT_DATA, 0,
                           "decrementing extref for nonexistent tag ``%s'' in %s", tag,
                           poe__loggable(k, s));
                return poe__rv(k, -ENOENT, __func__);
        }
        count = --e->count;
        if (count == 0)
                extref_remove(k, s, e);
        return poe__rv(k, count, __func__);
}

void poe__extrefs_clear_session(poe_kernel *k, poe__session *s)
{
        while (!poe__list_empty(POE__MORE_LIST(s, extrefs)))
                extref_remove(k, s,
                              poe__container_of(poe__list_first(&s->more->extrefs), poe__extref,
                                                in_session));
}
