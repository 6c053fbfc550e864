package dev.pmemfs.device;

import java.io.IOException;
import java.io.Serial;

/** A region that cannot be opened, created or used, with a one-line message naming it. */
public final class RegionException extends IOException {
    @Serial
    private static final long serialVersionUID = 1L;

    public RegionException(String message) {
        super(message);
    }

    public RegionException(String message, Throwable cause) {
        super(message, cause);
    }
}
