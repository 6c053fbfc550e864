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

    /** The region path does not exist: one message for every place that finds it so. */
    static RegionException missing(java.nio.file.Path path) {
        return new RegionException("region " + path + ": no such file or device");
    }

    /** The region path may not be opened by this user. */
    static RegionException denied(java.nio.file.Path path) {
        return new RegionException("region " + path + ": permission denied");
    }
}
