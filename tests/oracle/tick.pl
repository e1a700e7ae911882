# The POE::Kernel synopsis (examples/tick.c), stopping after 3 ticks
# 0.05 seconds apart.
use strict; use POE; $| = 1;
POE::Session->create(inline_states => {
  _start => sub { $_[KERNEL]->yield("next") },
  next => sub {
    my $n = ++$_[HEAP]{ticks};
    print "tick $n...\n";
    $_[KERNEL]->delay(next => 0.05) if $n < 3;
  },
  _stop => sub { print "stopped after $_[HEAP]{ticks} ticks.\n" },
});
POE::Kernel->run();
