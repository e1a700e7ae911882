/*
 * The kernel's internal bookkeeping, checked item by item: every
 * session's reasons sum to its refcount, the queue's events, children,
 * aliases and extrefs agree with the counts that stand for them.  Free of
 * cmocka, so the fuzz targets (fuzz/) run the same check the unit tests
 * do (testlib's tl_check_kernel wraps it).
 */
#include <stdio.h>
#include <string.h>

#include "kcheck.h"

#include "internal.h"
#include "aliases.h"
#include "queue.h"
#include "sessions.h"

#define CHECK(cond, ...)                                                          \
        do {                                                                      \
                if (!(cond)) {                                                    \
                        snprintf(why, size, __VA_ARGS__);                         \
                        return -1;                                                \
                }                                                                 \
        } while (0)

static size_t list_length(const poe__list *l)
{
        const poe__list_node *pos;
        size_t n = 0;

        for (pos = l->next; pos != l; pos = pos->next)
                n++;
        return n;
}

static size_t alias_count(const poe__session *s)
{
        const poe__alias *a;
        size_t n = 0;

        for (a = s->aliases; a; a = a->next)
                n++;
        return n;
}

static int check_session(poe_kernel *k, poe__session *s, char *why, size_t size)
{
        unsigned long long id = (unsigned long long)s->id;
        uint32_t sum = 0, to = 0, from = 0;
        poe__list_node *pos;
        const poe__alias *a;
        int r;

        for (r = 0; r < POE_REASON_MAX; r++)
                sum += poe__reason_get(s, r);
        CHECK(sum == s->refcnt, "session %llu: reasons sum to %u, refcnt is %u", id, sum,
              s->refcnt);
        CHECK(s->alive, "session %llu is in the table but not alive", id);

        /* Posted events live in the FIFO; each holds its destination and,
         * when different, its sender. */
        poe__list_foreach(pos, &k->fifo) {
                poe__event *ev = poe__container_of(pos, poe__event, link);

                if (ev->to == s)
                        to++;
                if (ev->u.from == s && ev->to != s)
                        from++;
        }
        CHECK(to == s->reasons[POE_REASON_EVENTS_TO], "session %llu: %u events queued to it, "
              "reason says %u", id, to, s->reasons[POE_REASON_EVENTS_TO]);
        CHECK(from == s->reasons[POE_REASON_EVENTS_FROM], "session %llu: %u events queued from "
              "it, reason says %u", id, from, s->reasons[POE_REASON_EVENTS_FROM]);

        /* What a session has in its more is counted there; a session
         * with children has one. */
        CHECK(s->more || s->reasons[POE_REASON_CHILDREN] == 0,
              "session %llu: %u children and "
              "no more",
              id, s->reasons[POE_REASON_CHILDREN]);
        CHECK(s->more || !s->is_nfa, "session %llu: a machine without its more", id);
        CHECK(list_length(POE__MORE_LIST(s, children)) == s->reasons[POE_REASON_CHILDREN],
              "session %llu: %zu children linked, reason says %u", id,
              list_length(POE__MORE_LIST(s, children)), s->reasons[POE_REASON_CHILDREN]);
        poe__list_foreach(pos, POE__MORE_LIST(s, children))
        {
                poe__session *c = poe__container_of(pos, poe__session, sibling);

                CHECK(c->parent == s, "session %llu: child %llu names another parent", id,
                      (unsigned long long)c->id);
                CHECK(poe__session_get(k, c->id) == c, "session %llu: child %llu is not in "
                      "the session table", id, (unsigned long long)c->id);
        }
        if (!s->is_kernel) {
                CHECK(s->parent != NULL, "session %llu has no parent", id);
                CHECK(poe__session_get(k, s->parent->id) == s->parent,
                      "session %llu: parent %llu is not in the session table", id,
                      (unsigned long long)s->parent->id);
        }

        CHECK(alias_count(s) == s->reasons[POE_REASON_ALIASES],
              "session %llu: %zu "
              "aliases, reason says %u",
              id, alias_count(s), s->reasons[POE_REASON_ALIASES]);
        for (a = s->aliases; a; a = a->next) {
                CHECK(a->session == s, "alias %s of session %llu names another", a->name, id);
                CHECK(poe__alias_get(k, a->name) == a,
                      "alias %s of session %llu is not in the alias table", a->name, id);
                CHECK(!a->next || strcmp(a->name, a->next->name) < 0,
                      "aliases %s and %s of session %llu are out of order", a->name, a->next->name,
                      id);
        }
        CHECK(list_length(POE__MORE_LIST(s, extrefs)) == poe__reason_get(s, POE_REASON_EXTREFS),
              "session %llu: %zu extref tags, reason says %u", id,
              list_length(POE__MORE_LIST(s, extrefs)), poe__reason_get(s, POE_REASON_EXTREFS));
        poe__list_foreach(pos, POE__MORE_LIST(s, extrefs))
        {
                poe__extref *e = poe__container_of(pos, poe__extref, in_session);

                CHECK(e->count > 0, "session %llu: extref %s has count %d", id, e->tag,
                      e->count);
        }
        /* A session the running GC sweep took off the marked list is
         * about to be stopped: a handler of the sweep (another session's
         * _stop) may look at the kernel meanwhile. */
        CHECK(s->is_kernel || s->refcnt > 0 || s->marked || s->stopping || poe__in_sweep(s),
              "session %llu has no references and is not marked for collection", id);
        CHECK(s->is_kernel == !!(s->rare & POE__RARE_KERNEL) &&
                      s->is_nfa == !!(s->rare & POE__RARE_NFA) &&
                      s->opt_trace == !!(s->rare & POE__RARE_TRACE),
              "session %llu: its rare flags say otherwise than its flags", id);
        /* Marked, it is on the marked list; the running sweep's are never
         * marked, but remarked (poe__gc_mark). */
        CHECK(!(s->marked && poe__in_sweep(s)), "session %llu is marked and in the sweep", id);
        CHECK(!s->remarked || poe__in_sweep(s), "session %llu is remarked outside the sweep", id);
        if (s->marked) {
                bool found = false;

                poe__list_foreach(pos, &k->gc_marked) found |= pos == &s->gc_link;
                CHECK(found, "session %llu is marked but not on the marked list", id);
        }
        return 0;
}

int tl_kernel_consistent(poe_kernel *k, char *why, size_t size)
{
        size_t i, n = 0, aliases = 0, posts = 0;
        poe__list_node *pos;

        for (i = 0; k->sessions.slots && i <= k->sessions.mask; i++) {
                poe__session *s = k->sessions.slots[i];

                if (!s)
                        continue;
                CHECK(poe__session_get(k, s->id) == s,
                      "session %llu is in the session "
                      "table but not found there",
                      (unsigned long long)s->id);
                if (check_session(k, s, why, size) < 0)
                        return -1;
                aliases += alias_count(s);
                n++;
        }
        CHECK(n == k->sessions.count, "session table counts %zu, holds %zu",
              k->sessions.count, n);
        CHECK(n == k->n_sessions, "n_sessions is %zu, table holds %zu", k->n_sessions, n);
        CHECK(aliases == k->aliases.count, "alias table holds %zu, sessions hold %zu",
              k->aliases.count, aliases);
        poe__list_foreach(pos, &k->fifo) {
                poe__event *ev = poe__container_of(pos, poe__event, link);

                CHECK(poe__session_get(k, ev->to->id) == ev->to,
                      "an event to a freed session (%llu) is queued",
                      (unsigned long long)ev->to->id);
                CHECK(poe__session_get(k, ev->u.from->id) == ev->u.from,
                      "an event from a freed session (%llu) is queued",
                      (unsigned long long)ev->u.from->id);
                posts++;
        }
        CHECK(posts <= k->queue_count, "queue_count %zu but %zu posts queued", k->queue_count,
              posts);
        return 0;
}

