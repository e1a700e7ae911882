/*
 * Writes a trace log the way a program with an inspector does (common.c's
 * fz_write_trace_log), for fuzz/seeds.py to make the trace-db seeds from.
 * Run twice on one path, the log holds two runs.
 *
 *   make-log PATH TICKS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        (void)data;
        (void)size;
        return 0;
}

int main(int argc, char **argv)
{
        int r;

        if (argc != 3) {
                fprintf(stderr, "usage: make-log PATH TICKS\n");
                return 2;
        }
        r = fz_write_trace_log(argv[1], atoi(argv[2]));
        if (r < 0) {
                fprintf(stderr, "make-log: %s: %s\n", argv[1], strerror(-r));
                return 1;
        }
        return 0;
}
