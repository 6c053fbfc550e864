package dev.pmemfs.device.bench;

import dev.pmemfs.device.PmemRegion;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * The ratio of {@link RegionCopyBench}, measured so that a busy machine cannot skew it: short
 * batches of region copies and plain copies alternate (which one goes first alternates too),
 * and the median of the per-pair ratios plain-time / region-time is reported. JMH measures the
 * two benchmarks minutes apart, so load from other processes lands on one and not the other.
 * Run from the repository root after the classpath step of {@link RegionCopyBench}:
 * <pre>
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java --enable-native-access=ALL-UNNAMED -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
 *     -cp device/target/test-classes:device/target/classes:$(cat device/target/test.cp) \
 *     dev.pmemfs.device.bench.RegionCopyPaired
 * </pre>
 */
public final class RegionCopyPaired {
    private static final long REGION_SIZE = 64L << 20;
    private static final long WINDOW = 16L << 20;
    private static final int ROUNDS = 3000;
    private static final int WARMUP_ROUNDS = 500;

    private RegionCopyPaired() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Files.createTempDirectory(Path.of(Files.isDirectory(Path.of("/dev/shm")) ? "/dev/shm" : System.getProperty("java.io.tmpdir")), "regionpaired");
        Path file = dir.resolve("region");
        try (PmemRegion region = PmemRegion.create(file, REGION_SIZE, false); Arena arena = Arena.ofShared();
                FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment plain = ch.map(FileChannel.MapMode.READ_WRITE, 0, REGION_SIZE, arena);
            plain.asSlice(0, WINDOW).fill((byte) 1);
            for (int size : new int[] {4096, 131072}) {
                MemorySegment buffer = arena.allocate(size, 4096);
                int batch = (int) Math.max(16, (8L << 20) / size / 16);
                double[] write = new double[ROUNDS - WARMUP_ROUNDS];
                double[] read = new double[ROUNDS - WARMUP_ROUNDS];
                long offset = 0;
                for (int round = 0; round < ROUNDS; round++) {
                    long[] t = new long[4];
                    for (int k = 0; k < 4; k++) {
                        int which = round % 2 == 0 ? k : k ^ 1; // 0 region write, 1 plain write, 2 region read, 3 plain read
                        long start = System.nanoTime();
                        for (int i = 0; i < batch; i++) {
                            switch (which) {
                                case 0 -> region.write(offset, buffer, 0, size);
                                case 1 -> MemorySegment.copy(buffer, 0, plain, offset, size);
                                case 2 -> region.read(offset, buffer, 0, size);
                                default -> MemorySegment.copy(plain, offset, buffer, 0, size);
                            }
                            offset = (offset + size) & (WINDOW - 1);
                        }
                        t[which] = System.nanoTime() - start;
                    }
                    if (round >= WARMUP_ROUNDS) {
                        write[round - WARMUP_ROUNDS] = t[1] / (double) t[0];
                        read[round - WARMUP_ROUNDS] = t[3] / (double) t[2];
                    }
                }
                System.out.printf("size %6d: region/plain throughput, median of %d pairs: write %.3f, read %.3f%n",
                        size, write.length, median(write), median(read));
            }
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
