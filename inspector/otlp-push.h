/*
 * The live OTLP push (otlp-push.c): with OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT in the environment, the inspector
 * sends the trace log's spans to an OpenTelemetry collector (OTLP/HTTP,
 * JSON) while the program runs, from a thread of its own.
 */
#ifndef POE_OTLP_PUSH_H
#define POE_OTLP_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "poe/tracelog.h"

typedef struct poe__otlp_push poe__otlp_push;

/* What the push did so far; any thread. */
typedef struct poe__otlp_push_counts {
        uint64_t queued_spans; /* waiting in the queue now */
        uint64_t queue_max;    /* the queue's bound, in spans */
        uint64_t sent;         /* spans the collector took (2xx) */
        uint64_t dropped_full; /* spans dropped: the queue was full */
        uint64_t dropped_stop; /* spans still queued when the push stopped */
        uint64_t rejected;     /* spans in requests answered 4xx (not 429): not retried */
        uint64_t retries_out;  /* spans given up on after the last retry */
        uint64_t requests;     /* requests made, answered or not */
        uint64_t retries;      /* requests that were retries */
        uint64_t feed_errors;  /* reads of the trace log that failed */
} poe__otlp_push_counts;

/*
 * Reads the OpenTelemetry environment and, when it asks for a push
 * (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, or OTEL_EXPORTER_OTLP_ENDPOINT
 * plus "/v1/traces"; not when OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none), starts its thread on trace log t.  0 with
 * *ret NULL when none is asked for; -EINVAL with err when the
 * environment is wrong (an endpoint that is not http://HOST[:PORT][/PATH]),
 * -ENOMEM, or the error of pthread_create.  On the kernel's thread.
 */
int poe__otlp_push_start(poe__tracelog *t, poe__otlp_push **ret, char *err, size_t errlen);

/*
 * Stops the push: its last poll reads what the trace log holds (the
 * caller stops the log's writer first, so that is everything), spans
 * still open end there, and what is queued is sent for at most a few
 * seconds; what is left is counted as dropped.  Then frees it.  Takes
 * NULL.
 */
void poe__otlp_push_stop(poe__otlp_push *p);

void poe__otlp_push_counts_get(poe__otlp_push *p, poe__otlp_push_counts *ret);

/* The status for the kernel summary: {"endpoint", "queued_spans",
 * "queue_max", "sent_spans", "dropped_spans", "failed_spans", "requests",
 * "retries", "last_status", "last_error", "state"}; a new reference,
 * NULL when out of memory. */
json_t *poe__otlp_push_status(poe__otlp_push *p);

#endif
