package dev.pmemfs.device;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

/**
 * An exclusive {@code flock(2)} on a region file, held for the life of a {@link PmemRegion}
 * through a descriptor of its own.
 *
 * <p>Why not {@code FileChannel.tryLock}: that is a POSIX record lock, which the kernel drops
 * when the process closes <em>any</em> descriptor of the file, so reading the wear counters of
 * an open region ({@link WearCounters#read(Path)}) in the same JVM would silently unlock it for
 * other processes. A flock belongs to one open file description: it survives other descriptors
 * being closed, and a second open in the same process conflicts with it just like another
 * process does.
 *
 * <p>The descriptor is opened read-write so that {@link RegionSpace} can reserve the file's space
 * through it ({@code posix_fallocate} needs a writable descriptor) instead of opening the file
 * once more; the region's own channel is read-write too, so this asks for nothing new.
 *
 * <p>Thread safety: immutable; {@link #close()} once.
 */
@SuppressWarnings("restricted") // downcalls to libc: pmemfs runs with --enable-native-access
final class RegionLock implements AutoCloseable {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final StructLayout STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_VALUE = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final int O_RDWR = 2;
    private static final int O_CLOEXEC = 0x80000;
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private static final int EWOULDBLOCK = 11;
    private static final MethodHandle OPEN = LINKER.downcallHandle(LINKER.defaultLookup().find("open").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), ERRNO);
    private static final MethodHandle FLOCK = LINKER.downcallHandle(LINKER.defaultLookup().find("flock").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), ERRNO);
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private final int fd;

    private RegionLock(int fd) {
        this.fd = fd;
    }

    /** Locks {@code path}, or returns null if another opener (any process, this one too) holds it. */
    static RegionLock tryAcquire(Path path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(STATE);
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom(path.toAbsolutePath().toString()), O_RDWR | O_CLOEXEC);
            if (fd < 0) {
                throw new IOException("cannot open it to lock it (errno " + (int) ERRNO_VALUE.get(state, 0L) + ")");
            }
            if ((int) FLOCK.invokeExact(state, fd, LOCK_EX | LOCK_NB) == 0) {
                return new RegionLock(fd);
            }
            int errno = (int) ERRNO_VALUE.get(state, 0L);
            int ignored = (int) CLOSE.invokeExact(fd);
            if (errno == EWOULDBLOCK) {
                return null;
            }
            throw new IOException("cannot lock it (errno " + errno + ")");
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The locked descriptor, read-write, open until {@link #close}. */
    int fd() {
        return fd;
    }

    /** Releases the lock. */
    @Override
    public void close() {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
