/*
 * A failing malloc for whole programs: the test executable defines
 * malloc, calloc, realloc, free and the aligned allocators, which glibc
 * lets override the ones every shared library calls (libmicrohttpd,
 * jansson, sqlite, libc itself).  Each forwards to glibc's (or, under
 * AddressSanitizer, ASan's) allocator, unless armed to fail the Nth
 * attempt, and every one after it with rest, counting only the arming
 * thread's attempts or every thread's.  Under valgrind it needs
 * --soname-synonyms=somalloc=nouserintercepts (the build's valgrind
 * setup passes it), or valgrind replaces these functions too.
 */
#ifndef POE_TEST_OOM_MALLOC_H
#define POE_TEST_OOM_MALLOC_H

#include <stdbool.h>

void om_arm(unsigned long nth, bool rest, bool all_threads);
/* Disarms; returns how many attempts were failed since om_arm. */
unsigned long om_disarm(void);
/* Attempts counted since om_arm. */
unsigned long om_calls(void);
/* Blocks allocated and not freed since the program started. */
long om_live(void);
/* Whether om_live is exact: not under ASan, whose interceptors
 * (strdup, ...) allocate without calling malloc. */
bool om_live_exact(void);
/* Whether the interposition works at all (a malloc was seen). */
bool om_active(void);

#endif
