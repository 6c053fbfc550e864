package dev.pmemfs.fs.os;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The system calls pmemfs makes that Java does not offer, as FFM downcalls that capture errno:
 * open, read, write and ioctl on {@code /dev/fuse}, socketpair, recvmsg, posix_spawnp and
 * waitpid for mounting through fusermount3 (the kernel frontend); dup, dup2, flock and the
 * DAX-flag ioctls (the command line). One place for the downcall plumbing.
 *
 * <p>Each call returns its result, or {@code -errno} on failure, like the raw system call, so
 * the hot path allocates nothing. The errno capture area is per thread. Thread-safe.
 */
@SuppressWarnings("restricted") // downcalls to libc: pmemfs runs with --enable-native-access
public final class Syscalls {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0100;
    public static final int O_TRUNC = 01000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_CLOEXEC = 02000000;
    public static final int LOCK_EX = 2;
    public static final int LOCK_NB = 4;
    public static final int LOCK_UN = 8;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;
    public static final int EWOULDBLOCK = EAGAIN;
    public static final int ENODEV = 19;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> STATE = ThreadLocal.withInitial(() -> Arena.global().allocate(CAPTURE));

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout ADDR = ValueLayout.ADDRESS;

    private static final MethodHandle OPEN = handle("open", FunctionDescriptor.of(INT, ADDR, INT, INT), 2);
    private static final MethodHandle DUP = handle("dup", FunctionDescriptor.of(INT, INT), -1);
    private static final MethodHandle DUP2 = handle("dup2", FunctionDescriptor.of(INT, INT, INT), -1);
    private static final MethodHandle FLOCK = handle("flock", FunctionDescriptor.of(INT, INT, INT), -1);
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(INT, INT), -1);
    private static final MethodHandle READ = handle("read", FunctionDescriptor.of(LONG, INT, ADDR, LONG), -1);
    private static final MethodHandle WRITE = handle("write", FunctionDescriptor.of(LONG, INT, ADDR, LONG), -1);
    private static final MethodHandle WRITEV = handle("writev", FunctionDescriptor.of(LONG, INT, ADDR, INT), -1);
    private static final MethodHandle IOCTL = handle("ioctl", FunctionDescriptor.of(INT, INT, LONG, ADDR), 2);
    private static final MethodHandle SOCKETPAIR = handle("socketpair", FunctionDescriptor.of(INT, INT, INT, INT, ADDR), -1);
    private static final MethodHandle RECVMSG = handle("recvmsg", FunctionDescriptor.of(LONG, INT, ADDR, INT), -1);
    private static final MethodHandle SPAWNP = handle("posix_spawnp",
            FunctionDescriptor.of(INT, ADDR, ADDR, ADDR, ADDR, ADDR, ADDR), -1);
    private static final MethodHandle FA_INIT = plain("posix_spawn_file_actions_init", FunctionDescriptor.of(INT, ADDR));
    private static final MethodHandle FA_DUP2 = plain("posix_spawn_file_actions_adddup2", FunctionDescriptor.of(INT, ADDR, INT, INT));
    private static final MethodHandle FA_CLOSEFROM = plain("posix_spawn_file_actions_addclosefrom_np", FunctionDescriptor.of(INT, ADDR, INT));
    private static final MethodHandle FA_DESTROY = plain("posix_spawn_file_actions_destroy", FunctionDescriptor.of(INT, ADDR));
    private static final MethodHandle WAITPID = handle("waitpid", FunctionDescriptor.of(INT, INT, ADDR, INT), -1);

    private Syscalls() {
    }

    private static MethodHandle handle(String name, FunctionDescriptor fd, int firstVariadic) {
        MemorySegment addr = LINKER.defaultLookup().find(name).orElseThrow();
        return firstVariadic < 0
                ? LINKER.downcallHandle(addr, fd, Linker.Option.captureCallState("errno"))
                : LINKER.downcallHandle(addr, fd, Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(firstVariadic));
    }

    private static MethodHandle plain(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd);
    }

    private static long result(long rc, MemorySegment st) {
        return rc < 0 ? -(int) ERRNO.get(st, 0L) : rc;
    }

    private static IllegalStateException broken(String call, Throwable t) {
        return new IllegalStateException(call + " downcall failed", t);
    }

    public static int open(String path, int flags) {
        return open(path, flags, 0);
    }

    /** open(2) with the mode that {@code O_CREAT} uses. */
    public static int open(String path, int flags, int mode) {
        MemorySegment st = STATE.get();
        try (Arena a = Arena.ofConfined()) {
            return (int) result((int) OPEN.invokeExact(st, a.allocateFrom(path), flags, mode), st);
        } catch (Throwable t) {
            throw broken("open", t);
        }
    }

    public static int dup(int fd) {
        MemorySegment st = STATE.get();
        try {
            return (int) result((int) DUP.invokeExact(st, fd), st);
        } catch (Throwable t) {
            throw broken("dup", t);
        }
    }

    public static int dup2(int from, int to) {
        MemorySegment st = STATE.get();
        try {
            return (int) result((int) DUP2.invokeExact(st, from, to), st);
        } catch (Throwable t) {
            throw broken("dup2", t);
        }
    }

    public static int flock(int fd, int operation) {
        MemorySegment st = STATE.get();
        try {
            return (int) result((int) FLOCK.invokeExact(st, fd, operation), st);
        } catch (Throwable t) {
            throw broken("flock", t);
        }
    }

    public static int close(int fd) {
        MemorySegment st = STATE.get();
        try {
            return (int) result((int) CLOSE.invokeExact(st, fd), st);
        } catch (Throwable t) {
            throw broken("close", t);
        }
    }

    public static long read(int fd, MemorySegment buf, long n) {
        MemorySegment st = STATE.get();
        try {
            return result((long) READ.invokeExact(st, fd, buf, n), st);
        } catch (Throwable t) {
            throw broken("read", t);
        }
    }

    public static long write(int fd, MemorySegment buf, long n) {
        MemorySegment st = STATE.get();
        try {
            return result((long) WRITE.invokeExact(st, fd, buf, n), st);
        } catch (Throwable t) {
            throw broken("write", t);
        }
    }

    /** writev(2) of {@code count} {@code struct iovec} at {@code iov}. */
    public static long writev(int fd, MemorySegment iov, int count) {
        MemorySegment st = STATE.get();
        try {
            return result((long) WRITEV.invokeExact(st, fd, iov, count), st);
        } catch (Throwable t) {
            throw broken("writev", t);
        }
    }

    public static int ioctl(int fd, long cmd, MemorySegment arg) {
        MemorySegment st = STATE.get();
        try {
            return (int) result((int) IOCTL.invokeExact(st, fd, cmd, arg), st);
        } catch (Throwable t) {
            throw broken("ioctl", t);
        }
    }

    public static int socketpair(int domain, int type, MemorySegment fds) {
        MemorySegment st = STATE.get();
        try {
            return (int) result((int) SOCKETPAIR.invokeExact(st, domain, type, 0, fds), st);
        } catch (Throwable t) {
            throw broken("socketpair", t);
        }
    }

    public static long recvmsg(int fd, MemorySegment msghdr) {
        MemorySegment st = STATE.get();
        try {
            return result((long) RECVMSG.invokeExact(st, fd, msghdr, 0), st);
        } catch (Throwable t) {
            throw broken("recvmsg", t);
        }
    }

    /** Bytes for a glibc {@code posix_spawn_file_actions_t} (80 on x86-64), with room to spare. */
    public static final long FILE_ACTIONS_SIZE = 128;

    /**
     * posix_spawnp(3) of {@code argv[0]} whose descriptor {@code keepFd} becomes {@code childFd}
     * in the child and every descriptor above {@code childFd} is closed there (so the child
     * inherits none of the JVM's files, nor the region's lock); returns 0 or a positive errno.
     */
    public static int spawnp(Arena a, MemorySegment pid, MemorySegment file, MemorySegment argv, MemorySegment envp,
                      int keepFd, int childFd) {
        MemorySegment st = STATE.get();
        MemorySegment fa = a.allocate(FILE_ACTIONS_SIZE, 16);
        try {
            int rc = (int) FA_INIT.invokeExact(fa);
            if (rc != 0) {
                return rc;
            }
            try {
                rc = (int) FA_DUP2.invokeExact(fa, keepFd, childFd);
                if (rc == 0) {
                    rc = (int) FA_CLOSEFROM.invokeExact(fa, childFd + 1);
                }
                if (rc == 0) {
                    rc = (int) SPAWNP.invokeExact(st, pid, file, fa, MemorySegment.NULL, argv, envp);
                }
                return rc;
            } finally {
                int ignored = (int) FA_DESTROY.invokeExact(fa);
            }
        } catch (Throwable t) {
            throw broken("posix_spawnp", t);
        }
    }

    public static int waitpid(int pid, MemorySegment status, int options) {
        MemorySegment st = STATE.get();
        try {
            return (int) result((int) WAITPID.invokeExact(st, pid, status, options), st);
        } catch (Throwable t) {
            throw broken("waitpid", t);
        }
    }
}
