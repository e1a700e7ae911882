#!/usr/bin/perl
# no-start: a session without a _start state is discarded before it is
# registered (POE::Session's try_alloc): create() carps and returns
# undef, no id is used, and a parent never hears of it (no _child).
# The carp's " at FILE line N." and the double space left where POE
# would print the (undefined) id are normalized away.
use strict;
use warnings;
BEGIN {
        $SIG{__WARN__} = sub {
                my $m = shift;
                $m =~ s/^=== \d+ === //mg;
                $m =~ s/ at \S+ line \d+\.?\n\z/\n/;
                $m =~ s/session  -/session -/;
                print "warn: $m";
        };
}
use POE;
$| = 1;

my $s = POE::Session->create(inline_states => { other => sub { return; } });
print "outside: ", (defined $s ? "created " . $s->ID : "undef"), "\n";

POE::Session->create(inline_states => {
        _start => sub {
                print "parent ", $_[SESSION]->ID, " _start\n";
                my $c = POE::Session->create(inline_states => { _stop => sub { return; } });
                print "inside: ", (defined $c ? "created " . $c->ID : "undef"), "\n";
                my $d = POE::Session->create(inline_states => {
                        _start => sub { print "child ", $_[SESSION]->ID, " _start\n"; return; },
                });
                print "then: ", (defined $d ? "created " . $d->ID : "undef"), "\n";
                return;
        },
        _child => sub { print "parent _child $_[ARG0] ", $_[ARG1]->ID, "\n"; return; },
        _stop => sub { print "parent _stop\n"; return; },
});

POE::Kernel->run();
print "run returned\n";
