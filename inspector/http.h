/* The inspector object and the HTTP server's entry points. */
#ifndef POE_INSPECTOR_HTTP_H
#define POE_INSPECTOR_HTTP_H

#include <pthread.h>
#include <sys/socket.h>

#include "inspector-internal.h"

struct MHD_Daemon;

struct poe_inspector {
        poe_kernel *k;
        poe_inspector_options opts;
        char *token;
        char *web_root;
        struct sockaddr_storage addr;
        socklen_t addr_len;
        int port;
        char url[96];
        double started;

        /* The trace log, or why there is none. */
        poe__tracelog *log;
        char *trace_path;
        char log_error[256];
        int sink_id;

        /* The server, and the requests waiting for the kernel's thread. */
        struct MHD_Daemon *daemon;
        pthread_mutex_t lock;
        bool lock_ready;
        _Atomic bool stopping;
        _Atomic int refs; /* the owner's and each job's in the kernel's queue */
        struct poe__job *jobs; /* waiting, for stop() to release */
        _Atomic int exports;   /* running, at most MAX_EXPORTS (http.c) */
        _Atomic int tails;     /* long polls waiting, at most MAX_TAILS */

        /* "Busy since": the dispatch count last seen and when. */
        uint64_t seen_dispatches;
        double seen_at;
};

int poe__http_start(poe_inspector *in);
/* "HOST:PORT" or "[V6]:PORT" (numeric, or "localhost") into a socket
 * address, and whether it is a loopback one.  0 or -EINVAL. */
int poe__inspector_parse_address(const char *address, struct sockaddr_storage *ss,
                                 socklen_t *len, bool *loopback);
void poe__inspector_unref(poe_inspector *in);
void poe__http_stop(poe_inspector *in);

/* The page, built in (web.c, generated from web/ at build time). */
typedef struct poe__asset {
        const char *path;
        const char *content_type;
        const unsigned char *data;
        size_t len;
} poe__asset;

const poe__asset *poe__asset_find(const char *path);

#endif
