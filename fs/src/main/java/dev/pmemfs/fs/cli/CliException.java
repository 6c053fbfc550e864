package dev.pmemfs.fs.cli;

import java.io.Serial;

/** A user mistake or a refused request: printed as one line on stderr, no stack trace. */
final class CliException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;
    private final int exitCode;

    CliException(String message) {
        this(message, 1);
    }

    CliException(String message, int exitCode) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
