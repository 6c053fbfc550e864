package dev.pmemfs.fs.cli;

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
            MemorySegment st = Libc.state(arena);
            MemorySegment attr = arena.allocate(FSXATTR_SIZE, 8);
            int fd = Libc.open(arena, st, file);
            try {
                check(Libc.ioctl(st, fd, FS_IOC_FSGETXATTR, attr), file);
                return (attr.get(ValueLayout.JAVA_INT, 0) & FS_XFLAG_DAX) != 0;
            } finally {
                Libc.close(fd);
            }
        }
    }

    static void setDax(Path file, boolean on) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = Libc.state(arena);
            MemorySegment attr = arena.allocate(FSXATTR_SIZE, 8);
            int fd = Libc.open(arena, st, file);
            try {
                check(Libc.ioctl(st, fd, FS_IOC_FSGETXATTR, attr), file);
                int x = attr.get(ValueLayout.JAVA_INT, 0);
                attr.set(ValueLayout.JAVA_INT, 0, on ? x | FS_XFLAG_DAX : x & ~FS_XFLAG_DAX);
                check(Libc.ioctl(st, fd, FS_IOC_FSSETXATTR, attr), file);
            } finally {
                Libc.close(fd);
            }
        }
    }

    private static void check(int errno, Path file) {
        if (errno == 25 || errno == 95) {
            throw new CliException(file + ": this filesystem has no per-file DAX flag");
        }
        if (errno != 0) {
            throw new CliException(file + ": " + Libc.strerror(errno));
        }
    }
}
