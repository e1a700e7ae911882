/*
 * The one allocation path.  Every byte the kernel holds comes through
 * here, so a test can fail the Nth allocation and check that the kernel
 * stays consistent (SQLite's and jansson's approach).
 */
#include <stdlib.h>
#include <string.h>

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
