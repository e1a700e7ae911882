#!/usr/bin/perl
# post-vs-call: call() dispatches at once and returns the handler's value
# (undef when there is no handler), and may re-enter the caller; posts and
# yields run later, in FIFO order, with SENDER and CALLER_STATE of the
# poster.  An alias is resolved when the post is made: an event posted
# before the alias is removed still arrives, a post after it fails with
# ESRCH (3), as does a post or call to an id that never existed.
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
# call()'s outcome: $! (call sets it to 0 on success) and the return value.
sub called { my $r = shift; 'rc=' . ($! + 0) . ' ret=' . show($r) }

my $b = POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->alias_set('bee'); return; },
        ev => sub {
                print $_[SESSION]->ID, " ev $_[ARG0] sender=", id_of($_[SENDER]),
                        " from=", (defined $_[CALLER_STATE] ? $_[CALLER_STATE] : ''), "\n";
                return;
        },
        ping => sub {
                my ($k, $n) = @_[KERNEL, ARG0];
                print $_[SESSION]->ID, " ping $n sender=", id_of($_[SENDER]), "\n";
                print $_[SESSION]->ID, " call reenter -> ",
                        called($k->call($_[SENDER], 'reenter', $n)), "\n";
                return "pong$n";
        },
        unalias => sub {
                print $_[SESSION]->ID, " alias_remove -> ",
                        $_[KERNEL]->alias_remove('bee'), "\n";
                return;
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});

POE::Session->create(inline_states => {
        _start => sub {
                my $k = $_[KERNEL];
                my $me = $_[SESSION]->ID;
                print "$me post bee 1 -> ", res($k->post('bee', 'ev', 1)), "\n";
                $k->yield('mine', 2);
                print "$me yield mine 2\n";
                print "$me post 1 3 -> ", res($k->post(1, 'ev', 3)), "\n";
                print "$me call ping -> ", called($k->call(1, 'ping', 4)), "\n";
                print "$me call nosuch -> ", called($k->call(1, 'nosuch', 5)), "\n";
                $k->call('bee', 'unalias');
                print "$me post bee 6 -> ", res($k->post('bee', 'ev', 6)), "\n";
                print "$me post 1 7 -> ", res($k->post(1, 'ev', 7)), "\n";
                print "$me post 99 -> ", res($k->post(99, 'ev', 8)), "\n";
                print "$me call 99 -> ", called($k->call(99, 'ev', 9)), "\n";
                print "$me _start ends\n";
                return;
        },
        mine => sub {
                print $_[SESSION]->ID, " mine $_[ARG0] sender=", id_of($_[SENDER]),
                        " from=$_[CALLER_STATE]\n";
                return;
        },
        reenter => sub {
                print $_[SESSION]->ID, " reenter $_[ARG0] sender=", id_of($_[SENDER]), "\n";
                return "back$_[ARG0]";
        },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});

print "main post 1 0 -> ", res($poe_kernel->post(1, 'ev', 0)), "\n";
POE::Kernel->run();
print "run returned\n";
