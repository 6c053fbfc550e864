package dev.pmemfs.fs.core;

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
 * The host kernel's own filesystem calls, through FFM downcalls that capture errno: the
 * reference model of the model-based test, so that results and errors are the kernel's, not
 * an imitation. Public for the mounted tests, which make the same calls on a pmemfs mount.
 */
public final class HostFs {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG;
    private static final ValueLayout A = ValueLayout.ADDRESS;

    private static final MethodHandle MKDIR = h("mkdir", FunctionDescriptor.of(I, A, I));
    private static final MethodHandle RMDIR = h("rmdir", FunctionDescriptor.of(I, A));
    private static final MethodHandle UNLINK = h("unlink", FunctionDescriptor.of(I, A));
    private static final MethodHandle RENAME = h("rename", FunctionDescriptor.of(I, A, A));
    private static final MethodHandle RENAMEAT2 = h("renameat2", FunctionDescriptor.of(I, I, A, I, A, I));
    private static final MethodHandle LINK = h("link", FunctionDescriptor.of(I, A, A));
    private static final MethodHandle SYMLINK = h("symlink", FunctionDescriptor.of(I, A, A));
    private static final MethodHandle OPEN = h("open", FunctionDescriptor.of(I, A, I, I));
    private static final MethodHandle CLOSE = h("close", FunctionDescriptor.of(I, I));
    private static final MethodHandle PWRITE = h("pwrite", FunctionDescriptor.of(L, I, A, L, L));
    private static final MethodHandle TRUNCATE = h("truncate", FunctionDescriptor.of(I, A, L));
    private static final MethodHandle MKNOD = h("mknod", FunctionDescriptor.of(I, A, I, L));
    private static final MethodHandle FALLOCATE = h("fallocate", FunctionDescriptor.of(I, I, I, L, L));
    private static final MethodHandle LCHOWN = h("lchown", FunctionDescriptor.of(I, A, I, I));
    private static final MethodHandle CHMOD = h("chmod", FunctionDescriptor.of(I, A, I));
    private static final MethodHandle LSTAT = h("lstat", FunctionDescriptor.of(I, A, A));
    private static final MethodHandle SOCKET = h("socket", FunctionDescriptor.of(I, I, I, I));
    private static final MethodHandle BIND = h("bind", FunctionDescriptor.of(I, I, A, I));
    private static final MethodHandle SETFSUID = LINKER.downcallHandle(
            LINKER.defaultLookup().find("setfsuid").orElseThrow(), FunctionDescriptor.of(I, I));
    private static final MethodHandle SETFSGID = LINKER.downcallHandle(
            LINKER.defaultLookup().find("setfsgid").orElseThrow(), FunctionDescriptor.of(I, I));

    static final int AT_FDCWD = -100;
    static final int O_WRONLY = 1;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_NOFOLLOW = 0400000;
    static final int O_NONBLOCK = 04000;

    private HostFs() {
    }

    private static MethodHandle h(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), fd, CAPTURE);
    }

    /** 0 on success, else the errno. */
    private static int call(MethodHandle mh, Object... args) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(STATE);
            Object[] full = new Object[args.length + 1];
            full[0] = state;
            for (int i = 0; i < args.length; i++) {
                full[i + 1] = args[i] instanceof String s ? a.allocateFrom(s) : args[i];
            }
            Object rc = mh.invokeWithArguments(full);
            long r = rc instanceof Integer n ? n : (Long) rc;
            return r < 0 ? (int) ERRNO.get(state, 0L) : 0;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public static int mkdir(String p, int mode) {
        return call(MKDIR, p, mode);
    }

    public static int rmdir(String p) {
        return call(RMDIR, p);
    }

    public static int unlink(String p) {
        return call(UNLINK, p);
    }

    public static int rename(String a, String b) {
        return call(RENAME, a, b);
    }

    /** renameat2(2) with RENAME_NOREPLACE (1) or RENAME_EXCHANGE (2), on absolute paths. */
    public static int renameat2(String a, String b, int flags) {
        return call(RENAMEAT2, AT_FDCWD, a, AT_FDCWD, b, flags);
    }

    public static int link(String a, String b) {
        return call(LINK, a, b);
    }

    public static int symlink(String target, String p) {
        return call(SYMLINK, target, p);
    }

    public static int truncate(String p, long size) {
        return call(TRUNCATE, p, size);
    }

    /** Creates a file exclusively (O_CREAT|O_EXCL). */
    public static int create(String p, int mode) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(STATE);
            int fd = (int) OPEN.invokeExact(state, a.allocateFrom(p), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
            if (fd < 0) {
                return (int) ERRNO.get(state, 0L);
            }
            int ignored = (int) CLOSE.invokeExact(a.allocate(STATE), fd);
            return 0;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Writes {@code data} at {@code pos} of an existing file. */
    public static int pwrite(String p, long pos, byte[] data) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(STATE);
            int fd = (int) OPEN.invokeExact(state, a.allocateFrom(p), O_WRONLY | O_NOFOLLOW | O_NONBLOCK, 0);
            if (fd < 0) {
                return (int) ERRNO.get(state, 0L);
            }
            MemorySegment buf = a.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
            long n = (long) PWRITE.invokeExact(state, fd, buf, (long) data.length, pos);
            int err = n < 0 ? (int) ERRNO.get(state, 0L) : 0;
            int ignored = (int) CLOSE.invokeExact(a.allocate(STATE), fd);
            return err;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** mknod(2): {@code mode} with its type bits, {@code dev} as makedev encodes it. */
    public static int mknod(String p, int mode, long dev) {
        return call(MKNOD, p, mode, dev);
    }

    public static int lchown(String p, int uid, int gid) {
        return call(LCHOWN, p, uid, gid);
    }

    public static int chmod(String p, int mode) {
        return call(CHMOD, p, mode);
    }

    /**
     * fallocate(2) on an existing file, opened write-only without following a final symbolic
     * link and without blocking (a FIFO answers ENXIO instead of waiting for a reader).
     */
    public static int fallocate(String p, int mode, long offset, long length) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(STATE);
            int fd = (int) OPEN.invokeExact(state, a.allocateFrom(p), O_WRONLY | O_NOFOLLOW | O_NONBLOCK, 0);
            if (fd < 0) {
                return (int) ERRNO.get(state, 0L);
            }
            int rc = (int) FALLOCATE.invokeExact(state, fd, mode, offset, length);
            int err = rc < 0 ? (int) ERRNO.get(state, 0L) : 0;
            int ignored = (int) CLOSE.invokeExact(a.allocate(STATE), fd);
            return err;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** What lstat(2) says of a path; {@code errno} is 0 when the call succeeded. */
    public record Stat(int errno, int mode, long nlink, int uid, int gid, long rdev, long size, long blocks) {
        public int type() {
            return mode & 0170000;
        }

        public boolean isRegular() {
            return type() == 0100000;
        }
    }

    /** lstat(2); x86-64 {@code struct stat}: nlink at 16, mode 24, uid 28, gid 32, rdev 40, size 48, blocks 64. */
    public static Stat lstat(String p) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(STATE);
            MemorySegment st = a.allocate(144, 8);
            int rc = (int) LSTAT.invokeExact(state, a.allocateFrom(p), st);
            if (rc < 0) {
                return new Stat((int) ERRNO.get(state, 0L), 0, 0, 0, 0, 0, 0, 0);
            }
            return new Stat(0, st.get(I, 24), st.get(L, 16), st.get(I, 28), st.get(I, 32), st.get(L, 40),
                    st.get(L, 48), st.get(L, 64));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Runs {@code body} with this thread's filesystem uid and gid set to {@code uid}/{@code gid}
     * (setfsuid/setfsgid act on the calling thread only), then back to root. A non-zero fsuid
     * also drops the filesystem capabilities (CAP_FSETID, CAP_FOWNER, CAP_DAC_OVERRIDE...), so
     * the kernel treats the calls as an ordinary user's.
     */
    public static int as(int uid, int gid, java.util.function.IntSupplier body) {
        try {
            int ignored = (int) SETFSGID.invokeExact(gid);
            ignored = (int) SETFSUID.invokeExact(uid);
            try {
                return body.getAsInt();
            } finally {
                ignored = (int) SETFSUID.invokeExact(0);
                ignored = (int) SETFSGID.invokeExact(0);
            }
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }

    /**
     * bind(2) of a Unix-domain stream socket at {@code p} (at most 107 bytes), then close: the
     * socket inode stays, as it does after a server exits.
     */
    public static int bindSocket(String p) {
        byte[] path = p.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (path.length > 107) {
            throw new IllegalArgumentException("socket path longer than 107 bytes: " + p);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(STATE);
            int fd = (int) SOCKET.invokeExact(state, 1, 1, 0); // AF_UNIX, SOCK_STREAM
            if (fd < 0) {
                return (int) ERRNO.get(state, 0L);
            }
            MemorySegment addr = a.allocate(110);
            addr.set(ValueLayout.JAVA_SHORT, 0, (short) 1);
            MemorySegment.copy(path, 0, addr, ValueLayout.JAVA_BYTE, 2, path.length);
            int rc = (int) BIND.invokeExact(state, fd, addr, 2 + path.length + 1);
            int err = rc < 0 ? (int) ERRNO.get(state, 0L) : 0;
            int ignored = (int) CLOSE.invokeExact(a.allocate(STATE), fd);
            return err;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
