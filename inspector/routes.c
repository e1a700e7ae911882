/*
 * The route table: every request the inspector answers, and every
 * security and threading decision about it, as data in one place.
 *
 * http.c's pipeline looks a request up here, then checks what the route
 * needs (the token, a same-site origin, a JSON body, the trace log) and
 * runs its handler where the route says: at once on the server's polling
 * thread, on the pool, or on the kernel's thread.  test-api.c reaches
 * the live-state handlers through the same table (poe__api_get).
 *
 * Order matters: the first route whose path and method match wins, and
 * the last two catch what no other names (an unknown /api/ path answers
 * a JSON 404; anything else is the page's).  Lookup is O(routes), a few
 * dozen string compares.
 */
#include <string.h>

#include "http.h"

#define API   POE__NEED_SAME_SITE
#define LOG   (POE__NEED_SAME_SITE | POE__NEED_LOG)
#define WRITE (POE__NEED_SAME_SITE | POE__NEED_TOKEN | POE__NEED_BODY)

static const poe__route routes[] = {
        /* Live state, built on the kernel's thread (api.c). */
        { POE__GET, "/api/v1/kernel", POE__ON_KERNEL, API, poe__api_kernel,
          poe__http_stuck_kernel },
        { POE__GET, "/api/v1/sessions", POE__ON_KERNEL, API, poe__api_sessions, NULL },
        { POE__GET, "/api/v1/sessions/{id}", POE__ON_KERNEL, API, poe__api_session, NULL },
        { POE__GET, "/api/v1/sessions/{id}/reasons", POE__ON_KERNEL, API, poe__api_reasons,
          NULL },
        { POE__GET, "/api/v1/why", POE__ON_KERNEL, API, poe__api_why, NULL },
        { POE__GET, "/api/v1/tree", POE__ON_KERNEL, API, poe__api_tree, NULL },
        { POE__GET, "/api/v1/queue", POE__ON_KERNEL, API, poe__api_queue, NULL },
        { POE__GET, "/api/v1/timers", POE__ON_KERNEL, API, poe__api_timers, NULL },
        { POE__GET, "/api/v1/watchers", POE__ON_KERNEL, API, poe__api_watchers, NULL },
        { POE__GET, "/api/v1/signals", POE__ON_KERNEL, API, poe__api_signals, NULL },
        { POE__GET, "/api/v1/aliases", POE__ON_KERNEL, API, poe__api_aliases, NULL },
        { POE__GET, "/api/v1/extrefs", POE__ON_KERNEL, API, poe__api_extrefs, NULL },
        { POE__GET, "/api/v1/lints", POE__ON_KERNEL, API, poe__api_lints, NULL },
        { POE__GET, "/metrics", POE__ON_KERNEL, API, poe__metrics, poe__http_stuck_metrics },
        /* Changes, on the kernel's thread, with the token. */
        { POE__POST, "/api/v1/sessions/{id}/signal", POE__ON_KERNEL, WRITE, poe__api_signal,
          NULL },
        { POE__PUT | POE__POST, "/api/v1/trace/groups", POE__ON_KERNEL, WRITE,
          poe__api_debug_set, NULL },
        /* The switches' state: a word the kernel writes, read as it is. */
        { POE__GET, "/api/v1/trace/groups", POE__ON_SERVER, API, poe__http_groups, NULL },
        /* The trace log: SQLite reads, on the pool. */
        { POE__GET, "/api/v1/trace", POE__ON_POOL, LOG, poe__http_trace, NULL },
        { POE__GET, "/api/v1/trace/tail", POE__ON_POOL, LOG, poe__http_tail, NULL },
        { POE__GET, "/api/v1/trace/runs", POE__ON_POOL, LOG, poe__http_runs, NULL },
        { POE__GET, "/api/v1/events/{name}/lineage", POE__ON_POOL, LOG, poe__http_lineage,
          NULL },
        { POE__GET, "/api/v1/trace/records/{name}/lineage", POE__ON_POOL, LOG,
          poe__http_lineage, NULL },
        { POE__GET, "/api/v1/export/{name}", POE__ON_POOL, LOG, poe__http_export, NULL },
        /* What names nothing: a JSON 404 under /api/, else the page. */
        { POE__ANY, "/api/*", POE__ON_SERVER, API, poe__http_no_api, NULL },
        { POE__GET, "/*", POE__ON_SERVER, 0, poe__http_page, NULL },
};

static unsigned method_bit(const char *m)
{
        if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
                return POE__GET;
        if (strcmp(m, "PUT") == 0)
                return POE__PUT;
        if (strcmp(m, "POST") == 0)
                return POE__POST;
        return 0x80; /* only POE__ANY has it */
}

/* Whether the url up to end matches pattern; {id} and {name} take one
 * segment each, a final * the rest. */
static bool path_match(const char *pattern, const char *url, const char *end, poe__call *c,
                       bool *sid_ok)
{
        const char *p = pattern, *u = url, *seg_end;
        size_t n;

        while (*p) {
                if (strcmp(p, "*") == 0) {
                        c->name = u;
                        c->name_len = (size_t)(end - u);
                        return true;
                }
                if (strncmp(p, "{id}", 4) == 0 || strncmp(p, "{name}", 6) == 0) {
                        /* An empty {id} ("sessions//reasons") is a
                         * malformed id, a 400; name is the segment, to
                         * quote. */
                        seg_end = u;
                        while (seg_end < end && *seg_end != '/')
                                seg_end++;
                        if (p[1] == 'i') {
                                *sid_ok = poe__parse_sid(u, (size_t)(seg_end - u), &c->sid) == 0;
                                p += 4;
                        } else {
                                if (seg_end == u)
                                        return false;
                                p += 6;
                        }
                        c->name = u;
                        c->name_len = (size_t)(seg_end - u);
                        u = seg_end;
                        continue;
                }
                n = strcspn(p, "{*");
                if ((size_t)(end - u) < n || strncmp(p, u, n) != 0)
                        return false;
                p += n;
                u += n;
        }
        return u == end;
}

const poe__route *poe__route_find(const char *method, const char *url, poe__call *c,
                                  unsigned *allowed, bool *sid_ok)
{
        unsigned m = method_bit(method);
        const char *end = url + strlen(url);
        const poe__route *first = NULL;
        size_t i;

        /* "sessions/" is "sessions": under /api/ a trailing slash names
         * nothing else. */
        if (strncmp(url, "/api/", 5) == 0)
                while (end > url + 5 && end[-1] == '/')
                        end--;
        *allowed = 0;
        c->route = NULL;
        for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
                c->name = NULL;
                c->name_len = 0;
                c->sid = 0;
                *sid_ok = true;
                if (!path_match(routes[i].path, url, end, c, sid_ok))
                        continue;
                /* The catch-alls answer only when nothing named the
                 * path: a PUT on /api/v1/kernel is a 405, not a 404. */
                if (*allowed && strchr(routes[i].path, '*'))
                        break;
                if (routes[i].methods & m) {
                        c->route = &routes[i];
                        return &routes[i];
                }
                if (!*allowed)
                        first = &routes[i];
                *allowed |= routes[i].methods;
        }
        /* No route for the method: the path's first, for what it needs
         * (a 405 is refused cross-site like the route's answer). */
        c->route = first;
        c->name = NULL;
        c->name_len = 0;
        c->sid = 0;
        *sid_ok = true;
        return NULL;
}

const char *poe__route_methods_text(unsigned methods)
{
        if (methods == POE__GET)
                return "GET";
        if (methods == POE__POST)
                return "POST";
        if (methods == (POE__PUT | POE__POST))
                return "PUT and POST";
        if (methods == (POE__GET | POE__PUT | POE__POST))
                return "GET, PUT and POST";
        return "GET and POST";
}

size_t poe__route_list(const char *prefix, char *buf, size_t size)
{
        size_t i, j, n = strlen(prefix), len = 0;
        int w;

        if (size)
                buf[0] = '\0';
        for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
                if (strncmp(routes[i].path, prefix, n) != 0 || strchr(routes[i].path, '*'))
                        continue;
                /* Once per path, though several methods may route it. */
                for (j = 0; j < i && strcmp(routes[j].path, routes[i].path) != 0; j++)
                        ;
                if (j < i)
                        continue;
                w = snprintf(buf + len, size > len ? size - len : 0, "%s%s", len ? ", " : "",
                             routes[i].path + n);
                if (w > 0)
                        len += (size_t)w;
        }
        return len;
}
