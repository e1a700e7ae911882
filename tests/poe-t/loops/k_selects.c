/*
 * POE::Test::Loops k_selects.pm: five master sessions chat with five
 * slave sessions over two-way pipes (socketpair(2), as
 * POE::Pipe::TwoWay makes them), pausing and resuming reads and
 * writes; select_* on one fd in several modes; and run() again after
 * it returned.  The slaves' half-second pauses run on the fake clock
 * (all I/O is within the process, so nothing waits on real time).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <poe/poe.h>

#include "../tap.h"

#define PAIR_COUNT 5
#define CHAT_COUNT 5

struct chat {
        int read, write; /* one socket: POE::Pipe::TwoWay's handles */
        int test_count, resume_count;
        const char *queue[4];
        int n_queue;
};

static struct chat masters[PAIR_COUNT], slaves[PAIR_COUNT];

static void push(struct chat *h, const char *m)
{
        if (h->n_queue < 4)
                h->queue[h->n_queue++] = m;
}

static const char *shift(struct chat *h)
{
        const char *m = h->queue[0];

        memmove(h->queue, h->queue + 1, (size_t)--h->n_queue * sizeof(h->queue[0]));
        return m;
}

/* sysread($handle, $buffer, 4) == 4, into buf. */
static int read4(int fd, char *buf)
{
        ssize_t n = read(fd, buf, 4);

        buf[n > 0 ? n : 0] = '\0';
        return n == 4;
}

static void write_message(poe_ctx *c, int fd, const char *m)
{
        if (write(fd, m, strlen(m)) != (ssize_t)strlen(m))
                poe_die(c, "%s", strerror(errno));
}

static poe_value slave_start(poe_ctx *c);
static poe_value slave_stop(poe_ctx *c);
static poe_value slave_got_input(poe_ctx *c);
static poe_value slave_resume_read(poe_ctx *c);
static poe_value slave_put_output(poe_ctx *c);

static poe_value master_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int index = (int)poe_value_int(poe_ctx_arg(c, 0));
        struct chat *heap = &masters[index];
        int fds[2];
        int ok = socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0;
        poe_handler h[] = {
                {"_start", slave_start, &slaves[index]},
                {"_stop", slave_stop, &slaves[index]},
                {"input", slave_got_input, &slaves[index]},
                {"resume", slave_resume_read, &slaves[index]},
                {"output", slave_put_output, &slaves[index]},
        };
        poe_value args[2];
        poe_session_spec spec = {.handlers = h, .n_handlers = 5, .args = args, .n_args = 2};

        tap_ok(ok, "master: created two-way pipe for testing");
        if (!ok)
                return poe_nil();
        poe_kernel_select_read(k, fds[0], "input", POE_NOARGS);
        args[0] = poe_int(fds[1]);
        args[1] = poe_int(fds[1]);
        poe_session_create(k, &spec, NULL);
        heap->read = heap->write = fds[0];
        heap->test_count = 0;
        heap->n_queue = 0;
        poe_kernel_select_write(k, heap->write, "output", POE_NOARGS);
        return poe_nil();
}

static poe_value master_stop(poe_ctx *c)
{
        struct chat *heap = poe_ctx_object(c);

        tap_ok(heap->test_count == CHAT_COUNT, "master: expected number of messages");
        return poe_nil();
}

static poe_value master_got_input(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct chat *heap = poe_ctx_object(c);
        int handle = (int)poe_value_int(poe_ctx_arg(c, 0));
        char buffer[8];

        if (!read4(handle, buffer) || strcmp(buffer, "quit") == 0) {
                poe_kernel_select_read(k, handle, NULL, POE_NOARGS);
                poe_kernel_select_write(k, heap->write, NULL, POE_NOARGS);
                return poe_nil();
        }
        if (strcmp(buffer, "ping") == 0) {
                heap->test_count++;
                push(heap, "pong");
                poe_kernel_select_resume_write(k, heap->write);
        }
        return poe_nil();
}

static poe_value master_put_output(poe_ctx *c)
{
        struct chat *heap = poe_ctx_object(c);
        int handle = (int)poe_value_int(poe_ctx_arg(c, 0));

        if (heap->n_queue)
                write_message(c, handle, shift(heap));
        else
                poe_kernel_select_pause_write(poe_ctx_kernel(c), handle);
        return poe_nil();
}

static poe_value slave_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct chat *heap = poe_ctx_object(c);

        heap->read = (int)poe_value_int(poe_ctx_arg(c, 0));
        heap->write = (int)poe_value_int(poe_ctx_arg(c, 1));
        poe_kernel_select_read(k, heap->read, "input", POE_NOARGS);
        heap->n_queue = 0;
        push(heap, "ping");
        poe_kernel_select_write(k, heap->write, "output", POE_NOARGS);
        return poe_nil();
}

static poe_value slave_stop(poe_ctx *c)
{
        struct chat *heap = poe_ctx_object(c);

        tap_ok(heap->test_count == CHAT_COUNT, "slave: expected number of messages");
        return poe_nil();
}

static poe_value slave_resume_read(poe_ctx *c)
{
        struct chat *heap = poe_ctx_object(c);

        poe_kernel_select_resume_read(poe_ctx_kernel(c), heap->read);
        poe_kernel_delay(poe_ctx_kernel(c), "error_resuming", POE_NO_TIME, POE_NOARGS);
        heap->resume_count++;
        return poe_nil();
}

static poe_value slave_got_input(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct chat *heap = poe_ctx_object(c);
        int handle = (int)poe_value_int(poe_ctx_arg(c, 0));
        char buffer[8];

        if (!read4(handle, buffer)) {
                poe_kernel_select_read(k, handle, NULL, POE_NOARGS);
                poe_kernel_select_write(k, heap->write, NULL, POE_NOARGS);
                return poe_nil();
        }
        if (strcmp(buffer, "pong") == 0) {
                heap->test_count++;
                if (heap->test_count < CHAT_COUNT) {
                        push(heap, "ping");
                        poe_kernel_select_resume_write(k, heap->write);
                        poe_kernel_select_pause_read(k, heap->read);
                        poe_kernel_delay(k, "resume", 0.5, POE_NOARGS);
                } else {
                        push(heap, "quit");
                        poe_kernel_select_read(k, handle, NULL, POE_NOARGS);
                        poe_kernel_select_resume_write(k, heap->write);
                }
        }
        return poe_nil();
}

static poe_value slave_put_output(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        struct chat *heap = poe_ctx_object(c);
        int handle = (int)poe_value_int(poe_ctx_arg(c, 0));

        if (heap->n_queue) {
                const char *message = shift(heap);

                write_message(c, handle, message);
                if (strcmp(message, "quit") == 0)
                        poe_kernel_select_write(k, handle, NULL, POE_NOARGS);
        } else {
                poe_kernel_select_pause_write(k, handle);
        }
        return poe_nil();
}

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static int quick_fds[2] = {-1, -1};

static poe_value quick_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int r;

        if (pipe(quick_fds) < 0)
                return poe_nil();
        r = quick_fds[0];
        poe_kernel_select_read(k, r, "input", POE_NOARGS);
        poe_kernel_select_write(k, r, "output", POE_NOARGS);
        poe_kernel_select_write(k, r, NULL, POE_NOARGS);
        poe_kernel_select_write(k, r, "output", POE_NOARGS);
        poe_kernel_select(k, r, NULL, NULL, NULL, POE_NOARGS);
        return poe_nil();
}

struct counter {
        int count;
};

static poe_value reentrant_start(poe_ctx *c)
{
        ((struct counter *)poe_ctx_heap(c))->count = 0;
        poe_kernel_yield(poe_ctx_kernel(c), "increment", POE_NOARGS);
        return poe_nil();
}

static poe_value increment(poe_ctx *c)
{
        struct counter *heap = poe_ctx_heap(c);

        if (heap->count < 10) {
                poe_kernel_yield(poe_ctx_kernel(c), "increment", POE_NOARGS);
                heap->count++;
        }
        return poe_nil();
}

static poe_value reentrant_stop(poe_ctx *c)
{
        tap_ok(((struct counter *)poe_ctx_heap(c))->count == 10, "re-entered event loop ran");
        return poe_nil();
}

int main(void)
{
        static const poe_handler quick[] = {
                {"_start", quick_start, NULL},
                {"_stop", nop, NULL},
        };
        static const poe_handler reentrant[] = {
                {"_start", reentrant_start, NULL},
                {"increment", increment, NULL},
                {"_stop", reentrant_stop, NULL},
        };
        struct counter counter = {0};
        poe_session_spec spec;
        poe_kernel *k;
        int index;

        setenv("POE_ASSERT_DEFAULT", "1", 1);
        tap_plan(17);
        if (poe_kernel_new(&k, NULL) < 0 || poe_kernel_clock_fake(k, 1e9) < 0)
                return 2;
        for (index = 0; index < PAIR_COUNT; index++) {
                poe_handler h[] = {
                        {"_start", master_start, &masters[index]},
                        {"_stop", master_stop, &masters[index]},
                        {"_child", nop, &masters[index]},
                        {"input", master_got_input, &masters[index]},
                        {"output", master_put_output, &masters[index]},
                };
                poe_value arg = poe_int(index);

                spec = (poe_session_spec){
                        .handlers = h, .n_handlers = 5, .args = &arg, .n_args = 1};
                poe_session_create(k, &spec, NULL);
        }
        spec = (poe_session_spec){.handlers = quick, .n_handlers = 2};
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);

        spec = (poe_session_spec){.handlers = reentrant, .n_handlers = 3, .heap = &counter};
        poe_session_create(k, &spec, NULL);
        poe_kernel_run(k);
        tap_pass("second event loop run exited normally");
        /* Perl closes the handles when the heaps go: after run(). */
        for (index = 0; index < PAIR_COUNT; index++) {
                close(masters[index].read);
                close(slaves[index].read);
        }
        if (quick_fds[0] >= 0) {
                close(quick_fds[0]);
                close(quick_fds[1]);
        }
        poe_kernel_free(k);
        return tap_done();
}
