#!/usr/bin/perl
# sig-terminal: terminal signals sent with signal().  A parent P and its
# one child C watch TERM and INT.  TERM to P, handled by C alone, stops
# nobody (one handler is enough).  INT to C, unhandled, stops C only:
# P, which it never reached, lives on and hears _child lose.  TERM to P,
# now unhandled, stops P.  HUP and QUIT to a session that does not watch
# them stop it too: terminal signals need no watcher.
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

my $handle_term = 1;

my %common = (
        _child => sub {
                print $_[SESSION]->ID, " _child $_[ARG0] ", id_of($_[ARG1]), "\n"
                        unless $_[ARG0] eq 'create';
                return;
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
        on_sig => sub {
                my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                print "$me on_sig $_[ARG0]\n";
                if ($me == 2 and $_[ARG0] eq 'TERM' and $handle_term) {
                        $k->sig_handled();
                        print "$me handled TERM\n";
                }
                return;
        },
);

my $step = 0;

sub plain {
        my ($name) = @_;
        POE::Session->create(inline_states => {
                %common,
                _start => sub { $_[KERNEL]->alias_set($name); return; },
        });
}

POE::Session->create(inline_states => {
        %common,
        _start => sub {
                my $k = $_[KERNEL];
                $k->sig($_ => 'on_sig') for qw(TERM INT);
                $k->alias_set('P');
                POE::Session->create(inline_states => {
                        %common,
                        _start => sub {
                                $_[KERNEL]->sig($_ => 'on_sig') for qw(TERM INT);
                                $_[KERNEL]->alias_set('C');
                                return;
                        },
                });
                $k->yield('step');
                return;
        },
        step => sub {
                my $k = $_[KERNEL];
                $step++;
                print "step $step\n";
                if ($step == 1) {
                        $k->signal($_[SESSION], 'TERM');
                } elsif ($step == 2) {
                        $k->signal($k->alias_resolve('C'), 'INT');
                } elsif ($step == 3) {
                        plain('H');
                } elsif ($step == 4) {
                        $k->signal($k->alias_resolve('H'), 'HUP');
                } elsif ($step == 5) {
                        plain('Q');
                } elsif ($step == 6) {
                        $k->signal($k->alias_resolve('Q'), 'QUIT');
                } elsif ($step == 7) {
                        $handle_term = 0;
                        $k->signal($_[SESSION], 'TERM');
                        return;
                }
                $k->yield('step');
                return;
        },
});

POE::Kernel->run();
print "run returned\n";
