#!/usr/bin/perl
# die-unhandled: dies nobody handles go to run()'s caller.  Three runs
# of the same kernel:
#  1. C (child of P) dies; both watch DIE, neither handles it: C, then
#     P, stop, and run() dies with the message;
#  2. a session's _stop dies: no DIE signal, run() dies with it;
#  3. a session's DIE handler dies too: run() dies with both messages,
#     the first one first.
# Messages end in newlines, so no file names appear.
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
        on_die => sub {
                my $ex = $_[ARG1];
                print $_[SESSION]->ID, " on_die $_[ARG0] dest=", id_of($ex->{dest_session}),
                        " event=$ex->{event}\n";
                return;
        },
);

sub run_it {
        my ($label) = @_;
        eval { POE::Kernel->run() };
        my $e = $@;
        $e =~ s/\n/|/g;
        print "$label: run died: [$e]\n";
}

# 1.
POE::Session->create(inline_states => {
        %common,
        _start => sub {
                my $k = $_[KERNEL];
                $k->sig(DIE => 'on_die');
                POE::Session->create(inline_states => {
                        %common,
                        _start => sub {
                                $_[KERNEL]->sig(DIE => 'on_die');
                                $_[KERNEL]->yield('boom');
                                return;
                        },
                        boom => sub { print $_[SESSION]->ID, " boom\n"; die "oops\n"; },
                });
                return;
        },
});
run_it('first');

# 2.
POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->sig(DIE => 'on_die'); return; },
        on_die => sub { print "never: $_[ARG1]{error_str}"; $_[KERNEL]->sig_handled; return; },
        _stop => sub { print $_[SESSION]->ID, " _stop dies\n"; die "stop died\n"; },
});
run_it('second');

# 3.
POE::Session->create(inline_states => {
        _start => sub {
                $_[KERNEL]->sig(DIE => 'on_die');
                $_[KERNEL]->yield('boom');
                return;
        },
        boom => sub { die "first error\n"; },
        on_die => sub {
                print $_[SESSION]->ID, " on_die: $_[ARG1]{error_str}";
                die "second error\n";
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});
run_it('third');
