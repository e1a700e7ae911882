/* The oracle's C side is the example itself (examples/tick.c), run as
 * "tick 3 0.05": oracle programs take no arguments. */
#define main tick_main
int main(int argc, char **argv);
#include "../../examples/tick.c"
#undef main

int main(void)
{
        char *argv[] = { "tick", "3", "0.05", NULL };

        return tick_main(3, argv);
}
