package dev.pmemfs.cache.bench;

import dev.pmemfs.cache.CacheConfig;
import dev.pmemfs.cache.CachedPages;
import dev.pmemfs.cache.Pages;
import dev.pmemfs.device.PmemRegion;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Streaming through {@link CachedPages}, each beside a plain {@link MemorySegment#copy} of the
 * same bytes in the same run (one thread, region on /dev/shm, every page of the region and of
 * the copy target touched in the setup):
 * <ul>
 *   <li>{@code writeNew} writes 256 MiB in 1 MiB requests into pages the cache does not hold
 *       (dropped before each iteration; their slab memory is reused), against
 *       {@code copyWrite}, 256 copies of 1 MiB into a 256 MiB native segment;
 *   <li>{@code fsync} writes back and persists 1 GiB of dirty pages (written before each
 *       iteration), against {@code copy1G}, a copy of 1 GiB (two halves of a 1 GiB segment).
 * </ul>
 * Single-shot: each iteration is one batch; compare the two scores of a pair.
 *
 * <p>Run from the repository root (needs about 5 GiB of RAM, half of it in /dev/shm):
 * <pre>
 * JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 mvn -q -B -pl cache -am test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=/tmp/cache-cp.txt -Dmdep.includeScope=test
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java --enable-native-access=ALL-UNNAMED \
 *     -cp cache/target/test-classes:cache/target/classes:device/target/classes:$(cat /tmp/cache-cp.txt) \
 *     org.openjdk.jmh.Main StreamBench
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2)
@Measurement(iterations = 6)
public class StreamBench {
    private static final int PAGE = Pages.PAGE_SIZE;
    private static final int REQUEST = 1 << 20;
    private static final long STREAM = 256L << 20;
    private static final long DIRTY = 1L << 30;

    private Path dir;
    private PmemRegion region;
    private CachedPages cached;
    private Arena arena;
    private MemorySegment buffer;
    private MemorySegment target;
    private final long[] request = new long[REQUEST / PAGE];

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path shm = Path.of("/dev/shm");
        dir = Files.createTempDirectory(Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")), "streambench");
        region = PmemRegion.create(dir.resolve("region"), DIRTY + STREAM + (64L << 20), false);
        region.fill(0, region.dataSize(), (byte) 0); // touch every page of the tmpfs file
        cached = new CachedPages(region, CacheConfig.defaults().withCacheBytes(DIRTY + STREAM + (256L << 20))
                .withWatermarks(0.95, 0.9).withWritebackDelay(Duration.ofHours(1)));
        arena = Arena.ofShared();
        buffer = arena.allocate(REQUEST, PAGE);
        buffer.fill((byte) 0x5a);
        target = arena.allocate(DIRTY, PAGE);
        target.fill((byte) 1);
    }

    /** Before each iteration: the cache emptied (its slab keeps the memory). */
    @State(Scope.Benchmark)
    public static class Empty {
        @Setup(Level.Iteration)
        public void empty(StreamBench b) {
            b.dropAll();
        }
    }

    /** Before each iteration: the cache emptied, then the first 1 GiB of pages dirtied. */
    @State(Scope.Benchmark)
    public static class Dirty {
        @Setup(Level.Iteration)
        public void dirty(StreamBench b) {
            b.dropAll();
            b.buffer.fill((byte) (b.buffer.get(ValueLayout.JAVA_BYTE, 0) + 1)); // new bytes each time
            for (long at = 0; at < DIRTY; at += REQUEST) {
                b.cached.write(b.pages(at), null, 0, b.buffer, 0, REQUEST);
            }
        }
    }

    private void dropAll() {
        cached.syncAll();
        for (long p = 0; p < (DIRTY + STREAM) / PAGE; p++) {
            cached.drop(p);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        cached.close();
        region.close();
        arena.close();
        Files.deleteIfExists(dir.resolve("region"));
        Files.deleteIfExists(dir);
    }

    private long[] pages(long at) {
        for (int i = 0; i < request.length; i++) {
            request[i] = at / PAGE + i;
        }
        return request;
    }

    @Benchmark
    public void copyWrite() {
        for (long at = 0; at < STREAM; at += REQUEST) {
            MemorySegment.copy(buffer, 0, target, at, REQUEST);
        }
    }

    @Benchmark
    public void writeNew(Empty e) {
        for (long at = DIRTY; at < DIRTY + STREAM; at += REQUEST) {
            cached.write(pages(at), null, 0, buffer, 0, REQUEST);
        }
    }

    @Benchmark
    public void copy1G() {
        long half = DIRTY / 2;
        MemorySegment.copy(target, 0, target, half, half);
        MemorySegment.copy(target, half, target, 0, half);
    }

    @Benchmark
    public void fsync(Dirty d) {
        cached.syncAll();
    }
}
