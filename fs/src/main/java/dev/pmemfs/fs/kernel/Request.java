package dev.pmemfs.fs.kernel;

import dev.pmemfs.fs.core.Errno;
import dev.pmemfs.fs.core.FsException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * One request as the kernel wrote it into a worker's off-heap buffer: the header's fields,
 * and typed reads of the body at offsets from {@link FuseAbi}, without copying the body.
 *
 * <p>Every read is bounded by the request's own length, so a short or malformed request
 * raises {@link FsException} (EINVAL) instead of reading stale bytes. Reused for every request
 * of one worker; confined to that worker's thread.
 */
final class Request {
    static final long HEADER = FuseAbi.IN_HEADER.byteSize();
    private static final long LEN = FuseAbi.off(FuseAbi.IN_HEADER, "len");
    private static final long OPCODE = FuseAbi.off(FuseAbi.IN_HEADER, "opcode");
    private static final long UNIQUE = FuseAbi.off(FuseAbi.IN_HEADER, "unique");
    private static final long NODEID = FuseAbi.off(FuseAbi.IN_HEADER, "nodeid");
    private static final long UID = FuseAbi.off(FuseAbi.IN_HEADER, "uid");
    private static final long GID = FuseAbi.off(FuseAbi.IN_HEADER, "gid");
    private static final long PID = FuseAbi.off(FuseAbi.IN_HEADER, "pid");
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private final MemorySegment buffer;
    private MemorySegment body = MemorySegment.NULL;
    int opcode;
    long unique;
    long nodeid;
    int uid;
    int gid;
    /** The caller's thread id: its supplementary groups for the set-ID rules ({@link dev.pmemfs.fs.frontend.Caller}). */
    int pid;

    Request(MemorySegment buffer) {
        this.buffer = buffer;
    }

    MemorySegment buffer() {
        return buffer;
    }

    /**
     * Reads the header of the {@code n} bytes just read; false if they are not a whole request
     * (then only {@link #unique} may be set, to answer it).
     */
    boolean parse(long n) {
        opcode = -1;
        unique = 0;
        if (n < HEADER) {
            return false;
        }
        unique = buffer.get(U64, UNIQUE);
        long len = buffer.get(U32, LEN) & 0xffffffffL;
        if (len != n) {
            return false;
        }
        opcode = buffer.get(U32, OPCODE);
        nodeid = buffer.get(U64, NODEID);
        uid = buffer.get(U32, UID);
        gid = buffer.get(U32, GID);
        pid = buffer.get(U32, PID);
        body = buffer.asSlice(HEADER, n - HEADER);
        return true;
    }

    long bodySize() {
        return body.byteSize();
    }

    int u32(long at) {
        check(at, 4);
        return body.get(U32, at);
    }

    long u64(long at) {
        check(at, 8);
        return body.get(U64, at);
    }

    /** {@code n} bytes of the body from {@code at}, as a view. */
    MemorySegment bytes(long at, long n) {
        check(at, n);
        return body.asSlice(at, n);
    }

    /** The NUL-terminated name at {@code at}. */
    String name(long at) {
        return new String(bytes(at, strlen(at)).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }

    /** The offset just past the NUL of the string at {@code at}. */
    long after(long at) {
        return at + strlen(at) + 1;
    }

    private long strlen(long at) {
        for (long i = at; i < body.byteSize(); i++) {
            if (body.get(ValueLayout.JAVA_BYTE, i) == 0) {
                return i - at;
            }
        }
        throw new FsException(Errno.EINVAL, "name without NUL in opcode " + opcode);
    }

    private void check(long at, long n) {
        if (at < 0 || n < 0 || at + n > body.byteSize()) {
            throw new FsException(Errno.EINVAL, "opcode " + opcode + " too short: " + body.byteSize() + " bytes");
        }
    }
}
