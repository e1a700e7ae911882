#!/usr/bin/perl
# timer-name-clearing: alarm() and delay() first clear every pending timer
# of the same name in the active session, however it was set (alarm_add,
# delay_add, alarm_set, delay_set), and nothing of other names or other
# sessions; with no time they only clear.  alarm_add and delay_add never
# clear.  Each timer prints its session's name and ARG0 when it fires;
# timers fire in due order, so the transcript shows which survived.
# delay() times count from the call, alarm() times from $t0: the last
# delay-set timer (M3, 0.09 s) fires before the tock and tick alarms
# (0.5 s and 0.52 s after $t0) unless the program stalls 0.4 s between
# $t0 and A's _start.
use strict;
use warnings;
use POE;
use Time::HiRes qw(time);
$| = 1;

my $t0 = time();

sub mk {
        my ($name, $start) = @_;
        POE::Session->create(
                inline_states => {
                        _start => $start,
                        _stop => sub { print "$name _stop\n"; return; },
                        _default => sub {
                                print "$name $_[ARG0] $_[ARG1][0]\n";
                                return;
                        },
                },
        );
}

# B's "tick" is set first; A's alarm("tick") must leave it alone.
mk('B', sub {
        my $k = $_[KERNEL];
        $k->alarm(tick => $t0 + 0.06, 'B1');
        return;
});

mk('A', sub {
        my $k = $_[KERNEL];
        $k->alarm(tick => $t0 + 0.05, 'A1');
        $k->alarm_add(tick => $t0 + 0.10, 'A2');
        $k->delay_add(tick => 0.12, 'A3');
        $k->alarm_set(tick => $t0 + 0.14, 'A4');
        $k->delay_set(tick => 0.16, 'A5');
        $k->alarm(tock => $t0 + 0.5, 'A6');
        print "A alarm -> ", $k->alarm(tick => $t0 + 0.52, 'A7'), "\n";

        $k->delay(ding => 0.04, 'D1');
        $k->delay_add(ding => 0.06, 'D2');
        $k->alarm_set(ding => $t0 + 0.01, 'D3');
        print "A delay -> ", $k->delay(ding => 0.08, 'D4'), "\n";

        $k->alarm_add(multi => $t0 + 0.02, 'M1');
        $k->alarm_add(multi => $t0 + 0.03, 'M2');
        $k->delay_add(multi => 0.09, 'M3');

        $k->alarm_add(gone => $t0 + 0.01, 'G1');
        $k->delay_add(gone => 0.01, 'G2');
        print "A alarm without time -> ", $k->alarm('gone'), "\n";
        $k->delay_set(gone2 => 0.01, 'G3');
        print "A delay without time -> ", $k->delay('gone2'), "\n";
        print "A alarm nothing to clear -> ", $k->alarm('none'), "\n";
        return;
});

POE::Kernel->run();
print "run returned\n";
