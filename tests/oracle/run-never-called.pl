#!/usr/bin/perl
# run-never-called: a program that made sessions and drove the kernel
# with run_while() (or run_one_timeslice()) but never called run() is
# warned, when the kernel is destroyed at exit, that run() was never
# called (POE::Kernel's DESTROY, KR_RUN_CALLED / KR_RUN_SESSION).  The
# C side frees its kernel where Perl exits.
use strict;
use warnings;
BEGIN {
        $SIG{__WARN__} = sub {
                my $m = shift;
                $m =~ s/^=== \d+ === //mg;
                print "warn: $m";
        };
}
use POE;
$| = 1;

POE::Session->create(inline_states => {
        _start => sub { print "_start\n"; $_[KERNEL]->yield('tick'); return; },
        tick => sub { print "tick\n"; return; },
        _stop => sub { print "_stop\n"; return; },
});

my $go = 1;
POE::Kernel->run_while(\$go);
print "run_while returned\n";
