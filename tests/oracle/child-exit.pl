#!/usr/bin/perl
# child-exit: real fork()s.  A child exiting with status 3 is reported to
# the sig_child watcher (ARG0 CHLD, ARG1 the pid, ARG2 the wait status,
# then the watcher's arguments), and CHLD is raised at the kernel for
# sig(CHLD) watchers with the same pid and status, after it.  A second
# child killed with SIGKILL reports the signal.  Once both are reaped the
# session has nothing left (sig(CHLD) does not keep it alive) and stops.
# Pids are compared, never printed.  A timer keeps the kernel busy while
# children run: POE 1.37 only counts children it has seen at the last
# reap as a reason not to be idle, so one forked from a handler would
# otherwise race the IDLE signal.  The first child is forked from an
# event after _start, never from _start itself: POE 1.37 installs its
# SIGCHLD handler only when the poll event that sig(CHLD) queues has run,
# and a child that exits between that poll's waitpid() and the handler's
# installation is never reaped (seen on a loaded CI machine: the timeout
# fired).  Queued after that poll event, the fork cannot fall in the gap.
use strict;
use warnings;
use POE;
use POSIX ();
$| = 1;

my %pid;

sub status {
        my ($st) = @_;
        return ($st & 127) ? 'signal=' . ($st & 127) : 'exit=' . ($st >> 8);
}

POE::Session->create(inline_states => {
        _start => sub {
                my $k = $_[KERNEL];
                $k->sig(CHLD => 'on_chld');
                $k->delay(timeout => 10);
                $k->yield('spawn');
                return;
        },
        spawn => sub {
                my $k = $_[KERNEL];
                my $pid = fork();
                die "fork: $!" unless defined $pid;
                POSIX::_exit(3) if $pid == 0;
                $pid{first} = $pid;
                $k->sig_child($pid, 'reaped', 'first', 1);
                print "watching first\n";
                return;
        },
        reaped => sub {
                my ($k, $name, $pid, $st, @etc) = @_[KERNEL, ARG0, ARG1, ARG2, ARG3 .. $#_];
                print "reaped $name ", status($st), " [@etc] pid_ok=",
                        ($pid == $pid{$etc[0]} ? 1 : 0), "\n";
                if ($etc[0] eq 'first') {
                        my $pid = fork();
                        die "fork: $!" unless defined $pid;
                        if ($pid == 0) { POSIX::pause() while 1; POSIX::_exit(0); }
                        $pid{second} = $pid;
                        $k->sig_child($pid, 'reaped', 'second');
                        print "watching second\n";
                        kill KILL => $pid;
                } else {
                        $k->delay('timeout');
                }
                return;
        },
        on_chld => sub {
                my ($name, $pid, $st) = @_[ARG0, ARG1, ARG2];
                my ($which) = grep { $pid{$_} == $pid } keys %pid;
                print "on_chld $name ", status($st), " ", $which // 'unknown', "\n";
                return;
        },
        timeout => sub { print "timeout: a child was never reaped\n"; return; },
        _stop => sub { print "_stop\n"; return; },
});

POE::Kernel->run();
print "run returned\n";
