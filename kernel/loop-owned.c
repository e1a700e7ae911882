/*
 * POE_EVENT_LOOP=glib|uv|ev: the kernel owns a loop of that library and
 * sleeps in it, as POE::Loop::EV runs POE on EV's.  The adapter library
 * (libpoe-glib.so.0 and so on) is opened with dlopen when the kernel is
 * made, so libpoe links none of the three; POE_LOOP_LIBDIR names the
 * directory to find it in (the build tree's, for the tests), else the
 * dynamic linker's search path is used.  The table its function
 * poe_<name>_owned_v1() returns (owned-loop.h) makes the loop, watches
 * the kernel's epoll set in it, and runs one iteration at a time; the
 * epoll backend then reads what is ready, so the order of events is the
 * epoll backend's exactly.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "owned-loop.h"

struct poe__owned_loop {
        const poe__owned_ops *ops;
        void *loop; /* the table's own */
        void *dl;   /* the adapter library, closed with the loop */
};

static const char *const owned_names[] = { "glib", "uv", "ev" };

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
                snprintf(path, sizeof(path), "%s/libpoe-%s.so.0", dir, name);
        else
                snprintf(path, sizeof(path), "libpoe-%s.so.0", name);
        dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!dl)
                poe__warn(k, "POE_EVENT_LOOP=%s: cannot load %s: %s\n", name, path, dlerror());
        return dl;
}

int poe__owned_open(poe_kernel *k, const char *name)
{
        struct poe__owned_loop *o;
        const poe__owned_ops *(*get_ops)(void);
        const poe__owned_ops *ops;
        char sym[64];
        int fd = k->loop->fd(k);

        o = poe__calloc(k, 1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->dl = open_adapter(k, name);
        if (!o->dl) {
                poe__free(k, o);
                return -ENOENT;
        }
        snprintf(sym, sizeof(sym), "poe_%s_owned_v1", name);
        /* The function that returns the table (POSIX's way from the
         * object pointer dlsym gives to a function pointer). */
        *(void **)&get_ops = dlsym(o->dl, sym);
        ops = get_ops ? get_ops() : NULL;
        if (!ops || ops->version != POE__OWNED_VERSION) {
                poe__warn(k, "POE_EVENT_LOOP=%s: the adapter has no %s (version %u)\n", name,
                          sym, POE__OWNED_VERSION);
                dlclose(o->dl);
                poe__free(k, o);
                return -ENOENT;
        }
        o->ops = ops;
        o->loop = ops->open(fd);
        if (!o->loop) {
                dlclose(o->dl);
                poe__free(k, o);
                return -ENOMEM;
        }
        k->owned = o;
        return 0;
}

int poe__owned_wait(poe_kernel *k, int64_t timeout_ns)
{
        return k->owned->ops->iterate(k->owned->loop, timeout_ns);
}

int poe__owned_forked(poe_kernel *k)
{
        if (!k->owned)
                return 0;
        return k->owned->ops->forked(k->owned->loop, k->loop->fd(k));
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
