package dev.pmemfs.fs.layout;

import java.nio.ByteBuffer;

/**
 * Journal descriptor and commit blocks. A transaction of {@code n} blocks occupies
 * {@link #descriptorBlocks(int)} descriptor blocks, then {@code n} images, then one commit
 * block, from the journal's first block.
 *
 * <pre>
 * descriptor: 0 u32 magic "JDSC", 4 u32 index of this descriptor, 8 u64 sequence,
 *             16 u32 target count (whole transaction), 24.. u64 targets (TARGETS_PER_BLOCK each)
 * commit:     0 u32 magic "JCMT", 8 u64 sequence, 16 u32 target count,
 *             20 u32 CRC32C over every descriptor and image block, 24 u32 CRC32C of [0, 24)
 * </pre>
 */
public final class JournalRecord {
    public static final int DESC_MAGIC = BlockCrc.magic("JDSC");
    public static final int COMMIT_MAGIC = BlockCrc.magic("JCMT");
    public static final int TARGETS_PER_BLOCK = (BlockCrc.BLOCK - 24) / 8;

    private JournalRecord() {
    }

    public static int descriptorBlocks(int n) {
        return Math.max(1, (n + TARGETS_PER_BLOCK - 1) / TARGETS_PER_BLOCK);
    }

    /** Blocks a transaction of {@code n} images takes in the journal. */
    public static long footprint(int n) {
        return descriptorBlocks(n) + n + 1L;
    }

    public static byte[] descriptor(int index, long seq, long[] targets) {
        byte[] b = new byte[BlockCrc.BLOCK];
        ByteBuffer bb = BlockCrc.le(b);
        bb.putInt(0, DESC_MAGIC).putInt(4, index).putLong(8, seq).putInt(16, targets.length);
        int from = index * TARGETS_PER_BLOCK;
        for (int i = from; i < Math.min(targets.length, from + TARGETS_PER_BLOCK); i++) {
            bb.putLong(24 + 8 * (i - from), targets[i]);
        }
        return b;
    }

    public static byte[] commit(long seq, int n, int dataCrc) {
        byte[] b = new byte[BlockCrc.BLOCK];
        ByteBuffer bb = BlockCrc.le(b);
        bb.putInt(0, COMMIT_MAGIC).putLong(8, seq).putInt(16, n).putInt(20, dataCrc);
        bb.putInt(24, BlockCrc.crc(b, 0, 24));
        return b;
    }

    public static boolean isDescriptor(byte[] b, int index) {
        ByteBuffer bb = BlockCrc.le(b);
        return bb.getInt(0) == DESC_MAGIC && bb.getInt(4) == index;
    }

    public static long sequence(byte[] b) {
        return BlockCrc.le(b).getLong(8);
    }

    public static int count(byte[] b) {
        return BlockCrc.le(b).getInt(16);
    }

    public static long target(byte[] desc, int i) {
        return BlockCrc.le(desc).getLong(24 + 8 * (i % TARGETS_PER_BLOCK));
    }

    /** Whether {@code b} is the commit block of transaction {@code seq} with {@code n} blocks and data CRC {@code crc}. */
    public static boolean isCommit(byte[] b, long seq, int n, int crc) {
        ByteBuffer bb = BlockCrc.le(b);
        return bb.getInt(0) == COMMIT_MAGIC && bb.getLong(8) == seq && bb.getInt(16) == n
                && bb.getInt(20) == crc && bb.getInt(24) == BlockCrc.crc(b, 0, 24);
    }
}
