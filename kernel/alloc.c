/*
 * The one allocation path.  Every byte the kernel holds comes through
 * here, so a test can fail the Nth allocation and check that the kernel
 * stays consistent (SQLite's and jansson's approach).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

void *poe__malloc(poe_kernel *k, size_t n)
{
        return k->alloc.malloc(n ? n : 1, k->alloc.ctx);
}

void *poe__calloc(poe_kernel *k, size_t n, size_t size)
{
        void *p;

        if (size && n > SIZE_MAX / size)
                return NULL;
        p = poe__malloc(k, n * size);
        if (p)
                memset(p, 0, n * size);
        return p;
}

void *poe__realloc(poe_kernel *k, void *p, size_t n)
{
        return k->alloc.realloc(p, n ? n : 1, k->alloc.ctx);
}

void poe__free(poe_kernel *k, void *p)
{
        if (p)
                k->alloc.free(p, k->alloc.ctx);
}

char *poe__strdup(poe_kernel *k, const char *s)
{
        size_t n = strlen(s) + 1;
        char *d = poe__malloc(k, n);

        if (d)
                memcpy(d, s, n);
        return d;
}

/* Pages are faulted in one by one as they are first written, a trap
 * each; a block about to be written whole is faulted in at once
 * instead, by one call (Linux 5.14's MADV_POPULATE_WRITE; elsewhere,
 * or when the call fails, the pages fault as before; with pages bigger
 * than 4 KB an unaligned start is refused, the same).  Only its whole
 * pages, and only for a big block: a small one has few to fault. */
void poe__prefault(void *p, size_t n)
{
#if defined(MADV_POPULATE_WRITE)
        uintptr_t page = 4096, a = ((uintptr_t)p + page - 1) & ~(page - 1);
        uintptr_t e = ((uintptr_t)p + n) & ~(page - 1);

        if (n >= 16 * page && e > a)
                (void)madvise((void *)a, e - a, MADV_POPULATE_WRITE);
#else
        (void)p;
        (void)n;
#endif
}
