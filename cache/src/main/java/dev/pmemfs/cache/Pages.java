package dev.pmemfs.cache;

import java.lang.foreign.MemorySegment;

/**
 * Page I/O over a region: the one interface the filesystem uses for every data block it reads
 * or writes. A page is a 4 KiB block of the region, named by its block number
 * ({@code offset / PAGE_SIZE}).
 *
 * <p>Implementations: {@link CachedPages} (RAM pages in a Caffeine cache, written back later)
 * and {@link DirectPages} (straight to the mapped region, the DAX path).
 *
 * <p>Contract: a read returns the bytes of the latest write to that range; reads and writes
 * of one page are atomic with respect to each other (no torn page); after {@link #sync} or
 * {@link #syncAll} returns, the data of the pages it covered survives a power failure of the
 * region. Thread safe.
 */
public interface Pages extends AutoCloseable {
    int PAGE_SIZE = 4096;

    /** Copies {@code length} bytes at {@code offsetInPage} of {@code page} into {@code dst} at {@code dstOffset}. */
    void read(long page, int offsetInPage, MemorySegment dst, long dstOffset, int length);

    /** Copies {@code length} bytes from {@code src} at {@code srcOffset} into {@code page} at {@code offsetInPage}. */
    void write(long page, int offsetInPage, MemorySegment src, long srcOffset, int length);

    /**
     * Writes zeros over {@code length} bytes at {@code offsetInPage} of {@code page}: the
     * filesystem's fill of a new block around a partial write. Not counted as bytes written
     * by callers (it is the filesystem's own work), though it costs the media like a write.
     */
    void zero(long page, int offsetInPage, int length);

    /** Makes the given pages durable (writes back the dirty ones, then persists). */
    void sync(long[] pages);

    /** Makes every page durable. */
    void syncAll();

    /** Forgets a page without writing it back (its block was freed). */
    void drop(long page);

    /** Counters since this instance was created. */
    PageStats stats();

    /** Writes back everything, persists, and stops background work. */
    @Override
    void close();
}
