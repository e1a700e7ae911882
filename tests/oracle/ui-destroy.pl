#!/usr/bin/perl
# ui-destroy: what signal_ui_destroy does when the watched window goes.
# POE::Loop::Gtk (and the other GUI loops) raise UIDESTROY at the kernel
# then; UIDESTROY is nonmaskable, so every session is stopped, children
# first, even the ones whose watcher calls sig_handled, and events still
# queued for them are dropped.  Debian's POE has no GUI loop, so here
# signal() stands in for the window's end; the C side (ui-destroy.c)
# finalizes a real GObject watched with poe_kernel_signal_ui_destroy.
use strict;
use warnings;
use POE;
$| = 1;

my %common = (
        _stop => sub { print $_[SESSION]->ID, " _stop\n"; return; },
        on_ui => sub {
                print $_[SESSION]->ID, " on_ui $_[ARG0] (handled)\n";
                $_[KERNEL]->sig_handled();
                return;
        },
        later => sub { print $_[SESSION]->ID, " later\n"; return; },
);

POE::Session->create(inline_states => {
        %common,
        _start => sub {
                my $k = $_[KERNEL];
                $k->sig(UIDESTROY => 'on_ui');
                POE::Session->create(inline_states => {
                        %common,
                        _start => sub {
                                $_[KERNEL]->sig(UIDESTROY => 'on_ui');
                                $_[KERNEL]->delay(later => 3600);
                                return;
                        },
                });
                $k->delay(later => 3600);
                $k->yield('close_window');
                return;
        },
        close_window => sub {
                my $k = $_[KERNEL];
                print $_[SESSION]->ID, " close_window\n";
                $k->signal($k, 'UIDESTROY');
                $k->yield('later');
                return;
        },
});

POE::Kernel->run();
print "run returned\n";
