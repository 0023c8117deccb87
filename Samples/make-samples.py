#!/usr/bin/env python3
"""Writes the race samples of Samples/ (zstd-compressed traces).

Each sample models the order of stores, barriers, flushes and invalidations
of a Linux VT-d driver path (drivers/iommu/intel/pasid.c, iommu.c), before or
after "iommu/vt-d: Ensure atomicity in context and PASID entry updates"
(2026). Run from the repository root: python3 Samples/make-samples.py
"""
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))

# Scalable-mode tables of dmar0: root -> sm-context (lower half of bus 0)
# -> PASID directory -> PASID table. Device 00:02.0 (sid 0x10), PASID 1.
ROOT, CTX, PDIR, PTBL = 0x100000, 0x101000, 0x102000, 0x103000
DEVFN = 0x10
PASID = 1
PTE = PTBL + PASID * 64                      # the PASID entry, val[0..7]
CTX_ENTRY = CTX + DEVFN * 32

# A first-stage PASID entry (pasid.h: P bit 0, PGTT 8:6 = 1, DID val[1]
# 15:0, FLPTPTR val[2] 63:12).
OLD = [0x41, 0x5, 0x200000, 0, 0, 0, 0, 0]  # DID 5, page table at 0x200000
NEW = [0x41, 0x6, 0x400000, 0, 0, 0, 0, 0]  # DID 6, page table at 0x400000


def header(title, unit="iommu id=dmar0 coherent=1", ats=False):
    lines = ["hitless-trace 1"] + ["# " + t for t in title.strip().splitlines()] + [unit]
    lines.append(f"init addr={ROOT:#x} size=16 value={CTX | 1:#x}")
    # sm-context lo: P, PASIDE (bit 3), DTE (bit 2) when the device uses ATS,
    # PDTS 0 (128-entry directory), PASID directory pointer.
    lo = PDIR | 0x9 | (0x4 if ats else 0)
    lines.append(f"init addr={CTX_ENTRY:#x} size=16 value={lo:#x}")
    lines.append(f"init addr={PDIR:#x} size=8 value={PTBL | 1:#x}")
    for i, w in enumerate(OLD):
        if w:
            lines.append(f"init addr={PTE + 8 * i:#x} size=8 value={w:#x}")
    lines.append(f"root addr={ROOT:#x} mode=scalable unit=dmar0 t=1000")
    return lines


class Trace:
    def __init__(self, lines):
        self.lines = lines
        self.t = 1000

    def ev(self, text, cpu=2, at=None, unit=False):
        self.t += 10
        extra = f" t={self.t} cpu={cpu}"
        if unit:
            extra += " unit=dmar0"
        if at:
            extra += f" at={at}"
        self.lines.append(text + extra)

    def store(self, word, value, at, base=PTE):
        self.ev(f"store addr={base + 8 * word:#x} size=8 value={value:#x}", at=at)

    def fence(self, kind, at):
        self.ev(f"fence kind={kind}", at=at)

    def inval(self, spec, at):
        # qi_submit_sync() appends a wait descriptor and spins on it.
        self.ev(f"inval {spec}", at=at, unit=True)
        self.ev("wait", at="qi_submit_sync+0x2f4", unit=True)

    def flush(self, addr, at):
        self.ev(f"flush addr={addr:#x} size=64 kind=clflush", at=at)

    def fetch(self, addr, size, value):
        self.ev(f"fetch addr={addr:#x} size={size} value={value:#x}", cpu=0, unit=True)


def pasid_invalidations(tr, did, fn):
    tr.inval(f"type=pasid gran=pasid did={did} pasid={PASID}", f"{fn}+0x9c")
    tr.inval(f"type=piotlb gran=pasid did={did} pasid={PASID}", f"{fn}+0xc8")


def clear_entry(tr, value):
    # pasid_clear_entry(): WRITE_ONCE(pe->val[i], 0) for i = 0..7.
    for i in range(8):
        if value[i]:
            tr.store(i, 0, "pasid_clear_entry+0x14")
            value[i] = 0


def setup_first_level(tr, new, barrier="dma_wmb"):
    # intel_pasid_setup_first_level(): pasid_clear_entry, field setters (one
    # read-modify-write 64-bit store each), then pasid_set_present last.
    tr.store(1, new[1], "pasid_set_domain_id+0x1c")
    tr.store(2, new[2], "pasid_set_flptr+0x20")
    tr.store(0, new[0] & ~1, "pasid_set_translation_type+0x18")
    if barrier:
        tr.fence(barrier, "pasid_set_present+0x8")
    tr.store(0, new[0], "pasid_set_present+0x10")


def pasid_teardown_before():
    tr = Trace(header("""
PASID teardown before the 2026 fix (intel_pasid_tear_down_entry): the live
entry is zeroed word by word (pasid_clear_entry), and only then are the
PASID cache and the PASID-based IOTLB invalidated with the old DID 5."""))
    value = OLD[:]
    clear_entry(tr, value)
    pasid_invalidations(tr, 5, "intel_pasid_tear_down_entry")
    return tr.lines


def pasid_teardown_after():
    tr = Trace(header("""
PASID teardown after the 2026 fix: Present is cleared alone
(pasid_clear_present: val[0] &= ~P; dma_wmb()), the caches are invalidated
with the old DID 5 and waited for, and only then is the entry zeroed."""))
    tr.store(0, OLD[0] & ~1, "pasid_clear_present+0xc")
    tr.fence("dma_wmb", "pasid_clear_present+0x10")
    pasid_invalidations(tr, 5, "intel_pasid_tear_down_entry")
    value = OLD[:]
    value[0] &= ~1
    clear_entry(tr, value)
    return tr.lines


CTX_ROOT, CTX_TABLE = 0x200000, 0x201000
CTX_SID = 0xFB                                # 00:1f.3
LEGACY = CTX_TABLE + CTX_SID * 16
LEGACY_LO = 0x300000 | 1                      # SLPTPTR, TT 00b, P
LEGACY_HI = 0x2 | 7 << 8                      # AW 4-level, DID 7


def context_header(title):
    lines = ["hitless-trace 1"] + ["# " + t for t in title.strip().splitlines()]
    lines.append("iommu id=dmar0 coherent=1")
    lines.append(f"init addr={CTX_ROOT:#x} size=16 value={CTX_TABLE | 1:#x}")
    lines.append(f"init addr={LEGACY:#x} size=16 value={LEGACY_HI << 64 | LEGACY_LO:#x}")
    lines.append(f"root addr={CTX_ROOT:#x} mode=legacy unit=dmar0 t=1000")
    return lines


def context_invalidations(tr):
    # intel_context_flush_no_pasid(): context cache device-selective with the
    # old DID, then the IOTLB domain-selective.
    tr.inval(f"type=context gran=device did=7 sid=00:1f.3", "intel_context_flush_no_pasid+0x40")
    tr.inval("type=iotlb gran=domain did=7", "intel_context_flush_no_pasid+0x7c")


def context_teardown_before():
    tr = Trace(context_header("""
Legacy context teardown before the 2026 fix (domain_context_clear_one):
context_clear_entry() writes lo = 0 then hi = 0 on the live entry, then the
context cache and the IOTLB are invalidated with the old DID 7."""))
    tr.store(0, 0, "context_clear_entry+0x8", base=LEGACY)
    tr.store(1, 0, "context_clear_entry+0x10", base=LEGACY)
    context_invalidations(tr)
    return tr.lines


def context_teardown_after():
    tr = Trace(context_header("""
Legacy context teardown after the 2026 fix: context_clear_present() clears
Present alone and issues dma_wmb(); the caches are invalidated with the old
DID 7 and waited for; then the entry is zeroed."""))
    tr.store(0, LEGACY_LO & ~1, "context_clear_present+0x8", base=LEGACY)
    tr.fence("dma_wmb", "context_clear_present+0xc")
    context_invalidations(tr)
    tr.store(0, 0, "context_clear_entry+0x8", base=LEGACY)
    tr.store(1, 0, "context_clear_entry+0x10", base=LEGACY)
    return tr.lines


def pasid_replace_before():
    tr = Trace(header("""
PASID replacement from v6.13 to the 2026 fix (intel_pasid_replace_first_level,
CVE-2026-45945): the new entry is built on the stack and copied over the live
one (*pte = new_pte: eight 64-bit stores), then the caches are invalidated
with the old DID 5 (intel_pasid_flush_present)."""))
    for i in range(8):
        tr.store(i, NEW[i], "intel_pasid_replace_first_level+0x84")
    pasid_invalidations(tr, 5, "intel_pasid_flush_present")
    return tr.lines


def pasid_replace_after():
    tr = Trace(header("""
PASID replacement after the 2026 fix: a teardown with the old DID 5 (clear
Present, dma_wmb, invalidate and wait, zero), then a setup of the new entry
with DID 6 (fields, dma_wmb, Present last)."""))
    tr.store(0, OLD[0] & ~1, "pasid_clear_present+0xc")
    tr.fence("dma_wmb", "pasid_clear_present+0x10")
    pasid_invalidations(tr, 5, "intel_pasid_tear_down_entry")
    value = OLD[:]
    value[0] &= ~1
    clear_entry(tr, value)
    setup_first_level(tr, NEW)
    return tr.lines


def pasid_replace_fetched():
    tr = Trace(header("""
The in-place replacement of pasid-replace-before, recorded with the unit's
fetches: between the stores it reads chunk 0 (val[0..1], with the new DID 6)
and then chunk 1 (val[2..3], the old first-stage pointer): a torn read."""))
    tr.store(1, NEW[1], "intel_pasid_replace_first_level+0x84")
    tr.fetch(PTE, 16, NEW[1] << 64 | NEW[0])
    tr.fetch(PTE + 16, 16, OLD[2])
    tr.store(2, NEW[2], "intel_pasid_replace_first_level+0x84")
    pasid_invalidations(tr, 5, "intel_pasid_flush_present")
    return tr.lines


def setup_header(title, unit="iommu id=dmar0 coherent=1"):
    lines = header(title, unit)
    # The entry starts out non-present and zero.
    return [l for l in lines if not l.startswith(f"init addr={PTE:#x}") and not l.startswith(f"init addr={PTE + 8:#x}")
            and not l.startswith(f"init addr={PTE + 16:#x}")]


def pasid_setup_ok():
    tr = Trace(setup_header("""
A correct PASID setup (intel_pasid_setup_first_level after the 2026 fix):
fields first, dma_wmb(), Present last. Nothing to report."""))
    setup_first_level(tr, NEW)
    return tr.lines


def pasid_setup_no_barrier():
    tr = Trace(setup_header("""
A PASID setup as before the 2026 fix, with no barrier before Present: safe
in x86 store order (tso), but under the portable model (weak) the store
that sets Present may reach the unit before the fields."""))
    setup_first_level(tr, NEW, barrier=None)
    return tr.lines


def pasid_setup_smp_wmb():
    tr = Trace(setup_header("""
A PASID setup that orders its stores with smp_wmb(), which orders CPUs
against each other but not stores as a device sees them."""))
    setup_first_level(tr, NEW, barrier="smp_wmb")
    return tr.lines


def pasid_did_change_new_did():
    tr = Trace(header("""
A live PASID entry moved to another domain in place (one atomic store to
val[1]), then invalidated with the NEW domain id 6: the unit tagged what it
cached with the old one, 5, so the stale entry survives."""))
    tr.store(1, 6, "pasid_set_domain_id+0x1c")
    pasid_invalidations(tr, 6, "intel_pasid_flush_present")
    return tr.lines


def pasid_setup_unflushed():
    tr = Trace(setup_header("""
A PASID setup on a unit that does not snoop CPU caches (coherent=0) that
never flushes the entry: the unit never sees it.""", unit="iommu id=dmar0 coherent=0"))
    setup_first_level(tr, NEW)
    return tr.lines


def pasid_setup_unaligned():
    tr = Trace(setup_header("""
A PASID setup that writes val[1..2] with one 16-byte store at an address
that is not 16-byte aligned: it crosses a chunk, so it is not single-copy
atomic."""))
    tr.ev(f"store addr={PTE + 8:#x} size=16 value={NEW[2] << 64 | NEW[1]:#x}", at="memcpy+0x1a")
    tr.store(0, NEW[0] & ~1, "pasid_set_translation_type+0x18")
    tr.fence("dma_wmb", "pasid_set_present+0x8")
    tr.store(0, NEW[0], "pasid_set_present+0x10")
    return tr.lines


SAMPLES = {
    "pasid-teardown-before": pasid_teardown_before,
    "pasid-teardown-after": pasid_teardown_after,
    "context-teardown-before": context_teardown_before,
    "context-teardown-after": context_teardown_after,
    "pasid-replace-before": pasid_replace_before,
    "pasid-replace-after": pasid_replace_after,
    "pasid-replace-fetched": pasid_replace_fetched,
    "pasid-setup-ok": pasid_setup_ok,
    "pasid-setup-no-barrier": pasid_setup_no_barrier,
    "pasid-setup-smp-wmb": pasid_setup_smp_wmb,
    "pasid-did-change-new-did": pasid_did_change_new_did,
    "pasid-setup-unflushed": pasid_setup_unflushed,
    "pasid-setup-unaligned": pasid_setup_unaligned,
}

if __name__ == "__main__":
    for name, make in SAMPLES.items():
        text = "\n".join(make()) + "\n"
        path = os.path.join(HERE, name + ".trace.zst")
        subprocess.run(["zstd", "-q", "-19", "-f", "-o", path], input=text.encode(), check=True)
        print(path)
