/*
 * Debug groups and their output (debug.c, trace.c, trace-format.c):
 * the switched-on groups, assertions, text lines and trace sinks.  The
 * trace records themselves are trace.h's.
 */
#include "internal.h"

#ifndef POE_DEBUG_H_PART
#define POE_DEBUG_H_PART

#define POE__MAX_SINKS 8

/* Debug and trace: the part of struct poe_kernel (internal.h says how parts work). */
#define POE__DEBUG_PART                                                                      \
        /* Debug groups (debug.c). */                                                        \
        /* groups switched on (env, debug_set): text and sinks.  Atomic:                     \
         * poe_kernel_debug_get is read from other threads (a monitor's)                     \
         * while the kernel's thread may switch groups. */                                   \
        _Atomic unsigned debug;                                                              \
        unsigned debug_on; /* debug plus the groups any sink asked for */                    \
        FILE *trace_file;                                                                    \
        int trace_fd;                                                                        \
        struct {                                                                             \
                poe_trace_sink_fn fn;                                                        \
                poe_trace_slot_fn slot; /* NULL: it lends no slots */                        \
                void *ctx;                                                                   \
                unsigned groups; /* extra groups for this sink */                            \
        } sinks[POE__MAX_SINKS];                                                             \
        /* The registered sinks packed, each with every group it is sent                     \
         * (the switched-on ones and its own), rebuilt by                                    \
         * poe__debug_recompute: what a record walks. */                                     \
        struct {                                                                             \
                poe_trace_sink_fn fn;                                                        \
                void *ctx;                                                                   \
                unsigned groups;                                                             \
        } active_sinks[POE__MAX_SINKS];                                                      \
        int n_active_sinks;                                                                  \
        int n_sinks;                                                                         \
        int in_sink;                                                                         \
        bool text_sink_off;                                                                  \
        /* The slot sink (trace.c): the first sink that lends slots, at                      \
         * trace_slot_sink in active_sinks (-1: none), takes the records                     \
         * of trace_slot_groups in place, in trace_slot (NULL: none                          \
         * lent). */                                                                         \
        poe_trace_record *trace_slot;                                                        \
        poe_trace_slot_fn trace_slot_fn;                                                     \
        void *trace_slot_ctx;                                                                \
        unsigned trace_slot_groups;                                                          \
        unsigned trace_solo; /* of those, the groups that go nowhere else */                 \
        int trace_slot_sink;                                                                 \
        /* Definitions (trace.c): the epoch records are made in, bumped                      \
         * when a sink is added or asks; per interned name, the epoch it                     \
         * was last defined in (0: never); the last loggable serial                          \
         * given; the sessions the record being sent names, for                              \
         * poe_kernel_trace_lookup. */                                                       \
        uint32_t trace_epoch;                                                                \
        uint32_t *name_epochs; /* cap_names of them */                                       \
        uint32_t log_serial_seq;                                                             \
        bool trace_redefine;                                                                 \
        const poe__session *trace_sess[2];                                                   \
        poe_trace_record trace_rec; /* the frequent kinds' record the general way */         \
        uint32_t loop_name; /* the loop's name, interned for TRACE_FILES' waits */           \
        char trace_buf[2048];     /* a text line */                                          \
        char trace_payload[2048]; /* a record's free text, for the kinds that make one */    \
        char log_names[4][160];                                                              \
        int log_turn;                                                                        \
        void (*heap_describer)(void *ctx, poe_sid sid, void *heap, char *buf, size_t size);  \
        void *heap_describer_ctx;

#endif

#if !defined(POE__PARTS_ONLY) && !defined(POE_DEBUG_H)
#define POE_DEBUG_H

#define POE_ASSERT(k, g, cond, ...)                                               \
        do {                                                                      \
                if (POE__ON(k, g) && !(cond))                                     \
                        poe__assert_fail((k), (g), __FILE__, __LINE__, __VA_ARGS__); \
        } while (0)

/* debug.c */
void poe__debug_from_env(poe_kernel *k);
void poe__debug_free(poe_kernel *k);
void poe__debug_recompute(poe_kernel *k);
void poe__pid_lines(FILE *out, const char *prefix, const char *msg);
/* file NULL: the message says where itself (or the place is unknown). */
__attribute__((noreturn, format(printf, 5, 6))) void
poe__assert_fail(poe_kernel *k, unsigned group, const char *file, int line, const char *fmt, ...);
void poe__assert_session(poe_kernel *k, const poe__session *s);
void poe__resolve_failed(poe_kernel *k, const char *name, poe_sid sid);
const char *poe__loggable(poe_kernel *k, const poe__session *s);
size_t poe__loggable_into(const poe__session *s, char *buf, size_t size);
const char *poe__reason_name(int r);
void poe__debug_text_line(poe_kernel *k, const poe_trace_record *r);

#endif
