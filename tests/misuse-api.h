/*
 * Every public function of poe.h, with the results its header comment
 * allows (test-misuse.c checks each call against this).  R* bits name
 * the results: R0 zero, RPOS any positive value, RANYNEG any negative
 * errno ("-errno" in the comment), RVOID a function with no error
 * channel (void, a pointer, a plain value).  -EINVAL is also accepted
 * wherever the test passed a bad parameter, as the header's conventions
 * say.  tests/build/check-api-coverage.py fails the build tests if a
 * function of the header is missing here.
 */
#ifndef POE_TEST_MISUSE_API_H
#define POE_TEST_MISUSE_API_H

enum {
        R0 = 1u << 0,
        RPOS = 1u << 1,
        RINVAL = 1u << 2,
        RSRCH = 1u << 3,
        RPERM = 1u << 4,
        RNOMEM = 1u << 5,
        REXIST = 1u << 6,
        RNOENT = 1u << 7,
        RBADF = 1u << 8,
        RBUSY = 1u << 9,
        RCANCELED = 1u << 10,
        RNOSPC = 1u << 11,
        RNOTSUP = 1u << 12,
        RANYNEG = 1u << 13,
        RVOID = 1u << 14,
};

/* X(function, allowed results), in the header's order. */
#define MU_API(X) \
        X(poe_version, RVOID) \
        X(poe_version_string, RVOID) \
        X(poe_nil, RVOID) \
        X(poe_int, RVOID) \
        X(poe_double, RVOID) \
        X(poe_str, RVOID) \
        X(poe_strn, RVOID) \
        X(poe_ptr, RVOID) \
        X(poe_session, RVOID) \
        X(poe_list, RVOID) \
        X(poe_value_release, RVOID) \
        X(poe_value_true, RVOID) \
        X(poe_value_int, RVOID) \
        X(poe_value_str, RVOID) \
        X(poe_value_format, R0|RPOS) \
        X(poe_kernel_new, R0|RNOMEM) \
        X(poe_kernel_default, RVOID) \
        X(poe_kernel_free, RVOID) \
        X(poe_kernel_hook_add, R0|RINVAL|REXIST|RNOSPC) \
        X(poe_kernel_hook_remove, R0|RINVAL|RNOENT) \
        X(poe_kernel_run, R0|RPERM|RCANCELED|RNOMEM) \
        X(poe_kernel_run_one_timeslice, R0|RPOS|RPERM|RCANCELED|RNOMEM) \
        X(poe_kernel_run_while, R0|RPOS|RPERM|RCANCELED|RNOMEM) \
        X(poe_kernel_stop, RVOID) \
        X(poe_kernel_get_active_session, RVOID) \
        X(poe_kernel_get_active_event, RVOID) \
        X(poe_kernel_get_event_count, RVOID) \
        X(poe_kernel_id, RVOID) \
        X(poe_session_create, R0|RINVAL|RNOMEM) \
        X(poe_kernel_state, R0|RSRCH|RINVAL|RNOMEM) \
        X(poe_session_option_set, R0|RSRCH|RINVAL|RNOMEM) \
        X(poe_session_option_get, R0|RSRCH) \
        X(poe_session_get_heap, RVOID) \
        X(poe_kernel_ID_id_to_session, R0|RSRCH) \
        X(poe_session_get_parent, R0|RSRCH) \
        X(poe_kernel_detach_myself, R0|RPERM) \
        X(poe_kernel_detach_child, R0|RSRCH|RPERM) \
        X(poe_kernel_post_at, R0|RSRCH|RINVAL|RNOMEM) \
        X(poe_kernel_post_alias_at, R0|RSRCH|RINVAL|RNOMEM) \
        X(poe_kernel_yield_at, R0|RPERM|RINVAL|RNOMEM) \
        X(poe_kernel_call_at, R0|RSRCH|RINVAL|RCANCELED|RNOMEM) \
        X(poe_kernel_call_alias_at, R0|RSRCH|RINVAL|RCANCELED|RNOMEM) \
        X(poe_kernel_time, RVOID) \
        X(poe_kernel_clock_fake, R0|RINVAL|RBUSY) \
        X(poe_kernel_clock_advance, R0|RINVAL|RPERM) \
        X(poe_kernel_alarm_at, R0|RPERM|RINVAL|RNOMEM) \
        X(poe_kernel_alarm_add_at, R0|RPERM|RINVAL|RNOMEM) \
        X(poe_kernel_delay_at, R0|RPERM|RINVAL|RNOMEM) \
        X(poe_kernel_delay_add_at, R0|RPERM|RINVAL|RNOMEM) \
        X(poe_kernel_alarm_set_at, R0|RPERM|RINVAL|RNOMEM) \
        X(poe_kernel_delay_set_at, R0|RPERM|RINVAL|RNOMEM) \
        X(poe_kernel_alarm_adjust, R0|RSRCH|RPERM) \
        X(poe_kernel_delay_adjust, R0|RSRCH|RPERM) \
        X(poe_kernel_alarm_remove, R0|RSRCH|RPERM) \
        X(poe_kernel_alarm_remove_all, R0|RPOS|RPERM|RNOMEM) \
        X(poe_kernel_get_next_event_time, R0|RNOENT) \
        X(poe_kernel_select_read, R0|RPERM|RBADF|REXIST|RINVAL|RNOMEM) \
        X(poe_kernel_select_write, R0|RPERM|RBADF|REXIST|RINVAL|RNOMEM) \
        X(poe_kernel_select_expedite, R0|RPERM|RBADF|REXIST|RINVAL|RNOMEM) \
        X(poe_kernel_select, R0|RPERM|RBADF|REXIST|RINVAL|RNOMEM) \
        X(poe_kernel_select_pause_read, R0|RPOS|RPERM|RANYNEG) \
        X(poe_kernel_select_resume_read, R0|RPOS|RPERM|RANYNEG) \
        X(poe_kernel_select_pause_write, R0|RPOS|RPERM|RANYNEG) \
        X(poe_kernel_select_resume_write, R0|RPOS|RPERM|RANYNEG) \
        X(poe_kernel_loop_name, RVOID) \
        X(poe_kernel_post_from_thread, R0|RINVAL|RNOMEM) \
        X(poe_kernel_run_in_loop, R0|RINVAL|RNOMEM) \
        X(poe_kernel_activity_get, RVOID) \
        X(poe_kernel_get_fd, RPOS|R0|RNOMEM|RANYNEG) \
        X(poe_kernel_prepare, R0|RPOS|RPERM) \
        X(poe_kernel_dispatch, R0|RPOS|RPERM|RCANCELED|RNOMEM) \
        X(poe_kernel_owned_loop, RVOID) \
        X(poe_kernel_alias_set, R0|REXIST|RPERM|RINVAL|RNOMEM) \
        X(poe_kernel_alias_remove, R0|RSRCH|RPERM) \
        X(poe_kernel_alias_resolve, R0|RSRCH) \
        X(poe_kernel_alias_list, R0|RPOS|RSRCH) \
        X(poe_kernel_refcount_increment, RPOS|RSRCH|RINVAL|RNOMEM) \
        X(poe_kernel_refcount_increment_at, RPOS|RSRCH|RINVAL|RNOMEM) \
        X(poe_kernel_refcount_decrement, R0|RPOS|RSRCH|RNOENT) \
        X(poe_kernel_sig, R0|RPERM|RINVAL|RNOMEM) \
        X(poe_kernel_sig_handled, R0) \
        X(poe_kernel_signal_at, R0|RSRCH|RINVAL|RNOMEM) \
        X(poe_kernel_sig_child, R0|RPERM|RINVAL|RNOMEM) \
        X(poe_kernel_has_forked, R0|RANYNEG) \
        X(poe_nfa_spawn, R0|RINVAL|RNOMEM) \
        X(poe_nfa_goto_state, R0|RSRCH|RINVAL|RNOMEM|RCANCELED) \
        X(poe_nfa_call_state, R0|RSRCH|RINVAL|RNOMEM|RCANCELED) \
        X(poe_nfa_return_state, R0|RSRCH|RINVAL|RNOMEM|RCANCELED) \
        X(poe_nfa_stop, R0|RSRCH|RINVAL|RNOMEM) \
        X(poe_nfa_get_current_state, R0|RSRCH|RINVAL) \
        X(poe_nfa_get_runstate, RVOID) \
        X(poe_nfa_ctx_state, RVOID) \
        X(poe_session_postback, R0|RSRCH|RINVAL|RNOMEM) \
        X(poe_session_callback, R0|RSRCH|RINVAL|RNOMEM) \
        X(poe_session_postback_at, R0|RSRCH|RINVAL|RNOMEM) \
        X(poe_session_callback_at, R0|RSRCH|RINVAL|RNOMEM) \
        X(poe_peek_postbacks, R0|RSRCH|RINVAL|RPOS) \
        X(poe_kernel_set_slow_dispatch, R0|RINVAL) \
        X(poe_postback_invoke, R0|RSRCH|RCANCELED|RINVAL|RNOMEM) \
        X(poe_postback_weaken, RVOID) \
        X(poe_postback_free, RVOID) \
        X(poe_postback_session, RVOID) \
        X(poe_die_at, RVOID) \
        X(poe_value_exception, R0|RINVAL) \
        X(poe_kernel_exception, RVOID) \
        X(poe_kernel_set_dispatch_timing, R0) \
        X(poe_kernel_dispatch_stats, R0|RINVAL) \
        X(poe_debug_compiled, RVOID) \
        X(poe_debug_group_name, RVOID) \
        X(poe_debug_group_parse, RVOID) \
        X(poe_kernel_debug_get, RVOID) \
        X(poe_kernel_debug_set, R0|RINVAL|RNOTSUP) \
        X(poe_kernel_trace_file, R0|RANYNEG) \
        X(poe_debug_group_prefix, RVOID) \
        X(poe_trace_format, R0|RPOS) \
        X(poe_kernel_trace_lookup, RVOID) \
        X(poe_kernel_trace_format, R0|RPOS) \
        X(poe_trace_kind_name, RVOID) \
        X(poe_trace_kind_parse, RVOID) \
        X(poe_kernel_trace_sink_add, RPOS|RNOSPC) \
        X(poe_kernel_trace_sink_add_slots, RPOS|RNOSPC) \
        X(poe_kernel_trace_sink_groups, R0|RNOENT|RINVAL|RNOTSUP) \
        X(poe_kernel_trace_sink_remove, R0|RNOENT) \
        X(poe_kernel_set_heap_describer, RVOID) \
        X(poe_reason_name, RVOID) \
        X(poe_peek_kernel, R0) \
        X(poe_peek_session, R0|RSRCH) \
        X(poe_peek_sessions, R0|RPOS) \
        X(poe_peek_handlers, R0|RSRCH|RPOS) \
        X(poe_peek_reasons, R0|RSRCH|RPOS) \
        X(poe_peek_queue, R0|RNOMEM|RPOS) \
        X(poe_peek_timers, R0|RNOMEM|RPOS) \
        X(poe_peek_watchers, R0|RPOS) \
        X(poe_peek_signals, R0|RPOS) \
        X(poe_ctx_kernel, RVOID) \
        X(poe_ctx_session, RVOID) \
        X(poe_ctx_heap, RVOID) \
        X(poe_ctx_state, RVOID) \
        X(poe_ctx_sender, RVOID) \
        X(poe_ctx_object, RVOID) \
        X(poe_ctx_caller_file, RVOID) \
        X(poe_ctx_caller_line, RVOID) \
        X(poe_ctx_caller_state, RVOID) \
        X(poe_ctx_argc, RVOID) \
        X(poe_ctx_arg, RVOID) \
        X(poe_ctx_take_arg, RVOID)

enum mu_fn {
#define MU_ENUM(fn, ok) MU_##fn,
        MU_API(MU_ENUM)
#undef MU_ENUM
        MU_N
};

#endif
