package dev.pmemfs.fs.core;

import dev.pmemfs.device.WearCounters;
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
 * <p>Wear-aware allocation ({@link Policy#WEAR_AWARE}, the default): data blocks are handed out
 * in groups of {@link #GROUP} blocks. Within a group allocation is sequential (a large file
 * stays contiguous); when the group is used up, the next group is the first one ahead (in
 * circular order) with free blocks whose mean wear is within {@link #TOLERANCE} writes per
 * block of the least-worn such group. With even wear that is simply the next group, so the
 * allocator sweeps the whole region instead of reusing the lowest freed blocks over and over,
 * as {@link Policy#FIRST_FIT} does; with uneven wear it jumps to the cold groups. Group wear
 * comes from the region's per-block wear counters, refreshed at every checkpoint, plus one
 * write per block allocated since.
 *
 * <p>Not thread safe: guarded by the filesystem's lock.
 */
final class Allocator {
    /** Blocks per allocation group (1 MiB). */
    static final int GROUP = 256;
    /** Writes per block by which a group ahead may be more worn than the least-worn one and still be taken. */
    static final double TOLERANCE = 1.0;

    /** How data blocks are chosen among free ones. */
    enum Policy { FIRST_FIT, WEAR_AWARE }

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
    private Policy policy = Policy.WEAR_AWARE;
    private WearCounters wear;
    /** Per group: the writes of its blocks (lifetime, from {@link #wear}) plus blocks allocated since. */
    private final long[] groupWear;
    /**
     * Per group: its free blocks (in memory: freed blocks count once the checkpoint releases
     * them). Choosing the next group asks every group whether it has a free block; a scan of
     * the bitmap for that ran past the end of every full group, so with a region half full it
     * cost milliseconds per group switch (35 % of a 4 KiB append+fsync job's CPU, JFR).
     */
    private final int[] groupFree;
    /** The per-block counts {@link #refreshWear} sums, kept between checkpoints (8 MiB for a 4 GiB region). */
    private long[] perBlock;
    /** The group wear-aware allocation is filling (-1: none yet), and the block after the last one it gave. */
    private int group = -1;
    private long cursor;

    private Allocator(Journal journal, Geometry geo, BitSet blocks, BitSet inodes) {
        this.journal = journal;
        this.geo = geo;
        this.blocks = blocks;
        this.inodes = inodes;
        this.freeBlocks = geo.dataBlocks() - blocks.get((int) geo.firstDataBlock(), (int) geo.backupSuperblock()).cardinality();
        this.freeInodes = geo.inodes() - 1 - inodes.get(1, (int) geo.inodes()).cardinality();
        this.blockHint = geo.firstDataBlock();
        this.groupWear = new long[(int) ((geo.backupSuperblock() - geo.firstDataBlock() + GROUP - 1) / GROUP)];
        this.groupFree = new int[groupWear.length];
        for (int g = 0; g < groupFree.length; g++) {
            long start = groupStart(g);
            long end = groupEnd(g);
            groupFree[g] = (int) (end - start - blocks.get((int) start, (int) end).cardinality());
        }
    }

    /** Chooses data blocks by {@code p}; tests and the churn measurement compare the two. */
    void policy(Policy p) {
        this.policy = p;
    }

    /** Takes group wear from {@code w}, the region's counters, now and at every checkpoint. */
    void trackWear(WearCounters w) {
        this.wear = w;
        refreshWear();
    }

    private void refreshWear() {
        if (wear == null) {
            return;
        }
        perBlock = wear.blockWrites(perBlock);
        java.util.Arrays.fill(groupWear, 0);
        for (long b = geo.firstDataBlock(); b < geo.backupSuperblock(); b++) {
            groupWear[groupOf(b)] += perBlock[(int) b];
        }
    }

    private int groupOf(long block) {
        return (int) ((block - geo.firstDataBlock()) / GROUP);
    }

    private long groupStart(int g) {
        return geo.firstDataBlock() + (long) g * GROUP;
    }

    private long groupEnd(int g) {
        return Math.min(groupStart(g) + GROUP, geo.backupSuperblock());
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
        int b = policy == Policy.FIRST_FIT ? firstFit() : wearAware();
        if (b < 0 || b >= geo.backupSuperblock()) {
            throw new FsException(Errno.ENOSPC, "no free block");
        }
        blocks.set(b);
        freeBlocks--;
        groupFree[groupOf(b)]--;
        mark(geo.blockBitmapStart(), b, true);
        return b;
    }

    private int firstFit() {
        int b = blocks.nextClearBit((int) blockHint);
        if (b >= geo.backupSuperblock()) {
            b = blocks.nextClearBit((int) geo.firstDataBlock());
        }
        blockHint = b + 1;
        return b;
    }

    private int wearAware() {
        if (group >= 0 && groupFree[group] > 0) {
            int b = blocks.nextClearBit((int) cursor);
            if (b < groupEnd(group)) {
                groupWear[group]++;
                cursor = b + 1;
                return b;
            }
        }
        int g = nextGroup(group < 0 ? groupWear.length - 1 : group);
        if (g < 0) {
            return -1;
        }
        group = g;
        int b = blocks.nextClearBit((int) groupStart(g));
        groupWear[g]++;
        cursor = b + 1;
        return b;
    }

    /** The group to allocate in after group {@code current} (see the class comment), or -1 when none has a free block. */
    private int nextGroup(int current) {
        int n = groupWear.length;
        double least = Double.MAX_VALUE;
        for (int g = 0; g < n; g++) {
            if (hasFree(g)) {
                least = Math.min(least, meanWear(g));
            }
        }
        for (int k = 1; k <= n; k++) {
            int g = (current + k) % n;
            if (hasFree(g) && meanWear(g) <= least + TOLERANCE) {
                return g;
            }
        }
        return -1;
    }

    private boolean hasFree(int g) {
        return groupFree[g] > 0;
    }

    private double meanWear(int g) {
        return (double) groupWear[g] / (groupEnd(g) - groupStart(g));
    }

    void freeBlock(long b) {
        if (b < geo.firstDataBlock() || b >= geo.backupSuperblock() || !blocks.get((int) b)
                || freedRunning.get((int) b) || freedCommitted.get((int) b)) {
            throw new IllegalStateException("free of block " + b + " that is not allocated");
        }
        mark(geo.blockBitmapStart(), b, false);
        freedRunning.set((int) b);
    }

    /**
     * Whether the running transaction holds more freed blocks than are free: it should commit
     * (at an operation's start), so that a checkpoint can give them back before space runs out.
     */
    boolean freesPending() {
        return !freedRunning.isEmpty() && freedRunning.cardinality() > freeBlocks;
    }

    /** The running transaction committed: its frees wait for the checkpoint. */
    void afterCommit() {
        freedCommitted.or(freedRunning);
        freedRunning.clear();
    }

    /** The log was checkpointed: blocks freed by committed transactions are allocatable, group wear is refreshed. */
    void afterCheckpoint() {
        refreshWear();
        for (int b = freedCommitted.nextSetBit(0); b >= 0; b = freedCommitted.nextSetBit(b + 1)) {
            blocks.clear(b);
            freeBlocks++;
            groupFree[groupOf(b)]++;
            if (b < blockHint) {
                blockHint = b;
            }
        }
        freedCommitted.clear();
    }

    long allocInode() {
        return allocInode(ino -> false);
    }

    /** The lowest free inode number that {@code reserved} does not claim. */
    long allocInode(java.util.function.LongPredicate reserved) {
        int i = inodes.nextClearBit(2);
        while (i < geo.inodes() && reserved.test(i)) {
            i = inodes.nextClearBit(i + 1);
        }
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
