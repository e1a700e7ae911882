#!/usr/bin/perl
# stale-id: once a session is gone its id names nothing: every call that
# takes a session fails with ESRCH (3), and ids are never reused (the next
# session gets a new one).
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
sub show { my $v = shift; defined $v ? $v : 'undef' }
sub called { my $r = shift; 'rc=' . ($! + 0) . ' ret=' . show($r) }
sub list_of {
        my $sid = shift;
        $! = 0;
        my @aliases = $poe_kernel->alias_list($sid);
        return 'err ' . ($! + 0) if $! + 0;
        return '[' . join(' ', @aliases) . ']';
}

POE::Session->create(inline_states => {
        _start => sub { return 'x'; },
        ping => sub { return 'pong'; },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});

POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->yield('step', 1); return; },
        step => sub {
                my ($k, $me, $n) = ($_[KERNEL], $_[SESSION]->ID, $_[ARG0]);
                print "$me step $n\n";
                print "$me ID_id_to_session 1 -> ", res($k->ID_id_to_session(1)), "\n";
                print "$me call 1 ping -> ", called($k->call(1, 'ping')), "\n";
                print "$me alias_list 1 -> ", list_of(1), "\n";
                if ($n == 1) {
                        $k->yield('step', 2);
                        return;
                }
                print "$me post 1 -> ", res($k->post(1, 'ping')), "\n";
                print "$me signal 1 -> ", res($k->signal(1, 'HUP')), "\n";
                print "$me refcount_increment 1 -> ", res($k->refcount_increment(1, 't')), "\n";
                print "$me refcount_decrement 1 -> ", res($k->refcount_decrement(1, 't')), "\n";
                print "$me detach_child 1 -> ", res($k->detach_child(1)), "\n";
                print "$me alias_resolve 1 -> ", id_of($k->alias_resolve('1')), "\n";
                my $new = POE::Session->create(inline_states => {
                        _start => sub { return; },
                        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
                });
                print "$me created ", $new->ID, "\n";
                return;
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});

POE::Kernel->run();
print "run returned\n";
