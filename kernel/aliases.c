/*
 * Aliases: POE::Resource::Aliases and the alias_* methods.  An alias
 * names a session for post and call, and keeps it alive until removed.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "aliases.h"
#include "events.h"
#include "sessions.h"
#include "trace.h"

/* The alias table holds the aliases themselves, keyed by their names. */
static size_t alias_hash(const void *a)
{
        return poe__hash_str(((const poe__alias *)a)->name);
}

/* Out of line: inlined into poe__resolve, its registers would cost the
 * cache's hits their prologue. */
__attribute__((noinline)) poe__alias *poe__alias_get(const poe_kernel *k, const char *name)
{
        const poe__pmap *m = &k->aliases;
        size_t i;

        if (!m->slots)
                return NULL;
        for (i = poe__hash_str(name) & m->mask;; i = (i + 1) & m->mask) {
                poe__alias *a = m->slots[i];

                if (!a || strcmp(a->name, name) == 0)
                        return a;
        }
}

/* Keeps a session's aliases sorted, so alias_list is POE's sorted list.
 * A session has few: the walk is short. */
static void insert_sorted(poe__session *s, poe__alias *a)
{
        poe__alias **pp;

        for (pp = &s->aliases; *pp && strcmp(a->name, (*pp)->name) >= 0; pp = &(*pp)->next)
                ;
        a->next = *pp;
        *pp = a;
        poe__trace_aliases_changed(s);
}

static void alias_remove(poe_kernel *k, poe__alias *a)
{
        poe__alias **pp;

        /* Forgets every cached resolution: rare, and 128 bytes. */
        memset(k->alias_cache, 0, sizeof(k->alias_cache));
        poe__pmap_remove(&k->aliases, a, alias_hash);
        for (pp = &a->session->aliases; *pp != a; pp = &(*pp)->next)
                ;
        *pp = a->next;
        poe__trace_aliases_changed(a->session);
        poe__unref(k, a->session, POE_REASON_ALIASES);
        poe__free(k, a);
}

POE_EXPORT int poe_kernel_alias_set(poe_kernel *k, const char *alias)
{
        poe__session *s;
        poe__alias *a;
        size_t len;

        POE_CHECK(k, k && alias && *alias, -EINVAL);
        s = k->active;
        POE_CHECK(k, !s->is_kernel && s->alive, -EPERM); /* only inside a handler */
        a = poe__alias_get(k, alias);
        if (a && a->session == s)
                return poe__rv(k, 0, __func__);
        if (a)
                return poe__rv(k,
                               poe__explain_usage(k, -EEXIST,
                                                  "alias '%s' is in use by another session",
                                                  alias),
                               __func__);
        len = strlen(alias) + 1;
        a = poe__malloc(k, sizeof(*a) + len);
        if (!a)
                return poe__rv(k, -ENOMEM, __func__);
        memcpy(a->name, alias, len);
        if (poe__pmap_reserve(k, &k->aliases, alias_hash) < 0) {
                poe__free(k, a);
                return poe__rv(k, -ENOMEM, __func__);
        }
        poe__pmap_insert_reserved(&k->aliases, a, poe__hash_str(alias));
        a->session = s;
        insert_sorted(s, a);
        poe__ref(k, s, POE_REASON_ALIASES);
        return poe__rv(k, 0, __func__);
}

POE_EXPORT int poe_kernel_alias_remove(poe_kernel *k, const char *alias)
{
        poe__alias *a;

        POE_CHECK(k, k && alias, -EINVAL);
        a = poe__alias_get(k, alias);
        if (!a)
                return poe__rv(k, poe__explain_usage(k, -ESRCH, "alias '%s' does not exist", alias),
                               __func__);
        if (a->session != k->active)
                return poe__rv(k,
                               poe__explain_usage(k, -EPERM,
                                                  "alias '%s' does not belong to current session",
                                                  alias),
                               __func__);
        alias_remove(k, a);
        return poe__rv(k, 0, __func__);
}

/*
 * POE's _resolve_session for names: a session id written in decimal
 * first, then the kernel's own id string (POE registers $kernel->ID
 * among the session ids, so signal($kernel->ID, ...) reaches the
 * kernel), then an alias (POE tries ids before aliases, so an alias that
 * looks like a live session's id is shadowed by it).  What the cache
 * (aliases.h, poe__resolve) did not answer: it holds alias hits only, and
 * numeric names are never cached, since they depend on which sessions
 * exist.
 */
poe__session *poe__resolve_slow(poe_kernel *k, const char *name)
{
        unsigned slot = (unsigned)((uintptr_t)name >> 3) & 7;
        poe__alias *a;

        if (*name >= '0' && *name <= '9') {
                char *end;
                unsigned long long id;

                errno = 0;
                id = strtoull(name, &end, 10);
                if (!*end && !errno && id != POE_KERNEL) {
                        poe__session *s = poe__session_get(k, (poe_sid)id);

                        if (s)
                                return s;
                }
        }
        if (strcmp(name, k->id) == 0)
                return poe__session_get(k, POE_KERNEL); /* NULL once finalized */
        a = poe__alias_get(k, name);
        if (!a)
                return NULL;
        if (!(*name >= '0' && *name <= '9')) {
                k->alias_cache[slot].ptr = name;
                k->alias_cache[slot].alias = a;
        }
        return a->session;
}

POE_EXPORT int poe_kernel_alias_resolve(poe_kernel *k, const char *alias, poe_sid *ret_sid)
{
        poe__session *s;

        POE_CHECK(k, k && alias, -EINVAL);
        s = poe__resolve(k, alias);
        /* POE's alias_resolve returns undef quietly: not a failed call
         * for TRACE_RETVALS or ASSERT_RETVALS. */
        if (!s)
                return -ESRCH;
        if (ret_sid)
                *ret_sid = s->id;
        return poe__rv(k, 0, __func__);
}

POE_EXPORT int poe_kernel_alias_list(poe_kernel *k, poe_sid sid, const char **ret, size_t n)
{
        poe__session *s;
        const poe__alias *a;
        size_t count = 0;

        POE_CHECK(k, k && (ret || !n), -EINVAL);
        s = poe__session_get(k, sid);
        if (!s)
                return poe__rv_unresolved(k, __func__, NULL, 0);
        for (a = s->aliases; a; a = a->next) {
                if (count < n)
                        ret[count] = a->name;
                count++;
        }
        return poe__rv(k, (int)count, __func__);
}

void poe__aliases_clear_session(poe_kernel *k, poe__session *s)
{
        while (s->aliases)
                alias_remove(k, s->aliases);
}
