#!/usr/bin/perl
# usage-outside-session: under ASSERT_USAGE, every call that acts on
# the active session dies when made outside a running session, with
# "must call METHOD() from a running session" (POE's own test
# t/10_units/03_base/11_assert_usage.t loops over these).  Each call's
# death is printed as "died: from a running session" when the message
# says so; the C side runs each call in a forked child (an assertion
# aborts there) and reads its stderr.
use strict;
use warnings;
sub POE::Kernel::ASSERT_USAGE () { 1 }
use POE;
$| = 1;

POE::Kernel->run();

foreach my $method (qw(
        alarm alarm_add alarm_adjust alarm_remove alarm_remove_all
        alarm_set delay delay_add delay_adjust delay_set detach_child
        detach_myself select select_expedite select_pause_read
        select_pause_write select_read select_resume_read
        select_resume_write select_write sig state yield
)) {
        eval { $poe_kernel->$method() };
        my $said = $@ =~ /must call \Q$method\E\(\) from a running session/;
        print "$method: ", ($@ eq '' ? "lived" : $said ? "died: from a running session"
                                                         : "died: other"), "\n";
}
