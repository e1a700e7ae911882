/* usage-outside-session: the C side of usage-outside-session.pl (see
 * there).  Each call, with otherwise good arguments, runs in a forked
 * child: an ASSERT_USAGE failure aborts.  POE_ASSERT_USAGE=1 is
 * POE::Kernel::ASSERT_USAGE. */

#include "oracle.h"

static poe_value nop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

/* One call per POE method, by index in the Perl side's list. */
static void call(poe_kernel *k, int i)
{
        switch (i) {
        case 0:
                poe_kernel_alarm(k, "x", 1, POE_NOARGS);
                break;
        case 1:
                poe_kernel_alarm_add(k, "x", 1, POE_NOARGS);
                break;
        case 2:
                poe_kernel_alarm_adjust(k, 1, 1, NULL);
                break;
        case 3:
                poe_kernel_alarm_remove(k, 1, NULL);
                break;
        case 4:
                poe_kernel_alarm_remove_all(k, NULL, NULL);
                break;
        case 5:
                poe_kernel_alarm_set(k, "x", 1, POE_NOARGS, NULL);
                break;
        case 6:
                poe_kernel_delay(k, "x", 1, POE_NOARGS);
                break;
        case 7:
                poe_kernel_delay_add(k, "x", 1, POE_NOARGS);
                break;
        case 8:
                poe_kernel_delay_adjust(k, 1, 1, NULL);
                break;
        case 9:
                poe_kernel_delay_set(k, "x", 1, POE_NOARGS, NULL);
                break;
        case 10:
                poe_kernel_detach_child(k, 1);
                break;
        case 11:
                poe_kernel_detach_myself(k);
                break;
        case 12:
                poe_kernel_select(k, 0, "x", NULL, NULL, POE_NOARGS);
                break;
        case 13:
                poe_kernel_select_expedite(k, 0, "x", POE_NOARGS);
                break;
        case 14:
                poe_kernel_select_pause_read(k, 0);
                break;
        case 15:
                poe_kernel_select_pause_write(k, 0);
                break;
        case 16:
                poe_kernel_select_read(k, 0, "x", POE_NOARGS);
                break;
        case 17:
                poe_kernel_select_resume_read(k, 0);
                break;
        case 18:
                poe_kernel_select_resume_write(k, 0);
                break;
        case 19:
                poe_kernel_select_write(k, 0, "x", POE_NOARGS);
                break;
        case 20:
                poe_kernel_sig(k, "USR1", "x", POE_NOARGS);
                break;
        case 21:
                poe_kernel_state(k, "x", nop, NULL);
                break;
        case 22:
                poe_kernel_yield(k, "x", POE_NOARGS);
                break;
        }
}

int main(void)
{
        static const char *methods[] = {
                "alarm",
                "alarm_add",
                "alarm_adjust",
                "alarm_remove",
                "alarm_remove_all",
                "alarm_set",
                "delay",
                "delay_add",
                "delay_adjust",
                "delay_set",
                "detach_child",
                "detach_myself",
                "select",
                "select_expedite",
                "select_pause_read",
                "select_pause_write",
                "select_read",
                "select_resume_read",
                "select_resume_write",
                "select_write",
                "sig",
                "state",
                "yield",
        };
        poe_kernel *k;
        int i;

        setenv("POE_ASSERT_USAGE", "1", 1);
        k = oracle_kernel();
        poe_kernel_run(k);
        for (i = 0; i < (int)ORACLE_N(methods); i++) {
                char out[4096];
                int lived = oracle_fork_eval(k, call, i, out, sizeof(out));

                if (lived < 0)
                        return 1;
                printf("%s: %s\n", methods[i],
                       lived ? "lived"
                       : strstr(out, "from a running session") ? "died: from a running session"
                                                               : "died: other");
        }
        poe_kernel_free(k);
        return 0;
}
