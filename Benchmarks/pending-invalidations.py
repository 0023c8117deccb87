#!/usr/bin/env python3
"""Writes a trace with many entries waiting for an invalidation and many
invalidations that concern none of them.

TABLES PASID tables of 64 entries each (default 200, so 12800 entries) are
declared, made present, fetched by the unit (so it may cache them) and
changed; then INVALS PASID-selective invalidations (default 4000) name
another PASID, so none covers anything and every entry keeps waiting. When
each invalidation visited every waiting entry, the work was TABLES * 64 *
INVALS: at the defaults (1.36 MB) `hitless analyze` ran for 231 s. The
invalidation index (Sources/Checks/InvalidationInterest.swift) makes the
invalidations that concern nothing cost nothing.

    python3 Benchmarks/pending-invalidations.py [TABLES [INVALS]] > pending.trace
    /usr/bin/time -f '%e s %M KiB' hitless analyze pending.trace
"""
import sys

tables = int(sys.argv[1]) if len(sys.argv) > 1 else 200
invals = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
base = 0x1000000
out = sys.stdout
for t in range(tables):
    out.write(f"table addr={hex(base + t * 0x1000)} kind=pasid sid={t} pasid-base=0\n")
for t in range(tables):
    for i in range(64):
        out.write(f"init addr={hex(base + t * 0x1000 + i * 64)} size=16 value=0x50000000000000041\n")
for t in range(tables):
    out.write(f"fetch addr={hex(base + t * 0x1000)} size=4096\n")
for t in range(tables):
    for i in range(64):
        out.write(f"store addr={hex(base + t * 0x1000 + i * 64 + 8)} size=8 value=0x6\n")
for _ in range(invals):
    out.write("inval type=pasid gran=pasid did=9 pasid=1\n")
