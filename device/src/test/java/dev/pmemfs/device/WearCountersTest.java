package dev.pmemfs.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class WearCountersTest {
    private static final long SIZE = Region.MIN_SIZE;
    private static final int B = Region.BLOCK_SIZE;

    @TempDir
    Path dir;

    @Test
    void count_knownPattern_isExact() {
        try (CrashingRegion r = CrashingRegion.create(SIZE); Arena arena = Arena.ofConfined()) {
            r.write(0, new byte[B], 0, B);                 // block 0
            r.write(B - 1, new byte[2], 0, 2);             // blocks 0 and 1
            r.write(10L * B, arena.allocate(2 * B + 1), 0, 2 * B + 1); // blocks 10, 11, 12
            r.putLong(10L * B + 8, 1);                     // block 10
            r.fill(5L * B + 100, 1, (byte) 1);             // block 5
            r.fill(6L * B, 0, (byte) 1);                   // nothing: zero bytes
            r.persist(0, B);
            r.persist(0, 0);
            WearCounters w = r.wear();
            assertEquals(B + 2 + 2 * B + 1 + 8 + 1, w.bytesWritten());
            assertEquals(5, w.stores());
            assertEquals(2, w.persists());
            assertEquals(2, w.blockWrites(0));
            assertEquals(1, w.blockWrites(1));
            assertEquals(0, w.blockWrites(2));
            assertEquals(1, w.blockWrites(5));
            assertEquals(0, w.blockWrites(6));
            assertEquals(2, w.blockWrites(10));
            assertEquals(1, w.blockWrites(11));
            assertEquals(1, w.blockWrites(12));
            assertEquals(0, w.mostWrittenBlock(), "lowest of the tied blocks 0 and 10");
            long blocks = SIZE / B;
            assertEquals(blocks, w.blocks());
            assertArrayEquals(new long[] {blocks - 6, 4, 2}, w.histogram());
        }
    }

    @Test
    void count_hotBlock_isTheMostWritten() {
        try (CrashingRegion r = CrashingRegion.create(SIZE)) {
            for (int i = 0; i < 1000; i++) {
                r.putLong(77L * B + (i % 512) * 8, i);
            }
            r.putLong(3L * B, 1);
            WearCounters w = r.wear();
            assertEquals(77, w.mostWrittenBlock());
            assertEquals(1000, w.blockWrites(77));
            assertEquals(8 * 1001, w.bytesWritten());
            long[] h = w.histogram();
            assertEquals(11, h.length, "1000 falls in [512, 1023]");
            assertEquals(1, h[10]);
            assertEquals(1, h[1]);
        }
    }

    @Test
    void count_randomStores_matchesAModel() {
        Random random = new Random(7);
        try (CrashingRegion r = CrashingRegion.create(SIZE)) {
            long[] model = new long[(int) (SIZE / B)];
            long bytes = 0;
            for (int i = 0; i < 2000; i++) {
                int length = 1 + random.nextInt(random.nextBoolean() ? 64 : 3 * B);
                long offset = (long) random.nextInt(64) * B + random.nextInt(B); // 64 hot blocks

                r.write(offset, new byte[length], 0, length);
                bytes += length;
                for (long b = offset / B; b <= (offset + length - 1) / B; b++) {
                    model[(int) b]++;
                }
                if (i % 100 == 0) {
                    assertArrayEquals(model, r.wear().blockWrites(), "after " + i + " stores");
                    int b = random.nextInt(70);
                    assertEquals(model[b], r.wear().blockWrites(b), "block " + b);
                }
            }
            assertEquals(bytes, r.wear().bytesWritten());
            assertEquals(2000, r.wear().stores());
        }
    }

    @Test
    void count_concurrentStores_losesNone() throws InterruptedException {
        try (CrashingRegion r = CrashingRegion.create(SIZE)) {
            Thread[] threads = new Thread[4];
            for (int t = 0; t < threads.length; t++) {
                int slot = t;
                threads[t] = new Thread(() -> {
                    for (int i = 0; i < 10_000; i++) {
                        r.putLong(slot * 8L, i); // the same block from every thread
                    }
                });
                threads[t].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            assertEquals(40_000, r.wear().blockWrites(0));
            assertEquals(320_000, r.wear().bytesWritten());
        }
    }

    @Test
    void counters_surviveCloseAndReopen() throws IOException {
        Path file = dir.resolve("r");
        try (PmemRegion r = PmemRegion.create(file, SIZE, false)) {
            r.write(3L * B, new byte[B + 1], 0, B + 1);
            r.persist(0, B);
        }
        try (PmemRegion r = PmemRegion.open(file)) {
            WearCounters w = r.wear();
            assertEquals(B + 1, w.bytesWritten());
            assertEquals(1, w.stores());
            assertEquals(1, w.persists());
            assertEquals(1, w.blockWrites(3));
            assertEquals(1, w.blockWrites(4));
            r.putLong(3L * B, 1);
        }
        try (PmemRegion r = PmemRegion.open(file)) {
            assertEquals(B + 1 + 8, r.wear().bytesWritten());
            assertEquals(2, r.wear().blockWrites(3));
            assertEquals(3, r.wear().mostWrittenBlock());
        }
    }

    @Test
    void read_unopenedRegionFile_givesLifetimeCounters() throws IOException {
        Path file = dir.resolve("r");
        try (PmemRegion r = PmemRegion.create(file, SIZE, false)) {
            r.fill(0, 3 * B, (byte) 1);
            r.persist(0, 3 * B);
            r.persist(0, 3 * B);
        }
        WearCounters w = WearCounters.read(file);
        assertEquals(3 * B, w.bytesWritten());
        assertEquals(2, w.persists());
        assertEquals(1, w.blockWrites(2));
        assertEquals(SIZE / B, w.blocks());
        // it takes no lock: it works while the region is open, and the region stays locked
        try (PmemRegion r = PmemRegion.open(file)) {
            assertEquals(3 * B, WearCounters.read(file).bytesWritten());
            assertThrows(RegionException.class, () -> PmemRegion.open(file));
            r.putLong(0, 1);
        }
        assertEquals(3 * B + 8, WearCounters.read(file).bytesWritten());
    }

    @Test
    void read_regionNeverSaved_readsZeros() throws IOException {
        Path file = dir.resolve("r");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(1), SIZE - 1);
        }
        WearCounters w = WearCounters.read(file);
        assertEquals(0, w.bytesWritten());
        assertArrayEquals(new long[] {SIZE / B}, w.histogram());
    }

    @Test
    void read_tornLatestSave_readsThePreviousOne() throws IOException {
        Path file = dir.resolve("r");
        try (PmemRegion r = PmemRegion.create(file, SIZE, false)) {
            r.putLong(0, 1);
            r.saveWear(); // save 1: copy 0
            r.putLong(0, 2);
            r.saveWear(); // save 2: copy 1
            assertEquals(2, r.wear().saveSequence());
        }
        // close saved a third time, into copy 0; tear that one (a crash in the middle of the save)
        long copy0 = SIZE - WearCounters.areaSize(SIZE);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {9}), copy0 + WearCounters.HEADER + 5);
        }
        WearCounters w = WearCounters.read(file);
        assertEquals(2, w.saveSequence());
        assertEquals(16, w.bytesWritten());
        assertEquals(2, w.blockWrites(0));
    }

    @Test
    void read_damagedArea_readsZeros() throws IOException {
        Path file = dir.resolve("r");
        try (PmemRegion r = PmemRegion.create(file, SIZE, false)) {
            r.putLong(0, 1);
        }
        long counter = SIZE - WearCounters.areaSize(SIZE) + WearCounters.HEADER; // copy 0, the only one saved
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {9}), counter); // block 0's counter, outside the header
        }
        assertEquals(0, WearCounters.read(file).bytesWritten());
        try (PmemRegion r = PmemRegion.open(file)) {
            assertEquals(0, r.wear().bytesWritten(), "a damaged area starts from zero");
        }
    }

    @Test
    void read_errors_areOneLine() {
        Path missing = dir.resolve("missing");
        assertEquals("region " + missing + ": no such file or device",
                assertThrows(RegionException.class, () -> WearCounters.read(missing)).getMessage());
        assertEquals("region " + dir + ": is a directory",
                assertThrows(RegionException.class, () -> WearCounters.read(dir)).getMessage());
    }

    @Test
    void layout_sizesAndOffsetsArePinned() throws IOException {
        assertEquals(4096, WearCounters.HEADER);
        assertEquals(8, WearCounters.COUNTER_SIZE);
        assertEquals(2, WearCounters.VERSION);
        assertEquals(0, WearCounters.OFF_MAGIC);
        assertEquals(8, WearCounters.OFF_VERSION);
        assertEquals(12, WearCounters.OFF_CRC);
        assertEquals(16, WearCounters.OFF_REGION_SIZE);
        assertEquals(24, WearCounters.OFF_BLOCKS);
        assertEquals(32, WearCounters.OFF_BYTES);
        assertEquals(40, WearCounters.OFF_PERSISTS);
        assertEquals(48, WearCounters.OFF_STORES);
        assertEquals(56, WearCounters.OFF_SEQUENCE);
        assertEquals(2 * (4096 + 32768), WearCounters.areaSize(16L << 20));            // 4096 blocks
        assertEquals(2 * (4096 + 8 * 4096 + 4096), WearCounters.areaSize((16L << 20) + 4096)); // 4097 blocks
        assertEquals(2 * (4096 + 6L * 1024 * 1024), WearCounters.areaSize(3L << 30));   // 786432 blocks
        try (CrashingRegion r = CrashingRegion.create(Region.MIN_SIZE)) {
            assertEquals(Region.MIN_SIZE - 2 * (4096 + 32768), r.dataSize());
        }

        Path file = dir.resolve("r");
        try (PmemRegion r = PmemRegion.create(file, SIZE, false)) {
            r.write(B, new byte[3], 0, 3);
            r.persist(0, 1);
        }
        ByteBuffer area = ByteBuffer.allocate((int) WearCounters.areaSize(SIZE)).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(file)) {
            ch.read(area, SIZE - area.capacity());
        }
        assertEquals("PMEMWEAR", new String(area.array(), 0, 8, StandardCharsets.US_ASCII));
        assertEquals(2, area.getInt(8));
        assertEquals(1, area.getLong(56)); // the first save, in copy 0
        assertEquals(SIZE, area.getLong(16));
        assertEquals(SIZE / B, area.getLong(24));
        assertEquals(3, area.getLong(32));
        assertEquals(1, area.getLong(40));
        assertEquals(1, area.getLong(48));
        assertEquals(0, area.getLong(4096));
        assertEquals(1, area.getLong(4096 + 8));
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(area.array(), 16, area.capacity() / 2 - 16);
        assertEquals((int) crc.getValue(), area.getInt(12));
        assertEquals(0, area.getLong(area.capacity() / 2), "copy 1 is not written yet");
    }

    @Test
    void bucketLabel_namesPowerOfTwoRanges() {
        assertEquals("0", WearCounters.bucketLabel(0));
        assertEquals("1", WearCounters.bucketLabel(1));
        assertEquals("2-3", WearCounters.bucketLabel(2));
        assertEquals("512-1023", WearCounters.bucketLabel(10));
        assertEquals("9223372036854775808-18446744073709551615", WearCounters.bucketLabel(64));
    }

    @Test
    void read_ofMemorySegmentImage_matchesTheFile() throws IOException {
        Path file = dir.resolve("r");
        try (PmemRegion r = PmemRegion.create(file, SIZE, false)) {
            r.putLong(B * 9L, 1);
        }
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file)) {
            MemorySegment image = ch.map(FileChannel.MapMode.READ_ONLY, 0, SIZE, arena);
            assertEquals(1, WearCounters.read(image).blockWrites(9));
        }
    }
}
