package dev.pmemfs.fs.core;

import java.time.Duration;

/**
 * How a filesystem is mounted.
 *
 * @param cacheBytes     RAM for the page cache
 * @param dax            which files take the direct path
 * @param writebackDelay age at which a dirty page is written back
 * @param commitInterval how often the running metadata transaction is committed (ext4's commit=)
 * @param wearSaveInterval how often the region's wear counters are saved (also at unmount): what a
 *                       crash can lose of them
 */
public record MountOptions(long cacheBytes, DaxMode dax, Duration writebackDelay, Duration commitInterval,
                           Duration wearSaveInterval) {
    public static final long DEFAULT_CACHE = 256L << 20;

    public static MountOptions defaults() {
        return new MountOptions(DEFAULT_CACHE, DaxMode.NEVER, Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(30));
    }

    public MountOptions withWearSaveInterval(Duration d) {
        return new MountOptions(cacheBytes, dax, writebackDelay, commitInterval, d);
    }

    public MountOptions withDax(DaxMode d) {
        return new MountOptions(cacheBytes, d, writebackDelay, commitInterval, wearSaveInterval);
    }

    public MountOptions withCache(long bytes) {
        return new MountOptions(bytes, dax, writebackDelay, commitInterval, wearSaveInterval);
    }

    public MountOptions withWritebackDelay(Duration d) {
        return new MountOptions(cacheBytes, dax, d, commitInterval, wearSaveInterval);
    }

    public MountOptions withCommitInterval(Duration d) {
        return new MountOptions(cacheBytes, dax, writebackDelay, d, wearSaveInterval);
    }
}
