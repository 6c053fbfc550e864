package dev.pmemfs.fs.core;

import dev.pmemfs.device.Region;
import dev.pmemfs.fs.layout.Bitmaps;
import dev.pmemfs.fs.layout.BlockCrc;
import dev.pmemfs.fs.layout.DirBlock;
import dev.pmemfs.fs.layout.Geometry;
import dev.pmemfs.fs.layout.InodeRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One read-only pass of fsck over an unmounted region: the inode table, every block map, the
 * directory tree from the root, link counts and both bitmaps. It records each problem as one
 * line, and what {@link FsckRepair} needs to fix it.
 *
 * <p>Every pointer read from the media is range-checked before it is followed, and every block
 * is claimed once, so corrupt metadata (loops, wild pointers) cannot make the scan throw or
 * run forever. Not thread safe; used by one fsck run.
 */
final class FsckScan {
    static final int BLOCK = Geometry.BLOCK;
    private static final int PER_BLOCK = BLOCK / InodeRecord.SIZE;

    /** A pointer to clear: {@code holder} 0 is the inode itself (index 0..11 direct, 12..14 indirect, 15 xattr). */
    record BadPointer(long ino, long holder, int index) {
        static final int XATTR = 15;
    }

    final Region region;
    final Geometry geo;
    final List<String> problems = new ArrayList<>();
    final List<String> notes = new ArrayList<>();
    /** Valid inodes in use, by number; repair edits these records and writes them back. */
    final Map<Long, InodeRecord> used = new TreeMap<>();
    /** Inodes that cannot be read (bad checksum or type): zeroed by repair. */
    final Set<Long> corrupt = new TreeSet<>();
    /** Blocks referenced by some inode: with the metadata area, what the block bitmap should hold. */
    final BitSet referenced = new BitSet();
    final List<BadPointer> badPointers = new ArrayList<>();
    /** Directory blocks to rewrite with these entries (bad ones dropped, types fixed). */
    final Map<Long, List<DirBlock.Entry>> dirRewrites = new LinkedHashMap<>();
    /** Fields to correct, by inode. */
    final Map<Long, Integer> nlinkFix = new HashMap<>();
    final Map<Long, Long> blocksFix = new HashMap<>();
    final Map<Long, Long> parentFix = new HashMap<>();
    /** Inodes whose device number (not a device) or size (a special file) is to be cleared. */
    final Set<Long> specialFix = new TreeSet<>();
    /** Unreachable inodes to move to lost+found (tops of orphaned subtrees only). */
    final List<Long> orphans = new ArrayList<>();
    /** Directories whose block map is unsound (holes, odd size): no entries are added to them. */
    final Set<Long> unsoundDirs = new HashSet<>();
    /** Mapped blocks of directories and symlinks, by file block. */
    private final Map<Long, TreeMap<Long, Long>> mapped = new HashMap<>();
    private final Set<Long> reached = new HashSet<>();
    private final Map<Long, Integer> names = new HashMap<>();
    private final Map<Long, Integer> subdirs = new HashMap<>();
    boolean rootOk;
    long lostFound;

    private FsckScan(Region region, Geometry geo) {
        this.region = region;
        this.geo = geo;
    }

    /** Scans the filesystem on {@code region} (journal already replayed). */
    static FsckScan run(Region region, Geometry geo) {
        FsckScan s = new FsckScan(region, geo);
        s.scanInodes();
        for (var e : s.used.entrySet()) {
            new FsckBlocks(s, e.getKey(), e.getValue()).walk();
        }
        s.walkTree();
        if (s.rootOk) {
            s.checkLinks();
            s.findOrphans();
        }
        s.compareBitmap("inode", geo.inodeBitmapStart(), geo.inodeBitmapBlocks(), s.expectedInodes(), s.unknownInodes());
        s.compareBitmap("block", geo.blockBitmapStart(), geo.blockBitmapBlocks(), s.expectedBlocks(), new BitSet());
        return s;
    }

    byte[] read(long block) {
        byte[] b = new byte[BLOCK];
        region.read(block * BLOCK, b, 0, BLOCK);
        return b;
    }

    long inodeBlock(long ino) {
        return geo.inodeTableStart() + ino / PER_BLOCK;
    }

    void mapped(long ino, long fileBlock, long block) {
        mapped.computeIfAbsent(ino, k -> new TreeMap<>()).put(fileBlock, block);
    }

    TreeMap<Long, Long> mapped(long ino) {
        return mapped.getOrDefault(ino, new TreeMap<>());
    }

    // ---- inode table ----------------------------------------------------------------------

    private void scanInodes() {
        for (long t = 0; t < geo.inodeTableBlocks(); t++) {
            byte[] blk = read(geo.inodeTableStart() + t);
            for (int s = 0; s < PER_BLOCK; s++) {
                scanInode(t * PER_BLOCK + s, blk, s * InodeRecord.SIZE);
            }
        }
    }

    private void scanInode(long ino, byte[] blk, int off) {
        boolean valid = InodeRecord.valid(blk, off);
        if (ino == 0) {
            if (!valid || BlockCrc.le(blk).getInt(off) != 0) {
                problems.add("inode 0: reserved, but not empty");
                corrupt.add(0L);
            }
            return;
        }
        if (!valid) {
            problems.add("inode " + ino + ": bad checksum");
            corrupt.add(ino);
            return;
        }
        InodeRecord r = InodeRecord.decode(blk, off);
        if (r.isFree()) {
            return;
        }
        if (!r.knownType()) {
            problems.add("inode " + ino + ": bad file type 0" + Integer.toOctalString(r.type()));
            corrupt.add(ino);
            return;
        }
        used.put(ino, r);
    }

    // ---- directory tree -------------------------------------------------------------------

    private void walkTree() {
        InodeRecord root = used.get(FileSystem.ROOT);
        if (root == null || !root.isDir()) {
            problems.add("inode 1: the root directory is " + (corrupt.contains(FileSystem.ROOT) ? "corrupt"
                    : root == null ? "free" : "not a directory") + "; the directory tree is not checked");
            return;
        }
        rootOk = true;
        reached.add(FileSystem.ROOT);
        ArrayDeque<long[]> queue = new ArrayDeque<>();
        queue.add(new long[] {FileSystem.ROOT, FileSystem.ROOT});
        while (!queue.isEmpty()) {
            long[] next = queue.poll();
            scanDirectory(next[0], next[1], queue);
        }
    }

    private void scanDirectory(long d, long foundIn, ArrayDeque<long[]> queue) {
        InodeRecord r = used.get(d);
        if (r.parent != foundIn) {
            problems.add("directory inode " + d + ": parent " + r.parent + ", but it is in directory " + foundIn);
            parentFix.put(d, foundIn);
        }
        Set<String> seen = new HashSet<>();
        for (long b : dirBlocks(d)) {
            List<DirBlock.Entry> entries = decodeDirBlock(d, b);
            if (entries == null) {
                continue;
            }
            List<DirBlock.Entry> kept = new ArrayList<>();
            for (DirBlock.Entry e : entries) {
                DirBlock.Entry k = checkEntry(d, e, seen, queue);
                if (k != null) {
                    kept.add(k);
                }
            }
            if (!kept.equals(entries)) {
                dirRewrites.put(b, kept);
            }
        }
    }

    /** The blocks of a directory within its size, in file-block order. */
    List<Long> dirBlocks(long d) {
        return new ArrayList<>(mapped(d).headMap(used.get(d).size / BLOCK).values());
    }

    /** A directory block's entries, or null (and a rewrite as empty) when it is corrupt. */
    private List<DirBlock.Entry> decodeDirBlock(long d, long b) {
        byte[] img = read(b);
        String why = null;
        List<DirBlock.Entry> entries = null;
        if (!DirBlock.valid(img)) {
            why = "bad checksum";
        } else {
            try {
                entries = DirBlock.decode(img);
            } catch (IllegalArgumentException e) {
                why = "malformed (" + e.getMessage() + ")";
            }
        }
        if (why != null) {
            problems.add("directory inode " + d + " block " + b + ": " + why);
            dirRewrites.put(b, List.of());
        }
        return entries;
    }

    /** Checks one entry; returns it (type corrected) to keep it, or null to drop it. */
    private DirBlock.Entry checkEntry(long d, DirBlock.Entry e, Set<String> seen, ArrayDeque<long[]> queue) {
        String name = e.nameString();
        String at = "directory inode " + d + ": entry '" + name + "' ";
        long x = e.ino();
        String bad = !seen.add(name) ? "is a duplicate name"
                : name.equals(".") || name.equals("..") || name.indexOf('/') >= 0 || name.indexOf('\0') >= 0 ? "is not a valid name"
                : x < 1 || x >= geo.inodes() ? "points to inode " + x + ", out of range"
                : corrupt.contains(x) ? "points to corrupt inode " + x
                : !used.containsKey(x) ? "points to free inode " + x
                : used.get(x).isDir() && reached.contains(x) ? "is a second link to directory inode " + x
                : null;
        if (bad != null) {
            problems.add(at + bad);
            return null;
        }
        InodeRecord r = used.get(x);
        if (r.isDir()) {
            reached.add(x);
            queue.add(new long[] {x, d});
            subdirs.merge(d, 1, Integer::sum);
            if (d == FileSystem.ROOT && name.equals("lost+found")) {
                lostFound = x;
            }
        } else {
            reached.add(x);
            names.merge(x, 1, Integer::sum);
        }
        int want = FileSystem.dtype(r);
        if (e.type() != want) {
            problems.add(at + "has type " + e.type() + ", but inode " + x + " is of type " + want);
            return new DirBlock.Entry(e.name(), x, want);
        }
        return e;
    }

    // ---- link counts and orphans ----------------------------------------------------------

    private void checkLinks() {
        for (long x : reached) {
            InodeRecord r = used.get(x);
            if (r.isDir()) {
                int sub = subdirs.getOrDefault(x, 0);
                if (r.nlink != 2 + sub) {
                    problems.add("directory inode " + x + ": link count " + r.nlink + ", but it has " + sub
                            + (sub == 1 ? " subdirectory" : " subdirectories"));
                    nlinkFix.put(x, 2 + sub);
                }
            } else {
                int n = names.getOrDefault(x, 0);
                if (r.nlink != n) {
                    problems.add("inode " + x + ": link count " + r.nlink + ", but " + n
                            + (n == 1 ? " name refers" : " names refer") + " to it");
                    nlinkFix.put(x, n);
                }
            }
        }
    }

    private void findOrphans() {
        List<Long> lost = new ArrayList<>();
        for (var e : used.entrySet()) {
            long x = e.getKey();
            if (reached.contains(x)) {
                continue;
            }
            if (e.getValue().nlink == 0) {
                notes.add("inode " + x + ": unlinked while open; freed at the next mount");
            } else {
                problems.add("inode " + x + ": in use, but in no directory");
                lost.add(x);
            }
        }
        Set<Long> named = namedByLostDirectories(lost);
        for (long x : lost) {
            if (!named.contains(x)) {
                orphans.add(x);
            }
        }
        if (orphans.isEmpty() && !lost.isEmpty()) {
            orphans.add(lost.getFirst()); // a loop of lost directories: break it anywhere
        }
    }

    /** Inodes named by lost directories: they come back with their directory. */
    private Set<Long> namedByLostDirectories(List<Long> lost) {
        Set<Long> named = new HashSet<>();
        for (long x : lost) {
            if (!used.get(x).isDir()) {
                continue;
            }
            for (long b : dirBlocks(x)) {
                byte[] img = read(b);
                if (DirBlock.valid(img)) {
                    try {
                        DirBlock.decode(img).forEach(e -> named.add(e.ino()));
                    } catch (IllegalArgumentException e) {
                        // reported once the directory is reachable again
                    }
                }
            }
        }
        named.retainAll(new HashSet<>(lost));
        return named;
    }

    // ---- bitmaps --------------------------------------------------------------------------

    /** Inode 0, the root and every inode in use: what the inode bitmap should hold. */
    BitSet expectedInodes() {
        BitSet bits = new BitSet();
        bits.set(0, (int) FileSystem.ROOT + 1);
        used.keySet().forEach(x -> bits.set(x.intValue()));
        return bits;
    }

    private BitSet unknownInodes() {
        BitSet bits = new BitSet();
        corrupt.forEach(x -> bits.set(x.intValue()));
        bits.clear(0, (int) FileSystem.ROOT + 1);
        return bits;
    }

    /** The metadata area, the backup superblock and every referenced block. */
    BitSet expectedBlocks() {
        BitSet bits = (BitSet) referenced.clone();
        bits.set(0, (int) geo.firstDataBlock());
        bits.set((int) geo.backupSuperblock());
        return bits;
    }

    private void compareBitmap(String what, long start, long count, BitSet expected, BitSet unknown) {
        String unit = what.equals("inode") ? "inode" : "block";
        for (long i = 0; i < count; i++) {
            byte[] img = read(start + i);
            if (!BlockCrc.valid(img, Bitmaps.MAGIC)) {
                problems.add(what + " bitmap block " + (start + i) + ": bad checksum");
                continue;
            }
            int from = (int) (i * Bitmaps.BITS_PER_BLOCK);
            int to = from + Bitmaps.BITS_PER_BLOCK;
            BitSet actual = new BitSet();
            Bitmaps.decode(img, i, actual);
            BitSet diff = expected.get(from, to);
            diff.xor(actual.get(from, to));
            diff.andNot(unknown.get(from, to));
            reportRuns(diff, from, expected, unit, what);
        }
    }

    /** Reports each run of mismatched bits that agree in direction as one line. */
    private void reportRuns(BitSet diff, int base, BitSet expected, String unit, String what) {
        int i = diff.nextSetBit(0);
        while (i >= 0) {
            boolean inUse = expected.get(base + i);
            int j = i;
            while (diff.get(j + 1) && expected.get(base + j + 1) == inUse) {
                j++;
            }
            String which = i == j ? unit + " " + (base + i) : unit + "s " + (base + i) + "-" + (base + j);
            problems.add(which + (inUse ? ": in use, but free in the " : ": free, but marked in use in the ") + what + " bitmap");
            i = diff.nextSetBit(j + 1);
        }
    }
}
