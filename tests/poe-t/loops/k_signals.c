/*
 * POE::Test::Loops k_signals.pm: real signals.  Eight forked children
 * are killed with SIGINT and every one is reaped through sig(CHLD); a
 * nested session pair exchanges events (mstevens' IDLE case); SIGUSR1
 * and SIGPIPE sent to the process reach their watchers.  Children wait
 * for the signal in pause() instead of sleep(3600), and tell the parent
 * they are ready through a pipe (IO::Pipely), as upstream.  Real time:
 * the reaping waits for real children.
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

struct reaper {
        int forked, reaped;
        pid_t children[FORK_COUNT];
};

static poe_value reaper_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct reaper *heap = poe_ctx_heap(c);
        char name[96];
        int child, ready_count = 0;
        FILE *in;

        heap->forked = heap->reaped = 0;
        poe_kernel_sig(k, "CHLD", "catch_sigchld", POE_NOARGS);
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
                heap->children[heap->forked++] = pid;
        }
        snprintf(name, sizeof(name), "forked %d processes (out of %d)", heap->forked, FORK_COUNT);
        tap_ok(heap->forked == FORK_COUNT, name);
        /* Upstream blocks here until every child has checked in. */
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

        for (i = 0; i < heap->forked; i++)
                if (kill(heap->children[i], SIGINT) == 0)
                        kill_count++;
        snprintf(name, sizeof(name), "killed %d processes (out of %d)", kill_count, heap->forked);
        tap_ok(kill_count == heap->forked, name);
        poe_kernel_delay(poe_ctx_kernel(c), "reaping_time_is_up", 10, POE_NOARGS);
        return poe_nil();
}

static poe_value reaping_time_is_up(poe_ctx *c)
{
        poe_kernel_sig(poe_ctx_kernel(c), "CHLD", NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value zero(poe_ctx *c)
{
        (void)c;
        return poe_int(0);
}

static poe_value server_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "server");
        return poe_nil();
}

static poe_value do_thing(poe_ctx *c)
{
        poe_kernel_post(poe_ctx_kernel(c), poe_ctx_sender(c), "thing_done", poe_ctx_arg(c, 0), 1);
        return poe_nil();
}

static poe_value client_start(poe_ctx *c)
{
        static const poe_handler h[] = {
                {"_start", server_start, NULL},
                {"do_thing", do_thing, NULL},
                {"_child", zero, NULL},
                {"_stop", zero, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 4};

        poe_session_create(poe_ctx_kernel(c), &spec, NULL);
        poe_kernel_post_alias(poe_ctx_kernel(c), "server", "do_thing", POE_ARGS(poe_int(1)));
        return poe_nil();
}

struct sigs {
        int usr1, pipe;
};

static poe_value sigs_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_sig(k, "USR1", "got_usr1", POE_NOARGS);
        poe_kernel_sig(k, "PIPE", "got_pipe", POE_NOARGS);
        poe_kernel_yield(k, "send_signals", POE_NOARGS);
        return poe_nil();
}

static poe_value send_signals(poe_ctx *c)
{
        tap_ok(kill(getpid(), SIGUSR1) == 0, "sent self SIGUSR1");
        tap_ok(kill(getpid(), SIGPIPE) == 0, "sent self SIGPIPE");
        poe_kernel_delay(poe_ctx_kernel(c), "signal_wait_timeout", 1, POE_NOARGS);
        return poe_nil();
}

static void reduce_signal_wait_timeout(poe_ctx *c)
{
        struct sigs *heap = poe_ctx_heap(c);

        if (heap->usr1 && heap->pipe)
                poe_kernel_delay(poe_ctx_kernel(c), "signal_wait_timeout", 0.1, POE_NOARGS);
}

static poe_value got_usr1(poe_ctx *c)
{
        ((struct sigs *)poe_ctx_heap(c))->usr1++;
        reduce_signal_wait_timeout(c);
        return poe_nil();
}

static poe_value got_pipe(poe_ctx *c)
{
        ((struct sigs *)poe_ctx_heap(c))->pipe++;
        reduce_signal_wait_timeout(c);
        return poe_nil();
}

static poe_value signal_wait_timeout(poe_ctx *c)
{
        poe_kernel_sig(poe_ctx_kernel(c), "USR1", NULL, POE_NOARGS);
        poe_kernel_sig(poe_ctx_kernel(c), "PIPE", NULL, POE_NOARGS);
        return poe_nil();
}

static poe_value sigs_stop(poe_ctx *c)
{
        struct sigs *heap = poe_ctx_heap(c);

        tap_ok(heap->usr1 == 1, "caught SIGUSR1");
        tap_ok(heap->pipe == 1, "caught SIGPIPE");
        return poe_nil();
}

int main(void)
{
        static const poe_handler reaper[] = {
                {"_start", reaper_start, NULL},
                {"_stop", reaper_stop, NULL},
                {"catch_sigchld", catch_sigchld, NULL},
                {"forking_time_is_up", forking_time_is_up, NULL},
                {"reaping_time_is_up", reaping_time_is_up, NULL},
        };
        static const poe_handler client[] = {
                {"_start", client_start, NULL},
                {"thing_done", zero, NULL},
                {"_child", zero, NULL},
                {"_stop", zero, NULL},
        };
        static const poe_handler sigs[] = {
                {"_start", sigs_start, NULL},
                {"send_signals", send_signals, NULL},
                {"got_usr1", got_usr1, NULL},
                {"got_pipe", got_pipe, NULL},
                {"signal_wait_timeout", signal_wait_timeout, NULL},
                {"_stop", sigs_stop, NULL},
        };
        struct reaper reaper_heap = {0};
        struct sigs sigs_heap = {0, 0};
        poe_session_spec spec = {.handlers = reaper, .n_handlers = 5, .heap = &reaper_heap};
        poe_kernel *k;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(8);
        tap_skip("use POE", "use_ok: there is no module to load in C");
        if (pipe(pipe_fds) < 0 || poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        spec = (poe_session_spec){.handlers = client, .n_handlers = 4};
        poe_session_create(k, &spec, NULL);
        spec = (poe_session_spec){.handlers = sigs, .n_handlers = 6, .heap = &sigs_heap};
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        poe_kernel_free(k);
        return tap_done();
}
