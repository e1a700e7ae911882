#!/usr/bin/perl
# sig-kernel: signals to the kernel reach every session, deepest first.
# A chain P > C > G (one child each): signal($kernel, HELLO) reaches G,
# C, then P, all with the kernel as sender.  Then a real SIGTERM to the
# process (P watches TERM, so the OS handler is in place) is raised at
# the kernel; nobody handles it, so every session stops, G, which does
# not watch TERM, included, and run() returns.
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
                $k->yield('step') if $me == 1 and $_[ARG0] eq 'HELLO';
                return;
        },
);

my $step = 0;

sub member {
        my ($depth, @watch) = @_;
        POE::Session->create(inline_states => {
                %common,
                _start => sub {
                        my $k = $_[KERNEL];
                        $k->alias_set("d$depth");
                        $k->sig($_ => 'on_sig', "w$depth") for @watch;
                        member($depth + 1, 'HELLO') if $depth < 3;
                        $k->yield('step') if $depth == 1;
                        return;
                },
                step => sub {
                        my $k = $_[KERNEL];
                        $step++;
                        print "step $step\n";
                        if ($step == 1) {
                                $k->signal($k, 'HELLO', 'x');
                        } elsif ($step == 2) {
                                $k->delay(timeout => 5);
                                kill TERM => $$;
                        }
                        return;
                },
                timeout => sub { print "timeout: TERM never came\n"; return; },
        });
}

member(1, 'HELLO', 'TERM');
POE::Kernel->run();
print "run returned\n";
