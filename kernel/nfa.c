/*
 * State machines: POE::NFA.  A machine is a session (sessions.c creates,
 * tracks and stops it like any other) with a poe__nfa beside it: banks
 * of handlers, one per named state, the current state and the stack of
 * call_state.  The dispatcher hands a machine's events here
 * (poe__nfa_invoke, from events.c's invoke) instead of looking in the
 * session's own table, which for a machine holds only what state()
 * added: POE::NFA's SELF_INTERNALS.
 *
 * Transitions are events, as in POE: goto_state, call_state,
 * return_state and stop post (or, before the first state or with the
 * "immediate" option, call) poe_nfa_goto_state, poe_nfa_push_state,
 * poe_nfa_pop_state and poe_nfa_stop to the machine, and their dispatch
 * is POE::NFA's _invoke_state, written out below in its order.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "events.h"
#include "sessions.h"

/* One state: its interned name and its bank of handlers. */
typedef struct nfa_state {
        uint32_t name;
        poe__htable *handlers; /* private */
} nfa_state;

/* One call_state: the state to come back to and the return event. */
typedef struct nfa_frame {
        uint32_t state; /* interned; "(undef)" if the machine had none */
        uint32_t event; /* interned, or POE__NO_NAME for none */
} nfa_frame;

struct poe__nfa {
        nfa_state *states;
        uint32_t n_states;
        int32_t current; /* index into states, -1 before the first goto */
        /* POE::NFA looks up events in $self->[SELF_CURRENT], which Perl
         * autovivifies: once any event was looked up before the first
         * state, goto_state posts instead of calling. */
        bool vivified;
        uint32_t current_name; /* "(undef)" before the first goto */
        nfa_frame *stack;
        uint32_t n_stack, cap_stack;
        /* The names the dispatch compares against, interned once. */
        uint32_t n_goto, n_push, n_pop, n_stop, n_leave, n_undef;
};

void poe__nfa_free(poe_kernel *k, struct poe__nfa *m)
{
        uint32_t i;

        for (i = 0; i < m->n_states; i++)
                poe__htable_unref(k, m->states[i].handlers);
        poe__free(k, m->states);
        poe__free(k, m->stack);
        poe__free(k, m);
}

/* O(states): machines have a handful, and only transitions look. */
static nfa_state *find_state(struct poe__nfa *m, uint32_t name)
{
        uint32_t i;

        if (name == POE__NO_NAME)
                return NULL;
        for (i = 0; i < m->n_states; i++)
                if (m->states[i].name == name)
                        return &m->states[i];
        return NULL;
}

static nfa_state *current_state(struct poe__nfa *m)
{
        if (m->current < 0) {
                m->vivified = true;
                return NULL;
        }
        return &m->states[m->current];
}

/* POE::Kernel::_die from inside the machine's dispatch: the handler's
 * die, caught by the dispatch as any handler's is, its message's lines
 * prefixed with "=== PID === " as _die does. */
static __attribute__((noreturn, format(printf, 3, 4))) void nfa_die(poe_kernel *k, poe__session *s,
                                                                    const char *fmt, ...)
{
        poe_ctx c;
        char msg[1024];
        va_list ap;

        memset(&c, 0, sizeof(c));
        c.k = k;
        c.s = s;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        poe_die_at(&c, __FILE__, __LINE__, "=== %d === %s", (int)getpid(), msg);
}

/* A value as Perl would print it in a message ("" for undef). */
static const char *shown(const poe_value *v, char *buf, size_t size)
{
        if (!v || v->type == POE_T_NIL)
                return "";
        if (v->type == POE_T_STR)
                return v->u.s;
        poe_value_format(v, buf, size);
        return buf;
}

static poe_value invoke_state(poe_kernel *k, poe__session *s, poe_sid sender, uint32_t name,
                              uint32_t type, poe_value *args, size_t nargs, const char *file,
                              int line, uint32_t from_state);

/*
 * NFA_EN_GOTO_STATE: the new state must exist, and so must the entry
 * event's handler in it if one is named; the current state's "leave"
 * handler runs, the machine enters the new state, and the entry event's
 * handler runs there (both as nested invocations, within this dispatch,
 * with the machine as their sender and no caller file or line).
 */
static void nfa_goto(poe_kernel *k, poe__session *s, struct poe__nfa *m, uint32_t type,
                     const poe_value *state, const poe_value *entry, poe_value *args, size_t nargs)
{
        char b1[128], b2[128];
        nfa_state *to = NULL, *cur;
        uint32_t ev = POE__NO_NAME;
        poe_value r;

        if (state && state->type == POE_T_STR)
                to = find_state(m, poe__name_find(k, state->u.s));
        if (!to)
                nfa_die(k, s, "%llu tried to enter nonexistent state '%s'\n",
                        (unsigned long long)s->id, shown(state, b1, sizeof(b1)));
        if (entry && entry->type != POE_T_NIL) {
                if (entry->type == POE_T_STR && entry->len)
                        ev = poe__name_find(k, entry->u.s);
                if (ev == POE__NO_NAME || !poe__htable_find(to->handlers, ev))
                        nfa_die(k, s,
                                "%llu tried to invoke nonexistent enter event '%s' in state "
                                "'%s'\n",
                                (unsigned long long)s->id, shown(entry, b1, sizeof(b1)),
                                shown(state, b2, sizeof(b2)));
        }
        cur = current_state(m);
        if (cur && poe__htable_find(cur->handlers, m->n_leave)) {
                r = invoke_state(k, s, s->id, m->n_leave, type, NULL, 0, NULL, 0, POE__NO_NAME);
                poe_value_release(&r);
        }
        m->current = (int32_t)(to - m->states);
        m->current_name = to->name;
        if (ev != POE__NO_NAME) {
                r = invoke_state(k, s, s->id, ev, type, args, nargs, NULL, 0, POE__NO_NAME);
                poe_value_release(&r);
        }
}

/* NFA_EN_PUSH_STATE: ARG0 the return event, then goto's arguments. */
static void nfa_push(poe_kernel *k, poe__session *s, struct poe__nfa *m, uint32_t type,
                     poe_value *args, size_t nargs)
{
        nfa_frame f = {m->current_name, POE__NO_NAME};

        if (nargs && args[0].type == POE_T_STR) {
                f.event = poe__intern(k, args[0].u.s);
                if (f.event == POE__NO_NAME)
                        nfa_die(k, s, "%llu: out of memory pushing a state\n",
                                (unsigned long long)s->id);
        }
        if (m->n_stack == m->cap_stack) {
                uint32_t cap = m->cap_stack ? m->cap_stack * 2 : 4;
                nfa_frame *st = poe__realloc(k, m->stack, cap * sizeof(*st));

                if (!st)
                        nfa_die(k, s, "%llu: out of memory pushing a state\n",
                                (unsigned long long)s->id);
                m->stack = st;
                m->cap_stack = cap;
        }
        m->stack[m->n_stack++] = f;
        nfa_goto(k, s, m, type, nargs > 1 ? &args[1] : NULL, nargs > 2 ? &args[2] : NULL,
                 nargs > 3 ? args + 3 : NULL, nargs > 3 ? nargs - 3 : 0);
}

/* NFA_EN_POP_STATE: back to the state on top of the stack, its return
 * event dispatched there with this event's arguments. */
static void nfa_pop(poe_kernel *k, poe__session *s, struct poe__nfa *m, uint32_t type,
                    poe_value *args, size_t nargs)
{
        nfa_frame f;
        poe_value state, entry;

        if (!m->n_stack)
                nfa_die(k, s, "%llu tried to pop a state from an empty stack\n",
                        (unsigned long long)s->id);
        f = m->stack[--m->n_stack];
        state = poe_str(poe__name(k, f.state));
        entry = f.event == POE__NO_NAME ? poe_nil() : poe_str(poe__name(k, f.event));
        nfa_goto(k, s, m, type, &state, &entry, args, nargs);
}

/* POE::NFA's _invoke_state. */
static poe_value invoke_state(poe_kernel *k, poe__session *s, poe_sid sender, uint32_t name,
                              uint32_t type, poe_value *args, size_t nargs, const char *file,
                              int line, uint32_t from_state)
{
        struct poe__nfa *m = s->more->nfa;
        const poe__handler *h;
        poe_ctx c;
        poe_value dargs[2];
        poe_handler_fn fn;
        nfa_state *cur;

        if (s->opt_trace)
                poe__warn(k, "%llu -> %s\n", (unsigned long long)s->id, poe__name(k, name));
        /* "Discard troublesome things." */
        if (name == POE__N_START || name == POE__N_STOP)
                return poe_nil();
        if (name == m->n_stop) {
                poe__session_stop(k, s);
                return poe_nil();
        }
        if (name == m->n_goto) {
                nfa_goto(k, s, m, type, nargs > 0 ? &args[0] : NULL, nargs > 1 ? &args[1] : NULL,
                         nargs > 2 ? args + 2 : NULL, nargs > 2 ? nargs - 2 : 0);
                return poe_nil();
        }
        if (name == m->n_push) {
                nfa_push(k, s, m, type, args, nargs);
                return poe_nil();
        }
        if (name == m->n_pop) {
                nfa_pop(k, s, m, type, args, nargs);
                return poe_nil();
        }

        /* The current state's handler, else one state() added, else the
         * current state's _default. */
        cur = current_state(m);
        h = cur ? poe__htable_find(cur->handlers, name) : NULL;
        if (!h)
                h = poe__htable_find(s->handlers, name);
        if (!h && cur && (h = poe__htable_find(cur->handlers, POE__N_DEFAULT))) {
                if (s->opt_trace)
                        poe__warn(k, "%llu -> %s redirected to EN_DEFAULT in state '%s'\n",
                                  (unsigned long long)s->id, poe__name(k, name),
                                  poe__name(k, m->current_name));
                dargs[0] = poe_str(poe__name(k, name));
                dargs[1] = poe_list(args, nargs);
                name = POE__N_DEFAULT;
                args = dargs;
                nargs = 2;
        }
        if (!h) {
                /* POE would go on to call an undefined handler; nothing
                 * sends _signal any more. */
                if (name == POE__N_SIGNAL)
                        return poe_nil();
                nfa_die(k, s,
                        "a '%s' event was sent from %s at %d to session %llu, but session %llu "
                        "has neither a handler for it nor one for _default in its current "
                        "state, '%s'\n",
                        poe__name(k, name), file ? file : "", line, (unsigned long long)s->id,
                        (unsigned long long)s->id, poe__name(k, m->current_name));
        }
        c.k = k;
        c.s = s;
        c.state = name;
        c.sender = sender;
        c.object = h->object;
        c.file = file;
        c.line = line;
        c.from_state = from_state;
        c.args = args;
        c.nargs = nargs;
        /* Copied out first: the handler may replace or remove itself. */
        fn = h->fn;
        poe__count_handler(k, s, type);
        return fn(&c);
}

poe_value poe__nfa_invoke(poe_kernel *k, poe__delivery *d)
{
        return invoke_state(k, d->c.s, d->c.sender, d->c.state, d->type, d->c.args, d->c.nargs,
                            d->c.file, d->c.line, d->c.from_state);
}

/* ---- the public calls ---- */

POE_EXPORT int poe_nfa_spawn(poe_kernel *k, const poe_nfa_spec *spec, poe_sid *ret_sid)
{
        poe_session_spec ss;
        struct poe__nfa *m;
        size_t i, j;

        POE_CHECK(k, k && spec, -EINVAL);
        /* POE: "constructor requires at least one of the following
         * parameters: inline_states, object_states, package_states". */
        POE_CHECK(k, spec->states, -EINVAL);
        POE_CHECK(k, spec->n_options == 0 || spec->options, -EINVAL);
        for (i = 0; i < spec->n_options; i++)
                POE_CHECK(k, spec->options[i].name, -EINVAL);
        for (i = 0; i < spec->n_states; i++) {
                const poe_nfa_state *st = &spec->states[i];

                POE_CHECK(k, st->name, -EINVAL);
                POE_CHECK(k, st->n_handlers == 0 || st->handlers, -EINVAL);
                for (j = 0; j < st->n_handlers; j++)
                        POE_CHECK(k, st->handlers[j].event && st->handlers[j].fn, -EINVAL);
                /* O(states^2), once: a Perl hash cannot name a state twice. */
                for (j = 0; j < i; j++)
                        POE_CHECK(k, strcmp(spec->states[j].name, st->name) != 0, -EINVAL);
        }

        m = poe__calloc(k, 1, sizeof(*m));
        if (!m)
                return poe__rv(k, -ENOMEM, __func__);
        m->current = -1;
        if (spec->n_states) {
                m->states = poe__calloc(k, spec->n_states, sizeof(*m->states));
                if (!m->states)
                        goto enomem;
        }
        m->n_states = (uint32_t)spec->n_states;
        for (i = 0; i < spec->n_states; i++) {
                const poe_nfa_state *st = &spec->states[i];

                m->states[i].name = poe__intern(k, st->name);
                if (m->states[i].name == POE__NO_NAME)
                        goto enomem;
                for (j = 0; j < st->n_handlers; j++) {
                        poe__handler h = {poe__intern(k, st->handlers[j].event), st->handlers[j].fn,
                                          st->handlers[j].object};

                        if (h.name == POE__NO_NAME ||
                            poe__htable_put(k, &m->states[i].handlers, &h) < 0)
                                goto enomem;
                }
        }
        m->n_goto = poe__intern(k, "poe_nfa_goto_state");
        m->n_push = poe__intern(k, "poe_nfa_push_state");
        m->n_pop = poe__intern(k, "poe_nfa_pop_state");
        m->n_stop = poe__intern(k, "poe_nfa_stop");
        m->n_leave = poe__intern(k, "leave");
        m->n_undef = poe__intern(k, "(undef)");
        if (m->n_goto == POE__NO_NAME || m->n_push == POE__NO_NAME || m->n_pop == POE__NO_NAME ||
            m->n_stop == POE__NO_NAME || m->n_leave == POE__NO_NAME || m->n_undef == POE__NO_NAME)
                goto enomem;
        m->current_name = m->n_undef;

        memset(&ss, 0, sizeof(ss));
        ss.options = spec->options;
        ss.n_options = spec->n_options;
        ss.heap = spec->runstate;
        /* The session owns m from here, and frees it if this fails. */
        return poe__session_create(k, &ss, m, ret_sid, __func__);

enomem:
        poe__nfa_free(k, m);
        return poe__rv(k, -ENOMEM, __func__);
}

/* The machine named by machine, or NULL with *err set. */
static poe__session *machine_get(poe_kernel *k, poe_sid machine, int *err)
{
        poe__session *s = poe__session_get(k, machine);

        *err = !s ? -ESRCH : !s->is_nfa ? -EINVAL : 0;
        return *err ? NULL : s;
}

/* POE::NFA's transitions: posted to the machine from the active session,
 * or called when call is true (before the first state, or "immediate").
 * head's values (nhead <= 3) come before args. */
static int transition(poe_kernel *k, poe_sid machine, const char *event, int when,
                      const poe_value *head, size_t nhead, const poe_value *args, size_t nargs,
                      const char *func)
{
        poe_value small[8], *all = small, opt, ret;
        poe__session *s;
        bool call;
        int r;

        s = machine_get(k, machine, &r);
        if (!s) {
                poe__values_destroy_borrowed(args, nargs);
                return poe__rv(k, r, func);
        }
        call = poe_session_option_get(k, machine, "immediate", &opt) == 0 && poe_value_true(&opt);
        /* goto_state calls while the machine has no state (when == 1). */
        if (when == 1 && s->more->nfa->current < 0 && !s->more->nfa->vivified)
                call = true;
        if (nhead + nargs > 8) {
                all = poe__malloc(k, (nhead + nargs) * sizeof(*all));
                if (!all) {
                        poe__values_destroy_borrowed(args, nargs);
                        return poe__rv(k, -ENOMEM, func);
                }
        }
        if (nhead)
                memcpy(all, head, nhead * sizeof(*all));
        if (nargs)
                memcpy(all + nhead, args, nargs * sizeof(*all));
        if (call) {
                r = poe_kernel_call_at(k, __FILE__, __LINE__, machine, event, all, nhead + nargs,
                                       &ret);
                if (r >= 0)
                        poe_value_release(&ret);
        } else {
                r = poe_kernel_post_at(k, __FILE__, __LINE__, machine, event, all, nhead + nargs);
        }
        if (all != small)
                poe__free(k, all);
        return r < 0 ? r : 0;
}

static poe_value name_or_nil(const char *name)
{
        return name ? poe_str(name) : poe_nil();
}

POE_EXPORT int poe_nfa_goto_state(poe_kernel *k, poe_sid machine, const char *state,
                                  const char *entry_event, const poe_value *args, size_t nargs)
{
        poe_value head[2];

        POE_CHECK_ARGS(k, k && state && (nargs == 0 || args), -EINVAL, args, nargs);
        head[0] = poe_str(state);
        head[1] = name_or_nil(entry_event);
        return transition(k, machine, "poe_nfa_goto_state", 1, head, 2, args, nargs, __func__);
}

POE_EXPORT int poe_nfa_call_state(poe_kernel *k, poe_sid machine, const char *return_event,
                                  const char *state, const char *entry_event, const poe_value *args,
                                  size_t nargs)
{
        poe_value head[3];

        POE_CHECK_ARGS(k, k && state && (nargs == 0 || args), -EINVAL, args, nargs);
        head[0] = name_or_nil(return_event);
        head[1] = poe_str(state);
        head[2] = name_or_nil(entry_event);
        return transition(k, machine, "poe_nfa_push_state", 0, head, 3, args, nargs, __func__);
}

POE_EXPORT int poe_nfa_return_state(poe_kernel *k, poe_sid machine, const poe_value *args,
                                    size_t nargs)
{
        POE_CHECK_ARGS(k, k && (nargs == 0 || args), -EINVAL, args, nargs);
        return transition(k, machine, "poe_nfa_pop_state", 0, NULL, 0, args, nargs, __func__);
}

POE_EXPORT int poe_nfa_stop(poe_kernel *k, poe_sid machine)
{
        int r;

        POE_CHECK(k, k, -EINVAL);
        if (!machine_get(k, machine, &r))
                return poe__rv(k, r, __func__);
        /* Always posted, "immediate" or not, as POE::NFA's stop(). */
        r = poe_kernel_post_at(k, __FILE__, __LINE__, machine, "poe_nfa_stop", NULL, 0);
        return r < 0 ? r : 0;
}

POE_EXPORT int poe_nfa_get_current_state(poe_kernel *k, poe_sid machine, const char **ret_state)
{
        poe__session *s;
        int r;

        POE_CHECK(k, k && ret_state, -EINVAL);
        s = machine_get(k, machine, &r);
        if (!s)
                return poe__rv(k, r, __func__);
        *ret_state = poe__name(k, s->more->nfa->current_name);
        return 0;
}

POE_EXPORT void *poe_nfa_get_runstate(poe_kernel *k, poe_sid machine)
{
        poe__session *s = k ? poe__session_get(k, machine) : NULL;

        return s && s->is_nfa ? s->heap : NULL;
}

POE_EXPORT const char *poe_nfa_ctx_state(const poe_ctx *c)
{
        /* Read now, not when the handler was called: POE's $_[STATE]
         * aliases $self->[SELF_CURRENT_NAME] (oracle nfa-basics). */
        if (!c || !c->s->is_nfa)
                return NULL;
        return poe__name(c->k, c->s->more->nfa->current_name);
}
