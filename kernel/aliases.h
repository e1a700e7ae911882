/*
 * Names held for a session (aliases.c, extrefs.c): aliases, and extra
 * references.
 */
#include "internal.h"

#ifndef POE_ALIASES_H_PART
#define POE_ALIASES_H_PART

/* An alias, its name in the same allocation: 16 bytes and the name. */
typedef struct poe__alias {
        poe__session *session;
        struct poe__alias *next; /* session->aliases, sorted by name */
        char name[];
} poe__alias;

typedef struct poe__extref {
        char *tag;
        int count;
        uint32_t file; /* interned: where its count was last raised */
        int line;
        poe__list_node in_session;
} poe__extref;

/* Aliases: the part of struct poe_kernel (internal.h says how parts work). */
#define POE__ALIASES_PART                                                 \
        /* Aliases by name (poe__alias_get), and poe__resolve's cache of  \
         * recent hits, emptied whenever an alias goes. */                \
        poe__pmap aliases;                                                \
        struct {                                                          \
                const char *ptr;                                          \
                struct poe__alias *alias;                                 \
        } alias_cache[8];                                                 \
        size_t n_extref_sessions; /* sessions holding any extref */

#endif

#if !defined(POE__PARTS_ONLY) && !defined(POE_ALIASES_H)
#define POE_ALIASES_H

/* aliases.c, extrefs.c */
void poe__aliases_clear_session(poe_kernel *k, poe__session *s);
/* The alias of that name, or NULL. */
poe__alias *poe__alias_get(const poe_kernel *k, const char *name);
poe__session *poe__resolve_slow(poe_kernel *k, const char *name);

/*
 * POE's _resolve_session for names (aliases.c, poe__resolve_slow, says
 * the order).  A name given again by the same address (post_alias or
 * call_alias in a loop) is looked up once per change to the aliases:
 * the cache holds alias hits only, keyed by address, checked by content
 * (a reused buffer is never mistaken), and emptied whenever an alias
 * goes (alias_remove).  The hit is inline into post_alias and call_alias,
 * whose own registers are saved already (call_chain: 16 instructions
 * fewer a call than a hit in a function of its own).
 */
static inline poe__session *poe__resolve(poe_kernel *k, const char *name)
{
        unsigned slot = (unsigned)((uintptr_t)name >> 3) & 7;
        const poe__alias *a = k->alias_cache[slot].alias;

        if (__builtin_expect(a && k->alias_cache[slot].ptr == name, 1) &&
            __builtin_strcmp(a->name, name) == 0)
                return a->session;
        return poe__resolve_slow(k, name);
}
void poe__extrefs_clear_session(poe_kernel *k, poe__session *s);

#endif
