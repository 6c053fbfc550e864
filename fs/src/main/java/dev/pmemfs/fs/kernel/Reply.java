package dev.pmemfs.fs.kernel;

import dev.pmemfs.fs.os.Syscalls;
import dev.pmemfs.cache.Pages;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes replies to one worker's {@code /dev/fuse} descriptor: a {@code fuse_out_header}
 * and the payload that the dispatcher laid out in {@link #payload()}, in one write(2).
 *
 * <p>The payload area is this worker's off-heap buffer, large enough for a 1 MiB read. A READ
 * of mapped blocks goes out without it: as the {@link Pages.SliceReader} of
 * {@link #sliceReply}, this sends the header and the page slices in one writev(2), so the
 * kernel's copy out of the page is the only one. Confined to its worker's thread.
 */
final class Reply implements Pages.SliceReader {
    private static final Logger LOG = LoggerFactory.getLogger(Reply.class);
    static final long HEADER = FuseAbi.OUT_HEADER.byteSize();
    private static final long LEN = FuseAbi.off(FuseAbi.OUT_HEADER, "len");
    private static final long ERROR = FuseAbi.off(FuseAbi.OUT_HEADER, "error");
    private static final long UNIQUE = FuseAbi.off(FuseAbi.OUT_HEADER, "unique");

    /** struct iovec entries: the header and the slices of a 1 MiB read over unaligned 4 KiB pages. */
    private static final int IOVECS = Session.MAX_PAGES + 4;

    private final int fd;
    private final MemorySegment out;
    private final MemorySegment payload;
    private final MemorySegment iov;
    /** The request the next {@link #accept} answers. */
    private long sliceUnique;

    Reply(int fd, MemorySegment out) {
        this.fd = fd;
        this.out = out;
        this.payload = out.asSlice(HEADER);
        this.iov = Arena.ofAuto().allocate(16L * IOVECS, 8);
    }

    /** This, as the reader that answers request {@code unique} with the slices it is handed. */
    Pages.SliceReader sliceReply(long unique) {
        sliceUnique = unique;
        return this;
    }

    /**
     * Sends a success whose payload is {@code slices[0 .. count)}: one writev of the header and
     * the slices; copied into the payload area first if one is not native memory (a heap page).
     */
    @Override
    public void accept(MemorySegment[] slices, int count) {
        long n = 0;
        boolean nativeOnly = count < IOVECS;
        for (int i = 0; i < count; i++) {
            n += slices[i].byteSize();
            nativeOnly &= slices[i].isNative();
        }
        if (!nativeOnly || n > payload.byteSize()) {
            long at = 0;
            for (int i = 0; i < count && at < payload.byteSize(); i++) {
                long len = Math.min(slices[i].byteSize(), payload.byteSize() - at);
                MemorySegment.copy(slices[i], 0, payload, at, len);
                at += len;
            }
            send(sliceUnique, 0, at);
            return;
        }
        header(sliceUnique, 0, HEADER + n);
        iov.set(ValueLayout.JAVA_LONG, 0, out.address());
        iov.set(ValueLayout.JAVA_LONG, 8, HEADER);
        for (int i = 0; i < count; i++) {
            iov.set(ValueLayout.JAVA_LONG, 16L * (i + 1), slices[i].address());
            iov.set(ValueLayout.JAVA_LONG, 16L * (i + 1) + 8, slices[i].byteSize());
        }
        taken(sliceUnique, Syscalls.writev(fd, iov, count + 1));
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
        header(unique, error, len);
        return taken(unique, Syscalls.write(fd, out, len));
    }

    private void header(long unique, int error, long len) {
        out.set(ValueLayout.JAVA_INT_UNALIGNED, LEN, (int) len);
        out.set(ValueLayout.JAVA_INT_UNALIGNED, ERROR, error);
        out.set(ValueLayout.JAVA_LONG_UNALIGNED, UNIQUE, unique);
    }

    private static boolean taken(long unique, long rc) {
        // ENOENT: the request was interrupted or its caller is gone; nothing to do.
        if (rc < 0 && rc != -Syscalls.ENOENT) {
            LOG.debug("reply to request {} not taken: errno {}", unique, -rc);
        }
        return rc >= 0;
    }
}
