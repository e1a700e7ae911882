#!/usr/bin/env python3
"""Generates docs/api.md from the public headers' comments.

    tools/gen-api-doc.py                 writes docs/api.md
    tools/gen-api-doc.py -o OUT          writes OUT instead
    tools/gen-api-doc.py -o OUT --check docs/api.md
                                         writes OUT, then fails if it differs
                                         from the committed file (the
                                         'api-doc' meson test)

For every POE_EXPORT function, public type and macro of the public
headers (HEADERS: poe/poe.h, poe/version.h as meson configures it from
the project's version, poe/inspector.h, the loop adapters'), the page
shows the declaration and the comment right before it, grouped under the
header's section banners.  Comments standing alone (a blank line after
them) are section prose.  Python 3 standard library only.
"""
import argparse
import difflib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The public headers only.  inspector/tracelog-include/poe/tracelog.h, the
# trace log library's, is internal (its top comment says why): not here.
HEADERS = ['kernel/include/poe/poe.h', 'kernel/include/poe/version.h.in',
           'inspector/include/poe/inspector.h',
           'loops/include/poe/poe-glib.h', 'loops/include/poe/poe-uv.h',
           'loops/include/poe/poe-ev.h']

# Code blocks that are header plumbing, not API.
NOISE = re.compile(r'^(#ifndef POE_\w+_H|#include|#ifdef __cplusplus|#if\b|#endif|'
                   r'#else|extern "C"|\})')
BANNER = re.compile(r'^/\* -{10,} \*/$')
SUBSECTION = re.compile(r'^/\* -+ (.*?) -+ \*/$')


def blocks(lines):
        """Splits a header into ('comment', lines) and ('code', lines) blocks,
        and ('blank',) between them.  A comment starts at column 0; code runs
        until a blank line or a column-0 comment outside braces."""
        out, i, n = [], 0, len(lines)
        while i < n:
                line = lines[i]
                if not line.strip():
                        out.append(('blank', []))
                        i += 1
                elif line.startswith('/*'):
                        j = i
                        while '*/' not in lines[j]:
                                j += 1
                        out.append(('comment', lines[i:j + 1]))
                        i = j + 1
                else:
                        j, depth = i, 0
                        while j < n:
                                l = lines[j]
                                if j > i and depth == 0 and (not l.strip() or l.startswith('/*')):
                                        break
                                # extern "C" { ... } spans the header: not a body.
                                if not l.startswith('#') and not l.startswith('extern'):
                                        depth = max(0, depth + l.count('{') - l.count('}'))
                                j += 1
                        out.append(('code', lines[i:j]))
                        i = j
        return out


def comment_text(lines):
        """The text of a comment, without its markers."""
        text = []
        for l in lines:
                l = l.strip()
                l = re.sub(r'^/\*\*?', '', l)
                l = re.sub(r'\*/$', '', l)
                l = re.sub(r'^\* ?', '', l.strip()) if l.strip().startswith('*') else l
                text.append(l.rstrip() if not l.startswith(' ') else l.strip())
        while text and not text[0]:
                text.pop(0)
        while text and not text[-1]:
                text.pop()
        return '\n'.join(text)


def names(code):
        """The names a code block declares, in order."""
        found = []
        text = '\n'.join(code)
        for m in re.finditer(r'POE_EXPORT[^(;]*?\b(\w+)\s*\(|^#define\s+(\w+)|'
                             r'^\}\s*(\w+)\s*;|^typedef\s+[^{;(]*?(\w+)\s*;|'
                             r'^typedef[^{;]*?\(\*\s*(\w+)\)|^(enum\s+\w+)\s*\{',
                             text, re.M):
                name = next(g for g in m.groups() if g)
                if name not in found:
                        found.append(name)
        # Anonymous enums: named by their first constant.
        for m in re.finditer(r'^enum\s*\{\s*(\w+)', text, re.M):
                found.insert(0, 'enum { %s, ... }' % m.group(1))
        return found


def project_version(root):
        """meson.build's project version."""
        with open(os.path.join(root, 'meson.build')) as f:
                m = re.search(r"^\s*version\s*:\s*'([^']+)'", f.read(), re.M)
        return m.group(1)


def header_lines(root, h):
        """A header's lines; a .in template (poe/version.h) configured as
        meson does, from the project's version."""
        with open(os.path.join(root, h)) as f:
                text = f.read()
        if h.endswith('.in'):
                v = project_version(root)
                major, minor, patch = v.split('.')
                for k, x in (('POE_VERSION_MAJOR', major), ('POE_VERSION_MINOR', minor),
                             ('POE_VERSION_PATCH', patch), ('POE_VERSION', v)):
                        text = text.replace('@%s@' % k, x)
        return text.split('\n')


def shown_name(h):
        """The name a program includes a header by: poe/poe.h."""
        shown = h.split('include/', 1)[1]
        return shown[:-3] if shown.endswith('.in') else shown


def document(lines, shown):
        out = ['## `<%s>`' % shown, '']
        bs = blocks(lines)
        i = 0
        while i < len(bs):
                kind, body = bs[i]
                nxt = bs[i + 1] if i + 1 < len(bs) else ('blank', [])
                if kind == 'comment' and BANNER.match(body[0].strip()):
                        # A banner: dashes, "/* Title */", dashes.
                        title = comment_text(bs[i + 1][1]) if i + 1 < len(bs) else ''
                        out += ['### ' + title, '']
                        i += 3
                        continue
                if kind == 'comment' and len(body) == 1 and SUBSECTION.match(body[0].strip()):
                        out += ['#### ' + SUBSECTION.match(body[0].strip()).group(1), '']
                elif kind == 'comment' and nxt[0] == 'code' and not NOISE.match(nxt[1][0]):
                        out += code_item(nxt[1], comment_text(body))
                        i += 2
                        continue
                elif kind == 'comment':
                        out += [comment_text(body), '']
                elif kind == 'code' and not NOISE.match(body[0]):
                        out += code_item(body, '')
                i += 1
        return out


def code_item(code, text):
        out = ['#### ' + ', '.join('`%s`' % n for n in names(code)), '', '```c']
        out += code
        out += ['```', '']
        if text:
                out += [text, '']
        return out


def generate(root):
        out = ['# libpoe API reference', '',
               '<!-- Generated by tools/gen-api-doc.py from the public headers; do not edit.',
               '     The api-doc test fails when this file and the headers disagree. -->', '',
               'Every exported function, type and macro, with the comment the header gives it.',
               '`docs/coming-from-perl.md` maps POE\'s methods to these names.', '']
        for h in HEADERS:
                out += document(header_lines(root, h), shown_name(h))
        while out and not out[-1]:
                out.pop()
        return '\n'.join(out) + '\n'


def main():
        ap = argparse.ArgumentParser(description='Generates docs/api.md from the headers.')
        ap.add_argument('-o', '--output', default=os.path.join(ROOT, 'docs', 'api.md'))
        ap.add_argument('--check', metavar='COMMITTED',
                        help='fail if the output differs from this file')
        ap.add_argument('--root', default=ROOT, help='the source tree (default: this script\'s)')
        args = ap.parse_args()
        text = generate(args.root)
        with open(args.output, 'w') as f:
                f.write(text)
        if args.check:
                with open(args.check) as f:
                        old = f.read()
                if old != text:
                        sys.stdout.writelines(difflib.unified_diff(
                                old.splitlines(True), text.splitlines(True),
                                args.check, args.output))
                        print('FAIL: %s is out of date with the headers: run tools/gen-api-doc.py '
                              'and commit docs/api.md' % args.check)
                        return 1
                print('PASS: %s matches the headers' % args.check)
        return 0


if __name__ == '__main__':
        sys.exit(main())
