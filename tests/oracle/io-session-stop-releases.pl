#!/usr/bin/perl
# io-session-stop-releases: a session that stops releases its watchers.
# A watches a pipe and is killed by an unhandled TERM before anything is
# written; B then watches the same pipe and gets the data.  A's handler
# never runs, and once B unwatches nothing keeps the kernel running.
use strict;
use warnings;
use POE;
$| = 1;

pipe(my $r, my $w) or die "pipe: $!";

my $a = POE::Session->create(inline_states => {
        _start => sub {
                $_[KERNEL]->select_read($r, 'got');
                print "A watching\n";
                return;
        },
        got => sub { print "A got something\n"; return; },
        _stop => sub { print "A _stop\n"; return; },
})->ID;

POE::Session->create(inline_states => {
        _start => sub {
                $_[KERNEL]->delay(kill => 0.02);
                return;
        },
        kill => sub {
                print "B kills A\n";
                $_[KERNEL]->signal($a, 'TERM');
                $_[KERNEL]->delay(watch => 0.05);
                return;
        },
        watch => sub {
                $_[KERNEL]->select_read($r, 'got');
                syswrite($w, "data\n");
                print "B watching, wrote\n";
                return;
        },
        got => sub {
                sysread($r, my $buf, 100);
                chomp $buf;
                print "B got $buf\n";
                $_[KERNEL]->select_read($r);
                return;
        },
        _stop => sub { print "B _stop\n"; return; },
});

POE::Kernel->run();
print "run returned\n";
