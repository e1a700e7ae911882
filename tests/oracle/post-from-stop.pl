#!/usr/bin/perl
# post-from-stop: events posted from _stop are accepted (post returns
# success) but discarded when the stopping session is freed, whether they
# go to the session itself (yield) or to another live session: POE clears
# every event to or from a session it frees.  call() from _stop still
# dispatches at once.
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
sub res { my $r = shift; defined $r ? 'ok' : 'err ' . ($! + 0) }
sub show { my $v = shift; defined $v ? $v : 'undef' }
sub called { my $r = shift; 'rc=' . ($! + 0) . ' ret=' . show($r) }

POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->yield('tick', 1); return; },
        tick => sub {
                my ($k, $me, $n) = ($_[KERNEL], $_[SESSION]->ID, $_[ARG0]);
                print "$me tick $n events=", $k->get_event_count(), "\n";
                $k->yield('tick', $n + 1) if $n < 3;
                return;
        },
        from_stop => sub { print $_[SESSION]->ID, " from_stop\n"; return; },
        called => sub {
                print $_[SESSION]->ID, " called by ", id_of($_[SENDER]), "\n";
                return 'answer';
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});

POE::Session->create(inline_states => {
        _start => sub { return; },
        after => sub { print $_[SESSION]->ID, " after\n"; return; },
        _stop => sub {
                my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                print "$me _stop events=", $k->get_event_count(), "\n";
                $k->yield('after');
                print "$me post 1 from_stop -> ", res($k->post(1, 'from_stop')), "\n";
                print "$me post 99 -> ", res($k->post(99, 'from_stop')), "\n";
                print "$me call 1 called -> ", called($k->call(1, 'called')), "\n";
                print "$me _stop done events=", $k->get_event_count(), "\n";
                return;
        },
});

POE::Kernel->run();
print "run returned\n";
