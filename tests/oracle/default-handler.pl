#!/usr/bin/perl
# default-handler: an event without a handler goes to _default, with the
# event name in ARG0 and its arguments in an array in ARG1; call() returns
# what _default returned.  That includes POE's own events: a session with
# _default and no _stop gets _default("_stop", []), one without _child
# gets _default("_child", [create, child, ret]).  A session with
# neither handler nor _default drops the event (call returns undef).
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
sub show { my $v = shift; defined $v ? $v : 'undef' }
sub item { my $v = shift; ref $v ? id_of($v) : show($v) }
sub called { my $r = shift; 'rc=' . ($! + 0) . ' ret=' . show($r) }

POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->alias_set('plain'); return; },
        known => sub { print $_[SESSION]->ID, " known $_[ARG0]\n"; return 'k'; },
        bye => sub { $_[KERNEL]->alias_remove('plain'); return; },
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
});

POE::Session->create(inline_states => {
        _start => sub {
                my $k = $_[KERNEL];
                my $me = $_[SESSION]->ID;
                $k->yield('known', 'x');
                $k->yield('unknown', 'a', 'b', 'c');
                $k->yield('empty');
                $k->post(1, 'unknown', 'lost');
                POE::Session->create(inline_states => { _start => sub { return 'kid' } });
                print "$me call mystery -> ", called($k->call($me, 'mystery', 7, 8)), "\n";
                print "$me call 1 nothing -> ", called($k->call(1, 'nothing', 9)), "\n";
                print "$me call 1 known -> ", called($k->call(1, 'known', 10)), "\n";
                return;
        },
        known => sub { print $_[SESSION]->ID, " known $_[ARG0]\n"; return; },
        finish => sub { $_[KERNEL]->post(1, 'bye'); return; },
        _default => sub {
                my ($k, $event, $args) = @_[KERNEL, ARG0, ARG1];
                print $_[SESSION]->ID, " _default $event [", join(' ', map { item($_) } @$args),
                        "] state=$_[STATE]",
                        " sender=", id_of($_[SENDER]), "\n";
                $k->yield('finish') if $event eq 'empty';
                return "d-$event";
        },
});

POE::Kernel->run();
print "run returned\n";
