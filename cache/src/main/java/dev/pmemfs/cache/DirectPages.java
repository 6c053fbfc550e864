package dev.pmemfs.cache;

import dev.pmemfs.device.Region;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.StampedLock;

/**
 * The direct (DAX) path: reads and writes copy straight between the caller's buffer and the
 * mapped region; nothing is cached.
 *
 * <p>Each write is persisted before it returns (what a DAX write followed by a flush does), so
 * {@link #sync} and {@link #syncAll} have nothing left to do. That costs one persist per write
 * (a cache-line write-back on MAP_SYNC, an msync on emulated pmem) and keeps no state about
 * unpersisted ranges, which is what programs that choose DAX ask for.
 *
 * <p>Guards: page-level atomicity comes from a fixed array of striped {@link StampedLock}s
 * indexed by page number: writers hold their page's stripe exclusively while copying, readers
 * copy under an optimistic stamp (retrying under the read lock), so no read sees a torn page.
 * Counters are atomic.
 */
public final class DirectPages implements Pages {
    private static final int STRIPES = 1024;

    private final Region region;
    private final long pageCount;
    private final StampedLock[] locks = new StampedLock[STRIPES];
    private final LongAdder userBytes = new LongAdder();
    /** Zeros stored around partial writes of new blocks: media bytes that callers did not write. */
    private final LongAdder zeroBytes = new LongAdder();

    public DirectPages(Region region) {
        this.region = Objects.requireNonNull(region, "region");
        this.pageCount = region.dataSize() / PAGE_SIZE;
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new StampedLock();
        }
    }

    @Override
    public void read(long page, int offsetInPage, MemorySegment dst, long dstOffset, int length) {
        long offset = offset(page, offsetInPage, length);
        StampedLock lock = lock(page);
        long stamp = lock.tryOptimisticRead();
        if (stamp != 0) {
            region.read(offset, dst, dstOffset, length);
            if (lock.validate(stamp)) {
                return;
            }
        }
        stamp = lock.readLock();
        try {
            region.read(offset, dst, dstOffset, length);
        } finally {
            lock.unlockRead(stamp);
        }
    }

    @Override
    public void write(long page, int offsetInPage, MemorySegment src, long srcOffset, int length) {
        store(page, offsetInPage, src, srcOffset, length);
        userBytes.add(length);
    }

    @Override
    public void zero(long page, int offsetInPage, int length) {
        store(page, offsetInPage, Page.ZEROS, 0, length);
        zeroBytes.add(length);
    }

    private void store(long page, int offsetInPage, MemorySegment src, long srcOffset, int length) {
        long offset = offset(page, offsetInPage, length);
        StampedLock lock = lock(page);
        long stamp = lock.writeLock();
        try {
            region.write(offset, src, srcOffset, length);
        } finally {
            lock.unlockWrite(stamp);
        }
        region.persist(offset, length);
    }

    /** Nothing to do: every write was persisted before it returned. */
    @Override
    public void sync(long[] pages) {
        for (long page : pages) {
            Objects.checkIndex(page, pageCount);
        }
    }

    /** Nothing to do: every write was persisted before it returned. */
    @Override
    public void syncAll() {
    }

    /** Nothing to do: no page is held. */
    @Override
    public void drop(long page) {
        Objects.checkIndex(page, pageCount);
    }

    @Override
    public PageStats stats() {
        long bytes = userBytes.sum();
        return new PageStats(0, 0, 0, 0, 0, 0, bytes, bytes + zeroBytes.sum(), 0);
    }

    @Override
    public void close() {
    }

    private long offset(long page, int offsetInPage, int length) {
        Objects.checkIndex(page, pageCount);
        Objects.checkFromIndexSize(offsetInPage, length, PAGE_SIZE);
        return page * PAGE_SIZE + offsetInPage;
    }

    private StampedLock lock(long page) {
        return locks[(int) (page & (STRIPES - 1))];
    }
}
