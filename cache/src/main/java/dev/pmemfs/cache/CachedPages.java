package dev.pmemfs.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Policy;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.pmemfs.device.Region;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The double buffer: 4 KiB pages of the region held in RAM, with write-back. Writes dirty the
 * RAM page only, so many writes to a page cost one media write; dirty pages reach the media on
 * {@link #sync}, {@link #syncAll}, {@link #close}, when older than the write-back delay, and
 * when dirty bytes pass the high watermark.
 *
 * <p><b>Three sets.</b> Clean pages live in a Caffeine cache bounded by bytes. Dirty pages live
 * in a plain concurrent map, {@code held}, outside it, so no eviction can ever see a dirty page.
 * A write moves its page from the cache into {@code held} inside {@code held.compute} for that
 * page; write-back ({@link PageWriter}) copies the page to the media under the page's read lock
 * and then, under the key lock, marks it <i>written</i> (clean, but still in {@code held}) unless
 * a write came after the copy; then it persists the batch. A written page read a second time
 * moves into Caffeine; otherwise it leaves RAM in write-back order once written pages pass
 * three quarters of the cache (less the dirty pages). A write racing a write-back of the same
 * page lands either before its copy (and is written back) or after it (and the page stays or
 * becomes dirty again). Caffeine never holds a page that {@code held} holds: every move between
 * them happens under {@code held}'s key lock.
 *
 * <p>Why written pages stay out of Caffeine: inserting a page into Caffeine costs about 1 µs
 * here, as much as storing it; a 1 GiB fsync spent more time inserting the pages it had written
 * back than writing them. A stream written once never pays it; a page that is read again does,
 * once. (Linux keeps new pages on an inactive list and promotes them on a second access, the
 * same idea.)
 *
 * <p>An earlier version pinned dirty pages inside Caffeine with weight 0. It was correct, but
 * Caffeine's eviction walks past pinned entries, so with many dirty pages every eviction
 * scanned them: a working set larger than the cache wrote back at ~200 MB/s. Keeping dirty
 * pages outside costs nothing of that.
 *
 * <p><b>Size.</b> Caffeine bounds the clean pages; its maximum is lowered by the held bytes
 * (in steps of 1/32 of the cache), so clean plus held stay near {@code cacheBytes}; the
 * watermarks bound the dirty pages, {@link PageWriter#trimWritten} the written ones.
 *
 * <p><b>Multi-page requests</b> are one operation: pages are looked up and dirtied in one pass,
 * a run of whole new pages is copied at once into adjacent slab slots ({@link NewRunWriter}),
 * one write-back mark is queued per run of adjacent pages, and the cache is resized and the
 * writer throttled once per request.
 *
 * <p><b>Throttling.</b> A writer that finds dirty bytes above the high watermark wakes the
 * write-back thread and then takes the flush lock itself and writes back the oldest dirty pages
 * until the low watermark is reached: writers are slowed exactly while there is work to do.
 *
 * <p><b>Durability.</b> Every write-back batch (sync, throttle, age) runs under
 * {@code flushLock} and persists what it stored before the lock is released (the pages are
 * marked clean before the persist, under the same hold). Hence a page that {@link #sync} finds
 * clean, while holding the lock, is durable.
 *
 * <p><b>Data-comparison write</b> ({@link CacheConfig#compareLines()}, on by default):
 * write-back finds the first and the last 64-byte line that differ from the media and stores
 * only that run. Only where it can save a write: a page that was new, or rewritten whole, since
 * its bytes last matched the media is stored without comparison ({@link Page#compare}), and
 * only such pages join the runs that write-back copies at once. Measured in
 * {@code CompareLinesTest}: random whole-page rewrites cost the same
 * media bytes with or without it and about the same time, while small rewrites of a page store
 * a fraction of the bytes. Wear is the scarce resource here, so it is on.
 *
 * <p>Guards: a held page's bytes, its membership of {@code held}, its state and
 * {@code dirtySince} are guarded by {@code held}'s per-key compute lock (and {@link Page}'s
 * lock for readers); {@code flushLock} serialises write-back batches, the persist that ends
 * them, and the trimming of the written pages; counters are atomic.
 */
public final class CachedPages implements Pages {
    private static final Logger LOG = LoggerFactory.getLogger(CachedPages.class);
    /** Pages written back per hold of {@code flushLock} by age and watermark write-back: 16 MiB. */
    private static final int BATCH_PAGES = 4096;
    /** Whole new pages written with one copy from this many on ({@link #storeNewRun}). */
    private static final int MIN_NEW_RUN = 8;

    private final Region region;
    private final CacheConfig config;
    private final long pageCount;
    /** Clean pages, evictable. */
    private final Cache<Long, Page> clean;
    private final Policy.Eviction<Long, Page> eviction;
    private final Policy<Long, Page> cleanPolicy;
    /**
     * One request in this many records a hit in Caffeine's policy (a read buffer entry, drained
     * by its maintenance on ForkJoinPool.commonPool()), for its first page; every other lookup is
     * quiet. Recording every hit scheduled a maintenance task every few dozen hits: a pool thread
     * woken beside fio and the FUSE workers, which on a 2-core machine moved them between CPUs.
     * Measured (two cached mounts side by side, alternating runs): unpinned 4 KiB random reads
     * with two fio jobs, 93-128k IOPS recording every hit, 142-159k recording one in 16 (median
     * 1.32x); 1 MiB sequential reads of written-back pages, sampling one request in 16 instead of
     * one page in 16: median 1.14x, 1.17x and 1.22x in three runs. A page hit often still gains
     * frequency in proportion. Running the maintenance on the caller instead (Caffeine's
     * executor(Runnable::run)) was as fast but livelocked BulkPagesTest in Caffeine's write-buffer
     * drain, inside a load under a key lock.
     */
    private static final int HIT_SAMPLE = 16;
    /**
     * Pages outside Caffeine, guarded per key by compute: the dirty ones (never evicted) and the
     * written ones (written back, clean, waiting in {@link PageWriter}'s written queue for a second read or for
     * eviction).
     */
    private final ConcurrentMap<Long, Page> held = new ConcurrentHashMap<>();
    private final AtomicLong dirtyPages = new AtomicLong();
    private final AtomicLong writtenPages = new AtomicLong();
    /** Pages in the whole cache. */
    private final long cachePages;
    private final ReentrantLock flushLock = new ReentrantLock();
    private final AtomicBoolean resizing = new AtomicBoolean();
    private final long resizeStep;
    private volatile long cleanMaximum;
    private final Writeback writeback;
    private final PageSlab slab;
    /** Stores batches of dirty pages; keeps the dirty order and the written pages' order. */
    private final PageWriter writer;
    /** Writes runs of whole new pages with one copy. */
    private final NewRunWriter newRuns;
    private volatile boolean closed;

    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder evictions = new LongAdder();
    private final LongAdder userBytes = new LongAdder();
    private final LongAdder throttles = new LongAdder();

    /** A cache over {@code region} with the default settings. */
    public CachedPages(Region region) {
        this(region, CacheConfig.defaults());
    }

    public CachedPages(Region region, CacheConfig config) {
        this.region = Objects.requireNonNull(region, "region");
        this.config = Objects.requireNonNull(config, "config");
        this.pageCount = region.dataSize() / PAGE_SIZE;
        this.cleanMaximum = config.cacheBytes();
        this.resizeStep = Math.max(PAGE_SIZE, config.cacheBytes() / 32);
        this.slab = new PageSlab(config.cacheBytes());
        this.cachePages = Math.max(1, config.cacheBytes() / PAGE_SIZE);
        this.clean = Caffeine.newBuilder()
                .maximumWeight(config.cacheBytes())
                .weigher((Long page, Page p) -> PAGE_SIZE)
                .evictionListener((Long page, Page p, RemovalCause cause) -> {
                    evictions.increment();
                    free(p);
                })
                .build();
        this.eviction = clean.policy().eviction().orElseThrow();
        this.cleanPolicy = clean.policy();
        this.writer = new PageWriter(region, config, held, dirtyPages, writtenPages, evictions, this::free);
        this.newRuns = new NewRunWriter(slab, held, clean.asMap(), dirtyPages, this::free);
        this.writeback = new Writeback(this, config.writebackDelay());
        writeback.start();
    }

    public CacheConfig config() {
        return config;
    }

    @Override
    public void read(long page, int offsetInPage, MemorySegment dst, long dstOffset, int length) {
        check(page, offsetInPage, length);
        read(new long[] {page}, 0, offsetInPage, dst, dstOffset, length);
    }

    @Override
    public void read(long[] pages, int from, int offsetInFirst, MemorySegment dst, long dstOffset, long length) {
        int n = DirectPages.pageCount(offsetInFirst, length);
        checkRange(pages, from, n, offsetInFirst);
        long done = 0;
        int hit = 0;
        for (int i = from; i < from + n; i++) {
            int off = i == from ? offsetInFirst : 0;
            int chunk = (int) Math.min(PAGE_SIZE - off, length - done);
            while (true) {
                Page p = lookup(pages[i], i == from);
                if (p != null) {
                    hit++;
                } else {
                    p = loadForRead(pages[i]);
                }
                if (p.read(off, dst, dstOffset + done, chunk)) {
                    break;
                }
                // the page was evicted under us and its memory reused: look again
            }
            done += chunk;
        }
        hits.add(hit);
    }

    /**
     * The page in RAM, dirty or clean, or null. A written page read for the second time moves
     * into Caffeine: it is being used, not just streamed. A hit may be recorded for the eviction
     * policy only when {@code sample} (the first page of a request), and then one in
     * {@link #HIT_SAMPLE} is: the policy counts requests, so a 1 MiB read gives its 256 pages
     * no more frequency than a 4 KiB read gives its one (a stream is not a hot set).
     */
    private Page lookup(long page, boolean sample) {
        // Caffeine first: a page moving in or out is the same object.
        Page p = sample && ThreadLocalRandom.current().nextInt(HIT_SAMPLE) == 0
                ? clean.getIfPresent(page)
                : cleanPolicy.getIfPresentQuietly(page);
        if (p != null) {
            return p;
        }
        p = held.get(page);
        if (p == null) {
            return null;
        }
        if (!p.dirty) {
            if (p.referenced) {
                promote(page);
            } else {
                p.referenced = true;
            }
        }
        return p;
    }

    /** Moves a written page into Caffeine, under its key lock. */
    private void promote(long page) {
        held.computeIfPresent(page, (k, p) -> {
            if (p.dirty) {
                return p;
            }
            writtenPages.decrementAndGet();
            p.writtenSeq = 0;
            clean.put(k, p);
            return null;
        });
    }

    /**
     * Pins the range's pages with their read locks, taken in ascending page order (so two such
     * readers cannot deadlock behind writers queued on their locks), and hands out slices of
     * them. A page evicted between its lookup and its lock is looked up again.
     */
    @Override
    public void read(long[] pages, int from, int offsetInFirst, long length, SliceReader reader) {
        int n = DirectPages.pageCount(offsetInFirst, length);
        checkRange(pages, from, n, offsetInFirst);
        int[] order = lockOrder(pages, from, n);
        Page[] held = new Page[n];
        long[] stamps = new long[n];
        while (true) {
            for (int i = 0; i < n; i++) {
                Page p = lookup(pages[from + i], i == 0);
                held[i] = p != null ? p : loadForRead(pages[from + i]);
            }
            int locked = 0;
            boolean alive = true;
            for (; locked < n && alive; locked++) {
                int i = order[locked];
                if (locked > 0 && held[i] == held[order[locked - 1]]) {
                    stamps[i] = 0; // the same page twice: locked once
                    continue;
                }
                stamps[i] = held[i].lockRead();
                alive = stamps[i] != 0;
            }
            try {
                if (alive) {
                    MemorySegment[] slices = new MemorySegment[n];
                    long done = 0;
                    for (int i = 0; i < n; i++) {
                        int off = i == 0 ? offsetInFirst : 0;
                        int chunk = (int) Math.min(PAGE_SIZE - off, length - done);
                        slices[i] = held[i].memory().asSlice(held[i].offset() + off, chunk).asReadOnly();
                        done += chunk;
                    }
                    reader.accept(slices, n);
                    hits.add(n);
                    return;
                }
            } finally {
                for (int k = 0; k < locked; k++) {
                    int i = order[k];
                    if (stamps[i] != 0) {
                        held[i].unlockRead(stamps[i]);
                    }
                }
            }
        }
    }

    /**
     * The order in which to take the read locks of {@code pages[from..from+n)}: ascending page
     * number. A file's blocks usually ascend already, and then nothing is sorted or boxed.
     */
    private static int[] lockOrder(long[] pages, int from, int n) {
        int[] order = new int[n];
        boolean ascending = true;
        for (int i = 0; i < n; i++) {
            order[i] = i;
            ascending &= i == 0 || pages[from + i - 1] <= pages[from + i];
        }
        if (ascending) {
            return order;
        }
        Integer[] boxed = new Integer[n];
        for (int i = 0; i < n; i++) {
            boxed[i] = i;
        }
        Arrays.sort(boxed, (a, b) -> Long.compare(pages[from + a], pages[from + b]));
        for (int i = 0; i < n; i++) {
            order[i] = boxed[i];
        }
        return order;
    }

    /** A page with memory from the slab (or the heap when the slab is exhausted). */
    private Page newPage() {
        int slot = slab.take();
        return slot < 0 ? new Page(MemorySegment.ofArray(new byte[PAGE_SIZE]), -1) : new Page(slab.chunk(slot), slot);
    }

    /** Gives a page's memory back; readers still holding the page see it dead and look again. */
    private void free(Page p) {
        p.writtenSeq = 0;
        int slot = p.kill();
        if (slot >= 0) {
            slab.release(slot);
        }
    }

    /**
     * A read miss: loads the page into the clean cache under {@code page}'s key lock in
     * {@code dirty}, so the load can never overlap a write-back storing that page (which would
     * read a half-stored page); a page dirtied meanwhile is returned as it is.
     */
    private Page loadForRead(long page) {
        Page[] out = new Page[1];
        held.compute(page, (k, p) -> {
            out[0] = p != null ? p : clean.get(k, this::load);
            return p;
        });
        return out[0];
    }

    @Override
    public void write(long page, int offsetInPage, MemorySegment src, long srcOffset, int length) {
        check(page, offsetInPage, length);
        store(new long[] {page}, null, offsetInPage, src, srcOffset, length);
        userBytes.add(length);
    }

    @Override
    public void write(long[] pages, boolean[] fresh, int offsetInFirst, MemorySegment src, long srcOffset, long length) {
        store(pages, fresh, offsetInFirst, src, srcOffset, length);
        userBytes.add(length);
    }

    @Override
    public void zero(long page, int offsetInPage, int length) {
        check(page, offsetInPage, length);
        store(new long[] {page}, null, offsetInPage, Page.ZEROS, 0, length);
    }

    /**
     * A write of a range as one operation: each page is dirtied under its key lock, the pages
     * that became dirty are queued for write-back as runs (one mark per run of adjacent pages),
     * and the cache is resized and the writer throttled once per call, not once per page.
     */
    private void store(long[] pages, boolean[] fresh, int offsetInFirst, MemorySegment src, long srcOffset, long length) {
        int n = DirectPages.pageCount(offsetInFirst, length);
        checkRange(pages, 0, n, offsetInFirst);
        if (closed) {
            throw new IllegalStateException("page cache over " + region.name() + " is closed");
        }
        long now = System.nanoTime();
        if (n == 1) { // a single page (4 KiB I/O): no run to look for
            if (storePage(pages[0], offsetInFirst, src, srcOffset, (int) length, fresh != null && fresh[0], now)) {
                writer.mark(pages[0], 1, now);
                afterDirtying();
            }
            return;
        }
        boolean[] dirtied = new boolean[n];
        // without the new-block hint, guess once per request: a run is new when its first page is not in RAM
        int firstWhole = offsetInFirst == 0 ? 0 : 1;
        boolean guess = fresh == null && n - firstWhole >= MIN_NEW_RUN
                && !held.containsKey(pages[firstWhole]) && !clean.asMap().containsKey(pages[firstWhole]);
        long done = 0;
        for (int i = 0; i < n; ) {
            int off = i == 0 ? offsetInFirst : 0;
            boolean tryRun = off == 0 && n - i >= MIN_NEW_RUN && (fresh != null ? fresh[i] : guess && i == firstWhole);
            int end = tryRun ? newRunEnd(pages, fresh, i, n, length - done) : i;
            if (end - i >= MIN_NEW_RUN) {
                storeNewRun(pages, fresh, i, end, src, srcOffset + done, now, dirtied);
                done += (long) (end - i) * PAGE_SIZE;
                i = end;
                continue;
            }
            int chunk = (int) Math.min(PAGE_SIZE - off, length - done);
            dirtied[i] = storePage(pages[i], off, src, srcOffset + done, chunk, fresh != null && fresh[i], now);
            done += chunk;
            i++;
        }
        int newly = 0;
        for (int i = 0; i < n; ) { // one dirty mark per run of adjacent pages that became dirty
            if (!dirtied[i]) {
                i++;
                continue;
            }
            int end = i + 1;
            while (end < n && dirtied[end] && pages[end] == pages[end - 1] + 1) {
                end++;
            }
            writer.mark(pages[i], end - i, now);
            newly += end - i;
            i = end;
        }
        if (newly > 0) {
            afterDirtying();
        }
    }

    /** Once per request that dirtied pages: keeps the cache's size and throttles above the high watermark. */
    private void afterDirtying() {
        resize();
        if (dirtyPages.get() * PAGE_SIZE > config.highBytes()) {
            throttle();
        }
    }

    /**
     * The end of the run of adjacent whole pages from {@code i} that are likely not in RAM:
     * new blocks ({@code fresh}), or, without that hint, all of them (the caller guessed from the
     * first page; {@link #storeNewRun} checks each page again under its key lock).
     */
    private int newRunEnd(long[] pages, boolean[] fresh, int i, int n, long left) {
        int end = i;
        while (end < n && left >= (long) (end - i + 1) * PAGE_SIZE && (end == i || pages[end] == pages[end - 1] + 1)
                && (fresh == null || fresh[end])) {
            end++;
        }
        return end;
    }

    /**
     * Writes whole pages that are not in RAM with one copy ({@link NewRunWriter}); the pages it
     * could not put in RAM that way (another thread did meanwhile, or the slab has no adjacent
     * free slots) are written the ordinary way.
     */
    private void storeNewRun(long[] pages, boolean[] fresh, int from, int end, MemorySegment src, long srcOffset,
                             long now, boolean[] dirtied) {
        if (newRuns.write(pages, from, end, src, srcOffset, now, dirtied) == end - from) {
            return;
        }
        for (int i = from; i < end; i++) {
            if (!dirtied[i]) {
                dirtied[i] = storePage(pages[i], 0, src, srcOffset + (long) (i - from) * PAGE_SIZE, PAGE_SIZE,
                        fresh != null && fresh[i], now);
            }
        }
    }

    /** Dirties one page with the given bytes, under its key lock; true when it was clean before. */
    private boolean storePage(long page, int off, MemorySegment src, long srcOffset, int length, boolean fresh, long now) {
        boolean whole = off == 0 && length == PAGE_SIZE;
        boolean[] newlyDirty = new boolean[1];
        held.compute(page, (k, p) -> {
            if (p != null && !p.dirty) { // a written page: dirty again
                writtenPages.decrementAndGet();
                p.writtenSeq = 0;
                hits.increment();
                p.compare = !whole && !fresh;
                p.dirty = true;
                p.dirtySince = now;
                dirtyPages.incrementAndGet();
                newlyDirty[0] = true;
            } else if (p == null) {
                p = clean.asMap().containsKey(k) ? clean.asMap().remove(k) : null;
                if (p != null) {
                    hits.increment();
                    p.compare = !whole && !fresh;
                } else if (whole || fresh) {
                    p = newPage(); // a new block or a whole-page write never reads the media
                    p.compare = false;
                } else {
                    p = load(k);
                    p.compare = true;
                }
                p.dirty = true;
                p.dirtySince = now;
                dirtyPages.incrementAndGet();
                newlyDirty[0] = true;
            } else {
                hits.increment();
                if (whole || fresh) {
                    p.compare = false;
                }
            }
            if (fresh && !whole) {
                p.writeFresh(off, src, srcOffset, length);
            } else {
                p.write(off, src, srcOffset, length);
            }
            return p;
        });
        return newlyDirty[0];
    }

    @Override
    public void sync(long[] pages) {
        for (long page : pages) {
            checkPage(page);
        }
        flushLock.lock();
        try {
            writeBatch(pages.clone());
        } finally {
            flushLock.unlock();
        }
        resize();
    }

    @Override
    public void syncAll() {
        flushLock.lock();
        try {
            writer.writeAllDirty();
            trimAfterBatch();
        } finally {
            flushLock.unlock();
        }
        resize();
    }

    @Override
    public void drop(long page) {
        checkPage(page);
        held.computeIfPresent(page, (k, p) -> {
            (p.dirty ? dirtyPages : writtenPages).decrementAndGet();
            free(p);
            return null; // forgotten, not written back
        });
        clean.asMap().computeIfPresent(page, (k, p) -> {
            free(p);
            return null;
        });
    }

    /**
     * Forgets the clean RAM copies of {@code pages} (0 entries skipped), each under its key lock;
     * false at the first dirty one (the pages checked before it are forgotten: harmless, they
     * were clean).
     */
    @Override
    public boolean forgetClean(long[] pages) {
        boolean[] dirty = new boolean[1];
        for (long page : pages) {
            if (page == 0) {
                continue;
            }
            checkPage(page);
            if (!held.containsKey(page) && !clean.asMap().containsKey(page)) {
                // Not in RAM, and the caller keeps loaders of these pages out: nothing to forget.
                // The usual case of a file written through (every write of a log); two lookups
                // instead of a compute that locks a bin and installs a reservation node in it.
                continue;
            }
            held.compute(page, (k, p) -> {
                if (p == null) {
                    clean.asMap().computeIfPresent(k, (kk, c) -> {
                        free(c);
                        return null;
                    });
                    return null;
                }
                if (p.dirty) {
                    dirty[0] = true;
                    return p;
                }
                writtenPages.decrementAndGet();
                free(p);
                return null;
            });
            if (dirty[0]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public PageStats stats() {
        clean.cleanUp(); // run pending maintenance, so evictions and sizes are current
        long d = dirtyPages.get();
        return new PageStats(hits.sum(), misses.sum(), evictions.sum(), writer.writebacks.sum(), d,
                (clean.estimatedSize() + d + writtenPages.get()) * PAGE_SIZE, userBytes.sum(), writer.mediaBytes.sum(),
                writer.linesSkipped.sum());
    }

    /** Copies write-back made to the media: one per run of pages stored together, or per page. */
    public long mediaCopies() {
        return writer.copies.sum();
    }

    /** Times a writer found dirty bytes above the high watermark and was slowed by write-back. */
    public long throttles() {
        return throttles.sum();
    }

    /** Writes back every dirty page, persists, and stops the write-back thread. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            syncAll();
        } finally {
            writeback.stop();
            slab.close();
        }
    }

    /**
     * Stops the write-back thread and forgets every dirty page without writing it, as a power
     * failure would. For crash tests: the RAM is lost, open a new instance over the region.
     */
    public void abandon() {
        closed = true;
        writeback.stop();
        flushLock.lock(); // wait for a batch another thread may be running
        flushLock.unlock();
        slab.close();
    }

    // ---- write-back, called by writers, sync and the Writeback thread ----

    /** Writes back the oldest dirty pages until dirty bytes are at the low watermark. */
    void writeBackAboveHigh() {
        if (dirtyPages.get() * PAGE_SIZE > config.highBytes()) {
            writeBackToLow();
        }
    }

    /** Writes back the pages dirty for longer than the write-back delay, a batch per lock hold. */
    void writeBackExpired() {
        long cutoff = System.nanoTime() - config.writebackDelay().toNanos();
        while (true) {
            flushLock.lock();
            try {
                long[] old = writer.takeOldest(BATCH_PAGES, cutoff);
                if (old.length == 0) {
                    break;
                }
                writeBatch(old);
            } finally {
                flushLock.unlock();
            }
            resize();
        }
        resize();
    }

    private void throttle() {
        throttles.increment();
        writeback.wake();
        writeBackToLow();
    }

    /**
     * Writes back the oldest pages down to the low watermark, a batch of at most
     * {@link #BATCH_PAGES} per hold of {@code flushLock}, so a writer throttled while another
     * thread writes back waits for one batch, not for the whole descent.
     */
    private void writeBackToLow() {
        long excess;
        while ((excess = dirtyPages.get() * PAGE_SIZE - config.lowBytes()) > 0) {
            flushLock.lock();
            try {
                excess = dirtyPages.get() * PAGE_SIZE - config.lowBytes(); // another batch may have run
                if (excess <= 0) {
                    break;
                }
                long[] oldest = writer.takeOldest((int) Math.min(BATCH_PAGES, (excess + PAGE_SIZE - 1) / PAGE_SIZE), Long.MAX_VALUE);
                if (oldest.length == 0 || writeBatch(oldest) == 0) {
                    break;
                }
            } finally {
                flushLock.unlock();
            }
            resize();
        }
        resize();
    }

    /**
     * Writes back the dirty pages among {@code pages} ({@link PageWriter#writeBatch}) and bounds
     * the written pages. Returns the number of pages written back. Caller holds {@code flushLock}.
     */
    private int writeBatch(long[] pages) {
        int n = writer.writeBatch(pages);
        trimAfterBatch();
        return n;
    }

    /** Bounds the written pages after a batch; the write-back thread trims the rest. Caller holds {@code flushLock}. */
    private void trimAfterBatch() {
        if (writtenPages.get() > writtenLimit()) {
            writer.trimWritten(writtenLimit() + cachePages / 8);
            writeback.wake();
        } else {
            writer.compactWritten();
        }
    }

    /**
     * Runs Caffeine's pending maintenance now, read buffer included (for tests: its read buffer
     * drops hits while a drain is pending on the pool, so a burst of hits in a tight loop is
     * recorded only as far as the pool keeps up).
     */
    void maintain() {
        clean.cleanUp();
    }

    /** Entries in the written pages' queue, live or stale (for tests). */
    int writtenEntries() {
        flushLock.lock();
        try {
            return writer.writtenEntries();
        } finally {
            flushLock.unlock();
        }
    }

    /**
     * How many written pages may stay: three quarters of the cache, less the dirty pages. A
     * file written and read back that fits in the cache stays in RAM; a longer stream leaves a
     * quarter of the cache to Caffeine's pages.
     */
    private long writtenLimit() {
        return Math.max(0, Math.min(cachePages * 3 / 4, cachePages - dirtyPages.get()));
    }

    /** Trims the written pages to their limit; run by the write-back thread. */
    void trimWrittenInBackground() {
        if (writtenPages.get() > writtenLimit()) {
            flushLock.lock();
            try {
                writer.trimWritten(writtenLimit());
            } finally {
                flushLock.unlock();
            }
            resize();
        }
    }

    /** Loads a page from the media (a miss); runs inside the compute for {@code page}. */
    private Page load(long page) {
        misses.increment();
        Page p = newPage();
        region.read(page * PAGE_SIZE, p.memory(), p.offset(), PAGE_SIZE);
        return p;
    }

    /** Keeps clean + held near the cache size: lowers Caffeine's bound by the held bytes. */
    private void resize() {
        long target = Math.max(PAGE_SIZE, config.cacheBytes() - (dirtyPages.get() + writtenPages.get()) * PAGE_SIZE);
        if (Math.abs(target - cleanMaximum) < resizeStep || !resizing.compareAndSet(false, true)) {
            return;
        }
        try {
            eviction.setMaximum(target);
            cleanMaximum = target;
        } finally {
            resizing.set(false);
        }
    }

    private void check(long page, int offsetInPage, int length) {
        checkPage(page);
        Objects.checkFromIndexSize(offsetInPage, length, PAGE_SIZE);
    }

    private void checkRange(long[] pages, int from, int n, int offsetInFirst) {
        Objects.checkIndex(offsetInFirst, PAGE_SIZE);
        Objects.checkFromIndexSize(from, n, pages.length);
        for (int i = from; i < from + n; i++) {
            checkPage(pages[i]);
        }
    }

    private void checkPage(long page) {
        Objects.checkIndex(page, pageCount);
    }
}
