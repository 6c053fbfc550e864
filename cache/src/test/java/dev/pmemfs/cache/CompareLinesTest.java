package dev.pmemfs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Measures data-comparison write (the default of {@link CacheConfig#compareLines()} rests on
 * it): write-back time and media bytes for 16 MiB of dirty pages, with whole random rewrites
 * (every line changes) and with 100-byte rewrites (two lines change), with and without it.
 * Prints one line per case; asserts only the byte counts, since times vary by machine.
 */
final class CompareLinesTest {
    private static final int PAGE = Pages.PAGE_SIZE;
    private static final int PAGES = 4096;
    private static final int ROUNDS = 3;

    @Test
    void compareLines_savesMediaBytesOnSmallRewrites() {
        long[] whole = new long[2];
        long[] small = new long[2];
        for (int c = 0; c < 2; c++) {
            boolean compare = c == 1;
            try (TempRegion t = TempRegion.create(24L << 20); Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(PAGE);
                Random rnd = new Random(1);
                byte[] noise = new byte[PAGE];
                CachedPages pages = new CachedPages(t.region, CacheConfig.defaults().withCacheBytes(64L << 20).withCompareLines(compare));
                long bestWhole = Long.MAX_VALUE;
                long bestSmall = Long.MAX_VALUE;
                for (int round = 0; round < ROUNDS; round++) {
                    for (int p = 0; p < PAGES; p++) {
                        rnd.nextBytes(noise);
                        MemorySegment.copy(MemorySegment.ofArray(noise), 0, buf, 0, PAGE);
                        pages.write(p, 0, buf, 0, PAGE);
                    }
                    long before = pages.stats().mediaBytes();
                    long t0 = System.nanoTime();
                    pages.syncAll();
                    bestWhole = Math.min(bestWhole, System.nanoTime() - t0);
                    whole[c] = pages.stats().mediaBytes() - before;
                    for (int p = 0; p < PAGES; p++) {
                        rnd.nextBytes(noise);
                        MemorySegment.copy(MemorySegment.ofArray(noise), 0, buf, 0, 100);
                        pages.write(p, 64 * rnd.nextInt(62), buf, 0, 100);
                    }
                    before = pages.stats().mediaBytes();
                    t0 = System.nanoTime();
                    pages.syncAll();
                    bestSmall = Math.min(bestSmall, System.nanoTime() - t0);
                    small[c] = pages.stats().mediaBytes() - before;
                }
                pages.close();
                System.out.printf("compareLines=%s: whole-page rewrite of 16 MiB: %d B to media, %.1f ms; "
                                + "100-byte rewrites of 4096 pages: %d B to media, %.1f ms; lines skipped %d%n",
                        compare, whole[c], bestWhole / 1e6, small[c], bestSmall / 1e6, pages.stats().linesSkipped());
            }
        }
        assertEquals((long) PAGES * PAGE, whole[0]);
        assertEquals((long) PAGES * PAGE, small[0]);
        assertTrue(whole[1] >= (long) PAGES * PAGE * 99 / 100, "random pages change almost every line");
        assertTrue(small[1] <= (long) PAGES * 3 * 64, "100 bytes touch at most 3 lines: " + small[1]);
    }
}
