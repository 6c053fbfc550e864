package dev.pmemfs.cache;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.StampedLock;

/**
 * One 4 KiB page of the region held in RAM by {@link CachedPages}, with its dirty state.
 *
 * <p>Guards: the bytes are guarded by {@code lock}: writers hold it exclusively, readers copy
 * under an optimistic stamp and retry with the read lock if a writer intervened, so no read
 * sees a torn page. {@code dirtySince} and {@code modifiedAfterStore} change only inside
 * {@link CachedPages}' {@code dirty.compute} for this page's key; they are volatile so the
 * write-back thread can read them outside it.
 */
final class Page {
    /** A page of zeros, the source of {@link Pages#zero}. Never written. */
    static final MemorySegment ZEROS = MemorySegment.ofArray(new byte[Pages.PAGE_SIZE]).asReadOnly();

    private final MemorySegment bytes = MemorySegment.ofArray(new byte[Pages.PAGE_SIZE]);
    private final StampedLock lock = new StampedLock();
    /** When the page became dirty (System.nanoTime), for age-driven write-back. */
    volatile long dirtySince;
    /** Written since write-back last stored it: the media copy is stale, so it stays dirty. */
    volatile boolean modifiedAfterStore;

    /** The page's bytes, for copies made under the cache's per-key lock (loads, write-back). */
    MemorySegment bytes() {
        return bytes;
    }

    void read(int offset, MemorySegment dst, long dstOffset, int length) {
        long stamp = lock.tryOptimisticRead();
        if (stamp != 0) {
            MemorySegment.copy(bytes, offset, dst, dstOffset, length);
            if (lock.validate(stamp)) {
                return;
            }
        }
        stamp = lock.readLock();
        try {
            MemorySegment.copy(bytes, offset, dst, dstOffset, length);
        } finally {
            lock.unlockRead(stamp);
        }
    }

    void write(int offset, MemorySegment src, long srcOffset, int length) {
        long stamp = lock.writeLock();
        try {
            MemorySegment.copy(src, srcOffset, bytes, offset, length);
        } finally {
            lock.unlockWrite(stamp);
        }
    }
}
