/*
 * The table an adapter library (libpoe-glib, libpoe-uv, libpoe-ev)
 * returns from its exported function poe_<name>_owned_v2(), through
 * which a kernel made with POE_EVENT_LOOP=<name> owns a loop of that
 * library and sleeps in it, as POE::Loop::EV runs POE on EV's loop.
 * libpoe reaches it with dlopen, so that libpoe itself depends on none
 * of the three libraries.
 *
 * The kernel's I/O watchers ride the host loop's own, as POE::Loop::Glib
 * and POE::Loop::EV do: each watched fd is a watcher of the library (a
 * unix fd of a GSource, a uv_poll_t, an ev_io) in the modes the kernel
 * asks for, level-triggered, and the library's readiness callback tells
 * the kernel which (fd, mode) is ready, so a wake-up costs the host's
 * one poll and no second syscall.  An fd the library cannot watch (libev
 * has no exceptional condition, libuv refuses regular files) stays in
 * the kernel's epoll set, whose one fd the table then watches like any
 * other (kernel/loop-owned.c).  The table calls nothing of libpoe but
 * the callback it is given, so the library it lives in may be loaded
 * beside a program that links the kernel statically (the tests).
 */
#ifndef POE_OWNED_LOOP_H
#define POE_OWNED_LOOP_H

#include <stdint.h>

#define POE__OWNED_VERSION 2

/* The modes of watch's masks and of the ready callback (the kernel's
 * POE__MODE_*, as bits 1 << mode). */
enum { POE__OWNED_RD = 0, POE__OWNED_WR = 1, POE__OWNED_EX = 2 };

/* What the loop calls, only from inside iterate, for each fd it found
 * ready in a mode it watches it in (an fd that hung up or failed is
 * ready in each of its modes, as select(2) says). */
typedef void poe__owned_ready_fn(void *kernel, int fd, int mode);

typedef struct poe__owned_ops {
        unsigned version; /* POE__OWNED_VERSION */
        const char *name; /* "glib", "uv", "ev" */
        /* Makes a new loop of the library, which reports readiness to
         * ready(kernel, ...).  NULL when it cannot (no memory, no fd). */
        void *(*open)(poe__owned_ready_fn *ready, void *kernel);
        /* Watches fd in the modes of new_mask (bits 1 << mode) instead
         * of old_mask's; 0 stops watching it.  0, -EOPNOTSUPP or -EPERM
         * when the library cannot watch fd so (the kernel watches it in
         * its epoll set instead: nothing is left watched), or -errno. */
        int (*watch)(void *loop, int fd, unsigned old_mask, unsigned new_mask);
        /* One iteration of the loop: returns once a watched fd was
         * reported ready, or timeout_ns (-1: no limit, 0: only a look)
         * has passed, or a watcher of the program's own ran.  0 or
         * -errno. */
        int (*iterate)(void *loop, int64_t timeout_ns);
        /* In a child after fork: the library's own fork fix-ups, and
         * every fd watch forgotten without touching the kernel objects
         * shared with the parent (the kernel watches each anew). */
        int (*forked)(void *loop);
        /* Frees the loop and its watchers. */
        void (*close)(void *loop);
        /* The library's own loop object (GMainContext *, uv_loop_t *,
         * struct ev_loop *), for the program's own watchers. */
        void *(*native)(void *loop);
} poe__owned_ops;

/* Each adapter library's entry point (the one it defines). */
const poe__owned_ops *poe_glib_owned_v2(void);
const poe__owned_ops *poe_uv_owned_v2(void);
const poe__owned_ops *poe_ev_owned_v2(void);

#endif
