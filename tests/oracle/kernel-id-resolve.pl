#!/usr/bin/perl
# kernel-id-resolve: the kernel's own id string resolves to the kernel
# (POE registers $kernel->ID among the session ids): alias_resolve gives
# the kernel before any session exists and inside handlers, so
# signal($kernel->ID, ...) reaches every session, as a signal to the
# kernel does.  Once run() has returned the kernel is finalized and the
# id resolves to nothing until a session is made again.
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

my $kid = $poe_kernel->ID;
print "before: ", id_of($poe_kernel->alias_resolve($kid)), "\n";

POE::Session->create(inline_states => {
        _start => sub {
                my $k = $_[KERNEL];
                $k->sig(USR1 => 'on_usr1');
                print "inside: ", id_of($k->alias_resolve($kid)), "\n";
                print "signal: ", ($k->signal($kid, 'USR1', 'x') ? 'ok' : 'failed'), "\n";
                return;
        },
        on_usr1 => sub {
                print $_[SESSION]->ID, " on_usr1 $_[ARG0] $_[ARG1]\n";
                $_[KERNEL]->sig_handled;
                $_[KERNEL]->sig('USR1');
                return;
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});

POE::Kernel->run();
print "after: ", id_of($poe_kernel->alias_resolve($kid)), "\n";
print "id unchanged: ", ($kid eq $poe_kernel->ID ? 1 : 0), "\n";
