#!/usr/bin/perl
# create-order: _start runs inside create(), with the creator as SENDER
# (the kernel for top-level sessions) and create's args as ARG0..; the
# parent's _child("create", child, _start's return value) follows at once,
# before create() returns; creation nests.  At the end every session has
# nothing to do: the chain stops deepest first, each _stop followed by
# the parent's _child("lose", child, _stop's return value).
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

sub make {
        my ($depth) = @_;
        return POE::Session->create(
                args          => [ "d$depth", 'x' ],
                inline_states => {
                        _start => sub {
                                my $me = $_[SESSION]->ID;
                                print "$me _start sender=", id_of($_[SENDER]),
                                        " args=[@_[ARG0..$#_]]\n";
                                if ($depth < 3) {
                                        my $child = make($depth + 1);
                                        print "$me create returned ", $child->ID, "\n";
                                }
                                return "r$me";
                        },
                        _child => sub {
                                print $_[SESSION]->ID, " _child $_[ARG0] ",
                                        id_of($_[ARG1]), " ret=",
                                        defined $_[ARG2] ? $_[ARG2] : 'undef',
                                        " sender=", id_of($_[SENDER]), "\n";
                        },
                        _stop => sub {
                                print $_[SESSION]->ID, " _stop sender=",
                                        id_of($_[SENDER]), "\n";
                                return "s" . $_[SESSION]->ID;
                        },
                },
        );
}

print "main create\n";
my $top = make(1);
print "main create returned ", $top->ID, "\n";
my $second = make(3);
print "main create returned ", $second->ID, "\n";
POE::Kernel->run();
print "run returned\n";
