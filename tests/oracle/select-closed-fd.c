/* select-closed-fd: the C side of select-closed-fd.pl (see there).  An
 * ASSERT_USAGE failure aborts, so each call runs in a forked child whose
 * stderr is read back; POE_ASSERT_USAGE=1 is POE::Kernel::ASSERT_USAGE. */

#include <unistd.h>

#include "oracle.h"

typedef int (*call_fn)(poe_kernel *k, int fd);

static call_fn calling;
static int the_fd;

static void run_calling(poe_kernel *k, int unused)
{
        (void)unused;
        calling(k, the_fd);
}

static void try(poe_kernel *k, const char *label, call_fn fn, int fd)
{
        char out[8192], *msg, *end;
        int lived;

        calling = fn;
        the_fd = fd;
        lived = oracle_fork_eval(k, run_calling, 0, out, sizeof(out));
        if (lived < 0)
                exit(1);
        if (lived) {
                printf("%s: lived\n", label);
                return;
        }
        msg = strstr(out, "invalid filehandle in ");
        end = msg ? strstr(msg, "()") : NULL;
        if (end)
                end[2] = '\0';
        printf("%s: died: %s\n", label, end ? msg : "other");
}

static int read_add(poe_kernel *k, int fd)
{
        return poe_kernel_select_read(k, fd, "ev", POE_NOARGS);
}
static int read_remove(poe_kernel *k, int fd)
{
        return poe_kernel_select_read(k, fd, NULL, POE_NOARGS);
}
static int write_remove(poe_kernel *k, int fd)
{
        return poe_kernel_select_write(k, fd, NULL, POE_NOARGS);
}
static int expedite_remove(poe_kernel *k, int fd)
{
        return poe_kernel_select_expedite(k, fd, NULL, POE_NOARGS);
}
static int select_all(poe_kernel *k, int fd)
{
        return poe_kernel_select(k, fd, NULL, NULL, NULL, POE_NOARGS);
}
static int pause_read(poe_kernel *k, int fd)
{
        return poe_kernel_select_pause_read(k, fd);
}
static int resume_read(poe_kernel *k, int fd)
{
        return poe_kernel_select_resume_read(k, fd);
}
static int pause_write(poe_kernel *k, int fd)
{
        return poe_kernel_select_pause_write(k, fd);
}
static int resume_write(poe_kernel *k, int fd)
{
        return poe_kernel_select_resume_write(k, fd);
}

static poe_value on_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int p[2], q[2];

        if (pipe(p) < 0 || pipe(q) < 0)
                exit(1);
        close(p[0]);
        close(p[1]);
        try(k, "select_read add", read_add, p[0]);
        try(k, "select_read remove", read_remove, p[0]);
        try(k, "select_write remove", write_remove, p[0]);
        try(k, "select_expedite remove", expedite_remove, p[0]);
        try(k, "select", select_all, p[0]);
        try(k, "select_pause_read", pause_read, p[0]);
        try(k, "select_resume_read", resume_read, p[0]);
        try(k, "select_pause_write", pause_write, p[0]);
        try(k, "select_resume_write", resume_write, p[0]);
        try(k, "open select_read remove", read_remove, q[0]);
        close(q[0]);
        close(q[1]);
        return poe_nil();
}

static poe_value on_stop(poe_ctx *c)
{
        (void)c;
        printf("stopped\n");
        return poe_nil();
}

int main(void)
{
        static const poe_handler h[] = {{"_start", on_start, NULL}, {"_stop", on_stop, NULL}};
        poe_kernel *k;

        setenv("POE_ASSERT_USAGE", "1", 1);
        k = oracle_kernel();
        oracle_create(k, h, ORACLE_N(h), POE_NOARGS, NULL);
        poe_kernel_run(k);
        poe_kernel_free(k);
        return 0;
}
