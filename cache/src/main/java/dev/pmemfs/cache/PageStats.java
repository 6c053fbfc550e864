package dev.pmemfs.cache;

/**
 * Counters of a {@link Pages} instance.
 *
 * @param hits          reads or writes that found their page in RAM
 * @param misses        reads or partial writes that had to load the page from the media
 * @param evictions     clean pages dropped to stay under the cache size
 * @param writebacks    dirty pages written to the media
 * @param dirtyPages    pages now dirty in RAM
 * @param cachedBytes   bytes of pages now in RAM
 * @param userBytes     bytes callers wrote
 * @param mediaBytes    bytes this instance stored to the media
 * @param linesSkipped  64-byte lines not stored because the media already held them (data-comparison write)
 */
public record PageStats(long hits, long misses, long evictions, long writebacks, long dirtyPages,
                        long cachedBytes, long userBytes, long mediaBytes, long linesSkipped) {

    /** Bytes stored to the media per byte written by callers (0 when nothing was written). */
    public double writeAmplification() {
        return userBytes == 0 ? 0 : (double) mediaBytes / userBytes;
    }

    /** Bytes of the pages now dirty in RAM. */
    public long dirtyBytes() {
        return dirtyPages * Pages.PAGE_SIZE;
    }
}
