package dev.pmemfs.cache.bench;

import dev.pmemfs.cache.CacheConfig;
import dev.pmemfs.cache.CachedPages;
import dev.pmemfs.cache.DirectPages;
import dev.pmemfs.cache.Pages;
import dev.pmemfs.device.PmemRegion;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The in-process targets measured so that a busy machine cannot skew them: each case
 * alternates a batch of page I/O with a plain {@link MemorySegment#copy} of the same bytes
 * (which goes first alternates too), times both in the thread's CPU time (user and system, so
 * time spent descheduled by other processes' load does not count, while msync does), and
 * reports the median and the range of the per-pair ratios copy-time / page-time, i.e. the page
 * path's bandwidth as a fraction of a copy's. One thread, region on /dev/shm, every page of the
 * region and of the copy target touched first. Cases:
 * <ul>
 *   <li>{@code cached write new 1M}: 64 MiB in 1 MiB requests into pages the cache does not hold;
 *   <li>{@code fsync 1G}: write-back and persist of 1 GiB of dirty pages;
 *   <li>{@code cached read hit 1M}: 1 MiB reads at random offsets of 64 MiB of cached pages;
 *   <li>{@code DAX write 1M}: 1 MiB writes through {@link DirectPages}, each with its persist;
 *   <li>{@code cached write hit 4K}: 4 KiB writes at random offsets of 64 MiB of cached pages.
 * </ul>
 * Each line also says how many bytes the page path allocated on the Java heap per 4 KiB page. The
 * last line says how many pages write-back stored in how many copies (runs of pages adjacent on
 * the media and in the slab go in one copy).
 *
 * <p><b>The heap's first touch.</b> Every page and copy target above is touched before it is
 * timed, but the Java heap is not: until the young generation has been filled once, every 4 KiB
 * of new objects costs a page fault (the kernel clears the page), and a fresh JVM reaches its
 * first young collection after about 20 pairs of {@code cached write new 1M}. Measured with 178
 * bytes of objects per page: a 64 MiB batch that faulted (715 faults, counted in
 * /proc/thread-self/stat) took 5.5-6.5 ms on a quiet machine and 12-18 ms while other benches
 * ran, one that did not 4.2-5.5 ms, the copy 3.3-4.4 ms throughout. A mount that has run for a while
 * never pays this again, so the numbers that describe it come from a run with
 * {@code -XX:+AlwaysPreTouch} (the JVM touches its initial heap at start); the first line of the
 * output says which kind of run it is, and both are worth reporting. Run from the repository
 * root after the classpath step of {@link StreamBench}:
 * <pre>
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java --enable-native-access=ALL-UNNAMED [-XX:+AlwaysPreTouch] \
 *     -cp cache/target/test-classes:cache/target/classes:device/target/classes:$(cat /tmp/cache-cp.txt) \
 *     dev.pmemfs.cache.bench.PagesPaired [rounds [case]]
 * </pre>
 * {@code case} runs only the cases whose name contains it (e.g. {@code fsync}), for profiling:
 * add {@code -XX:+PreserveFramePointer -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit}
 * and run under {@code perf record -g}.
 */
public final class PagesPaired {
    private static final int PAGE = Pages.PAGE_SIZE;
    private static final int MIB = 1 << 20;
    private static final long SET = 64L << 20;
    private static final long BIG = 1L << 30;
    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
    /** Bytes the page path allocated in the measured batches of the current case. */
    private static long allocated;

    private final CachedPages cached;
    private final DirectPages direct;
    private final MemorySegment buffer;
    private final MemorySegment target;
    private final SplittableRandom random = new SplittableRandom(7);
    private final long[] list = new long[MIB / PAGE];

    private PagesPaired(PmemRegion region, Arena arena) {
        this.cached = new CachedPages(region, CacheConfig.defaults().withCacheBytes(BIG + 4 * SET)
                .withWatermarks(0.95, 0.9).withWritebackDelay(Duration.ofHours(1)));
        this.direct = new DirectPages(region);
        this.buffer = arena.allocate(MIB, PAGE);
        buffer.fill((byte) 0x5a);
        this.target = arena.allocate(BIG, PAGE);
        target.fill((byte) 1);
    }

    public static void main(String[] args) throws IOException {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 9;
        String only = args.length > 1 ? args[1] : ""; // run only the cases whose name contains this (for profiling)
        boolean pretouched = ManagementFactory.getRuntimeMXBean().getInputArguments().contains("-XX:+AlwaysPreTouch");
        System.out.println(pretouched ? "heap pre-touched (-XX:+AlwaysPreTouch): as a mount that has run for a while"
                : "heap not pre-touched: the first ~20 pairs of a case that allocates pay page faults on new heap");
        Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "pagespaired");
        Path file = dir.resolve("region");
        try (Arena arena = Arena.ofShared()) {
            PmemRegion region = PmemRegion.create(file, BIG + 4 * SET, false);
            region.fill(0, region.dataSize(), (byte) 0); // touch every page of the tmpfs file
            PagesPaired b = new PagesPaired(region, arena);
            b.run(rounds, only);
            var s = b.cached.stats();
            System.out.printf("write-back: %d pages in %d copies (%.1f pages per copy)%n",
                    s.writebacks(), b.cached.mediaCopies(), (double) s.writebacks() / Math.max(1, b.cached.mediaCopies()));
            b.cached.close();
            region.close();
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    /** Pages of the cached 64 MiB set start at 0; new pages at SET; the DAX set at 2 SET; the 1 GiB at 3 SET. */
    private void run(int rounds, String only) {
        for (long at = 0; at < SET; at += MIB) {
            cached.write(pages(at / PAGE), null, 0, buffer, 0, MIB);
        }
        cached.syncAll();
        for (int warm = 0; warm < 3; warm++) { // second reads move the set into Caffeine; JIT warm-up
            for (long at = 0; at < SET; at += MIB) {
                cached.read(pages(at / PAGE), 0, 0, buffer, 0, MIB);
            }
        }
        long perMiB = MIB / PAGE;
        measure(only, "cached write new 1M", SET / PAGE, () -> pairs(rounds, this::copy64M, this::writeNew, this::dropNew));
        measure(only, "fsync 1G", BIG / PAGE, () -> pairs(Math.max(3, rounds / 2), this::copy1G, cached::syncAll, this::dirty1G));
        measure(only, "cached read hit 1M", 64 * perMiB, () -> pairs(rounds, this::copy1MRandom, this::readHit1M, () -> { }));
        measure(only, "DAX write 1M", 64 * perMiB, () -> pairs(rounds, this::copy1MRandom, this::daxWrite1M, () -> { }));
        measure(only, "cached write hit 4K", 8192, () -> pairs(rounds, this::copy4KRandom, this::writeHit4K, () -> { }));
    }

    /** Runs and reports a case when its name contains {@code only}; a page batch handles {@code pages} pages. */
    private static void measure(String only, String name, long pages, java.util.function.Supplier<double[]> ratios) {
        if (name.contains(only)) {
            allocated = 0;
            double[] r = ratios.get();
            report(name, r, (double) allocated / r.length / pages);
        }
    }

    private long[] pages(long first) {
        for (int i = 0; i < list.length; i++) {
            list[i] = first + i;
        }
        return list;
    }

    private void copy64M() {
        for (long at = 0; at < SET; at += MIB) {
            MemorySegment.copy(buffer, 0, target, at, MIB);
        }
    }

    private void writeNew() {
        for (long at = SET; at < 2 * SET; at += MIB) {
            cached.write(pages(at / PAGE), null, 0, buffer, 0, MIB);
        }
    }

    private void dropNew() {
        cached.syncAll();
        for (long p = SET / PAGE; p < 2 * SET / PAGE; p++) {
            cached.drop(p);
        }
    }

    private void copy1G() {
        long half = BIG / 2;
        MemorySegment.copy(target, 0, target, half, half);
        MemorySegment.copy(target, half, target, 0, half);
    }

    private void dirty1G() {
        buffer.fill((byte) (buffer.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0) + 1));
        for (long at = 3 * SET; at < 3 * SET + BIG; at += MIB) {
            cached.write(pages(at / PAGE), null, 0, buffer, 0, MIB);
        }
    }

    private long randomMiB() {
        return random.nextLong(SET / PAGE - MIB / PAGE + 1);
    }

    private void copy1MRandom() {
        for (int i = 0; i < 64; i++) {
            MemorySegment.copy(buffer, 0, target, randomMiB() * PAGE, MIB);
        }
    }

    private void readHit1M() {
        for (int i = 0; i < 64; i++) {
            cached.read(pages(randomMiB()), 0, 0, buffer, 0, MIB);
        }
    }

    private void daxWrite1M() {
        for (int i = 0; i < 64; i++) {
            direct.write(pages(2 * SET / PAGE + randomMiB()), null, 0, buffer, 0, MIB);
        }
    }

    private void copy4KRandom() {
        for (int i = 0; i < 8192; i++) {
            MemorySegment.copy(buffer, 0, target, random.nextLong(SET / PAGE) * PAGE, PAGE);
        }
    }

    private void writeHit4K() {
        for (int i = 0; i < 8192; i++) {
            cached.write(random.nextLong(SET / PAGE), 0, buffer, 0, PAGE);
        }
    }

    /** Ratios copy-time / page-time of {@code rounds} pairs (after one unmeasured pair); {@code reset} runs before each page batch, untimed. */
    private static double[] pairs(int rounds, Runnable copy, Runnable op, Runnable reset) {
        double[] ratios = new double[rounds];
        for (int r = -1; r < rounds; r++) {
            long c;
            long o;
            long a;
            if ((r & 1) == 0) {
                c = cpu(copy);
                reset.run();
                a = heapAllocated();
                o = cpu(op);
                a = heapAllocated() - a;
            } else {
                reset.run();
                a = heapAllocated();
                o = cpu(op);
                a = heapAllocated() - a;
                c = cpu(copy);
            }
            if (r >= 0) {
                ratios[r] = (double) c / o;
                allocated += a;
            }
        }
        return ratios;
    }

    private static long cpu(Runnable r) {
        long t0 = CPU.getCurrentThreadCpuTime();
        r.run();
        return CPU.getCurrentThreadCpuTime() - t0;
    }

    /** Bytes this thread has allocated on the heap so far. */
    private static long heapAllocated() {
        return ((com.sun.management.ThreadMXBean) CPU).getCurrentThreadAllocatedBytes();
    }

    private static void report(String name, double[] ratios, double bytesPerPage) {
        double[] s = ratios.clone();
        Arrays.sort(s);
        System.out.printf("%-22s page bandwidth / copy bandwidth: median %.2f (min %.2f, max %.2f, %d pairs); %.0f B of heap per page%n",
                name, s[s.length / 2], s[0], s[s.length - 1], s.length, bytesPerPage);
    }
}
