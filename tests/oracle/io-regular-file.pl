#!/usr/bin/perl
# io-regular-file: a regular file can be watched (POE's own
# t/20_resources/00_base/filehandles.pm watches its script) and is
# always ready, for reading and for writing: each watcher fires until it
# is removed, and the session then stops.  The C side watches its own
# executable.
use strict;
use warnings;
use POE;
$| = 1;

my ($reads, $writes) = (0, 0);
POE::Session->create(inline_states => {
        _start => sub {
                open my $fh, '<', $0 or die "open: $!";
                $_[HEAP]{fh} = $fh;
                # select_read and select_write return 0; a refusal dies.
                $_[KERNEL]->select_read($fh, 'rd');
                print "watch read: ok\n";
                $_[KERNEL]->select_write($fh, 'wr');
                print "watch write: ok\n";
                return;
        },
        rd => sub {
                $_[KERNEL]->select_read($_[ARG0]) if ++$reads == 3;
                return;
        },
        wr => sub {
                $_[KERNEL]->select_write($_[ARG0]) if ++$writes == 3;
                return;
        },
        _stop => sub { print "stopped after $reads reads, $writes writes\n"; return; },
});
POE::Kernel->run();
