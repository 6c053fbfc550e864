package dev.pmemfs.cache.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * How fast 1 GiB moves from 16 MiB native chunks (as {@code PageSlab} holds pages) into a
 * file mapped from /dev/shm (as the region is), by copy size, against one plain 1 GiB copy in
 * the same round; thread CPU time. It shows why write-back copies runs of pages at once: here
 * copies of up to 2 MiB ran at about 0.6 of the plain copy and copies of 4 MiB and more at
 * about 0.9. Run from the repository root:
 * <pre>
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -cp cache/target/test-classes dev.pmemfs.cache.bench.CopySizes [rounds]
 * </pre>
 */
public final class CopySizes {
    private static final long MIB = 1 << 20;
    private static final long GIB = 1L << 30;
    private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

    private CopySizes() {
    }

    public static void main(String[] args) throws IOException {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Path file = Files.createTempFile(Path.of("/dev/shm"), "copysizes", ".region");
        try (Arena arena = Arena.ofShared();
             FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ch.truncate(GIB);
            MemorySegment region = ch.map(FileChannel.MapMode.READ_WRITE, 0, GIB, arena);
            region.fill((byte) 0);
            MemorySegment[] chunks = new MemorySegment[(int) (GIB / (16 * MIB))];
            for (int i = 0; i < chunks.length; i++) {
                chunks[i] = arena.allocate(16 * MIB, 4096);
                chunks[i].fill((byte) 2);
            }
            MemorySegment plain = arena.allocate(GIB, 4096);
            plain.fill((byte) 1);
            long[] sizes = {4096, 64 * 1024, MIB, 2 * MIB, 4 * MIB, 16 * MIB};
            for (int r = 0; r < rounds; r++) {
                long t0 = CPU.getCurrentThreadCpuTime();
                MemorySegment.copy(plain, 0, plain, GIB / 2, GIB / 2);
                MemorySegment.copy(plain, GIB / 2, plain, 0, GIB / 2);
                long base = CPU.getCurrentThreadCpuTime() - t0;
                StringBuilder line = new StringBuilder(String.format("plain 1 GiB copy %d ms;", base / 1_000_000));
                for (long size : sizes) {
                    t0 = CPU.getCurrentThreadCpuTime();
                    for (int c = 0; c < chunks.length; c++) {
                        for (long at = 0; at < 16 * MIB; at += size) {
                            MemorySegment.copy(chunks[c], at, region, c * 16 * MIB + at, size);
                        }
                    }
                    long t = CPU.getCurrentThreadCpuTime() - t0;
                    line.append(String.format(" %d KiB: %d ms (%.2f)", size / 1024, t / 1_000_000, (double) base / t));
                }
                System.out.println(line);
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
