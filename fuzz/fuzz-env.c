/*
 * fuzz-env: the POE_* environment, read when a kernel is made (debug.c's
 * groups, DEFAULT rules, values and POE_TRACE_FILENAME; kernel.c's
 * switches and POE_CHILD_POLLING_INTERVAL; loop.c's POE_EVENT_LOOP) and
 * when an inspector starts from it (POE_INSPECTOR's address, _REMOTE,
 * _TOKEN, POE_TRACE_DB and its bounds, POE_TRACE_DB_MAX and _MAX_AGE),
 * and trace-group names as the API takes them.
 *
 * Input: a count byte, then per variable a selector byte and a value
 * field; then a group name and a switch byte.  The harness keeps what the
 * environment makes the library touch inside its scratch directory: file
 * names lose their slashes and go there, and an inspector starts only on
 * an address the inspector's own parser calls loopback with port 0 (any
 * address still goes through that parser).  Then a kernel is made, runs
 * a small population to its end with the traces going to a file, passes
 * its consistency check and is freed; the sanitizers catch the rest.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <poe/inspector.h>

#include "fuzz.h"
#include "http.h"

static const char *const vars[] = {
        "POE_TRACE_DEFAULT",   "POE_ASSERT_DEFAULT",  "POE_TRACE_EVENTS",
        "POE_TRACE_FILES",     "POE_TRACE_REFCNT",    "POE_TRACE_RETVALS",
        "POE_TRACE_SESSIONS",  "POE_TRACE_SIGNALS",   "POE_TRACE_DESTROY",
        "POE_TRACE_PROFILE",   "POE_ASSERT_DATA",     "POE_ASSERT_EVENTS",
        "POE_ASSERT_FILES",    "POE_ASSERT_RETVALS",  "POE_ASSERT_USAGE",
        "POE_ASSERT_STATES",   "POE_TRACE_FILENAME",  "POE_CATCH_EXCEPTIONS",
        "POE_USE_SIGCHLD",     "POE_USE_SIGNAL_PIPE", "POE_CHILD_POLLING_INTERVAL",
        "POE_EVENT_LOOP",      "POE_INSPECTOR",       "POE_INSPECTOR_REMOTE",
        "POE_INSPECTOR_TOKEN", "POE_TRACE_DB",        "POE_TRACE_DB_MAX",
        "POE_TRACE_DB_MAX_AGE",
};
#define N_VARS (sizeof(vars) / sizeof(vars[0]))

/* A file name from the input, inside the scratch directory.  A leading
 * '!' names a directory that does not exist, for the failure path. */
static void confine(const char *v, char *out, size_t size)
{
        char name[256];
        size_t i, j = 0;
        bool missing = v[0] == '!';

        for (i = missing; v[i] && j < sizeof(name) - 1; i++)
                name[j++] = v[i] == '/' ? '_' : v[i];
        name[j] = '\0';
        if (!strcmp(name, ".") || !strcmp(name, ".."))
                strcpy(name, "dots");
        snprintf(out, size, "%s/%s%s", fz_tmpdir(), missing ? "no-such-dir/" : "", name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        fz_in in = { data, size };
        char vals[N_VARS][300], group[64];
        bool set[N_VARS] = { false };
        poe_inspector *insp = NULL;
        poe_kernel *k = NULL;
        fz_world w;
        size_t i;
        int n, r, slices = 0;
        unsigned g;
        uint8_t on;

        n = fz_byte(&in) % 12;
        for (i = 0; (int)i < n; i++) {
                size_t v = fz_byte(&in) % N_VARS;

                fz_str(&in, vals[v], 255);
                set[v] = true;
        }
        fz_str(&in, group, sizeof(group) - 1);
        on = fz_byte(&in);

        for (i = 0; i < N_VARS; i++) {
                const char *name = vars[i];
                char path[600];

                if (!set[i])
                        continue;
                if (!strcmp(name, "POE_TRACE_FILENAME") || !strcmp(name, "POE_TRACE_DB")) {
                        /* An empty POE_TRACE_DB means no log: kept. */
                        if (vals[i][0])
                                confine(vals[i], path, sizeof(path));
                        else
                                path[0] = '\0';
                        setenv(name, path, 1);
                } else if (!strcmp(name, "POE_INSPECTOR")) {
                        struct sockaddr_storage ss;
                        socklen_t len;
                        bool loopback = false;

                        /* Every address goes through the parser; only a
                         * loopback one on a free port is started. */
                        r = poe__inspector_parse_address(vals[i], &ss, &len, &loopback);
                        if (r == 0 && loopback &&
                            ((ss.ss_family == AF_INET &&
                              ((struct sockaddr_in *)&ss)->sin_port == 0) ||
                             (ss.ss_family == AF_INET6 &&
                              ((struct sockaddr_in6 *)&ss)->sin6_port == 0)))
                                setenv(name, vals[i], 1);
                } else {
                        setenv(name, vals[i], 1);
                }
        }
        /* Trace lines go to a file unless the input names one: on
         * stderr they would drown the fuzzer's own reports. */
        if (!getenv("POE_TRACE_FILENAME")) {
                char path[600];

                snprintf(path, sizeof(path), "%s/trace-default.txt", fz_tmpdir());
                setenv("POE_TRACE_FILENAME", path, 1);
        }
        /* Without a POE_TRACE_DB of the input's, an inspector would write
         * poe-trace-PID.db into the working directory. */
        if (getenv("POE_INSPECTOR") && !getenv("POE_TRACE_DB"))
                setenv("POE_TRACE_DB", "", 1);

        r = poe_kernel_new(&k, NULL);
        if (r == 0) {
                /* The API's parser of the same names. */
                g = poe_debug_group_parse(group);
                if (g && (g & ~POE_DEBUG_ALL))
                        fz_fail("group `%s' parsed to bits outside every group: 0x%x", group, g);
                if (g && poe_debug_group_name(g) == NULL)
                        fz_fail("group `%s' parsed to 0x%x, which has no name", group, g);
                poe_kernel_debug_set(k, g, on & 1);
                /* An inspector from the environment too, as a program
                 * calling poe_inspector_start_from_env does (autostart may
                 * have made one already: then this is a second). */
                if (on & 2) {
                        r = poe_inspector_start_from_env(k, &insp);
                        if (r < 0 && insp)
                                fz_fail("start_from_env failed (%d) and returned an inspector", r);
                }
                /* Assertions are fatal by design; the population must not
                 * have to satisfy whatever the input switched on. */
                poe_kernel_debug_set(k, POE_ASSERT_ALL & poe_debug_compiled(), 0);
                if (poe_kernel_debug_get(k) & POE_TRACE_ALL) {
                        char out[600];

                        snprintf(out, sizeof(out), "%s/trace-out.txt", fz_tmpdir());
                        poe_kernel_trace_file(k, out);
                }
                if ((on & 4) && fz_world_build(&w, k, 3) == 0) {
                        while (poe_kernel_run_one_timeslice(k) == 1 && ++slices < 1000)
                                ;
                        fz_world_close(&w);
                }
                fz_check_kernel(k);
                poe_inspector_stop(insp);
                poe_kernel_free(k);
        } else if (r != -EINVAL && r != -ENOMEM && r != -EMFILE) {
                /* A kernel refused for its environment is fine; which
                 * errors it may give is the API's (poe.h). */
                fprintf(stderr, "fuzz-env: poe_kernel_new: %s\n", strerror(-r));
        }
        for (i = 0; i < N_VARS; i++)
                unsetenv(vars[i]);
        fz_tmpdir_clean();
        return 0;
}
