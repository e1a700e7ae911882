#!/usr/bin/perl
# signal-propagation: signal() events (not OS signals) reach the target
# and all its descendants, deepest first, each watcher's handler getting
# the signal name, the signal's arguments and then the watcher's own, with
# the kernel as SENDER.  A signal to the kernel reaches every session.  A
# terminal signal that any reached session handles stops nobody; one that
# none handles stops every session it reached (deepest first), and only
# those.  sig() with no event removes a watcher.
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
                print "$me on_sig [@_[ARG0..$#_]] sender=", id_of($_[SENDER]), "\n";
                if ($_[ARG0] eq 'INT' and $me == 3) {
                        $k->sig_handled();
                        print "$me handled INT\n";
                }
                return;
        },
);

sub chain {
        my ($depth) = @_;
        POE::Session->create(inline_states => {
                %common,
                _start => sub {
                        my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                        $k->sig($_ => 'on_sig', "w$me") for qw(PING INT TERM);
                        chain($depth + 1) if $depth < 3;
                        $k->yield('step', 1) if $depth == 1;
                        $k->alias_set("s$me");
                        return;
                },
                step => sub {
                        my ($k, $n) = @_[KERNEL, ARG0];
                        print "step $n\n";
                        if ($n == 1) { $k->signal($_[SESSION], 'PING', 'a', 'b') }
                        if ($n == 2) { $k->sig('PING'); $k->signal($k, 'PING', 'c') }
                        if ($n == 3) { $k->signal($_[SESSION], 'INT') }
                        if ($n == 4) { $k->signal(2, 'TERM') }
                        if ($n == 5) { $k->alias_remove('s1'); return; }
                        $k->yield('step', $n + 1);
                        return;
                },
        });
}

chain(1);
POE::Kernel->run();
print "run returned\n";
