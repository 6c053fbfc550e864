package dev.pmemfs.fs.cli;

import dev.pmemfs.fs.os.Syscalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * The DAX flag of any file through FS_IOC_FSGETXATTR / FS_IOC_FSSETXATTR (struct fsxattr,
 * 28 bytes, {@code fsx_xflags} first), the ioctls ext4, XFS and pmemfs answer. Stateless.
 */
final class FsXattr {
    private static final int FS_IOC_FSGETXATTR = 0x801C581F;
    private static final int FS_IOC_FSSETXATTR = 0x401C5820;
    private static final int FS_XFLAG_DAX = 0x8000;
    private static final int FSXATTR_SIZE = 28;

    private FsXattr() {
    }

    static boolean getDax(Path file) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(FSXATTR_SIZE, 8);
            int fd = Libc.open(file);
            try {
                check(Syscalls.ioctl(fd, FS_IOC_FSGETXATTR & 0xffffffffL, attr), file);
                return (attr.get(ValueLayout.JAVA_INT, 0) & FS_XFLAG_DAX) != 0;
            } finally {
                Libc.close(fd);
            }
        }
    }

    static void setDax(Path file, boolean on) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment attr = arena.allocate(FSXATTR_SIZE, 8);
            int fd = Libc.open(file);
            try {
                check(Syscalls.ioctl(fd, FS_IOC_FSGETXATTR & 0xffffffffL, attr), file);
                int x = attr.get(ValueLayout.JAVA_INT, 0);
                attr.set(ValueLayout.JAVA_INT, 0, on ? x | FS_XFLAG_DAX : x & ~FS_XFLAG_DAX);
                check(Syscalls.ioctl(fd, FS_IOC_FSSETXATTR & 0xffffffffL, attr), file);
            } finally {
                Libc.close(fd);
            }
        }
    }

    /** Throws for an ioctl's {@code -errno}. */
    private static void check(int rc, Path file) {
        int errno = -Math.min(rc, 0);
        if (errno == 25 || errno == 95) {
            throw new CliException(file + ": this filesystem has no per-file DAX flag");
        }
        if (errno != 0) {
            throw new CliException(file + ": " + Libc.strerror(errno));
        }
    }
}
