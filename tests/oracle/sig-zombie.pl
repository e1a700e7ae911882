#!/usr/bin/perl
# sig-zombie: ZOMBIE and UIDESTROY are nonmaskable: they stop every
# session they reach even when a watcher calls sig_handled.  ZOMBIE to
# the child C stops C only; its parent P lives on.  UIDESTROY to P then
# stops P and its new child D, deepest first.
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

my %common = (
        _child => sub {
                print $_[SESSION]->ID, " _child $_[ARG0] ", id_of($_[ARG1]), "\n"
                        unless $_[ARG0] eq 'create';
                return;
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
        on_sig => sub {
                my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                print "$me on_sig $_[ARG0] (handled)\n";
                $k->sig_handled();
                return;
        },
);

sub kid {
        my ($name) = @_;
        POE::Session->create(inline_states => {
                %common,
                _start => sub {
                        $_[KERNEL]->alias_set($name);
                        $_[KERNEL]->sig($_ => 'on_sig') for qw(ZOMBIE UIDESTROY);
                        return;
                },
        });
}

my $step = 0;

POE::Session->create(inline_states => {
        %common,
        _start => sub {
                my $k = $_[KERNEL];
                $k->alias_set('P');
                $k->sig($_ => 'on_sig') for qw(ZOMBIE UIDESTROY);
                kid('C');
                $k->yield('step');
                return;
        },
        step => sub {
                my $k = $_[KERNEL];
                $step++;
                print "step $step\n";
                if ($step == 1) {
                        $k->signal($k->alias_resolve('C'), 'ZOMBIE');
                } elsif ($step == 2) {
                        kid('D');
                } elsif ($step == 3) {
                        $k->signal($_[SESSION], 'UIDESTROY');
                        return;
                }
                $k->yield('step');
                return;
        },
});

POE::Kernel->run();
print "run returned\n";
