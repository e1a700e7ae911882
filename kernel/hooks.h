/*
 * Kernel hooks (poe_kernel_hook_add): what each kernel keeps of the hooks
 * it ran when it was made, so poe_kernel_free can undo them even if a hook
 * is removed from the process's list in between.  The list itself lives
 * in hooks.c.
 */
#ifndef POE_HOOKS_H
#define POE_HOOKS_H

#include "poe/poe.h"

/* As many hooks as the process may register (poe.h says 8). */
#define POE__HOOKS_MAX 8

typedef struct poe__hooks {
        unsigned n; /* hooks whose on_new ran, in order */
        struct poe__hook_ran {
                poe_kernel_free_hook_fn on_free; /* may be NULL */
                void *data;
                void *state; /* what on_new returned */
        } ran[POE__HOOKS_MAX];
} poe__hooks;

/* Runs every registered hook's on_new for k (poe_kernel_new, once k is
 * whole), and their on_free in the reverse order (poe_kernel_free). */
void poe__hooks_run_new(poe_kernel *k, poe__hooks *h);
void poe__hooks_run_free(poe_kernel *k, poe__hooks *h);

#endif
