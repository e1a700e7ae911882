#!/usr/bin/perl
# retvals-unresolved: under ASSERT_RETVALS, a destination that names no
# session is not fatal: post, call, signal, detach_child and alias_list
# return false with $! ESRCH after a "<rv> session not resolved" warning
# (POE's _explain_resolve_failure only carps), and alias_resolve returns
# undef without a word.  The calls POE explains with _explain_return or
# _explain_usage stay fatal: alias_remove of an alias nobody has,
# refcount_increment of an id no session has.  Some failures POE returns
# without a word: alarm_remove, alarm_adjust and delay_adjust of an id
# the session has no timer for, detach_myself of a child of the kernel,
# detach_child of a session that is not a child.  The C side runs each call
# in a forked child and reads its stderr.
use strict;
use warnings;
use Errno qw(ESRCH EPERM);
sub POE::Kernel::ASSERT_RETVALS () { 1 }
use POE;
$| = 1;

POE::Kernel->run();

sub try {
        my ($label, $code) = @_;
        my @warn;
        local $SIG{__WARN__} = sub { push @warn, @_ };
        $! = 0;
        my $r = eval { $code->() };
        my $errno = $! == ESRCH ? "ESRCH" : $! == EPERM ? "EPERM" : "other";
        # These leave $! as it was (delay_adjust, alias_resolve) or set
        # it by accident (alarm_remove, alarm_adjust: ESRCH from a failed
        # lookup inside); libpoe returns -ESRCH for each.
        $errno = "-" if $label =~ /^(?:alias_resolve|alarm_remove|alarm_adjust|delay_adjust)$/;
        my $w = join("", @warn) =~ /<rv> session not resolved/ ? "warned"
            : @warn ? "other warning" : "quiet";
        print "$label: ",
            ($@ eq '' ? "lived, " . ($r ? "true" : "false") . ", $errno, $w" : "died"), "\n";
}

POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->alias_set('other'); return; },
        bye => sub { $_[KERNEL]->alias_remove('other'); return; },
        _stop => sub { return; },
});
POE::Session->create(inline_states => {
        _start => sub {
                my $k = $_[KERNEL];
                my $other = $k->alias_resolve('other');
                try('post', sub { $k->post(999 => 'x') });
                try('post alias', sub { $k->post(moo => 'x') });
                try('call', sub { $k->call(999 => 'x') });
                try('call alias', sub { $k->call(moo => 'x') });
                try('signal', sub { $k->signal(999 => 'USR1') });
                try('detach_child', sub { $k->detach_child(999) });
                try('alias_list', sub { my @l = $k->alias_list(999); scalar @l });
                try('alias_resolve', sub { $k->alias_resolve('moo') });
                try('alias_remove', sub { $k->alias_remove('moo') });
                try('refcount_increment', sub { $k->refcount_increment(999, 't') });
                try('alarm_remove', sub { $k->alarm_remove(999) });
                try('alarm_adjust', sub { $k->alarm_adjust(999, 1) });
                try('delay_adjust', sub { $k->delay_adjust(999, 1) });
                try('detach_myself', sub { $k->detach_myself() });
                try('detach_child not a child', sub { $k->detach_child($other) });
                $k->post($other, 'bye');
                return;
        },
        _stop => sub { print "stopped\n"; return; },
});
POE::Kernel->run();
