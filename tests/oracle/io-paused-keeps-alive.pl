#!/usr/bin/perl
# io-paused-keeps-alive: a paused watcher still keeps its session alive,
# and data that arrives while it is paused is reported once it resumes.
# R reads "one", pauses and tells W; W writes "two" (R hears nothing for
# the next 0.1 s, with nothing but its paused watcher to live for), then
# asks R to resume; R reads "two" and unwatches.  select_pause_read and
# select_resume_read return 1 for a watched handle, 0 for one nobody
# watches.
use strict;
use warnings;
use POE;
$| = 1;

pipe(my $r, my $w) or die "pipe: $!";
pipe(my $other, my $other_w) or die "pipe: $!";

POE::Session->create(inline_states => {
        _start => sub {
                $_[KERNEL]->alias_set('W');
                $_[KERNEL]->delay(w1 => 0.02);
                return;
        },
        w1 => sub { syswrite($w, "one\n"); print "W wrote one\n"; return; },
        paused => sub {
                syswrite($w, "two\n");
                print "W wrote two\n";
                $_[HEAP]{reader} = $_[SENDER]->ID;
                $_[KERNEL]->delay(wake => 0.1);
                return;
        },
        wake => sub {
                print "W asks R to resume\n";
                $_[KERNEL]->post($_[HEAP]{reader}, 'resume');
                $_[KERNEL]->alias_remove('W');
                return;
        },
        _stop => sub { print "W _stop\n"; return; },
});

POE::Session->create(inline_states => {
        _start => sub {
                $_[KERNEL]->select_read($r, 'got');
                return;
        },
        got => sub {
                my $k = $_[KERNEL];
                sysread($r, my $buf, 100);
                chomp $buf;
                print "R got $buf\n";
                if ($buf eq 'one') {
                        print "R pause -> ", $k->select_pause_read($r), "\n";
                        print "R pause unwatched -> ", $k->select_pause_read($other), "\n";
                        $k->post('W', 'paused');
                        return;
                }
                $k->select_read($r);
                return;
        },
        resume => sub {
                print "R resume -> ", $_[KERNEL]->select_resume_read($r), "\n";
                return;
        },
        _stop => sub { print "R _stop\n"; return; },
});

POE::Kernel->run();
print "run returned\n";
