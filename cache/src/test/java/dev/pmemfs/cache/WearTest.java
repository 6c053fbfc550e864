package dev.pmemfs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pmemfs.device.Region;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The wear figure: a 16-fold overwrite of a 64 MiB working set in 4 KiB random writes, through
 * a cache larger than the working set and through the direct path, with the bytes that reached
 * the media taken from the region's own wear counters.
 */
final class WearTest {
    private static final int PAGE = Pages.PAGE_SIZE;
    private static final long WORKING_SET = 64L << 20;
    private static final int WORKING_PAGES = (int) (WORKING_SET / PAGE);
    private static final int OVERWRITES = 16;
    private static final long REGION_SIZE = WORKING_SET + (8L << 20);

    @Test
    void cachedPages_sixteenfoldOverwrite_writeAmplificationAtMostOneTenth() {
        try (TempRegion t = TempRegion.create(REGION_SIZE)) {
            Figures f = overwrite(t.region, new CachedPages(t.region, CacheConfig.defaults()));
            System.out.printf("wear cached: user %d B, media (wear counters) %d B, WA %.4f (PageStats WA %.4f)%n",
                    f.user, f.media, f.wa(), f.stats.writeAmplification());
            assertEquals(WORKING_PAGES, f.stats.writebacks(), "one write-back per page");
            assertTrue(f.wa() <= 0.1, "write amplification " + f.wa());
            assertTrue(f.stats.writeAmplification() <= 0.1, "PageStats write amplification " + f.stats.writeAmplification());
        }
    }

    @Test
    void directPages_sixteenfoldOverwrite_writeAmplificationIsOne() {
        try (TempRegion t = TempRegion.create(REGION_SIZE)) {
            Figures f = overwrite(t.region, new DirectPages(t.region));
            System.out.printf("wear direct: user %d B, media (wear counters) %d B, WA %.4f (PageStats WA %.4f)%n",
                    f.user, f.media, f.wa(), f.stats.writeAmplification());
            assertEquals(1.0, f.wa());
            assertEquals(1.0, f.stats.writeAmplification());
        }
    }

    private record Figures(long user, long media, PageStats stats) {
        double wa() {
            return (double) media / user;
        }
    }

    private static Figures overwrite(Region region, Pages pages) {
        long before = region.wear().bytesWritten();
        SplittableRandom rnd = new SplittableRandom(42);
        try (Arena arena = Arena.ofConfined(); pages) {
            MemorySegment pool = arena.allocate(1 << 20);
            byte[] noise = new byte[1 << 20];
            new java.util.Random(42).nextBytes(noise);
            MemorySegment.copy(MemorySegment.ofArray(noise), 0, pool, 0, noise.length);
            long writes = (long) OVERWRITES * WORKING_PAGES;
            for (long i = 0; i < writes; i++) {
                long source = (long) rnd.nextInt((1 << 20) / 64 - PAGE / 64) * 64;
                pages.write(rnd.nextInt(WORKING_PAGES), 0, pool, source, PAGE);
            }
            pages.syncAll();
            PageStats stats = pages.stats();
            return new Figures(stats.userBytes(), region.wear().bytesWritten() - before, stats);
        }
    }
}
