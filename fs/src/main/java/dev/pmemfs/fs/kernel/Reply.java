package dev.pmemfs.fs.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes replies to one worker's {@code /dev/fuse} descriptor: a {@code fuse_out_header}
 * and the payload that the dispatcher laid out in {@link #payload()}, in one write(2).
 *
 * <p>The payload area is this worker's off-heap buffer, large enough for a 1 MiB read, so a
 * read copies file data once (from the page or the mapping into this buffer) and the kernel
 * takes it from there. Confined to its worker's thread.
 */
final class Reply {
    private static final Logger LOG = LoggerFactory.getLogger(Reply.class);
    static final long HEADER = FuseAbi.OUT_HEADER.byteSize();
    private static final long LEN = FuseAbi.off(FuseAbi.OUT_HEADER, "len");
    private static final long ERROR = FuseAbi.off(FuseAbi.OUT_HEADER, "error");
    private static final long UNIQUE = FuseAbi.off(FuseAbi.OUT_HEADER, "unique");

    private final int fd;
    private final MemorySegment out;
    private final MemorySegment payload;

    Reply(int fd, MemorySegment out) {
        this.fd = fd;
        this.out = out;
        this.payload = out.asSlice(HEADER);
    }

    /** Where the payload of the next reply goes; zero it where the kernel reads padding. */
    MemorySegment payload() {
        return payload;
    }

    /** Sends a success with the first {@code n} bytes of {@link #payload()}; false if the kernel did not take it. */
    boolean ok(long unique, long n) {
        return send(unique, 0, n);
    }

    /** Sends {@code errno} (positive) with no payload. */
    void error(long unique, int errno) {
        send(unique, -errno, 0);
    }

    private boolean send(long unique, int error, long n) {
        long len = HEADER + n;
        out.set(ValueLayout.JAVA_INT_UNALIGNED, LEN, (int) len);
        out.set(ValueLayout.JAVA_INT_UNALIGNED, ERROR, error);
        out.set(ValueLayout.JAVA_LONG_UNALIGNED, UNIQUE, unique);
        long rc = Syscalls.write(fd, out, len);
        // ENOENT: the request was interrupted or its caller is gone; nothing to do.
        if (rc < 0 && rc != -Syscalls.ENOENT) {
            LOG.debug("reply to request {} not taken: errno {}", unique, -rc);
        }
        return rc >= 0;
    }
}
