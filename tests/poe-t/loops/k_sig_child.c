/*
 * POE::Test::Loops k_sig_child.pm: sig_child() for eight forked
 * children, watched by two sessions; one of them (with only an alias,
 * sig_child and sig(CHLD)) stays alive for the signals.  Children wait
 * for SIGINT in pause() instead of sleep(3600) and tell the parent they
 * are ready through a pipe, as upstream.  Real time.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <poe/poe.h>

#include "../tap.h"

#define FORK_COUNT 8

static int pipe_fds[2];

struct pids {
        pid_t pid[FORK_COUNT];
        int n;
};

static int pids_delete(struct pids *p, pid_t pid)
{
        int i;

        for (i = 0; i < p->n; i++)
                if (p->pid[i] == pid) {
                        p->pid[i] = p->pid[--p->n];
                        return 1;
                }
        return 0;
}

struct catcher {
        struct pids children;
        int watched, caught, caught_sigchld;
};

static poe_value catcher_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "catcher");
        return poe_nil();
}

static poe_value catcher_catch(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct catcher *heap = poe_ctx_heap(c);
        int pid = (int)poe_value_int(poe_ctx_arg(c, 0));

        poe_kernel_sig(k, "CHLD", "got_sigchld", POE_NOARGS);
        poe_kernel_sig_child(k, pid, "got_chld", POE_NOARGS);
        if (heap->children.n < FORK_COUNT)
                heap->children.pid[heap->children.n++] = pid;
        heap->watched++;
        return poe_nil();
}

static poe_value catcher_remove_alias(poe_ctx *c)
{
        poe_kernel_alias_remove(poe_ctx_kernel(c), "catcher");
        return poe_nil();
}

static poe_value catcher_got_chld(poe_ctx *c)
{
        struct catcher *heap = poe_ctx_heap(c);
        pid_t pid = (pid_t)poe_value_int(poe_ctx_arg(c, 1));
        char name[96];

        snprintf(name, sizeof(name), "caught SIGCHLD for watched pid %d", (int)pid);
        tap_ok(pids_delete(&heap->children, pid), name);
        heap->caught++;
        return poe_nil();
}

static poe_value catcher_got_sigchld(poe_ctx *c)
{
        ((struct catcher *)poe_ctx_heap(c))->caught_sigchld++;
        return poe_nil();
}

static poe_value catcher_stop(poe_ctx *c)
{
        struct catcher *heap = poe_ctx_heap(c);
        char name[96];

        snprintf(name, sizeof(name), "expected %d reaped children, got %d", heap->watched,
                 heap->caught);
        tap_ok(heap->watched == heap->caught, name);
        snprintf(name, sizeof(name), "expected %d sig(CHLD), got %d", heap->watched,
                 heap->caught_sigchld);
        tap_ok(heap->watched == heap->caught_sigchld, name);
        tap_ok(heap->children.n == 0, "all reaped children were watched");
        return poe_nil();
}

struct reaper {
        struct pids children;
        int forked, reaped;
};

static poe_value reaper_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct reaper *heap = poe_ctx_heap(c);
        int child, ready_count = 0;
        char name[96];
        FILE *in;

        heap->forked = heap->reaped = 0;
        fflush(NULL);
        for (child = 0; child < FORK_COUNT; child++) {
                pid_t pid = fork();

                if (pid < 0) {
                        perror("fork");
                        exit(2);
                }
                if (pid == 0) {
                        char line[32];
                        int n = snprintf(line, sizeof(line), "%d\n", (int)getpid());

                        signal(SIGINT, SIG_DFL);
                        if (write(pipe_fds[1], line, (size_t)n) != n)
                                _exit(1);
                        for (;;)
                                pause();
                }
                heap->forked++;
                heap->children.pid[heap->children.n++] = pid;
                poe_kernel_sig_child(k, pid, "catch_sigchld", POE_NOARGS);
                poe_kernel_post_alias(k, "catcher", "catch", POE_ARGS(poe_int(pid)));
        }
        snprintf(name, sizeof(name), "forked %d processes (out of %d)", heap->forked, FORK_COUNT);
        tap_ok(heap->forked == FORK_COUNT, name);
        in = fdopen(dup(pipe_fds[0]), "r");
        if (in) {
                char line[32];

                while (ready_count < FORK_COUNT && fgets(line, sizeof(line), in))
                        ready_count++;
                fclose(in);
        }
        poe_kernel_yield(k, "forking_time_is_up", POE_NOARGS);
        return poe_nil();
}

static poe_value reaper_stop(poe_ctx *c)
{
        struct reaper *heap = poe_ctx_heap(c);
        char name[96];

        snprintf(name, sizeof(name), "reaped %d processes (out of %d)", heap->reaped, heap->forked);
        tap_ok(heap->reaped == heap->forked, name);
        return poe_nil();
}

static poe_value catch_sigchld(poe_ctx *c)
{
        struct reaper *heap = poe_ctx_heap(c);

        if (++heap->reaped >= FORK_COUNT)
                poe_kernel_delay(poe_ctx_kernel(c), "reaping_time_is_up", 0.5, POE_NOARGS);
        return poe_nil();
}

static poe_value forking_time_is_up(poe_ctx *c)
{
        struct reaper *heap = poe_ctx_heap(c);
        int kill_count = 0, i;
        char name[96];

        for (i = 0; i < heap->children.n; i++)
                if (kill(heap->children.pid[i], SIGINT) == 0)
                        kill_count++;
        snprintf(name, sizeof(name), "killed %d processes (out of %d)", kill_count, heap->forked);
        tap_ok(kill_count == heap->forked, name);
        poe_kernel_delay(poe_ctx_kernel(c), "reaping_time_is_up", 10, POE_NOARGS);
        return poe_nil();
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

int main(void)
{
        static const poe_handler catcher[] = {
                {"_start", catcher_start, NULL},
                {"catch", catcher_catch, NULL},
                {"remove_alias", catcher_remove_alias, NULL},
                {"got_chld", catcher_got_chld, NULL},
                {"got_sigchld", catcher_got_sigchld, NULL},
                {"_stop", catcher_stop, NULL},
        };
        static const poe_handler reaper[] = {
                {"_start", reaper_start, NULL},
                {"_stop", reaper_stop, NULL},
                {"catch_sigchld", catch_sigchld, NULL},
                {"forking_time_is_up", forking_time_is_up, NULL},
                {"reaping_time_is_up", nop, NULL},
        };
        static struct catcher catcher_heap;
        static struct reaper reaper_heap;
        poe_session_spec spec = {.handlers = catcher, .n_handlers = 6, .heap = &catcher_heap};
        poe_kernel *k;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(FORK_COUNT + 7);
        if (pipe(pipe_fds) < 0)
                return 2;
        tap_skip("use POE", "use_ok: there is no module to load in C");
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        spec = (poe_session_spec){.handlers = reaper, .n_handlers = 5, .heap = &reaper_heap};
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        poe_kernel_free(k);
        return tap_done();
}
