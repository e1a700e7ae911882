/*
 * POE::Test::Loops k_signals_rerun.pm (Yuval Kogman's case): an
 * unhandled die in _stop comes out of run(), and run() can be called
 * again, eight times over, under ASSERT_DEFAULT.  Upstream's child is a
 * POE::Wheel::Run program (perl -e "exit N"); here it is a fork()ed
 * child that exits with N at once, reaped through sig(CHLD) as upstream.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poe/poe.h>

#include "../tap.h"

struct job {
        int exit_code, die_on_bad_exit;
        pid_t pid;
        int running; /* upstream's pid_to_wheel */
        int program_exit;
};

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value child_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct job *heap = poe_ctx_heap(c);
        pid_t pid;

        poe_kernel_sig(k, "CHLD", "sigchld_handler", POE_NOARGS);
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                perror("fork");
                exit(2);
        }
        if (pid == 0)
                _exit(heap->exit_code);
        heap->pid = pid;
        heap->running = 1;
        poe_kernel_refcount_increment(k, poe_ctx_session(c), "running_processes");
        return poe_nil();
}

static poe_value sigchld_handler(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct job *heap = poe_ctx_heap(c);
        pid_t pid = (pid_t)poe_value_int(poe_ctx_arg(c, 1));

        if (!heap->running || pid != heap->pid)
                return poe_nil();
        poe_kernel_refcount_decrement(k, poe_ctx_session(c), "running_processes");
        heap->running = 0;
        poe_kernel_sig(k, "CHLD", NULL, POE_NOARGS);
        heap->program_exit = (int)poe_value_int(poe_ctx_arg(c, 2));
        return poe_nil();
}

static poe_value child_stop(poe_ctx *c)
{
        struct job *heap = poe_ctx_heap(c);

        if (heap->running)
                poe_die(c, "AAAAAAAHHH Running process leak!");
        if (heap->die_on_bad_exit && WEXITSTATUS(heap->program_exit) != 0)
                poe_die(c, "bad exit\n");
        return poe_nil();
}

static poe_value parent_start(poe_ctx *c)
{
        static const poe_handler h[] = {
                {"stdout", nop, NULL},
                {"stdin", nop, NULL},
                {"_parent", nop, NULL},
                {"_start", child_start, NULL},
                {"sigchld_handler", sigchld_handler, NULL},
                {"_stop", child_stop, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 6, .heap = poe_ctx_heap(c)};

        poe_session_create(poe_ctx_kernel(c), &spec, NULL);
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", parent_start, NULL},
                {"_stop", nop, NULL},
                {"_child", nop, NULL},
                {"_parent", nop, NULL},
        };
        static const int exits[] = {0, 1, 0, 0};
        poe_kernel *k;
        int die_on_bad_exit, i;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(9);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        for (die_on_bad_exit = 0; die_on_bad_exit <= 1; die_on_bad_exit++) {
                for (i = 0; i < 4; i++) {
                        struct job job = {.exit_code = exits[i],
                                          .die_on_bad_exit = die_on_bad_exit};
                        poe_session_spec spec = {.handlers = h, .n_handlers = 4, .heap = &job};
                        const char *e;
                        char name[96];
                        int rc;

                        poe_session_create(k, &spec, NULL);
                        rc = poe_kernel_run(k);
                        e = rc == -ECANCELED ? poe_kernel_exception(k) : NULL;
                        if (die_on_bad_exit && exits[i]) {
                                snprintf(name, sizeof(name), "(%d-%d) died with bad exit code",
                                         die_on_bad_exit, exits[i]);
                                tap_ok(e != NULL, name);
                                snprintf(name, sizeof(name), "(%d-%d) error is correct",
                                         die_on_bad_exit, exits[i]);
                                tap_is_str(e, "bad exit\n", name);
                        } else {
                                snprintf(name, sizeof(name),
                                         "(%d-%d) no error when process exited OK", die_on_bad_exit,
                                         exits[i]);
                                if (!tap_ok(e == NULL, name))
                                        tap_diag("%s", e);
                        }
                }
        }
        poe_kernel_free(k);
        return tap_done();
}
