#!/usr/bin/perl
# run-never-called-stop: stop() takes back the sessions made before it
# (POE clears KR_RUN_SESSION), so a program that made sessions, stopped
# them and never called run() is not warned at exit; sessions made after
# the stop() count again, and one run() (even with no session to run)
# silences the warning for good.  Three kernels on the C side, three
# programs on the Perl side (the first runs the other two).
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

my $part = shift // 'first';
if ($part eq 'third') {
        POE::Kernel->run();
        print "third ran with no sessions\n";
}
POE::Session->create(inline_states => {
        _start => sub { print "$part _start\n"; return; },
        _stop => sub { print "$part _stop\n"; return; },
});
if ($part eq 'first') {
        POE::Kernel->stop();
        system($^X, $0, 'second') == 0 or die "second part failed";
        system($^X, $0, 'third') == 0 or die "third part failed";
        print "first exits\n";
} elsif ($part eq 'second') {
        POE::Kernel->stop();
        POE::Session->create(inline_states => {
                _start => sub { print "$part again\n"; return; },
        });
        POE::Kernel->run_one_timeslice();
        print "second exits\n";
} else {
        POE::Kernel->run_one_timeslice();
        print "third exits\n";
}
