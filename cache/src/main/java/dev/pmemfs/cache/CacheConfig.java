package dev.pmemfs.cache;

import java.time.Duration;

/**
 * Settings of a {@link CachedPages}: how much RAM it may hold, when dirty pages are written
 * back, and whether write-back compares lines with the media first.
 *
 * <p>Watermarks are fractions of {@code cacheBytes}: when dirty bytes pass {@code highWatermark}
 * writers are slowed while dirty pages are written back down to {@code lowWatermark}, the scheme
 * (and the 50 % / 45 % defaults) of dm-writecache.
 *
 * @param cacheBytes     RAM for pages, clean and dirty together (at least one page)
 * @param writebackDelay a dirty page older than this is written back by the background thread
 * @param highWatermark  dirty fraction of the cache that starts throttled write-back, in (0, 1]
 * @param lowWatermark   dirty fraction at which throttled write-back stops, in [0, highWatermark)
 * @param compareLines   data-comparison write: store only the 64-byte lines that differ from the media
 */
public record CacheConfig(long cacheBytes, Duration writebackDelay, double highWatermark, double lowWatermark,
                          boolean compareLines) {
    public static final long DEFAULT_CACHE_BYTES = 256L << 20;
    public static final Duration DEFAULT_WRITEBACK_DELAY = Duration.ofSeconds(30);
    public static final double DEFAULT_HIGH_WATERMARK = 0.50;
    public static final double DEFAULT_LOW_WATERMARK = 0.45;
    /** On by default: see {@link CachedPages} for the measurement behind it. */
    public static final boolean DEFAULT_COMPARE_LINES = true;

    public CacheConfig {
        if (cacheBytes < Pages.PAGE_SIZE) {
            throw new IllegalArgumentException("cache size " + cacheBytes + " is smaller than one page");
        }
        if (writebackDelay == null || writebackDelay.isNegative() || writebackDelay.isZero()) {
            throw new IllegalArgumentException("write-back delay must be positive: " + writebackDelay);
        }
        if (!(highWatermark > 0 && highWatermark <= 1)) {
            throw new IllegalArgumentException("high watermark must be in (0, 1]: " + highWatermark);
        }
        if (!(lowWatermark >= 0 && lowWatermark < highWatermark)) {
            throw new IllegalArgumentException("low watermark must be in [0, high): " + lowWatermark);
        }
    }

    /** The defaults: 256 MiB, 30 s, 50 % / 45 %, data-comparison write on. */
    public static CacheConfig defaults() {
        return new CacheConfig(DEFAULT_CACHE_BYTES, DEFAULT_WRITEBACK_DELAY, DEFAULT_HIGH_WATERMARK,
                DEFAULT_LOW_WATERMARK, DEFAULT_COMPARE_LINES);
    }

    public CacheConfig withCacheBytes(long bytes) {
        return new CacheConfig(bytes, writebackDelay, highWatermark, lowWatermark, compareLines);
    }

    public CacheConfig withWritebackDelay(Duration delay) {
        return new CacheConfig(cacheBytes, delay, highWatermark, lowWatermark, compareLines);
    }

    public CacheConfig withWatermarks(double high, double low) {
        return new CacheConfig(cacheBytes, writebackDelay, high, low, compareLines);
    }

    public CacheConfig withCompareLines(boolean compare) {
        return new CacheConfig(cacheBytes, writebackDelay, highWatermark, lowWatermark, compare);
    }

    /** Dirty bytes above which writers are throttled. */
    long highBytes() {
        return Math.max(Pages.PAGE_SIZE, (long) (cacheBytes * highWatermark));
    }

    /** Dirty bytes at which throttled write-back stops. */
    long lowBytes() {
        return (long) (cacheBytes * lowWatermark);
    }
}
