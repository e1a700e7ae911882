/*
 * UTF-8 and JSON strings, one copy for the whole inspector: the live
 * state (api.c), the HTTP replies (http.c) and the trace log
 * (tracelog*.c) all turn the application's bytes into JSON here.
 *
 * Event names, aliases, tags, file names and the request's own bytes
 * need not be UTF-8, and json_string() refuses what is not: a 500 for a
 * harmless name.  These functions replace each byte that does not start
 * a valid sequence with U+FFFD instead, by jansson's rules (no overlong
 * forms, no surrogates, nothing past U+10FFFF), so every string that
 * reaches an answer is accepted.
 */
#ifndef POE_INSPECTOR_JSON_UTIL_H
#define POE_INSPECTOR_JSON_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0
 * where s does not start one. */
size_t poe__utf8_seq(const unsigned char *s, size_t n);

/* Whether the n bytes at s are valid UTF-8 throughout. */
bool poe__utf8_valid(const char *s, size_t n);

/* Copies the n bytes at s into out (3 * n + 1 bytes) with U+FFFD for
 * each byte that is not part of a valid sequence, NUL-terminated;
 * returns the length written. */
size_t poe__utf8_clean(const char *s, size_t n, char *out);

/* A JSON string of the n bytes at s, bad UTF-8 replaced (never
 * refused); NULL s gives null.  Returns a new reference, NULL only when
 * out of memory.  Its scratch memory comes from jansson's allocator, so
 * a test failing jansson's allocations one by one reaches it too. */
json_t *poe__jstr_n(const char *s, size_t n);

/* The same for a C string. */
json_t *poe__jstr(const char *s);

/* json_object_set_new that reports a NULL value (a constructor that ran
 * out of memory) as a failure too; it always consumes v.  0 or -1. */
int poe__jset(json_t *o, const char *key, json_t *v);

/* Our own arrays come from jansson's allocator too, so one failing
 * allocator in a test reaches every allocation the inspector makes. */
void *poe__jalloc(size_t n);
void poe__jfree(void *p);

#endif
