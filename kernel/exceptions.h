/*
 * Exceptions (exceptions.c): poe_die's unwinding to the dispatch's
 * landing frame, and POE's kr_exception.
 */
#include "internal.h"

#ifndef POE_EXCEPTIONS_H_PART
#define POE_EXCEPTIONS_H_PART

/*
 * A dispatch's landing place for poe_die (POE's eval around a handler).
 * GCC's and Clang's builtin setjmp saves three words and no signal mask,
 * against libc's full register set: it is set once per dispatch.  Under
 * AddressSanitizer libc's pair is kept, since ASan must see the unwind.
 */
#if defined(__SANITIZE_ADDRESS__)
typedef jmp_buf poe__jmpbuf;
#define POE__SETJMP(b) setjmp(b)
#define POE__LONGJMP(b) longjmp((b), 1)
#else
typedef void *poe__jmpbuf[5];
#define POE__SETJMP(b) __builtin_setjmp(b)
#define POE__LONGJMP(b) __builtin_longjmp((b), 1)
#endif

/* A landing frame for poe_die, and the delivery open under it, if any:
 * the one a die landing there finishes (exceptions.c, the die path). */
typedef struct poe__frame {
        poe__jmpbuf jb;
        struct poe__frame *up;
        struct poe__delivery *open;
} poe__frame;

/* Exceptions: the part of struct poe_kernel (internal.h says how parts work). */
#define POE__EXCEPTIONS_PART                                                    \
        /* Exceptions: the innermost dispatch's frame, the message poe_die      \
         * is unwinding with, and POE's kr_exception (what run() fails          \
         * with). */                                                            \
        poe__frame *frame;                                                      \
        char *die_msg;                                                          \
        /* Where poe_die was called, for the die's trace record (a copy:        \
         * the caller's string may be gone once it has unwound). */             \
        char die_file[256];                                                     \
        int die_line;                                                           \
        char *exception;                                                        \
        /* POE_CATCH_EXCEPTIONS, default on: read from the environment once. */ \
        bool catch_exceptions;

#endif

#if !defined(POE__PARTS_ONLY) && !defined(POE_EXCEPTIONS_H)
#define POE_EXCEPTIONS_H

/* Makes f the innermost landing frame, with no delivery open in it yet.
 * Its owner calls POE__SETJMP(f->jb) itself right after (a setjmp's
 * frame must be the function that returns to it) and puts k->frame back
 * to f->up when done or landed. */
static inline void poe__frame_push(poe_kernel *k, poe__frame *f)
{
        f->up = k->frame;
        f->open = NULL;
        k->frame = f;
}

/* Unwinds to k->frame (exceptions.c): never from the function that set
 * the frame, as the builtin pair requires. */
__attribute__((noreturn)) void poe__unwind(poe_kernel *k);

/* exceptions.c */
void poe__exception_caught(poe_kernel *k, const struct poe__delivery *d);
/* The die path (exceptions.c): finishes the delivery open under f; the
 * slice's frame's landing: that, its event freed, the slice goes on. */
struct poe__delivery *poe__landed(poe_kernel *k, poe__frame *f);
void poe__slice_landed(poe_kernel *k, poe__frame *f);
void poe__exception_set(poe_kernel *k, char *msg);
void poe__exception_clear(poe_kernel *k);
void poe__rethrow(poe_kernel *k);
void poe__exceptions_free(poe_kernel *k);

#endif
