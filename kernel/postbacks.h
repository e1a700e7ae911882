/*
 * Postbacks and callbacks (postbacks.c).
 */
#include "internal.h"

#ifndef POE_POSTBACKS_H_PART
#define POE_POSTBACKS_H_PART

/* Postbacks: the part of struct poe_kernel (internal.h says how parts work). */
#define POE__POSTBACKS_PART                                                   \
        /* Postbacks and callbacks made by this kernel, still alive. */       \
        poe__list postbacks;                                                  \
        size_t n_live_postbacks; /* not weakened: they keep sessions busy */

#endif

#if !defined(POE__PARTS_ONLY) && !defined(POE_POSTBACKS_H)
#define POE_POSTBACKS_H

/* postbacks.c */
void poe__postbacks_detach(poe_kernel *k);
void poe__postbacks_clear_session(poe_kernel *k, poe__session *s);

#endif
