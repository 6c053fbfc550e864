package dev.pmemfs.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Policy;
import com.github.benmanes.caffeine.cache.RemovalCause;
import dev.pmemfs.device.Region;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The double buffer: 4 KiB pages of the region held in RAM in a Caffeine cache bounded by
 * bytes, with write-back. Writes dirty the RAM page only, so many writes to a page cost one
 * media write; dirty pages reach the media on {@link #sync}, {@link #syncAll}, {@link #close},
 * when older than the write-back delay, and when dirty bytes pass the high watermark.
 *
 * <p><b>Dirty pages are pinned.</b> The weigher gives a dirty page weight 0 and a clean one
 * {@link #PAGE_SIZE}; every change of the dirty flag happens inside {@code asMap().compute} for
 * that page, after which Caffeine re-weighs the entry. Caffeine never picks a zero-weight entry
 * as a victim, and its {@code evictEntry} re-checks the weight under the same per-key lock
 * before removing (3.2.3: a SIZE eviction of a weight-0 node is resurrected), so a write that
 * races an eviction either finds the page gone (and reloads the clean copy from the media) or
 * pins it first. Write-back copies a page to the media and marks it clean inside one compute,
 * so a concurrent write lands either before (and is written back) or after (and dirties it
 * again). As a last line of defence the synchronous eviction listener writes back and persists
 * any dirty page it is handed; {@link #pinViolations()} counts those and the tests require 0.
 *
 * <p><b>Cost of pinning.</b> Caffeine's window eviction walks past zero-weight nodes at the
 * head of its window queue on every maintenance run, so with many dirty pages the cost of
 * maintenance grows with the dirty count. Maintenance therefore runs on Caffeine's default
 * executor, which batches it (a 64 MiB syncAll went from 15 s with maintenance on the calling
 * thread to under 5 s, write loop included).
 *
 * <p><b>Size.</b> Caffeine bounds the clean pages; its maximum is lowered by the dirty bytes
 * (in steps of 1/32 of the cache) so that clean plus dirty stay near {@code cacheBytes}.
 *
 * <p><b>Throttling.</b> A writer that finds dirty bytes above the high watermark wakes the
 * write-back thread and then takes the flush lock itself and writes back the oldest dirty pages
 * until the low watermark is reached: writers are slowed exactly while there is work to do.
 *
 * <p><b>Durability.</b> Every write-back batch (sync, throttle, age) runs under
 * {@code flushLock} and persists what it stored before releasing it. Hence a page that
 * {@link #sync} finds clean, while holding the lock, is already durable.
 *
 * <p><b>Data-comparison write</b> ({@link CacheConfig#compareLines()}, on by default):
 * write-back compares each 64-byte line with the media and stores only runs of changed lines.
 * Measured in {@code CompareLinesTest} (16 MiB of dirty pages, tmpfs region): random whole-page
 * rewrites store the same 16 MiB either way in about the same time (26.0 ms off, 24.9 ms on: the
 * compare stops at the first differing byte of each line); 100-byte rewrites of every page store
 * 16 MiB without it and 512 KiB with it (1/32), for 19 ms versus 22 ms of write-back. Wear is the
 * scarce resource here, so it is on.
 *
 * <p>Guards: the per-page state (bytes, dirty flag, membership of {@code dirty}) is guarded by
 * Caffeine's per-key compute lock (and {@link Page}'s lock for readers); {@code flushLock}
 * serialises write-back batches and the persist that ends them; counters are atomic.
 */
public final class CachedPages implements Pages {
    private static final Logger LOG = LoggerFactory.getLogger(CachedPages.class);
    private static final int LINE = Region.LINE_SIZE;
    private static final int LINES = PAGE_SIZE / LINE;

    private final Region region;
    private final CacheConfig config;
    private final long pageCount;
    private final Cache<Long, Page> cache;
    private final Policy.Eviction<Long, Page> eviction;
    /** The dirty pages, for choosing what to write back; guarded per key like the page. */
    private final ConcurrentMap<Long, Page> dirty = new ConcurrentHashMap<>();
    private final AtomicLong dirtyPages = new AtomicLong();
    private final ReentrantLock flushLock = new ReentrantLock();
    private final AtomicBoolean resizing = new AtomicBoolean();
    private final long resizeStep;
    private volatile long cleanMaximum;
    private final Writeback writeback;
    private volatile boolean closed;

    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder evictions = new LongAdder();
    private final LongAdder writebacks = new LongAdder();
    private final LongAdder userBytes = new LongAdder();
    private final LongAdder mediaBytes = new LongAdder();
    private final LongAdder linesSkipped = new LongAdder();
    private final LongAdder throttles = new LongAdder();
    private final LongAdder pinViolations = new LongAdder();

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
        this.cache = Caffeine.newBuilder()
                .maximumWeight(config.cacheBytes())
                .weigher((Long page, Page p) -> p.dirty ? 0 : PAGE_SIZE)
                .evictionListener((Long page, Page p, RemovalCause cause) -> onEviction(page, p))
                .build();
        this.eviction = cache.policy().eviction().orElseThrow();
        this.writeback = new Writeback(this, config.writebackDelay());
        writeback.start();
    }

    public CacheConfig config() {
        return config;
    }

    @Override
    public void read(long page, int offsetInPage, MemorySegment dst, long dstOffset, int length) {
        check(page, offsetInPage, length);
        Page p = cache.getIfPresent(page);
        if (p != null) {
            hits.increment();
        } else {
            p = cache.get(page, this::load);
        }
        p.read(offsetInPage, dst, dstOffset, length);
    }

    @Override
    public void write(long page, int offsetInPage, MemorySegment src, long srcOffset, int length) {
        store(page, offsetInPage, src, srcOffset, length);
        userBytes.add(length);
    }

    @Override
    public void zero(long page, int offsetInPage, int length) {
        store(page, offsetInPage, Page.ZEROS, 0, length);
    }

    private void store(long page, int offsetInPage, MemorySegment src, long srcOffset, int length) {
        check(page, offsetInPage, length);
        if (closed) {
            throw new IllegalStateException("page cache over " + region.name() + " is closed");
        }
        boolean whole = offsetInPage == 0 && length == PAGE_SIZE;
        boolean[] newlyDirty = new boolean[1];
        cache.asMap().compute(page, (k, p) -> {
            if (p == null) {
                p = whole ? new Page() : load(k); // a whole-page write never reads the media
            } else {
                hits.increment();
            }
            p.write(offsetInPage, src, srcOffset, length);
            if (!p.dirty) {
                p.dirtySince = System.nanoTime();
                p.dirty = true; // weight 0 from here: pinned
                dirty.put(k, p);
                dirtyPages.incrementAndGet();
                newlyDirty[0] = true;
            }
            return p;
        });
        if (newlyDirty[0]) {
            resize();
            if (dirtyPages.get() * PAGE_SIZE > config.highBytes()) {
                throttle();
            }
        }
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
            writeBatch(dirty.keySet().stream().mapToLong(Long::longValue).toArray());
        } finally {
            flushLock.unlock();
        }
        resize();
    }

    @Override
    public void drop(long page) {
        checkPage(page);
        cache.asMap().computeIfPresent(page, (k, p) -> {
            if (p.dirty) {
                markClean(k, p);
            }
            return null; // an explicit removal, not an eviction: nothing is written back
        });
    }

    @Override
    public PageStats stats() {
        return new PageStats(hits.sum(), misses.sum(), evictions.sum(), writebacks.sum(), dirtyPages.get(),
                cache.estimatedSize() * PAGE_SIZE, userBytes.sum(), mediaBytes.sum(), linesSkipped.sum());
    }

    /** Times a writer found dirty bytes above the high watermark and was slowed by write-back. */
    public long throttles() {
        return throttles.sum();
    }

    /** Dirty pages handed to the eviction listener; the pinning makes this 0. */
    public long pinViolations() {
        return pinViolations.sum();
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
    }

    // ---- write-back, called by writers, sync and the Writeback thread ----

    /** Writes back the oldest dirty pages until dirty bytes are at the low watermark. */
    void writeBackAboveHigh() {
        if (dirtyPages.get() * PAGE_SIZE > config.highBytes()) {
            writeBackToLow();
        }
    }

    /** Writes back the pages dirty for longer than the write-back delay. */
    void writeBackExpired() {
        long cutoff = System.nanoTime() - config.writebackDelay().toNanos();
        long[] old = dirty.entrySet().stream()
                .filter(e -> e.getValue().dirtySince - cutoff <= 0)
                .mapToLong(Map.Entry::getKey).toArray();
        if (old.length > 0) {
            flushLock.lock();
            try {
                writeBatch(old);
            } finally {
                flushLock.unlock();
            }
            resize();
        }
    }

    private void throttle() {
        throttles.increment();
        writeback.wake();
        writeBackToLow();
    }

    private void writeBackToLow() {
        flushLock.lock();
        try {
            long excess;
            while ((excess = dirtyPages.get() * PAGE_SIZE - config.lowBytes()) > 0) {
                long[] oldest = oldestDirty((int) ((excess + PAGE_SIZE - 1) / PAGE_SIZE));
                if (oldest.length == 0 || writeBatch(oldest) == 0) {
                    break;
                }
            }
        } finally {
            flushLock.unlock();
        }
        resize();
    }

    private long[] oldestDirty(int count) {
        List<Map.Entry<Long, Long>> ages = new ArrayList<>(dirty.size());
        for (Map.Entry<Long, Page> e : dirty.entrySet()) {
            ages.add(Map.entry(e.getKey(), e.getValue().dirtySince));
        }
        ages.sort(Comparator.comparingLong(Map.Entry::getValue));
        return ages.stream().limit(count).mapToLong(Map.Entry::getKey).toArray();
    }

    /**
     * Writes back the dirty pages among {@code pages}, then persists what it stored, coalescing
     * adjacent pages into one persist. Returns the number of pages written back. Caller holds
     * {@code flushLock}.
     */
    private int writeBatch(long[] pages) {
        Arrays.sort(pages);
        int written = 0;
        long runStart = -1;
        long runEnd = -1;
        for (long page : pages) {
            if (page == runEnd - 1) {
                continue; // duplicate
            }
            if (!writeBack(page)) {
                continue;
            }
            written++;
            if (page != runEnd) {
                persistRun(runStart, runEnd);
                runStart = page;
            }
            runEnd = page + 1;
        }
        persistRun(runStart, runEnd);
        return written;
    }

    private void persistRun(long start, long end) {
        if (start >= 0) {
            region.persist(start * PAGE_SIZE, (end - start) * PAGE_SIZE);
        }
    }

    /** Stores one dirty page and marks it clean, atomically with respect to writers of it. */
    private boolean writeBack(long page) {
        boolean[] wrote = new boolean[1];
        cache.asMap().computeIfPresent(page, (k, p) -> {
            if (p.dirty) {
                store(k, p);
                markClean(k, p);
                writebacks.increment();
                wrote[0] = true;
            }
            return p; // re-weighed: clean pages are evictable again
        });
        return wrote[0];
    }

    /** Copies a page to the media; with data-comparison write, only the runs of changed lines. */
    private void store(long page, Page p) {
        long base = page * PAGE_SIZE;
        MemorySegment ram = p.bytes();
        if (!config.compareLines()) {
            region.write(base, ram, 0, PAGE_SIZE);
            mediaBytes.add(PAGE_SIZE);
            return;
        }
        MemorySegment media = region.view(base, PAGE_SIZE);
        int line = 0;
        while (line < LINES) {
            long diff = MemorySegment.mismatch(ram, (long) line * LINE, PAGE_SIZE, media, (long) line * LINE, PAGE_SIZE);
            if (diff < 0) {
                linesSkipped.add(LINES - line);
                return;
            }
            int first = line + (int) (diff / LINE); // mismatch answers relative to the slice start
            int last = first + 1;
            while (last < LINES && MemorySegment.mismatch(ram, (long) last * LINE, (long) (last + 1) * LINE,
                    media, (long) last * LINE, (long) (last + 1) * LINE) >= 0) {
                last++;
            }
            linesSkipped.add(first - line);
            long length = (long) (last - first) * LINE;
            region.write(base + (long) first * LINE, ram, (long) first * LINE, length);
            mediaBytes.add(length);
            line = last;
        }
    }

    /** Called inside the compute for {@code page}. */
    private void markClean(long page, Page p) {
        p.dirty = false;
        dirty.remove(page, p);
        dirtyPages.decrementAndGet();
    }

    /** Runs synchronously inside the compute that evicts {@code page}. */
    private void onEviction(long page, Page p) {
        if (p.dirty) {
            // Unreachable while pinning works; never lose the data if it does not.
            pinViolations.increment();
            store(page, p);
            region.persist(page * PAGE_SIZE, PAGE_SIZE);
            markClean(page, p);
            writebacks.increment();
            LOG.error("dirty page {} was chosen for eviction; written back instead", page);
        }
        evictions.increment();
    }

    /** Loads a page from the media (a miss); runs inside the compute for {@code page}. */
    private Page load(long page) {
        misses.increment();
        Page p = new Page();
        region.read(page * PAGE_SIZE, p.bytes(), 0, PAGE_SIZE);
        return p;
    }

    /** Keeps clean + dirty near the cache size: lowers Caffeine's bound by the dirty bytes. */
    private void resize() {
        long target = Math.max(PAGE_SIZE, config.cacheBytes() - dirtyPages.get() * PAGE_SIZE);
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

    private void checkPage(long page) {
        Objects.checkIndex(page, pageCount);
    }
}
