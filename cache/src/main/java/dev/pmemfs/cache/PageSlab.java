package dev.pmemfs.cache;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Off-heap memory for the pages of a {@link CachedPages}: native chunks of 16 MiB, allocated as
 * the cache fills, cut into 4 KiB slots, handed out next-fit from a bitmap of free slots.
 *
 * <p>Why off-heap: a cache of a few GiB held as {@code byte[]} pages keeps the garbage collector
 * busy (a working set larger than the cache allocates a page per miss and drops one per
 * eviction; measured: 134 collections, 9 s of a 35 s fio run). Slots are reused instead, and
 * the heap holds only small {@link Page} objects.
 *
 * <p>Why next-fit: pages allocated one after another (a stream) get adjacent slots, in
 * ascending order, and write-back copies a run of pages adjacent both on the media and in a
 * chunk with one copy ({@link #contiguous}). Measured here (1 GiB from slab-like chunks into a
 * region on /dev/shm, thread CPU time): in 4 KiB to 2 MiB copies 75-100 ms, in 4 or 16 MiB
 * copies 49-64 ms, a plain 1 GiB copy 46-58 ms; the step between 2 and 4 MiB is where the
 * JVM's copy stub changes method (non-temporal stores, we believe; not checked in its source).
 * A stack of free slots (the earlier design) handed a released run back in reverse order.
 *
 * <p>At most {@code cacheBytes * 5 / 4} is allocated; when every slot is taken (evictions lag
 * behind for a moment), {@link #take} answers -1 and the caller uses a heap page. Thread
 * safety: everything is guarded by {@code this}.
 */
final class PageSlab implements AutoCloseable {
    static final int CHUNK_SLOTS = 4096;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment[] chunks;
    private int chunkCount;
    /** One bit per slot of the allocated chunks: set when free. */
    private long[] free = new long[CHUNK_SLOTS / 64];
    private int freeCount;
    /** The next slot to look at: allocation goes on where the last one ended. */
    private int cursor;

    PageSlab(long cacheBytes) {
        long slots = cacheBytes / Pages.PAGE_SIZE * 5 / 4 + 256;
        this.chunks = new MemorySegment[(int) Math.min(Integer.MAX_VALUE / CHUNK_SLOTS, (slots + CHUNK_SLOTS - 1) / CHUNK_SLOTS)];
    }

    /** A free slot, the next one after the last taken when it is free, or -1 when none is left. */
    synchronized int take() {
        if (freeCount == 0) {
            if (chunkCount == chunks.length) {
                return -1;
            }
            addChunk();
        }
        int slot = nextFree(cursor);
        free[slot >>> 6] &= ~(1L << slot);
        freeCount--;
        cursor = slot + 1 == chunkCount * CHUNK_SLOTS ? 0 : slot + 1;
        return slot;
    }

    /**
     * The first of {@code count} adjacent free slots in one chunk, taken, or -1 when there are
     * none near the cursor (the caller then takes slots one by one). Looks at a few places from
     * the cursor on, so its cost stays bounded when the slab is fragmented.
     */
    synchronized int takeRun(int count) {
        if (count > CHUNK_SLOTS) {
            return -1;
        }
        if (freeCount < count) {
            if (chunkCount == chunks.length) {
                return -1;
            }
            addChunk();
        }
        int at = cursor;
        for (int attempt = 0; attempt < 4; attempt++) {
            at = nextFree(at);
            int end = at + count;
            int chunkEnd = (at / CHUNK_SLOTS + 1) * CHUNK_SLOTS;
            if (end > chunkEnd) {
                at = chunkEnd == chunkCount * CHUNK_SLOTS ? 0 : chunkEnd;
                continue;
            }
            int s = at;
            while (s < end && isFree(s)) {
                s++;
            }
            if (s == end) {
                for (int i = at; i < end; i++) {
                    free[i >>> 6] &= ~(1L << i);
                }
                freeCount -= count;
                cursor = end == chunkCount * CHUNK_SLOTS ? 0 : end;
                return at;
            }
            at = s; // taken: look on from there
        }
        return -1;
    }

    private boolean isFree(int slot) {
        return (free[slot >>> 6] & (1L << slot)) != 0;
    }

    /** The first free slot at or after {@code from}, wrapping around; there must be one. */
    private int nextFree(int from) {
        int words = chunkCount * CHUNK_SLOTS / 64;
        int w = from >>> 6;
        long bits = free[w] & (-1L << (from & 63));
        while (bits == 0) {
            w = w + 1 == words ? 0 : w + 1;
            bits = free[w];
        }
        return (w << 6) + Long.numberOfTrailingZeros(bits);
    }

    /** Allocates a chunk and points the cursor at it: a stream gets its slots in order. */
    private void addChunk() {
        chunks[chunkCount] = arena.allocate((long) CHUNK_SLOTS * Pages.PAGE_SIZE, Pages.PAGE_SIZE);
        int words = (chunkCount + 1) * CHUNK_SLOTS / 64;
        if (free.length < words) {
            free = java.util.Arrays.copyOf(free, Math.max(words, free.length * 2));
        }
        java.util.Arrays.fill(free, chunkCount * CHUNK_SLOTS / 64, words, -1L);
        freeCount += CHUNK_SLOTS;
        cursor = chunkCount * CHUNK_SLOTS;
        chunkCount++;
    }

    synchronized void release(int slot) {
        free[slot >>> 6] |= 1L << slot;
        freeCount++;
    }

    /** The chunk that holds a slot handed out by {@link #take}; the slot starts at {@link #offset}. */
    MemorySegment chunk(int slot) {
        synchronized (this) {
            return chunks[slot / CHUNK_SLOTS];
        }
    }

    /** Where a slot starts in its {@link #chunk}. */
    static long offset(int slot) {
        return (long) (slot % CHUNK_SLOTS) * Pages.PAGE_SIZE;
    }

    /** Whether slot {@code b} follows slot {@code a} in the same chunk (so one copy covers both). */
    static boolean contiguous(int a, int b) {
        return a >= 0 && b == a + 1 && b % CHUNK_SLOTS != 0;
    }

    /** Frees the memory; idempotent. */
    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
