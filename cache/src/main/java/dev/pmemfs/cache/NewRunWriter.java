package dev.pmemfs.cache;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * The writer of runs of whole pages that are not in RAM, for {@link CachedPages}: one copy of
 * the run into adjacent slab slots, made before any other thread can see the pages, then one
 * insertion per page into the dirty pages under that page's key lock. A page that another
 * thread put in RAM meanwhile is left to the caller, which writes it the ordinary way; so are
 * all of them when the slab has no adjacent free slots.
 *
 * <p>Why: 256 copies of 4 KiB, each with its page's bookkeeping, cost a 1 MiB write into new
 * pages about twice a copy's time. What is left per page is what a page in RAM needs: its
 * {@link Page} (with its lock; no slice object, the page finds its slot in the chunk), the boxed
 * key and the map's node, and the check that Caffeine does not hold the page. Per run: the copy,
 * one remapping function for every page's {@code compute} (no lambda per page), one update of
 * the dirty count. Every byte allocated per page here is paid again by the garbage collector
 * and, while the heap grows, by a page fault per 4 KiB of new heap.
 *
 * <p>Thread safety: {@code held} and Caffeine's map are concurrent, the slab is synchronised;
 * each call's state is confined to its {@link Insert}.
 */
final class NewRunWriter {
    private static final int PAGE_SIZE = Pages.PAGE_SIZE;

    private final PageSlab slab;
    private final ConcurrentMap<Long, Page> held;
    private final Map<Long, Page> clean;
    private final AtomicLong dirtyPages;
    private final Consumer<Page> free;

    /**
     * @param held  the cache's dirty and written pages
     * @param clean Caffeine's map of the clean pages (a page must never be in both)
     * @param free  gives a page's slot back
     */
    NewRunWriter(PageSlab slab, ConcurrentMap<Long, Page> held, Map<Long, Page> clean, AtomicLong dirtyPages,
                 Consumer<Page> free) {
        this.slab = slab;
        this.held = held;
        this.clean = clean;
        this.dirtyPages = dirtyPages;
        this.free = free;
    }

    /**
     * Writes the whole pages {@code pages[from, end)} (adjacent, likely not in RAM) from
     * {@code src} at {@code srcOffset}, dirty since {@code now}; sets {@code dirtied[i]} for
     * each page it put in RAM and returns how many that were. The others are the caller's.
     */
    int write(long[] pages, int from, int end, MemorySegment src, long srcOffset, long now, boolean[] dirtied) {
        int count = end - from;
        int first = slab.takeRun(count);
        if (first < 0) {
            return 0;
        }
        MemorySegment chunk = slab.chunk(first);
        MemorySegment.copy(src, srcOffset, chunk, PageSlab.offset(first), (long) count * PAGE_SIZE);
        Insert insert = new Insert(clean);
        int stored = 0;
        for (int k = 0; k < count; k++) {
            Page made = new Page(chunk, first + k);
            made.dirty = true;
            made.dirtySince = now;
            insert.made = made;
            if (held.compute(pages[from + k], insert) == made) {
                dirtied[from + k] = true;
                stored++;
            } else {
                free.accept(made); // never seen by another thread
            }
        }
        dirtyPages.addAndGet(stored);
        return stored;
    }

    /** The remapping function of one call's inserts: the new page, unless the key is in RAM already. */
    private static final class Insert implements BiFunction<Long, Page, Page> {
        private final Map<Long, Page> clean;
        /** The page to insert next. */
        Page made;

        Insert(Map<Long, Page> clean) {
            this.clean = clean;
        }

        @Override
        public Page apply(Long key, Page p) {
            return p != null || clean.containsKey(key) ? p : made;
        }
    }
}
