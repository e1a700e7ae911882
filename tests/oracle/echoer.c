/* The oracle's C side is the example itself, so the program the docs
 * show is the one proven to print what real POE prints. */
#include "../../examples/echoer.c"
