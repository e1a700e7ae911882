#!/usr/bin/perl
# detach-child: detach_child gives a child to the kernel.  The parent gets
# _child("lose", child, undef) and the child _parent(parent, kernel), both
# dispatched at once, in that order.  Errors: EPERM (1) outside a handler,
# for a session that is not the caller's child (a detached child, the
# caller itself, another top-level session); ESRCH (3) for no such id.
# The detached child no longer keeps its old parent alive.
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

my %common = (
        _child => sub {
                print $_[SESSION]->ID, " _child $_[ARG0] ", id_of($_[ARG1]),
                        " ret=", defined $_[ARG2] ? $_[ARG2] : 'undef', "\n";
                return;
        },
        _parent => sub {
                print $_[SESSION]->ID, " _parent old=", id_of($_[ARG0]),
                        " new=", id_of($_[ARG1]), "\n";
                return;
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
);

POE::Session->create(inline_states => {
        %common,
        _start => sub {
                my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                print "$me _start\n";
                my $child = POE::Session->create(inline_states => {
                        %common,
                        _start => sub {
                                print $_[SESSION]->ID, " _start\n";
                                $_[KERNEL]->yield('try_myself');
                                return 'c';
                        },
                        try_myself => sub {
                                my $me = $_[SESSION]->ID;
                                print "$me detach_myself -> ",
                                        res($_[KERNEL]->detach_myself()), "\n";
                                return;
                        },
                })->ID;
                print "$me detach_child $child -> ", res($k->detach_child($child)), "\n";
                print "$me detach_child $child again -> ", res($k->detach_child($child)), "\n";
                print "$me detach_child 99 -> ", res($k->detach_child(99)), "\n";
                print "$me detach_child $me -> ", res($k->detach_child($me)), "\n";
                $k->yield('later');
                return 'p';
        },
        later => sub {
                my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                print "$me detach_child 3 -> ", res($k->detach_child(3)), "\n";
                return;
        },
});
POE::Session->create(inline_states => {
        %common,
        _start => sub { print $_[SESSION]->ID, " _start\n"; return; },
});

print "main detach_child 1 -> ", res($poe_kernel->detach_child(1)), "\n";
POE::Kernel->run();
print "run returned\n";
