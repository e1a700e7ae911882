/*
 * What the Chrome and OTLP exports pair records with, in state bounded
 * whatever the selection's size: the stack of dispatches waiting for
 * their return (at most STACK_MAX, a ring, so dropping the outermost is
 * O(1)) and the table of posts waiting for their dispatch (at most
 * POSTS_MAX, keyed by event id, entries removed as they pair).  What
 * either does past its cap is in tracelog-internal.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tracelog-internal.h"

bool poe__tl_same_event(const char *a, const char *b)
{
        return a == b || (a && b && strcmp(a, b) == 0);
}

bool poe__tl_is_post(const char *event, uint64_t event_id)
{
        return event_id && !(event && strcmp(event, "_garbage_collect") == 0);
}

/* ---- the dispatch stack ---- */

open_dispatch *poe__tl_dstack_at(const dstack *ds, size_t i)
{
        return &ds->s[(ds->base + ds->depth - i) & (ds->cap - 1)];
}

/* Doubles the ring, its entries moved to the start in order. */
static bool dstack_grow(dstack *ds)
{
        size_t cap = ds->cap ? ds->cap * 2 : 64, i;
        open_dispatch *s = malloc(cap * sizeof(*s));

        if (!s)
                return false;
        for (i = 0; i < ds->depth; i++)
                s[i] = ds->s[(ds->base + i) & (ds->cap - 1)];
        free(ds->s);
        ds->s = s;
        ds->cap = cap;
        ds->base = 0;
        return true;
}

open_dispatch *poe__tl_dstack_push(dstack *ds, uint64_t sid, const char *event, int64_t ns)
{
        open_dispatch *d;
        char *copy = NULL;

        if (event && !(copy = strdup(event)))
                return NULL;
        if (ds->depth == ds->cap && !dstack_grow(ds)) {
                free(copy);
                return NULL;
        }
        ds->depth++;
        d = poe__tl_dstack_at(ds, 1);
        memset(d, 0, sizeof(*d));
        d->sid = sid;
        d->ns = ns;
        d->event = copy;
        return d;
}

open_dispatch *poe__tl_dstack_pop(dstack *ds)
{
        open_dispatch *d = poe__tl_dstack_at(ds, 1);

        ds->depth--;
        return d;
}

open_dispatch *poe__tl_dstack_shift(dstack *ds)
{
        open_dispatch *d = &ds->s[ds->base];

        ds->base = (ds->base + 1) & (ds->cap - 1);
        ds->depth--;
        return d;
}

size_t poe__tl_dstack_match(const dstack *ds, uint64_t sid, const char *event)
{
        size_t i, n = ds->depth < STACK_SEARCH ? ds->depth : STACK_SEARCH;

        for (i = 1; i <= n; i++) {
                const open_dispatch *d = poe__tl_dstack_at(ds, i);

                if (d->sid == sid && poe__tl_same_event(d->event, event))
                        return i;
        }
        return 0;
}

void poe__tl_dstack_free(dstack *ds)
{
        while (ds->depth > 0) {
                open_dispatch *d = poe__tl_dstack_pop(ds);

                json_decref(d->obj);
                free(d->event);
        }
        free(ds->s);
        memset(ds, 0, sizeof(*ds));
}

/* ---- the post table ---- */

/* Linear probing; removal shifts the run back instead of leaving
 * tombstones, so a long export that posts and dispatches millions of
 * events keeps a table the size of what is pending at once. */
static size_t post_home(uint64_t id, size_t cap)
{
        return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

static bool post_grow(post_table *pt)
{
        size_t cap = pt->cap ? pt->cap * 2 : 256, i, j;
        posted *s = calloc(cap, sizeof(*s));

        if (!s)
                return false;
        for (i = 0; i < pt->cap; i++) {
                if (!pt->slot[i].event_id)
                        continue;
                j = post_home(pt->slot[i].event_id, cap);
                while (s[j].event_id)
                        j = (j + 1) & (cap - 1);
                s[j] = pt->slot[i];
        }
        free(pt->slot);
        pt->slot = s;
        pt->cap = cap;
        return true;
}

int poe__tl_post_put(post_table *pt, const posted *p, posted *old)
{
        size_t i;

        memset(old, 0, sizeof(*old));
        if (pt->cap) {
                i = post_home(p->event_id, pt->cap);
                while (pt->slot[i].event_id && pt->slot[i].event_id != p->event_id)
                        i = (i + 1) & (pt->cap - 1);
                if (pt->slot[i].event_id) {
                        *old = pt->slot[i];
                        pt->slot[i] = *p;
                        return 0;
                }
        }
        if (pt->n >= POSTS_MAX)
                return -ENOSPC;
        if ((pt->n + 1) * 2 > pt->cap && !post_grow(pt))
                return -ENOMEM;
        i = post_home(p->event_id, pt->cap);
        while (pt->slot[i].event_id)
                i = (i + 1) & (pt->cap - 1);
        pt->slot[i] = *p;
        pt->n++;
        return 0;
}

bool poe__tl_post_take(post_table *pt, uint64_t event_id, posted *ret)
{
        size_t i, j, k, mask = pt->cap - 1;

        if (!event_id || !pt->n)
                return false;
        i = post_home(event_id, pt->cap);
        while (pt->slot[i].event_id != event_id) {
                if (!pt->slot[i].event_id)
                        return false;
                i = (i + 1) & mask;
        }
        *ret = pt->slot[i];
        for (j = i;;) {
                j = (j + 1) & mask;
                if (!pt->slot[j].event_id)
                        break;
                k = post_home(pt->slot[j].event_id, pt->cap);
                /* Moved back unless its home lies cyclically in (i, j]. */
                if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
                        pt->slot[i] = pt->slot[j];
                        i = j;
                }
        }
        pt->slot[i].event_id = 0;
        pt->n--;
        return true;
}

bool poe__tl_post_next(post_table *pt, size_t *pos, posted *ret)
{
        for (; *pos < pt->cap; (*pos)++) {
                if (!pt->slot[*pos].event_id)
                        continue;
                *ret = pt->slot[*pos];
                pt->slot[*pos].head = NULL;
                (*pos)++;
                return true;
        }
        return false;
}

void poe__tl_post_free(post_table *pt)
{
        size_t i;

        for (i = 0; i < pt->cap; i++)
                if (pt->slot[i].event_id)
                        free(pt->slot[i].head);
        free(pt->slot);
        memset(pt, 0, sizeof(*pt));
}
