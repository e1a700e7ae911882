#!/usr/bin/perl
# delay-wall-time: the times delay_set and delay_adjust record are the
# wall clock at the call plus the delay (POE reads walltime() first
# thing), so they are never earlier than time() read just before the
# call plus the delay, nor later than time() read just after it.  Many
# rounds, since an error of microseconds shows only now and then.
use strict;
use warnings;
use POE;
use Time::HiRes ();
$| = 1;

my $rounds = 2000;

POE::Session->create(inline_states => {
        _start => sub {
                my $k = $_[KERNEL];
                my $adjust_ok = 0;
                for (1 .. $rounds) {
                        my $id = $k->delay_set(never => 100);
                        my $t0 = Time::HiRes::time();
                        my $adjusted = $k->delay_adjust($id, 10);
                        my $t1 = Time::HiRes::time();
                        $k->alarm_remove($id);
                        $adjust_ok++ if $adjusted >= $t0 + 10 and $adjusted <= $t1 + 10;
                }
                print "adjust within the call: $adjust_ok of $rounds\n";
                my ($set_before, $set_after) = (0, 0);
                for (1 .. $rounds) {
                        my $t0 = Time::HiRes::time();
                        my $id = $k->delay_set(never => 100);
                        my $t1 = Time::HiRes::time();
                        my $time = $k->alarm_remove($id)->[1];
                        $set_before++ if $time >= $t0 + 100;
                        $set_after++ if $time <= $t1 + 100;
                }
                print "delay_set not before the call: $set_before of $rounds\n";
                print "delay_set not after the call: $set_after of $rounds\n";
                return;
        },
        never => sub { print "never\n"; return; },
});

POE::Kernel->run();
