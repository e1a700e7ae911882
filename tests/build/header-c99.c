/* The public header compiles alone under -std=c99 -pedantic -Werror, and
 * its version (poe/version.h) is the library's and usable in #if. */
#include <poe/poe.h>

#include <stdio.h>
#include <string.h>

#if !POE_VERSION_AT_LEAST(POE_VERSION_MAJOR, POE_VERSION_MINOR, POE_VERSION_PATCH) ||              \
        POE_VERSION_AT_LEAST(POE_VERSION_MAJOR, POE_VERSION_MINOR, POE_VERSION_PATCH + 1)
#error POE_VERSION_AT_LEAST disagrees with POE_VERSION_*
#endif

int main(void)
{
        poe_value v = poe_int(1);
        char s[32];

        snprintf(s, sizeof(s), "%d.%d.%d", POE_VERSION_MAJOR, POE_VERSION_MINOR, POE_VERSION_PATCH);
        if (strcmp(s, POE_VERSION_STRING) != 0 || strcmp(poe_version_string(), s) != 0 ||
            poe_version() != (unsigned)POE_VERSION_NUMBER ||
            POE_VERSION_NUMBER !=
                    POE_VERSION_ENCODE(POE_VERSION_MAJOR, POE_VERSION_MINOR, POE_VERSION_PATCH)) {
                fprintf(stderr, "version: headers %s (%d), library %s (%u)\n", POE_VERSION_STRING,
                        POE_VERSION_NUMBER, poe_version_string(), poe_version());
                return 1;
        }
        return v.type == POE_T_INT ? 0 : 1;
}
