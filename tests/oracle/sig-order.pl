#!/usr/bin/perl
# sig-order: a parent P and its one child C both watch the user signal
# PING and the OS signal USR1.  A signal to P reaches C first, then P;
# a signal to C reaches only C; a real kill(USR1) to the process is
# raised at the kernel and reaches both, C first.  Each watcher gets
# the signal name, the signal's arguments, then its own.  Benign
# signals stop nobody.
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
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
        on_sig => sub {
                my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                print "$me on_sig [@_[ARG0..$#_]] sender=", id_of($_[SENDER]), "\n";
                # The parent sees each signal last: it takes the next step.
                $k->yield('step') if $me == 1;
                return;
        },
);

my $step = 0;

POE::Session->create(inline_states => {
        %common,
        _start => sub {
                my $k = $_[KERNEL];
                $k->sig(PING => 'on_sig', 'wP');
                $k->sig(USR1 => 'on_sig', 'wP');
                $k->alias_set('P');
                POE::Session->create(inline_states => {
                        %common,
                        _start => sub {
                                $_[KERNEL]->sig(PING => 'on_sig', 'wC');
                                $_[KERNEL]->sig(USR1 => 'on_sig', 'wC');
                                $_[KERNEL]->alias_set('C');
                                return;
                        },
                        bye => sub {
                                $_[KERNEL]->alias_remove('C');
                                $_[KERNEL]->sig('PING');
                                $_[KERNEL]->sig('USR1');
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
                        $k->signal($_[SESSION], 'PING', 'a', 'b');
                } elsif ($step == 2) {
                        # Only C: step 3 is taken from here.
                        $k->signal($k->alias_resolve('C'), 'PING', 'c');
                        $k->yield('step');
                } elsif ($step == 3) {
                        # A real signal; the timer keeps the kernel from
                        # going idle before it arrives.
                        $k->delay(timeout => 5);
                        kill USR1 => $$;
                } elsif ($step == 4) {
                        $k->delay('timeout');
                        $k->post('C', 'bye');
                        $k->alias_remove('P');
                        $k->sig('PING');
                        $k->sig('USR1');
                }
                return;
        },
        timeout => sub { print "timeout: USR1 never came\n"; return; },
});

POE::Kernel->run();
print "run returned\n";
