/*
 * The work the polling thread hands on (http.h has the pipeline), and
 * the deadlines that answer for it, on a fixed set of threads however
 * many connections there are:
 *
 *  - the kernel's thread runs live-state requests between dispatches
 *    (poe_kernel_run_in_loop); a job carries a copy of the request, so a
 *    request that gave up (its deadline passed, the inspector stopped)
 *    leaves the job to run and find no one waiting;
 *  - a pool of POE__POOL_THREADS workers runs trace-log reads, FIFO, at
 *    most POE__POOL_QUEUE_MAX queued;
 *  - one clock thread keeps every deadline: the kernel's answer timeout
 *    (a 503 saying what the kernel is busy with), the long polls' next
 *    look and end, and each connection's request deadline (closing the
 *    connection) and the connection limit (closing the connections that
 *    have waited longest for their request).
 *
 * in->lock guards the queues and each waiting request's state; a
 * request is answered exactly once, by poe__request_finish, which
 * resumes its connection.  Lock order: in->lock, then libmicrohttpd's
 * own (MHD_suspend_connection and MHD_resume_connection take it; it
 * calls none of our functions while it holds it).
 *
 * Costs: the kernel queue and the connections' queue are in deadline
 * order because each has one timeout, so a deadline is found in O(1)
 * and each expiry costs O(1); parked long polls (at most 8) are
 * scanned.
 */
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http.h"

/* How often parked long polls see whether records were written. */
#define TAIL_LOOK 0.1
/* The clock's longest sleep, when nothing is due. */
#define CLOCK_IDLE 1.0

double poe__now_mono(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct timespec to_timespec(double t)
{
        struct timespec ts;

        ts.tv_sec = (time_t)t;
        ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        return ts;
}

/* ---- connections and their request deadline ---- */

struct poe__conn {
        struct poe__conn *prev, *next; /* in->conn_head..tail while queued */
        int fd;
        double deadline;
        bool queued;  /* waiting for its request */
        bool closing; /* shut down by the clock: only its close is left */
};

static void conn_unlink(poe_inspector *in, struct poe__conn *cn)
{
        if (!cn->queued)
                return;
        if (cn->prev)
                cn->prev->next = cn->next;
        else
                in->conn_head = cn->next;
        if (cn->next)
                cn->next->prev = cn->prev;
        else
                in->conn_tail = cn->prev;
        cn->prev = cn->next = NULL;
        cn->queued = false;
}

/* Appends: deadlines are now + one constant, so the queue stays in
 * deadline order.  Wakes the clock when it may have to act sooner than
 * it planned: a first deadline, or too many connections. */
static void conn_enqueue(poe_inspector *in, struct poe__conn *cn)
{
        cn->deadline = poe__now_mono() + POE__REQUEST_DEADLINE;
        cn->prev = in->conn_tail;
        cn->next = NULL;
        if (in->conn_tail)
                in->conn_tail->next = cn;
        else
                in->conn_head = cn;
        in->conn_tail = cn;
        cn->queued = true;
        if (in->conn_head == cn || in->conns > in->evict_at)
                pthread_cond_signal(&in->clock_cv);
}

static struct poe__conn *conn_of(struct MHD_Connection *mc)
{
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

        return ci ? ci->socket_context : NULL;
}

void poe__conn_started(poe_inspector *in, struct MHD_Connection *mc, void **socket_context)
{
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct poe__conn *cn = calloc(1, sizeof(*cn));

        *socket_context = cn;
        if (!cn) {
                /* Untracked, it would have no deadline: it goes now. */
                if (ci)
                        shutdown(ci->connect_fd, SHUT_RDWR);
                return;
        }
        cn->fd = ci ? ci->connect_fd : -1;
        pthread_mutex_lock(&in->lock);
        in->conns++;
        conn_enqueue(in, cn);
        pthread_mutex_unlock(&in->lock);
}

void poe__conn_closed(poe_inspector *in, void **socket_context)
{
        struct poe__conn *cn = *socket_context;

        if (!cn)
                return;
        /* libmicrohttpd notifies before it closes the descriptor, so the
         * clock, under the same lock, never shuts down a reused one. */
        pthread_mutex_lock(&in->lock);
        conn_unlink(in, cn);
        if (!cn->closing)
                in->conns--;
        pthread_mutex_unlock(&in->lock);
        free(cn);
        *socket_context = NULL;
}

void poe__conn_arrived(poe_inspector *in, struct MHD_Connection *mc)
{
        struct poe__conn *cn = conn_of(mc);

        if (!cn)
                return;
        pthread_mutex_lock(&in->lock);
        conn_unlink(in, cn);
        pthread_mutex_unlock(&in->lock);
}

void poe__conn_idle(poe_inspector *in, struct MHD_Connection *mc)
{
        struct poe__conn *cn = conn_of(mc);

        if (!cn)
                return;
        pthread_mutex_lock(&in->lock);
        if (!cn->queued && !cn->closing)
                conn_enqueue(in, cn);
        pthread_mutex_unlock(&in->lock);
}

/* Closes the connections past their request deadline, and while there
 * are more than evict_at, those that have waited longest: shutdown()
 * makes the socket read its end, and libmicrohttpd closes it at once.
 * Returns the next deadline (0: none).  Under in->lock. */
static double conns_sweep(poe_inspector *in, double now)
{
        struct poe__conn *cn;

        while ((cn = in->conn_head) && (cn->deadline <= now || in->conns > in->evict_at)) {
                atomic_fetch_add(cn->deadline <= now ? &in->conns_expired : &in->conns_evicted,
                                 1);
                conn_unlink(in, cn);
                cn->closing = true;
                in->conns--;
                if (cn->fd >= 0)
                        shutdown(cn->fd, SHUT_RDWR);
        }
        return in->conn_head ? in->conn_head->deadline : 0;
}

/* ---- waiting requests ---- */

static void rq_unlink(poe_inspector *in, struct request *rq)
{
        struct request **head = rq->queue == RQ_POOL     ? &in->pool_head
                                : rq->queue == RQ_KERNEL ? &in->kwait_head
                                : rq->queue == RQ_PARKED ? &in->parked
                                                         : NULL;

        if (!head)
                return;
        if (rq->prev)
                rq->prev->next = rq->next;
        else
                *head = rq->next;
        if (rq->next)
                rq->next->prev = rq->prev;
        else if (rq->queue == RQ_POOL)
                in->pool_tail = rq->prev;
        else if (rq->queue == RQ_KERNEL)
                in->kwait_tail = rq->prev;
        if (rq->queue == RQ_POOL)
                in->pool_queued--;
        if (rq->queue == RQ_KERNEL)
                atomic_fetch_sub(&in->waiting_kernel, 1);
        rq->prev = rq->next = NULL;
        rq->queue = RQ_NO_QUEUE;
}

/* Appends to a queue with a tail (the pool's, the kernel's), or pushes
 * on the parked list. */
static void rq_link(poe_inspector *in, struct request *rq, rq_queue q)
{
        struct request **head = q == RQ_POOL ? &in->pool_head : q == RQ_KERNEL ? &in->kwait_head
                                                                             : &in->parked;
        struct request **tail = q == RQ_POOL ? &in->pool_tail : q == RQ_KERNEL ? &in->kwait_tail
                                                                             : NULL;

        rq->queue = q;
        rq->next = NULL;
        if (tail) {
                rq->prev = *tail;
                if (*tail)
                        (*tail)->next = rq;
                else
                        *head = rq;
                *tail = rq;
        } else {
                rq->prev = NULL;
                rq->next = *head;
                if (*head)
                        (*head)->prev = rq;
                *head = rq;
        }
        if (q == RQ_POOL)
                in->pool_queued++;
        if (q == RQ_KERNEL)
                atomic_fetch_add(&in->waiting_kernel, 1);
}

void poe__request_finish(poe_inspector *in, struct request *rq)
{
        rq_unlink(in, rq);
        if (rq->call.polling) {
                rq->call.polling = false;
                atomic_fetch_sub(&in->tails, 1);
        }
        rq->state = RQ_ANSWERED;
        MHD_resume_connection(rq->mc);
}

/* Answers a waiting request 503 (the inspector stops).  Under in->lock. */
static void finish_stopping(poe_inspector *in, struct request *rq)
{
        poe__reply_error(&rq->call, 503, "the inspector is stopping");
        poe__answer_seal(in, &rq->call.ans);
        poe__request_finish(in, rq);
}

/* ---- the kernel's thread ---- */

/* A request waiting for the kernel's thread.  Two references: the
 * waiting request's (let go by whoever detaches it: the kernel's answer,
 * the deadline, the stop, the request's end) and the kernel callback's;
 * the last frees it. */
struct poe__job {
        _Atomic int refs;
        poe_inspector *in;
        struct request *rq; /* NULL once detached (in->lock) */
        struct poe__job *next; /* on the stop's list of jobs to let go */
        poe__call call;     /* a copy the job owns */
        poe__params params;
        char param_buf[2048];
};

static void job_unref(struct poe__job *job)
{
        if (!job || atomic_fetch_sub(&job->refs, 1) != 1)
                return;
        poe__answer_clear(&job->call.ans);
        json_decref(job->call.body);
        free(job);
}

/* The request stops waiting for its job; returns the job for the caller
 * to unref once it has let go of the lock.  Under in->lock. */
static struct poe__job *job_detach(struct request *rq)
{
        struct poe__job *job = rq->job;

        if (job)
                job->rq = NULL;
        rq->job = NULL;
        return job;
}

/* Copies the parameters into the job, which may outlive the request. */
static int copy_params(const poe__params *from, struct poe__job *job)
{
        size_t used = 0;
        int i;

        job->params.n = 0;
        for (i = 0; i < from->n; i++) {
                const char *k = from->kv[i].key, *v = from->kv[i].value ? from->kv[i].value : "";
                size_t kl = strlen(k) + 1, vl = strlen(v) + 1;

                if (used + kl + vl > sizeof(job->param_buf))
                        return -E2BIG;
                memcpy(job->param_buf + used, k, kl);
                memcpy(job->param_buf + used + kl, v, vl);
                job->params.kv[i].key = job->param_buf + used;
                job->params.kv[i].value = job->param_buf + used + kl;
                used += kl + vl;
                job->params.n++;
        }
        return 0;
}

static void run_job(poe_kernel *k, void *ctx)
{
        struct poe__job *job = ctx, *detached = NULL;
        poe_inspector *in = job->in;
        struct request *rq;

        /* A job can outlive the inspector's server (stopped while the job
         * waited in the kernel's queue) and even the kernel (then k is
         * NULL); the inspector object stays allocated until its last job
         * has run, but nothing of its state is touched once it stops. */
        if (!k || in->stopping) {
                poe__reply_error(&job->call, 503, "the inspector is stopping");
        } else {
                job->call.k = k;
                job->call.route->fn(&job->call);
        }
        pthread_mutex_lock(&in->lock);
        rq = job->rq;
        if (rq) {
                detached = job_detach(rq);
                rq->call.ans = job->call.ans;
                memset(&job->call.ans, 0, sizeof(job->call.ans));
                poe__request_finish(in, rq);
        }
        pthread_mutex_unlock(&in->lock);
        job_unref(detached);
        job_unref(job);
        poe__inspector_unref(in);
}

int poe__work_to_kernel(poe_inspector *in, struct request *rq)
{
        poe__call *c = &rq->call;
        struct poe__job *job = calloc(1, sizeof(*job)), *failed;

        if (!job)
                return poe__reply_error(c, 500, "out of memory");
        job->in = in;
        job->call = *c;
        job->call.params = &job->params;
        job->call.name = NULL;
        job->call.name_len = 0;
        job->call.rq = NULL;
        c->body = NULL; /* the job's now */
        atomic_init(&job->refs, 2);
        if (copy_params(c->params, job) < 0) {
                json_decref(job->call.body);
                free(job);
                return poe__reply_error(c, 414, "the query string is too long");
        }
        pthread_mutex_lock(&in->lock);
        if (in->stopping) {
                pthread_mutex_unlock(&in->lock);
                json_decref(job->call.body);
                free(job);
                return poe__reply_error(c, 503, "the inspector is stopping");
        }
        job->rq = rq;
        rq->job = job;
        rq->state = RQ_WAITING;
        rq->deadline = poe__now_mono() + in->opts.answer_timeout_ms / 1000.0;
        rq_link(in, rq, RQ_KERNEL);
        MHD_suspend_connection(rq->mc);
        if (in->kwait_head == rq)
                pthread_cond_signal(&in->clock_cv);
        pthread_mutex_unlock(&in->lock);

        atomic_fetch_add(&in->refs, 1); /* the job's, released by run_job */
        if (poe_kernel_run_in_loop(in->k, run_job, job) == 0)
                return 0;
        /* The kernel will never run it: answer now, unless the clock or
         * the stop already did. */
        pthread_mutex_lock(&in->lock);
        failed = job->rq ? job_detach(rq) : NULL;
        if (failed) {
                poe__reply_error(c, 500, "cannot reach the kernel's thread: out of memory");
                poe__request_finish(in, rq);
        }
        pthread_mutex_unlock(&in->lock);
        job_unref(failed);
        job_unref(job);
        poe__inspector_unref(in);
        return 0;
}

/* ---- the pool ---- */

int poe__work_to_pool(poe_inspector *in, struct request *rq)
{
        pthread_mutex_lock(&in->lock);
        if (in->stopping) {
                pthread_mutex_unlock(&in->lock);
                return poe__reply_error(&rq->call, 503, "the inspector is stopping");
        }
        if (in->pool_queued >= POE__POOL_QUEUE_MAX) {
                pthread_mutex_unlock(&in->lock);
                return poe__reply_too_many(&rq->call, "trace log reads waiting",
                                           POE__POOL_QUEUE_MAX);
        }
        rq->state = RQ_WAITING;
        rq_link(in, rq, RQ_POOL);
        MHD_suspend_connection(rq->mc);
        pthread_cond_signal(&in->pool_cv);
        pthread_mutex_unlock(&in->lock);
        return 0;
}

/* A worker: takes requests in order and runs their handlers.  A long
 * poll that parks waits on the clock's list, not here. */
static void *worker_main(void *arg)
{
        poe_inspector *in = arg;
        struct request *rq;
        int st;

        pthread_mutex_lock(&in->lock);
        for (;;) {
                while (!in->quit && !in->pool_head)
                        pthread_cond_wait(&in->pool_cv, &in->lock);
                if (in->quit)
                        break;
                rq = in->pool_head;
                rq_unlink(in, rq);
                atomic_fetch_add(&in->pool_busy, 1);
                pthread_mutex_unlock(&in->lock);

                st = rq->call.route->fn(&rq->call);
                if (st != POE__PARKED)
                        poe__answer_seal(in, &rq->call.ans);

                pthread_mutex_lock(&in->lock);
                atomic_fetch_sub(&in->pool_busy, 1);
                if (st != POE__PARKED) {
                        poe__request_finish(in, rq);
                } else if (in->stopping) {
                        finish_stopping(in, rq);
                } else {
                        rq_link(in, rq, RQ_PARKED);
                        pthread_cond_signal(&in->clock_cv);
                }
        }
        pthread_mutex_unlock(&in->lock);
        return NULL;
}

/* ---- the clock ---- */

/* Requests the kernel has not answered by their deadline: off the
 * queue, their jobs let go, marked late (so nobody else answers them),
 * on a list of their own for the caller to answer.  Returns the next
 * deadline (0: none).  Under in->lock. */
static double kernel_late(poe_inspector *in, double now, struct request **late)
{
        struct request *rq;

        while ((rq = in->kwait_head) && rq->deadline <= now) {
                rq_unlink(in, rq);
                job_unref(job_detach(rq)); /* never the last: the kernel holds one */
                rq->state = RQ_LATE;
                rq->next = *late;
                *late = rq;
        }
        return in->kwait_head ? in->kwait_head->deadline : 0;
}

/* Parked long polls go back to the pool when records were written since
 * they looked (written), or when their wait is over.  Under in->lock. */
static void tails_look(poe_inspector *in, double now, int64_t written)
{
        struct request *rq, *next;

        for (rq = in->parked; rq; rq = next) {
                next = rq->next;
                if (written == rq->call.seen && now < rq->call.until)
                        continue;
                rq_unlink(in, rq);
                rq_link(in, rq, RQ_POOL);
                pthread_cond_signal(&in->pool_cv);
        }
}

static double earliest(double a, double b)
{
        return a > 0 && a < b ? a : b;
}

static void *clock_main(void *arg)
{
        poe_inspector *in = arg;
        struct request *late, *rq;
        double now, next, tail_look = 0;
        struct timespec ts;
        int64_t written;

        pthread_mutex_lock(&in->lock);
        while (!in->quit) {
                now = poe__now_mono();
                next = now + CLOCK_IDLE;
                next = earliest(conns_sweep(in, now), next);
                late = NULL;
                next = earliest(kernel_late(in, now, &late), next);
                if (late) {
                        /* Their answers read the kernel's activity and the
                         * log's status, which take locks of their own. */
                        pthread_mutex_unlock(&in->lock);
                        for (rq = late; rq; rq = rq->next) {
                                if (rq->call.route->stuck)
                                        rq->call.route->stuck(&rq->call);
                                else
                                        poe__http_busy(&rq->call);
                                poe__answer_seal(in, &rq->call.ans);
                        }
                        pthread_mutex_lock(&in->lock);
                        while ((rq = late)) {
                                late = rq->next;
                                rq->next = NULL;
                                poe__request_finish(in, rq);
                        }
                        continue;
                }
                if (in->parked && now >= tail_look) {
                        pthread_mutex_unlock(&in->lock);
                        written = poe__http_log_written(in);
                        pthread_mutex_lock(&in->lock);
                        tails_look(in, poe__now_mono(), written);
                        tail_look = now + TAIL_LOOK;
                }
                if (in->parked)
                        next = earliest(tail_look, next);
                ts = to_timespec(next);
                pthread_cond_timedwait(&in->clock_cv, &in->lock, &ts);
        }
        pthread_mutex_unlock(&in->lock);
        return NULL;
}

/* ---- start and stop ---- */

static int cond_init_mono(pthread_cond_t *cv)
{
        pthread_condattr_t ca;
        int r;

        if (pthread_condattr_init(&ca) != 0)
                return -ENOMEM;
        r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        if (r == 0)
                r = pthread_cond_init(cv, &ca);
        pthread_condattr_destroy(&ca);
        return r == 0 ? 0 : -ENOMEM;
}

int poe__work_start(poe_inspector *in)
{
        int i;

        if (cond_init_mono(&in->pool_cv) < 0)
                return -ENOMEM;
        in->pool_cv_ready = true;
        if (cond_init_mono(&in->clock_cv) < 0)
                return -ENOMEM;
        in->clock_cv_ready = true;
        /* Named, for whoever looks at the program's threads. */
        for (i = 0; i < POE__POOL_THREADS; i++) {
                if (pthread_create(&in->workers[i], NULL, worker_main, in) != 0)
                        return -ENOMEM;
                in->n_workers++;
                pthread_setname_np(in->workers[i], "poe-insp-pool");
        }
        if (pthread_create(&in->clock, NULL, clock_main, in) != 0)
                return -ENOMEM;
        in->clock_running = true;
        pthread_setname_np(in->clock, "poe-insp-clock");
        return 0;
}

void poe__work_forget(poe_inspector *in, struct request *rq)
{
        struct poe__job *job;

        /* Only at the server's stop can a request end while it waits;
         * poe__http_stop answered every waiting one before. */
        pthread_mutex_lock(&in->lock);
        rq_unlink(in, rq);
        job = job_detach(rq);
        pthread_mutex_unlock(&in->lock);
        job_unref(job);
}

void poe__work_answer_all(poe_inspector *in)
{
        struct poe__job *jobs = NULL;
        struct request *rq;

        pthread_mutex_lock(&in->lock);
        in->stopping = true;
        in->quit = true;
        while ((rq = in->pool_head))
                finish_stopping(in, rq);
        while ((rq = in->parked))
                finish_stopping(in, rq);
        while ((rq = in->kwait_head)) {
                struct poe__job *job = job_detach(rq);

                /* Let go after the lock. */
                job->next = jobs;
                jobs = job;
                finish_stopping(in, rq);
        }
        if (in->pool_cv_ready)
                pthread_cond_broadcast(&in->pool_cv);
        if (in->clock_cv_ready)
                pthread_cond_signal(&in->clock_cv);
        pthread_mutex_unlock(&in->lock);
        while (jobs) {
                struct poe__job *next = jobs->next;

                job_unref(jobs);
                jobs = next;
        }
}

void poe__work_join(poe_inspector *in)
{
        int i;

        for (i = 0; i < in->n_workers; i++)
                pthread_join(in->workers[i], NULL);
        in->n_workers = 0;
        if (in->clock_running)
                pthread_join(in->clock, NULL);
        in->clock_running = false;
}
