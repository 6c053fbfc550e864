package dev.pmemfs.fs.layout;

import java.nio.ByteBuffer;

/**
 * An inode as stored in the inode table: 256 bytes with a CRC32C (offsets in the package
 * javadoc). Mutable: the filesystem core edits one and writes it back.
 */
public final class InodeRecord {
    public static final int SIZE = 256;
    public static final int DIRECT = 12;
    public static final int FLAG_DAX = 1;
    /**
     * Blocks may lie beyond the size: fallocate with KEEP_SIZE put them there (ext4 once had
     * EOFBLOCKS_FL for the same). Without it, fsck reports such blocks.
     */
    public static final int FLAG_PREALLOC = 2;
    static final int CRC_OFFSET = 252;

    public static final int S_IFMT = 0170000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFIFO = 0010000;
    public static final int S_IFCHR = 0020000;
    public static final int S_IFBLK = 0060000;
    public static final int S_IFSOCK = 0140000;

    public int mode;
    public int uid;
    public int gid;
    public int nlink;
    public long size;
    public long atimeSec;
    public int atimeNsec;
    public int flags;
    public long mtimeSec;
    public int mtimeNsec;
    public long ctimeSec;
    public int ctimeNsec;
    public long blocks;
    public long xattrBlock;
    public long parent;
    public final long[] direct = new long[DIRECT];
    public long indirect1;
    public long indirect2;
    public long indirect3;
    public int generation;
    /** The device number of a character or block device ({@code makedev(major, minor)}), else 0. */
    public long rdev;

    public boolean isFree() {
        return mode == 0;
    }

    public int type() {
        return mode & S_IFMT;
    }

    public boolean isDir() {
        return type() == S_IFDIR;
    }

    public boolean isRegular() {
        return type() == S_IFREG;
    }

    public boolean isSymlink() {
        return type() == S_IFLNK;
    }

    /** A FIFO, socket, character or block device: an inode with no data of its own. */
    public boolean isSpecial() {
        int t = type();
        return t == S_IFIFO || t == S_IFSOCK || isDevice();
    }

    public boolean isDevice() {
        int t = type();
        return t == S_IFCHR || t == S_IFBLK;
    }

    /** Whether the type bits name one of the six types pmemfs stores. */
    public boolean knownType() {
        return isRegular() || isDir() || isSymlink() || isSpecial();
    }

    public boolean dax() {
        return (flags & FLAG_DAX) != 0;
    }

    /** Writes this inode at {@code off} of {@code block}. */
    public void encode(byte[] block, int off) {
        ByteBuffer bb = BlockCrc.le(block);
        java.util.Arrays.fill(block, off, off + SIZE, (byte) 0);
        if (isFree()) {
            return; // a free inode is all zeros
        }
        bb.putInt(off, mode).putInt(off + 4, uid).putInt(off + 8, gid).putInt(off + 12, nlink);
        bb.putLong(off + 16, size).putLong(off + 24, atimeSec).putInt(off + 32, atimeNsec).putInt(off + 36, flags);
        bb.putLong(off + 40, mtimeSec).putInt(off + 48, mtimeNsec);
        bb.putLong(off + 56, ctimeSec).putInt(off + 64, ctimeNsec);
        bb.putLong(off + 72, blocks).putLong(off + 80, xattrBlock).putLong(off + 88, parent);
        for (int i = 0; i < DIRECT; i++) {
            bb.putLong(off + 96 + 8 * i, direct[i]);
        }
        bb.putLong(off + 192, indirect1).putLong(off + 200, indirect2).putLong(off + 208, indirect3);
        bb.putLong(off + 216, rdev);
        bb.putInt(off + 248, generation);
        bb.putInt(off + CRC_OFFSET, BlockCrc.crc(block, off, CRC_OFFSET));
    }

    /** Whether the record at {@code off} is free (all zeros) or carries a good checksum. */
    public static boolean valid(byte[] block, int off) {
        ByteBuffer bb = BlockCrc.le(block);
        if (bb.getInt(off) == 0) {
            for (int i = off; i < off + SIZE; i++) {
                if (block[i] != 0) {
                    return false;
                }
            }
            return true;
        }
        return bb.getInt(off + CRC_OFFSET) == BlockCrc.crc(block, off, CRC_OFFSET);
    }

    public static InodeRecord decode(byte[] block, int off) {
        ByteBuffer bb = BlockCrc.le(block);
        InodeRecord r = new InodeRecord();
        r.mode = bb.getInt(off);
        r.uid = bb.getInt(off + 4);
        r.gid = bb.getInt(off + 8);
        r.nlink = bb.getInt(off + 12);
        r.size = bb.getLong(off + 16);
        r.atimeSec = bb.getLong(off + 24);
        r.atimeNsec = bb.getInt(off + 32);
        r.flags = bb.getInt(off + 36);
        r.mtimeSec = bb.getLong(off + 40);
        r.mtimeNsec = bb.getInt(off + 48);
        r.ctimeSec = bb.getLong(off + 56);
        r.ctimeNsec = bb.getInt(off + 64);
        r.blocks = bb.getLong(off + 72);
        r.xattrBlock = bb.getLong(off + 80);
        r.parent = bb.getLong(off + 88);
        for (int i = 0; i < DIRECT; i++) {
            r.direct[i] = bb.getLong(off + 96 + 8 * i);
        }
        r.indirect1 = bb.getLong(off + 192);
        r.indirect2 = bb.getLong(off + 200);
        r.indirect3 = bb.getLong(off + 208);
        r.rdev = bb.getLong(off + 216);
        r.generation = bb.getInt(off + 248);
        return r;
    }
}
