package dev.pmemfs.fs.kernel;

import static dev.pmemfs.fs.kernel.FuseAbi.ATTR;
import static dev.pmemfs.fs.kernel.FuseAbi.ATTR_OUT;
import static dev.pmemfs.fs.kernel.FuseAbi.DIRENT;
import static dev.pmemfs.fs.kernel.FuseAbi.ENTRY_OUT;
import static dev.pmemfs.fs.kernel.FuseAbi.off;

import dev.pmemfs.fs.core.Attr;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Lays out the reply structs that carry attributes ({@code fuse_attr}, {@code fuse_entry_out},
 * {@code fuse_attr_out}) and directory entries ({@code fuse_dirent}) into a reply payload.
 * Stateless.
 */
final class Wire {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    static final long ENTRY_SIZE = ENTRY_OUT.byteSize();
    static final long ATTR_OUT_SIZE = ATTR_OUT.byteSize();
    static final long DIRENT_SIZE = DIRENT.byteSize();

    private static final long A_INO = off(ATTR, "ino"), A_SIZE = off(ATTR, "size"), A_BLOCKS = off(ATTR, "blocks"),
            A_ATIME = off(ATTR, "atime"), A_MTIME = off(ATTR, "mtime"), A_CTIME = off(ATTR, "ctime"),
            A_ATIMENS = off(ATTR, "atimensec"), A_MTIMENS = off(ATTR, "mtimensec"), A_CTIMENS = off(ATTR, "ctimensec"),
            A_MODE = off(ATTR, "mode"), A_NLINK = off(ATTR, "nlink"), A_UID = off(ATTR, "uid"), A_GID = off(ATTR, "gid"),
            A_RDEV = off(ATTR, "rdev"), A_BLKSIZE = off(ATTR, "blksize");
    private static final long E_NODEID = off(ENTRY_OUT, "nodeid"), E_GENERATION = off(ENTRY_OUT, "generation"),
            E_ENTRY_VALID = off(ENTRY_OUT, "entry_valid"),
            E_ATTR_VALID = off(ENTRY_OUT, "attr_valid"), E_ENTRY_NSEC = off(ENTRY_OUT, "entry_valid_nsec"),
            E_ATTR_NSEC = off(ENTRY_OUT, "attr_valid_nsec"), E_ATTR = off(ENTRY_OUT, "attr");
    private static final long O_VALID = off(ATTR_OUT, "attr_valid"), O_NSEC = off(ATTR_OUT, "attr_valid_nsec"),
            O_ATTR = off(ATTR_OUT, "attr");
    private static final long D_INO = off(DIRENT, "ino"), D_OFF = off(DIRENT, "off"), D_NAMELEN = off(DIRENT, "namelen"),
            D_TYPE = off(DIRENT, "type");

    private Wire() {
    }

    /** A {@code fuse_attr} at {@code at}. */
    static void attr(MemorySegment p, long at, Attr a) {
        p.asSlice(at, ATTR.byteSize()).fill((byte) 0);
        p.set(U64, at + A_INO, a.ino());
        p.set(U64, at + A_SIZE, a.size());
        p.set(U64, at + A_BLOCKS, a.blocks());
        p.set(U64, at + A_ATIME, a.atimeSec());
        p.set(U64, at + A_MTIME, a.mtimeSec());
        p.set(U64, at + A_CTIME, a.ctimeSec());
        p.set(U32, at + A_ATIMENS, a.atimeNsec());
        p.set(U32, at + A_MTIMENS, a.mtimeNsec());
        p.set(U32, at + A_CTIMENS, a.ctimeNsec());
        p.set(U32, at + A_MODE, a.mode());
        p.set(U32, at + A_NLINK, a.nlink());
        p.set(U32, at + A_UID, a.uid());
        p.set(U32, at + A_GID, a.gid());
        p.set(U32, at + A_RDEV, (int) a.rdev());
        p.set(U32, at + A_BLKSIZE, 4096);
    }

    /**
     * A {@code fuse_entry_out} at {@code at} for {@code a} (null: no entry, nodeid 0, as
     * readdirplus answers for "." and ".."), valid for {@code validNanos}.
     */
    static void entry(MemorySegment p, long at, Attr a, long validNanos) {
        if (a == null) {
            p.asSlice(at, ENTRY_SIZE).fill((byte) 0);
            return;
        }
        p.set(U64, at + E_NODEID, a.ino());
        p.set(U64, at + E_GENERATION, 0L);
        p.set(U64, at + E_ENTRY_VALID, validNanos / 1_000_000_000L);
        p.set(U64, at + E_ATTR_VALID, validNanos / 1_000_000_000L);
        p.set(U32, at + E_ENTRY_NSEC, (int) (validNanos % 1_000_000_000L));
        p.set(U32, at + E_ATTR_NSEC, (int) (validNanos % 1_000_000_000L));
        attr(p, at + E_ATTR, a);
    }

    /** A negative {@code fuse_entry_out} at {@code at}: node id 0, the name's absence valid for {@code validNanos}. */
    static void negativeEntry(MemorySegment p, long at, long validNanos) {
        p.asSlice(at, ENTRY_SIZE).fill((byte) 0);
        p.set(U64, at + E_ENTRY_VALID, validNanos / 1_000_000_000L);
        p.set(U32, at + E_ENTRY_NSEC, (int) (validNanos % 1_000_000_000L));
    }

    /** A {@code fuse_attr_out} at 0. */
    static void attrOut(MemorySegment p, Attr a, long validNanos) {
        p.set(U64, O_VALID, validNanos / 1_000_000_000L);
        p.set(U32, O_NSEC, (int) (validNanos % 1_000_000_000L));
        p.set(U32, O_NSEC + 4, 0);
        attr(p, O_ATTR, a);
    }

    /** The bytes a {@code fuse_dirent} with a name of {@code nameLen} bytes takes, padded to 8. */
    static long direntSize(int nameLen) {
        return (DIRENT_SIZE + nameLen + 7) & ~7L;
    }

    /** A {@code fuse_dirent} at {@code at}; returns its padded size. */
    static long dirent(MemorySegment p, long at, long ino, long nextOff, int type, byte[] name) {
        long size = direntSize(name.length);
        p.set(U64, at + D_INO, ino);
        p.set(U64, at + D_OFF, nextOff);
        p.set(U32, at + D_NAMELEN, name.length);
        p.set(U32, at + D_TYPE, type);
        MemorySegment.copy(name, 0, p, ValueLayout.JAVA_BYTE, at + DIRENT_SIZE, name.length);
        p.asSlice(at + DIRENT_SIZE + name.length, size - DIRENT_SIZE - name.length).fill((byte) 0);
        return size;
    }
}
