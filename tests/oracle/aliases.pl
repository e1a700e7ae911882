#!/usr/bin/perl
# aliases: alias_set (0, also when the session already has the alias),
# alias_list (sorted), alias_resolve (by alias, or by a string of digits
# naming a live session id; undef otherwise).  A session holding only
# aliases stays alive (until the kernel goes idle), and stops at the end
# of the timeslice in which it removes its last alias.
use strict;
use warnings;
use POE;
$| = 1;

sub id_of {
        my $s = shift;
        return 'undef' unless defined $s;
        return 'K' if ref $s and $s->isa('POE::Kernel');
        return $s->ID;
}
sub res { my $r = shift; defined $r ? 'ok' : 'err ' . ($! + 0) }
sub list_of {
        my $sid = shift;
        $! = 0;
        my @aliases = $poe_kernel->alias_list($sid);
        return 'err ' . ($! + 0) if $! + 0;
        return '[' . join(' ', @aliases) . ']';
}

POE::Session->create(inline_states => {
        _start => sub {
                my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                print "$me alias_set beta -> ", $k->alias_set('beta'), "\n";
                print "$me alias_set alpha -> ", $k->alias_set('alpha'), "\n";
                print "$me alias_set beta again -> ", $k->alias_set('beta'), "\n";
                print "$me alias_list -> ", list_of($me), "\n";
                return;
        },
        hello => sub { print $_[SESSION]->ID, " hello $_[ARG0]\n"; return; },
        drop => sub {
                my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                print "$me alias_remove $_[ARG0] -> ", $k->alias_remove($_[ARG0]), "\n";
                print "$me alias_list -> ", list_of($me), "\n";
                return;
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});

POE::Session->create(inline_states => {
        _start => sub {
                my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                for my $name (qw(alpha beta 1 2 3 nope)) {
                        print "$me alias_resolve $name -> ", id_of($k->alias_resolve($name)), "\n";
                }
                print "$me alias_list $me -> ", list_of($me), "\n";
                print "$me alias_list 99 -> ", list_of(99), "\n";
                $k->yield('step', 1);
                return;
        },
        step => sub {
                my ($k, $me, $n) = ($_[KERNEL], $_[SESSION]->ID, $_[ARG0]);
                print "$me step $n\n";
                print "$me post alpha hello -> ", res($k->post('alpha', 'hello', $n)), "\n";
                $k->post('beta', 'drop', 'alpha') if $n == 2;
                $k->post('beta', 'drop', 'beta') if $n == 4;
                $k->yield('step', $n + 1) if $n < 6;
                return;
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});

POE::Kernel->run();
print "run returned\n";
