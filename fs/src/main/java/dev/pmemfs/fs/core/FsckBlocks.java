package dev.pmemfs.fs.core;

import dev.pmemfs.fs.layout.IndirectBlock;
import dev.pmemfs.fs.layout.InodeRecord;
import dev.pmemfs.fs.layout.XattrBlock;
import java.util.TreeMap;

/**
 * fsck's walk of one inode's blocks: direct and indirect data blocks, the symlink block and
 * the xattr block. Each block must lie in the data area and be claimed by no other reference;
 * indirect and xattr blocks must carry good checksums. Then the inode's size and block count
 * are checked against what the walk found.
 *
 * <p>A block already claimed is counted but not followed, which also stops loops of indirect
 * blocks. Used by one {@link FsckScan}.
 */
final class FsckBlocks {
    private final FsckScan scan;
    private final long ino;
    private final InodeRecord r;
    private long count;
    private boolean badPointer;
    private long beyondSize;
    private long firstBeyond = -1;

    FsckBlocks(FsckScan scan, long ino, InodeRecord r) {
        this.scan = scan;
        this.ino = ino;
        this.r = r;
    }

    void walk() {
        for (int i = 0; i < InodeRecord.DIRECT; i++) {
            data(i, r.direct[i], 0, i);
        }
        indirect(r.indirect1, 1, InodeRecord.DIRECT, 0, InodeRecord.DIRECT);
        indirect(r.indirect2, 2, BlockMap.LIMIT1, 0, InodeRecord.DIRECT + 1);
        indirect(r.indirect3, 3, BlockMap.LIMIT2, 0, InodeRecord.DIRECT + 2);
        xattr();
        if (r.isRegular()) {
            checkRegular();
        } else if (r.isDir()) {
            checkDirectory();
        } else if (r.isSymlink()) {
            checkSymlink();
        } else {
            checkSpecial();
        }
        if (r.rdev != 0 && !r.isDevice()) {
            scan.problems.add("inode " + ino + ": device number " + r.rdev + " on a file that is not a device");
            scan.specialFix.add(ino);
        }
        if (r.blocks != count) {
            scan.blocksFix.put(ino, count);
            if (!badPointer) { // otherwise a consequence of the bad pointer, fixed with it
                scan.problems.add("inode " + ino + ": blocks " + r.blocks + ", but it references " + count);
            }
        }
    }

    /** Claims a block: -1 out of range (a bad pointer), 0 already claimed, 1 first claim. */
    private int claim(long b, long holder, int index) {
        if (b < scan.geo.firstDataBlock() || b >= scan.geo.backupSuperblock()) {
            scan.problems.add("inode " + ino + ": block pointer " + b + " out of range");
            bad(holder, index);
            return -1;
        }
        count++;
        if (scan.referenced.get((int) b)) {
            scan.problems.add("block " + b + ": referenced more than once (again by inode " + ino + ")");
            return 0;
        }
        scan.referenced.set((int) b);
        return 1;
    }

    private void bad(long holder, int index) {
        badPointer = true;
        scan.badPointers.add(new FsckScan.BadPointer(ino, holder, index));
    }

    /**
     * File blocks the size covers: blocks mapped at or beyond this index are cleared by repair.
     * A regular file flagged by fallocate(KEEP_SIZE) may hold blocks past its size; a special
     * file holds none.
     */
    private long limit() {
        if (r.isSymlink()) {
            return 1;
        }
        if (r.isSpecial()) {
            return 0;
        }
        if (r.isRegular() && (r.flags & InodeRecord.FLAG_PREALLOC) != 0) {
            return BlockMap.MAX_BLOCKS;
        }
        long size = Math.max(r.size, 0);
        return r.isDir() ? size / FsckScan.BLOCK : Math.ceilDiv(size, FsckScan.BLOCK);
    }

    private void data(long fileBlock, long b, long holder, int index) {
        if (b == 0 || claim(b, holder, index) < 0) {
            return;
        }
        if (fileBlock >= limit()) {
            beyondSize++;
            firstBeyond = firstBeyond < 0 ? fileBlock : firstBeyond;
            bad(holder, index);
        } else if (!r.isRegular()) {
            scan.mapped(ino, fileBlock, b);
        }
    }

    private void indirect(long b, int depth, long base, long holder, int index) {
        if (b == 0) {
            return;
        }
        if (r.isSymlink() || r.isSpecial()) {
            scan.problems.add((r.isSymlink() ? "symlink" : "special file") + " inode " + ino + ": has an indirect block " + b);
            if (claim(b, holder, index) >= 0) {
                bad(holder, index);
            }
            return;
        }
        if (claim(b, holder, index) != 1) {
            return;
        }
        byte[] img = scan.read(b);
        if (!IndirectBlock.valid(img)) {
            scan.problems.add("inode " + ino + ": indirect block " + b + ": bad checksum");
            bad(holder, index);
            return;
        }
        long span = depth == 1 ? 1 : depth == 2 ? BlockMap.P : BlockMap.P * BlockMap.P;
        for (int i = 0; i < IndirectBlock.POINTERS; i++) {
            long child = IndirectBlock.get(img, i);
            if (child == 0) {
                continue;
            }
            if (depth == 1) {
                data(base + i, child, b, i);
            } else {
                indirect(child, depth - 1, base + i * span, b, i);
            }
        }
    }

    private void xattr() {
        long b = r.xattrBlock;
        if (b == 0 || claim(b, 0, FsckScan.BadPointer.XATTR) != 1) {
            return;
        }
        byte[] img = scan.read(b);
        String why = XattrBlock.valid(img) ? null : "bad checksum";
        if (why == null) {
            try {
                XattrBlock.decode(img);
            } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
                why = "malformed (" + e.getMessage() + ")";
            }
        }
        if (why != null) {
            scan.problems.add("inode " + ino + ": xattr block " + b + ": " + why);
            bad(0, FsckScan.BadPointer.XATTR);
        }
    }

    private void checkRegular() {
        if (r.size < 0) {
            scan.problems.add("inode " + ino + ": negative size " + r.size);
        }
        reportBeyondSize("inode ");
    }

    private void reportBeyondSize(String kind) {
        if (beyondSize > 0) {
            scan.problems.add(kind + ino + ": " + beyondSize + (beyondSize == 1 ? " block" : " blocks")
                    + " mapped beyond the size " + r.size + " (from file block " + firstBeyond + ")");
        }
    }

    private void checkDirectory() {
        String at = "directory inode " + ino + ": ";
        TreeMap<Long, Long> m = scan.mapped(ino);
        long n = r.size / FsckScan.BLOCK;
        if (r.size < 0 || r.size % FsckScan.BLOCK != 0) {
            scan.problems.add(at + "size " + r.size + " is not a multiple of " + FsckScan.BLOCK);
            scan.unsoundDirs.add(ino);
        }
        if (m.headMap(n).size() < n) {
            long hole = 0;
            while (m.containsKey(hole)) {
                hole++;
            }
            scan.problems.add(at + "hole at file block " + hole + " within the size " + r.size);
            scan.unsoundDirs.add(ino);
        }
        reportBeyondSize("directory inode ");
    }

    private void checkSpecial() {
        if (r.size != 0) {
            scan.problems.add("special file inode " + ino + ": size " + r.size + ", but special files hold no data");
            scan.specialFix.add(ino);
        }
        reportBeyondSize("special file inode ");
    }

    private void checkSymlink() {
        TreeMap<Long, Long> m = scan.mapped(ino);
        if (r.size < 1 || r.size >= FsckScan.BLOCK) {
            scan.problems.add("symlink inode " + ino + ": size " + r.size + " out of range 1..4095");
        }
        if (!m.containsKey(0L)) {
            scan.problems.add("symlink inode " + ino + ": no block at file block 0");
        }
        reportBeyondSize("symlink inode ");
    }
}
