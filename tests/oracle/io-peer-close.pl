#!/usr/bin/perl
# io-peer-close: the peer writes; once the reader has read that and said
# so, the peer writes again and closes its end.  The reader reads what
# is there each time it is told its socket is readable (sysread until
# it would block); end of file reads as 0 bytes, and the reader then
# unwatches and closes, which ends it.
use strict;
use warnings;
use POE;
use Socket;
use Errno qw(EAGAIN EWOULDBLOCK);
$| = 1;

socketpair(my $x, my $y, AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die "socketpair: $!";

POE::Session->create(inline_states => {
        _start => sub { $_[KERNEL]->select_read($x, 'rd'); return; },
        rd => sub {
                while (1) {
                        my $n = sysread($x, my $buf, 100);
                        if (!defined $n) {
                                die "sysread: $!" unless $! == EAGAIN or $! == EWOULDBLOCK;
                                return;
                        }
                        if ($n == 0) {
                                print "R eof\n";
                                $_[KERNEL]->select_read($x);
                                close $x;
                                return;
                        }
                        print "R data $buf\n";
                        $_[KERNEL]->post('W', 'more') if $buf eq 'abc';
                }
        },
        _stop => sub { print "R _stop\n"; return; },
});

POE::Session->create(inline_states => {
        _start => sub {
                $_[KERNEL]->alias_set('W');
                $_[KERNEL]->delay(w1 => 0.02);
                return;
        },
        w1 => sub { syswrite($y, "abc"); print "W wrote abc\n"; return; },
        more => sub {
                syswrite($y, "de");
                close $y;
                print "W wrote de and closed\n";
                $_[KERNEL]->alias_remove('W');
                return;
        },
        _stop => sub { print "W _stop\n"; return; },
});

POE::Kernel->run();
print "run returned\n";
