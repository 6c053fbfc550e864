package dev.pmemfs.fs.layout;

import java.nio.ByteBuffer;
import java.util.UUID;

/**
 * The superblock: magic, version, geometry, UUID and the clean-unmount flag, with a CRC32C.
 * Kept at block 0 and, as a backup, at the last block. See the package javadoc for offsets.
 */
public record Superblock(Geometry geometry, long features, UUID uuid, boolean clean, boolean rootDax,
                         long mkfsTime, long mountCount) {

    public static final long MAGIC = 0x0100_5346_4d45_4d50L; // "PMEMFS\0\1"
    /**
     * The on-media format's version. 2: the journal of 64-byte lines with its anchor, {@code rdev} in
     * the inode, wear counters in two copies (version 1 regions are refused with a clear message).
     */
    public static final int VERSION = 2;
    public static final int SIZE = 256;
    public static final int CRC_OFFSET = 252;

    /** Why a block is not a usable superblock. */
    public enum Problem { FOREIGN, BAD_CHECKSUM, BAD_VERSION, BAD_GEOMETRY }

    public byte[] encode() {
        byte[] b = new byte[BlockCrc.BLOCK];
        ByteBuffer bb = BlockCrc.le(b);
        Geometry g = geometry;
        bb.putLong(0, MAGIC).putInt(8, VERSION).putInt(12, BlockCrc.BLOCK);
        bb.putLong(16, g.blocks()).putLong(24, g.inodes());
        bb.putLong(32, g.journalStart()).putLong(40, g.journalBlocks());
        bb.putLong(48, g.inodeBitmapStart()).putLong(56, g.inodeBitmapBlocks());
        bb.putLong(64, g.blockBitmapStart()).putLong(72, g.blockBitmapBlocks());
        bb.putLong(80, g.inodeTableStart()).putLong(88, g.inodeTableBlocks());
        bb.putLong(96, g.firstDataBlock()).putLong(104, features);
        bb.putLong(112, uuid.getMostSignificantBits()).putLong(120, uuid.getLeastSignificantBits());
        bb.putInt(128, clean ? 1 : 0).putInt(132, rootDax ? 1 : 0);
        bb.putLong(136, mkfsTime).putLong(144, mountCount);
        bb.putInt(CRC_OFFSET, BlockCrc.crc(b, 0, CRC_OFFSET));
        return b;
    }

    /** What is wrong with {@code b} as a superblock, or null when it is a good one. */
    public static Problem check(byte[] b, long regionBlocks) {
        ByteBuffer bb = BlockCrc.le(b);
        if (bb.getLong(0) != MAGIC) {
            return Problem.FOREIGN;
        }
        if (bb.getInt(CRC_OFFSET) != BlockCrc.crc(b, 0, CRC_OFFSET)) {
            return Problem.BAD_CHECKSUM;
        }
        if (bb.getInt(8) != VERSION || bb.getInt(12) != BlockCrc.BLOCK) {
            return Problem.BAD_VERSION;
        }
        Superblock sb = decode(b);
        Geometry g = sb.geometry;
        if (g.blocks() > regionBlocks || g.firstDataBlock() >= g.blocks() || g.journalStart() != 1
                || g.inodeTableStart() + g.inodeTableBlocks() != g.firstDataBlock()) {
            return Problem.BAD_GEOMETRY;
        }
        return null;
    }

    public static Superblock decode(byte[] b) {
        ByteBuffer bb = BlockCrc.le(b);
        Geometry g = new Geometry(bb.getLong(16), bb.getLong(24), bb.getLong(32), bb.getLong(40),
                bb.getLong(48), bb.getLong(56), bb.getLong(64), bb.getLong(72), bb.getLong(80), bb.getLong(88),
                bb.getLong(96));
        return new Superblock(g, bb.getLong(104), new UUID(bb.getLong(112), bb.getLong(120)),
                bb.getInt(128) == 1, bb.getInt(132) == 1, bb.getLong(136), bb.getLong(144));
    }

    public Superblock withClean(boolean c) {
        return new Superblock(geometry, features, uuid, c, rootDax, mkfsTime, mountCount);
    }

    public Superblock mounted() {
        return new Superblock(geometry, features, uuid, false, rootDax, mkfsTime, mountCount + 1);
    }
}
