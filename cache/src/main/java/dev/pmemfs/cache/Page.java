package dev.pmemfs.cache;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.locks.StampedLock;

/**
 * One 4 KiB page of the region held in RAM by {@link CachedPages}, with its dirty state.
 *
 * <p>Guards: the bytes are guarded by the page's lock: writers hold it exclusively, readers copy
 * under an optimistic stamp and retry with the read lock if a writer intervened, so no read
 * sees a torn page. {@code dirty}, {@code dirtySince}, {@code compare} and {@code key} change
 * only inside {@link CachedPages}' {@code held.compute} for this page's key ({@code referenced}
 * is a hint set by readers); they are volatile so other threads can read them outside it.
 *
 * <p>The bytes are a slot of a {@link PageSlab}, reused once the page leaves the cache; the page
 * keeps the slab's chunk and finds its slot in it from the slot number, without a slice object of
 * its own (one allocation less per page: a 1 MiB write into new pages makes 256 pages). A
 * reader may still hold the page then: {@link #kill} marks it dead under the write lock before
 * the slot is given back, so a reader's optimistic stamp fails (or its read lock delays the
 * kill) and {@link #read} answers false instead of bytes of another page.
 *
 * <p>A page is its own lock (it extends {@link StampedLock}, as Java 7's
 * {@code ConcurrentHashMap.Segment} extended {@code ReentrantLock}) rather than holding one: one
 * object less per page, 24 bytes of the ~200 a new page costs the heap. Only this class and the
 * cache's read paths ({@link #lockRead}, {@code unlockRead}) use the lock.
 */
final class Page extends StampedLock {
    private static final long serialVersionUID = 1L;

    /** A page of zeros, the source of {@link Pages#zero}. Never written. */
    static final MemorySegment ZEROS = MemorySegment.ofArray(new byte[Pages.PAGE_SIZE]).asReadOnly();

    /** The slab chunk that holds the slot, or the page's own 4 KiB on the heap (slot -1). */
    private final MemorySegment memory;
    /** Slot in the slab, or -1 for a page on the heap. */
    private final int slot;
    private boolean dead;
    /** Dirty (not yet written back); false for a written page held outside Caffeine. */
    volatile boolean dirty;
    /** A written page was read once since it was written back (a second read promotes it). */
    volatile boolean referenced;
    /** The page number, set when the page is written back (for evicting it from the written queue). */
    volatile long key;
    /** When the page became dirty (System.nanoTime), for age-driven write-back. */
    volatile long dirtySince;
    /**
     * Whether comparing with the media can save write-back bytes: true when the bytes started
     * as a copy of the media (a load, or a page written back before) and have not been rewritten
     * whole since. A new block's page, or one rewritten whole, is stored without comparison.
     */
    volatile boolean compare;
    /**
     * Counts the writes to the bytes (changed under the write lock, which writers take inside the
     * page's key lock); write-back reads it under the read lock before it copies a
     * page and marks the page written only if no write came after the copy.
     */
    private long version;
    /**
     * The write-back that queued this page in {@link WrittenQueue} last (0: not queued as written);
     * a queue entry with another number is stale. Changed under the page's key lock.
     */
    volatile long writtenSeq;

    /** A page in slot {@code slot} of the slab chunk {@code memory}, or on the heap ({@code memory} is 4 KiB, slot -1). */
    Page(MemorySegment memory, int slot) {
        this.memory = memory;
        this.slot = slot;
    }

    /** Marks the page dead, waiting for readers that hold its read lock; returns its slot (-1: heap). */
    int kill() {
        long stamp = writeLock();
        try {
            dead = true;
            return slot;
        } finally {
            unlockWrite(stamp);
        }
    }

    /** The page's slot in the slab, or -1 for a page on the heap. */
    int slot() {
        return slot;
    }

    /** How many writes the bytes have had; stable while the caller holds the read lock. */
    long version() {
        return version;
    }

    /**
     * The segment that holds the page's bytes, at {@link #offset}, for copies made under the
     * cache's per-key lock or the read lock.
     */
    MemorySegment memory() {
        return memory;
    }

    /** Where the page's bytes start in {@link #memory}. */
    long offset() {
        return slot < 0 ? 0 : PageSlab.offset(slot);
    }

    /** Copies bytes out; false when the page left the cache (look it up again). */
    boolean read(int offset, MemorySegment dst, long dstOffset, int length) {
        long stamp = tryOptimisticRead();
        if (stamp != 0 && !dead) {
            MemorySegment.copy(memory, offset() + offset, dst, dstOffset, length);
            if (validate(stamp)) {
                return true;
            }
        }
        stamp = readLock();
        try {
            if (dead) {
                return false;
            }
            MemorySegment.copy(memory, offset() + offset, dst, dstOffset, length);
            return true;
        } finally {
            unlockRead(stamp);
        }
    }

    /**
     * Takes the read lock for a reader that hands out the bytes themselves (no copy); answers 0,
     * holding nothing, when the page is dead.
     */
    long lockRead() {
        long stamp = readLock();
        if (dead) {
            unlockRead(stamp);
            return 0;
        }
        return stamp;
    }

    /** Writes a new page: {@code length} bytes at {@code offset}, zeros around them. */
    void writeFresh(int offset, MemorySegment src, long srcOffset, int length) {
        long stamp = writeLock();
        try {
            long base = offset();
            if (offset > 0) {
                memory.asSlice(base, offset).fill((byte) 0);
            }
            MemorySegment.copy(src, srcOffset, memory, base + offset, length);
            if (offset + length < Pages.PAGE_SIZE) {
                memory.asSlice(base + offset + length, Pages.PAGE_SIZE - offset - length).fill((byte) 0);
            }
            version++;
        } finally {
            unlockWrite(stamp);
        }
    }

    void write(int offset, MemorySegment src, long srcOffset, int length) {
        long stamp = writeLock();
        try {
            MemorySegment.copy(src, srcOffset, memory, offset() + offset, length);
            version++;
        } finally {
            unlockWrite(stamp);
        }
    }
}
