#!/usr/bin/env python3
"""Writes the seed corpus Fuzz/corpus/{reader,analyze}/ deterministically.

Seeds: every sample of Samples/ as it is and in its other form (zstd ones
decompressed, text ones compressed), every multi-line trace literal of the
tests (the Checks tests' fragments with their live PASID entry in front),
and a few hand-written kernel, qi_submit and multi-frame zstd inputs. Run
again after adding samples or tests; the names are content hashes, so
re-running adds only what is new.
"""
import hashlib, os, re, subprocess, sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = {t: os.path.join(root, "Fuzz", "corpus", t) for t in ("reader", "analyze")}
for d in out.values():
    os.makedirs(d, exist_ok=True)

def zstd(data, *args):
    return subprocess.run(["zstd", "-q", "-c", *args], input=data, stdout=subprocess.PIPE, check=True).stdout

def unzstd(data):
    return subprocess.run(["zstd", "-q", "-d", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout

seeds = []  # (bytes, analyze too)
samples = os.path.join(root, "Samples")
for name in sorted(os.listdir(samples)):
    if name.endswith((".md", ".py")):
        continue
    data = open(os.path.join(samples, name), "rb").read()
    if data[:4] == b"\x28\xb5\x2f\xfd":
        seeds += [(data, True), (unzstd(data), True)]
    else:
        seeds += [(data, True), (zstd(data), True)]

live = b"table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0\n" \
       b"init addr=0x10040 size=16 value=0x50000000000000041\n" \
       b"init addr=0x10050 size=8 value=0x200000\n"
tests = os.path.join(root, "Tests")
literal = re.compile(r'"""\n(.*?)\n\s*"""', re.S)
for dirpath, _, files in sorted(os.walk(tests)):
    for f in sorted(files):
        if not f.endswith(".swift"):
            continue
        src = open(os.path.join(dirpath, f), encoding="utf-8").read()
        for m in literal.finditer(src):
            lines = m.group(1).split("\n")
            indent = min((len(l) - len(l.lstrip(" ")) for l in lines if l.strip()), default=0)
            text = "\n".join(l[indent:] for l in lines) + "\n"
            if "\\(" in text:  # interpolated: not a trace on its own
                continue
            data = text.encode()
            seeds.append((data, True))
            if "ChecksTests" in dirpath and not data.startswith(b"table") and b"store" in data:
                seeds.append((live + data, True))

seeds += [
    (b"hitless-trace 1\n", False),
    (b"", False),
    (b"  insmod-1234 [002] d..1. 512.000130: qi_submit: pc_inv dmar0: 0x100050017 0x0 0x0 0x0\n", True),
    (b"  insmod-1234 [002] d..1. 512.000140: qi_submit: p_iotlb_inv dmar1: 0x100050026 0x0 0x0 0x0\n", True),
    (b"  insmod-1234 [002] .... 512.000120: f: hitless: store addr=0x10040 size=8 value=0x41\n", True),
    (b"root addr=0x0\nstore addr=0xfffffffffffffff8 size=8 value=1\n", True),
    (zstd(b"hitless-trace 1\nwait\n") + zstd(b"fence kind=mb\n"), True),
]

count = {t: 0 for t in out}
for data, both in seeds:
    h = hashlib.sha1(data).hexdigest()[:16]
    for t in out:
        if t == "analyze" and not both:
            continue
        path = os.path.join(out[t], h)
        if not os.path.exists(path):
            open(path, "wb").write(data)
        count[t] += 1
print({t: len(os.listdir(d)) for t, d in out.items()})
