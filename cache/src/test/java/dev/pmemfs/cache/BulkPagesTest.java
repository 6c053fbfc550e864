package dev.pmemfs.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pmemfs.device.CrashingRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The multi-page operations of {@link Pages} (a range over a list of pages, new blocks, slices
 * handed to a reader) against a byte-array model, for both implementations, with a small cache
 * so that ranges span evicted, clean and dirty pages; then a power failure after a sync, and
 * slice readers racing whole-range writers (no torn page may be handed out).
 */
final class BulkPagesTest {
    private static final int PAGE = Pages.PAGE_SIZE;
    private static final int PAGES = 64;
    private static final int SEEDS = 30;
    private static final int OPS = 300;

    @Test
    void cachedPages_bulkOperationsMatchModel() {
        for (long seed = 0; seed < SEEDS; seed++) {
            Random cfg = new Random(seed);
            CacheConfig config = CacheConfig.defaults().withCacheBytes((long) PAGE * (8 + cfg.nextInt(24)))
                    .withCompareLines(cfg.nextBoolean()).withWritebackDelay(Duration.ofSeconds(30));
            run(seed, r -> new CachedPages(r, config));
        }
    }

    @Test
    void directPages_bulkOperationsMatchModel() {
        for (long seed = 0; seed < SEEDS; seed++) {
            run(seed, DirectPages::new);
        }
    }

    private static void run(long seed, Function<CrashingRegion, Pages> factory) {
        Random rnd = new Random(seed * 7 + 3);
        byte[][] model = new byte[PAGES][PAGE];
        try (CrashingRegion region = CrashingRegion.create(1 << 20); Arena arena = Arena.ofConfined()) {
            Pages pages = factory.apply(region);
            MemorySegment buf = arena.allocate(16 * PAGE);
            for (int op = 0; op < OPS; op++) {
                int n = 1 + rnd.nextInt(12);
                long[] list = pageList(rnd, n);
                int off = rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(PAGE);
                long maxLen = (long) n * PAGE - off;
                long len = rnd.nextBoolean() ? maxLen : maxLen - rnd.nextInt((int) Math.min(maxLen, PAGE));
                int kind = rnd.nextInt(10);
                if (kind < 4) {
                    boolean[] fresh = new boolean[list.length];
                    for (int i = 0; i < fresh.length; i++) {
                        fresh[i] = rnd.nextInt(4) == 0;
                    }
                    byte[] data = new byte[(int) len];
                    rnd.nextBytes(data);
                    MemorySegment.copy(MemorySegment.ofArray(data), 0, buf, 0, len);
                    boolean[] passed = rnd.nextBoolean() ? fresh : null;
                    pages.write(list, passed, off, buf, 0, len);
                    applyWrite(model, list, passed, off, data);
                } else if (kind < 7) {
                    pages.read(list, 0, off, buf, 0, len);
                    assertArrayEquals(expected(model, list, off, len), buf.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE),
                            "seed " + seed + " op " + op + ": bulk read of " + len + " bytes");
                } else if (kind < 9) {
                    byte[] got = new byte[(int) len];
                    pages.read(list, 0, off, len, (slices, count) -> {
                        int at = 0;
                        for (int i = 0; i < count; i++) {
                            MemorySegment.copy(slices[i], ValueLayout.JAVA_BYTE, 0, got, at, (int) slices[i].byteSize());
                            at += (int) slices[i].byteSize();
                        }
                        assertEquals(len, at, "slices cover the range");
                    });
                    assertArrayEquals(expected(model, list, off, len), got, "seed " + seed + " op " + op + ": slices");
                } else {
                    pages.sync(list);
                }
            }
            pages.syncAll();
            if (pages instanceof CachedPages c) {
                c.abandon();
            } else {
                pages.close();
            }
            region.powerFail();
            byte[] b = new byte[PAGE];
            for (int p = 0; p < PAGES; p++) {
                region.read((long) p * PAGE, b, 0, PAGE);
                assertArrayEquals(model[p], b, "seed " + seed + ": page " + p + " after syncAll and a power failure");
            }
        }
    }

    /**
     * Whole new pages are written with one copy into adjacent slab slots and written back with
     * one copy per run; pages of such a run that are already in RAM (clean in Caffeine, or dirty)
     * are written in place instead, never duplicated: reads, counters and the media after a power
     * failure all agree with the model.
     */
    @Test
    void cachedPages_runsOfNewPages_oneCopyAndNoDuplicates() {
        int n = 64;
        byte[][] model = new byte[PAGES][PAGE];
        Random rnd = new Random(5);
        try (CrashingRegion region = CrashingRegion.create(1 << 20); Arena arena = Arena.ofConfined()) {
            CachedPages pages = new CachedPages(region, CacheConfig.defaults().withCacheBytes(256L * PAGE));
            MemorySegment buf = arena.allocate((long) n * PAGE);
            long[] stream = new long[16];
            boolean[] fresh = new boolean[16];
            java.util.Arrays.fill(fresh, true);
            for (int at = 0; at < n / 2; at += 16) { // pages 0..31, new blocks, 16 per write
                for (int i = 0; i < 16; i++) {
                    stream[i] = at + i;
                }
                byte[] data = random(rnd, 16 * PAGE);
                MemorySegment.copy(MemorySegment.ofArray(data), 0, buf, 0, data.length);
                pages.write(stream, fresh, 0, buf, 0, data.length);
                applyWrite(model, stream, fresh, 0, data);
            }
            pages.syncAll();
            assertEquals(32, pages.stats().writebacks());
            assertEquals(1, pages.mediaCopies(), "32 pages of a stream written back with one copy");

            pages.read(new long[] {40, 41}, 0, 0, buf, 0, 2L * PAGE); // clean in Caffeine
            byte[] d = random(rnd, PAGE);
            MemorySegment.copy(MemorySegment.ofArray(d), 0, buf, 0, PAGE);
            pages.write(44, 0, buf, 0, PAGE); // dirty in held
            applyWrite(model, new long[] {44}, null, 0, d);
            long[] over = new long[16];
            for (int i = 0; i < 16; i++) {
                over[i] = 36 + i;
            }
            byte[] data = random(rnd, 16 * PAGE);
            MemorySegment.copy(MemorySegment.ofArray(data), 0, buf, 0, data.length);
            pages.write(over, null, 0, buf, 0, data.length); // page 36 not cached: a run, with 40, 41, 44 in RAM
            applyWrite(model, over, null, 0, data);
            assertEquals(16, pages.stats().dirtyPages(), "each page dirty once");
            pages.read(over, 0, 0, buf, 0, 16L * PAGE);
            assertArrayEquals(expected(model, over, 0, 16L * PAGE), buf.asSlice(0, 16L * PAGE).toArray(ValueLayout.JAVA_BYTE));

            pages.syncAll();
            pages.abandon();
            region.powerFail();
            byte[] b = new byte[PAGE];
            for (int p = 0; p < PAGES; p++) {
                region.read((long) p * PAGE, b, 0, PAGE);
                assertArrayEquals(model[p], b, "page " + p + " after syncAll and a power failure");
            }
        }
    }

    private static byte[] random(Random rnd, int length) {
        byte[] data = new byte[length];
        rnd.nextBytes(data);
        return data;
    }

    @Test
    void cachedPages_slicesAreNeverTorn() throws InterruptedException {
        try (TempRegion t = TempRegion.create(16L << 20)) {
            racingSlices(new CachedPages(t.region, CacheConfig.defaults().withCacheBytes(16L * PAGE)));
        }
    }

    @Test
    void directPages_slicesAreNeverTorn() throws InterruptedException {
        try (TempRegion t = TempRegion.create(16L << 20)) {
            racingSlices(new DirectPages(t.region));
        }
    }

    /**
     * Two writers fill 7 pages (of 32, so a small cache evicts) with one value per write, two
     * readers take slices of the same pages; no page of a slice may hold two values.
     */
    private static void racingSlices(Pages pages) throws InterruptedException {
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int id = 0; id < 4; id++) {
            int me = id;
            threads.add(Thread.ofPlatform().start(() -> {
                Random rnd = new Random(me);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment buf = arena.allocate(8L * PAGE);
                    start.await();
                    for (int op = 0; op < 3000; op++) {
                        long first = rnd.nextInt(25);
                        long[] list = {first, first + 1, first + 2, first + 3, first + 4, first + 5, first + 7};
                        if (me < 2) {
                            long v = ((long) me << 32) | op;
                            for (int i = 0; i < 7 * PAGE; i += 8) {
                                buf.set(ValueLayout.JAVA_LONG_UNALIGNED, i, v);
                            }
                            pages.write(list, null, 0, buf, 0, 7L * PAGE);
                        } else {
                            pages.read(list, 0, 0, 7L * PAGE, (slices, count) -> {
                                for (int i = 0; i < count; i++) { // a slice may hold several pages
                                    for (long pg = 0; pg < slices[i].byteSize(); pg += PAGE) {
                                        long v = slices[i].get(ValueLayout.JAVA_LONG_UNALIGNED, pg);
                                        for (long j = 8; j < PAGE; j += 8) {
                                            if (slices[i].get(ValueLayout.JAVA_LONG_UNALIGNED, pg + j) != v) {
                                                throw new AssertionError("torn page in slice " + i + " at +" + (pg + j));
                                            }
                                        }
                                    }
                                }
                            });
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        start.countDown();
        for (Thread t : threads) {
            t.join(60_000);
            assertTrue(!t.isAlive(), "a worker is stuck (deadlock?)");
        }
        pages.close();
        assertTrue(failures.isEmpty(), () -> failures.size() + " workers failed: " + failures.peek());
    }

    @Test
    void cachedPages_writtenBackFileThatFitsIsReadFromRam() {
        try (TempRegion t = TempRegion.create(16L << 20); Arena arena = Arena.ofConfined()) {
            CachedPages pages = new CachedPages(t.region, CacheConfig.defaults().withCacheBytes(1024L * PAGE));
            MemorySegment buf = arena.allocate(64L * PAGE);
            for (long at = 0; at < 640; at += 64) { // 640 pages: 62 % of the cache
                pages.write(run(at, 64), null, 0, buf, 0, 64L * PAGE);
            }
            pages.syncAll();
            for (int pass = 0; pass < 2; pass++) { // the second pass moves the pages into Caffeine
                for (long at = 0; at < 640; at += 64) {
                    pages.read(run(at, 64), 0, 0, buf, 0, 64L * PAGE);
                }
            }
            assertEquals(0, pages.stats().misses(), "written-back pages that fit stay in RAM");
            pages.close();
        }
    }

    @Test
    void cachedPages_streamLargerThanCacheStaysWithinIt() {
        try (TempRegion t = TempRegion.create(16L << 20); Arena arena = Arena.ofConfined()) {
            CachedPages pages = new CachedPages(t.region, CacheConfig.defaults().withCacheBytes(256L * PAGE));
            MemorySegment buf = arena.allocate(16L * PAGE);
            for (long at = 0; at < 2048; at += 16) { // 8 times the cache, synced as it goes
                pages.write(run(at, 16), null, 0, buf, 0, 16L * PAGE);
                if (at % 128 == 0) {
                    pages.syncAll();
                }
            }
            pages.syncAll();
            long cached = pages.stats().cachedBytes();
            assertTrue(cached <= 256L * PAGE * 9 / 8, "cached bytes " + cached + " over the cache size and its trimming slack");
            pages.close();
        }
    }

    private static long[] run(long first, int n) {
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = first + i;
        }
        return out;
    }

    /** n distinct pages: adjacent runs mixed with jumps, in any order. */
    private static long[] pageList(Random rnd, int n) {
        List<Long> out = new ArrayList<>();
        long p = rnd.nextInt(PAGES);
        while (out.size() < n) {
            if (!out.contains(p)) {
                out.add(p);
            }
            p = rnd.nextInt(3) == 0 ? rnd.nextInt(PAGES) : (p + 1) % PAGES;
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    private static void applyWrite(byte[][] model, long[] list, boolean[] fresh, int off, byte[] data) {
        int done = 0;
        for (int i = 0; done < data.length; i++) {
            int o = i == 0 ? off : 0;
            int chunk = Math.min(PAGE - o, data.length - done);
            if (fresh != null && fresh[i]) {
                java.util.Arrays.fill(model[(int) list[i]], (byte) 0);
            }
            System.arraycopy(data, done, model[(int) list[i]], o, chunk);
            done += chunk;
        }
    }

    private static byte[] expected(byte[][] model, long[] list, int off, long len) {
        byte[] out = new byte[(int) len];
        int done = 0;
        for (int i = 0; done < len; i++) {
            int o = i == 0 ? off : 0;
            int chunk = (int) Math.min(PAGE - o, len - done);
            System.arraycopy(model[(int) list[i]], o, out, done, chunk);
            done += chunk;
        }
        return out;
    }
}
