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
     * One worker per core; timeouts, keep_cache and the write-back cache as measured (see the
     * README); each overridable by a system property for measuring again
     * ({@code -Dpmemfs.kernel.timeout_ms=}, {@code .keep_cache=}, {@code .writeback_cache=}).
     */
    public static KernelOptions defaults() {
        return new KernelOptions(Runtime.getRuntime().availableProcessors(),
                Long.getLong("pmemfs.kernel.timeout_ms", 1000) * 1_000_000L,
                Boolean.parseBoolean(System.getProperty("pmemfs.kernel.keep_cache", "false")),
                Boolean.parseBoolean(System.getProperty("pmemfs.kernel.writeback_cache", "false")));
    }

    public KernelOptions withWorkers(int n) {
        if (n < 1 || n > 256) {
            throw new IllegalArgumentException("workers must be between 1 and 256, not " + n);
        }
        return new KernelOptions(n, timeoutNanos, keepCache, writebackCache);
    }
}
