/* Request parameters: lookup, integers with bounds, paging. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "poe/tracelog.h"

const char *poe__param(const poe__params *p, const char *key)
{
        int i;

        for (i = 0; p && i < p->n; i++)
                if (strcmp(p->kv[i].key, key) == 0)
                        return p->kv[i].value ? p->kv[i].value : "";
        return NULL;
}

int poe__param_int(const poe__params *p, const char *key, int64_t dflt, int64_t min, int64_t max,
                   int64_t *ret)
{
        const char *v = poe__param(p, key);
        char *end;
        long long n;

        if (!v) {
                *ret = dflt;
                return 0;
        }
        errno = 0;
        n = strtoll(v, &end, 10);
        if (!*v || *end || errno || n < min || n > max)
                return -EINVAL;
        *ret = n;
        return 0;
}

int poe__param_page(const poe__params *p, poe__page *ret)
{
        if (poe__param_int(p, "offset", 0, 0, INT64_MAX / 2, &ret->offset) < 0 ||
            poe__param_int(p, "limit", 100, 1, 1000, &ret->limit) < 0)
                return -EINVAL;
        return 0;
}

json_t *poe__page_json(const poe__page *pg, size_t total)
{
        return json_pack("{s:I, s:I, s:I}", "offset", (json_int_t)pg->offset, "limit",
                         (json_int_t)pg->limit, "total", (json_int_t)total);
}

int poe__parse_sid(const char *s, size_t n, poe_sid *ret)
{
        poe_sid v = 0;
        size_t i;

        if (!n)
                return -EINVAL;
        for (i = 0; i < n; i++) {
                unsigned d = (unsigned)(s[i] - '0');

                if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - d) / 10)
                        return -EINVAL;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}
