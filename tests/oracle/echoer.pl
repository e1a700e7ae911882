# examples/echoer.c in Perl: an aliased service answering call and post.
use strict; use POE; $| = 1;
POE::Session->create(inline_states => {
  _start => sub { $_[KERNEL]->alias_set("echoer"); print "server: listening as \"echoer\"\n" },
  echo => sub {
    my ($text, $reply_to) = @_[ARG0, ARG1];
    print "server: session ", $_[SENDER]->ID, " said \"$text\"\n";
    $_[KERNEL]->post($_[SENDER], $reply_to, "echo: $text") if defined $reply_to;
    return "echo: $text";
  },
  _stop => sub { print "server: stopped\n" },
});
POE::Session->create(inline_states => {
  _start => sub {
    my $r = $_[KERNEL]->call(echoer => echo => "hello");
    print "client: call returned \"$r\"\n";
    $_[KERNEL]->post(echoer => echo => "world", "echoed");
    print "client: posted \"world\"\n";
  },
  echoed => sub { print "client: the post came back as \"$_[ARG0]\"\n" },
  _stop => sub { print "client: stopped\n" },
});
POE::Kernel->run(); print "run() returned\n";
