/*
 * POE t/90_regression/kjeldahl-stop-start-polling.t: USE_SIGCHLD=0,
 * USE_SIGNAL_PIPE=0 (see kjeldahl-stop-start.h).
 */
#include "kjeldahl-stop-start.h"

int main(void)
{
        setenv("POE_USE_SIGCHLD", "0", 1);
        setenv("POE_USE_SIGNAL_PIPE", "0", 1);
        return kjeldahl_main();
}
