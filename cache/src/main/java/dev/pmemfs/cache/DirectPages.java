package dev.pmemfs.cache;

import dev.pmemfs.device.Region;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
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
 * <p>A multi-page request is one operation: its pages' stripes are locked together (in
 * ascending stripe order, so two requests cannot deadlock), each run of adjacent pages is one
 * copy, and each run is persisted with one call after the copies. A 1 MiB write into the
 * usual contiguous blocks of a file is therefore one copy and one persist.
 *
 * <p>Guards: page-level atomicity comes from a fixed array of striped {@link StampedLock}s
 * indexed by page number: writers hold their pages' stripes exclusively while copying, readers
 * copy under optimistic stamps (retrying under the read locks), so no read sees a torn page.
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

    @Override
    public void read(long[] pages, int from, int offsetInFirst, MemorySegment dst, long dstOffset, long length) {
        int n = pageCount(offsetInFirst, length);
        checkRange(pages, from, n, offsetInFirst, length);
        int[] stripes = stripes(pages, from, n);
        long[] stamps = new long[stripes.length];
        boolean valid = true;
        for (int i = 0; i < stripes.length; i++) {
            stamps[i] = locks[stripes[i]].tryOptimisticRead();
            valid &= stamps[i] != 0;
        }
        if (valid) {
            copyOut(pages, from, n, offsetInFirst, dst, dstOffset, length);
            for (int i = 0; i < stripes.length && valid; i++) {
                valid = locks[stripes[i]].validate(stamps[i]);
            }
            if (valid) {
                return;
            }
        }
        for (int i = 0; i < stripes.length; i++) {
            stamps[i] = locks[stripes[i]].readLock();
        }
        try {
            copyOut(pages, from, n, offsetInFirst, dst, dstOffset, length);
        } finally {
            for (int i = stripes.length - 1; i >= 0; i--) {
                locks[stripes[i]].unlockRead(stamps[i]);
            }
        }
    }

    /** Copies a range out, one copy per run of adjacent pages. */
    private void copyOut(long[] pages, int from, int n, int offsetInFirst, MemorySegment dst, long dstOffset, long length) {
        long done = 0;
        for (int i = from; i < from + n; ) {
            int end = runEnd(pages, i, from + n);
            long start = pages[i] * PAGE_SIZE + (i == from ? offsetInFirst : 0);
            long len = Math.min(pages[end - 1] * PAGE_SIZE + PAGE_SIZE - start, length - done);
            region.read(start, dst, dstOffset + done, len);
            done += len;
            i = end;
        }
    }

    @Override
    public void read(long[] pages, int from, int offsetInFirst, long length, SliceReader reader) {
        int n = pageCount(offsetInFirst, length);
        checkRange(pages, from, n, offsetInFirst, length);
        int[] stripes = stripes(pages, from, n);
        long[] stamps = new long[stripes.length];
        for (int i = 0; i < stripes.length; i++) {
            stamps[i] = locks[stripes[i]].readLock();
        }
        try {
            MemorySegment[] slices = new MemorySegment[n];
            int count = 0;
            long done = 0;
            for (int i = from; i < from + n; ) {
                int end = runEnd(pages, i, from + n);
                long start = pages[i] * PAGE_SIZE + (i == from ? offsetInFirst : 0);
                long len = Math.min(pages[end - 1] * PAGE_SIZE + PAGE_SIZE - start, length - done);
                slices[count++] = region.view(start, len);
                done += len;
                i = end;
            }
            reader.accept(slices, count);
        } finally {
            for (int i = stripes.length - 1; i >= 0; i--) {
                locks[stripes[i]].unlockRead(stamps[i]);
            }
        }
    }

    @Override
    public void write(long[] pages, boolean[] fresh, int offsetInFirst, MemorySegment src, long srcOffset, long length) {
        int n = pageCount(offsetInFirst, length);
        checkRange(pages, 0, n, offsetInFirst, length);
        int lastEnd = (int) ((offsetInFirst + length - 1) % PAGE_SIZE) + 1; // end of the range in the last page
        long zeros = 0;
        int[] stripes = stripes(pages, 0, n);
        long[] stamps = new long[stripes.length];
        for (int i = 0; i < stripes.length; i++) {
            stamps[i] = locks[stripes[i]].writeLock();
        }
        try {
            if (fresh != null && fresh[0] && offsetInFirst > 0) {
                region.write(pages[0] * PAGE_SIZE, Page.ZEROS, 0, offsetInFirst);
                zeros += offsetInFirst;
            }
            long done = 0;
            for (int i = 0; i < n; ) {
                int end = runEnd(pages, i, n);
                long start = pages[i] * PAGE_SIZE + (i == 0 ? offsetInFirst : 0);
                long len = Math.min(pages[end - 1] * PAGE_SIZE + PAGE_SIZE - start, length - done);
                region.write(start, src, srcOffset + done, len);
                done += len;
                i = end;
            }
            if (fresh != null && fresh[n - 1] && lastEnd < PAGE_SIZE) {
                region.write(pages[n - 1] * PAGE_SIZE + lastEnd, Page.ZEROS, 0, PAGE_SIZE - lastEnd);
                zeros += PAGE_SIZE - lastEnd;
            }
        } finally {
            for (int i = stripes.length - 1; i >= 0; i--) {
                locks[stripes[i]].unlockWrite(stamps[i]);
            }
        }
        for (int i = 0; i < n; ) { // one persist per run of adjacent pages, whole pages (zeros included)
            int end = runEnd(pages, i, n);
            region.persist(pages[i] * PAGE_SIZE, (long) (end - i) * PAGE_SIZE);
            i = end;
        }
        userBytes.add(length);
        zeroBytes.add(zeros);
    }

    /** The end (exclusive) of the run of adjacent pages that starts at {@code i}, within {@code limit}. */
    static int runEnd(long[] pages, int i, int limit) {
        int end = i + 1;
        while (end < limit && pages[end] == pages[end - 1] + 1) {
            end++;
        }
        return end;
    }

    /** Number of pages a range of {@code length} bytes starting at {@code offsetInFirst} touches. */
    static int pageCount(int offsetInFirst, long length) {
        if (length <= 0) {
            throw new IllegalArgumentException("length must be positive: " + length);
        }
        return (int) ((offsetInFirst + length - 1) / PAGE_SIZE + 1);
    }

    private void checkRange(long[] pages, int from, int n, int offsetInFirst, long length) {
        Objects.checkIndex(offsetInFirst, PAGE_SIZE);
        Objects.checkFromIndexSize(from, n, pages.length);
        for (int i = from; i < from + n; i++) {
            Objects.checkIndex(pages[i], pageCount);
        }
    }

    /** The distinct stripes of {@code pages[from .. from + n)}, ascending: the order they are locked in. */
    private static int[] stripes(long[] pages, int from, int n) {
        int[] s = new int[n];
        boolean sorted = true;
        for (int i = 0; i < n; i++) {
            s[i] = (int) (pages[from + i] & (STRIPES - 1));
            sorted &= i == 0 || s[i] > s[i - 1];
        }
        if (sorted) {
            return s;
        }
        Arrays.sort(s);
        int u = 0;
        for (int i = 0; i < n; i++) {
            if (u == 0 || s[i] != s[u - 1]) {
                s[u++] = s[i];
            }
        }
        return Arrays.copyOf(s, u);
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
