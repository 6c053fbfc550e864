package dev.pmemfs.fs.cli;

import dev.pmemfs.fs.os.Syscalls;
import java.nio.file.Path;

/**
 * The system calls of the command line with its error convention: a failure the user caused
 * (a missing or unreadable file) becomes a {@link CliException} with a short reason; one that
 * means a bug, an {@link IllegalStateException}. The downcalls are {@link Syscalls}'s.
 * Stateless and thread-safe.
 */
final class Libc {
    private Libc() {
    }

    /** Opens read-only (non-blocking, close-on-exec); throws with the reason on failure. */
    static int open(Path file) {
        int fd = Syscalls.open(file.toString(), Syscalls.O_RDONLY | Syscalls.O_NONBLOCK | Syscalls.O_CLOEXEC);
        if (fd < 0) {
            throw new CliException(file + ": " + strerror(-fd));
        }
        return fd;
    }

    /** Creates (or truncates) {@code file} for writing, mode 0600, close-on-exec; throws on failure. */
    static int create(Path file) {
        int fd = Syscalls.open(file.toString(), Syscalls.O_WRONLY | Syscalls.O_CREAT | Syscalls.O_TRUNC | Syscalls.O_CLOEXEC, 0600);
        if (fd < 0) {
            throw new CliException(file + ": " + strerror(-fd));
        }
        return fd;
    }

    /** dup(2): a new descriptor for what {@code fd} refers to; throws on failure. */
    static int dup(int fd) {
        int n = Syscalls.dup(fd);
        if (n < 0) {
            throw new IllegalStateException("dup(" + fd + "): " + strerror(-n));
        }
        return n;
    }

    /** dup2(2): makes {@code to} refer to what {@code from} refers to; throws on failure. */
    static void dup2(int from, int to) {
        int rc = Syscalls.dup2(from, to);
        if (rc < 0) {
            throw new IllegalStateException("dup2(" + from + ", " + to + "): " + strerror(-rc));
        }
    }

    /** Whether someone holds an exclusive flock on {@code file} (as a mounted PmemRegion does). */
    static boolean flocked(Path file) {
        int fd = open(file);
        try {
            int rc = Syscalls.flock(fd, Syscalls.LOCK_EX | Syscalls.LOCK_NB);
            if (rc == 0) {
                Syscalls.flock(fd, Syscalls.LOCK_UN);
                return false;
            }
            return rc == -Syscalls.EWOULDBLOCK;
        } finally {
            Syscalls.close(fd);
        }
    }

    static void close(int fd) {
        Syscalls.close(fd);
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
