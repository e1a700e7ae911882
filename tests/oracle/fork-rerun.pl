#!/usr/bin/perl
# fork-rerun: a forked child stops the kernel it inherited and runs it
# again from inside the handler that forked, as a POE::Wheel::Run code
# program does (kjeldahl-stop-start-*.t).  stop() in the child (a new
# pid: has_forked is implied) gives the inherited session its _stop
# there; the child then makes a session of its own, whose events and
# timer run in the nested run(); run() returns when it is done, and
# the child exits with status 7.  The parent sees only the exit.  The
# parent prints nothing while the child runs, so the transcript has one
# order; the fork comes from an event after _start, once POE 1.37 has
# installed its SIGCHLD handler (see child-exit.pl).
use strict;
use warnings;
use POE;
use POSIX ();
$| = 1;

my $parent_pid = $$;
sub who { return $$ == $parent_pid ? 'parent' : 'child'; }

POE::Session->create(inline_states => {
        _start => sub {
                $_[KERNEL]->delay(timeout => 10);
                $_[KERNEL]->yield('spawn');
                return;
        },
        spawn => sub {
                my $k = $_[KERNEL];
                print who(), " spawn in session ", $_[SESSION]->ID, "\n";
                my $pid = fork();
                die "fork: $!" unless defined $pid;
                if ($pid == 0) {
                        $k->stop();
                        POE::Session->create(inline_states => {
                                _start => sub {
                                        print who(), " session ", $_[SESSION]->ID,
                                                " _start\n";
                                        $_[KERNEL]->yield('work', 1);
                                        return;
                                },
                                work => sub {
                                        my $n = $_[ARG0];
                                        print who(), " work $n\n";
                                        if ($n < 3) {
                                                $_[KERNEL]->yield('work', $n + 1);
                                        } else {
                                                $_[KERNEL]->delay(done => 0.01);
                                        }
                                        return;
                                },
                                done => sub { print who(), " done\n"; return; },
                                _stop => sub {
                                        print who(), " session ", $_[SESSION]->ID,
                                                " _stop\n";
                                        return;
                                },
                        });
                        POE::Kernel->run();
                        print who(), " run returned\n";
                        POSIX::_exit(7);
                }
                $k->sig_child($pid, 'reaped');
                return;
        },
        reaped => sub {
                my $st = $_[ARG2];
                print who(), " reaped exit=", $st >> 8, "\n";
                $_[KERNEL]->delay('timeout');
                return;
        },
        timeout => sub { print who(), " timeout\n"; return; },
        _stop => sub { print who(), " session ", $_[SESSION]->ID, " _stop\n"; return; },
});

POE::Kernel->run();
print who(), " run returned\n";
