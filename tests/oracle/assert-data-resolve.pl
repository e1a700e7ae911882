#!/usr/bin/perl
# assert-data-resolve: under ASSERT_DATA, a destination that names no
# session is fatal in post, call, signal and detach_child (POE's
# _explain_resolve_failure traps); alias_resolve stays non-fatal, and
# a destination that resolves is fine.  Each fatal call's message is
# printed from its "Cannot resolve" phrase on (POE's trap wraps it in a
# stack trace; libpoe's abort prints it on stderr, read by the C side
# from a forked child).
use strict;
use warnings;
sub POE::Kernel::ASSERT_DATA () { 1 }
use POE;
$| = 1;

POE::Kernel->run();

sub try {
        my ($label, $code) = @_;
        eval { $code->() };
        my ($msg) = $@ =~ /(Cannot resolve ``[^']*'' into a session reference)/;
        print "$label: ", ($@ eq '' ? "lived" : "died: " . ($msg // "other: $@")), "\n";
}

try('post alias', sub { $poe_kernel->post(moo => 'bar') });
try('post id', sub { $poe_kernel->post(999 => 'bar') });
try('call alias', sub { $poe_kernel->call(moo => 'bar') });
try('call id', sub { $poe_kernel->call(999 => 'bar') });
try('signal id', sub { $poe_kernel->signal(999 => 'USR1') });
try('detach_child id', sub { $poe_kernel->detach_child(999) });
try('alias_resolve', sub {
        my $s = $poe_kernel->alias_resolve('moo');
        print "alias_resolve: ", (defined $s ? "found" : "undef"), "\n";
});

POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->alias_set('here'); return; },
        bar => sub { print "bar reached\n"; $_[KERNEL]->alias_remove('here'); return; },
});
try('post to a session', sub { $poe_kernel->post(here => 'bar') });
POE::Kernel->run();
