#!/usr/bin/perl
# run-one-timeslice: each timeslice dispatches the events queued before it
# began (events queued during it wait for the next), then stops sessions
# that ran out of work.  A session with nothing to do stops at the end of
# the first timeslice after its creation.  get_event_count counts every
# queued event, the kernel's own included (one per new session, the
# delayed garbage-collection event).  Once the last session is gone, one
# more timeslice returns true (the kernel retires its own session), and
# the next returns false.
use strict;
use warnings;
use POE;
$| = 1;

sub mk {
        my ($name, %states) = @_;
        POE::Session->create(inline_states => {
                _start => sub { print "$name=", $_[SESSION]->ID, " _start\n"; return; },
                _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
                %states,
        });
}

mk('busy',
        _start => sub {
                print "busy=", $_[SESSION]->ID, " _start\n";
                $_[KERNEL]->yield('a');
                return;
        },
        a => sub {
                print $_[SESSION]->ID, " a events=", $_[KERNEL]->get_event_count(), "\n";
                mk('late');
                $_[KERNEL]->yield('b');
                print $_[SESSION]->ID, " a events=", $_[KERNEL]->get_event_count(), "\n";
                return;
        },
        b => sub { print $_[SESSION]->ID, " b\n"; return; },
);
mk('idle');

print "events=", $poe_kernel->get_event_count(), "\n";
for my $n (1 .. 6) {
        print "slice $n\n";
        my $r = $poe_kernel->run_one_timeslice();
        print "slice $n -> ", (defined $r ? $r : 0), " events=",
                $poe_kernel->get_event_count(), "\n";
}
POE::Kernel->run();
print "run returned\n";
