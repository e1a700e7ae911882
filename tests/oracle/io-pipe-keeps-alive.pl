#!/usr/bin/perl
# io-pipe-keeps-alive: a watched file handle keeps its session alive.
# R watches a pipe and has nothing else; W writes into the pipe 0.1 s
# later.  R is still there to read it; once R unwatches, it stops.
use strict;
use warnings;
use POE;
$| = 1;

pipe(my $r, my $w) or die "pipe: $!";

POE::Session->create(inline_states => {
        _start => sub {
                $_[KERNEL]->select_read($r, 'got');
                print "R watching\n";
                return;
        },
        got => sub {
                my $n = sysread($r, my $buf, 100);
                chomp $buf;
                print "R got $buf (mode $_[ARG1], handle ",
                        (fileno($_[ARG0]) == fileno($r) ? 'ok' : 'wrong'), ")\n";
                $_[KERNEL]->select_read($r);
                return;
        },
        _stop => sub { print "R _stop\n"; return; },
});

POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->delay(write => 0.1); return; },
        write => sub {
                syswrite($w, "hello\n");
                print "W wrote\n";
                return;
        },
        _stop => sub { print "W _stop\n"; return; },
});

POE::Kernel->run();
print "run returned\n";
