#!/usr/bin/perl
# postback-basics: A makes a postback, a callback and a second postback
# in _start, and has nothing else to do: they keep it alive.  So does B's
# one postback, until it is freed: then B stops at the end of the slice.  T invokes
# them: the postback posts pb_ev with ARG0 the creation arguments and
# ARG1 the invocation's (T is the sender); the callback calls cb_ev at
# once and returns its value.  With the first two freed, the second
# postback still holds A.  KILL stops A anyway; invoking the postback
# then fails with ESRCH.
use strict;
use warnings;
use POE;
$| = 1;

my ($pb, $cb, $pb2, $aid, $pbb, $bid);

POE::Session->create(inline_states => {
        _start => sub {
                my $s = $_[SESSION];
                $aid = $s->ID;
                $pb = $s->postback('pb_ev', 1, 'two');
                $cb = $s->callback('cb_ev', 'c');
                $pb2 = $s->postback('late', 'x');
                print "$aid made them\n";
                return;
        },
        pb_ev => sub {
                print $_[SESSION]->ID, " pb_ev [@{$_[ARG0]}] [@{$_[ARG1]}] sender=",
                        $_[SENDER]->ID, "\n";
                return;
        },
        cb_ev => sub {
                print $_[SESSION]->ID, " cb_ev [@{$_[ARG0]}] [@{$_[ARG1]}]\n";
                return "$_[ARG0][0]+$_[ARG1][0]";
        },
        late => sub { print "late: never\n"; return; },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});

POE::Session->create(inline_states => {
        _start => sub {
                $bid = $_[SESSION]->ID;
                $pbb = $_[SESSION]->postback('unused');
                return;
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});

my $tick = 0;

POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->yield('tick'); return; },
        tick => sub {
                my $k = $_[KERNEL];
                $tick++;
                my $alive = defined($k->ID_id_to_session($aid)) ? 'yes' : 'no';
                my $balive = defined($k->ID_id_to_session($bid)) ? 'yes' : 'no';
                print "tick $tick A alive=$alive B alive=$balive\n";
                if ($tick == 1) {
                        $pb->(3, 4);
                        $pb->();
                } elsif ($tick == 2) {
                        my $r = $cb->(5);
                        print "callback returned $r\n";
                } elsif ($tick == 3) {
                        undef $pb;
                        undef $cb;
                        undef $pbb;
                        print "freed three\n";
                } elsif ($tick == 5) {
                        $k->signal($aid, 'KILL');
                } elsif ($tick == 6) {
                        $! = 0;
                        $pb2->(9);
                        print "invoke after stop: err ", $! + 0, "\n";
                        undef $pb2;
                        return;
                }
                $k->yield('tick');
                return;
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});

POE::Kernel->run();
print "run returned\n";
