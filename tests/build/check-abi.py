#!/usr/bin/env python3
"""The exported ABI of libpoe and libpoe-inspector against the last release's.

    check-abi.py ABI_DIR NAME=LIBRARY:HEADERDIR[:HEADERDIR...] ...
    check-abi.py --update ABI_DIR NAME=LIBRARY:HEADERDIR[:...] ...

ABI_DIR holds NAME.abi for each library: abidw's dump (libabigail's
abigail-tools) of the last release, its exported functions and the types
they reach that the public headers define (--headers-dir,
--drop-private-types: the opaque structs' insides are not ABI).  The check
dumps the built library the same way and runs abidiff: a removed or
changed function, a type whose size or layout changed, a changed soname
fail; functions added since the release (and enumerators added at an
enum's end, which libabigail counts harmless) are listed and pass.  A
release writes the new dumps with --update (`ninja -C build abi-update`);
README, "Versions and ABI", says when the soname changes.

A library built without debug info (-Dbuildtype=release) has only its
symbol table to compare: removed functions still fail, types are not
checked, and the check says so.
"""
import os
import subprocess
import sys
import tempfile

ABIDW = ['abidw', '--no-corpus-path', '--no-comp-dir-path', '--no-show-locs',
         '--no-elf-needed', '--drop-private-types']


def has_debug_info(lib):
        out = subprocess.run(['readelf', '-S', '-W', lib], capture_output=True, text=True,
                             check=True).stdout
        return '.debug_info' in out


def dump(lib, headers, out):
        cmd = ABIDW[:]
        for h in headers:
                cmd += ['--headers-dir', h]
        subprocess.run(cmd + ['--out-file', out, lib], check=True)


def main(argv):
        update = argv[:1] == ['--update']
        if update:
                argv = argv[1:]
        if len(argv) < 2:
                sys.exit(__doc__)
        abi_dir, specs = argv[0], argv[1:]
        status = 0
        for spec in specs:
                name, rest = spec.split('=', 1)
                lib, *headers = rest.split(':')
                ref = os.path.join(abi_dir, name + '.abi')
                if update:
                        if not has_debug_info(lib):
                                sys.exit('%s has no debug info: build with -g (the default '
                                         'debugoptimized) to write its ABI' % lib)
                        dump(lib, headers, ref)
                        print('%s: wrote %s' % (name, ref))
                        continue
                if not os.path.exists(ref):
                        print('%s: no %s: write it with `ninja -C BUILD abi-update`' % (name, ref),
                              file=sys.stderr)
                        status = 1
                        continue
                with tempfile.TemporaryDirectory() as tmp:
                        cur = os.path.join(tmp, name + '.abi')
                        dump(lib, headers, cur)
                        if not has_debug_info(lib):
                                print('%s: no debug info in %s: symbols compared, types not'
                                      % (name, lib))
                        # Everything that changed, additions included, for the log ...
                        full = subprocess.run(['abidiff', ref, cur], capture_output=True,
                                              text=True)
                        # ... and what fails: all but added functions and variables.
                        strict = subprocess.run(['abidiff', '--no-added-syms', ref, cur],
                                                capture_output=True, text=True)
                if full.returncode & 1 or strict.returncode & 1:
                        print('%s: abidiff failed:\n%s%s' % (name, full.stderr, strict.stderr),
                              file=sys.stderr)
                        status = 1
                elif strict.returncode != 0:
                        print('%s: the ABI changed incompatibly since the last release '
                              '(%s):\n%s' % (name, ref, strict.stdout), file=sys.stderr)
                        print('Either undo the change, or make it a release that breaks the '
                              'ABI: raise poe_soversion in meson.build, say so in NEWS and run '
                              '`ninja -C BUILD abi-update` (README: Versions and ABI).',
                              file=sys.stderr)
                        status = 1
                elif full.returncode != 0:
                        print('%s: compatible with the last release; added since:\n%s'
                              % (name, full.stdout))
                else:
                        print('%s: the same ABI as the last release' % name)
        return status


if __name__ == '__main__':
        sys.exit(main(sys.argv[1:]))
