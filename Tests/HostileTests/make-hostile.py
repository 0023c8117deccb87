#!/usr/bin/env python3
"""Writes the hostile corpus Tests/HostileTests/Hostile/ deterministically.

Each file is a trace made to break a reader or a replay: damaged text, limits
exceeded by one, hostile zstd frames, table cycles and overlaps, addresses at
the edges of the address space, inputs built for quadratic time. What each
must give (exit status, error location and message) is in expected.tsv,
written by hand and checked by HostileTests and Fuzz/hostile-bench.sh.
"""
import os, struct, subprocess, sys

# --plain DIR: write every file uncompressed into DIR instead (for the
# time and memory measurement of Fuzz/hostile-bench.sh).
plain = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--plain" else None
out = plain or os.path.join(os.path.dirname(os.path.abspath(__file__)), "Hostile")
os.makedirs(out, exist_ok=True)
files = {}

def put(name, data):
    if isinstance(data, str):
        data = data.encode()
    files[name] = data

def zstd(data, *args):
    return subprocess.run(["zstd", "-q", "-c", *args], input=data, stdout=subprocess.PIPE, check=True).stdout

def raw_frame(window_log, payload, last=True):
    """A zstd frame by hand: no content size, window 2^window_log, one raw block."""
    fhd = 0x00  # no single segment, no checksum, no dictionary, no content size
    wd = (window_log - 10) << 3
    block = ((len(payload) << 3) | (1 if last else 0)).to_bytes(3, "little")
    return b"\x28\xb5\x2f\xfd" + bytes([fhd, wd]) + block + payload

LIVE = ("table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0\n"
        "init addr=0x10040 size=16 value=0x50000000000000041\n"
        "init addr=0x10050 size=8 value=0x200000\n")

# --- lines and keys -----------------------------------------------------------
put("line-16385-bytes.trace", "mark text=" + "a" * (16385 - 10) + "\n")
put("line-16384-bytes.trace", "mark text=" + "a" * (16384 - 10) + "\n")
put("line-1mb-no-newline.trace", "mark text=" + "b" * (1 << 20))
put("keys-33.trace", "wait " + " ".join(f"t={i}" for i in range(33)) + "\n")
put("keys-33-distinct-after-32.trace", "store addr=0x10 size=8 value=1 " + "x=1 " * 30 + "\n")
put("nul-bytes.trace", b"wait\n\x00\x00\x00\n")
put("invalid-utf8.trace", b"mark text=\xff\xfe\n")
put("cr-only.trace", b"wait\rwait\r")
put("crlf.trace", b"hitless-trace 1\r\nwait\r\n")
put("no-final-newline.trace", "hitless-trace 1\nwait")
put("header-version-2.trace", "hitless-trace 2\nwait\n")
put("header-late.trace", "wait\nhitless-trace 1\n")
put("only-comments.trace", "# nothing\n" * 1000)
put("empty.trace", "")
put("binary-garbage.trace", bytes((i * 131 + 7) & 0xff for i in range(4096)))
# A kernel trace of other tracers' lines and one of hitless's (without it,
# the file would not be kernel trace output and its first line an error).
put("foreign-lines-50k.txt", "  kworker-1 [000] d..1. 1.000000: sched_switch: prev=1\n" * 20000
    + "  insmod-1 [002] ..... 1.000001: f: hitless: wait\n")
put("kernel-time-overflow.txt", "  insmod-1 [002] ..... 99999999999.000000: f: hitless: wait\n")
put("kernel-bad-event.txt", "  insmod-1 [002] ..... 512.000120: f: hitless: stroe addr=1\n")
put("qi-submit-bad-descriptor.txt", "  insmod-1 [002] d..1. 512.000130: qi_submit: pc_inv dmar0: 0xzz 0x0 0x0 0x0\n")
put("qi-submit-unknown-type.txt", "  insmod-1 [002] d..1. 512.000130: qi_submit: pc_inv dmar0: 0x100050000000000ff 0x0 0x0 0x0\n")

# --- numbers ------------------------------------------------------------------
put("addr-65-bits.trace", "root addr=0x10000000000000000\n")
put("value-129-bits.trace", "store addr=0x10 size=16 value=0x100000000000000000000000000000000\n")
put("decimal-overflow.trace", "root addr=18446744073709551616\n")
put("size-0.trace", "store addr=0x10 size=0 value=0\n")
put("size-3.trace", "store addr=0x10 size=3 value=0\n")
put("value-wider-than-size.trace", "store addr=0x10 size=1 value=0x100\n")
put("sid-out-of-range.trace", "table addr=0x1000 kind=pasid sid=0x10000 pasid-base=0\n")
put("pasid-out-of-range.trace", "inval type=pasid gran=pasid did=1 pasid=0x100000\n")

# --- declared sizes and units -------------------------------------------------
put("count-2-63.trace", "table addr=0x1000 kind=generic count=9223372036854775808 entry=8 fetch=8 present-bit=0\n")
put("count-2-64-minus-1.trace", "table addr=0x1000 kind=generic count=0xffffffffffffffff entry=8 fetch=8 present-bit=0\n")
put("count-1048577.trace", "table addr=0x1000 kind=generic count=1048577 entry=8 fetch=8 present-bit=0\n")
put("count-0.trace", "table addr=0x1000 kind=generic count=0 entry=8 fetch=8 present-bit=0\n")
put("entry-128.trace", "table addr=0x1000 kind=generic count=1 entry=128 fetch=16 present-bit=0\n")
put("fetch-over-1mib.trace", "fetch addr=0x0 size=1048577\n")
put("flush-over-1mib.trace", "flush addr=0x0 size=1048577\n")
put("units-1025.trace", "".join(f"iommu id=u{i}\n" for i in range(1025)))
put("units-1024.trace", "".join(f"iommu id=u{i}\n" for i in range(1024)))

# --- zstd ---------------------------------------------------------------------
put("zstd-window-2-27.trace.zst", raw_frame(27, b"wait\n"))
put("zstd-window-2-31.trace.zst", raw_frame(31, b"wait\n"))
put("zstd-window-2-25.trace.zst", raw_frame(25, b"wait\n"))
put("zstd-truncated.trace.zst", zstd(("hitless-trace 1\n" + "wait\n" * 2000).encode())[:-7])
put("zstd-magic-only.trace.zst", b"\x28\xb5\x2f\xfd")
put("zstd-garbage-after-frame.trace.zst", zstd(b"wait\n") + b"garbage")
put("zstd-bad-block-type.trace.zst", b"\x28\xb5\x2f\xfd\x00\x78" + (0x07).to_bytes(3, "little"))
put("zstd-skippable-only.trace.zst", b"\x50\x2a\x4d\x18" + struct.pack("<I", 4) + b"abcd")
put("zstd-bomb-long-line.trace.zst", zstd(b"mark text=" + b"c" * (1 << 22) + b"\n"))
put("zstd-bomb-many-lines.trace.zst", zstd(b"wait\n" * (1 << 20)))
put("zstd-two-frames.trace.zst", zstd(b"hitless-trace 1\nwait\n") + zstd(b"fence kind=mb\n"))
put("zstd-bad-checksum.trace.zst", (lambda f: f[:-1] + bytes([f[-1] ^ 0xff]))(zstd(b"wait\nwait\n", "--check")))
# The damage is in the second frame: the error names where that frame starts.
put("zstd-second-frame-bad-checksum.trace.zst", zstd(b"hitless-trace 1\nwait\n")
    + (lambda f: f[:-1] + bytes([f[-1] ^ 0xff]))(zstd(b"fence kind=mb\n", "--check")))

# --- adversarial tables ---------------------------------------------------------
# Legacy mode: root entry 0 points at the root table itself.
put("cycle-context-to-root.trace",
    "root addr=0x1000 mode=legacy\n"
    "store addr=0x1000 size=8 value=0x1001\n"
    "store addr=0x1000 size=16 value=0x1001\n"
    "fetch addr=0x1000 size=16\n")
# Scalable mode: context entry -> PASID directory at the context table, whose
# entry 0 points at itself.
put("cycle-pasid-dir-self.trace",
    "root addr=0x1000\n"
    "init addr=0x2000 size=8 value=0x2001\n"
    "store addr=0x1000 size=8 value=0x2001\n"
    "store addr=0x2000 size=8 value=0x2001\n"
    "fetch addr=0x2000 size=64\n")
put("cycle-dir-to-root.trace",
    "root addr=0x1000\n"
    "init addr=0x2000 size=8 value=0x1001\n"
    "store addr=0x1000 size=8 value=0x2001\n"
    "store addr=0x1008 size=8 value=0x2001\n")
put("tables-overlapping.trace",
    "table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0\n"
    "table addr=0x10020 kind=pasid sid=00:03.0 pasid-base=0\n"
    "store addr=0x10040 size=8 value=0x41\n"
    "store addr=0x10048 size=8 value=0x5\n")
put("table-at-0.trace",
    "root addr=0x0\n"
    "table addr=0x0 kind=pasid sid=00:02.0 pasid-base=0\n"
    "store addr=0x0 size=8 value=0x1\n")
put("table-at-top.trace",
    "table addr=0xffffffffffffffc0 kind=pasid sid=00:02.0 pasid-base=0\n"
    "store addr=0xfffffffffffffff8 size=8 value=0x1\n")
put("table-no-whole-entry.trace",
    "table addr=0xfffffffffffffff8 kind=generic count=2 entry=16 fetch=16 present-bit=0\n")
put("root-at-top-page.trace",
    "root addr=0xfffffffffffff000\n"
    "store addr=0xfffffffffffffff8 size=8 value=0x1\n")
put("store-wraps-top.trace", "store addr=0xfffffffffffffffc size=8 value=0x1\n")
put("store-straddles-page.trace",
    "table addr=0xfc0 kind=pasid sid=00:02.0 pasid-base=0 count=2\n"
    "store addr=0xffc size=8 value=0x4100000000\n")
put("store-straddles-tables.trace",
    "table addr=0x10000 kind=pasid sid=00:02.0 pasid-base=0 count=1\n"
    "table addr=0x10040 kind=pasid sid=00:03.0 pasid-base=0 count=1\n"
    "store addr=0x10038 size=16 value=0x410000000000000000\n")
put("pdts-7-directory.trace",
    "root addr=0x1000\n"
    "init addr=0x2000 size=8 value=0x100e01\n"
    "store addr=0x1000 size=8 value=0x2001\n"
    "store addr=0x100000 size=8 value=0x200001\n")
# A context entry switched between a tiny and the largest PASID directory:
# each switch links and unlinks 16384 directory entries.
put("pdts-toggle.trace",
    "root addr=0x1000\n"
    "store addr=0x1000 size=8 value=0x2001\n"
    + "".join("store addr=0x2000 size=8 value=0x100e01\nstore addr=0x2000 size=8 value=0x100001\n" for _ in range(2000)))
# Many large declared tables: every store would look at each of them.
put("large-tables-many.trace",
    "".join(f"table addr={hex(0x100000000 + i * 0x1000000)} kind=generic count=1048576 entry=16 fetch=16 present-bit=0\n" for i in range(5000))
    + "store addr=0x10 size=8 value=1\n" * 5000)
# Fetches of 1 MiB over a table of 1 MiB one-byte... smallest entries.
put("fetch-many-entries.trace",
    "table addr=0x0 kind=generic count=1048576 entry=1 fetch=1 present-bit=0\n"
    + "fetch addr=0x0 size=1048576\n" * 8)
# Fetches of 4 KiB, each sweeping 4096 one-byte entries: the 17th passes the
# 65536 entries tracked.
put("fetch-sweep-entries.trace",
    "table addr=0x100000 kind=generic count=1048576 entry=1 fetch=1 present-bit=0\n"
    + "".join(f"fetch addr={hex(0x100000 + i * 4096)} size=4096\n" for i in range(17)))
# Stores to 28000 distinct one-byte entries (within the limit, 1 MB of text).
put("stores-many-entries.trace",
    "table addr=0x100000 kind=generic count=1048576 entry=1 fetch=1 present-bit=0\n"
    + "".join(f"store addr={hex(0x100000 + i)} size=1 value=1\n" for i in range(28000)))
# Stores to 27000 distinct pages of a non-coherent unit's memory (1 MB):
# each makes a page of CPU memory and one of the device's view.
put("stores-distinct-pages.trace",
    "iommu id=dmar0 coherent=0\n"
    + "".join(f"store addr={hex(0x100000000 + i * 0x1000)} size=8 value=1\n" for i in range(27000)))
# Live entries rewritten in place, 6000 of them in 1 MB: a torn window each,
# stopped past the 1000th finding.
put("findings-many.trace",
    "table addr=0x100000 kind=generic count=1048576 entry=16 fetch=8 present-bit=0\n"
    + "".join(f"init addr={hex(0x100000 + i * 16)} size=16 value=0x11000000000000001\nbegin addr={hex(0x100000 + i * 16)}\n"
              f"store addr={hex(0x100008 + i * 16)} size=8 value=0x2\nstore addr={hex(0x100000 + i * 16)} size=8 value=0x3\n"
              f"end addr={hex(0x100000 + i * 16)}\n" for i in range(6000)))
# 10000 tables over the same bytes, then stores to them: the first store
# touches more entries than one store may.
put("tables-stacked.trace",
    "".join(f"table addr=0x1000 kind=generic count={i + 1} entry=8 fetch=8 present-bit=0\n" for i in range(10000))
    + "store addr=0x1000 size=8 value=1\n" * 8000)
# 16 tables over the same bytes (the most one store may touch) and 27000
# stores to them.
put("tables-stacked-16.trace",
    "".join(f"table addr=0x1000 kind=generic count={i + 1} entry=8 fetch=8 present-bit=0\n" for i in range(16))
    + "".join(f"store addr=0x1000 size=8 value={i}\n" for i in range(27000)))
# 4096 one-byte tables on one page: every store looks at each.
put("tables-one-page-4096.trace",
    "".join(f"table addr={hex(0x1000 + i)} kind=generic count=1 entry=1 fetch=1 present-bit=0\n" for i in range(4096))
    + "store addr=0x1800 size=8 value=0\n" * 22000)
# Declared tables, 32000 of them, 1 MB of text.
put("tables-many.trace",
    "".join(f"table addr={hex(0x100000 + i * 0x1000)} kind=root\n" for i in range(32000)))
put("stores-one-chunk.trace", LIVE + "store addr=0x10040 size=1 value=0x40\n"
    + "".join(f"store addr={hex(0x10040 + (i % 16))} size=1 value={hex(i & 0xff)}\n" for i in range(40)))
# 8960 live PASID entries fetched and changed, all waiting for their
# invalidations, then 3000 requests for a PASID none has: each request must
# not visit every waiting entry (that took minutes). Global invalidations at
# the end cover them all: no finding.
def pending_entries(tables, requests):
    text = []
    for t in range(tables):
        base = 0x1000000 + t * 0x1000
        text.append(f"table addr={hex(base)} kind=pasid sid={t} pasid-base=0\n")
        text += [f"init addr={hex(base + i * 64)} size=16 value=0x50000000000000041\n" for i in range(64)]
        text.append(f"fetch addr={hex(base)} size=4096\n")
        text += [f"store addr={hex(base + i * 64 + 8)} size=8 value=0x6\n" for i in range(64)]
    return "".join(text) + "".join(requests)
GLOBAL = "inval type=pasid gran=global\ninval type=iotlb gran=global\nwait\n"
put("invalidations-unrelated.trace",
    pending_entries(140, ["inval type=pasid gran=pasid did=9 pasid=100\n"] * 3000 + [GLOBAL]))
# The same entries, and requests with their PASID but the wrong domain id:
# near misses, of which each entry keeps eight.
put("invalidations-near-miss.trace",
    pending_entries(140, [f"inval type=pasid gran=pasid did=9 pasid={i % 64}\n" for i in range(3000)] + [GLOBAL]))

# Files over 64 KiB are committed zstd-compressed (the reader takes either).
if not plain:
    for name in [n for n, d in files.items() if len(d) > 65536 and not n.endswith(".zst")]:
        files[name + ".zst"] = zstd(files.pop(name), "-19")
for name in os.listdir(out):
    if name not in files and name != "expected.tsv":
        os.remove(os.path.join(out, name))
for name, data in sorted(files.items()):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(len(files), "files,", sum(len(d) for d in files.values()), "bytes")
