/*
 * I/O (handles.c, loop.c, loop-*.c): watchers of fds, the loop backends
 * that wait for them, and a host loop the kernel may own.
 */
#include "internal.h"

#ifndef POE_IO_H_PART
#define POE_IO_H_PART

/* I/O modes, POE's MODE_RD, MODE_WR, MODE_EX, and their bits. */
enum { POE__MODE_RD = 0, POE__MODE_WR = 1, POE__MODE_EX = 2, POE__MODES = 3 };
#define POE__IO_BIT(mode) (1u << (mode))

/* One session's watcher of one fd in one mode. */
typedef struct poe__watch {
        int fd;
        int mode;
        bool paused;
        poe__session *session;
        uint32_t event;
        poe_value *args; /* deep copy; pointers not owned */
        uint32_t nargs;
        poe__list_node in_session;
} poe__watch;

typedef struct poe__fdrec {
        poe__watch *watch[POE__MODES];
        unsigned mask; /* the modes the backend is asked to watch */
} poe__fdrec;

/*
 * A loop backend: the small, versioned table of functions every event
 * loop (select, poll, epoll, or someone else's) implements.  The kernel
 * tells it which fds to watch in which modes, and asks it to wait.
 */
#define POE__LOOP_OPS_VERSION 1
typedef struct poe__loop_ops {
        unsigned version;
        const char *name;
        int (*init)(poe_kernel *k);
        void (*fini)(poe_kernel *k);
        /* Watch fd for the modes in mask (POE__IO_BIT); 0 stops watching. */
        int (*update)(poe_kernel *k, int fd, unsigned old_mask, unsigned new_mask);
        /* Wait at most timeout_ns (-1: no limit) and report each ready
         * (fd, mode) with poe__io_ready.  Returns >= 0 or -errno. */
        int (*wait)(poe_kernel *k, int64_t timeout_ns);
        /* One fd that is readable whenever wait(0) would report something
         * (epoll's own), for host loops (poe_kernel_get_fd); NULL when the
         * backend has none (select, poll). */
        int (*fd)(poe_kernel *k);
} poe__loop_ops;

extern const poe__loop_ops poe__loop_select;
extern const poe__loop_ops poe__loop_poll;
extern const poe__loop_ops poe__loop_epoll;
/* A loop the kernel owns (POE_EVENT_LOOP=glib|uv|ev): its own watchers. */
extern const poe__loop_ops poe__loop_host;

/* I/O: the part of struct poe_kernel (internal.h says how parts work). */
#define POE__IO_PART                                                            \
        /* I/O watchers by fd, and the loop backend. */                         \
        struct poe__fdrec **fds;                                                \
        int n_fds_cap;                                                          \
        size_t n_watched_fds;                                                   \
        const struct poe__loop_ops *loop;                                       \
        void *loop_data;                                                        \
        /* A host loop the kernel owns and sleeps in (POE_EVENT_LOOP=glib,      \
         * uv, ev; loop-owned.c), or NULL. */                                   \
        struct poe__owned_loop *owned;                                          \
        int *ready[POE__MODES]; /* fds the backend reported ready, per mode */  \
        size_t n_ready[POE__MODES];                                             \
        size_t cap_ready; /* >= watched fds, reserved at registration */        \
        int wake_fd; /* eventfd: post_from_thread wakes the loop */             \
        bool wake_ready; /* the backend reported wake_fd readable */

#endif

#if !defined(POE__PARTS_ONLY) && !defined(POE_IO_H)
#define POE_IO_H

#include "events.h"
#include "sessions.h"

/*
 * An I/O round (handles.c's poe__io_dispatch_ready): its one delivery,
 * the two arguments every watcher gets first (fd, mode), and its
 * position, which a die that lands in the round's frame resumes after.
 */
typedef struct poe__io_round {
        poe__delivery d;
        poe_value pre[2];
        int mode;
        size_t i;
} poe__io_round;

/* The watchers of fd, or NULL if none ever was. */
static inline poe__fdrec *poe__io_rec(const poe_kernel *k, int fd)
{
        return fd >= 0 && fd < k->n_fds_cap ? k->fds[fd] : NULL;
}

/* The watcher a ready (fd, mode) goes to, or NULL: none, or one that an
 * earlier handler of the round paused, or whose session is gone. */
static inline poe__watch *poe__io_ready_watch(const poe_kernel *k, int fd, int mode)
{
        poe__fdrec *r = poe__io_rec(k, fd);
        poe__watch *w = r ? r->watch[mode] : NULL;

        return w && !w->paused && w->session->alive ? w : NULL;
}

/* events.c: the round's dispatches, from its position on. */
void poe__dispatch_io(poe_kernel *k, poe__io_round *r);

/* handles.c */
void poe__io_ready(poe_kernel *k, int fd, int mode);
void poe__io_dispatch_ready(poe_kernel *k);
void poe__handles_clear_session(poe_kernel *k, poe__session *s);
void poe__handles_free(poe_kernel *k);
void poe__io_bad(poe_kernel *k, int fd);

/* loop.c */
int poe__loop_init(poe_kernel *k);
void poe__loop_fini(poe_kernel *k);
void poe__loop_wait(poe_kernel *k, bool block);
int64_t poe__loop_timeout(poe_kernel *k);
int poe__loop_forked(poe_kernel *k);
int poe__loop_rebuild(poe_kernel *k, const poe__loop_ops *ops, bool fresh_wake);

/* loop-owned.c: a GLib, libuv or libev loop the kernel owns, reached
 * through the adapter library's poe_<name>_owned_v1() table (dlopen). */
bool poe__owned_known(const char *name);
int poe__owned_open(poe_kernel *k, const char *name);
int poe__owned_wait(poe_kernel *k, int64_t timeout_ns);
int poe__owned_watch_epoll(poe_kernel *k);
int poe__owned_forked(poe_kernel *k);
void poe__owned_close(poe_kernel *k);
const char *poe__owned_name(const poe_kernel *k);

#endif
