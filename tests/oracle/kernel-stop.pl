#!/usr/bin/perl
# kernel-stop: POE::Kernel->stop() from inside a handler stops every
# session at once, deepest first: each gets _stop (its SENDER is the
# session that called stop), and its parent _child("lose").  Nothing else
# is dispatched: queued events are discarded.  The calling handler runs
# on, with the kernel as the active session, and run() returns.
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

sub chain {
        my ($depth) = @_;
        POE::Session->create(inline_states => {
                _start => sub {
                        chain($depth + 1) if $depth < 3;
                        $_[KERNEL]->yield($depth == 3 ? 'halt' : 'never');
                        return;
                },
                halt => sub {
                        my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                        print "$me halt events=", $k->get_event_count(), "\n";
                        POE::Kernel->stop();
                        print "$me after stop active=", id_of($k->get_active_session()),
                                " events=", $k->get_event_count(), "\n";
                        print "$me post 1 -> ", res($k->post(1, 'never')), "\n";
                        return;
                },
                never => sub { print $_[SESSION]->ID, " never\n"; return; },
                _child => sub {
                        print $_[SESSION]->ID, " _child $_[ARG0] ", id_of($_[ARG1]), "\n"
                                unless $_[ARG0] eq 'create';
                        return;
                },
                _stop => sub {
                        print $_[SESSION]->ID, " _stop sender=", id_of($_[SENDER]), "\n";
                        return;
                },
        });
}

chain(1);
POE::Kernel->run();
print "run returned\n";
