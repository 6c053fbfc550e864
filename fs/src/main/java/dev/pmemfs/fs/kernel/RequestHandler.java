package dev.pmemfs.fs.kernel;

/**
 * What a {@link Session}'s workers hand each parsed request to: {@link Dispatcher}, onto
 * pmemfs's core, or {@link NoopHandler}, which keeps no data (the bench's measure of what this
 * frontend alone costs). Implementations are called by every worker at once and must answer
 * through {@code out} (or not at all for FORGET, BATCH_FORGET and INTERRUPT) without throwing.
 */
interface RequestHandler {
    /** Answers one parsed request on {@code out}; never throws. */
    void dispatch(Request in, Reply out);

    /** Number of files open through this mount. */
    int openFiles();
}
