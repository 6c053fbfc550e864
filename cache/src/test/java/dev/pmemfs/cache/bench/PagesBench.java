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
 * 4 KiB and 128 KiB reads and writes through {@link CachedPages} (all hits: an 8 MiB working
 * set in a 64 MiB cache) and {@link DirectPages} (an 8 MiB range of a region file on /dev/shm),
 * each beside a plain {@link MemorySegment#copy} of the same size between a native buffer (the
 * FUSE buffer) and an 8 MiB native segment, in the same run. Requests walk the working set
 * sequentially, one page call per 4 KiB. {@code directWrite} includes the persist each write
 * does (an msync on tmpfs).
 *
 * <p>Run from the repository root:
 * <pre>
 * JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 mvn -q -B -pl device,cache install -DskipTests
 * JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 mvn -q -B -pl cache test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=/tmp/cache-cp.txt -Dmdep.includeScope=test
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java --enable-native-access=ALL-UNNAMED \
 *     -cp cache/target/test-classes:cache/target/classes:$(cat /tmp/cache-cp.txt) \
 *     org.openjdk.jmh.Main PagesBench -f 1 -wi 2 -i 3 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PagesBench {
    private static final int PAGE = Pages.PAGE_SIZE;
    private static final long WORKING_SET = 8L << 20;
    private static final long WORKING_PAGES = WORKING_SET / PAGE;

    @Param({"4096", "131072"})
    public int size;

    private Path dir;
    private PmemRegion region;
    private CachedPages cached;
    private DirectPages direct;
    private Arena arena;
    private MemorySegment fuseBuffer;
    private MemorySegment target;
    private long cursor;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path shm = Path.of("/dev/shm");
        dir = Files.createTempDirectory(Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")), "pagesbench");
        region = PmemRegion.create(dir.resolve("region"), 2 * WORKING_SET + (4L << 20), false);
        cached = new CachedPages(region, CacheConfig.defaults().withCacheBytes(64L << 20));
        direct = new DirectPages(region);
        arena = Arena.ofShared();
        fuseBuffer = arena.allocate(131072, 4096);
        fuseBuffer.fill((byte) 0x5a);
        target = arena.allocate(WORKING_SET, 4096);
        for (long p = 0; p < WORKING_PAGES; p++) {
            cached.write(p, 0, fuseBuffer, 0, PAGE);
            direct.write(WORKING_PAGES + p, 0, fuseBuffer, 0, PAGE);
        }
        cached.syncAll();
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

    private long next() {
        long at = cursor;
        cursor = (cursor + size) % WORKING_SET;
        return at;
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
        long page = next() / PAGE;
        for (int done = 0; done < size; done += PAGE) {
            cached.read(page++, 0, fuseBuffer, done, PAGE);
        }
    }

    @Benchmark
    public void cachedWrite() {
        long page = next() / PAGE;
        for (int done = 0; done < size; done += PAGE) {
            cached.write(page++, 0, fuseBuffer, done, PAGE);
        }
    }

    @Benchmark
    public void directRead() {
        long page = WORKING_PAGES + next() / PAGE;
        for (int done = 0; done < size; done += PAGE) {
            direct.read(page++, 0, fuseBuffer, done, PAGE);
        }
    }

    @Benchmark
    public void directWrite() {
        long page = WORKING_PAGES + next() / PAGE;
        for (int done = 0; done < size; done += PAGE) {
            direct.write(page++, 0, fuseBuffer, done, PAGE);
        }
    }
}
