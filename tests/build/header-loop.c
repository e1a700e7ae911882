/* An adapter's public header compiles alone as C99 -pedantic (built once
 * per adapter, with POE_LOOP_HEADER naming it). */
#include POE_LOOP_HEADER

int main(void)
{
        return 0;
}
