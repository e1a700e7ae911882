/*
 * Posts from other threads (poe_kernel_post_from_thread, loop.c): queued
 * under a lock, taken by the kernel's thread when the loop wakes.
 */
#include "internal.h"

#ifndef POE_XTHREAD_H_PART
#define POE_XTHREAD_H_PART

/* Cross-thread posts: the part of struct poe_kernel (internal.h says how parts work). */
#define POE__XTHREAD_PART                                                 \
        _Atomic bool xposts_waiting; /* cross-thread posts are queued */  \
        struct poe__xpost *xposts; /* cross-thread posts, under xlock */  \
        struct poe__xpost **xposts_tail;                                  \
        void *xlock; /* pthread_mutex_t *, kept opaque here */

#endif

#if !defined(POE__PARTS_ONLY) && !defined(POE_XTHREAD_H)
#define POE_XTHREAD_H

/* Nothing but the part: the code, and struct poe__xpost, are loop.c's. */

#endif
