package dev.pmemfs.cache;

import dev.pmemfs.device.Region;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * The write-back of a {@link CachedPages}: stores batches of dirty pages to the media in
 * ascending order and persists them, keeps the order in which pages became dirty (for age and
 * watermark write-back), and the written pages in write-back order (for their eviction).
 *
 * <p><b>A batch</b> has three steps. (1) Copy: each dirty page is locked for reading, ascending
 * (as multi-page readers lock them, so neither can deadlock behind writers queued on the
 * locks), and its write count ({@link Page#version}) noted; pages adjacent both on the media and
 * in the slab go to the media with one copy per run, others one by one (with data-comparison
 * write where it can save bytes); the read locks are released after each run. (2) Mark, right
 * after each run (its pages are still in the CPU's caches): under its key lock each page whose
 * write count is still the noted one becomes written (clean); a page written to after its copy
 * stays dirty, for the next write-back. (3) Persist, once all runs are done: one call per
 * run of adjacent media pages. The caller holds {@code flushLock} through all three, so a sync
 * that finds a page clean under that lock finds it durable.
 *
 * <p>Why copy outside the key lock, in runs: a 1 GiB fsync spent its time in 262,144 copies of
 * 4 KiB, each inside a map compute; copies of 4 MiB and more run about 1.6 times as fast here
 * ({@link PageSlab} has the figures), and a run is one wear count and one bounds check.
 *
 * <p>Guards: {@code flushLock} (held by every caller of a method here, except {@link #mark},
 * which writers call) guards {@link #written} and the batch; {@code order} is thread-safe
 * ({@link DirtyOrder}); counters are atomic.
 */
final class PageWriter {
    private static final int PAGE_SIZE = Pages.PAGE_SIZE;
    private static final int LINE = Region.LINE_SIZE;
    private static final int LINES = PAGE_SIZE / LINE;
    /** Pages per copy at most: a slab chunk. */
    private static final int MAX_RUN = PageSlab.CHUNK_SLOTS;

    private final Region region;
    private final CacheConfig config;
    private final ConcurrentMap<Long, Page> held;
    private final AtomicLong dirtyPages;
    private final AtomicLong writtenPages;
    private final LongAdder evictions;
    private final Consumer<Page> free;
    /**
     * The order in which pages became dirty, for age- and watermark-driven write-back in O(1)
     * per page. A mark whose page was written back, or dirtied again later, is stale and skipped.
     */
    private final DirtyOrder order = new DirtyOrder();
    private final WrittenQueue written = new WrittenQueue();

    final LongAdder writebacks = new LongAdder();
    final LongAdder mediaBytes = new LongAdder();
    final LongAdder linesSkipped = new LongAdder();
    /** Copies to the media (one per run of pages copied together, or per page). */
    final LongAdder copies = new LongAdder();

    PageWriter(Region region, CacheConfig config, ConcurrentMap<Long, Page> held,
               AtomicLong dirtyPages, AtomicLong writtenPages, LongAdder evictions, Consumer<Page> free) {
        this.region = region;
        this.config = config;
        this.held = held;
        this.dirtyPages = dirtyPages;
        this.writtenPages = writtenPages;
        this.evictions = evictions;
        this.free = free;
    }

    /** Notes that {@code count} pages from {@code page} became dirty at {@code since}. */
    void mark(long page, int count, long since) {
        order.add(page, count, since);
    }

    /**
     * Takes up to {@code count} dirty pages from the head of the dirty order, oldest first, as
     * long as they became dirty no later than {@code cutoff}. Marks of pages that were written
     * back or dirtied again since are dropped on the way.
     */
    long[] takeOldest(int count, long cutoff) {
        long[] out = new long[Math.min(count, Math.max(16, (int) Math.min(Integer.MAX_VALUE - 8, dirtyPages.get())))];
        int n = 0;
        long[] m = new long[3]; // first page, count, since
        while (n < count && order.pollUpTo(cutoff, m)) {
            for (int i = 0; i < m[1]; i++) {
                long page = m[0] + i;
                Page p = held.get(page);
                if (p != null && p.dirty && p.dirtySince == m[2]) {
                    if (n == out.length) {
                        out = Arrays.copyOf(out, (int) Math.min(Integer.MAX_VALUE - 8, out.length * 2L));
                    }
                    out[n++] = page;
                }
            }
        }
        return Arrays.copyOf(out, n);
    }

    /**
     * Writes back the dirty pages among {@code pages} (sorted here) in the three steps above and
     * returns how many became written. If a store or the persist fails, they are made dirty again.
     */
    int writeBatch(long[] pages) {
        Arrays.sort(pages);
        return writeSorted(pages, null);
    }

    /**
     * Writes back every page dirty now: collects them with their {@link Page} objects in one pass
     * over {@code held} and sorts the pairs, so the batch needs no second lookup per page.
     */
    int writeAllDirty() {
        DirtyPages d = new DirtyPages((int) Math.min(Integer.MAX_VALUE - 8, dirtyPages.get() + 16));
        held.forEach(d);
        if (d.wide) { // a page number past 2^32 (a region over 16 TiB): no room to pack, look pages up
            return writeBatch(Arrays.copyOf(d.keys, d.n));
        }
        long[] packed = new long[d.n]; // page << 31 | index: one sort orders the pairs
        for (int i = 0; i < d.n; i++) {
            packed[i] = d.keys[i] << 31 | i;
        }
        Arrays.sort(packed);
        long[] pages = new long[d.n];
        Page[] known = new Page[d.n];
        for (int i = 0; i < d.n; i++) {
            pages[i] = packed[i] >>> 31;
            known[i] = d.pages[(int) (packed[i] & Integer.MAX_VALUE)];
        }
        return writeSorted(pages, known);
    }

    /** The dirty pages of {@code held}, gathered by {@code forEach}. */
    private static final class DirtyPages implements java.util.function.BiConsumer<Long, Page> {
        long[] keys;
        Page[] pages;
        int n;
        boolean wide;

        DirtyPages(int capacity) {
            keys = new long[capacity];
            pages = new Page[capacity];
        }

        @Override
        public void accept(Long page, Page p) {
            if (!p.dirty) {
                return;
            }
            if (n == keys.length) {
                int grown = (int) Math.min(Integer.MAX_VALUE - 8, keys.length * 2L);
                keys = Arrays.copyOf(keys, grown);
                pages = Arrays.copyOf(pages, grown);
            }
            wide |= page >>> 32 != 0;
            keys[n] = page;
            pages[n++] = p;
        }
    }

    /** Writes back the dirty pages among {@code pages} (ascending; {@code known}: their pages, or null to look them up). */
    private int writeSorted(long[] pages, Page[] known) {
        Batch b = new Batch(pages.length);
        try {
            b.copy(pages, known);
            for (int i = 0; i < b.n; ) {
                int end = DirectPages.runEnd(b.at, i, b.n);
                region.persist(b.at[i] * PAGE_SIZE, (long) (end - i) * PAGE_SIZE);
                i = end;
            }
        } catch (RuntimeException | Error e) {
            for (int i = 0; i < b.n; i++) {
                redirty(b.at[i], b.got[i]);
            }
            throw e;
        }
        writebacks.add(b.marked);
        return b.marked;
    }

    /** The pages of one batch, in ascending order, with their write counts at the copy. */
    private final class Batch implements BiFunction<Long, Page, Page> {
        final long[] at;
        final Page[] got;
        /** Of the current run, by index less {@code runStart}: write counts and read-lock stamps. */
        final long[] versions;
        final long[] stamps;
        int n;
        /** The pages [runStart, n) are the run being built, read-locked from {@code max(runStart, unlocked)} on. */
        private int runStart;
        private int unlocked;
        private int k;
        int marked;

        Batch(int capacity) {
            at = new long[capacity];
            got = new Page[capacity];
            versions = new long[Math.min(capacity, MAX_RUN)];
            stamps = new long[Math.min(capacity, MAX_RUN)];
        }

        void copy(long[] pages, Page[] known) {
            try {
                for (int i = 0; i < pages.length; i++) {
                    if (i > 0 && pages[i] == pages[i - 1]) {
                        continue; // duplicate
                    }
                    Page p = known != null ? known[i] : held.get(pages[i]);
                    if (p == null || !p.dirty) {
                        continue;
                    }
                    long stamp = p.lockRead();
                    if (stamp == 0) {
                        continue; // dropped meanwhile (a page dropped but not yet dead is copied, not marked)
                    }
                    if (n > runStart && !joins(got[n - 1], at[n - 1], p, pages[i], n - runStart)) {
                        storeRun();
                    }
                    at[n] = pages[i];
                    got[n] = p;
                    stamps[n - runStart] = stamp;
                    versions[n - runStart] = p.version();
                    n++;
                }
                storeRun();
            } finally {
                for (int i = Math.max(runStart, unlocked); i < n; i++) { // after a failed store
                    got[i].unlockRead(stamps[i - runStart]);
                }
                runStart = n;
            }
        }

        /** Whether page {@code p} can be copied with the run that ends with {@code last}. */
        private boolean joins(Page last, long lastAt, Page p, long page, int runLength) {
            return page == lastAt + 1 && runLength < MAX_RUN && PageSlab.contiguous(last.slot(), p.slot())
                    && whole(last) && whole(p);
        }

        /** Stores the pages [runStart, n) and releases their read locks. */
        private void storeRun() {
            int count = n - runStart;
            if (count == 0) {
                return;
            }
            copies.increment();
            if (count == 1) {
                storeToMedia(at[runStart], got[runStart]);
            } else {
                Page head = got[runStart];
                long length = (long) count * PAGE_SIZE;
                region.write(at[runStart] * PAGE_SIZE, head.memory(), head.offset(), length);
                mediaBytes.add(length);
            }
            for (int i = runStart; i < n; i++) {
                got[i].unlockRead(stamps[i - runStart]);
            }
            unlocked = n;
            int before = marked;
            for (k = runStart; k < n; k++) { // while the pages are still in the CPU's caches
                held.computeIfPresent(at[k], this);
            }
            dirtyPages.addAndGet(before - marked);
            writtenPages.addAndGet(marked - before);
            runStart = n;
        }

        /** The mark of page {@code at[k]}, run inside its key lock. */
        @Override
        public Page apply(Long key, Page p) {
            if (p != got[k] || !p.dirty) {
                return p; // dropped and replaced since
            }
            if (p.version() != versions[k - runStart]) {
                mark(key, 1, p.dirtySince); // written to after the copy: stays dirty, queued again
                return p;
            }
            p.dirty = false;
            p.referenced = false;
            p.compare = true; // the media now holds these bytes: later partial writes can be compared
            p.key = key;
            long seq = written.nextSeq();
            p.writtenSeq = seq;
            written.add(p, seq);
            marked++; // counted once per run
            return p;
        }
    }

    /** Whether a page is stored whole (no comparison with the media), so it can join a run. */
    private boolean whole(Page p) {
        return !config.compareLines() || !p.compare;
    }

    /** After a failed persist: the page is dirty again, unless it left or was dirtied since. */
    private void redirty(long page, Page stored) {
        held.computeIfPresent(page, (k, p) -> {
            if (p == stored && !p.dirty) {
                p.dirty = true;
                p.dirtySince = System.nanoTime();
                p.writtenSeq = 0;
                writtenPages.decrementAndGet();
                dirtyPages.incrementAndGet();
                mark(k, 1, p.dirtySince);
            }
            return p;
        });
    }

    /**
     * Drops the stale entries of the written queue (pages dirtied, promoted, dropped or queued
     * again since) once they outnumber the live ones by 4096. After every batch, not only when
     * written pages pass their limit: a file whose few pages are rewritten and fsync'd again and
     * again queues an entry per write-back and never reaches the limit, so the queue grew
     * without bound. Amortised O(1) per entry (a compaction leaves only live entries).
     */
    void compactWritten() {
        if (written.size() > 2 * writtenPages.get() + 4096) {
            written.compact();
        }
    }

    /** Entries in the written queue, live or stale (for tests). */
    int writtenEntries() {
        return written.size();
    }

    /**
     * Evicts the oldest written pages until at most {@code limit} are left: a stream written once
     * and never read again leaves RAM in the order it was written back.
     */
    void trimWritten(long limit) {
        compactWritten();
        Page p;
        while (writtenPages.get() > limit && (p = written.headPage()) != null) {
            Page victim = p;
            long seq = written.headSeq();
            written.removeHead();
            if (victim.writtenSeq != seq) {
                continue; // stale: dirtied, promoted, dropped or queued again since
            }
            held.computeIfPresent(victim.key, (k, cur) -> {
                if (cur != victim || cur.dirty || cur.writtenSeq != seq) {
                    return cur;
                }
                writtenPages.decrementAndGet();
                evictions.increment();
                free.accept(cur);
                return null;
            });
        }
    }

    /**
     * Copies one page to the media; with data-comparison write, only the run from the first to
     * the last 64-byte line that differs from the media. Called with the page's read lock.
     */
    private void storeToMedia(long page, Page p) {
        long base = page * PAGE_SIZE;
        MemorySegment ram = p.memory();
        long at = p.offset();
        if (whole(p)) {
            region.write(base, ram, at, PAGE_SIZE);
            mediaBytes.add(PAGE_SIZE);
            return;
        }
        MemorySegment media = region.view(base, PAGE_SIZE);
        long diff = MemorySegment.mismatch(ram, at, at + PAGE_SIZE, media, 0, PAGE_SIZE);
        if (diff < 0) {
            linesSkipped.add(LINES);
            return;
        }
        int first = (int) (diff / LINE);
        int last = LINES - 1;
        while (last > first && MemorySegment.mismatch(ram, at + (long) last * LINE, at + (long) (last + 1) * LINE,
                media, (long) last * LINE, (long) (last + 1) * LINE) < 0) {
            last--;
        }
        long length = (long) (last - first + 1) * LINE;
        linesSkipped.add(LINES - (last - first + 1));
        region.write(base + (long) first * LINE, ram, at + (long) first * LINE, length);
        mediaBytes.add(length);
    }
}
