package dev.pmemfs.fs.frontend;

import dev.pmemfs.fs.core.Errno;
import dev.pmemfs.fs.core.FsException;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where exceptions become errno, for both FUSE frontends: every jnr-fuse
 * callback runs inside {@link #run}, and the kernel frontend's dispatcher hands what it catches
 * to {@link #errno}, so nothing thrown in Java reaches native code or ends a request loop.
 *
 * <p>An {@link FsException} is an expected answer (ENOENT, EEXIST, ...) and is logged at TRACE
 * only; anything else is a bug or an I/O failure, logged at ERROR with its stack and answered
 * with EIO. Stateless and thread-safe.
 */
public final class Guard {
    private static final Logger LOG = LoggerFactory.getLogger(Guard.class);

    private Guard() {
    }

    /** Runs one callback body; returns its result, or the negative errno of what it threw. */
    public static int run(String op, String path, IntSupplier body) {
        try {
            return body.getAsInt();
        } catch (Throwable t) {
            return -errno(op, path, t);
        }
    }

    /** The positive errno that answers {@code t}, thrown by operation {@code op} on {@code what}; logs it. */
    public static int errno(String op, Object what, Throwable t) {
        if (t instanceof FsException e) {
            if (LOG.isTraceEnabled()) {
                LOG.trace("{} {}: {}", op, what, e.getMessage());
            }
            return e.errno().code();
        }
        try {
            LOG.error("{} {}: unexpected failure, answering EIO", op, what, t);
        } catch (Throwable ignored) {
            // logging itself failed (out of memory?): still never throw into native code
        }
        return Errno.EIO.code();
    }
}
