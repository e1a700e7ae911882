/*
 * POE t/90_regression/kjeldahl-stop-start-sig-pipe.t: USE_SIGCHLD=1,
 * USE_SIGNAL_PIPE=1 (see kjeldahl-stop-start.h).
 */
#include "kjeldahl-stop-start.h"

int main(void)
{
        setenv("POE_USE_SIGCHLD", "1", 1);
        setenv("POE_USE_SIGNAL_PIPE", "1", 1);
        return kjeldahl_main();
}
