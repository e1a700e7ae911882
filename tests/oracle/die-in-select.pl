#!/usr/bin/perl
# die-in-select: a handler of an I/O round dies, and the round goes on.
# Two pipes are readable at once; each watcher's event is "rd", with the
# pipe's name as its argument (so the kernel copies the arguments).  Each
# handler reads its byte; the first to run dies, its watcher still in
# place; the second runs in the same round, and only once (the pipes do
# not block: a handler run twice would show), then drops its watcher.
# The DIE signal reaches the session after the round; its handler
# handles it, drops the watcher left and stops watching DIE: nothing is
# left, and the session stops.  Which pipe's handler runs first is the
# loop's business, so handlers are named by order, and the byte is
# checked against the argument.
use strict;
use warnings;
use POE;
use Fcntl;
$| = 1;

pipe(my $ra, my $wa) or die "pipe: $!";
pipe(my $rb, my $wb) or die "pipe: $!";
for my $fh ($ra, $rb) {
        fcntl($fh, F_SETFL, fcntl($fh, F_GETFL, 0) | O_NONBLOCK) or die "fcntl: $!";
}
syswrite($wa, "a") == 1 or die "write: $!";
syswrite($wb, "b") == 1 or die "write: $!";
my $n = 0;

sub id_of {
        my $s = shift;
        return 'undef' unless defined $s;
        return 'K' if ref $s and $s->isa('POE::Kernel');
        return $s->ID;
}

POE::Session->create(inline_states => {
        _start => sub {
                my $k = $_[KERNEL];
                $k->sig(DIE => 'on_die');
                $k->select_read($ra, 'rd', 'a');
                $k->select_read($rb, 'rd', 'b');
                return;
        },
        rd => sub {
                my ($k, $fh, $mode, $name) = @_[KERNEL, ARG0, ARG1, ARG2];
                my $buf = '';
                $n++;
                if (!defined sysread($fh, $buf, 1)) {
                        print "rd #$n read fails\n";
                        return;
                }
                print "rd #$n mode $mode byte ", ($buf eq $name ? 'matches' : "$buf != $name"),
                        " args ", scalar(@_) - ARG0, "\n";
                die "boom $n\n" if $n == 1;
                $k->select_read($fh);
                print "rd #$n returns\n";
                return;
        },
        on_die => sub {
                my ($k, $ex) = @_[KERNEL, ARG1];
                (my $err = $ex->{error_str}) =~ s/\n/\\n/g;
                print "on_die after $n reads: event=$ex->{event} dest=", id_of($ex->{dest_session}),
                        " source=", id_of($ex->{source_session}),
                        " from_state=", $ex->{from_state} // 'undef', " error=$err\n";
                $k->sig_handled();
                $k->select_read($_) for $ra, $rb;
                $k->sig('DIE');
                return;
        },
        _stop => sub { print "_stop\n"; return; },
});
POE::Kernel->run();
print "run returned\n";
