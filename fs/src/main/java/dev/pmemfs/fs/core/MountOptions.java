package dev.pmemfs.fs.core;

import java.time.Duration;

/**
 * How a filesystem is mounted.
 *
 * @param cacheBytes     RAM for the page cache
 * @param dax            which files take the direct path
 * @param writebackDelay age at which a dirty page is written back
 * @param commitInterval how often the running metadata transaction is committed (ext4's commit=)
 */
public record MountOptions(long cacheBytes, DaxMode dax, Duration writebackDelay, Duration commitInterval) {
    public static final long DEFAULT_CACHE = 256L << 20;

    public static MountOptions defaults() {
        return new MountOptions(DEFAULT_CACHE, DaxMode.NEVER, Duration.ofSeconds(30), Duration.ofSeconds(5));
    }

    public MountOptions withDax(DaxMode d) {
        return new MountOptions(cacheBytes, d, writebackDelay, commitInterval);
    }

    public MountOptions withCache(long bytes) {
        return new MountOptions(bytes, dax, writebackDelay, commitInterval);
    }

    public MountOptions withWritebackDelay(Duration d) {
        return new MountOptions(cacheBytes, dax, d, commitInterval);
    }

    public MountOptions withCommitInterval(Duration d) {
        return new MountOptions(cacheBytes, dax, writebackDelay, d);
    }
}
