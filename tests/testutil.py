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
import shutil
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


def promtool_check(text):
    """Runs `promtool check metrics` (Prometheus' own linter of the text
    format) on the text of a /metrics scrape; every scrape a test makes
    goes through it.  A problem it finds ends the test with a failure
    (SystemExit, which no `except Exception` swallows), and so does a
    missing promtool: it is required (the prometheus package, in
    scripts/deps.sh), not a reason to skip."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    exe = shutil.which("promtool")
    if not exe:
        raise SystemExit("FAIL: promtool is required and was not found "
                         "(apt-get install prometheus; scripts/deps.sh)")
    r = subprocess.run([exe, "check", "metrics"], input=text.encode(), capture_output=True,
                       timeout=60)
    if r.returncode != 0:
        raise SystemExit("FAIL: promtool check metrics: %s\n--- the scrape ---\n%s"
                         % ((r.stdout + r.stderr).decode(errors="replace"), text[:4000]))
    return text
