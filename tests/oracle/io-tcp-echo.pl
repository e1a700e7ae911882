#!/usr/bin/perl
# io-tcp-echo: a listener on 127.0.0.1, port 0, accepts one client; the
# client connects without blocking and watches for writability to learn
# that the connection is made; it sends two lines, the server echoes
# each, the client hangs up once both echoes are in, and the server sees
# end of file.  Each side logs what it sees; the logs are printed after
# run() returns, since the two sides' steps interleave differently from
# run to run.
use strict;
use warnings;
use POE;
use Socket;
use Errno qw(EINPROGRESS EAGAIN EWOULDBLOCK);
$| = 1;

my (@server, @client);
my $port;

POE::Session->create(inline_states => {
        _start => sub {
                socket(my $l, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
                bind($l, pack_sockaddr_in(0, inet_aton('127.0.0.1'))) or die "bind: $!";
                listen($l, 4) or die "listen: $!";
                ($port) = unpack_sockaddr_in(getsockname($l));
                $_[HEAP]{listener} = $l;
                $_[KERNEL]->select_read($l, 'accept');
                return;
        },
        accept => sub {
                my ($k, $h) = @_[KERNEL, HEAP];
                accept(my $s, $h->{listener}) or return;
                push @server, 'accepted';
                $k->select_read($h->{listener});
                close delete $h->{listener};
                $h->{conn} = $s;
                $h->{buf} = '';
                $k->select_read($s, 'read');
                return;
        },
        read => sub {
                my ($k, $h) = @_[KERNEL, HEAP];
                my $n = sysread($h->{conn}, $h->{buf}, 4096, length $h->{buf});
                return if !defined $n and ($! == EAGAIN or $! == EWOULDBLOCK);
                die "sysread: $!" unless defined $n;
                if ($n == 0) {
                        push @server, 'eof';
                        $k->select_read($h->{conn});
                        close delete $h->{conn};
                        return;
                }
                while ($h->{buf} =~ s/^(.*)\n//) {
                        push @server, "got $1";
                        syswrite($h->{conn}, "echo: $1\n");
                }
                return;
        },
        _stop => sub { push @server, '_stop'; return; },
});

POE::Session->create(inline_states => {
        _start => sub {
                socket(my $c, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
                $c->blocking(0);
                connect($c, pack_sockaddr_in($port, inet_aton('127.0.0.1')))
                        or $! == EINPROGRESS or die "connect: $!";
                $_[HEAP]{sock} = $c;
                $_[HEAP]{buf} = '';
                $_[KERNEL]->select_write($c, 'connected');
                return;
        },
        connected => sub {
                my ($k, $h) = @_[KERNEL, HEAP];
                my $err = unpack('i', getsockopt($h->{sock}, SOL_SOCKET, SO_ERROR));
                push @client, "connected, error $err, mode $_[ARG1]";
                $k->select_write($h->{sock});
                syswrite($h->{sock}, "hello\nworld\n");
                $k->select_read($h->{sock}, 'read');
                return;
        },
        read => sub {
                my ($k, $h) = @_[KERNEL, HEAP];
                my $n = sysread($h->{sock}, $h->{buf}, 4096, length $h->{buf});
                return if !defined $n and ($! == EAGAIN or $! == EWOULDBLOCK);
                die "sysread: $!" unless $n;
                while ($h->{buf} =~ s/^(.*)\n//) {
                        push @client, "got $1";
                        $h->{lines}++;
                }
                if (($h->{lines} || 0) == 2) {
                        push @client, 'hang up';
                        $k->select_read($h->{sock});
                        close delete $h->{sock};
                }
                return;
        },
        _stop => sub { push @client, '_stop'; return; },
});

POE::Kernel->run();
print "server: $_\n" foreach @server;
print "client: $_\n" foreach @client;
print "run returned\n";
