package dev.pmemfs.fs.kernel;

import static dev.pmemfs.fs.kernel.FuseAbi.GETXATTR_IN;
import static dev.pmemfs.fs.kernel.FuseAbi.GETXATTR_OUT;
import static dev.pmemfs.fs.kernel.FuseAbi.ROOT_ID;
import static dev.pmemfs.fs.kernel.FuseAbi.SETXATTR_IN;

import dev.pmemfs.fs.core.Errno;
import dev.pmemfs.fs.core.FileSystem;
import dev.pmemfs.fs.core.FsException;
import dev.pmemfs.fs.frontend.LiveStats;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * The extended-attribute requests of the kernel frontend (SETXATTR, GETXATTR, LISTXATTR,
 * REMOVEXATTR) onto the core's xattrs, with the root's read-only live statistics
 * ({@link LiveStats}) answered in their place. Split from {@link Dispatcher} to keep it short.
 * Stateless; thread-safe as the core is.
 */
final class XattrRequests {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    private final FileSystem fs;
    private final LiveStats stats;

    XattrRequests(FileSystem fs, LiveStats stats) {
        this.fs = fs;
        this.stats = stats;
    }

    /** SETXATTR. */
    long set(Request in) {
        int size = in.u32(0);
        int flags = in.u32(4);
        long nameAt = SETXATTR_IN.byteSize();
        String name = in.name(nameAt);
        if (stats.handles(in.nodeid == ROOT_ID, name)) {
            throw new FsException(Errno.EPERM, name + " is read-only");
        }
        byte[] value = in.bytes(in.after(nameAt), size).toArray(ValueLayout.JAVA_BYTE);
        fs.xattrs().set(in.nodeid, name, value, flags);
        return 0;
    }

    /** GETXATTR: the value, or its length when asked with size 0. */
    long get(Request in, MemorySegment p) {
        String name = in.name(GETXATTR_IN.byteSize());
        long ino = in.nodeid;
        return reply(p, in.u32(0), stats.handles(ino == ROOT_ID, name) ? stats.value(name) : fs.xattrs().get(ino, name));
    }

    /** LISTXATTR: the names, each NUL-terminated, or their length. */
    long list(Request in, MemorySegment p) {
        StringBuilder sb = new StringBuilder();
        for (String n : fs.xattrs().list(in.nodeid)) {
            sb.append(n).append('\0');
        }
        return reply(p, in.u32(0), sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** REMOVEXATTR. */
    long remove(Request in) {
        String name = in.name(0);
        if (stats.handles(in.nodeid == ROOT_ID, name)) {
            throw new FsException(Errno.EPERM, name + " is read-only");
        }
        fs.xattrs().remove(in.nodeid, name);
        return 0;
    }

    /** Size 0 asks for the length ({@code fuse_getxattr_out}); else the value, or ERANGE. */
    private static long reply(MemorySegment p, int size, byte[] v) {
        if (size == 0) {
            p.set(U32, 0, v.length);
            p.set(U32, 4, 0);
            return GETXATTR_OUT.byteSize();
        }
        if (size < v.length) {
            throw new FsException(Errno.ERANGE, "buffer of " + size + " bytes too small for " + v.length);
        }
        MemorySegment.copy(v, 0, p, ValueLayout.JAVA_BYTE, 0, v.length);
        return v.length;
    }
}
