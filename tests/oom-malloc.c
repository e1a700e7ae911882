/* The failing malloc for whole programs: see oom-malloc.h. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#include "oom-malloc.h"

/* ASan calls malloc while it starts, before its shadow memory exists:
 * these functions must not be instrumented. */
#define OM_NOSAN __attribute__((no_sanitize_address, no_sanitize_undefined))

/* glibc's own entry points, and ASan's when it is linked in. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t n);
extern void *__interceptor_malloc(size_t n) __attribute__((weak));
extern void *__interceptor_calloc(size_t n, size_t size) __attribute__((weak));
extern void *__interceptor_realloc(void *p, size_t n) __attribute__((weak));
extern void __interceptor_free(void *p) __attribute__((weak));
extern void *__interceptor_memalign(size_t align, size_t n) __attribute__((weak));

/* Defined here, so declared here (-Wmissing-prototypes). */
void *memalign(size_t align, size_t n);
void *valloc(size_t n);
void *pvalloc(size_t n);

static atomic_bool armed, fail_rest, all_threads;
static atomic_ulong calls, fail_at, failures;
static atomic_long live;
static atomic_bool seen;
static pthread_t owner;

void om_arm(unsigned long nth, bool rest, bool all)
{
        owner = pthread_self();
        atomic_store(&calls, 0);
        atomic_store(&failures, 0);
        atomic_store(&fail_at, nth);
        atomic_store(&fail_rest, rest);
        atomic_store(&all_threads, all);
        atomic_store(&armed, true);
}

unsigned long om_disarm(void)
{
        atomic_store(&armed, false);
        return atomic_load(&failures);
}

unsigned long om_calls(void)
{
        return atomic_load(&calls);
}

long om_live(void)
{
        return atomic_load(&live);
}

bool om_live_exact(void)
{
        return !__interceptor_malloc;
}

bool om_active(void)
{
        return atomic_load(&seen);
}

OM_NOSAN static bool fails(void)
{
        unsigned long n;

        atomic_store_explicit(&seen, true, memory_order_relaxed);
        if (!atomic_load(&armed))
                return false;
        if (!atomic_load(&all_threads) && !pthread_equal(pthread_self(), owner))
                return false;
        n = atomic_fetch_add(&calls, 1) + 1;
        if (n == atomic_load(&fail_at) || (atomic_load(&fail_rest) && n > atomic_load(&fail_at))) {
                atomic_fetch_add(&failures, 1);
                errno = ENOMEM;
                return true;
        }
        return false;
}

OM_NOSAN static void *counted(void *p)
{
        if (p)
                atomic_fetch_add(&live, 1);
        return p;
}

OM_NOSAN void *malloc(size_t n)
{
        if (fails())
                return NULL;
        return counted(__interceptor_malloc ? __interceptor_malloc(n) : __libc_malloc(n));
}

OM_NOSAN void *calloc(size_t n, size_t size)
{
        if (fails())
                return NULL;
        return counted(__interceptor_calloc ? __interceptor_calloc(n, size)
                                            : __libc_calloc(n, size));
}

OM_NOSAN void *realloc(void *p, size_t n)
{
        void *q;

        if (!p)
                return malloc(n);
        if (n == 0) {
                free(p);
                return NULL;
        }
        if (fails())
                return NULL;
        q = __interceptor_realloc ? __interceptor_realloc(p, n) : __libc_realloc(p, n);
        return q;
}

OM_NOSAN void free(void *p)
{
        if (!p)
                return;
        atomic_fetch_sub(&live, 1);
        if (__interceptor_free)
                __interceptor_free(p);
        else
                __libc_free(p);
}

OM_NOSAN void *memalign(size_t align, size_t n)
{
        if (fails())
                return NULL;
        return counted(__interceptor_memalign ? __interceptor_memalign(align, n)
                                              : __libc_memalign(align, n));
}

OM_NOSAN void *aligned_alloc(size_t align, size_t n)
{
        return memalign(align, n);
}

OM_NOSAN int posix_memalign(void **ret, size_t align, size_t n)
{
        void *p = memalign(align, n);

        if (!p)
                return ENOMEM;
        *ret = p;
        return 0;
}

OM_NOSAN void *valloc(size_t n)
{
        return memalign(4096, n);
}

OM_NOSAN void *pvalloc(size_t n)
{
        return memalign(4096, (n + 4095) & ~(size_t)4095);
}
