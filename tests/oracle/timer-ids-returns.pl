#!/usr/bin/perl
# timer-ids-returns: a timer's id is its queue item id, and every event
# queued takes one: posts, signals, and each new session's delayed
# garbage-collection event.  B is created first, so its GC event is item
# 1 and A's first alarm_set gets 2.  alarm_remove returns the timer's
# name, time and arguments; another session's timer is EPERM (1) and an
# id that names nothing is ESRCH (3), for alarm_remove and alarm_adjust.
# alarm_adjust returns the new time, delay_adjust too; alarm_remove_all
# returns every timer of the session in due order, equal times in id
# order.  Times print as seconds after the start, rounded down to a half
# second: every time here is a whole or half second after a timer call,
# and the start is taken in A's _start, a few calls before any of them,
# so the transcript does not depend on how fast the machine is.
use strict;
use warnings;
use POE;
use POSIX qw(floor);
use Time::HiRes qw(time);
$| = 1;

my $t0;
sub rel { sprintf('%.1f', floor(($_[0] - $t0 + 0.01) * 2) / 2) }
sub e { defined $_[0] ? $_[0] : 'undef err ' . ($! + 0) }

my %id;

my $b = POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->alias_set('B'); return; },
        _stop => sub { print "B _stop\n"; return; },
        p => sub { print "B got p\n"; return; },
        meddle => sub {
                my $k = $_[KERNEL];
                my $id = $_[ARG0];
                print "B alarm_remove A's -> ", e(scalar $k->alarm_remove($id)), "\n";
                print "B alarm_adjust A's -> ", e($k->alarm_adjust($id, 1)), "\n";
                print "B alarm_remove 99999 -> ", e(scalar $k->alarm_remove(99999)), "\n";
                print "B alarm_adjust 99999 -> ", e($k->alarm_adjust(99999, 1)), "\n";
                $k->alias_remove('B');
                $k->post($_[SENDER], 'check');
                return;
        },
        _default => sub { return; },
})->ID;

POE::Session->create(inline_states => {
        _start => sub {
                my $k = $_[KERNEL];
                $t0 = time();
                my $id1 = $k->alarm_set(t1 => $t0 + 10, 'x', 'y');
                print "A id1 = $id1\n";
                $k->yield('nothing');
                $k->post($b, 'p');
                $k->signal($b, 'USR1');
                POE::Session->create(inline_states => {
                        _start => sub { return; },
                        _stop => sub { print "child _stop\n"; return; },
                });
                $k->delay(t2 => 10);
                my $id2 = $k->delay_set(t3 => 10, 'z');
                print "A id2 - id1 = ", $id2 - $id1, "\n";
                my $id3 = $k->alarm_set(t4 => $t0 + 5, 'a');
                print "A id3 - id2 = ", $id3 - $id2, "\n";

                my ($name, $time, $args) = $k->alarm_remove($id1);
                print "A alarm_remove id1 -> $name ", rel($time), " [@$args]\n";
                print "A alarm_remove id1 again -> ", e(scalar $k->alarm_remove($id1)), "\n";
                $k->delay('t2');

                $k->alarm_set(t5 => $t0 + 5, 'b');
                $k->alarm_add(t6 => $t0 + 1, 'c');
                $k->delay_set(t7 => 2, 'd');
                $id{t3} = $id2;
                $id{t4} = $id3;
                $k->post($b, 'meddle', $id3);
                return;
        },
        check => sub {
                my $k = $_[KERNEL];
                print "A alarm_adjust t3 by 0.5 -> ", rel($k->alarm_adjust($id{t3}, 0.5)), "\n";
                print "A delay_adjust t3 to 3 -> ", rel($k->delay_adjust($id{t3}, 3)), "\n";
                print "A alarm_adjust t4 by 0 -> ", rel($k->alarm_adjust($id{t4}, 0)), "\n";
                print "A alarm_adjust t4 by -0.5 -> ", rel($k->alarm_adjust($id{t4}, -0.5)), "\n";
                foreach my $alarm ($k->alarm_remove_all()) {
                        my ($name, $time, @args) = @$alarm;
                        print "A removed $name ", rel($time), " [@args]\n";
                }
                print "A alarm_remove_all again -> ", scalar(@{ $k->alarm_remove_all() }), "\n";
                return;
        },
        _stop => sub { print "A _stop\n"; return; },
        _default => sub { return; },
});

POE::Kernel->run();
print "run returned\n";
