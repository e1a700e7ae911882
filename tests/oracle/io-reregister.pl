#!/usr/bin/perl
# io-reregister: registering the same handle in the same mode again keeps
# the first registration's event name and arguments (POE treats it as a
# resume): 'second' never fires.  After a pause, registering again under
# yet another name resumes the first registration.  ARG0 is the handle,
# ARG1 the mode, then the arguments given at registration.
use strict;
use warnings;
use POE;
$| = 1;

pipe(my $r, my $w) or die "pipe: $!";
my $calls = 0;


POE::Session->create(inline_states => {
        _start => sub {
                my $k = $_[KERNEL];
                print "select_read first -> ", $k->select_read($r, 'first', 'a', 1), "\n";
                print "select_read second -> ", $k->select_read($r, 'second', 'b', 2), "\n";
                syswrite($w, "x");
                return;
        },
        first => sub {
                my $k = $_[KERNEL];
                print "first mode $_[ARG1] args [@_[ARG2 .. $#_]] handle ",
                        (fileno($_[ARG0]) == fileno($r) ? 'ok' : 'wrong'), "\n";
                if (++$calls == 1) {
                        $k->select_pause_read($r);
                        print "select_read third -> ", $k->select_read($r, 'third', 'c'), "\n";
                        return;
                }
                sysread($r, my $buf, 10);
                $k->select_read($r);
                return;
        },
        second => sub { print "second\n"; return; },
        third => sub { print "third\n"; return; },
        _stop => sub { print "_stop\n"; return; },
});

POE::Kernel->run();
print "run returned\n";
