#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Counts TAP test points across meson test logs and prints one closing line.

Each meson test is a TAP program; its test points ("ok N", "not ok N", "# SKIP")
are what we count. A "not ok ... # TODO" point is a known failure, which TAP
does not count as failed: it is reported on its own line and counted with the
skipped ones. A test program that crashed, timed out or printed no TAP counts
as one failure (or one skip for exit 77 without a plan).
"""
import json
import re
import sys

OK = re.compile(r"^ok \d+")
NOT_OK = re.compile(r"^not ok \d+")
SKIP_ALL = re.compile(r"^1\.\.0\b.*#\s*SKIP", re.I)
SKIP = re.compile(r"#\s*SKIP", re.I)
TODO = re.compile(r"#\s*TODO", re.I)


def count(log):
    passed = failed = skipped = todo = 0
    with open(log) as f:
        for line in f:
            t = json.loads(line)
            res, out = t.get("result", ""), t.get("stdout") or ""
            p = fl = s = td = 0
            for l in out.splitlines():
                if NOT_OK.match(l):
                    if TODO.search(l):
                        td += 1
                    else:
                        fl += 1
                elif OK.match(l):
                    if SKIP.search(l):
                        s += 1
                    else:
                        p += 1
                elif SKIP_ALL.match(l):
                    s += 1
            if res in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS") and fl == 0:
                fl = 1  # died without saying which point failed
            if res == "SKIP" and p + fl + s + td == 0:
                s = 1
            passed, failed, skipped, todo = passed + p, failed + fl, skipped + s, todo + td
            if fl:
                print(f"  FAILED: {t.get('name')} ({res})", file=sys.stderr)
    return passed, failed, skipped, todo


total = [0, 0, 0, 0]
for log in sys.argv[1:]:
    p, f, s, td = count(log)
    print(f"{log}: {p} passed, {f} failed, {s} skipped, {td} known failures (TODO)")
    total = [total[0] + p, total[1] + f, total[2] + s, total[3] + td]
if total[3]:
    print(f"{total[3]} known failures (TAP TODO) are counted as skipped")
print(f"{total[0]} passed, {total[1]} failed, {total[2] + total[3]} skipped")
sys.exit(1 if total[1] else 0)
