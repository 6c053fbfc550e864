package dev.pmemfs.fs.kernel;

import static dev.pmemfs.fs.kernel.FuseAbi.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.StructLayout;
import org.junit.jupiter.api.Test;

/**
 * Pins the wire structs against linux/fuse.h: the sizes and offsets below are
 * {@code sizeof}/{@code offsetof} printed by a C program compiled against
 * /usr/include/linux/fuse.h (7.38) on x86-64.
 */
final class FuseAbiTest {
    private static void size(long expected, StructLayout s) {
        assertEquals(expected, s.byteSize(), s.toString());
    }

    @Test
    void sizes_matchLinuxFuseH() {
        size(40, IN_HEADER);
        size(16, OUT_HEADER);
        size(88, ATTR);
        size(128, ENTRY_OUT);
        size(104, ATTR_OUT);
        size(64, INIT_IN);
        size(64, INIT_OUT);
        size(16, GETATTR_IN);
        size(88, SETATTR_IN);
        size(16, MKNOD_IN);
        size(8, MKDIR_IN);
        size(8, RENAME_IN);
        size(16, RENAME2_IN);
        size(8, LINK_IN);
        size(8, OPEN_IN);
        size(16, CREATE_IN);
        size(16, OPEN_OUT);
        size(40, READ_IN);
        size(40, WRITE_IN);
        size(8, WRITE_OUT);
        size(24, RELEASE_IN);
        size(24, FLUSH_IN);
        size(16, FSYNC_IN);
        size(80, KSTATFS);
        size(8, GETXATTR_IN);
        size(8, GETXATTR_OUT);
        size(8, ACCESS_IN);
        size(8, FORGET_IN);
        size(8, BATCH_FORGET_IN);
        size(16, FORGET_ONE);
        size(32, IOCTL_IN);
        size(16, IOCTL_OUT);
        size(32, FALLOCATE_IN);
        size(24, LSEEK_IN);
        size(8, LSEEK_OUT);
        size(56, COPY_FILE_RANGE_IN);
        size(24, DIRENT);
        size(152, DIRENTPLUS);
    }

    @Test
    void offsets_matchLinuxFuseH() {
        assertEquals(8, off(SETATTR_IN, "fh"));
        assertEquals(16, off(SETATTR_IN, "size"));
        assertEquals(32, off(SETATTR_IN, "atime"));
        assertEquals(40, off(SETATTR_IN, "mtime"));
        assertEquals(56, off(SETATTR_IN, "atimensec"));
        assertEquals(60, off(SETATTR_IN, "mtimensec"));
        assertEquals(68, off(SETATTR_IN, "mode"));
        assertEquals(76, off(SETATTR_IN, "uid"));
        assertEquals(80, off(SETATTR_IN, "gid"));
        assertEquals(28, off(INIT_OUT, "max_pages"));
        assertEquals(32, off(INIT_OUT, "flags2"));
        assertEquals(16, off(COPY_FILE_RANGE_IN, "nodeid_out"));
        assertEquals(32, off(COPY_FILE_RANGE_IN, "off_out"));
        assertEquals(40, off(COPY_FILE_RANGE_IN, "len"));
        assertEquals(12, off(IOCTL_IN, "cmd"));
        assertEquals(24, off(IOCTL_IN, "in_size"));
        assertEquals(28, off(IOCTL_IN, "out_size"));
    }

    @Test
    void devIocClone_isIorOfUint32() {
        // _IOR(229, 0, uint32_t): direction read (2) << 30 | size 4 << 16 | type 229 << 8 | nr 0
        assertEquals((2L << 30) | (4L << 16) | (229L << 8), DEV_IOC_CLONE);
    }
}
