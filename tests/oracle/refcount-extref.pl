#!/usr/bin/perl
# refcount-extref: refcount_increment/decrement return the tag's new
# count (ESRCH (3) for a session that does not exist).  Extra references
# keep a session with nothing else alive, from inside or outside any
# handler; it stops at the end of the timeslice in which the last count
# of the last tag goes to zero, and its id is stale from then on.
use strict;
use warnings;
use POE;
$| = 1;

sub cnt { my $r = shift; defined $r ? $r : 'err ' . ($! + 0) }
sub res { my $r = shift; defined $r ? 'ok' : 'err ' . ($! + 0) }

POE::Session->create(inline_states => {
        _start => sub {
                my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                print "$me inc t -> ", cnt($k->refcount_increment($me, 't')), "\n";
                print "$me inc t -> ", cnt($k->refcount_increment($me, 't')), "\n";
                print "$me inc u -> ", cnt($k->refcount_increment($me, 'u')), "\n";
                return;
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});

my @plan = (undef, [ 1, 't' ], [ 1, 't' ], [ 1, 'u' ], [ 1, 'ext' ], [ 1, 't' ]);

POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->yield('step', 1); return; },
        step => sub {
                my ($k, $me, $n) = ($_[KERNEL], $_[SESSION]->ID, $_[ARG0]);
                my ($sid, $tag) = @{$plan[$n]};
                print "$me step $n: session $sid ", res($k->ID_id_to_session($sid)), "\n";
                print "$me dec $sid $tag -> ", cnt($k->refcount_decrement($sid, $tag)), "\n";
                if ($n < $#plan) {
                        $k->yield('step', $n + 1);
                }
                else {
                        print "$me inc $sid $tag -> ",
                                cnt($k->refcount_increment($sid, $tag)), "\n";
                }
                return;
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});

print "main inc 1 ext -> ", cnt($poe_kernel->refcount_increment(1, 'ext')), "\n";
print "main inc 99 ext -> ", cnt($poe_kernel->refcount_increment(99, 'ext')), "\n";
print "main dec 99 ext -> ", cnt($poe_kernel->refcount_decrement(99, 'ext')), "\n";
POE::Kernel->run();
print "run returned\n";
