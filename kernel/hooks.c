/*
 * Kernel hooks: a process-wide list of functions every new kernel runs,
 * through which other libraries hook into kernels they did not make
 * (libpoe-inspector's autostart: inspector/inspector.c).  The kernel knows
 * nothing of who registers; the dependency runs from them to libpoe.
 *
 * The list is small and fixed (POE__HOOKS_MAX), so registering allocates
 * nothing and cannot fail for memory; a mutex guards it because
 * registration may come from any thread, and constructors run before
 * main.  A new kernel copies the list under the mutex and calls the hooks
 * without it held, so a hook may itself add or remove hooks.  Cost: a
 * lock and a copy of at most 8 entries per poe_kernel_new.
 */
#include <pthread.h>
#include <string.h>

#include "internal.h"

static struct hook {
        poe_kernel_new_hook_fn on_new;
        poe_kernel_free_hook_fn on_free;
        void *data;
} hooks[POE__HOOKS_MAX];
static unsigned n_hooks;
static pthread_mutex_t hooks_lock = PTHREAD_MUTEX_INITIALIZER;

static int find(poe_kernel_new_hook_fn on_new, poe_kernel_free_hook_fn on_free, void *data)
{
        unsigned i;

        for (i = 0; i < n_hooks; i++)
                if (hooks[i].on_new == on_new && hooks[i].on_free == on_free &&
                    hooks[i].data == data)
                        return (int)i;
        return -1;
}

POE_EXPORT int poe_kernel_hook_add(poe_kernel_new_hook_fn on_new, poe_kernel_free_hook_fn on_free,
                                   void *data)
{
        int r = 0;

        POE_ASSERT_RETURN(on_new, -EINVAL);
        pthread_mutex_lock(&hooks_lock);
        if (find(on_new, on_free, data) >= 0)
                r = -EEXIST;
        else if (n_hooks == POE__HOOKS_MAX)
                r = -ENOSPC;
        else
                hooks[n_hooks++] = (struct hook){on_new, on_free, data};
        pthread_mutex_unlock(&hooks_lock);
        return r;
}

POE_EXPORT int poe_kernel_hook_remove(poe_kernel_new_hook_fn on_new,
                                      poe_kernel_free_hook_fn on_free, void *data)
{
        int i;

        POE_ASSERT_RETURN(on_new, -EINVAL);
        pthread_mutex_lock(&hooks_lock);
        i = find(on_new, on_free, data);
        if (i >= 0) {
                /* Keep the order of the rest: hooks run as they were added. */
                memmove(&hooks[i], &hooks[i + 1], (n_hooks - (unsigned)i - 1) * sizeof(hooks[0]));
                n_hooks--;
        }
        pthread_mutex_unlock(&hooks_lock);
        return i >= 0 ? 0 : -ENOENT;
}

void poe__hooks_run_new(poe_kernel *k, poe__hooks *h)
{
        struct hook now[POE__HOOKS_MAX];
        unsigned i, n;

        pthread_mutex_lock(&hooks_lock);
        n = n_hooks;
        memcpy(now, hooks, n * sizeof(now[0]));
        pthread_mutex_unlock(&hooks_lock);
        h->n = 0;
        for (i = 0; i < n; i++) {
                void *state = now[i].on_new(k, now[i].data);

                h->ran[h->n++] = (struct poe__hook_ran){now[i].on_free, now[i].data, state};
        }
}

void poe__hooks_run_free(poe_kernel *k, poe__hooks *h)
{
        while (h->n > 0) {
                struct poe__hook_ran *r = &h->ran[--h->n];

                if (r->on_free)
                        r->on_free(k, r->state, r->data);
        }
}
