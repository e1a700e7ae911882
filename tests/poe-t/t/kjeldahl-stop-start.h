/*
 * POE t/90_regression/kjeldahl-stop-start-{sig-pipe,sig-nopipe,polling}.t,
 * shared by the three ports, which differ only in POE_USE_SIGCHLD and
 * POE_USE_SIGNAL_PIPE: children forked from _start stop the kernel they
 * inherited, make a session of their own and run the kernel again from
 * inside that _start (as POE::Wheel::Run's code program does); each
 * prints DONE, which the parent reads, and exits.  Upstream's
 * POE::Wheel::Run is a fork() with the child's stdout on a pipe the
 * parent watches (StdoutEvent per line, CloseEvent at end of file);
 * upstream's children sleep a second, these a tenth of one (real time:
 * the children run on their own clocks).
 */
#ifndef KJELDAHL_STOP_START_H
#define KJELDAHL_STOP_START_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <poe/poe.h>

#include "../tap.h"

#define CHILD_PROCESS_LIMIT    3
#define SECONDS_CHILDREN_SLEEP 0.1

struct wheel {
        int id, n, fd, flushed, chld, closed, live;
        pid_t pid;
        char buf[256];
        size_t len;
};

struct work {
        struct wheel w[CHILD_PROCESS_LIMIT];
        poe_alarm_id tid;
        int live;
};

static poe_value child_done(poe_ctx *c)
{
        (void)c;
        printf("DONE\n");
        fflush(stdout);
        return poe_nil();
}

static poe_value child_start(poe_ctx *c)
{
        poe_kernel_delay(poe_ctx_kernel(c), "done", SECONDS_CHILDREN_SLEEP, POE_NOARGS);
        return poe_nil();
}

static poe_value child_nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

/* Upstream's spawn_child, the code the wheel runs in the child. */
static void spawn_child(poe_kernel *k)
{
        static const poe_handler h[] = {
                {"_start", child_start, NULL},
                {"_stop", child_nop, NULL},
                {"done", child_done, NULL},
        };
        poe_session_spec spec = {.handlers = h, .n_handlers = 3};
        int rc;

        poe_kernel_stop(k);
        poe_session_create(k, &spec, NULL);
        rc = poe_kernel_run(k);
        if (rc < 0)
                fprintf(stderr, "child run: %s\n", strerror(-rc));
}

static struct wheel *wheel_by_id(struct work *heap, int id)
{
        int i;

        for (i = 0; i < CHILD_PROCESS_LIMIT; i++)
                if (heap->w[i].live && heap->w[i].id == id)
                        return &heap->w[i];
        return NULL;
}

static void close_on(poe_kernel *k, struct work *heap, struct wheel *w, int *field)
{
        char name[64];

        (*field)++;
        if (!w->chld || !w->closed)
                return;
        tap_is_int(w->flushed, 1, "expected child flush");
        w->live = 0;
        heap->live--;
        snprintf(name, sizeof(name), "Child %d exit detected.", w->id);
        tap_pass(name);
        if (heap->live == 0) {
                tap_pass("all children have exited");
                poe_kernel_alarm_remove(k, heap->tid, NULL);
        }
}

static poe_value work_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct work *heap = poe_ctx_heap(c);
        int n;

        poe_kernel_sig(k, "CHLD", "sig_CHLD", POE_NOARGS);
        for (n = 1; n <= CHILD_PROCESS_LIMIT; n++) {
                struct wheel *w = &heap->w[n - 1];
                int fds[2];
                pid_t pid;

                if (pipe(fds) < 0) {
                        perror("pipe");
                        exit(2);
                }
                fflush(NULL);
                pid = fork();
                if (pid < 0) {
                        perror("fork");
                        exit(2);
                }
                if (pid == 0) {
                        int i;

                        dup2(fds[1], 1);
                        close(fds[0]);
                        close(fds[1]);
                        for (i = 0; i < n - 1; i++)
                                close(heap->w[i].fd);
                        spawn_child(k);
                        fflush(NULL);
                        _exit(0);
                }
                close(fds[1]);
                memset(w, 0, sizeof(*w));
                w->id = n;
                w->n = n;
                w->pid = pid;
                w->fd = fds[0];
                w->live = 1;
                heap->live++;
                poe_kernel_select_read(k, w->fd, "chld_output", POE_ARGS(poe_int(w->id)));
        }
        poe_kernel_delay_set(k, "timeout", SECONDS_CHILDREN_SLEEP * 10 + 5, POE_NOARGS, &heap->tid);
        return poe_nil();
}

/* The wheel: lines become chld_stdout, end of file chld_close. */
static poe_value chld_output(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct work *heap = poe_ctx_heap(c);
        struct wheel *w = wheel_by_id(heap, (int)poe_value_int(poe_ctx_arg(c, 2)));
        ssize_t got;
        char *nl;

        if (!w)
                return poe_nil();
        got = read(w->fd, w->buf + w->len, sizeof(w->buf) - 1 - w->len);
        if (got < 0 && errno == EINTR)
                return poe_nil();
        if (got <= 0) {
                poe_kernel_select_read(k, w->fd, NULL, POE_NOARGS);
                close(w->fd);
                close_on(k, heap, w, &w->closed);
                return poe_nil();
        }
        w->len += (size_t)got;
        w->buf[w->len] = '\0';
        while ((nl = strchr(w->buf, '\n'))) {
                char line[256], name[64], *p, *q;

                *nl = '\0';
                /* $line =~ s/\s+//g */
                for (p = w->buf, q = line; *p; p++)
                        if (*p != ' ' && *p != '\t' && *p != '\r')
                                *q++ = *p;
                *q = '\0';
                snprintf(name, sizeof(name), "stdout from %d", w->id);
                tap_is_str(line, "DONE", name);
                if (strcmp(line, "DONE") == 0)
                        w->flushed = 1;
                memmove(w->buf, nl + 1, strlen(nl + 1) + 1);
                w->len = strlen(w->buf);
        }
        return poe_nil();
}

static poe_value timeout(poe_ctx *c)
{
        tap_fail("Timed out waiting for children to exit");
        poe_kernel_stop(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value sig_chld(poe_ctx *c)
{
        struct work *heap = poe_ctx_heap(c);
        pid_t pid = (pid_t)poe_value_int(poe_ctx_arg(c, 1));
        int i;

        for (i = 0; i < CHILD_PROCESS_LIMIT; i++)
                if (heap->w[i].live && heap->w[i].pid == pid) {
                        close_on(poe_ctx_kernel(c), heap, &heap->w[i], &heap->w[i].chld);
                        return poe_nil();
                }
        poe_die(c, "Unknown wheel PID=%d", (int)pid);
}

static int kjeldahl_main(void)
{
        static const poe_handler h[] = {
                {"_start", work_start, NULL}, {"chld_output", chld_output, NULL},
                {"timeout", timeout, NULL},   {"sig_CHLD", sig_chld, NULL},
                {"_stop", child_nop, NULL},
        };
        static struct work heap;
        poe_session_spec spec = {.handlers = h, .n_handlers = 5, .heap = &heap};
        pid_t me = getpid();
        poe_kernel *k;

        setenv("POE_CATCH_EXCEPTIONS", "0", 1);
        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(3 * CHILD_PROCESS_LIMIT + 1 + 1);
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        if (getpid() != me)
                _exit(0);
        tap_pass("Sane exit");
        poe_kernel_free(k);
        return tap_done();
}

#endif
