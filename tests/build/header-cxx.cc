// The public header compiles as C++ too.
#include <poe/poe.h>

int main()
{
        poe_value v = poe_int(1);
        poe_kernel *k = nullptr;

        if (poe_kernel_new(&k, nullptr) < 0)
                return 1;
        k = poe_kernel_free(k);
        return v.type == POE_T_INT && !k ? 0 : 1;
}
