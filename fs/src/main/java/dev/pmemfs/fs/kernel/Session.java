package dev.pmemfs.fs.kernel;

import dev.pmemfs.fs.os.Syscalls;
import static dev.pmemfs.fs.kernel.FuseAbi.*;

import dev.pmemfs.fs.core.Errno;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The request loop of one mount: answers FUSE_INIT, then runs the workers until the kernel
 * ends the connection (read answers ENODEV once unmounted).
 *
 * <p>Each worker is a platform thread with its own {@code /dev/fuse} descriptor (the session's,
 * or a clone made with FUSE_DEV_IOC_CLONE), its own off-heap request buffer and reply buffer:
 * the kernel hands any request to any reader, a reply goes back on the descriptor that read it,
 * and no lock is shared on the way. Buffers hold a 1 MiB write or read plus headers.
 */
final class Session {
    private static final Logger LOG = LoggerFactory.getLogger(Session.class);
    static final int MAX_WRITE = 1 << 20;
    static final int MAX_PAGES = MAX_WRITE / 4096;
    /** A request: the header, a {@code fuse_write_in} and 1 MiB of data, rounded up to a page more. */
    static final long REQUEST_BUFFER = MAX_WRITE + 4096;
    static final long REPLY_BUFFER = Reply.HEADER + MAX_WRITE + 4096;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final int EPROTO = 71;

    private final int fd;
    private final RequestHandler handler;
    private final KernelOptions options;

    Session(int fd, RequestHandler handler, KernelOptions options) {
        this.fd = fd;
        this.handler = handler;
        this.options = options;
    }

    /** The INIT flags we ask for; the kernel grants those it knows. */
    long wantedFlags() {
        long want = ASYNC_READ | BIG_WRITES | IOCTL_DIR | AUTO_INVAL_DATA | DO_READDIRPLUS | READDIRPLUS_AUTO
                | ASYNC_DIO | PARALLEL_DIROPS | FuseAbi.MAX_PAGES | CACHE_SYMLINKS | HANDLE_KILLPRIV_V2 | INIT_EXT
                | DIRECT_IO_ALLOW_MMAP;
        return options.writebackCache() ? want | WRITEBACK_CACHE : want;
    }

    /** Reads and answers FUSE_INIT on the session descriptor; throws if the kernel speaks no protocol we know. */
    void init() {
        try (Arena a = Arena.ofConfined()) {
            Request in = new Request(a.allocate(REQUEST_BUFFER, 4096));
            Reply out = new Reply(fd, a.allocate(REPLY_BUFFER, 4096));
            while (true) {
                long n = Syscalls.read(fd, in.buffer(), REQUEST_BUFFER);
                if (n == -Syscalls.EINTR || n == -Syscalls.EAGAIN) {
                    continue;
                }
                if (n < 0) {
                    throw new IllegalStateException("reading FUSE_INIT from /dev/fuse failed: errno " + -n);
                }
                if (!in.parse(n) || in.opcode != INIT) {
                    out.error(in.unique, EPROTO);
                    continue;
                }
                if (answerInit(in, out)) {
                    return;
                }
            }
        }
    }

    /** Answers one INIT; false when the kernel's major is newer and it will ask again with ours. */
    private boolean answerInit(Request in, Reply out) {
        int major = in.u32(0);
        int minor = in.u32(4);
        long flags = in.u32(12) & 0xffffffffL;
        if ((flags & INIT_EXT) != 0) {
            flags |= (in.u32(16) & 0xffffffffL) << 32;
        }
        MemorySegment p = out.payload();
        p.asSlice(0, INIT_OUT.byteSize()).fill((byte) 0);
        p.set(U32, 0, MAJOR);
        p.set(U32, 4, MINOR);
        if (major > MAJOR) {
            out.ok(in.unique, 8);
            return false;
        }
        if (major < MAJOR || minor < 31) {
            out.error(in.unique, EPROTO);
            throw new IllegalStateException("the kernel speaks FUSE " + major + "." + minor + "; pmemfs needs 7.31 or later");
        }
        long granted = flags & wantedFlags();
        p.set(U32, 4, Math.min(minor, MINOR));
        p.set(U32, off(INIT_OUT, "max_readahead"), in.u32(8));
        p.set(U32, off(INIT_OUT, "flags"), (int) granted);
        p.set(U16, off(INIT_OUT, "max_background"), (short) 64);
        p.set(U16, off(INIT_OUT, "congestion_threshold"), (short) 48);
        p.set(U32, off(INIT_OUT, "max_write"), MAX_WRITE);
        p.set(U32, off(INIT_OUT, "time_gran"), 1);
        p.set(U16, off(INIT_OUT, "max_pages"), (short) MAX_PAGES);
        p.set(U32, off(INIT_OUT, "flags2"), (int) (granted >>> 32));
        out.ok(in.unique, INIT_OUT.byteSize());
        LOG.debug("FUSE {}.{}: flags asked {}, granted {}", major, minor, Long.toHexString(wantedFlags()), Long.toHexString(granted));
        if ((granted & DIRECT_IO_ALLOW_MMAP) == 0) {
            LOG.info("this kernel (FUSE 7.{}) cannot mmap DAX files (no FUSE_DIRECT_IO_ALLOW_MMAP)", minor);
        }
        return true;
    }

    /** Runs the workers until the connection ends; returns when all have stopped. */
    void run() throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < options.workers(); i++) {
            int wfd = i == 0 ? fd : cloneFd();
            int id = i;
            threads.add(Thread.ofPlatform().name("pmemfs-fuse-" + i).start(() -> serve(id, wfd)));
        }
        for (Thread t : threads) {
            t.join();
        }
    }

    /** A new descriptor on the same connection (FUSE_DEV_IOC_CLONE); the session's own on failure. */
    private int cloneFd() {
        int nfd = Syscalls.open("/dev/fuse", Syscalls.O_RDWR | Syscalls.O_CLOEXEC);
        if (nfd < 0) {
            LOG.warn("cannot open /dev/fuse for a worker (errno {}); sharing the session's descriptor", -nfd);
            return fd;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment session = a.allocate(ValueLayout.JAVA_INT);
            session.set(ValueLayout.JAVA_INT, 0, fd);
            int rc = Syscalls.ioctl(nfd, DEV_IOC_CLONE, session);
            if (rc < 0) {
                Syscalls.close(nfd);
                LOG.warn("FUSE_DEV_IOC_CLONE failed (errno {}); sharing the session's descriptor", -rc);
                return fd;
            }
        }
        return nfd;
    }

    /** One worker's loop: read a request, dispatch it, until ENODEV. */
    private void serve(int id, int wfd) {
        try (Arena a = Arena.ofConfined()) {
            Request in = new Request(a.allocate(REQUEST_BUFFER, 4096));
            Reply out = new Reply(wfd, a.allocate(REPLY_BUFFER, 4096));
            while (true) {
                long n = Syscalls.read(wfd, in.buffer(), REQUEST_BUFFER);
                if (n < 0) {
                    if (n == -Syscalls.EINTR || n == -Syscalls.EAGAIN || n == -Syscalls.ENOENT) {
                        continue;
                    }
                    if (n != -Syscalls.ENODEV) {
                        LOG.error("worker {}: reading /dev/fuse failed: errno {}; worker stops", id, -n);
                    }
                    return;
                }
                if (!in.parse(n)) {
                    if (in.unique != 0) {
                        out.error(in.unique, Errno.EINVAL.code());
                    }
                    continue;
                }
                handler.dispatch(in, out);
            }
        } catch (Throwable t) {
            LOG.error("worker {} failed", id, t);
        } finally {
            if (wfd != fd) {
                Syscalls.close(wfd);
            }
        }
    }
}
