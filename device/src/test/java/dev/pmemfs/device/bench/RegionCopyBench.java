package dev.pmemfs.device.bench;

import dev.pmemfs.device.PmemRegion;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of {@link PmemRegion} copies (bounds check, wear counting, hooks) against a plain
 * {@link MemorySegment#copy} between the same two pieces of memory: a native buffer (as FUSE
 * hands us) and the mapped region file on /dev/shm. The plain copy goes through a second,
 * unlocked mapping of the same file, so both touch the same page-cache pages. Each invocation
 * copies to (or from) the next block-aligned offset of a 16 MiB window, so the working set is
 * the same for both and larger than the L2 cache.
 *
 * <p>Compare {@code writeRegion} with {@code writePlain} and {@code readRegion} with
 * {@code readPlain} for each {@code size} (the names sort so that each pair runs back to back):
 * the target is region / plain throughput >= 0.9.
 * Run from the repository root:
 * <pre>
 * JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 mvn -B -q -pl device test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=target/test.cp -Dmdep.includeScope=test \
 * &amp;&amp; /usr/lib/jvm/temurin-25-jdk-amd64/bin/java --enable-native-access=ALL-UNNAMED \
 *     -cp device/target/test-classes:device/target/classes:$(cat device/target/test.cp) \
 *     org.openjdk.jmh.Main RegionCopyBench -f 1 -wi 3 -i 5 -w 1s -r 1s
 * </pre>
 *
 * <p>Results (2-core VM, /dev/shm, 2025-11 build; the machine was shared with builds at a load
 * average of 7-12, so JMH's errors were +-50-100 % and its ratios meaningless; the paired
 * measurement of {@link RegionCopyPaired} interleaves the two and is what to trust there):
 * <pre>
 *                      write 4 KiB  write 128 KiB  read 4 KiB  read 128 KiB
 * atomic add per block     0.83        0.93          1.00        0.99
 * difference arrays        0.98        0.96-1.02     1.01        1.00
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class RegionCopyBench {
    private static final long REGION_SIZE = 64L << 20;
    private static final long WINDOW = 16L << 20;

    @Param({"4096", "131072"})
    public int size;

    private Path dir;
    private PmemRegion region;
    private Arena arena;
    private FileChannel plainChannel;
    private MemorySegment plain;
    private MemorySegment buffer;
    private long offset;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path shm = Path.of("/dev/shm");
        dir = Files.createTempDirectory(Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")), "regionbench");
        Path file = dir.resolve("region");
        region = PmemRegion.create(file, REGION_SIZE, false);
        arena = Arena.ofShared();
        plainChannel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        plain = plainChannel.map(FileChannel.MapMode.READ_WRITE, 0, REGION_SIZE, arena);
        buffer = arena.allocate(size, 4096);
        buffer.fill((byte) 0x5a);
        plain.asSlice(0, WINDOW).fill((byte) 1); // fault the window in before measuring
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        region.close();
        arena.close();
        plainChannel.close();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    private long next() {
        long o = offset;
        offset = (o + size) & (WINDOW - 1);
        return o;
    }

    @Benchmark
    public void writeRegion() {
        region.write(next(), buffer, 0, size);
    }

    @Benchmark
    public void writePlain() {
        MemorySegment.copy(buffer, 0, plain, next(), size);
    }

    @Benchmark
    public void readRegion() {
        region.read(next(), buffer, 0, size);
    }

    @Benchmark
    public void readPlain() {
        MemorySegment.copy(plain, next(), buffer, 0, size);
    }
}
