/*
 * The table an adapter library (libpoe-glib, libpoe-uv, libpoe-ev)
 * returns from its exported function poe_<name>_owned_v1(), through
 * which a kernel made with POE_EVENT_LOOP=<name> owns a loop of that
 * library and sleeps in it, as POE::Loop::EV runs POE on EV's loop.
 * libpoe reaches it with dlopen, so that libpoe itself depends on none
 * of the three libraries.
 *
 * The kernel's I/O rides the host loop through its epoll set: the table
 * watches that one fd, and the kernel's own wait(0) then reads what is
 * ready, which keeps POE's level-triggered select semantics exact.  The
 * table calls nothing of libpoe, so the library it lives in may be
 * loaded beside a program that links the kernel statically (the tests).
 */
#ifndef POE_OWNED_LOOP_H
#define POE_OWNED_LOOP_H

#include <stdint.h>

#define POE__OWNED_VERSION 1

typedef struct poe__owned_ops {
        unsigned version; /* POE__OWNED_VERSION */
        const char *name; /* "glib", "uv", "ev" */
        /* Makes a new loop of the library watching fd for reading.
         * NULL when it cannot (no memory, no fd). */
        void *(*open)(int fd);
        /* One iteration of the loop: returns once fd is readable, or
         * timeout_ns (-1: no limit) has passed, or a watcher of the
         * loop's own ran.  0 or -errno. */
        int (*iterate)(void *loop, int64_t timeout_ns);
        /* In a child after fork: the library's own fork fix-ups, then
         * watch fd (the kernel's new epoll set) instead of the old one,
         * without touching the kernel objects shared with the parent. */
        int (*forked)(void *loop, int fd);
        /* Frees the loop and its watchers. */
        void (*close)(void *loop);
        /* The library's own loop object (GMainContext *, uv_loop_t *,
         * struct ev_loop *), for the program's own watchers. */
        void *(*native)(void *loop);
} poe__owned_ops;

/* Each adapter library's entry point (the one it defines). */
const poe__owned_ops *poe_glib_owned_v1(void);
const poe__owned_ops *poe_uv_owned_v1(void);
const poe__owned_ops *poe_ev_owned_v1(void);

#endif
