#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Runs the suricata-verify cases through `podwallctl inspect` and checks their alert filters.

Usage: run_verify.py PODWALLCTL TESTDATA_DIR [KNOWN_FAILURES] [-v]

For each directory holding a test.yaml: the test's rules run on its pcap with the options its
`args:` ask for; every `checks:` filter on `event_type: alert` must hold (the count of eve
records matching all the pinned fields podwall reports). Fields podwall does not report (payload,
tunnel, vlan, ...) are left out of the match. Output is TAP, one point per test; tests listed in
KNOWN_FAILURES are marked TODO with the reason given there. When the data is absent the
TAP plan says skip and the exit status is 0 (meson 1.0 counts 77 from a TAP test as an error).
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

import yaml

SUPPORTED = {
    'event_type', 'alert.signature_id', 'alert.gid', 'alert.rev', 'alert.signature',
    'alert.action', 'alert.severity', 'alert.category', 'src_ip', 'src_port', 'dest_ip',
    'dest_port', 'proto', 'app_proto', 'tx_id', 'http.hostname', 'http.url',
    'http.http_user_agent', 'http.http_method', 'http.protocol', 'tls.sni',
    'direction', 'ip_v',
}
# Suricata in IDS mode inspects stream data once the peer ACKs it, so its alerts land on a
# later packet than podwall's (which inspects data as it arrives, as an inline IPS must).
# pcap_cnt is therefore compared only for tests run inline (--simulate-ips, stream.inline),
# and http.status/length not at all (podwall alerts on a request before its response exists).
INLINE_ONLY = {'pcap_cnt'}


def lookup(rec, key):
    cur = rec
    for part in key.split('.'):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return None
    return cur


def flatten(prefix, v, out):
    if isinstance(v, dict):
        for k, x in v.items():
            flatten(prefix + '.' + k if prefix else k, x, out)
    else:
        out[prefix] = v


def is_inline(test):
    args = test.get('args') or []
    text = ' '.join(str(a) for a in args) if isinstance(args, list) else str(args)
    return '--simulate-ips' in text or 'stream.inline=true' in text


def options(test, d):
    opts = []
    args = test.get('args') or []
    if isinstance(args, str):
        args = [args]
    words = ' '.join(str(a) for a in args).split()
    for i, w in enumerate(words):
        if w == '--simulate-ips':
            opts.append('--simulate-ips')
        # podwall has one switch for both: a flow picked up without its handshake (or seen
        # from one side only) counts as established.
        if w == '--set' and i + 1 < len(words) and words[i + 1] in (
                'stream.midstream=true', 'stream.async-oneside=true') and '--midstream' not in opts:
            opts.append('--midstream')
    conf = os.path.join(d, 'suricata.yaml')
    if os.path.exists(conf):
        try:
            with open(conf) as f:
                text = ''.join(l for l in f if not l.startswith('%YAML') and
                               not l.startswith('include'))
            y = yaml.safe_load(text) or {}
            groups = ((y.get('vars') or {}).get('address-groups') or {})
            for k, v in groups.items():
                opts += ['--set', '%s=%s' % (k, v)]
            amax = y.get('packet-alert-max')
            if isinstance(amax, int):
                opts += ['--alerts-per-packet', str(amax)]
            order = y.get('action-order')
            if isinstance(order, list):
                opts += ['--action-order', ','.join(order)]
        except yaml.YAMLError:
            pass
    return opts


def run_test(ctl, d, classification, verbose):
    with open(os.path.join(d, 'test.yaml')) as f:
        test = yaml.safe_load(f) or {}
    checks = [c['filter'] for c in test.get('checks') or [] if isinstance(c, dict) and
              'filter' in c and (c['filter'].get('match') or {}).get('event_type') == 'alert']
    if not checks:
        return None, 'no alert checks'
    pcap = test.get('pcap')
    if pcap:
        pcap = os.path.normpath(os.path.join(d, pcap))
    else:
        pcaps = sorted(glob.glob(os.path.join(d, '*.pcap')))
        if len(pcaps) != 1:
            return False, 'no single pcap'
        pcap = pcaps[0]
    rules = test.get('rules')
    if isinstance(rules, str):
        rules = [os.path.join(d, rules)]
    else:
        rules = sorted(glob.glob(os.path.join(d, '*.rules')))
    with tempfile.TemporaryDirectory() as tmp:
        eve = os.path.join(tmp, 'eve.json')
        cmd = [ctl, 'inspect', '--pcap', pcap, '--eve', eve] + options(test, d)
        for r in rules:
            cmd += ['--rules', r]
        if classification:
            cmd += ['--classification', classification]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            return False, 'inspect failed: ' + p.stderr.strip()[-200:]
        recs = []
        with open(eve) as f:
            for line in f:
                recs.append(json.loads(line))
    fails = []
    for c in checks:
        flat = {}
        flatten('', c.get('match') or {}, flat)
        keys = {k: v for k, v in flat.items()
                if k in SUPPORTED or (k in INLINE_ONLY and is_inline(test))}
        n = sum(1 for r in recs if all(lookup(r, k) == v for k, v in keys.items()))
        want = c.get('count')
        if want is None:
            continue
        if n != want and verbose:
            for r in recs:
                bad = [k for k, v in keys.items() if lookup(r, k) != v]
                print('#   record sid %s pcap_cnt %s differs on %s' % (
                    r['alert']['signature_id'], r['pcap_cnt'],
                    ', '.join('%s=%r (want %r)' % (k, lookup(r, k), keys[k]) for k in bad)))
        if n != want:
            fails.append('sid %s: %d alerts, want %d' % (keys.get('alert.signature_id', 'any'),
                                                         n, want))
    return not fails, '; '.join(fails)


def main():
    argv = [a for a in sys.argv[1:] if a != '-v']
    verbose = '-v' in sys.argv
    ctl, data = argv[0], argv[1]
    known = {}
    if len(argv) > 2 and os.path.exists(argv[2]):
        with open(argv[2]) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith('#'):
                    name, _, why = line.partition(' ')
                    known[name] = why.strip()
    sv = os.path.join(data, 'suricata-verify')
    if not os.path.isdir(sv):
        print('1..0 # SKIP test data not found at %s' % sv)
        return 0
    classification = os.path.join(data, 'rules', 'classification.config')
    if not os.path.exists(classification):
        classification = None
    dirs = sorted(os.path.dirname(p) for p in
                  glob.glob(os.path.join(sv, '**', 'test.yaml'), recursive=True))
    results = []
    for d in dirs:
        name = os.path.relpath(d, sv)
        try:
            ok, why = run_test(ctl, d, classification, verbose)
        except (subprocess.TimeoutExpired, OSError, ValueError, yaml.YAMLError) as e:
            ok, why = False, str(e)
        if ok is None:
            continue
        results.append((name, ok, why))
    print('1..%d' % len(results))
    failed = 0
    for i, (name, ok, why) in enumerate(results, 1):
        if ok:
            print('ok %d %s' % (i, name))
            if name in known:
                print('# %s now passes: remove it from the known failures' % name)
        elif name in known:
            print('not ok %d %s # TODO %s (%s)' % (i, name, known[name], why))
        else:
            failed += 1
            print('not ok %d %s' % (i, name))
            print('# %s' % why)
    npass = sum(1 for r in results if r[1])
    print('# suricata-verify: %d of %d pass' % (npass, len(results)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
