#!/usr/bin/perl
# alias-errors: alias_set and alias_remove return 0 or an errno (not $!):
# EEXIST (17) for setting another session's alias, EPERM (1) for removing
# another session's alias (also from outside any session), ESRCH (3) for
# removing an alias nobody has.  A session's aliases die with it (they are
# still listed in its _stop), after which another session may take them.
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

POE::Session->create(inline_states => {
        _start => sub {
                $_[KERNEL]->alias_set('one');
                $_[KERNEL]->alias_set('uno');
                return;
        },
        _stop => sub {
                print $_[SESSION]->ID, " _stop aliases [",
                        join(' ', $_[KERNEL]->alias_list($_[SESSION])), "]\n";
                return;
        },
});

POE::Session->create(inline_states => {
        _start => sub {
                my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                print "$me alias_set one -> ", $k->alias_set('one'), "\n";
                print "$me alias_remove one -> ", $k->alias_remove('one'), "\n";
                print "$me alias_remove nosuch -> ", $k->alias_remove('nosuch'), "\n";
                print "$me alias_set two -> ", $k->alias_set('two'), "\n";
                print "$me alias_remove two -> ", $k->alias_remove('two'), "\n";
                print "$me alias_remove two again -> ", $k->alias_remove('two'), "\n";
                print "$me signal one TERM -> ", res($k->signal('one', 'TERM')), "\n";
                $k->yield('after');
                return;
        },
        after => sub {
                my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                print "$me alias_resolve one -> ", id_of($k->alias_resolve('one')), "\n";
                print "$me post one -> ", res($k->post('one', 'x')), "\n";
                print "$me alias_set one -> ", $k->alias_set('one'), "\n";
                print "$me alias_resolve one -> ", id_of($k->alias_resolve('one')), "\n";
                print "$me alias_remove one -> ", $k->alias_remove('one'), "\n";
                return;
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});

print "main alias_remove one -> ", $poe_kernel->alias_remove('one'), "\n";
print "main alias_remove nosuch -> ", $poe_kernel->alias_remove('nosuch'), "\n";
POE::Kernel->run();
print "run returned\n";
