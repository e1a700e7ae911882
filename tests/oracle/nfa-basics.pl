#!/usr/bin/perl
# nfa-basics: POE::NFA machines (poe_nfa_*).
#  1. Machine A, spawned in P's _start (P hears _child create), has no
#     state ("(undef)"); its first goto_state is a call (done before it
#     returns), the second is posted.  A's states: an event goes to the
#     current state's handler before one added with state(), to state()'s
#     when the state has none, else to the state's _default (event name
#     and argument list).  "leave" runs on the way out of a state;
#     call_state pushes, return_state pops back with the return event
#     and its arguments; stop() stops A at once: P hears _child lose, A's
#     own _stop handler never runs.
#  2. Machine B has the immediate and trace options: goto_state inside a
#     handler is done before it returns; trace warns "ID -> EVENT" for
#     every event, _start and _stop and the internal ones too.
#  3. Dies, each going out of run(): a state that does not exist, an
#     entry event the new state has no handler for, an event with no
#     handler and no _default in the current state, return_state with an
#     empty stack.
# The dies' messages start with POE::Kernel::_die's "=== PID === ", taken
# out; the unknown event's names the poster's file and line, which are
# normalized to F and L.
use strict;
use warnings;
BEGIN {
        $SIG{__WARN__} = sub {
                my $m = shift;
                $m =~ s/^=== \d+ === //mg;
                print "warn: $m";
        };
}
use POE::Kernel;
$| = 1;

package M;
use POE::NFA;

sub spawn_a {
        return POE::NFA->spawn(inline_states => {
                one => {
                        enter => sub {
                                print "A one/enter ARG0=$_[ARG0] STATE=$_[STATE] EVENT=$_[EVENT]",
                                        " sender=", $_[SENDER]->ID, "\n";
                                $_[KERNEL]->state(added => sub {
                                        print "A internal added in state $_[STATE]\n";
                                        return;
                                });
                                $_[KERNEL]->state(both => sub { print "A internal both\n"; return; });
                                return;
                        },
                        leave => sub { print "A leave one EVENT=$_[EVENT]\n"; return; },
                },
                two => {
                        enter => sub { print "A two/enter STATE=$_[STATE]\n"; return; },
                        _default => sub {
                                print "A two/_default EVENT=$_[EVENT] $_[ARG0] [@{$_[ARG1]}]\n";
                                return 0;
                        },
                        both => sub {
                                print "A two/both\n";
                                $_[MACHINE]->call_state('ret', 'three', 'enter', 5);
                                return;
                        },
                        ret => sub {
                                print "A two/ret @_[ARG0..$#_] STATE=$_[STATE]\n";
                                $_[MACHINE]->stop();
                                print "A stop posted, still in ", $_[MACHINE]->get_current_state, "\n";
                                return;
                        },
                        _stop => sub { print "never: A _stop\n"; return; },
                },
                three => {
                        enter => sub {
                                print "A three/enter $_[ARG0]\n";
                                $_[MACHINE]->return_state('r1', 'r2');
                                return;
                        },
                        leave => sub { print "A leave three\n"; return; },
                },
        });
}

sub spawn_b {
        my $b = POE::NFA->spawn(
                options => { immediate => 1, trace => 1 },
                inline_states => {
                        s1 => {
                                go => sub {
                                        print "B s1/go\n";
                                        $_[MACHINE]->goto_state('s2', 'arrive', 'y');
                                        print "B back in go, now in ",
                                                $_[MACHINE]->get_current_state, " STATE=$_[STATE]\n";
                                        return;
                                },
                        },
                        s2 => {
                                arrive => sub { print "B s2/arrive $_[ARG0] STATE=$_[STATE]\n"; return; },
                        },
                },
        );
        $b->goto_state('s1', 'go');
        return $b;
}

sub spawn_die {
        my ($how) = @_;
        my $m = POE::NFA->spawn(inline_states => {
                a => {
                        go => sub {
                                print "D go ($how)\n";
                                $_[MACHINE]->goto_state('nowhere') if $how eq 'state';
                                $_[MACHINE]->goto_state('a', 'zz') if $how eq 'entry';
                                $_[KERNEL]->yield('nothing') if $how eq 'event';
                                $_[MACHINE]->return_state('x') if $how eq 'pop';
                                return;
                        },
                },
        });
        $m->goto_state('a', 'go');
        return $m;
}

package main;
use POE::Session;

POE::Session->create(inline_states => {
        _start => sub {
                print "P _start\n";
                my $a = M::spawn_a();
                print "A is ", $a->ID, " in ", $a->get_current_state, "\n";
                $a->goto_state('one', 'enter', 'x');
                print "P after first goto: A in ", $a->get_current_state, "\n";
                $a->goto_state('two', 'enter');
                print "P after second goto: A in ", $a->get_current_state, "\n";
                $_[HEAP]{a} = $a->ID;
                $_[KERNEL]->yield('poke');
                return;
        },
        poke => sub {
                my $a = $_[HEAP]{a};
                $_[KERNEL]->post($a, 'unknown_ev', 1, 2);
                $_[KERNEL]->post($a, 'both');
                $_[KERNEL]->post($a, 'added');
                return;
        },
        _child => sub { print "P _child $_[ARG0] ", $_[ARG1]->ID, "\n"; return; },
        _stop => sub { print "P _stop\n"; return; },
});
POE::Kernel->run();
print "run 1 returned\n";

M::spawn_b();
POE::Kernel->run();
print "run 2 returned\n";

for my $how (qw(state entry event pop)) {
        M::spawn_die($how);
        eval { POE::Kernel->run() };
        my $e = $@;
        $e =~ s/^=== \d+ === //mg;
        $e =~ s/ from \S+ at \d+ / from F at L /;
        $e =~ s/\n/|/g;
        print "$how: run died: [$e]\n";
}
