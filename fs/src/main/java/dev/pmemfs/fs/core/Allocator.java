package dev.pmemfs.fs.core;

import dev.pmemfs.fs.layout.Bitmaps;
import dev.pmemfs.fs.layout.BlockCrc;
import dev.pmemfs.fs.layout.Geometry;
import java.util.BitSet;

/**
 * Block and inode allocation over the on-media bitmaps, with an in-memory copy of each for
 * fast search.
 *
 * <p>A freed block is cleared on the media bitmap at once but stays reserved in memory until
 * the journal is checkpointed after the transaction that freed it: reused earlier, a direct
 * (DAX) data write could land on a block that a crash would give back to its old owner, or
 * that a checkpoint or a replay would overwrite with an old metadata image still in the log
 * (jbd2 logs revoke records for this; waiting for the checkpoint needs none). When an
 * allocation finds too few blocks, it asks for a checkpoint first.
 *
 * <p>Not thread safe: guarded by the filesystem's lock.
 */
final class Allocator {
    private final Journal journal;
    private final Geometry geo;
    private final BitSet blocks;
    private final BitSet inodes;
    /** Freed in the running transaction. */
    private final BitSet freedRunning = new BitSet();
    /** Freed in committed transactions whose log is not yet checkpointed. */
    private final BitSet freedCommitted = new BitSet();
    /** Checkpoints the journal and calls {@link #afterCheckpoint}; run when blocks run short. */
    private Runnable reclaim = () -> { };
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

    /** Blocks free for files, counting those freed but not yet reusable (as df should). */
    long freeBlocks() {
        return freeBlocks + freedRunning.cardinality() + freedCommitted.cardinality();
    }

    void onShortage(Runnable checkpoint) {
        this.reclaim = checkpoint;
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
        if (freeBlocks < n && !freedCommitted.isEmpty()) {
            reclaim.run();
        }
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
        if (b < geo.firstDataBlock() || b >= geo.backupSuperblock() || !blocks.get((int) b)
                || freedRunning.get((int) b) || freedCommitted.get((int) b)) {
            throw new IllegalStateException("free of block " + b + " that is not allocated");
        }
        mark(geo.blockBitmapStart(), b, false);
        freedRunning.set((int) b);
    }

    /** The running transaction committed: its frees wait for the checkpoint. */
    void afterCommit() {
        freedCommitted.or(freedRunning);
        freedRunning.clear();
    }

    /** The log was checkpointed: blocks freed by committed transactions are allocatable. */
    void afterCheckpoint() {
        for (int b = freedCommitted.nextSetBit(0); b >= 0; b = freedCommitted.nextSetBit(b + 1)) {
            blocks.clear(b);
            freeBlocks++;
            if (b < blockHint) {
                blockHint = b;
            }
        }
        freedCommitted.clear();
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
