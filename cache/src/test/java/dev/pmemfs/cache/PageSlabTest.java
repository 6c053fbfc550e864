package dev.pmemfs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link PageSlab} against a set of taken slots: no slot is handed out twice, runs are adjacent
 * free slots inside one chunk, and a stream gets its slots in ascending order (what lets
 * write-back copy a run of pages at once).
 */
final class PageSlabTest {
    private static final int CHUNK = PageSlab.CHUNK_SLOTS;

    @Test
    void take_stream_getsAdjacentSlotsInOrder() {
        try (PageSlab slab = new PageSlab(3L * CHUNK * Pages.PAGE_SIZE)) {
            int first = slab.take();
            for (int i = 1; i < 1000; i++) {
                int s = slab.take();
                assertEquals(first + i, s, "slot " + i + " of a stream");
                assertTrue(PageSlab.contiguous(s - 1, s));
            }
            int run = slab.takeRun(256);
            assertEquals(first + 1000, run, "a run goes on where the stream ended");
        }
    }

    @Test
    void contiguous_stopsAtChunkEdgesAndHeapPages() {
        assertTrue(PageSlab.contiguous(5, 6));
        assertFalse(PageSlab.contiguous(CHUNK - 1, CHUNK), "two chunks are two allocations");
        assertFalse(PageSlab.contiguous(-1, 0), "a heap page");
        assertFalse(PageSlab.contiguous(6, 5));
    }

    @Test
    void takeAndRelease_randomly_neverHandOutATakenSlot() {
        SplittableRandom rnd = new SplittableRandom(11);
        try (PageSlab slab = new PageSlab(2L * CHUNK * Pages.PAGE_SIZE)) {
            BitSet taken = new BitSet();
            List<Integer> held = new ArrayList<>();
            int runs = 0;
            for (int op = 0; op < 200_000; op++) {
                int r = rnd.nextInt(10);
                if (r < 4) {
                    int s = slab.take();
                    if (s >= 0) {
                        assertFalse(taken.get(s), "op " + op + ": slot " + s + " handed out twice");
                        taken.set(s);
                        held.add(s);
                    }
                } else if (r < 5) {
                    int count = 1 + rnd.nextInt(300);
                    int s = slab.takeRun(count);
                    if (s >= 0) {
                        runs++;
                        assertEquals(s / CHUNK, (s + count - 1) / CHUNK, "op " + op + ": a run inside one chunk");
                        for (int i = s; i < s + count; i++) {
                            assertFalse(taken.get(i), "op " + op + ": slot " + i + " of a run was taken");
                            taken.set(i);
                            held.add(i);
                        }
                    }
                } else if (!held.isEmpty()) {
                    int s = held.remove(rnd.nextInt(held.size()));
                    taken.clear(s);
                    slab.release(s);
                }
            }
            assertTrue(runs > 1000, "runs were found: " + runs);
        }
    }
}
