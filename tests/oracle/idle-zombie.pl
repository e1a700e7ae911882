#!/usr/bin/perl
# idle-zombie: sessions kept alive only by aliases, with nothing queued:
# the kernel signals IDLE to every session.  IDLE is terminal: a watcher
# that does not call sig_handled sees it, and then every session the
# signal reached is stopped, deepest first, each _stop (sent by the
# kernel) followed by the parent's _child("lose").
use strict;
use warnings;
use POE;
$| = 1;

sub id_of {
        my $s = shift;
        return 'undef' unless defined $s;
        return 'K' if ref $s and $s->isa('POE::Kernel');
        return $s->ID;
}

my %common = (
        _child => sub {
                print $_[SESSION]->ID, " _child $_[ARG0] ", id_of($_[ARG1]), "\n"
                        unless $_[ARG0] eq 'create';
                return;
        },
        _stop => sub {
                print $_[SESSION]->ID, " _stop sender=", id_of($_[SENDER]), "\n";
                return;
        },
);

sub chain {
        my ($depth) = @_;
        POE::Session->create(inline_states => {
                %common,
                _start => sub {
                        my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                        $k->alias_set("a$me");
                        if ($depth < 3) {
                                chain($depth + 1);
                        }
                        else {
                                $k->sig(IDLE => 'on_idle');
                        }
                        return;
                },
                on_idle => sub {
                        print $_[SESSION]->ID, " on_idle $_[ARG0] sender=", id_of($_[SENDER]),
                                " events=", $_[KERNEL]->get_event_count(), "\n";
                        return;
                },
        });
}

chain(1);
print "main run\n";
POE::Kernel->run();
print "run returned\n";
