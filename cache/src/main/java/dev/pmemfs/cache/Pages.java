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
     * Reads {@code length} bytes that start at {@code offsetInFirst} of {@code pages[from]} and
     * run on through {@code pages[from + 1]}, ... (each entry the page that holds the next 4 KiB
     * of the caller's range; they need not be adjacent) into {@code dst} at {@code dstOffset}.
     * One call per request: implementations look pages up and copy in runs, not page by page.
     * Each page is read atomically, as by {@link #read(long, int, MemorySegment, long, int)}.
     */
    default void read(long[] pages, int from, int offsetInFirst, MemorySegment dst, long dstOffset, long length) {
        long done = 0;
        for (int i = from; done < length; i++) {
            int off = i == from ? offsetInFirst : 0;
            int chunk = (int) Math.min(PAGE_SIZE - off, length - done);
            read(pages[i], off, dst, dstOffset + done, chunk);
            done += chunk;
        }
    }

    /**
     * Writes {@code length} bytes from {@code src} at {@code srcOffset} into the range that starts
     * at {@code offsetInFirst} of {@code pages[0]} and runs on through the next entries (as for
     * the bulk {@link #read(long[], int, int, MemorySegment, long, long)}). A page whose entry in
     * {@code fresh} is true (a block just allocated; {@code fresh} may be null: none) is new:
     * its bytes outside the written range become zeros and its old media bytes are never read.
     * Each page is written atomically.
     */
    default void write(long[] pages, boolean[] fresh, int offsetInFirst, MemorySegment src, long srcOffset, long length) {
        long done = 0;
        for (int i = 0; done < length; i++) {
            int off = i == 0 ? offsetInFirst : 0;
            int chunk = (int) Math.min(PAGE_SIZE - off, length - done);
            boolean isNew = fresh != null && fresh[i];
            if (isNew && off > 0) {
                zero(pages[i], 0, off);
            }
            write(pages[i], off, src, srcOffset + done, chunk);
            if (isNew && off + chunk < PAGE_SIZE) {
                zero(pages[i], off + chunk, PAGE_SIZE - off - chunk);
            }
            done += chunk;
        }
    }

    /**
     * Hands {@code reader} the bytes of a range (pages as for the bulk
     * {@link #read(long[], int, int, MemorySegment, long, long)}) as slices of the memory that
     * holds them (RAM pages or the mapped region), without copying: for a frontend that sends a
     * READ reply with one {@code writev} of these slices. The slices are valid, and their pages
     * held still (no write, eviction or write-back changes them), only while {@code reader}
     * runs; it must not keep them, nor call back into this instance. Pages not in RAM are loaded
     * first.
     */
    void read(long[] pages, int from, int offsetInFirst, long length, SliceReader reader);

    /** Receives the slices of a range from {@link #read(long[], int, int, long, SliceReader)}. */
    @FunctionalInterface
    interface SliceReader {
        /** {@code slices[0 .. count)} hold the range in order; valid only during this call. */
        void accept(MemorySegment[] slices, int count);
    }

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

    /**
     * Forgets the RAM copies of {@code pages} (entries of 0, holes, are skipped), which the caller
     * is about to write straight to the media, past this instance (write-through); answers false,
     * forgetting no dirty page, when one of them is dirty: its RAM bytes are newer than the media,
     * so the caller must write through this instance instead. The caller keeps every other writer
     * and reader of these pages out meanwhile. Without RAM copies (the direct path) there is
     * nothing to forget.
     */
    default boolean forgetClean(long[] pages) {
        return true;
    }

    /** Counters since this instance was created. */
    PageStats stats();

    /** Writes back everything, persists, and stops background work. */
    @Override
    void close();
}
