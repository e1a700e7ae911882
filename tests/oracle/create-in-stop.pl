#!/usr/bin/perl
# create-in-stop: a session created from another's _stop is a child of
# the stopping session (its _start sees it as SENDER, it gets
# _child("create")), and when the stopping session is freed right after,
# the new child moves to the grandparent silently: no _child("gain"), no
# _parent.  It then lives on like any new session (stopped at the end of
# the next timeslice when it has nothing to do).
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
                print $_[SESSION]->ID, " _child $_[ARG0] ", id_of($_[ARG1]), " ret=",
                        (defined $_[ARG2] ? $_[ARG2] : 'undef'), "\n";
                return;
        },
        _parent => sub {
                print $_[SESSION]->ID, " _parent old=", id_of($_[ARG0]),
                        " new=", id_of($_[ARG1]), "\n";
                return;
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return 'gone'; },
);

POE::Session->create(inline_states => {
        %common,
        _start => sub {
                $_[KERNEL]->yield('tick', 1);
                POE::Session->create(inline_states => {
                        %common,
                        _start => sub { return 'mid'; },
                        _stop => sub {
                                my $me = $_[SESSION]->ID;
                                print "$me _stop creating\n";
                                POE::Session->create(inline_states => {
                                        %common,
                                        _start => sub {
                                                print $_[SESSION]->ID, " _start sender=",
                                                        id_of($_[SENDER]), "\n";
                                                return 'late';
                                        },
                                });
                                print "$me _stop done\n";
                                return 'mid-gone';
                        },
                });
                return;
        },
        tick => sub {
                print $_[SESSION]->ID, " tick $_[ARG0]\n";
                $_[KERNEL]->yield('tick', $_[ARG0] + 1) if $_[ARG0] < 3;
                return;
        },
});

POE::Kernel->run();
print "run returned\n";
