#!/usr/bin/perl
# active-session: get_active_session and get_active_event name the session
# and event being dispatched (the kernel and nothing outside handlers),
# and are restored when a nested dispatch (create, call) returns.  A
# session that call()s itself is dispatched to directly: its handler sees
# STATE as the called event, but the active event stays the caller's.
# get_event_count counts queued events, the kernel's own included.
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
sub where {
        my ($label) = @_;
        my $ev = $poe_kernel->get_active_event();
        print "$label: active=", id_of($poe_kernel->get_active_session()),
                " event=", (defined $ev ? $ev : ''),
                " events=", $poe_kernel->get_event_count(), "\n";
}

POE::Session->create(inline_states => {
        _start => sub {
                my $k = $_[KERNEL];
                where('1 _start');
                POE::Session->create(inline_states => {
                        _start => sub { where('2 _start'); return; },
                        ask => sub { where("2 $_[STATE] from " . id_of($_[SENDER])); return; },
                        _stop => sub { where('2 _stop'); return; },
                });
                where('1 _start after create');
                $k->call(2, 'ask');
                where('1 _start after call 2');
                $k->call($_[SESSION], 'myself');
                where('1 _start after call self');
                $k->yield('later');
                where('1 _start after yield');
                return;
        },
        _child => sub { where("1 _child $_[ARG0]"); return; },
        myself => sub { where("1 $_[STATE]"); return; },
        later => sub { where('1 later'); return; },
        _stop => sub { where('1 _stop'); return; },
});

where('main');
POE::Kernel->run();
where('main after run');
