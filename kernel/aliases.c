/*
 * Aliases: POE::Resource::Aliases and the alias_* methods.  An alias
 * names a session for post and call, and keeps it alive until removed.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Keeps a session's aliases sorted, so alias_list is POE's sorted list. */
static void insert_sorted(poe__session *s, poe__alias *a)
{
        poe__list_node *pos;

        poe__list_foreach(pos, &s->aliases) {
                poe__alias *b = poe__container_of(pos, poe__alias, in_session);

                if (strcmp(a->name, b->name) < 0)
                        break;
        }
        poe__list_insert_before(pos, &a->in_session);
}

static void alias_remove(poe_kernel *k, poe__alias *a)
{
        poe__smap_del(&k->aliases, a->name);
        poe__list_remove(&a->in_session);
        poe__unref(k, a->session, POE__R_ALIASES);
        poe__free(k, a->name);
        poe__free(k, a);
}

POE_EXPORT int poe_kernel_alias_set(poe_kernel *k, const char *alias)
{
        poe__session *s;
        poe__alias *a;

        POE_ASSERT_RETURN(k && alias && *alias, -EINVAL);
        s = k->active;
        POE_ASSERT_RETURN(!s->is_kernel && s->alive, -EPERM); /* only inside a handler */
        a = poe__smap_get(&k->aliases, alias);
        if (a)
                return a->session == s ? 0 : -EEXIST;
        a = poe__calloc(k, 1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->name = poe__strdup(k, alias);
        if (!a->name || poe__smap_put(k, &k->aliases, a->name, a) < 0) {
                poe__free(k, a->name);
                poe__free(k, a);
                return -ENOMEM;
        }
        a->session = s;
        insert_sorted(s, a);
        poe__ref(k, s, POE__R_ALIASES);
        return 0;
}

POE_EXPORT int poe_kernel_alias_remove(poe_kernel *k, const char *alias)
{
        poe__alias *a;

        POE_ASSERT_RETURN(k && alias, -EINVAL);
        a = poe__smap_get(&k->aliases, alias);
        if (!a)
                return -ESRCH;
        if (a->session != k->active)
                return -EPERM;
        alias_remove(k, a);
        return 0;
}

/*
 * POE's _resolve_session for names: a session id written in decimal
 * first, then an alias (POE tries ids before aliases, so an alias that
 * looks like a live session's id is shadowed by it).
 */
poe__session *poe__resolve(const poe_kernel *k, const char *name)
{
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
        a = poe__smap_get(&k->aliases, name);
        return a ? a->session : NULL;
}

POE_EXPORT int poe_kernel_alias_resolve(poe_kernel *k, const char *alias, poe_sid *ret_sid)
{
        poe__session *s;

        POE_ASSERT_RETURN(k && alias, -EINVAL);
        s = poe__resolve(k, alias);
        if (!s)
                return -ESRCH;
        if (ret_sid)
                *ret_sid = s->id;
        return 0;
}

POE_EXPORT int poe_kernel_alias_list(poe_kernel *k, poe_sid sid, const char **ret, size_t n)
{
        poe__session *s;
        poe__list_node *pos;
        size_t count = 0;

        POE_ASSERT_RETURN(k && (ret || !n), -EINVAL);
        s = poe__session_get(k, sid);
        if (!s)
                return -ESRCH;
        poe__list_foreach(pos, &s->aliases) {
                if (count < n)
                        ret[count] = poe__container_of(pos, poe__alias, in_session)->name;
                count++;
        }
        return (int)count;
}

void poe__aliases_clear_session(poe_kernel *k, poe__session *s)
{
        while (!poe__list_empty(&s->aliases))
                alias_remove(k, poe__container_of(poe__list_first(&s->aliases), poe__alias,
                                                  in_session));
}
