#!/usr/bin/perl
# detach-myself: detach_myself gives the active session to the kernel.
# From _start the old parent hears nothing: no _child("lose"), and the
# _child("create") that create() sends after _start goes to the new
# parent, the kernel.  Later, the parent gets _child("lose", me, undef),
# then the session _parent(old, kernel).  Its own children stay with it.
# A second detach_myself fails with EPERM (1): already the kernel's child.
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
                        " new=", id_of($_[ARG1]), " sender=", id_of($_[SENDER]),
                        " in ", $_[KERNEL]->get_active_event, "\n";
                return;
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
);

sub leaf {
        POE::Session->create(inline_states => {
                %common,
                _start => sub { print $_[SESSION]->ID, " _start\n"; return 'leaf'; },
        })->ID;
}

POE::Session->create(inline_states => {
        %common,
        _start => sub {
                my $me = $_[SESSION]->ID;
                print "$me _start\n";
                my $early = POE::Session->create(inline_states => {
                        %common,
                        _start => sub {
                                print $_[SESSION]->ID, " _start detach_myself -> ",
                                        res($_[KERNEL]->detach_myself()), "\n";
                                return 'early';
                        },
                })->ID;
                print "$me created $early\n";
                my $late = POE::Session->create(inline_states => {
                        %common,
                        _start => sub {
                                my $me = $_[SESSION]->ID;
                                print "$me _start\n";
                                print "$me created ", leaf(), "\n";
                                $_[KERNEL]->yield('leave');
                                return 'late';
                        },
                        leave => sub {
                                my $me = $_[SESSION]->ID;
                                print "$me detach_myself -> ",
                                        res($_[KERNEL]->detach_myself()), "\n";
                                print "$me detach_myself again -> ",
                                        res($_[KERNEL]->detach_myself()), "\n";
                                return;
                        },
                })->ID;
                print "$me created $late\n";
                return 'top';
        },
});

POE::Kernel->run();
print "run returned\n";
