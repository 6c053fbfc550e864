package dev.pmemfs.fs.cli;

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
 * The few system calls the command line needs that Java does not offer: open(2), ioctl(2),
 * flock(2), dup(2), dup2(2) and close(2), as FFM downcalls that capture errno. Failures become
 * {@link CliException} with a short reason. Stateless and thread-safe.
 */
@SuppressWarnings("restricted") // downcalls to libc: pmemfs runs with --enable-native-access
final class Libc {
    static final int O_RDONLY = 0;
    private static final int O_WRONLY = 1;
    private static final int O_CREAT = 0100;
    private static final int O_TRUNC = 01000;
    private static final int O_NONBLOCK = 04000;
    private static final int O_CLOEXEC = 02000000;
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private static final int LOCK_UN = 8;
    static final int EWOULDBLOCK = 11;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPEN = handle("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), true);
    private static final MethodHandle OPEN_MODE = handle("open",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), true);
    private static final MethodHandle DUP = handle("dup",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), false);
    private static final MethodHandle DUP2 = handle("dup2",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), false);
    private static final MethodHandle IOCTL = handle("ioctl",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS), true);
    private static final MethodHandle FLOCK = handle("flock",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), false);
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private Libc() {
    }

    private static MethodHandle handle(String name, FunctionDescriptor fd, boolean variadic) {
        var addr = LINKER.defaultLookup().find(name).orElseThrow();
        return variadic
                ? LINKER.downcallHandle(addr, fd, Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(2))
                : LINKER.downcallHandle(addr, fd, Linker.Option.captureCallState("errno"));
    }

    /** Errno capture space for one call sequence. */
    static MemorySegment state(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** Opens read-only (non-blocking, close-on-exec); throws with the reason on failure. */
    static int open(Arena arena, MemorySegment st, Path file) {
        int fd;
        try {
            fd = (int) OPEN.invokeExact(st, arena.allocateFrom(file.toString()), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        } catch (Throwable t) {
            throw new IllegalStateException("open(2) downcall failed", t);
        }
        if (fd < 0) {
            throw new CliException(file + ": " + strerror(errno(st)));
        }
        return fd;
    }

    /** Creates (or truncates) {@code file} for writing, mode 0600, close-on-exec; throws on failure. */
    static int create(Path file) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            int fd = (int) OPEN_MODE.invokeExact(st, arena.allocateFrom(file.toString()),
                    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            if (fd < 0) {
                throw new CliException(file + ": " + strerror(errno(st)));
            }
            return fd;
        } catch (CliException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("open(2) downcall failed", t);
        }
    }

    /** dup(2): a new descriptor for what {@code fd} refers to; throws on failure. */
    static int dup(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            int n = (int) DUP.invokeExact(st, fd);
            if (n < 0) {
                throw new IllegalStateException("dup(" + fd + "): " + strerror(errno(st)));
            }
            return n;
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("dup(2) downcall failed", t);
        }
    }

    /** dup2(2): makes {@code to} refer to what {@code from} refers to; throws on failure. */
    static void dup2(int from, int to) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            if ((int) DUP2.invokeExact(st, from, to) < 0) {
                throw new IllegalStateException("dup2(" + from + ", " + to + "): " + strerror(errno(st)));
            }
        } catch (IllegalStateException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("dup2(2) downcall failed", t);
        }
    }

    /** ioctl(2); returns 0 or the errno. */
    static int ioctl(MemorySegment st, int fd, int cmd, MemorySegment arg) {
        try {
            int rc = (int) IOCTL.invokeExact(st, fd, (long) cmd & 0xffffffffL, arg);
            return rc < 0 ? errno(st) : 0;
        } catch (Throwable t) {
            throw new IllegalStateException("ioctl(2) downcall failed", t);
        }
    }

    /** Whether someone holds an exclusive flock on {@code file} (as a mounted PmemRegion does). */
    static boolean flocked(Path file) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = state(arena);
            int fd = open(arena, st, file);
            try {
                int rc = (int) FLOCK.invokeExact(st, fd, LOCK_EX | LOCK_NB);
                if (rc == 0) {
                    int ignored = (int) FLOCK.invokeExact(st, fd, LOCK_UN);
                    return false;
                }
                return errno(st) == EWOULDBLOCK;
            } catch (Throwable t) {
                throw new IllegalStateException("flock(2) downcall failed", t);
            } finally {
                close(fd);
            }
        }
    }

    static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException("close(2) downcall failed", t);
        }
    }

    static String strerror(int e) {
        return switch (e) {
            case 1 -> "operation not permitted";
            case 2 -> "no such file or directory";
            case 13 -> "permission denied";
            case 20 -> "a path component is not a directory";
            case 22 -> "invalid argument";
            case 25, 95 -> "operation not supported by this filesystem";
            case 30 -> "read-only filesystem";
            default -> "error " + e;
        };
    }
}
