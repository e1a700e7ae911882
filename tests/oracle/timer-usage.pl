#!/usr/bin/perl
# timer-usage: under ASSERT_USAGE, the timer calls die inside a session
# when given an undefined event name, an undefined time (alarm_add,
# delay_add, alarm_set, delay_set) or an undefined alarm id
# (alarm_remove, alarm_adjust, delay_adjust), as POE's own test
# t/10_units/03_base/11_assert_usage.t checks; alarm and delay with an
# undefined time only clear and live.  Each death is printed by what
# the message names.  The C side runs each call in a forked child (an
# assertion aborts there): NULL is undef for names, NaN for times, id 0
# (no timer has it) for ids.
use strict;
use warnings;
sub POE::Kernel::ASSERT_USAGE () { 1 }
use POE;
$| = 1;

sub try {
        my ($label, $code) = @_;
        eval { $code->() };
        my $what = $@ eq '' ? "lived"
                : $@ =~ /event name is undefined|undefined event name/ ? "died: undefined event name"
                : $@ =~ /undefined (?:time|seconds) in/ ? "died: undefined time"
                : $@ =~ /undefined (?:alarm|delay) id in/ ? "died: undefined id"
                : "died: other";
        print "$label: $what\n";
}

POE::Session->create(inline_states => {
        _start => sub {
                my $k = $_[KERNEL];
                try('alarm undef name', sub { $k->alarm(undef) });
                try('alarm undef time', sub { $k->alarm(moo => undef) });
                try('alarm_add undef name', sub { $k->alarm_add(undef, 1) });
                try('alarm_add undef time', sub { $k->alarm_add(moo => undef) });
                try('delay undef name', sub { $k->delay(undef) });
                try('delay undef time', sub { $k->delay(moo => undef) });
                try('delay_add undef name', sub { $k->delay_add(undef, 1) });
                try('delay_add undef time', sub { $k->delay_add(moo => undef) });
                try('alarm_set undef name', sub { $k->alarm_set(undef, 1) });
                try('alarm_set undef time', sub { $k->alarm_set(moo => undef) });
                try('delay_set undef name', sub { $k->delay_set(undef, 1) });
                try('delay_set undef time', sub { $k->delay_set(moo => undef) });
                try('alarm_remove undef id', sub { $k->alarm_remove(undef) });
                try('alarm_adjust undef id', sub { $k->alarm_adjust(undef, 1) });
                try('delay_adjust undef id', sub { $k->delay_adjust(undef, 1) });
                try('alarm_remove unknown id', sub { $k->alarm_remove(999) });
                return;
        },
        _stop => sub { return; },
});
POE::Kernel->stop();
print "stopped\n";
