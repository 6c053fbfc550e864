package dev.pmemfs.fs.core;

import dev.pmemfs.fs.layout.Bitmaps;
import dev.pmemfs.fs.layout.DirBlock;
import dev.pmemfs.fs.layout.IndirectBlock;
import dev.pmemfs.fs.layout.InodeRecord;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/**
 * One repair pass of fsck, from the findings of a {@link FsckScan}: zeroes unreadable inodes,
 * clears bad block pointers and directory entries, corrects link counts, block counts and
 * parents, rewrites both bitmaps from reachability, then moves orphans into
 * {@code /lost+found} (creating it if missing) as {@code #<ino>}.
 *
 * <p>Every change goes through a {@link Journal} transaction, committed when it fills and at
 * the end, so a crash during repair leaves either the old or the new image of every block.
 * A fix may reveal another (a cleared pointer frees blocks the rewritten bitmap still holds):
 * {@link Fsck} scans again after each pass and repeats until nothing changes.
 */
final class FsckRepair {
    private final FsckScan scan;
    private final Journal journal;
    private final List<String> failures;
    private boolean changed;

    private FsckRepair(FsckScan scan, List<String> failures) {
        this.scan = scan;
        this.journal = new Journal(scan.region, scan.geo);
        this.failures = failures;
    }

    /** Repairs what {@code scan} found; returns whether anything was written. Failures are added to {@code failures}. */
    static boolean run(FsckScan scan, List<String> failures) {
        FsckRepair r = new FsckRepair(scan, failures);
        r.zeroCorruptInodes();
        r.fixInodes();
        r.fixIndirectBlocks();
        r.rewriteDirectoryBlocks();
        r.rewriteBitmap(scan.geo.inodeBitmapStart(), scan.geo.inodeBitmapBlocks(), scan.expectedInodes());
        if (scan.rootOk) { // else the root's blocks are unknown: keep the bitmap as it is
            r.rewriteBitmap(scan.geo.blockBitmapStart(), scan.geo.blockBitmapBlocks(), scan.expectedBlocks());
        }
        r.commit();
        if (scan.rootOk && !scan.orphans.isEmpty()) {
            r.adoptOrphans();
            r.commit();
        }
        return r.changed;
    }

    /** Commits and writes the changes home: the scans that follow read the region itself. */
    private void commit() {
        journal.commit(() -> { });
        journal.checkpoint();
    }

    /** Commits when the transaction nears the journal's capacity; called between whole fixes. */
    private void room() {
        if (journal.pending() > journal.capacity() - 16) {
            commit();
        }
    }

    private void writeInode(long ino, InodeRecord r) {
        r.encode(journal.modify(scan.inodeBlock(ino)), FileSystem.inodeOffset(ino));
        changed = true;
        room();
    }

    private void zeroCorruptInodes() {
        for (long x : scan.corrupt) {
            if (x != FileSystem.ROOT) {
                writeInode(x, new InodeRecord());
            }
        }
    }

    private void fixInodes() {
        for (var e : scan.used.entrySet()) {
            long x = e.getKey();
            InodeRecord r = e.getValue();
            boolean dirty = clearInodePointers(x, r);
            if (scan.nlinkFix.containsKey(x)) {
                r.nlink = scan.nlinkFix.get(x);
                dirty = true;
            }
            if (scan.blocksFix.containsKey(x)) {
                r.blocks = scan.blocksFix.get(x);
                dirty = true;
            }
            if (scan.specialFix.contains(x)) {
                r.rdev = r.isDevice() ? r.rdev : 0;
                r.size = r.isSpecial() ? 0 : r.size;
                dirty = true;
            }
            if (scan.parentFix.containsKey(x)) {
                r.parent = scan.parentFix.get(x);
                dirty = true;
            }
            if (dirty) {
                writeInode(x, r);
            }
        }
    }

    private boolean clearInodePointers(long x, InodeRecord r) {
        boolean dirty = false;
        for (FsckScan.BadPointer p : scan.badPointers) {
            if (p.ino() != x || p.holder() != 0) {
                continue;
            }
            int i = p.index();
            if (i < InodeRecord.DIRECT) {
                r.direct[i] = 0;
            } else if (i == InodeRecord.DIRECT) {
                r.indirect1 = 0;
            } else if (i == InodeRecord.DIRECT + 1) {
                r.indirect2 = 0;
            } else if (i == InodeRecord.DIRECT + 2) {
                r.indirect3 = 0;
            } else {
                r.xattrBlock = 0;
            }
            dirty = true;
        }
        return dirty;
    }

    private void fixIndirectBlocks() {
        for (FsckScan.BadPointer p : scan.badPointers) {
            if (p.holder() != 0) {
                IndirectBlock.set(journal.modify(p.holder()), p.index(), 0);
                changed = true;
                room();
            }
        }
    }

    private void rewriteDirectoryBlocks() {
        for (var e : scan.dirRewrites.entrySet()) {
            journal.put(e.getKey(), DirBlock.encode(e.getValue()));
            changed = true;
            room();
        }
    }

    /** Writes the bitmap blocks that differ from {@code bits} (or are corrupt). */
    private void rewriteBitmap(long start, long count, BitSet bits) {
        for (long i = 0; i < count; i++) {
            byte[] want = Bitmaps.encode(bits, i);
            if (!Arrays.equals(want, journal.peek(start + i))) {
                journal.put(start + i, want);
                changed = true;
                room();
            }
        }
    }

    // ---- lost+found -----------------------------------------------------------------------

    private void adoptOrphans() {
        try {
            Allocator alloc = Allocator.load(journal, scan.geo);
            FsckLostFound lf = FsckLostFound.open(scan, journal, alloc);
            for (long x : scan.orphans) {
                lf.adopt(x, scan.used.get(x));
                changed = true;
                room();
            }
            changed |= lf.created();
        } catch (RuntimeException e) {
            // ENOSPC, or a lost+found fsck cannot extend: the orphans stay reported
            failures.add("lost+found: cannot adopt orphans (" + e.getMessage() + ")");
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
