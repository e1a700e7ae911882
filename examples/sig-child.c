/*
 * sig-child: fork children and reap them with sig_child.
 *
 * sig_child(pid, event) keeps the session alive until that child exits;
 * then the event arrives with ARG0 "CHLD", ARG1 the pid and ARG2 the
 * wait status.  Children exit in their own time, so the order of the
 * lines below varies; each child is named by its number, not its pid.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poe/poe.h>

#define CHILDREN 3

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int i;

        fflush(stdout); /* or the children would print our buffer again */
        for (i = 1; i <= CHILDREN; i++) {
                pid_t pid = fork();

                if (pid < 0) {
                        perror("fork");
                        continue;
                }
                if (pid == 0) {
                        /* The child: a little work, then an exit status
                         * the parent will see.  _exit, not exit: the
                         * parent's stdio buffers are not ours to flush. */
                        usleep(20000 * i);
                        _exit(10 + i);
                }
                printf("forked child %d\n", i);
                /* ARG3 onwards are ours: which child this is. */
                poe_kernel_sig_child(k, pid, "reaped", POE_ARGS(poe_int(i)));
        }
        return poe_nil();
}

static poe_value on_reaped(poe_ctx *c)
{
        int status = (int)poe_value_int(poe_ctx_arg(c, 2));
        int n = (int)poe_value_int(poe_ctx_arg(c, 3));

        if (WIFEXITED(status))
                printf("child %d exited with status %d\n", n, WEXITSTATUS(status));
        else
                printf("child %d ended with wait status %d\n", n, status);
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        printf("every child reaped: stopped\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                { "_start", on_start, NULL },
                { "reaped", on_reaped, NULL },
                { "_stop", on_stop, NULL },
        };
        poe_session_spec spec = { .handlers = h, .n_handlers = 3 };
        poe_kernel *k;

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (poe_kernel_new(&k, NULL) < 0 || poe_session_create(k, &spec, NULL) < 0)
                return EXIT_FAILURE;
        poe_kernel_run(k);
        poe_kernel_free(k);
        return EXIT_SUCCESS;
}
