package dev.pmemfs.fs.core;

/**
 * What stat(2) reports of an inode.
 *
 * @param blocks 512-byte units allocated, as st_blocks
 * @param rdev the device number of a character or block device inode (as st_rdev, Linux's
 *     encoding: {@code makedev(major, minor)}), 0 for every other type
 */
public record Attr(long ino, int mode, int nlink, int uid, int gid, long size, long blocks,
                   long atimeSec, int atimeNsec, long mtimeSec, int mtimeNsec, long ctimeSec, int ctimeNsec,
                   boolean dax, long rdev) {
    public boolean isDir() {
        return (mode & 0170000) == 0040000;
    }

    public boolean isRegular() {
        return (mode & 0170000) == 0100000;
    }

    public boolean isSymlink() {
        return (mode & 0170000) == 0120000;
    }
}
