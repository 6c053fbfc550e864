package dev.pmemfs.fs.frontend;

import dev.pmemfs.fs.core.Errno;
import dev.pmemfs.fs.core.FileSystem;
import dev.pmemfs.fs.core.FsException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The ioctls that read and set the per-file DAX flag, the same ones ext4 and XFS answer, so
 * {@code xfs_io -c 'chattr +x'}, {@code xfs_io -c lsattr}, {@code chattr}/{@code lsattr} and
 * {@code pmemfs dax} all work.
 *
 * <p>FUSE passes only "restricted" ioctls: the kernel copies {@code _IOC_SIZE(cmd)} bytes in
 * (for {@code _IOW}) or out (for {@code _IOR}) through {@code data}. Since kernel 5.13 these four
 * reach us through the kernel's fileattr code, which may send GETFLAGS/SETFLAGS with a 4-byte
 * buffer. Stateless; the core guards the flag.
 */
public final class DaxIoctl {
    /** {@code _IOR('X', 31, struct fsxattr)}. */
    public static final int FS_IOC_FSGETXATTR = 0x801C581F;
    /** {@code _IOW('X', 32, struct fsxattr)}. */
    public static final int FS_IOC_FSSETXATTR = 0x401C5820;
    /** {@code _IOR('f', 1, long)}. */
    public static final int FS_IOC_GETFLAGS = 0x80086601;
    /** {@code _IOW('f', 2, long)}. */
    public static final int FS_IOC_SETFLAGS = 0x40086602;
    /** {@code fsx_xflags} bit of the DAX flag. */
    public static final int FS_XFLAG_DAX = 0x8000;
    /** {@code FS_IOC_GETFLAGS} bit of the DAX flag. */
    public static final int FS_DAX_FL = 0x02000000;
    /** Size of {@code struct fsxattr}: five u32 and 8 bytes of padding. */
    public static final int FSXATTR_SIZE = 28;
    private static final int ENOTTY = 25;

    private final FileSystem fs;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;

    public DaxIoctl(FileSystem fs) {
        this.fs = fs;
    }

    /**
     * Answers one ioctl on inode {@code ino}: 0, or a negative errno. {@code data} holds
     * {@link #size}{@code (cmd)} bytes: the argument in, the answer out.
     */
    public int handle(long ino, int cmd, MemorySegment data) {
        switch (cmd) {
            case FS_IOC_FSGETXATTR -> {
                data.asSlice(0, FSXATTR_SIZE).fill((byte) 0);
                data.set(INT, 0, fs.daxFlag(ino) ? FS_XFLAG_DAX : 0);
                return 0;
            }
            case FS_IOC_FSSETXATTR -> {
                int xflags = data.get(INT, 0);
                if ((xflags & ~FS_XFLAG_DAX) != 0) {
                    throw new FsException(Errno.EOPNOTSUPP, "only the DAX xflag is supported");
                }
                setIfChanged(ino, (xflags & FS_XFLAG_DAX) != 0);
                return 0;
            }
            case FS_IOC_GETFLAGS -> {
                data.set(INT, 0, fs.daxFlag(ino) ? FS_DAX_FL : 0);
                return 0;
            }
            case FS_IOC_SETFLAGS -> {
                int flags = data.get(INT, 0);
                if ((flags & ~FS_DAX_FL) != 0) {
                    throw new FsException(Errno.EOPNOTSUPP, "only the DAX attribute is supported");
                }
                setIfChanged(ino, (flags & FS_DAX_FL) != 0);
                return 0;
            }
            default -> {
                return -ENOTTY;
            }
        }
    }

    /** The argument size of an ioctl command: its {@code _IOC_SIZE} field. */
    public static int size(int cmd) {
        return (cmd >>> 16) & 0x3fff;
    }

    private void setIfChanged(long ino, boolean on) {
        if (fs.daxFlag(ino) != on) {
            fs.setDaxFlag(ino, on);
        }
    }
}
