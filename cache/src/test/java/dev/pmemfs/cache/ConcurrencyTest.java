package dev.pmemfs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pmemfs.device.CrashingRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Several threads write and read overlapping pages at once, through a cache small enough that
 * eviction, throttled and age-driven write-back all run during the test.
 *
 * <p>Slot pages: each thread owns a 1 KiB slot of every slot page and writes it (a partial
 * write, so read-modify-write on a miss) with an ever-growing number; a read must find every
 * slot uniform (no torn write) and never smaller than the reader saw before (no lost write),
 * and at the end every slot holds its thread's last number, in RAM and on the media after a
 * power failure. Shared pages: whole-page writes of one value by any thread; a read must find
 * the page uniform.
 */
final class ConcurrencyTest {
    private static final int PAGE = Pages.PAGE_SIZE;
    private static final int THREADS = 4;
    private static final int SLOT = PAGE / THREADS;
    private static final int SLOT_PAGES = 8;
    private static final int SHARED_PAGES = 8;
    private static final int OTHER_PAGES = 48;
    private static final int OPS = 30_000;

    @Test
    void cachedPages_concurrentWritersAndReaders_loseAndTearNothing() throws InterruptedException {
        CacheConfig config = CacheConfig.defaults().withCacheBytes(12L * PAGE).withWritebackDelay(Duration.ofMillis(1));
        run(region -> new CachedPages(region, config));
    }

    @Test
    void directPages_concurrentWritersAndReaders_loseAndTearNothing() throws InterruptedException {
        run(DirectPages::new);
    }

    /**
     * Writers rewrite whole pages while another thread syncs all the time: a write that lands
     * after write-back copied its page but before the page is marked clean must leave the page
     * dirty, so the final sync stores it (a lost update would leave the older bytes on the media).
     */
    @Test
    void cachedPages_writesRacingWriteBack_reachTheMedia() throws InterruptedException {
        int writers = 2;
        int perWriter = 32;
        try (CrashingRegion region = CrashingRegion.create(1 << 20); Arena arena = Arena.ofConfined()) {
            CachedPages pages = new CachedPages(region, CacheConfig.defaults().withCacheBytes(256L * PAGE));
            MemorySegment check = arena.allocate(PAGE);
            for (int epoch = 0; epoch < 12; epoch++) { // each epoch ends at another point of the race
                long firstValue = epoch * 1_000L + 1;
                AtomicBoolean stop = new AtomicBoolean();
                ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
                Thread syncer = Thread.ofPlatform().name("syncer").start(() -> {
                    while (!stop.get()) {
                        pages.syncAll();
                    }
                });
                List<Thread> threads = new ArrayList<>();
                for (int w = 0; w < writers; w++) {
                    long first = (long) w * perWriter;
                    threads.add(Thread.ofPlatform().name("writer-" + w).start(() -> {
                        try (Arena own = Arena.ofConfined()) {
                            MemorySegment buf = own.allocate((long) perWriter * PAGE);
                            long[] list = new long[perWriter];
                            for (int i = 0; i < perWriter; i++) {
                                list[i] = first + i;
                            }
                            for (long v = firstValue; v < firstValue + 1_000; v++) {
                                fillLongs(buf, perWriter * PAGE, v);
                                pages.write(list, null, 0, buf, 0, (long) perWriter * PAGE);
                            }
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }));
                }
                for (Thread t : threads) {
                    t.join();
                }
                stop.set(true);
                syncer.join();
                assertTrue(failures.isEmpty(), "writers failed: " + failures.peek());
                pages.syncAll();
                for (int p = 0; p < writers * perWriter; p++) {
                    region.read((long) p * PAGE, check, 0, PAGE);
                    assertEquals(firstValue + 999, uniform(check, 0, PAGE), "epoch " + epoch + ": page " + p + " on the media");
                }
            }
            pages.close();
        }
    }

    private static void run(Function<CrashingRegion, Pages> factory) throws InterruptedException {
        try (CrashingRegion region = CrashingRegion.create(1 << 20)) {
            Pages pages = factory.apply(region);
            long[][] last = new long[THREADS][SLOT_PAGES];
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int id = t;
                threads.add(Thread.ofPlatform().name("worker-" + t).start(() -> {
                    try {
                        start.await();
                        work(pages, id, last[id]);
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            start.countDown();
            for (Thread t : threads) {
                t.join();
            }
            if (!failures.isEmpty()) {
                AssertionError e = new AssertionError(failures.size() + " workers failed: " + failures.peek());
                failures.forEach(e::addSuppressed);
                throw e;
            }
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(PAGE);
                for (int p = 0; p < SLOT_PAGES; p++) {
                    pages.read(p, 0, buf, 0, PAGE);
                    checkFinal(buf, last, p, "in RAM");
                }
                pages.sync(new long[] {0, 1, 2, 3, 4, 5, 6, 7});
                if (pages instanceof CachedPages c) {
                    c.abandon();
                } else {
                    pages.close();
                }
                region.powerFail();
                for (int p = 0; p < SLOT_PAGES; p++) {
                    region.read((long) p * PAGE, buf, 0, PAGE);
                    checkFinal(buf, last, p, "on the media after a power failure");
                }
            }
        }
    }

    private static void checkFinal(MemorySegment page, long[][] last, int p, String where) {
        for (int t = 0; t < THREADS; t++) {
            assertEquals(last[t][p], uniform(page, t * SLOT, SLOT), "slot " + t + " of page " + p + " " + where);
        }
    }

    private static void work(Pages pages, int id, long[] last) {
        SplittableRandom rnd = new SplittableRandom(id * 7919L + 1);
        long[][] seen = new long[THREADS][SLOT_PAGES];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(PAGE);
            for (int op = 0; op < OPS; op++) {
                int r = rnd.nextInt(100);
                if (r < 35) {
                    int p = rnd.nextInt(SLOT_PAGES);
                    long value = ++last[p];
                    fillLongs(buf, SLOT, value);
                    pages.write(p, id * SLOT, buf, 0, SLOT);
                } else if (r < 50) {
                    int p = SLOT_PAGES + rnd.nextInt(SHARED_PAGES);
                    fillLongs(buf, PAGE, ((long) id << 40) | op);
                    pages.write(p, 0, buf, 0, PAGE);
                } else if (r < 75) {
                    int p = rnd.nextInt(SLOT_PAGES);
                    pages.read(p, 0, buf, 0, PAGE);
                    for (int t = 0; t < THREADS; t++) {
                        long v = uniform(buf, t * SLOT, SLOT);
                        assertTrue(v >= seen[t][p], "slot " + t + " of page " + p + " went back from " + seen[t][p] + " to " + v);
                        seen[t][p] = v;
                    }
                } else if (r < 90) {
                    int p = SLOT_PAGES + rnd.nextInt(SHARED_PAGES);
                    pages.read(p, 0, buf, 0, PAGE);
                    uniform(buf, 0, PAGE);
                } else if (r < 99) {
                    pages.read(SLOT_PAGES + SHARED_PAGES + rnd.nextInt(OTHER_PAGES), 0, buf, 0, PAGE);
                } else {
                    pages.sync(new long[] {rnd.nextInt(SLOT_PAGES), SLOT_PAGES + rnd.nextInt(SHARED_PAGES)});
                }
            }
        }
    }

    private static void fillLongs(MemorySegment buf, int length, long value) {
        for (int i = 0; i < length; i += 8) {
            buf.set(ValueLayout.JAVA_LONG_UNALIGNED, i, value);
        }
    }

    /** The one value every long of the range holds; fails on a torn range. */
    private static long uniform(MemorySegment buf, int offset, int length) {
        long first = buf.get(ValueLayout.JAVA_LONG_UNALIGNED, offset);
        for (int i = 8; i < length; i += 8) {
            long v = buf.get(ValueLayout.JAVA_LONG_UNALIGNED, offset + i);
            if (v != first) {
                throw new AssertionError("torn range at " + offset + ": " + Long.toHexString(first) + " and "
                        + Long.toHexString(v) + " at +" + i);
            }
        }
        return first;
    }
}
