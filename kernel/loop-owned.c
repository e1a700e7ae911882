/*
 * POE_EVENT_LOOP=glib|uv|ev: the kernel owns a loop of that library and
 * sleeps in it, as POE::Loop::EV runs POE on EV's.  The adapter library
 * (libpoe-glib.so.N, N the soname's version, and so on) is opened with dlopen when the kernel is
 * made, so libpoe links none of the three; POE_LOOP_LIBDIR names the
 * directory to find it in (the build tree's, for the tests), else the
 * dynamic linker's search path is used.  The table its function
 * poe_<name>_owned_v2() returns (owned-loop.h) makes the loop and runs
 * one iteration at a time.
 *
 * The backend of such a kernel, "host" below, gives each watched fd to
 * the loop as a watcher of its own, whose readiness callback is
 * poe__io_ready: one poll (the library's) per wake-up, as with the
 * kernel's own epoll.  What the library cannot watch (libev has no
 * exceptional condition, libuv takes no regular file) goes to an epoll
 * set of the kernel's, the epoll backend's own code, whose fd the loop
 * watches; only when that fd is reported is the set read.  The kernel's
 * order is unchanged: the backend only fills the ready lists, and a
 * timeslice dispatches them (reads, writes, expedites) after the wait,
 * before the due events.  When a host loop asks such a kernel for its fd
 * (poe_kernel_get_fd), the kernel moves to the plain epoll backend and
 * the loop watches that one fd, as an attached host would.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "io.h"
#include "owned-loop.h"

struct poe__owned_loop {
        const poe__owned_ops *ops;
        int epoll_fd; /* the epoll backend's fd the loop watches, or -1 */
        void *loop;   /* the table's own */
        void *dl;     /* the adapter library, closed with the loop */
};

/* The host backend's state (its loop_data). */
struct poe__host {
        void *epoll;          /* the epoll backend's state, for what the loop cannot watch */
        int epoll_fd;         /* its fd, which the loop watches */
        bool epoll_ready;     /* the loop reported it in this wait */
        unsigned char *masks; /* by fd: the modes watched, | FALLBACK when in the set */
        int cap;
};

static void host_forget(poe_kernel *k);

static const char *const owned_names[] = {"glib", "uv", "ev"};

bool poe__owned_known(const char *name)
{
        size_t i;

        for (i = 0; name && i < sizeof(owned_names) / sizeof(owned_names[0]); i++)
                if (strcmp(name, owned_names[i]) == 0)
                        return true;
        return false;
}

/* The adapter library, from POE_LOOP_LIBDIR if set, else by soname. */
static void *open_adapter(poe_kernel *k, const char *name)
{
        const char *dir = getenv("POE_LOOP_LIBDIR");
        char path[4096];
        void *dl;

        if (dir && *dir)
                snprintf(path, sizeof(path), "%s/libpoe-%s.so." POE__SOVERSION, dir, name);
        else
                snprintf(path, sizeof(path), "libpoe-%s.so." POE__SOVERSION, name);
        dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!dl)
                poe__warn(k, "POE_EVENT_LOOP=%s: cannot load %s: %s\n", name, path, dlerror());
        return dl;
}

/* The loop's readiness callback: the kernel's, straight. */
static void owned_ready(void *kernel, int fd, int mode)
{
        poe_kernel *k = kernel;
        struct poe__host *h = k->loop == &poe__loop_host ? k->loop_data : NULL;

        if (h && fd == h->epoll_fd) {
                h->epoll_ready = true;
                return;
        }
        poe__io_ready(k, fd, mode);
}

int poe__owned_open(poe_kernel *k, const char *name)
{
        struct poe__owned_loop *o;
        const poe__owned_ops *(*get_ops)(void);
        const poe__owned_ops *ops;
        char sym[64];

        o = poe__calloc(k, 1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->epoll_fd = -1;
        o->dl = open_adapter(k, name);
        if (!o->dl) {
                poe__free(k, o);
                return -ENOENT;
        }
        snprintf(sym, sizeof(sym), "poe_%s_owned_v2", name);
        /* The function that returns the table (POSIX's way from the
         * object pointer dlsym gives to a function pointer). */
        *(void **)&get_ops = dlsym(o->dl, sym);
        ops = get_ops ? get_ops() : NULL;
        if (!ops || ops->version != POE__OWNED_VERSION) {
                poe__warn(k, "POE_EVENT_LOOP=%s: the adapter has no %s (version %u)\n", name, sym,
                          POE__OWNED_VERSION);
                dlclose(o->dl);
                poe__free(k, o);
                return -ENOENT;
        }
        o->ops = ops;
        o->loop = ops->open(owned_ready, k);
        if (!o->loop) {
                dlclose(o->dl);
                poe__free(k, o);
                return -ENOMEM;
        }
        k->owned = o;
        return 0;
}

/* An iteration of the owned loop, then (the plain epoll backend, once a
 * host asked for the kernel's fd) the epoll set's own look. */
int poe__owned_wait(poe_kernel *k, int64_t timeout_ns)
{
        int err = k->owned->ops->iterate(k->owned->loop, timeout_ns);

        return err < 0 ? err : k->loop->wait(k, 0);
}

/* The plain epoll backend has replaced the host one (poe_kernel_get_fd):
 * the loop watches its fd, and only wakes the kernel on it. */
int poe__owned_watch_epoll(poe_kernel *k)
{
        struct poe__owned_loop *o = k->owned;
        int fd = k->loop->fd(k), err;

        if (o->epoll_fd == fd)
                return 0;
        if (o->epoll_fd >= 0)
                (void)o->ops->watch(o->loop, o->epoll_fd, POE__IO_BIT(POE__MODE_RD), 0);
        o->epoll_fd = -1;
        err = o->ops->watch(o->loop, fd, 0, POE__IO_BIT(POE__MODE_RD));
        if (err == 0)
                o->epoll_fd = fd;
        return err;
}

/* In a child after fork, before the backend is made anew: the library's
 * fix-ups, with every watch forgotten (the parent's stay the parent's). */
int poe__owned_forked(poe_kernel *k)
{
        if (!k->owned)
                return 0;
        k->owned->epoll_fd = -1;
        if (k->loop == &poe__loop_host)
                host_forget(k);
        return k->owned->ops->forked(k->owned->loop);
}

void poe__owned_close(poe_kernel *k)
{
        struct poe__owned_loop *o = k->owned;

        if (!o)
                return;
        o->ops->close(o->loop);
        dlclose(o->dl);
        poe__free(k, o);
        k->owned = NULL;
}

/* ---- the host backend: the owned loop's own watchers ---- */

/* Per fd, the modes the loop watches it in, or FALLBACK with the modes
 * the epoll set does. */
#define FALLBACK 0x80u

static int host_grow(poe_kernel *k, struct poe__host *h, int fd)
{
        int cap = h->cap ? h->cap : 64;
        unsigned char *v;

        if (fd < h->cap)
                return 0;
        while (cap <= fd)
                cap *= 2;
        v = poe__realloc(k, h->masks, (size_t)cap);
        if (!v)
                return -ENOMEM;
        memset(v + h->cap, 0, (size_t)(cap - h->cap));
        h->masks = v;
        h->cap = cap;
        return 0;
}

/* The epoll backend's update, wait and fini on the set kept here. */
static int epoll_call_update(poe_kernel *k, struct poe__host *h, int fd, unsigned old_mask,
                             unsigned new_mask)
{
        void *saved = k->loop_data;
        int r;

        k->loop_data = h->epoll;
        r = poe__loop_epoll.update(k, fd, old_mask, new_mask);
        k->loop_data = saved;
        return r;
}

static int host_init(poe_kernel *k)
{
        struct poe__host *h = poe__calloc(k, 1, sizeof(*h));
        void *saved = k->loop_data;
        int err;

        if (!h)
                return -ENOMEM;
        err = poe__loop_epoll.init(k);
        h->epoll = k->loop_data;
        k->loop_data = saved;
        if (err < 0) {
                poe__free(k, h);
                return err;
        }
        k->loop_data = h->epoll;
        h->epoll_fd = poe__loop_epoll.fd(k);
        k->loop_data = saved;
        err = host_grow(k, h, h->epoll_fd);
        if (err == 0)
                err = k->owned->ops->watch(k->owned->loop, h->epoll_fd, 0,
                                           POE__IO_BIT(POE__MODE_RD));
        if (err < 0) {
                k->loop_data = h->epoll;
                poe__loop_epoll.fini(k);
                k->loop_data = saved;
                poe__free(k, h->masks);
                poe__free(k, h);
                return err;
        }
        h->masks[h->epoll_fd] = (unsigned char)POE__IO_BIT(POE__MODE_RD);
        k->loop_data = h;
        return 0;
}

/* After fork: the loop has forgotten its watches (owned forked). */
static void host_forget(poe_kernel *k)
{
        struct poe__host *h = k->loop_data;

        memset(h->masks, 0, (size_t)h->cap);
}

static void host_fini(poe_kernel *k)
{
        struct poe__host *h = k->loop_data;
        int fd;

        for (fd = 0; fd < h->cap; fd++)
                if (h->masks[fd] && !(h->masks[fd] & FALLBACK))
                        (void)k->owned->ops->watch(k->owned->loop, fd, h->masks[fd], 0);
        k->loop_data = h->epoll;
        poe__loop_epoll.fini(k);
        poe__free(k, h->masks);
        poe__free(k, h);
        k->loop_data = NULL;
}

static int host_update(poe_kernel *k, int fd, unsigned old_mask, unsigned new_mask)
{
        struct poe__host *h = k->loop_data;
        const struct poe__owned_loop *o = k->owned;
        int r;

        if (fd < 0)
                return -EBADF;
        r = host_grow(k, h, fd);
        if (r < 0)
                return r;
        if (h->masks[fd] & FALLBACK) {
                r = epoll_call_update(k, h, fd, old_mask, new_mask);
                if (r == 0)
                        h->masks[fd] = new_mask ? (unsigned char)(new_mask | FALLBACK) : 0;
                return r;
        }
        r = o->ops->watch(o->loop, fd, h->masks[fd], new_mask);
        if (r == -EOPNOTSUPP || r == -EPERM) {
                /* Not for this library: the epoll set takes it. */
                r = epoll_call_update(k, h, fd, 0, new_mask);
                if (r == 0)
                        h->masks[fd] = new_mask ? (unsigned char)(new_mask | FALLBACK) : 0;
                return r;
        }
        if (r == 0)
                h->masks[fd] = (unsigned char)new_mask;
        return r;
}

static int host_wait(poe_kernel *k, int64_t timeout_ns)
{
        struct poe__host *h = k->loop_data;
        void *saved;
        int err;

        h->epoll_ready = false;
        err = k->owned->ops->iterate(k->owned->loop, timeout_ns);
        if (err < 0 || !h->epoll_ready)
                return err;
        saved = k->loop_data;
        k->loop_data = h->epoll;
        err = poe__loop_epoll.wait(k, 0);
        k->loop_data = saved;
        return err;
}

const poe__loop_ops poe__loop_host = {
        .version = POE__LOOP_OPS_VERSION,
        .name = "host",
        .init = host_init,
        .fini = host_fini,
        .update = host_update,
        .wait = host_wait,
        /* None: a host loop asking for one moves the kernel to epoll. */
        .fd = NULL,
};

const char *poe__owned_name(const poe_kernel *k)
{
        return k->owned->ops->name;
}

POE_EXPORT void *poe_kernel_owned_loop(poe_kernel *k)
{
        if (!k || !k->owned)
                return NULL;
        return k->owned->ops->native(k->owned->loop);
}
