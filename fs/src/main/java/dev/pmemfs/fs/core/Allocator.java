package dev.pmemfs.fs.core;

import dev.pmemfs.fs.layout.Bitmaps;
import dev.pmemfs.fs.layout.BlockCrc;
import dev.pmemfs.fs.layout.Geometry;
import java.util.BitSet;

/**
 * Block and inode allocation over the on-media bitmaps, with an in-memory copy of each for
 * fast search.
 *
 * <p>A block freed in the running transaction is cleared on the media bitmap at once but stays
 * reserved in memory until that transaction commits: reusing it earlier could let a direct
 * (DAX) write land on a block that a crash would give back to its old owner.
 *
 * <p>Not thread safe: guarded by the filesystem's lock.
 */
final class Allocator {
    private final Journal journal;
    private final Geometry geo;
    private final BitSet blocks;
    private final BitSet inodes;
    private final BitSet pendingFree = new BitSet();
    private long freeBlocks;
    private long freeInodes;
    private long blockHint;

    private Allocator(Journal journal, Geometry geo, BitSet blocks, BitSet inodes) {
        this.journal = journal;
        this.geo = geo;
        this.blocks = blocks;
        this.inodes = inodes;
        this.freeBlocks = geo.dataBlocks() - blocks.get((int) geo.firstDataBlock(), (int) geo.backupSuperblock()).cardinality();
        this.freeInodes = geo.inodes() - 1 - inodes.get(1, (int) geo.inodes()).cardinality();
        this.blockHint = geo.firstDataBlock();
    }

    /** Loads the bitmaps; throws {@link FsException} (EIO) on a bad checksum. */
    static Allocator load(Journal journal, Geometry geo) {
        return new Allocator(journal, geo, loadBitmap(journal, geo.blockBitmapStart(), geo.blockBitmapBlocks(), "block"),
                loadBitmap(journal, geo.inodeBitmapStart(), geo.inodeBitmapBlocks(), "inode"));
    }

    static BitSet loadBitmap(Journal journal, long start, long count, String what) {
        BitSet bits = new BitSet();
        for (long i = 0; i < count; i++) {
            byte[] b = journal.peek(start + i);
            if (!BlockCrc.valid(b, Bitmaps.MAGIC)) {
                throw new FsException(Errno.EIO, what + " bitmap block " + (start + i) + " is corrupt (bad checksum)");
            }
            Bitmaps.decode(b, i, bits);
        }
        return bits;
    }

    long freeBlocks() {
        return freeBlocks;
    }

    long freeInodes() {
        return freeInodes;
    }

    boolean blockUsed(long b) {
        return blocks.get((int) b);
    }

    boolean inodeUsed(long ino) {
        return inodes.get((int) ino);
    }

    /** Fails with ENOSPC unless {@code n} blocks can be allocated. */
    void require(long n) {
        if (freeBlocks < n) {
            throw new FsException(Errno.ENOSPC, "no space left: " + n + " blocks needed, " + freeBlocks + " free");
        }
    }

    long allocBlock() {
        require(1);
        int b = blocks.nextClearBit((int) blockHint);
        if (b >= geo.backupSuperblock()) {
            b = blocks.nextClearBit((int) geo.firstDataBlock());
        }
        if (b >= geo.backupSuperblock()) {
            throw new FsException(Errno.ENOSPC, "no free block");
        }
        blocks.set(b);
        freeBlocks--;
        blockHint = b + 1;
        mark(geo.blockBitmapStart(), b, true);
        return b;
    }

    void freeBlock(long b) {
        if (b < geo.firstDataBlock() || b >= geo.backupSuperblock() || !blocks.get((int) b) || pendingFree.get((int) b)) {
            throw new IllegalStateException("free of block " + b + " that is not allocated");
        }
        mark(geo.blockBitmapStart(), b, false);
        pendingFree.set((int) b);
    }

    /** Makes the blocks freed by the committed transaction allocatable. */
    void afterCommit() {
        for (int b = pendingFree.nextSetBit(0); b >= 0; b = pendingFree.nextSetBit(b + 1)) {
            blocks.clear(b);
            freeBlocks++;
            if (b < blockHint) {
                blockHint = b;
            }
        }
        pendingFree.clear();
    }

    long allocInode() {
        int i = inodes.nextClearBit(2);
        if (i >= geo.inodes()) {
            throw new FsException(Errno.ENOSPC, "no free inode");
        }
        inodes.set(i);
        freeInodes--;
        mark(geo.inodeBitmapStart(), i, true);
        return i;
    }

    void freeInode(long ino) {
        inodes.clear((int) ino);
        freeInodes++;
        mark(geo.inodeBitmapStart(), ino, false);
    }

    private void mark(long start, long bit, boolean value) {
        byte[] img = journal.modify(start + bit / Bitmaps.BITS_PER_BLOCK);
        Bitmaps.set(img, bit % Bitmaps.BITS_PER_BLOCK, value);
    }
}
