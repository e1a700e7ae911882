#!/usr/bin/perl
# bench.pl WORKLOAD N: bench/run's workloads on real POE, doing the same
# work as bench/workloads.c does on libpoe (see the comments there for
# what one operation is), and printing the same line with impl=poe:
#
#   workload=W impl=poe n=N seconds=S rate=R
#
# Only the workload is timed, not loading POE or creating helper sessions.
# The random delays come from srand(1), not libpoe's xorshift: the same
# distribution, which is what the timer heap's cost depends on.
use strict;
use warnings;
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);
use Socket qw(AF_UNIX SOCK_STREAM PF_UNSPEC);
use POE;

my ($workload, $n) = @ARGV;
die "usage: bench.pl WORKLOAD N\n" unless defined $n && $n > 0;
my ($t0, $t1, $done) = (0, 0, 0);
sub now { clock_gettime(CLOCK_MONOTONIC) }
srand(1);

my %workloads = (
        yield_chain => sub {
                POE::Session->create(inline_states => {
                        _start => sub { $t0 = now(); $_[KERNEL]->yield('step') },
                        step => sub {
                                if (++$done < $n) { $_[KERNEL]->yield('step') }
                                else { $t1 = now() }
                        },
                });
        },
        post_pingpong => sub {
                my $hit = sub {
                        if (++$done < $n) { $_[KERNEL]->post($_[HEAP]{to}, 'hit') }
                        else { $t1 = now(); $_[KERNEL]->stop }
                };
                POE::Session->create(heap => { to => 'ping' }, inline_states => {
                        _start => sub { $_[KERNEL]->alias_set('pong') },
                        hit => $hit,
                });
                POE::Session->create(heap => { to => 'pong' }, inline_states => {
                        _start => sub {
                                $_[KERNEL]->alias_set('ping');
                                $t0 = now();
                                $_[KERNEL]->post('pong', 'hit');
                        },
                        hit => $hit,
                });
        },
        call_chain => sub {
                POE::Session->create(inline_states => {
                        _start => sub { $_[KERNEL]->alias_set('callee') },
                        add => sub { $_[ARG0] + 1 },
                        quit => sub { $_[KERNEL]->alias_remove('callee') },
                });
                POE::Session->create(inline_states => {
                        _start => sub {
                                my $k = $_[KERNEL];
                                my $v = 0;
                                $t0 = now();
                                $v = $k->call('callee', 'add', $v) for 1 .. $n;
                                $t1 = now();
                                $done = $v;
                                $k->call('callee', 'quit');
                        },
                });
        },
        fanout_queue => sub {
                POE::Session->create(inline_states => {
                        _start => sub {
                                my $k = $_[KERNEL];
                                $t0 = now();
                                $k->yield('ev') for 1 .. $n;
                        },
                        ev => sub { $t1 = now() if ++$done == $n },
                });
        },
        timers_setremove => sub {
                POE::Session->create(inline_states => {
                        _start => sub {
                                my $k = $_[KERNEL];
                                my @delay = map { 1 + int(rand(999000)) / 1000 } 1 .. $n;
                                my @order = (0 .. $n - 1);
                                for (my $i = $n - 1; $i > 0; $i--) {
                                        my $j = int(rand($i + 1));
                                        @order[$i, $j] = @order[$j, $i];
                                }
                                my @ids;
                                $t0 = now();
                                push @ids, $k->delay_set('t', $_) for @delay;
                                $k->alarm_remove($ids[$_]) for @order;
                                $t1 = now();
                                $done = $n;
                        },
                        t => sub {},
                });
        },
        timers_fire => sub {
                POE::Session->create(inline_states => {
                        _start => sub {
                                my $k = $_[KERNEL];
                                my @delay = map { int(rand(1000)) / 1e6 } 1 .. $n;
                                $t0 = now();
                                $k->delay_set('t', $_) for @delay;
                        },
                        t => sub { $t1 = now() if ++$done == $n },
                });
        },
        session_churn => sub {
                my %child = (_start => sub { 1 }, _stop => sub {});
                POE::Session->create(inline_states => {
                        _start => sub {
                                $t0 = now();
                                POE::Session->create(inline_states => \%child);
                        },
                        _child => sub {
                                return unless $_[ARG0] eq 'lose';
                                if (++$done < $n) { POE::Session->create(inline_states => \%child) }
                                else { $t1 = now() }
                        },
                });
        },
        io_pipe => sub {
                socketpair(my $a, my $b, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die "socketpair: $!";
                POE::Session->create(inline_states => {
                        _start => sub {
                                my $k = $_[KERNEL];
                                $k->select_read($a, 'rd');
                                $k->select_read($b, 'rd');
                                $t0 = now();
                                syswrite($a, 'x', 1) == 1 or die;
                        },
                        rd => sub {
                                my ($k, $fh) = @_[KERNEL, ARG0];
                                sysread($fh, my $buf, 1) == 1 or die "read: $!";
                                if ($fh == $a && ++$done == $n) {
                                        $t1 = now();
                                        $k->select_read($a);
                                        $k->select_read($b);
                                        return;
                                }
                                syswrite($fh, $buf, 1) == 1 or die "write: $!";
                        },
                });
        },
        signal_fanout => sub {
                my $delivered = 0;
                for (1 .. 1000) {
                        POE::Session->create(inline_states => {
                                _start => sub {
                                        $_[KERNEL]->sig(BENCH => 'got');
                                        $_[KERNEL]->refcount_increment($_[SESSION]->ID, 'bench');
                                },
                                got => sub {
                                        return if ++$delivered % 1000;
                                        if (++$done < $n) { $_[KERNEL]->signal($_[KERNEL], 'BENCH') }
                                        else { $t1 = now(); $_[KERNEL]->stop }
                                },
                        });
                }
                POE::Session->create(inline_states => {
                        _start => sub { $t0 = now(); $_[KERNEL]->signal($_[KERNEL], 'BENCH') },
                });
        },
);

my $setup = $workloads{$workload} or die "bench.pl: unknown workload $workload\n";
$setup->();
POE::Kernel->run;
die "bench.pl: $workload finished $done of $n ops\n" unless $done == $n;
printf "workload=%s impl=poe n=%d seconds=%.6f rate=%.0f\n", $workload, $n, $t1 - $t0, $n / ($t1 - $t0);
