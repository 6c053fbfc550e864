package dev.pmemfs.fs.core;

import java.io.Serial;

/** A filesystem operation failed with an errno: the only exception the core throws on purpose. */
public final class FsException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;
    private final Errno errno;

    public FsException(Errno errno, String message) {
        super(message, null, false, false);
        this.errno = errno;
    }

    public Errno errno() {
        return errno;
    }

    @Override
    public String getMessage() {
        return errno + ": " + super.getMessage();
    }
}
