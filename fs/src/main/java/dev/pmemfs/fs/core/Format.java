package dev.pmemfs.fs.core;

import dev.pmemfs.device.Region;
import dev.pmemfs.fs.layout.Bitmaps;
import dev.pmemfs.fs.layout.BlockCrc;
import dev.pmemfs.fs.layout.Geometry;
import dev.pmemfs.fs.layout.InodeRecord;
import dev.pmemfs.fs.layout.Superblock;
import java.time.Instant;
import java.util.BitSet;
import java.util.UUID;
import java.util.function.LongConsumer;

/** mkfs, and reading and writing the superblock and its backup. */
public final class Format {
    private Format() {
    }

    /** A filesystem on this region cannot be used: a one-line reason naming the region. */
    public static final class BadRegionException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadRegionException(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Writes an empty filesystem over the whole region. {@code progress} hears the percentage
     * done (0..100) while the inode table is cleared, the long part on large regions.
     */
    public static Superblock mkfs(Region region, long bytesPerInode, boolean rootDax, LongConsumer progress) {
        return mkfs(region, bytesPerInode, rootDax, 0, 0, progress);
    }

    /** mkfs whose root directory belongs to {@code rootUid}:{@code rootGid} (mke2fs's {@code root_owner}). */
    public static Superblock mkfs(Region region, long bytesPerInode, boolean rootDax, int rootUid, int rootGid,
                                  LongConsumer progress) {
        return mkfs(region, Geometry.of(region.dataSize(), bytesPerInode), rootDax, rootUid, rootGid, progress);
    }

    /** mkfs with a given layout (tests pass small journals). */
    static Superblock mkfs(Region region, Geometry g, boolean rootDax, LongConsumer progress) {
        return mkfs(region, g, rootDax, 0, 0, progress);
    }

    private static Superblock mkfs(Region region, Geometry g, boolean rootDax, int rootUid, int rootGid,
                                   LongConsumer progress) {
        int blk = Geometry.BLOCK;
        // Invalidate the superblocks first: a crash during mkfs leaves no filesystem, not half of one.
        region.fill(0, blk, (byte) 0);
        region.fill(g.backupSuperblock() * blk, blk, (byte) 0);
        region.persist(0, blk);
        region.persist(g.backupSuperblock() * blk, blk);
        region.fill(g.journalStart() * blk, blk, (byte) 0);
        long tableStart = g.inodeTableStart() * blk;
        long tableBytes = g.inodeTableBlocks() * blk;
        long step = 64L << 20;
        for (long done = 0; done < tableBytes; done += step) {
            long n = Math.min(step, tableBytes - done);
            region.fill(tableStart + done, n, (byte) 0);
            progress.accept(done * 100 / tableBytes);
        }
        BitSet inodes = new BitSet();
        inodes.set(0, 2); // inode 0 unused, 1 root
        writeBitmap(region, g.inodeBitmapStart(), g.inodeBitmapBlocks(), inodes);
        BitSet blocks = new BitSet();
        blocks.set(0, (int) g.firstDataBlock());
        blocks.set((int) g.backupSuperblock(), (int) g.blocks());
        writeBitmap(region, g.blockBitmapStart(), g.blockBitmapBlocks(), blocks);
        InodeRecord root = new InodeRecord();
        root.mode = InodeRecord.S_IFDIR | 0755;
        root.nlink = 2;
        root.uid = rootUid;
        root.gid = rootGid;
        root.parent = FileSystem.ROOT;
        root.flags = rootDax ? InodeRecord.FLAG_DAX : 0;
        FileSystem.touch(root, true, true, true);
        byte[] tb = new byte[blk];
        root.encode(tb, FileSystem.inodeOffset(FileSystem.ROOT));
        region.write(tableStart, tb, 0, blk);
        region.persist(blk, g.firstDataBlock() * blk - blk);
        Superblock sb = new Superblock(g, 0, UUID.randomUUID(), true, rootDax, Instant.now().getEpochSecond(), 0);
        writeSuperblock(region, sb);
        progress.accept(100);
        return sb;
    }

    private static void writeBitmap(Region region, long start, long count, BitSet bits) {
        for (long i = 0; i < count; i++) {
            byte[] b = Bitmaps.encode(bits, i);
            region.write((start + i) * Geometry.BLOCK, b, 0, b.length);
        }
    }

    /**
     * Writes the superblock and then its backup, persisting each, so that one good copy exists
     * at every moment. A backup torn by a power failure during the previous call is rewritten
     * first: otherwise a second failure while the primary is written would leave no good copy
     * (found by the crash test's failures during recovery).
     */
    public static void writeSuperblock(Region region, Superblock sb) {
        byte[] b = sb.encode();
        long backup = sb.geometry().backupSuperblock() * Geometry.BLOCK;
        byte[] old = new byte[BlockCrc.BLOCK];
        region.read(backup, old, 0, Superblock.SIZE);
        if (Superblock.check(old, region.dataSize() / Geometry.BLOCK) != null) {
            region.write(backup, b, 0, Superblock.SIZE);
            region.persist(backup, Superblock.SIZE);
        }
        region.write(0, b, 0, Superblock.SIZE);
        region.persist(0, Superblock.SIZE);
        region.write(backup, b, 0, Superblock.SIZE);
        region.persist(backup, Superblock.SIZE);
    }

    /**
     * Reads the superblock, falling back to the backup when the primary is damaged, and throws
     * {@link BadRegionException} with a clear reason when neither is usable.
     */
    public static Superblock readSuperblock(Region region) {
        long regionBlocks = region.dataSize() / Geometry.BLOCK;
        byte[] b = new byte[BlockCrc.BLOCK];
        region.read(0, b, 0, Superblock.SIZE);
        Superblock.Problem p = Superblock.check(b, regionBlocks);
        if (p == null) {
            return Superblock.decode(b);
        }
        // The backup is at the last block of the filesystem, which fills the region.
        byte[] backup = new byte[BlockCrc.BLOCK];
        region.read((regionBlocks - 1) * Geometry.BLOCK, backup, 0, Superblock.SIZE);
        if (Superblock.check(backup, regionBlocks) == null) {
            Superblock sb = Superblock.decode(backup);
            writeSuperblock(region, sb);
            return sb;
        }
        throw new BadRegionException(switch (p) {
            case FOREIGN -> region.name() + ": not a pmemfs region (no pmemfs superblock; run `pmemfs mkfs` first)";
            case BAD_CHECKSUM -> region.name() + ": pmemfs superblock is corrupt (bad checksum) and so is its backup";
            case BAD_VERSION -> region.name() + ": made by another version of pmemfs (this one reads format "
                    + Superblock.VERSION + "): copy the data off with the pmemfs that made it, then mkfs --force";
            case BAD_GEOMETRY -> region.name() + ": pmemfs superblock describes a region larger than this one";
        });
    }
}
