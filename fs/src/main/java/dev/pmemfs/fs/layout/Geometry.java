package dev.pmemfs.fs.layout;

/**
 * Where each area of the filesystem lies, in blocks; derived at mkfs from the region size and
 * stored in the superblock.
 */
public record Geometry(long blocks, long inodes, long journalStart, long journalBlocks,
                       long inodeBitmapStart, long inodeBitmapBlocks,
                       long blockBitmapStart, long blockBitmapBlocks,
                       long inodeTableStart, long inodeTableBlocks, long firstDataBlock) {

    public static final int BLOCK = 4096;
    /** Default bytes of region per inode, as ext4's inode_ratio. */
    public static final long DEFAULT_BYTES_PER_INODE = 16 * 1024;

    /** The block of the backup superblock: the last one. */
    public long backupSuperblock() {
        return blocks - 1;
    }

    /** Data blocks that files can use (the region less metadata areas and the backup superblock). */
    public long dataBlocks() {
        return blocks - 1 - firstDataBlock;
    }

    /** Lays out a filesystem of {@code bytes} (a multiple of 4 KiB). */
    public static Geometry of(long bytes, long bytesPerInode) {
        return of(bytes, bytesPerInode, Math.clamp(bytes / 128 / BLOCK, 256, 8192)); // 1..32 MiB of journal
    }

    /** Lays out a filesystem with a journal of {@code journal} blocks (tests use small ones to fill it often). */
    public static Geometry of(long bytes, long bytesPerInode, long journal) {
        if (journal < 8) {
            throw new IllegalArgumentException("journal of " + journal + " blocks is too small");
        }
        long blocks = bytes / BLOCK;
        long inodes = Math.max(64, Math.min(bytes / bytesPerInode, 1L << 31));
        inodes = (inodes + 15) / 16 * 16;
        long ibm = (inodes + Bitmaps.BITS_PER_BLOCK - 1) / Bitmaps.BITS_PER_BLOCK;
        long bbm = (blocks + Bitmaps.BITS_PER_BLOCK - 1) / Bitmaps.BITS_PER_BLOCK;
        long itb = inodes / (BLOCK / InodeRecord.SIZE);
        long js = 1;
        long ibs = js + journal;
        long bbs = ibs + ibm;
        long its = bbs + bbm;
        long first = its + itb;
        if (first + 64 >= blocks) {
            throw new IllegalArgumentException("region of " + bytes + " bytes is too small for a filesystem");
        }
        return new Geometry(blocks, inodes, js, journal, ibs, ibm, bbs, bbm, its, itb, first);
    }
}
