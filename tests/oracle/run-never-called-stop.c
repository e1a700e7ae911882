/* run-never-called-stop: the C side of run-never-called-stop.pl (see
 * there): each Perl program is a kernel here, freed where it exits. */
#include "oracle.h"

static const char *part;

static poe_value on_start(poe_ctx *c)
{
        (void)c;
        printf("%s _start\n", part);
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        (void)c;
        printf("%s _stop\n", part);
        return poe_nil();
}

static poe_value again_start(poe_ctx *c)
{
        (void)c;
        printf("%s again\n", part);
        return poe_nil();
}

static void exit_kernel(poe_kernel *k, const char *name)
{
        printf("%s exits\n", name);
        oracle_warn_begin();
        poe_kernel_free(k);
        oracle_warn_end();
}

int main(void)
{
        static const poe_handler h[] = {{"_start", on_start, NULL}, {"_stop", on_stop, NULL}};
        static const poe_handler again[] = {{"_start", again_start, NULL}};
        poe_kernel *first = oracle_kernel(), *k;

        part = "first";
        oracle_create(first, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_stop(first);

        part = "second";
        k = oracle_kernel();
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_stop(k);
        oracle_create(k, again, ORACLE_N(again), POE_NOARGS, NULL);
        poe_kernel_run_one_timeslice(k);
        exit_kernel(k, part);

        part = "third";
        k = oracle_kernel();
        poe_kernel_run(k);
        printf("third ran with no sessions\n");
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run_one_timeslice(k);
        exit_kernel(k, part);

        exit_kernel(first, "first");
        return 0;
}
