/*
 * The library's version: poe/version.h as it was when the library was
 * built, which a program compiled against older headers can ask for.
 */
#include "internal.h"

unsigned poe_version(void)
{
        return POE_VERSION_NUMBER;
}

const char *poe_version_string(void)
{
        return POE_VERSION_STRING;
}
