/* fork-rerun: the C side of fork-rerun.pl (see there). */
#include <sys/wait.h>
#include <unistd.h>

#include "oracle.h"

static pid_t parent_pid;

static const char *who(void)
{
        return getpid() == parent_pid ? "parent" : "child";
}

static poe_value child_start(poe_ctx *c)
{
        printf("%s session %s _start\n", who(), id_of(poe_ctx_session(c)));
        poe_kernel_yield(poe_ctx_kernel(c), "work", POE_ARGS(poe_int(1)));
        return poe_nil();
}

static poe_value child_work(poe_ctx *c)
{
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));

        printf("%s work %" PRId64 "\n", who(), n);
        if (n < 3)
                poe_kernel_yield(poe_ctx_kernel(c), "work", POE_ARGS(poe_int(n + 1)));
        else
                poe_kernel_delay(poe_ctx_kernel(c), "done", 0.01, POE_NOARGS);
        return poe_nil();
}

static poe_value child_done(poe_ctx *c)
{
        (void)c;
        printf("%s done\n", who());
        return poe_nil();
}

static poe_value any_stop(poe_ctx *c)
{
        printf("%s session %s _stop\n", who(), id_of(poe_ctx_session(c)));
        return poe_nil();
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel_delay(poe_ctx_kernel(c), "timeout", 10, POE_NOARGS);
        poe_kernel_yield(poe_ctx_kernel(c), "spawn", POE_NOARGS);
        return poe_nil();
}

static poe_value on_spawn(poe_ctx *c)
{
        static const poe_handler h[] = {
                {"_start", child_start, NULL},
                {"work", child_work, NULL},
                {"done", child_done, NULL},
                {"_stop", any_stop, NULL},
        };
        poe_kernel *k = poe_ctx_kernel(c);
        pid_t pid;

        printf("%s spawn in session %s\n", who(), id_of(poe_ctx_session(c)));
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                perror("fork");
                exit(1);
        }
        if (pid == 0) {
                int rc;

                poe_kernel_stop(k);
                oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
                rc = poe_kernel_run(k);
                if (rc < 0)
                        printf("%s run failed: %s\n", who(), err(rc));
                printf("%s run returned\n", who());
                fflush(NULL);
                _exit(7);
        }
        poe_kernel_sig_child(k, pid, "reaped", POE_NOARGS);
        return poe_nil();
}

static poe_value on_reaped(poe_ctx *c)
{
        int st = (int)poe_value_int(poe_ctx_arg(c, 2));

        printf("%s reaped exit=%d\n", who(), WEXITSTATUS(st));
        poe_kernel_delay(poe_ctx_kernel(c), "timeout", POE_NO_TIME, POE_NOARGS);
        return poe_nil();
}

static poe_value on_timeout(poe_ctx *c)
{
        (void)c;
        printf("%s timeout\n", who());
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},  {"spawn", on_spawn, NULL},
                {"reaped", on_reaped, NULL}, {"timeout", on_timeout, NULL},
                {"_stop", any_stop, NULL},
        };
        poe_kernel *k;

        parent_pid = getpid();
        k = oracle_kernel();
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        if (poe_kernel_run(k) < 0)
                printf("run failed\n");
        printf("%s run returned\n", who());
        poe_kernel_free(k);
        return 0;
}
