package dev.pmemfs.fs.fuse;

import dev.pmemfs.fs.core.Errno;
import dev.pmemfs.fs.core.FsException;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where exceptions become errno: every FUSE callback runs inside
 * {@link #run}, so nothing thrown in Java reaches native code.
 *
 * <p>An {@link FsException} is an expected answer (ENOENT, EEXIST, ...) and is logged at TRACE
 * only; anything else is a bug or an I/O failure, logged at ERROR with its stack and answered
 * with EIO. Stateless and thread-safe.
 */
final class Guard {
    private static final Logger LOG = LoggerFactory.getLogger(Guard.class);

    private Guard() {
    }

    /** Runs one callback body; returns its result, or the negative errno of what it threw. */
    static int run(String op, String path, IntSupplier body) {
        try {
            return body.getAsInt();
        } catch (FsException e) {
            if (LOG.isTraceEnabled()) {
                LOG.trace("{} {}: {}", op, path, e.getMessage());
            }
            return -e.errno().code();
        } catch (Throwable t) {
            try {
                LOG.error("{} {}: unexpected failure, answering EIO", op, path, t);
            } catch (Throwable ignored) {
                // logging itself failed (out of memory?): still never throw into native code
            }
            return -Errno.EIO.code();
        }
    }
}
