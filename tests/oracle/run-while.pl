#!/usr/bin/perl
# run-while: run_while(\$flag) runs whole timeslices while the flag is
# true: a handler clearing the flag ends the loop after the timeslice it
# ran in (the rest of that slice still runs: here the other session's
# event), leaving later events queued.  With the flag already false it
# runs nothing.  run() then carries on where it left off.
use strict;
use warnings;
use POE;
$| = 1;

my $flag = 1;

sub ticker {
        my ($name) = @_;
        POE::Session->create(inline_states => {
                _start => sub { $_[KERNEL]->yield($name, 1); return; },
                $name => sub {
                        my ($k, $me, $n) = ($_[KERNEL], $_[SESSION]->ID, $_[ARG0]);
                        print "$me $name $n\n";
                        if ($name eq 'tick' and $n == 3) {
                                $flag = 0;
                                print "$me flag cleared\n";
                        }
                        $k->yield($name, $n + 1) if $n < 5;
                        return;
                },
                _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
        });
}

ticker('tick');
ticker('tock');
print "main run_while\n";
$poe_kernel->run_while(\$flag);
print "main run_while returned events=", $poe_kernel->get_event_count(), "\n";
$poe_kernel->run_while(\$flag);
print "main run_while returned events=", $poe_kernel->get_event_count(), "\n";
POE::Kernel->run();
print "run returned\n";
