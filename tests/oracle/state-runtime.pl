#!/usr/bin/perl
# state-runtime: state() adds, replaces and removes handlers while the
# session runs.  A handler is looked up at dispatch, not at post: events
# queued before a replacement reach the new handler, events queued for a
# removed one go to _default, and once _default is removed too they are
# dropped.  state() returns 0, or ESRCH (3) outside any session.
use strict;
use warnings;
use POE;
$| = 1;

sub show { my $v = shift; defined $v ? $v : 'undef' }
sub called { my $r = shift; 'rc=' . ($! + 0) . ' ret=' . show($r) }

my ($new_a, $added_c, $late);
$new_a = sub { print $_[SESSION]->ID, " new a $_[ARG0]\n"; return; };
$added_c = sub {
        my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
        print "$me added c $_[ARG0]\n";
        if ($_[ARG0] eq 'first') {
                print "$me state c remove -> ", $k->state('c'), "\n";
                $k->yield('c', 'again');
                $k->yield('late');
        }
        return "c-$_[ARG0]";
};
$late = sub {
        my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
        print "$me late\n";
        print "$me state _default remove -> ", $k->state('_default'), "\n";
        $k->yield('c', 'dropped');
        $k->yield('a', 'still');
        return;
};

POE::Session->create(inline_states => {
        _start => sub {
                my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                $k->yield('a', 1);
                print "$me state a replace -> ", $k->state('a', $new_a), "\n";
                $k->yield('b', 2);
                print "$me state b remove -> ", $k->state('b'), "\n";
                print "$me call c -> ", called($k->call($me, 'c', 'zero')), "\n";
                print "$me state c add -> ", $k->state('c', $added_c), "\n";
                $k->yield('c', 'first');
                print "$me state late add -> ", $k->state('late', $late), "\n";
                return;
        },
        a => sub { print $_[SESSION]->ID, " old a $_[ARG0]\n"; return; },
        b => sub { print $_[SESSION]->ID, " b $_[ARG0]\n"; return; },
        _default => sub {
                print $_[SESSION]->ID, " _default $_[ARG0] [@{$_[ARG1]}]\n";
                return "dflt";
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});

print "main state -> ", $poe_kernel->state('x', $late), "\n";
POE::Kernel->run();
print "run returned\n";
