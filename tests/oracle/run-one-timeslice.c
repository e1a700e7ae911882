/* run-one-timeslice: the C side of run-one-timeslice.pl (see there). */
#include "oracle.h"

static void mk(poe_kernel *k, const char *name, const poe_handler *extra, size_t n_extra);

static poe_value named_start(poe_ctx *c)
{
        printf("%s=%s _start\n", (const char *)poe_ctx_heap(c), id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        printf("%s _stop\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value busy_start(poe_ctx *c)
{
        printf("busy=%s _start\n", id_of(poe_ctx_session(c)));
        poe_kernel_yield(poe_ctx_kernel(c), "a", POE_NOARGS);
        return poe_nil();
}

static poe_value busy_a(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        printf("%s a events=%zu\n", id_of(poe_ctx_session(c)), poe_kernel_get_event_count(k));
        mk(k, "late", NULL, 0);
        poe_kernel_yield(k, "b", POE_NOARGS);
        printf("%s a events=%zu\n", id_of(poe_ctx_session(c)), poe_kernel_get_event_count(k));
        return poe_nil();
}

static poe_value busy_b(poe_ctx *c)
{
        printf("%s b\n", id_of(poe_ctx_session(c)));
        return poe_nil();
}

/* A session named name (its heap) with _start and _stop, plus extra
 * handlers, which replace those of the same name as in the Perl hash. */
static void mk(poe_kernel *k, const char *name, const poe_handler *extra, size_t n_extra)
{
        poe_handler h[8];
        size_t n = 0;

        h[n++] = (poe_handler){ "_start", named_start, NULL };
        h[n++] = (poe_handler){ "_stop", on_stop, NULL };
        for (size_t i = 0; i < n_extra; i++) {
                size_t j;

                for (j = 0; j < n; j++)
                        if (strcmp(h[j].event, extra[i].event) == 0)
                                break;
                h[j] = extra[i];
                if (j == n)
                        n++;
        }
        oracle_create(k, h, n, POE_NOARGS, (void *)name);
}

int main(void)
{
        static const poe_handler busy[] = {
                { "_start", busy_start, NULL },
                { "a", busy_a, NULL },
                { "b", busy_b, NULL },
        };
        poe_kernel *k = oracle_kernel();

        mk(k, "busy", busy, ORACLE_N(busy));
        mk(k, "idle", NULL, 0);
        printf("events=%zu\n", poe_kernel_get_event_count(k));
        for (int n = 1; n <= 6; n++) {
                int r;

                printf("slice %d\n", n);
                r = poe_kernel_run_one_timeslice(k);
                printf("slice %d -> %d events=%zu\n", n, r, poe_kernel_get_event_count(k));
        }
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
