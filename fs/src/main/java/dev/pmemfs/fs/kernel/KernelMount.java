package dev.pmemfs.fs.kernel;

import dev.pmemfs.fs.os.Syscalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Mounts through {@code fusermount3}, as libfuse does: a socketpair's end goes to the child as
 * {@code _FUSE_COMMFD}, fusermount3 mounts and sends the {@code /dev/fuse} descriptor back by
 * SCM_RIGHTS. That gives non-root mounts, {@code allow_other} by /etc/fuse.conf, and
 * {@code auto_unmount}: fusermount3 stays alive watching the socket and unmounts when this
 * process dies, even by {@code kill -9}. Our end of the socket must therefore stay open for
 * the life of the mount, which is why this class is {@link AutoCloseable}.
 *
 * <p>The child is started with {@code posix_spawnp} through FFM ({@code ProcessBuilder} passes
 * no extra descriptors); in the child the socket is descriptor 3 and every higher one is closed.
 * Not thread-safe; one per mount.
 */
public final class KernelMount implements AutoCloseable {
    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM_CLOEXEC = 1 | 02000000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int CHILD_FD = 3;
    private static final String FUSERMOUNT = "fusermount3";

    /** A mount that fusermount3 refused or could not make; the message is one line for users. */
    public static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }

    private final int fuseFd;
    private final int socketFd;
    private final int childPid;

    private KernelMount(int fuseFd, int socketFd, int childPid) {
        this.fuseFd = fuseFd;
        this.socketFd = socketFd;
        this.childPid = childPid;
    }

    /** The session's {@code /dev/fuse} descriptor. */
    public int fd() {
        return fuseFd;
    }

    /**
     * Mounts at {@code mountpoint} with {@code options} (fusermount3's {@code -o} list); throws
     * {@link Failure} with one line when fusermount3 refuses (its own message is on stderr).
     */
    public static KernelMount mount(Path mountpoint, String options) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment pair = a.allocate(ValueLayout.JAVA_INT, 2);
            int rc = Syscalls.socketpair(AF_UNIX, SOCK_STREAM_CLOEXEC, pair);
            if (rc < 0) {
                throw new Failure("cannot mount " + mountpoint + ": socketpair failed (errno " + -rc + ")");
            }
            int ours = pair.getAtIndex(ValueLayout.JAVA_INT, 0);
            int theirs = pair.getAtIndex(ValueLayout.JAVA_INT, 1);
            MemorySegment pid = a.allocate(ValueLayout.JAVA_INT);
            rc = Syscalls.spawnp(a, pid, a.allocateFrom(FUSERMOUNT),
                    strings(a, List.of(FUSERMOUNT, "-o", options, "--", mountpoint.toString())),
                    strings(a, environment()), theirs, CHILD_FD);
            Syscalls.close(theirs);
            if (rc != 0) {
                Syscalls.close(ours);
                throw new Failure("cannot run " + FUSERMOUNT + " (errno " + rc + "): is fuse3 installed?");
            }
            int child = pid.get(ValueLayout.JAVA_INT, 0);
            int fd = receiveFd(a, ours);
            if (fd < 0) {
                Syscalls.close(ours);
                MemorySegment status = a.allocate(ValueLayout.JAVA_INT);
                Syscalls.waitpid(child, status, 0);
                throw new Failure(FUSERMOUNT + " could not mount " + mountpoint + " (exit status "
                        + ((status.get(ValueLayout.JAVA_INT, 0) >> 8) & 0xff) + ")");
            }
            return new KernelMount(fd, ours, child);
        }
    }

    private static List<String> environment() {
        List<String> env = new ArrayList<>();
        for (Map.Entry<String, String> e : System.getenv().entrySet()) {
            if (!e.getKey().equals("_FUSE_COMMFD")) {
                env.add(e.getKey() + "=" + e.getValue());
            }
        }
        env.add("_FUSE_COMMFD=" + CHILD_FD);
        return env;
    }

    /** A NULL-terminated {@code char *[]}. */
    private static MemorySegment strings(Arena a, List<String> list) {
        MemorySegment arr = a.allocate(ValueLayout.ADDRESS, list.size() + 1L);
        for (int i = 0; i < list.size(); i++) {
            arr.setAtIndex(ValueLayout.ADDRESS, i, a.allocateFrom(list.get(i)));
        }
        arr.setAtIndex(ValueLayout.ADDRESS, list.size(), MemorySegment.NULL);
        return arr;
    }

    /** recvmsg of one byte with one SCM_RIGHTS descriptor; -1 if fusermount3 sent none. */
    private static int receiveFd(Arena a, int sock) {
        MemorySegment data = a.allocate(1);
        MemorySegment iov = a.allocate(16, 8);
        iov.set(ValueLayout.ADDRESS, 0, data);
        iov.set(ValueLayout.JAVA_LONG, 8, 1);
        MemorySegment control = a.allocate(24, 8); // CMSG_SPACE(sizeof(int))
        MemorySegment msg = a.allocate(56, 8);     // struct msghdr on x86-64
        msg.set(ValueLayout.ADDRESS, 16, iov);
        msg.set(ValueLayout.JAVA_LONG, 24, 1);
        msg.set(ValueLayout.ADDRESS, 32, control);
        msg.set(ValueLayout.JAVA_LONG, 40, control.byteSize());
        long n;
        do {
            n = Syscalls.recvmsg(sock, msg);
        } while (n == -Syscalls.EINTR);
        if (n <= 0 || msg.get(ValueLayout.JAVA_LONG, 40) < 20
                || control.get(ValueLayout.JAVA_INT, 8) != SOL_SOCKET || control.get(ValueLayout.JAVA_INT, 12) != SCM_RIGHTS) {
            return -1;
        }
        return control.get(ValueLayout.JAVA_INT, 16);
    }

    /**
     * Closes the session descriptor and our end of the socket; fusermount3 then finds the
     * mount gone (or unmounts it) and exits, and we reap it.
     */
    @Override
    public void close() {
        Syscalls.close(fuseFd);
        Syscalls.close(socketFd);
        try (Arena a = Arena.ofConfined()) {
            Syscalls.waitpid(childPid, a.allocate(ValueLayout.JAVA_INT), 0);
        }
    }
}
