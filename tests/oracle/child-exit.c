/* child-exit: the C side of child-exit.pl (see there). */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oracle.h"

static pid_t first_pid, second_pid;

static const char *status(int st)
{
        char *b = oracle_buf();

        if (WIFSIGNALED(st))
                snprintf(b, 256, "signal=%d", WTERMSIG(st));
        else
                snprintf(b, 256, "exit=%d", WEXITSTATUS(st));
        return b;
}

static pid_t spawn(int code, int block)
{
        pid_t pid;

        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                perror("fork");
                exit(1);
        }
        if (pid == 0) {
                while (block)
                        pause();
                _exit(code);
        }
        return pid;
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_sig(k, "CHLD", "on_chld", POE_NOARGS);
        poe_kernel_delay(k, "timeout", 10, POE_NOARGS);
        poe_kernel_yield(k, "spawn", POE_NOARGS);
        return poe_nil();
}

static poe_value on_spawn(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        first_pid = spawn(3, 0);
        poe_kernel_sig_child(k, first_pid, "reaped", POE_ARGS(poe_str("first"), poe_int(1)));
        printf("watching first\n");
        return poe_nil();
}

static poe_value on_reaped(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        pid_t pid = (pid_t)poe_value_int(poe_ctx_arg(c, 1));
        const char *which = val(poe_ctx_arg(c, 3));
        size_t i;

        printf("reaped %s %s [", val(poe_ctx_arg(c, 0)),
               status((int)poe_value_int(poe_ctx_arg(c, 2))));
        for (i = 3; i < poe_ctx_argc(c); i++)
                printf("%s%s", i > 3 ? " " : "", val(poe_ctx_arg(c, i)));
        printf("] pid_ok=%d\n", pid == (strcmp(which, "first") == 0 ? first_pid : second_pid));
        if (strcmp(which, "first") == 0) {
                second_pid = spawn(0, 1);
                poe_kernel_sig_child(k, second_pid, "reaped", POE_ARGS(poe_str("second")));
                printf("watching second\n");
                kill(second_pid, SIGKILL);
        } else {
                poe_kernel_delay(k, "timeout", POE_NO_TIME, POE_NOARGS);
        }
        return poe_nil();
}

static poe_value on_chld(poe_ctx *c)
{
        pid_t pid = (pid_t)poe_value_int(poe_ctx_arg(c, 1));

        printf("on_chld %s %s %s\n", val(poe_ctx_arg(c, 0)),
               status((int)poe_value_int(poe_ctx_arg(c, 2))),
               pid == first_pid ? "first" : pid == second_pid ? "second" : "unknown");
        return poe_nil();
}

static poe_value on_timeout(poe_ctx *c)
{
        (void)c;
        printf("timeout: a child was never reaped\n");
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        (void)c;
        printf("_stop\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", on_start, NULL },
                { "spawn", on_spawn, NULL },
                { "reaped", on_reaped, NULL },
                { "on_chld", on_chld, NULL },
                { "timeout", on_timeout, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_kernel *k = oracle_kernel();

        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        printf("run returned\n");
        poe_kernel_free(k);
        return 0;
}
