#!/usr/bin/perl
# select-closed-fd: under ASSERT_USAGE, every select_* call on a closed
# filehandle is fatal with POE's "invalid filehandle in NAME()", a
# removal or a pause included; an open one is fine.  The C side runs
# each call in a forked child (an assertion aborts there) and reads its
# stderr.
use strict;
use warnings;
sub POE::Kernel::ASSERT_USAGE () { 1 }
use POE;
$| = 1;

sub try {
        my ($label, $code) = @_;
        eval { $code->() };
        my ($msg) = $@ =~ /(invalid filehandle in \w+\(\))/;
        print "$label: ", ($@ eq '' ? "lived" : "died: " . ($msg // "other")), "\n";
}

POE::Session->create(inline_states => {
        _start => sub {
                my $k = $_[KERNEL];
                pipe(my $closed, my $w) or die "pipe: $!";
                close $closed;
                close $w;
                try('select_read add', sub { $k->select_read($closed, 'ev') });
                try('select_read remove', sub { $k->select_read($closed) });
                try('select_write remove', sub { $k->select_write($closed) });
                try('select_expedite remove', sub { $k->select_expedite($closed) });
                try('select', sub { $k->select($closed) });
                try('select_pause_read', sub { $k->select_pause_read($closed) });
                try('select_resume_read', sub { $k->select_resume_read($closed) });
                try('select_pause_write', sub { $k->select_pause_write($closed) });
                try('select_resume_write', sub { $k->select_resume_write($closed) });
                pipe(my $r, my $w2) or die "pipe: $!";
                try('open select_read remove', sub { $k->select_read($r) });
                return;
        },
        _stop => sub { print "stopped\n"; return; },
});
POE::Kernel->run();
