#!/usr/bin/perl
# die-handled: a die in a handler becomes the DIE signal, with POE's
# fields, delivered to the dying session's descendants, the session,
# then its ancestors.  Here C (child of P) dies three times; both watch
# DIE and P handles it, so nobody stops:
#  1. boom0 posted from outside run(): the kernel is the source, there
#     is no from_state, and the message gets " at FILE line N.";
#  2. boom1 posted by P from its step handler: P and "step";
#  3. boom2 called by P: call() returns nothing, the DIE is queued, and
#     a message ending in a newline is kept as it is.
# File names and lines are compared with where things happened, never
# printed.
use strict;
use warnings;
use POE;
$| = 1;

my ($die_line, $post_line) = (0, 0);

sub id_of {
        my $s = shift;
        return 'undef' unless defined $s;
        return 'K' if ref $s and $s->isa('POE::Kernel');
        return $s->ID;
}

sub err_text {
        my ($e) = @_;
        if ($e =~ /\A(.*) at (\S+) line (\d+)\.\n\z/s) {
                return "$1 at " . ($2 eq __FILE__ ? 'FILE' : $2) . ' line '
                        . ($3 == $die_line ? 'N' : $3) . '.\n';
        }
        $e =~ s/\n/\\n/g;
        return $e;
}

my $step = 0;

my %common = (
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
        on_die => sub {
                my ($k, $me, $ex) = ($_[KERNEL], $_[SESSION]->ID, $_[ARG1]);
                print "$me on_die $_[ARG0] event=$ex->{event} dest=", id_of($ex->{dest_session}),
                        " source=", id_of($ex->{source_session}),
                        " from_state=", $ex->{from_state} // 'undef',
                        " file=", ($ex->{file} eq __FILE__ ? 'ok' : $ex->{file}),
                        " line=", ($ex->{line} == $post_line ? 'ok' : $ex->{line}),
                        " error=", err_text($ex->{error_str}), "\n";
                if ($me == 1) {
                        $k->sig_handled();
                        $k->yield('step');
                }
                return;
        },
);

POE::Session->create(inline_states => {
        %common,
        _start => sub {
                my $k = $_[KERNEL];
                $k->alias_set('P');
                $k->sig(DIE => 'on_die');
                POE::Session->create(inline_states => {
                        %common,
                        _start => sub {
                                $_[KERNEL]->alias_set('C');
                                $_[KERNEL]->sig(DIE => 'on_die');
                                return;
                        },
                        boom0 => sub { print "boom0\n"; $die_line = __LINE__; die "oops 42"; },
                        boom1 => sub { print "boom1\n"; $die_line = __LINE__; die "oops 43"; },
                        boom2 => sub { print "boom2\n"; die "plain\n"; },
                        bye => sub {
                                $_[KERNEL]->alias_remove('C');
                                $_[KERNEL]->sig('DIE');
                                return;
                        },
                });
                return;
        },
        step => sub {
                my $k = $_[KERNEL];
                $step++;
                print "step $step\n";
                if ($step == 1) {
                        $post_line = __LINE__; $k->post('C', 'boom1');
                } elsif ($step == 2) {
                        $post_line = __LINE__; my $r = $k->call('C', 'boom2');
                        print "call returned ", (defined $r ? $r : 'undef'), "\n";
                } else {
                        $k->post('C', 'bye');
                        $k->alias_remove('P');
                        $k->sig('DIE');
                }
                return;
        },
});

$post_line = __LINE__; $poe_kernel->post('C', 'boom0');
POE::Kernel->run();
print "run returned\n";
