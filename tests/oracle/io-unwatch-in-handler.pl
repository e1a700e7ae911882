#!/usr/bin/perl
# io-unwatch-in-handler: one timeslice finds a socket readable and
# writable, and its other end writable.  Ready reads are dispatched
# before ready writes.  The read handler removes both of its socket's
# watchers (select() with no events), so that socket's write event,
# ready in the same round, is never dispatched; the other end's write
# watcher still is.  ARG1 is the mode (0 read, 1 write), then the
# registration's arguments.
use strict;
use warnings;
use POE;
use Socket;
$| = 1;

socketpair(my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die "socketpair: $!";

POE::Session->create(inline_states => {
        _start => sub {
                my $k = $_[KERNEL];
                $k->select_read($x, 'rd', 'r1');
                $k->select_write($x, 'wr', 'w1');
                $k->select_write($y, 'yw', 'w2', 'w3');
                syswrite($y, "z");
                return;
        },
        rd => sub {
                print "rd mode $_[ARG1] args [@_[ARG2 .. $#_]]\n";
                sysread($x, my $buf, 10);
                $_[KERNEL]->select($x);
                return;
        },
        wr => sub { print "wr mode $_[ARG1] args [@_[ARG2 .. $#_]]\n"; return; },
        yw => sub {
                print "yw mode $_[ARG1] args [@_[ARG2 .. $#_]]\n";
                $_[KERNEL]->select_write($y);
                return;
        },
        _stop => sub { print "_stop\n"; return; },
});

POE::Kernel->run();
print "run returned\n";
