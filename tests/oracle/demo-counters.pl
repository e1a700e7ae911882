use strict; use POE; $| = 1;
POE::Session->create(inline_states => {
  _start => sub { $_[KERNEL]->alias_set("echo"); $_[KERNEL]->sig(IDLE => "idle"); },
  shout => sub { return "$_[ARG0]!" },
  _stop => sub { print "echo has stopped.\n" },
  idle => sub { print "echo: the kernel is idle; nothing left to do.\n" },
});
for (1..3) {
POE::Session->create(inline_states => {
  _start => sub { $_[HEAP]{count} = 0; print "session ", $_[SESSION]->ID, " has started.\n"; $_[KERNEL]->yield("count"); },
  count => sub { my $n = ++$_[HEAP]{count}; print "session ", $_[SESSION]->ID, " has counted to $n.\n";
     if ($n < 10) { $_[KERNEL]->yield("count"); return }
     my $r = $_[KERNEL]->call(echo => shout => "done"); print "session ", $_[SESSION]->ID, " heard back: $r\n"; },
  _stop => sub { print "session ", $_[SESSION]->ID, " has stopped.\n" },
});
}
POE::Kernel->run(); print "run() returned: every session has stopped.\n";
