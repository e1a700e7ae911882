#!/usr/bin/perl
# extref-dec-unknown: under ASSERT_DATA, refcount_decrement of a tag the
# session does not hold is fatal (POE's _data_extref_dec traps), with
# "decrementing extref for session without any" when it holds no tag at
# all, else "decrementing extref for nonexistent tag ``TAG'' in
# SESSION"; decrementing a tag it holds is fine.  The C side runs each
# call in a forked child (an assertion aborts there) and reads its stderr.
use strict;
use warnings;
sub POE::Kernel::ASSERT_DATA () { 1 }
use POE;
$| = 1;

sub try {
        my ($label, $code) = @_;
        my $r = eval { $code->() };
        # POE writes two spaces between "in" and the session's name.
        my ($msg) = $@ =~ /(decrementing extref for (?:session without any|nonexistent tag ``[^']*'' in\s+session \d+))/;
        $msg =~ s/in\s+session/in session/ if defined $msg;
        print "$label: ", ($@ eq '' ? "lived: $r" : "died: " . ($msg // "other")), "\n";
}

POE::Session->create(inline_states => {
        _start => sub {
                my ($k, $id) = ($_[KERNEL], $_[SESSION]->ID);
                try('none held', sub { $k->refcount_decrement($id, 'nope') });
                $k->refcount_increment($id, 'held');
                $k->refcount_increment($id, 'held');
                try('other held', sub { $k->refcount_decrement($id, 'nope') });
                try('held', sub { $k->refcount_decrement($id, 'held') });
                try('held again', sub { $k->refcount_decrement($id, 'held') });
                try('none held again', sub { $k->refcount_decrement($id, 'held') });
                return;
        },
        _stop => sub { print "stopped\n"; return; },
});
POE::Kernel->run();
