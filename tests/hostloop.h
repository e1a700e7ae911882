/*
 * libpoe driven by someone else's loop: the scenarios of
 * tests/hostloop.c, run by one program per host loop (a plain poll()
 * loop, GLib, libuv, libev), each of which supplies a driver.  The
 * scenarios use real sockets, OS signals, child processes and threads,
 * and the fake clock where the order of timers is the point; each
 * asserts POE's order of events and that the host's own watchers keep
 * working beside the kernel's.
 */
#ifndef POE_TEST_HOSTLOOP_H
#define POE_TEST_HOSTLOOP_H

#include <stdbool.h>

#include "testlib.h"

typedef struct hl_driver {
        const char *name;
        /* Puts k on a new host loop (the adapter's attach, or nothing for
         * the poll loop, which calls the external API itself). */
        void (*attach)(poe_kernel *k);
        /* Takes k off the host loop and frees the loop. */
        void (*detach)(poe_kernel *k);
        /* The host's own watcher: cb(fd) each time fd is readable, until
         * unwatch(fd). */
        void (*watch)(int fd, void (*cb)(int fd));
        void (*unwatch)(int fd);
        /* One iteration of the host loop, sleeping at most max_ms (a
         * host timer of its own bounds it). */
        void (*iterate)(int max_ms);
} hl_driver;

/* The running program's driver, set in its main. */
extern const hl_driver *hl;

/* The scenarios, as cmocka tests (tl_setup's kernel on tl.k). */
extern const struct CMUnitTest hl_tests[];
extern const size_t hl_n_tests;

/* Runs the scenarios under the driver: main's whole body. */
int hl_main(const hl_driver *driver);

#endif
