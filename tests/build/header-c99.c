/* The public header compiles alone under -std=c99 -pedantic -Werror. */
#include <poe/poe.h>

int main(void)
{
        poe_value v = poe_int(1);

        return v.type == POE_T_INT ? 0 : 1;
}
