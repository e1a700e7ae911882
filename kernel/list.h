/*
 * An intrusive, circular, doubly linked list, in the manner of libuv's
 * queue.h: a node lives inside the object it links, so linking never
 * allocates and unlinking is O(1).
 */
#ifndef POE_LIST_H
#define POE_LIST_H

#include <stddef.h>

typedef struct poe__list_node {
        struct poe__list_node *next, *prev;
} poe__list_node;

typedef poe__list_node poe__list;

#define poe__container_of(ptr, type, member) \
        ((type *)((char *)(ptr) - offsetof(type, member)))

static inline void poe__list_init(poe__list *l)
{
        l->next = l->prev = l;
}

static inline int poe__list_empty(const poe__list *l)
{
        return l->next == l;
}

/* A node that is in no list points to itself, so unlinking twice is safe. */
static inline void poe__list_node_init(poe__list_node *n)
{
        n->next = n->prev = n;
}

static inline int poe__list_linked(const poe__list_node *n)
{
        return n->next != n;
}

static inline void poe__list_insert_before(poe__list_node *at, poe__list_node *n)
{
        n->next = at;
        n->prev = at->prev;
        at->prev->next = n;
        at->prev = n;
}

static inline void poe__list_append(poe__list *l, poe__list_node *n)
{
        poe__list_insert_before(l, n);
}

static inline void poe__list_remove(poe__list_node *n)
{
        n->prev->next = n->next;
        n->next->prev = n->prev;
        n->next = n->prev = n;
}

#define poe__list_first(l) ((l)->next)
#define poe__list_last(l) ((l)->prev)

#define poe__list_foreach(pos, l) for ((pos) = (l)->next; (pos) != (l); (pos) = (pos)->next)

/* Iteration that tolerates removal of the current node. */
#define poe__list_foreach_safe(pos, tmp, l) \
        for ((pos) = (l)->next, (tmp) = (pos)->next; (pos) != (l); (pos) = (tmp), (tmp) = (pos)->next)

#endif
