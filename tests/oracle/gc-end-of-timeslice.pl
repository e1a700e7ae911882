#!/usr/bin/perl
# gc-end-of-timeslice: sessions that run out of work are stopped at the
# end of the timeslice, never in the middle of one.  A session that posted
# an event lives until that event is dispatched.  A session created inside
# a handler with nothing to do lives through the rest of that timeslice
# and the next one; when it stops, its parent, which was alive only for
# it, stops in the same sweep.  A ticker marks the timeslices.
use strict;
use warnings;
use POE;
$| = 1;

sub id_of {
        my $s = shift;
        return 'undef' unless defined $s;
        return 'K' if ref $s and $s->isa('POE::Kernel');
        return $s->ID;
}

my %common = (
        _child => sub {
                print $_[SESSION]->ID, " _child $_[ARG0] ", id_of($_[ARG1]), "\n";
                return;
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
);

POE::Session->create(inline_states => {
        %common,
        _start => sub { $_[KERNEL]->yield('tick', 1); return; },
        tick => sub {
                print $_[SESSION]->ID, " tick $_[ARG0]\n";
                $_[KERNEL]->yield('tick', $_[ARG0] + 1) if $_[ARG0] < 4;
                return;
        },
});

POE::Session->create(inline_states => {
        %common,
        _start => sub { return; },
        hello => sub {
                my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                print "$me hello from ", id_of($_[SENDER]), " events=",
                        $k->get_event_count(), "\n";
                POE::Session->create(inline_states => {
                        %common,
                        _start => sub { print $_[SESSION]->ID, " _start\n"; return; },
                });
                print "$me hello done events=", $k->get_event_count(), "\n";
                return;
        },
});

POE::Session->create(inline_states => {
        %common,
        _start => sub { $_[KERNEL]->post(2, 'hello'); return; },
});

POE::Kernel->run();
print "run returned\n";
