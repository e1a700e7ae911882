#!/usr/bin/perl
# die-rerun-asserts: with every ASSERT group on (ASSERT_DEFAULT, so
# ASSERT_RETVALS too), a handler's die is still an exception the program
# catches and goes on from, not a fatal assertion (k_signals_rerun):
#  1. an unhandled die comes out of run(); the program catches it,
#     creates a session and runs the kernel again;
#  2. a die inside call() (to another session: POE calls its own
#     session's handler without an eval) whose DIE signal the parent
#     handles: call() returns undef and the caller goes on;
#  3. and run() can be called again after that, too.
use strict;
use warnings;
sub POE::Kernel::ASSERT_DEFAULT () { 1 }
use POE;
$| = 1;

sub run_it {
        my ($label) = @_;
        eval { POE::Kernel->run() };
        my $e = $@;
        $e =~ s/\n/|/g;
        print "$label: ", ($e eq '' ? "run returned" : "run died: [$e]"), "\n";
}

POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->yield('boom'); return; },
        boom => sub { print "1 boom\n"; die "round one\n"; },
        _stop => sub { print "1 _stop\n"; return; },
});
run_it('first');

my $callee;
POE::Session->create(inline_states => {
        _start => sub {
                $_[KERNEL]->sig(DIE => 'on_die');
                $callee = POE::Session->create(inline_states => {
                        _start => sub { return; },
                        boom => sub { print "3 boom\n"; die "round two\n"; },
                        _stop => sub { print "3 _stop\n"; return; },
                })->ID;
                $_[KERNEL]->yield('go');
                return;
        },
        go => sub {
                my $k = $_[KERNEL];
                my $r = $k->call($callee, 'boom');
                print "2 call returned ", (defined $r ? $r : 'undef'), "\n";
                $k->yield('work');
                return;
        },
        on_die => sub {
                print "2 on_die $_[ARG1]{event}: $_[ARG1]{error_str}";
                $_[KERNEL]->sig_handled;
                return;
        },
        work => sub { print "2 work\n"; $_[KERNEL]->sig('DIE'); return; },
        _child => sub { return; },
        _stop => sub { print "2 _stop\n"; return; },
});
run_it('second');

POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->yield('boom'); return; },
        boom => sub { print "4 boom\n"; die "round three\n"; },
        _stop => sub { print "4 _stop\n"; return; },
});
run_it('third');
