#!/usr/bin/perl
# stop-reparent: a session that stops while it still has a child.  The
# only way to get there is a terminal signal whose handler creates a child
# (the signal has already chosen whom it stops).  The stopping session's
# child goes to the grandparent: first _child("gain", child) to the
# grandparent and _parent(old parent, new parent) to the child, then the
# session's _stop, then _child("lose", session, _stop's return value) to
# the grandparent.  The orphan lives on under its grandparent.
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
                print $_[SESSION]->ID, " _child $_[ARG0] ", id_of($_[ARG1]),
                        " ret=", defined $_[ARG2] ? $_[ARG2] : 'undef',
                        " sender=", id_of($_[SENDER]), "\n";
                return;
        },
        _parent => sub {
                print $_[SESSION]->ID, " _parent old=", id_of($_[ARG0]),
                        " new=", id_of($_[ARG1]), " sender=", id_of($_[SENDER]), "\n";
                return;
        },
        _stop => sub {
                print $_[SESSION]->ID, " _stop\n";
                return "bye" . $_[SESSION]->ID;
        },
);

sub orphan {
        POE::Session->create(inline_states => {
                %common,
                _start => sub { print $_[SESSION]->ID, " _start\n"; return "o"; },
        });
}

sub middle {
        POE::Session->create(inline_states => {
                %common,
                _start => sub {
                        print $_[SESSION]->ID, " _start\n";
                        $_[KERNEL]->sig(TERM => 'on_term');
                        return "m";
                },
                on_term => sub {
                        print $_[SESSION]->ID, " on_term $_[ARG0]\n";
                        orphan();
                        print $_[SESSION]->ID, " on_term returns\n";
                        return;
                },
        });
}

POE::Session->create(inline_states => {
        %common,
        _start => sub {
                print $_[SESSION]->ID, " _start\n";
                my $mid = middle();
                my $r = $_[KERNEL]->signal($mid, 'TERM');
                print $_[SESSION]->ID, " signal TERM -> ", defined $r ? 'ok' : 'err', "\n";
                return "t";
        },
});

POE::Kernel->run();
print "run returned\n";
