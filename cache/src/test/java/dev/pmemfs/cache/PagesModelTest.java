package dev.pmemfs.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pmemfs.device.CrashingRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Model-based test: random sequences of reads, writes, syncs and power failures run against a
 * {@link Pages} over a {@link CrashingRegion} and against a byte-array model, compared after
 * every step.
 *
 * <p>The model keeps, per page, the current bytes and every version the page has had since it
 * was last made durable. A read must equal the current bytes; after a sync the synced pages on
 * the region equal the model; after a power failure each page on the media must be one of its
 * versions (write-back persists whole pages, so the media may be ahead of the last sync, never
 * torn and never behind it), and the model becomes what survived.
 */
final class PagesModelTest {
    private static final int PAGES = 48;
    private static final int PAGE = Pages.PAGE_SIZE;
    private static final long REGION_SIZE = 1 << 20;
    private static final int SEEDS = 100;
    private static final int OPS = 400;

    @Test
    void cachedPages_randomOperationsMatchModel() {
        for (long seed = 0; seed < SEEDS; seed++) {
            Random cfg = new Random(seed * 31 + 7);
            CacheConfig config = CacheConfig.defaults()
                    .withCacheBytes((long) PAGE * (4 + cfg.nextInt(12))) // 4..15 pages for 48: constant eviction
                    .withCompareLines(cfg.nextBoolean())
                    .withWritebackDelay(cfg.nextInt(4) == 0 ? Duration.ofMillis(2) : Duration.ofSeconds(30));
            boolean quiet = config.writebackDelay().toSeconds() > 0; // no background write-back: exact persist checks
            run(seed, region -> new CachedPages(region, config), quiet);
        }
    }

    @Test
    void directPages_randomOperationsMatchModel() {
        for (long seed = 0; seed < SEEDS; seed++) {
            run(seed, DirectPages::new, true);
        }
    }

    private static void run(long seed, Function<CrashingRegion, Pages> factory, boolean quiet) {
        try (CrashingRegion region = CrashingRegion.create(REGION_SIZE); Arena arena = Arena.ofConfined()) {
            new Run(seed, region, factory, quiet, arena.allocate(PAGE)).go();
        } catch (AssertionError e) {
            throw new AssertionError("seed " + seed + ": " + e.getMessage(), e);
        }
    }

    private static final class Run {
        private final long seed;
        private final Random rnd;
        private final CrashingRegion region;
        private final Function<CrashingRegion, Pages> factory;
        private final boolean quiet;
        private final MemorySegment buf;
        private final byte[][] model = new byte[PAGES][PAGE];
        private final List<List<byte[]>> versions = new ArrayList<>();
        private Pages pages;

        Run(long seed, CrashingRegion region, Function<CrashingRegion, Pages> factory, boolean quiet, MemorySegment buf) {
            this.seed = seed;
            this.rnd = new Random(seed);
            this.region = region;
            this.factory = factory;
            this.quiet = quiet;
            this.buf = buf;
            for (int p = 0; p < PAGES; p++) {
                versions.add(new ArrayList<>(List.of(new byte[PAGE])));
            }
        }

        void go() {
            pages = factory.apply(region);
            try {
                for (int op = 0; op < OPS; op++) {
                    int r = rnd.nextInt(100);
                    if (r < 45) {
                        write();
                    } else if (r < 85) {
                        read(op);
                    } else if (r < 93) {
                        syncSome();
                    } else if (r < 96) {
                        syncAll();
                    } else {
                        powerFailure();
                    }
                }
                pages.close();
                assertEquals(0, region.unpersistedLines(), "close left unpersisted lines");
                region.powerFail();
                for (int p = 0; p < PAGES; p++) {
                    assertArrayEquals(model[p], media(p), "page " + p + " after close and power failure");
                }
            } finally {
                pages.close();
            }
        }

        private void write() {
            int page = rnd.nextInt(PAGES);
            boolean whole = rnd.nextInt(3) == 0;
            int off = whole ? 0 : rnd.nextInt(PAGE);
            int len = whole ? PAGE : 1 + rnd.nextInt(Math.min(PAGE - off, rnd.nextBoolean() ? 64 : PAGE));
            byte[] data = new byte[len];
            rnd.nextBytes(data);
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, len);
            pages.write(page, off, buf, 0, len);
            System.arraycopy(data, 0, model[page], off, len);
            versions.get(page).add(model[page].clone());
        }

        private void read(int op) {
            int page = rnd.nextInt(PAGES);
            int off = rnd.nextInt(PAGE);
            int len = 1 + rnd.nextInt(PAGE - off);
            if (rnd.nextBoolean()) {
                off = 0;
                len = PAGE;
            }
            pages.read(page, off, buf, 0, len);
            byte[] got = buf.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE);
            if (!Arrays.equals(got, 0, len, model[page], off, off + len)) {
                fail("op " + op + ": read of page " + page + " [" + off + ", +" + len + ") differs from the model");
            }
        }

        private void syncSome() {
            long[] which = rnd.longs(1 + rnd.nextInt(6), 0, PAGES).toArray();
            pages.sync(which);
            for (long p : which) {
                assertArrayEquals(model[(int) p], media((int) p), "page " + p + " after sync");
                durable((int) p);
            }
        }

        private void syncAll() {
            pages.syncAll();
            if (quiet) {
                assertEquals(0, region.unpersistedLines(), "syncAll left unpersisted lines");
            }
            for (int p = 0; p < PAGES; p++) {
                assertArrayEquals(model[p], media(p), "page " + p + " after syncAll");
                durable(p);
            }
        }

        private void powerFailure() {
            if (pages instanceof CachedPages c) {
                c.abandon(); // the RAM is gone
            }
            region.powerFail();
            for (int p = 0; p < PAGES; p++) {
                byte[] survived = media(p);
                boolean known = versions.get(p).stream().anyMatch(v -> Arrays.equals(v, survived));
                assertTrue(known, "page " + p + " after power failure is none of its versions since the last sync");
                model[p] = survived;
                durable(p);
            }
            pages = factory.apply(region);
        }

        private void durable(int page) {
            List<byte[]> v = versions.get(page);
            v.clear();
            v.add(model[page].clone());
        }

        private byte[] media(int page) {
            byte[] b = new byte[PAGE];
            region.read((long) page * PAGE, b, 0, PAGE);
            return b;
        }

        @Override
        public String toString() {
            return "run " + seed;
        }
    }
}
