/* UTF-8 and JSON strings (json-util.h). */
#include <stdint.h>
#include <string.h>

#include "json-util.h"
#include "poe/tracelog.h"

size_t poe__utf8_seq(const unsigned char *s, size_t n)
{
        unsigned c = s[0];
        size_t len, i;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf) {
                len = 2;
                cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                cp = c & 0x07;
        } else {
                return 0;
        }
        if (len > n)
                return 0;
        for (i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        /* Overlong forms, surrogates and code points past U+10FFFF are
         * what jansson refuses too. */
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

bool poe__utf8_valid(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0, l;

        while (i < n) {
                /* ASCII, the common case, without the call. */
                if (p[i] < 0x80) {
                        i++;
                        continue;
                }
                l = poe__utf8_seq(p + i, n - i);
                if (!l)
                        return false;
                i += l;
        }
        return true;
}

size_t poe__utf8_clean(const char *s, size_t n, char *out)
{
        const unsigned char *p = (const unsigned char *)s;
        size_t i = 0, o = 0, l;

        while (i < n) {
                l = poe__utf8_seq(p + i, n - i);
                if (l) {
                        memcpy(out + o, p + i, l);
                        o += l;
                        i += l;
                } else {
                        memcpy(out + o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                }
        }
        out[o] = '\0';
        return o;
}

json_t *poe__jstr_n(const char *s, size_t n)
{
        json_malloc_t m;
        json_free_t f;
        json_t *j;
        char *tmp;

        if (!s)
                return json_null();
        /* Checked once here: jansson need not check again. */
        if (poe__utf8_valid(s, n))
                return json_stringn_nocheck(s, n);
        if (n > (SIZE_MAX - 1) / 3)
                return NULL;
        json_get_alloc_funcs(&m, &f);
        tmp = m(3 * n + 1);
        if (!tmp)
                return NULL;
        n = poe__utf8_clean(s, n, tmp);
        j = json_stringn_nocheck(tmp, n);
        f(tmp);
        return j;
}

json_t *poe__jstr(const char *s)
{
        return s ? poe__jstr_n(s, strlen(s)) : json_null();
}

int poe__jset(json_t *o, const char *key, json_t *v)
{
        if (!v)
                return -1;
        return json_object_set_new(o, key, v);
}

/* The trace log's names for three of them (poe/tracelog.h), which
 * poe-trace and the inspector call. */
json_t *poe__tl_jstr_n(const char *s, size_t n)
{
        return poe__jstr_n(s, n);
}

json_t *poe__tl_jstr(const char *s)
{
        return poe__jstr(s);
}

int poe__tl_jset(json_t *o, const char *key, json_t *v)
{
        return poe__jset(o, key, v);
}

void *poe__jalloc(size_t n)
{
        json_malloc_t m;
        json_free_t f;

        json_get_alloc_funcs(&m, &f);
        return m(n ? n : 1);
}

void poe__jfree(void *p)
{
        json_malloc_t m;
        json_free_t f;

        if (!p)
                return;
        json_get_alloc_funcs(&m, &f);
        f(p);
}
