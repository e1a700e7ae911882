#!/usr/bin/perl
# timer-session-stop: a pending timer keeps its session alive, and a
# session that stops loses its timers, which never fire.  A is killed by
# an unhandled TERM with timers 5 and 6 seconds away, and the kernel
# finishes at once; C lives only by its one short delay; D has nothing
# and stops at the end of the first timeslice; E clears its only timer
# by name and stops too.
use strict;
use warnings;
use POE;
use Time::HiRes qw(time);
$| = 1;

my $t0 = time();

sub mk {
        my ($name, %states) = @_;
        POE::Session->create(inline_states => {
                _stop => sub { print "$name _stop\n"; return; },
                _default => sub {
                        print "$name $_[ARG0]\n" unless $_[ARG0] =~ /^_/;
                        return;
                },
                %states,
        });
}

my $a = mk('A', _start => sub {
        $_[KERNEL]->delay(late => 5);
        $_[KERNEL]->alarm_add(later => $t0 + 6);
        return;
})->ID;
mk('B', _start => sub { $_[KERNEL]->delay(kill => 0.05); return; },
        kill => sub {
                print "B kills A\n";
                $_[KERNEL]->signal($a, 'TERM');
                return;
        });
mk('C', _start => sub { $_[KERNEL]->delay(tick => 0.3); return; });
mk('D', _start => sub { return; });
mk('E', _start => sub {
        $_[KERNEL]->delay(never => 0.01);
        $_[KERNEL]->alarm('never');
        return;
});

POE::Kernel->run();
print "run returned ", (time() - $t0 < 2 ? 'at once' : 'late'), "\n";
