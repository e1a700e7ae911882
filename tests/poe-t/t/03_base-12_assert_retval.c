/*
 * POE t/10_units/03_base/12_assert_retval.t: under ASSERT_RETVALS (and
 * only it) every failing call is fatal.  Upstream catches each death
 * with eval {} and matches POE's message; an ASSERT_RETVALS failure in
 * C aborts the process, so each call runs in a forked child and the
 * assertion is that the child aborted with libpoe's message naming the
 * call ("<rv> poe_kernel_alarm_at() failed ...").  POE's undef ids are
 * id 0, which no timer ever has; a NaN time is POE's undef time.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poe/poe.h>

#include "../tap.h"

typedef void (*call_fn)(poe_kernel *k);

/* eval { fn() }; ok($@ =~ /want/): fn must abort with want on stderr. */
static void dies(poe_kernel *k, call_fn fn, const char *want, const char *name)
{
        char out[4096];
        size_t len = 0;
        int fds[2], status = 0;
        ssize_t n;
        pid_t pid;

        if (pipe(fds) < 0) {
                tap_fail(name);
                return;
        }
        fflush(NULL);
        pid = fork();
        if (pid == 0) {
                struct rlimit no_core = { 0, 0 };

                setrlimit(RLIMIT_CORE, &no_core); /* the abort is expected */
                dup2(fds[1], 2);
                close(fds[0]);
                close(fds[1]);
                signal(SIGABRT, SIG_DFL);
                fn(k);
                _exit(0);
        }
        close(fds[1]);
        while (len < sizeof(out) - 1 && (n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
                len += (size_t)n;
        out[len] = '\0';
        close(fds[0]);
        waitpid(pid, &status, 0);
        if (!tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT && strstr(out, want),
                    name))
                tap_diag("status %d, stderr: %s", status, out);
}

static void c_alarm(poe_kernel *k) { poe_kernel_alarm(k, NULL, 0, POE_NOARGS); }
static void c_alarm_add(poe_kernel *k) { poe_kernel_alarm_add(k, NULL, 0, POE_NOARGS); }
static void c_delay(poe_kernel *k) { poe_kernel_delay(k, NULL, 0, POE_NOARGS); }
static void c_delay_add(poe_kernel *k) { poe_kernel_delay_add(k, NULL, 0, POE_NOARGS); }
static void c_id_to_session(poe_kernel *k) { poe_kernel_ID_id_to_session(k, 999); }
static void c_refcount_inc(poe_kernel *k) { poe_kernel_refcount_increment(k, 999, "tag"); }
static void c_refcount_dec(poe_kernel *k) { poe_kernel_refcount_decrement(k, 999, "tag"); }

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static void c_state(poe_kernel *k) { poe_kernel_state(k, "moo", nop, NULL); }
static void c_alarm_set(poe_kernel *k) { poe_kernel_alarm_set(k, NULL, 0, POE_NOARGS, NULL); }
static void c_alarm_set_time(poe_kernel *k)
{
        poe_kernel_alarm_set(k, "moo", NAN, POE_NOARGS, NULL);
}
static void c_alarm_remove(poe_kernel *k) { poe_kernel_alarm_remove(k, 0, NULL); }
static void c_alarm_adjust(poe_kernel *k) { poe_kernel_alarm_adjust(k, 0, 1, NULL); }
static void c_alarm_adjust_delta(poe_kernel *k) { poe_kernel_alarm_adjust(k, 1, NAN, NULL); }
static void c_delay_set(poe_kernel *k) { poe_kernel_delay_set(k, NULL, 0, POE_NOARGS, NULL); }
static void c_delay_set_secs(poe_kernel *k)
{
        poe_kernel_delay_set(k, "moo", NAN, POE_NOARGS, NULL);
}
static void c_delay_adjust(poe_kernel *k) { poe_kernel_delay_adjust(k, 0, 1, NULL); }
static void c_delay_adjust_secs(poe_kernel *k) { poe_kernel_delay_adjust(k, 1, NAN, NULL); }
static void c_alias_set_moo(poe_kernel *k) { poe_kernel_alias_set(k, "moo"); }
static void c_alias_remove_moo(poe_kernel *k) { poe_kernel_alias_remove(k, "moo"); }
static void c_alias_remove_narf(poe_kernel *k) { poe_kernel_alias_remove(k, "narf"); }

static poe_value first_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "moo");
        return poe_nil();
}

static poe_value second_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        dies(k, c_alias_set_moo, "poe_kernel_alias_set() failed", "alias already in use");
        dies(k, c_alias_remove_moo, "poe_kernel_alias_remove() failed",
             "alias belongs to another session");
        return poe_nil();
}

int main(void)
{
        static const poe_handler first[] = { { "_start", first_start, NULL } };
        static const poe_handler second[] = { { "_start", second_start, NULL } };
        poe_session_spec spec = { .handlers = first, .n_handlers = 1 };
        poe_kernel *k;

        unsetenv("POE_ASSERT_USAGE");
        setenv("POE_ASSERT_RETVALS", "1", 1);
        tap_plan(22);
        tap_skip("use POE", "use_ok: there is no module to load in C");
        if (poe_kernel_new(&k, NULL) < 0)
                return 2;
        poe_kernel_run(k);

        dies(k, c_alarm, "poe_kernel_alarm_at() failed", "alarm with undefined event name");
        dies(k, c_alarm_add, "poe_kernel_alarm_add_at() failed",
             "alarm_add with undefined event name");
        dies(k, c_delay, "poe_kernel_delay_at() failed", "delay with undefined event name");
        dies(k, c_delay_add, "poe_kernel_delay_add_at() failed",
             "delay_add with undefined event name");
        dies(k, c_id_to_session, "poe_kernel_ID_id_to_session() failed",
             "ID_id_to_session with unknown ID");
        tap_skip("ID_session_to_id with unknown session",
                 "ID_session_to_id takes a Perl reference; sessions are ids in C");
        dies(k, c_refcount_inc, "poe_kernel_refcount_increment() failed",
             "refcount_increment with unknown session ID");
        dies(k, c_refcount_dec, "poe_kernel_refcount_decrement() failed",
             "refcount_decrement with unknown session ID");
        dies(k, c_state, "poe_kernel_state() failed", "state with nonexistent active session");

        dies(k, c_alarm_set, "poe_kernel_alarm_set_at() failed", "event undefined in alarm_set");
        dies(k, c_alarm_set_time, "poe_kernel_alarm_set_at() failed",
             "time undefined in alarm_set");
        dies(k, c_alarm_remove, "poe_kernel_alarm_remove() failed",
             "alarm ID undefined in alarm_remove");
        dies(k, c_alarm_adjust, "poe_kernel_alarm_adjust() failed",
             "alarm ID undefined in alarm_adjust");
        dies(k, c_alarm_adjust_delta, "poe_kernel_alarm_adjust() failed",
             "alarm time undefined in alarm_adjust");
        dies(k, c_delay_set, "poe_kernel_delay_set_at() failed",
             "event name undefined in delay_set");
        dies(k, c_delay_set_secs, "poe_kernel_delay_set_at() failed",
             "seconds undefined in delay_set");
        dies(k, c_delay_adjust, "poe_kernel_delay_adjust() failed",
             "delay ID undefined in delay_adjust");
        dies(k, c_delay_adjust_secs, "poe_kernel_delay_adjust() failed",
             "delay seconds undefined in delay_adjust");

        poe_session_create(k, &spec, NULL);
        spec = (poe_session_spec){ .handlers = second, .n_handlers = 1 };
        poe_session_create(k, &spec, NULL);

        dies(k, c_alias_remove_narf, "poe_kernel_alias_remove() failed", "alias does not exist");
        poe_kernel_run(k);
        poe_kernel_free(k);
        return tap_done();
}
