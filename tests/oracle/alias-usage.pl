#!/usr/bin/perl
# alias-usage: under ASSERT_USAGE, setting an alias another session
# holds, removing another session's alias and removing an alias nobody
# has are fatal (POE's _explain_usage), with POE's messages; setting an
# alias the session already holds is fine.  The C side runs each call
# in a forked child (an assertion aborts there) and reads its stderr.
use strict;
use warnings;
sub POE::Kernel::ASSERT_USAGE () { 1 }
use POE;
$| = 1;

sub try {
        my ($label, $code) = @_;
        eval { $code->() };
        my ($msg) = $@ =~ /(alias '[^']*' (?:is in use by another session|does not belong to current session|does not exist))/;
        print "$label: ", ($@ eq '' ? "lived" : "died: " . ($msg // "other")), "\n";
}

POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->alias_set('moo'); return; },
        _stop => sub { return; },
});
POE::Session->create(inline_states => {
        _start => sub {
                my $k = $_[KERNEL];
                $k->alias_set('mine');
                try('set own again', sub { $k->alias_set('mine') });
                try('set in use', sub { $k->alias_set('moo') });
                try('remove another', sub { $k->alias_remove('moo') });
                try('remove nonexistent', sub { $k->alias_remove('narf') });
                try('remove own', sub { $k->alias_remove('mine') });
                $k->alias_set('mine');
                return;
        },
        _stop => sub { return; },
});
POE::Kernel->stop();
print "stopped\n";
