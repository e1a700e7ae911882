/*
 * Interned names.  An event, signal or option name becomes a small
 * integer the first time the kernel sees it; handler tables are keyed by
 * that integer, so a dispatch never hashes a string.  Names live as long
 * as the kernel (cost: a program that invents unbounded distinct event
 * names grows this table).
 */
#include <string.h>

#include "internal.h"
#include "debug.h"

static const char *const predefined[POE__N_PREDEFINED] = {
        [POE__N_START] = "_start",     [POE__N_STOP] = "_stop",
        [POE__N_PARENT] = "_parent",   [POE__N_CHILD] = "_child",
        [POE__N_DEFAULT] = "_default", [POE__N_SIGNAL] = "_signal",
        [POE__N_GC] = "_garbage_collect",
        [POE__N_IDLE] = "IDLE",        [POE__N_ZOMBIE] = "ZOMBIE",
        [POE__N_DIE] = "DIE",          [POE__N_CREATE] = "create",
        [POE__N_GAIN] = "gain",        [POE__N_LOSE] = "lose",
        [POE__N_TRACE] = "trace",      [POE__N_DEBUG] = "debug",
        [POE__N_DEFAULT_OPT] = "default", [POE__N_EMPTY] = "",
};

uint32_t poe__name_find(const poe_kernel *k, const char *name)
{
        void *v = poe__smap_get(&k->name_ids, name);

        return v ? (uint32_t)((uintptr_t)v - 1) : POE__NO_NAME;
}

uint32_t poe__intern(poe_kernel *k, const char *name)
{
        uint32_t id = poe__name_find(k, name);
        char *copy;

        if (id != POE__NO_NAME)
                return id;
        if (k->n_names == k->cap_names) {
                uint32_t cap = k->cap_names ? k->cap_names * 2 : 64;
                uint32_t *epochs;
                char **names;

                /* Each name's trace definition epoch beside it (trace.c).
                 * Grown first: if the names then fail, it is only larger
                 * than it need be. */
                epochs = poe__realloc(k, k->name_epochs, cap * sizeof(*epochs));
                if (!epochs)
                        return POE__NO_NAME;
                k->name_epochs = epochs;
                names = poe__realloc(k, k->names, cap * sizeof(*names));
                if (!names)
                        return POE__NO_NAME;
                k->names = names;
                k->cap_names = cap;
        }
        copy = poe__strdup(k, name);
        if (!copy)
                return POE__NO_NAME;
        /* Values are id + 1 so that id 0 is not a NULL value. */
        if (poe__smap_put(k, &k->name_ids, copy, (void *)(uintptr_t)(k->n_names + 1)) < 0) {
                poe__free(k, copy);
                return POE__NO_NAME;
        }
        k->names[k->n_names] = copy;
        k->name_epochs[k->n_names] = 0;
        return k->n_names++;
}

int poe__names_init(poe_kernel *k)
{
        uint32_t i;

        for (i = 0; i < POE__N_PREDEFINED; i++)
                if (poe__intern(k, predefined[i]) != i)
                        return -ENOMEM;
        return 0;
}

void poe__names_free(poe_kernel *k)
{
        uint32_t i;

        for (i = 0; i < k->n_names; i++)
                poe__free(k, k->names[i]);
        poe__free(k, k->names);
        poe__free(k, k->name_epochs);
        poe__smap_free(k, &k->name_ids);
        k->names = NULL;
        k->name_epochs = NULL;
        k->n_names = k->cap_names = 0;
}

/*
 * A miss of one of the address caches (poe__intern_cached and poe__file
 * in internal.h): the hash lookup, then the entry remembers the address.
 * Caller file names (post's __FILE__, or a binding's own string) are
 * interned like event names because the events that record them outlive
 * the call, and the string the caller passed may be reused as soon as
 * the call returns.
 */
uint32_t poe__intern_miss(poe_kernel *k, const char *name, poe__name_cache *entry)
{
        uint32_t id = poe__intern(k, name);

        if (id != POE__NO_NAME) {
                entry->ptr = name;
                entry->id = id;
        }
        return id;
}

/* poe__intern_cached's miss: poe__intern_miss through the name cache's
 * entry for the address. */
uint32_t poe__intern_cached_miss(poe_kernel *k, const char *name)
{
        return poe__intern_miss(k, name, poe__name_cache_entry(k, name));
}

/* poe__file's miss, the same way. */
uint32_t poe__file_miss(poe_kernel *k, const char *file)
{
        return poe__intern_miss(k, file, poe__file_cache_entry(k, file));
}
