package dev.pmemfs.cache.bench;

import dev.pmemfs.cache.CacheConfig;
import dev.pmemfs.cache.CachedPages;
import dev.pmemfs.cache.DirectPages;
import dev.pmemfs.cache.Pages;
import dev.pmemfs.device.PmemRegion;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * 4 KiB and 1 MiB reads and writes through {@link CachedPages} (all hits: a 64 MiB working set
 * in a 256 MiB cache) and {@link DirectPages} (a 64 MiB range of a region file on /dev/shm),
 * each beside a plain {@link MemorySegment#copy} of the same size between a native buffer (the
 * FUSE buffer) and a 64 MiB native segment, in the same run. Each request goes to a random
 * page-aligned offset of the working set and is one call of the multi-page API.
 * {@code directWrite} includes its persist (an msync on tmpfs). Every byte of the region and of
 * the copy target is touched in the setup, so no side pays first-touch page faults.
 *
 * <p>Run from the repository root:
 * <pre>
 * JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 mvn -q -B -pl cache -am test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=/tmp/cache-cp.txt -Dmdep.includeScope=test
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java --enable-native-access=ALL-UNNAMED \
 *     -cp cache/target/test-classes:cache/target/classes:device/target/classes:$(cat /tmp/cache-cp.txt) \
 *     org.openjdk.jmh.Main PagesBench -f 1 -wi 2 -i 3 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PagesBench {
    private static final int PAGE = Pages.PAGE_SIZE;
    private static final long WORKING_SET = 64L << 20;
    private static final long WORKING_PAGES = WORKING_SET / PAGE;

    @Param({"4096", "1048576"})
    public int size;

    private Path dir;
    private PmemRegion region;
    private CachedPages cached;
    private DirectPages direct;
    private Arena arena;
    private MemorySegment fuseBuffer;
    private MemorySegment target;
    private final SplittableRandom random = new SplittableRandom(42);
    private long[] cachedList;
    private long[] directList;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path shm = Path.of("/dev/shm");
        dir = Files.createTempDirectory(Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")), "pagesbench");
        region = PmemRegion.create(dir.resolve("region"), 2 * WORKING_SET + (4L << 20), false);
        region.fill(0, region.dataSize(), (byte) 0); // touch every page of the tmpfs file
        cached = new CachedPages(region, CacheConfig.defaults().withCacheBytes(256L << 20));
        direct = new DirectPages(region);
        arena = Arena.ofShared();
        fuseBuffer = arena.allocate(1 << 20, 4096);
        fuseBuffer.fill((byte) 0x5a);
        target = arena.allocate(WORKING_SET, 4096);
        target.fill((byte) 1);
        for (long p = 0; p < WORKING_PAGES; p++) {
            cached.write(p, 0, fuseBuffer, 0, PAGE);
            direct.write(WORKING_PAGES + p, 0, fuseBuffer, 0, PAGE);
        }
        cached.syncAll();
        cachedList = new long[size / PAGE];
        directList = new long[size / PAGE];
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        cached.close();
        direct.close();
        region.close();
        arena.close();
        Files.deleteIfExists(dir.resolve("region"));
        Files.deleteIfExists(dir);
    }

    /** A random page-aligned offset of the working set where a request of {@code size} fits. */
    private long next() {
        return random.nextLong((WORKING_SET - size) / PAGE + 1) * PAGE;
    }

    /** The pages of a request at {@code at}, from {@code base}, in {@code list}. */
    private static long[] pages(long[] list, long base, long at) {
        long first = base + at / PAGE;
        for (int i = 0; i < list.length; i++) {
            list[i] = first + i;
        }
        return list;
    }

    @Benchmark
    public void copyRead() {
        MemorySegment.copy(target, next(), fuseBuffer, 0, size);
    }

    @Benchmark
    public void copyWrite() {
        MemorySegment.copy(fuseBuffer, 0, target, next(), size);
    }

    @Benchmark
    public void cachedRead() {
        cached.read(pages(cachedList, 0, next()), 0, 0, fuseBuffer, 0, size);
    }

    @Benchmark
    public void cachedWrite() {
        cached.write(pages(cachedList, 0, next()), null, 0, fuseBuffer, 0, size);
    }

    @Benchmark
    public void directRead() {
        direct.read(pages(directList, WORKING_PAGES, next()), 0, 0, fuseBuffer, 0, size);
    }

    @Benchmark
    public void directWrite() {
        direct.write(pages(directList, WORKING_PAGES, next()), null, 0, fuseBuffer, 0, size);
    }
}
