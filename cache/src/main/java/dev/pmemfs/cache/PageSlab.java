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
 * chunk with one copy ({@link #contiguous}). Copies of 4 MiB and more are done by the JVM with
 * non-temporal stores, about 1.6 times as fast here as the same bytes in 4 KiB copies. A stack
 * of free slots (the earlier design) handed a released run back in reverse order.
 *
 * <p>At most {@code cacheBytes * 5 / 4} is allocated; when every slot is taken (evictions lag
 * behind for a moment), {@link #take} answers -1 and the caller uses a heap page. Thread
 * safety: everything is guarded by {@code this}, except {@link #slot} and {@link #chunk}, which
 * read only chunks published before the slot was handed out.
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
        int words = chunkCount * CHUNK_SLOTS / 64;
        int w = cursor >>> 6;
        long bits = free[w] & (-1L << (cursor & 63));
        while (bits == 0) {
            w = w + 1 == words ? 0 : w + 1;
            bits = free[w];
        }
        int slot = (w << 6) + Long.numberOfTrailingZeros(bits);
        free[w] &= ~(1L << slot);
        freeCount--;
        cursor = slot + 1 == chunkCount * CHUNK_SLOTS ? 0 : slot + 1;
        return slot;
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

    /** The memory of a slot handed out by {@link #take}. */
    MemorySegment slot(int slot) {
        return chunk(slot).asSlice((long) (slot % CHUNK_SLOTS) * Pages.PAGE_SIZE, Pages.PAGE_SIZE);
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
