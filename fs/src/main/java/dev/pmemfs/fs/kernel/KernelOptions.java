package dev.pmemfs.fs.kernel;

/**
 * How the kernel frontend serves a mount.
 *
 * @param workers threads, each with its own {@code /dev/fuse} descriptor
 * @param timeoutNanos how long the kernel may trust an entry or attributes we sent
 * @param keepCache whether cached files keep the kernel's page cache across opens (FOPEN_KEEP_CACHE)
 * @param writebackCache whether to ask for the kernel's write-back cache (FUSE_WRITEBACK_CACHE)
 */
public record KernelOptions(int workers, long timeoutNanos, boolean keepCache, boolean writebackCache) {
    /**
     * One worker per core; the rest as measured (README, "Measured"), each overridable by a
     * system property for measuring again ({@code -Dpmemfs.kernel.timeout_ms=},
     * {@code .keep_cache=}, {@code .writeback_cache=}):
     * <ul>
     * <li>10 s timeouts: every change reaches pmemfs through this mount's kernel, which updates
     *     or drops what it cached itself, so a long timeout is safe; stat ran 2.8k/s at 0,
     *     39k/s at 1 s, 76k/s at 10 s.
     * <li>keep_cache on: for the same reason the kernel's clean pages stay valid across opens
     *     (AUTO_INVAL_DATA drops them if the mtime moves); reading a 128 MiB file again and
     *     again went from 260-315 MB/s to 1,128 MB/s.
     * <li>write-back cache off: it made buffered 4 KiB random writes 3.3x faster but halved
     *     4 KiB append+fsync (each fsync first writes the kernel's dirty page, then syncs), and
     *     puts a second dirty buffer in front of ours.
     * </ul>
     */
    public static KernelOptions defaults() {
        return new KernelOptions(Runtime.getRuntime().availableProcessors(),
                Long.getLong("pmemfs.kernel.timeout_ms", 10_000) * 1_000_000L,
                Boolean.parseBoolean(System.getProperty("pmemfs.kernel.keep_cache", "true")),
                Boolean.parseBoolean(System.getProperty("pmemfs.kernel.writeback_cache", "false")));
    }

    public KernelOptions withWorkers(int n) {
        if (n < 1 || n > 256) {
            throw new IllegalArgumentException("workers must be between 1 and 256, not " + n);
        }
        return new KernelOptions(n, timeoutNanos, keepCache, writebackCache);
    }
}
