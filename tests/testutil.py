"""What every Python test runner shares: starting our programs under
POE_TEST_WRAPPER, and waiting long enough when it is set.

meson's 'valgrind' setup sets POE_TEST_WRAPPER to a valgrind command
line (see the top meson.build); a runner starts each of our programs
under it, so memcheck checks the C program and not the Python driving
it.  Under the wrapper a program runs tens of times slower, so every
deadline a runner waits for is multiplied by SLOW.  valgrind ends a
program that had an error or a definite leak with exit status 99
(--error-exitcode), AddressSanitizer aborts it (SIGABRT): a runner that
stops a program must check its exit status, and status() says which
happened.

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    import testutil
"""
import os
import signal
import subprocess

WRAPPER = os.environ.get("POE_TEST_WRAPPER", "").split()

# How much longer to wait under the wrapper.  valgrind memcheck runs the
# kernel's dispatch loop about thirty times slower, but the deadlines
# here wait for a condition, so they only need to cover the slowest run.
# POE_TEST_SLOW (the sanitize setup sets 3) scales them too: ASan on a
# busy machine is slower than the deadlines a plain build needs.
SLOW = max(10 if WRAPPER else 1, int(os.environ.get("POE_TEST_SLOW", "1") or 1))

# valgrind's --error-exitcode in the setup.
VALGRIND_EXIT = 99


def wrapped(argv):
    """argv with POE_TEST_WRAPPER in front of it, when one is set."""
    return WRAPPER + [str(a) for a in argv]


def popen(argv, **kw):
    """subprocess.Popen of one of our programs, under the wrapper."""
    return subprocess.Popen(wrapped(argv), **kw)


def run(argv, timeout, **kw):
    """subprocess.run of one of our programs, under the wrapper, with the
    timeout scaled by SLOW."""
    return subprocess.run(wrapped(argv), timeout=timeout * SLOW, **kw)


def status(rc):
    """The exit status rc in words, naming a memcheck or sanitizer
    report, for a check's detail."""
    if rc == VALGRIND_EXIT and WRAPPER:
        return "exit 99: valgrind reported errors or leaks (see stderr)"
    if rc is not None and rc < 0:
        name = signal.Signals(-rc).name
        if rc == -signal.SIGABRT:
            return "killed by SIGABRT: a sanitizer report or an assertion (see stderr)"
        return "killed by " + name
    return "exit %s" % rc
