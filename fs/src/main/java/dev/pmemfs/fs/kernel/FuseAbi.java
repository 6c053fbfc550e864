package dev.pmemfs.fs.kernel;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.structLayout;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * The kernel's FUSE wire format (linux/fuse.h, protocol 7.39), declared once: the structs as
 * {@link MemoryLayout}s, their field offsets, the opcodes and the flags pmemfs uses. All fields
 * are little-endian native integers; every struct is 8-byte aligned in the stream.
 *
 * <p>Why layouts rather than bare numbers: each offset is derived from one declaration, and
 * {@code FuseAbiTest} pins every struct size against {@code sizeof} of the C header, the way the
 * layout package pins the on-media records. Stateless.
 */
final class FuseAbi {
    static final int MAJOR = 7;
    /** The minor we speak: 7.39 has FUSE_DIRECT_IO_ALLOW_MMAP, and no later struct change we use. */
    static final int MINOR = 39;
    static final long ROOT_ID = 1;

    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private static MemoryLayout u32(String n) {
        return U32.withName(n);
    }

    private static MemoryLayout u64(String n) {
        return U64.withName(n);
    }

    static long off(StructLayout s, String field) {
        return s.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    // ---- headers ---------------------------------------------------------------------------------
    static final StructLayout IN_HEADER = structLayout(u32("len"), u32("opcode"), u64("unique"), u64("nodeid"),
            u32("uid"), u32("gid"), u32("pid"), ValueLayout.JAVA_SHORT_UNALIGNED.withName("total_extlen"), paddingLayout(2));
    static final StructLayout OUT_HEADER = structLayout(u32("len"), u32("error"), u64("unique"));

    // ---- attributes and entries ------------------------------------------------------------------
    static final StructLayout ATTR = structLayout(u64("ino"), u64("size"), u64("blocks"), u64("atime"), u64("mtime"),
            u64("ctime"), u32("atimensec"), u32("mtimensec"), u32("ctimensec"), u32("mode"), u32("nlink"), u32("uid"),
            u32("gid"), u32("rdev"), u32("blksize"), u32("flags"));
    static final StructLayout ENTRY_OUT = structLayout(u64("nodeid"), u64("generation"), u64("entry_valid"),
            u64("attr_valid"), u32("entry_valid_nsec"), u32("attr_valid_nsec"), ATTR.withName("attr"));
    static final StructLayout ATTR_OUT = structLayout(u64("attr_valid"), u32("attr_valid_nsec"), u32("dummy"),
            ATTR.withName("attr"));
    static final StructLayout DIRENT = structLayout(u64("ino"), u64("off"), u32("namelen"), u32("type"));
    static final StructLayout DIRENTPLUS = structLayout(ENTRY_OUT.withName("entry_out"), DIRENT.withName("dirent"));

    // ---- INIT ------------------------------------------------------------------------------------
    static final StructLayout INIT_IN = structLayout(u32("major"), u32("minor"), u32("max_readahead"), u32("flags"),
            u32("flags2"), MemoryLayout.sequenceLayout(11, U32).withName("unused"));
    static final StructLayout INIT_OUT = structLayout(u32("major"), u32("minor"), u32("max_readahead"), u32("flags"),
            ValueLayout.JAVA_SHORT_UNALIGNED.withName("max_background"),
            ValueLayout.JAVA_SHORT_UNALIGNED.withName("congestion_threshold"), u32("max_write"), u32("time_gran"),
            ValueLayout.JAVA_SHORT_UNALIGNED.withName("max_pages"), ValueLayout.JAVA_SHORT_UNALIGNED.withName("map_alignment"),
            u32("flags2"), MemoryLayout.sequenceLayout(7, U32).withName("unused"));

    // ---- request bodies --------------------------------------------------------------------------
    static final StructLayout GETATTR_IN = structLayout(u32("getattr_flags"), u32("dummy"), u64("fh"));
    static final StructLayout SETATTR_IN = structLayout(u32("valid"), u32("padding"), u64("fh"), u64("size"),
            u64("lock_owner"), u64("atime"), u64("mtime"), u64("ctime"), u32("atimensec"), u32("mtimensec"),
            u32("ctimensec"), u32("mode"), u32("unused4"), u32("uid"), u32("gid"), u32("unused5"));
    static final StructLayout MKNOD_IN = structLayout(u32("mode"), u32("rdev"), u32("umask"), u32("padding"));
    static final StructLayout MKDIR_IN = structLayout(u32("mode"), u32("umask"));
    static final StructLayout RENAME_IN = structLayout(u64("newdir"));
    static final StructLayout RENAME2_IN = structLayout(u64("newdir"), u32("flags"), u32("padding"));
    static final StructLayout LINK_IN = structLayout(u64("oldnodeid"));
    static final StructLayout OPEN_IN = structLayout(u32("flags"), u32("open_flags"));
    static final StructLayout CREATE_IN = structLayout(u32("flags"), u32("mode"), u32("umask"), u32("open_flags"));
    static final StructLayout OPEN_OUT = structLayout(u64("fh"), u32("open_flags"), u32("backing_id"));
    static final StructLayout READ_IN = structLayout(u64("fh"), u64("offset"), u32("size"), u32("read_flags"),
            u64("lock_owner"), u32("flags"), u32("padding"));
    static final StructLayout WRITE_IN = structLayout(u64("fh"), u64("offset"), u32("size"), u32("write_flags"),
            u64("lock_owner"), u32("flags"), u32("padding"));
    static final StructLayout WRITE_OUT = structLayout(u32("size"), u32("padding"));
    static final StructLayout RELEASE_IN = structLayout(u64("fh"), u32("flags"), u32("release_flags"), u64("lock_owner"));
    static final StructLayout FLUSH_IN = structLayout(u64("fh"), u32("unused"), u32("padding"), u64("lock_owner"));
    static final StructLayout FSYNC_IN = structLayout(u64("fh"), u32("fsync_flags"), u32("padding"));
    static final StructLayout KSTATFS = structLayout(u64("blocks"), u64("bfree"), u64("bavail"), u64("files"),
            u64("ffree"), u32("bsize"), u32("namelen"), u32("frsize"), u32("padding"),
            MemoryLayout.sequenceLayout(6, U32).withName("spare"));
    /** FUSE_COMPAT_SETXATTR_IN_SIZE: the form sent unless FUSE_SETXATTR_EXT is negotiated (we do not). */
    static final StructLayout SETXATTR_IN = structLayout(u32("size"), u32("flags"));
    static final StructLayout GETXATTR_IN = structLayout(u32("size"), u32("padding"));
    static final StructLayout GETXATTR_OUT = structLayout(u32("size"), u32("padding"));
    static final StructLayout ACCESS_IN = structLayout(u32("mask"), u32("padding"));
    static final StructLayout FORGET_IN = structLayout(u64("nlookup"));
    static final StructLayout BATCH_FORGET_IN = structLayout(u32("count"), u32("dummy"));
    static final StructLayout FORGET_ONE = structLayout(u64("nodeid"), u64("nlookup"));
    static final StructLayout IOCTL_IN = structLayout(u64("fh"), u32("flags"), u32("cmd"), u64("arg"), u32("in_size"),
            u32("out_size"));
    static final StructLayout IOCTL_OUT = structLayout(u32("result"), u32("flags"), u32("in_iovs"), u32("out_iovs"));
    static final StructLayout FALLOCATE_IN = structLayout(u64("fh"), u64("offset"), u64("length"), u32("mode"),
            u32("padding"));
    static final StructLayout LSEEK_IN = structLayout(u64("fh"), u64("offset"), u32("whence"), u32("padding"));
    static final StructLayout LSEEK_OUT = structLayout(u64("offset"));
    static final StructLayout COPY_FILE_RANGE_IN = structLayout(u64("fh_in"), u64("off_in"), u64("nodeid_out"),
            u64("fh_out"), u64("off_out"), u64("len"), u64("flags"));

    // ---- opcodes ---------------------------------------------------------------------------------
    static final int LOOKUP = 1, FORGET = 2, GETATTR = 3, SETATTR = 4, READLINK = 5, SYMLINK = 6, MKNOD = 8,
            MKDIR = 9, UNLINK = 10, RMDIR = 11, RENAME = 12, LINK = 13, OPEN = 14, READ = 15, WRITE = 16, STATFS = 17,
            RELEASE = 18, FSYNC = 20, SETXATTR = 21, GETXATTR = 22, LISTXATTR = 23, REMOVEXATTR = 24, FLUSH = 25,
            INIT = 26, OPENDIR = 27, READDIR = 28, RELEASEDIR = 29, FSYNCDIR = 30, GETLK = 31, SETLK = 32, SETLKW = 33,
            ACCESS = 34, CREATE = 35, INTERRUPT = 36, BMAP = 37, DESTROY = 38, IOCTL = 39, POLL = 40, NOTIFY_REPLY = 41,
            BATCH_FORGET = 42, FALLOCATE = 43, READDIRPLUS = 44, RENAME2 = 45, LSEEK = 46, COPY_FILE_RANGE = 47;

    // ---- INIT flags (flags, and flags2 for bits 32 and up) ---------------------------------------
    static final long ASYNC_READ = 1L << 0, BIG_WRITES = 1L << 5, IOCTL_DIR = 1L << 11, AUTO_INVAL_DATA = 1L << 12,
            DO_READDIRPLUS = 1L << 13, READDIRPLUS_AUTO = 1L << 14, ASYNC_DIO = 1L << 15, WRITEBACK_CACHE = 1L << 16,
            PARALLEL_DIROPS = 1L << 18, MAX_PAGES = 1L << 22, CACHE_SYMLINKS = 1L << 23, HANDLE_KILLPRIV_V2 = 1L << 28,
            INIT_EXT = 1L << 30, DIRECT_IO_ALLOW_MMAP = 1L << 36;

    // ---- other flags -----------------------------------------------------------------------------
    static final int FOPEN_DIRECT_IO = 1, FOPEN_KEEP_CACHE = 2, FOPEN_PARALLEL_DIRECT_WRITES = 1 << 6;
    static final int FATTR_MODE = 1, FATTR_UID = 2, FATTR_GID = 4, FATTR_SIZE = 8, FATTR_ATIME = 16, FATTR_MTIME = 32,
            FATTR_FH = 64, FATTR_ATIME_NOW = 128, FATTR_MTIME_NOW = 256, FATTR_KILL_SUIDGID = 1 << 11;
    static final int GETATTR_FH = 1;
    static final int WRITE_KILL_SUIDGID = 1 << 2;
    static final int IOCTL_UNRESTRICTED = 1;
    /** {@code _IOR(229, 0, uint32_t)}: makes a fresh /dev/fuse descriptor serve the same connection. */
    static final long DEV_IOC_CLONE = 0x8004e500L;

    private FuseAbi() {
    }
}
