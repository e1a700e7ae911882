#!/usr/bin/perl
# idle-handled: a session that handles IDLE (sig_handled) keeps everyone
# alive.  If its handler queues work, the kernel stays quiet and IDLE
# comes again once the work is done; if it queues nothing, the kernel
# follows up with ZOMBIE, which stops every session even when handled.
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
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
);

my $idles = 0;

POE::Session->create(inline_states => {
        %common,
        _start => sub {
                my $k = $_[KERNEL];
                $k->alias_set('watcher');
                $k->sig(IDLE => 'on_idle');
                POE::Session->create(inline_states => {
                        %common,
                        _start => sub {
                                $_[KERNEL]->alias_set('bystander');
                                $_[KERNEL]->sig(ZOMBIE => 'on_zombie');
                                return;
                        },
                        on_zombie => sub {
                                print $_[SESSION]->ID, " on_zombie $_[ARG0] events=",
                                        $_[KERNEL]->get_event_count(), "\n";
                                $_[KERNEL]->sig_handled();
                                return;
                        },
                });
                return;
        },
        on_idle => sub {
                my ($k, $me) = ($_[KERNEL], $_[SESSION]->ID);
                $idles++;
                print "$me on_idle $_[ARG0] #$idles\n";
                $k->sig_handled();
                $k->yield('work', $idles) if $idles <= 2;
                return;
        },
        work => sub { print $_[SESSION]->ID, " work $_[ARG0]\n"; return; },
});

POE::Kernel->run();
print "run returned\n";
