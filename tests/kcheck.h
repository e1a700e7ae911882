/* The kernel's consistency check without cmocka: see kcheck.c. */
#ifndef POE_TESTS_KCHECK_H
#define POE_TESTS_KCHECK_H

#include <stddef.h>

#include <poe/poe.h>

/* Returns 0 when the kernel's bookkeeping holds, else -1 with what is
 * wrong in why.  Call it between timeslices, never from a handler of
 * another thread. */
int tl_kernel_consistent(poe_kernel *k, char *why, size_t size);

#endif
