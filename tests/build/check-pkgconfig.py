#!/usr/bin/env python3
"""The README's examples, built as a user builds them: with pkg-config.

    check-pkgconfig.py SOURCE_ROOT BUILD_ROOT MESON 'CC ...' [CFLAG ...]

The README's kernel example (under "The API at a glance") and inspector
example ("The inspector") are taken from the README itself and made into
programs: the lines up to the last closing brace at column 0 stay at top
level, the rest is main's body; the inspector's body takes the place of
the kernel example's poe_kernel_run(k), on port 0 instead of 8080.  Each
is compiled with `pkg-config --cflags --libs` and run, and must print
"hello, world" (the inspector's also its address):

 1. against the build tree, through meson-uninstalled/ (libpoe and
    libpoe-inspector must give their own headers there);
 2. against `meson install --destdir` of this build, with
    PKG_CONFIG_SYSROOT_DIR: dynamically, then statically (libpoe.a,
    libpoe-inspector.a, with `pkg-config --static`), the static programs
    needing no libpoe*.so at run time.

It also checks what the .pc files promise: libpoe-inspector's users link
libpoe but not libmicrohttpd, jansson or sqlite3 (Requires.private) unless
static, and the installed tree holds poe-demo in libexec/libpoe/, not in
bin/, and the man pages.  Extra arguments are compiler flags for the build's sanitizers.
"""
import glob
import os
import re
import shlex
import subprocess
import sys
import tempfile

src, build, meson, cc = sys.argv[1], sys.argv[2], sys.argv[3], shlex.split(sys.argv[4])
extra = sys.argv[5:]
CFLAGS = ['-std=c11', '-Wall', '-Werror'] + extra
failures = []


def fail(msg):
        print('FAIL: ' + msg, file=sys.stderr)
        failures.append(msg)


def readme_block(text, heading):
        """The first ```c block after a heading."""
        at = text.index('\n' + heading + '\n')
        m = re.search(r'^```c\n(.*?)^```', text[at:], re.M | re.S)
        return m.group(1).rstrip('\n').split('\n')


def split_block(lines):
        """(#include lines, top-level lines, body lines)."""
        incl = [l for l in lines if l.startswith('#include')]
        rest = [l for l in lines if not l.startswith('#include')]
        last = max([i for i, l in enumerate(rest) if l == '}'], default=-1)
        return incl, rest[:last + 1], rest[last + 1:]


def programs():
        with open(os.path.join(src, 'README.md')) as f:
                text = f.read()
        k_incl, k_top, k_body = split_block(readme_block(text, '## The API at a glance'))
        i_incl, i_top, i_body = split_block(readme_block(text, '## The inspector'))
        head = ['#include <stdio.h>', '#include <poe/poe.h>']
        kernel = head + k_incl + k_top + ['int main(void)', '{'] + k_body + ['return 0;', '}']
        runs = [i for i, l in enumerate(k_body) if l.startswith('poe_kernel_run(k);')]
        if len(runs) != 1 or not any('127.0.0.1:8080' in l for l in i_body):
                sys.exit('the README examples changed shape: one poe_kernel_run(k); in the '
                         'kernel example, the inspector on 127.0.0.1:8080 (update %s)' % __file__)
        body = [l.replace('127.0.0.1:8080', '127.0.0.1:0') for l in i_body]
        insp_body = k_body[:runs[0]] + body + k_body[runs[0] + 1:]
        inspector = (head + k_incl + i_incl + k_top + i_top + ['int main(void)', '{'] +
                     insp_body + ['return 0;', '}'])
        return {'libpoe': '\n'.join(kernel) + '\n', 'libpoe-inspector': '\n'.join(inspector) + '\n'}


def pkgconfig(env, *args):
        r = subprocess.run(['pkg-config'] + list(args), env=env, capture_output=True, text=True)
        if r.returncode != 0:
                raise RuntimeError('pkg-config %s: %s' % (' '.join(args), r.stderr.strip()))
        return shlex.split(r.stdout)


def build_and_run(what, module, source, env, tmp, static=False, libdirs=None):
        path = os.path.join(tmp, module + '.c')
        with open(path, 'w') as f:
                f.write(source)
        exe = os.path.join(tmp, '%s-%s%s' % (module, what.replace(' ', '-'), '-static' * static))
        try:
                cflags = pkgconfig(env, '--cflags', module)
                libs = pkgconfig(env, '--libs', *(['--static'] if static else []), module)
        except RuntimeError as e:
                fail('%s, %s: %s' % (what, module, e))
                return
        if static:
                # Our own libraries from their .a, the system's as usual.
                libs = ['-l:lib%s.a' % l[2:] if l in ('-lpoe', '-lpoe-inspector') else l
                        for l in libs]
        cmd = cc + CFLAGS + [path, '-o', exe] + cflags + libs
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
                fail('%s, %s: compiling failed:\n  %s\n%s' % (what, module, shlex.join(cmd),
                                                               r.stderr))
                return
        run_env = dict(os.environ)
        dirs = libdirs if libdirs is not None else [l[2:] for l in libs if l.startswith('-L')]
        run_env['LD_LIBRARY_PATH'] = ':'.join(dirs)
        needed = subprocess.run(['readelf', '-d', exe], capture_output=True, text=True).stdout
        ours = re.findall(r'\[(libpoe[^\]]*)\]', needed)
        if static and ours:
                fail('%s, %s static: still needs %s' % (what, module, ours))
        if not static:
                ldd = subprocess.run(['ldd', exe], env=run_env, capture_output=True,
                                     text=True).stdout
                for lib in ours:
                        m = re.search(re.escape(lib) + r' => (\S+)', ldd)
                        if not m or not any(m.group(1).startswith(d) for d in dirs):
                                fail('%s, %s: %s resolves to %s, not in %s' % (
                                        what, module, lib, m and m.group(1), dirs))
        r = subprocess.run([exe], env=run_env, cwd=tmp, capture_output=True, text=True,
                           timeout=60)
        ok = r.returncode == 0 and r.stdout == 'hello, world\n'
        if module == 'libpoe-inspector':
                ok = ok and 'poe-inspector: http://127.0.0.1:' in r.stderr
        if not ok:
                fail('%s, %s%s: exit %d, stdout %r, stderr %r' % (
                        what, module, ' static' * static, r.returncode, r.stdout, r.stderr))
        else:
                print('ok: %s, %s%s' % (what, module, ' (static)' * static))


def check_flags(what, env):
        libs = pkgconfig(env, '--libs', 'libpoe-inspector')
        static = pkgconfig(env, '--static', '--libs', 'libpoe-inspector')
        for lib in ('-lmicrohttpd', '-ljansson', '-lsqlite3'):
                if lib in libs:
                        fail('%s: pkg-config --libs libpoe-inspector gives %s (Requires, not '
                             'Requires.private)' % (what, lib))
                if lib not in static:
                        fail('%s: pkg-config --static --libs libpoe-inspector lacks %s'
                             % (what, lib))
        if '-lpoe' not in libs:
                fail('%s: pkg-config --libs libpoe-inspector lacks -lpoe' % what)


def main():
        progs = programs()
        with tempfile.TemporaryDirectory(prefix='poe-pkgconfig-') as tmp:
                # 1. The build tree.
                env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(build, 'meson-uninstalled'))
                env.pop('PKG_CONFIG_SYSROOT_DIR', None)
                check_flags('build tree', env)
                for module, source in progs.items():
                        build_and_run('build tree', module, source, env, tmp)

                # 2. An installed tree.
                root = os.path.join(tmp, 'root')
                r = subprocess.run([meson, 'install', '-C', build, '--no-rebuild', '--quiet',
                                    '--destdir', root], capture_output=True, text=True)
                if r.returncode != 0:
                        sys.exit('meson install --destdir failed:\n' + r.stdout + r.stderr)
                pcs = glob.glob(os.path.join(root, '**', 'pkgconfig', 'libpoe.pc'),
                                recursive=True)
                if len(pcs) != 1:
                        sys.exit('meson install put libpoe.pc in %d places: %s' % (len(pcs), pcs))
                pcdir = os.path.dirname(pcs[0])
                libdir = os.path.dirname(pcdir)
                prefix = root + pkgconfig(dict(os.environ, PKG_CONFIG_PATH=pcdir),
                                          '--variable=prefix', 'libpoe')[0]
                system = subprocess.run(['pkg-config', '--variable', 'pc_path', 'pkg-config'],
                                        capture_output=True, text=True).stdout.strip()
                env = dict(os.environ, PKG_CONFIG_LIBDIR=pcdir + ':' + system,
                           PKG_CONFIG_SYSROOT_DIR=root)
                env.pop('PKG_CONFIG_PATH', None)
                check_flags('installed', env)
                for lib in ('libpoe.a', 'libpoe-inspector.a', 'libpoe.so.1',
                            'libpoe-inspector.so.1'):
                        if not os.path.exists(os.path.join(libdir, lib)):
                                fail('installed: no %s in %s' % (lib, libdir))
                demo = os.path.join(prefix, 'libexec', 'libpoe', 'poe-demo')
                if not os.access(demo, os.X_OK):
                        fail('installed: no %s' % demo)
                if os.path.exists(os.path.join(prefix, 'bin', 'poe-demo')):
                        fail('installed: poe-demo in bin/ (it is an example: libexec/libpoe/)')
                for page in ('man1/poe-trace.1', 'man3/libpoe.3', 'man3/libpoe-inspector.3'):
                        if not os.path.exists(os.path.join(prefix, 'share', 'man', page)):
                                fail('installed: no share/man/%s' % page)
                for module, source in progs.items():
                        build_and_run('installed', module, source, env, tmp, libdirs=[libdir])
                        build_and_run('installed', module, source, env, tmp, static=True,
                                      libdirs=[])
        if failures:
                return 1
        print('PASS: the README examples build and run against the build tree and an '
              'installed one, shared and static')
        return 0


if __name__ == '__main__':
        sys.exit(main())
