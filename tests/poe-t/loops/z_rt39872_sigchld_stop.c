/*
 * POE::Test::Loops z_rt39872_sigchld_stop.pm (rt.cpan.org 39872): two
 * children forked from a handler go on running the kernel they
 * inherited (has_forked), each held by an extra reference until SIGUSR1;
 * the parent's sig_child watchers see each one exit, and everything
 * ends sanely.  Upstream waits three seconds for the children to
 * settle before signalling them; here each child says it is ready on a
 * pipe the parent watches, so nothing waits on time.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <poe/poe.h>

#include "../tap.h"

static int parent = 1;
static int ready_pipe[2];

struct child {
        pid_t pid;
        int closing, live;
};

struct heap {
        struct child t[2]; /* T1, T2 */
        int ready;
};

static const char *names[] = {"T1", "T2"};

static poe_value on_start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "work", POE_NOARGS);
        return poe_nil();
}

static poe_value work(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct heap *heap = poe_ctx_heap(c);
        int i;

        for (i = 0; i < 2; i++) {
                pid_t pid;

                fflush(NULL);
                pid = fork();
                if (pid < 0) {
                        perror("Unable to fork");
                        exit(2);
                }
                if (pid) {
                        heap->t[i].pid = pid;
                        heap->t[i].live = 1;
                        poe_kernel_sig_child(k, pid, "sig_CHLD", POE_NOARGS);
                } else {
                        poe_kernel_has_forked(k);
                        poe_kernel_yield(k, "child", POE_NOARGS);
                        return poe_nil();
                }
        }
        for (i = 0; i < 2; i++)
                poe_kernel_refcount_increment(k, poe_ctx_session(c), names[i]);
        poe_kernel_select_read(k, ready_pipe[0], "ready", POE_NOARGS);
        return poe_nil();
}

/* Both children are ready: upstream's "parent" event, after its wait. */
static poe_value ready(poe_ctx *c)
{
        struct heap *heap = poe_ctx_heap(c);
        char b;

        if (read(ready_pipe[0], &b, 1) == 1 && ++heap->ready == 2) {
                poe_kernel_select_read(poe_ctx_kernel(c), ready_pipe[0], NULL, POE_NOARGS);
                poe_kernel_yield(poe_ctx_kernel(c), "parent", POE_NOARGS);
        }
        return poe_nil();
}

static poe_value on_parent(poe_ctx *c)
{
        struct heap *heap = poe_ctx_heap(c);

        tap_diag("sending sigusr1");
        kill(heap->t[0].pid, SIGUSR1);
        tap_diag("sent sigusr1");
        heap->t[0].closing = 1;
        return poe_nil();
}

static poe_value on_child(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        parent = 0;
        poe_kernel_sig(k, "CHLD", NULL, POE_NOARGS);
        poe_kernel_sig(k, "USR1", "sig_USR1", POE_NOARGS);
        poe_kernel_refcount_increment(k, poe_ctx_session(c), "USR1");
        if (write(ready_pipe[1], "r", 1) != 1)
                _exit(1);
        return poe_nil();
}

static poe_value sig_usr1(poe_ctx *c)
{
        poe_kernel_sig(poe_ctx_kernel(c), "USR1", NULL, POE_NOARGS);
        poe_kernel_refcount_decrement(poe_ctx_kernel(c), poe_ctx_session(c), "USR1");
        return poe_nil();
}

static poe_value done(poe_ctx *c)
{
        struct heap *heap = poe_ctx_heap(c);
        char name[64];
        int left = 0, i, which = -1;

        for (i = 0; i < 2; i++)
                if (heap->t[i].live) {
                        left++;
                        which = i;
                }
        snprintf(name, sizeof(name), "One child left (%d)",
                 which >= 0 ? (int)heap->t[which].pid : 0);
        tap_is_int(left, 1, name);
        for (i = 0; i < 2; i++)
                if (heap->t[i].live)
                        kill(heap->t[i].pid, SIGUSR1);
        poe_kernel_refcount_decrement(poe_ctx_kernel(c), poe_ctx_session(c), "T2");
        return poe_nil();
}

static poe_value sig_chld(poe_ctx *c)
{
        struct heap *heap = poe_ctx_heap(c);
        pid_t pid = (pid_t)poe_value_int(poe_ctx_arg(c, 1));
        int i;

        for (i = 0; i < 2; i++)
                if (heap->t[i].live && heap->t[i].pid == pid)
                        break;
        if (i == 2)
                return poe_nil();
        heap->t[i].live = 0;
        if (i != 0) {
                tap_ok(!heap->t[i].closing, "Expected child exited");
                return poe_nil();
        }
        tap_is_int(heap->t[i].closing, 1, "Expected child exited");
        poe_kernel_refcount_decrement(poe_ctx_kernel(c), poe_ctx_session(c), names[i]);
        poe_kernel_yield(poe_ctx_kernel(c), "done", POE_NOARGS);
        return poe_nil();
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {
                {"_start", on_start, NULL},   {"_stop", nop, NULL},         {"work", work, NULL},
                {"child", on_child, NULL},    {"parent", on_parent, NULL},  {"ready", ready, NULL},
                {"sig_CHLD", sig_chld, NULL}, {"sig_USR1", sig_usr1, NULL}, {"done", done, NULL},
        };
        static struct heap heap;
        poe_session_spec spec = {.handlers = h, .n_handlers = 9, .heap = &heap};
        poe_kernel *k;

        setenv("POE_USE_SIGCHLD", "1", 1);
        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(4);
        if (pipe(ready_pipe) < 0 || poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        if (!parent) {
                fflush(NULL);
                _exit(0);
        }
        tap_pass("Sane exit");
        poe_kernel_free(k);
        return tap_done();
}
