package dev.pmemfs.cache;

/**
 * The order in which runs of pages became dirty, oldest first, for age- and watermark-driven
 * write-back: a ring of marks (first page, page count, time) in three primitive arrays.
 *
 * <p>Why not a queue of mark objects: a mark outlives the write that made it until the
 * write-back reaches it, and after a random-write burst there are hundreds of thousands (one
 * per 4 KiB write; an fsync writes the pages back but leaves their marks, stale, until the
 * age write-back drains them 30 s later). As objects (a record and a queue node, 56 bytes per
 * mark) they were 13-15 MB that every young collection of the next seconds copied again: in
 * the bench's append+fsync job after its random writes, young pauses of 22-52 ms with 13 MB
 * surviving each; with this ring, 3-10 ms with 0.35 MB ({@code -Xlog:gc+age=trace}). Here a
 * mark is 20 bytes in three arrays that the collector moves, if at all, without looking inside.
 *
 * <p>Thread-safe: writers add marks (after dirtying their pages; the write-back re-adds one
 * inside a page's key lock) while the write-back, holding {@link CachedPages}' {@code flushLock},
 * takes them; each call holds this object's monitor for O(1) amortised work (growing and
 * shrinking copy the ring).
 */
final class DirtyOrder {
    /** Capacity the ring starts at and never shrinks below (a power of two). */
    static final int MIN_CAPACITY = 1024;

    private long[] pages = new long[MIN_CAPACITY];
    private long[] since = new long[MIN_CAPACITY];
    private int[] counts = new int[MIN_CAPACITY];
    private int head;
    private int size;

    /** Notes that {@code count} pages from {@code page} became dirty at {@code nanos}. */
    synchronized void add(long page, int count, long nanos) {
        if (size == pages.length) {
            resize(pages.length * 2);
        }
        int at = (head + size) & (pages.length - 1);
        pages[at] = page;
        since[at] = nanos;
        counts[at] = count;
        size++;
    }

    /**
     * Removes the oldest mark if it became dirty no later than {@code cutoff} (compared as
     * {@link System#nanoTime} values) and puts its first page, page count and time into
     * {@code into[0..2]}; returns false, leaving the ring as it was, otherwise.
     */
    synchronized boolean pollUpTo(long cutoff, long[] into) {
        if (size == 0 || since[head] - cutoff > 0) {
            return false;
        }
        into[0] = pages[head];
        into[1] = counts[head];
        into[2] = since[head];
        head = (head + 1) & (pages.length - 1);
        size--;
        if (size < pages.length / 4 && pages.length > MIN_CAPACITY) {
            resize(pages.length / 2); // a drained burst gives its arrays back
        }
        return true;
    }

    synchronized int size() {
        return size;
    }

    synchronized int capacity() {
        return pages.length;
    }

    /** Copies the marks, oldest first, into arrays of {@code capacity} (a power of two, >= size). */
    private void resize(int capacity) {
        long[] p = new long[capacity];
        long[] s = new long[capacity];
        int[] c = new int[capacity];
        int mask = pages.length - 1;
        for (int i = 0; i < size; i++) {
            int from = (head + i) & mask;
            p[i] = pages[from];
            s[i] = since[from];
            c[i] = counts[from];
        }
        pages = p;
        since = s;
        counts = c;
        head = 0;
    }
}
