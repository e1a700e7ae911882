#!/usr/bin/perl
# timer-order-vs-posts: timers and posted events share one queue ordered
# by due time, then by id.  "A timer due before time() will be delivered
# ahead of other events but not before timers with even earlier due
# times" (POE::Kernel, alarm): timers set in the past and a negative
# delay jump ahead of posts queued before them; a timer set in the past
# by a handler goes ahead of posts already queued for the same timeslice;
# a post made during a timeslice waits for the next one; timers due at
# the same time fire in the order they were set.
use strict;
use warnings;
use POE;
use Time::HiRes qw(time);
$| = 1;

POE::Session->create(inline_states => {
        _start => sub {
                my $k = $_[KERNEL];
                $k->yield('p1');
                $k->alarm_add(past => time() - 1);
                $k->yield('p2');
                $k->alarm_add(older => time() - 2);
                # soon comes after the posts and before the same*
                # timers whatever the scheduling: the posts need far less
                # than its 0.5 s, and the same* time is read after soon
                # was set, so it is at least 0.1 s later.
                $k->delay_add(soon => 0.5);
                my $t1 = time();
                $k->alarm_add(same1 => $t1 + 0.6);
                $k->alarm_add(same2 => $t1 + 0.6);
                $k->alarm_set(same3 => $t1 + 0.6);
                $k->delay_add(neg => -0.5);
                $k->yield('p3');
                return;
        },
        p1 => sub {
                my $k = $_[KERNEL];
                print "p1\n";
                $k->yield('p4');
                $k->alarm_add(late_past => time() - 10);
                return;
        },
        _stop => sub { print "_stop\n"; return; },
        _default => sub {
                print "$_[ARG0]\n" unless $_[ARG0] =~ /^_/;
                return;
        },
});

POE::Kernel->run();
print "run returned\n";
