#!/usr/bin/perl
# timer-delay-times: the time POE reports for a timer set by delay() or
# delay_add().  Those pass no wall time to _data_ev_enqueue, which then
# records neither EV_WALLTIME nor EV_DELTA, so alarm_remove and
# alarm_remove_all report the time as 0, and alarm_adjust reports the
# sum of the adjustments alone.  delay() returns no id; ids are
# consecutive, so the id of a delay() timer is the next alarm_set id
# minus one.  alarm_set and delay_set timers are shown for contrast,
# relative to the start (taken in _start, just before the calls),
# rounded down to a half second.
use strict;
use warnings;
use POE;
use POSIX qw(floor);
use Time::HiRes qw(time);
$| = 1;

my $t0;
sub rel { sprintf('%.1f', floor(($_[0] - $t0 + 0.01) * 2) / 2) }

POE::Session->create(inline_states => {
        _start => sub {
                my $k = $_[KERNEL];
                $t0 = time();
                $k->delay(d1 => 5, 'a');
                my $probe = $k->alarm_set(probe => $t0 + 100);
                my ($name, $time) = $k->alarm_remove($probe - 1);
                print "alarm_remove delay() timer -> $name $time\n";

                $k->delay(d2 => 5, 'b');
                print "alarm_adjust delay() timer by 2 -> ", $k->alarm_adjust($probe + 1, 2), "\n";
                print "alarm_adjust it by 1 more -> ", $k->alarm_adjust($probe + 1, 1), "\n";
                $k->alarm_remove($probe);

                $k->delay_add(d3 => 6, 'c');
                $k->delay_set(d4 => 7, 'd');
                $k->alarm_set(d5 => $t0 + 9, 'e');
                foreach my $alarm ($k->alarm_remove_all()) {
                        my ($n, $t, @args) = @$alarm;
                        print "alarm_remove_all -> $n ", ($t > 1e6 ? rel($t) : $t), " [@args]\n";
                }
                return;
        },
});

POE::Kernel->run();
print "run returned\n";
