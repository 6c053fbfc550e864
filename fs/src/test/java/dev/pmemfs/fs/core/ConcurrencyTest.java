package dev.pmemfs.fs.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pmemfs.device.CrashingRegion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Several threads at once, as FUSE's worker threads call the core: each writes its own
 * interleaved 4 KiB slots of one shared file, reads them back, and creates, renames and
 * deletes files in its own directory. Every read must see the thread's last write of the
 * slot; at the end the file holds every last write and fsck finds nothing.
 */
final class ConcurrencyTest {
    private static final int THREADS = 4;
    private static final int SLOTS = 64;

    @ParameterizedTest
    @EnumSource(value = DaxMode.class, names = {"NEVER", "ALWAYS"})
    @Timeout(120)
    void threads_sharedFileAndOwnDirectories_noLostOrTornWrites(DaxMode mode) throws Exception {
        CrashingRegion region = CrashingRegion.create(64L << 20);
        Format.mkfs(region, 4096, false, p -> { });
        FileSystem fs = FileSystem.mount(region, MountOptions.defaults().withDax(mode).withCache(512L << 10));
        long shared = fs.create(FileSystem.ROOT, "shared", 0644, 0, 0);
        long[][] last = new long[THREADS][SLOTS];
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int id = t;
                futures.add(pool.submit(() -> {
                    work(fs, shared, id, last[id]);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(100, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        for (int t = 0; t < THREADS; t++) {
            for (int s = t; s < SLOTS; s += THREADS) {
                if (last[t][s] != 0) {
                    assertArrayEquals(slot(t, last[t][s]), FileSystemTest.read(fs, shared, (long) s * 4096, 4096), "slot " + s);
                }
            }
        }
        fs.close();
        assertEquals(List.of(), Fsck.check(region, false).problems());
        region.close();
    }

    private static byte[] slot(int thread, long version) {
        byte[] b = new byte[4096];
        java.nio.ByteBuffer.wrap(b).putLong(0, version).putInt(8, thread).putLong(4088, version);
        for (int i = 16; i < 4080; i++) {
            b[i] = (byte) (version + i);
        }
        return b;
    }

    private static void work(FileSystem fs, long shared, int id, long[] last) {
        Random rnd = new Random(id);
        long dir = fs.mkdir(FileSystem.ROOT, "t" + id, 0755, 0, 0);
        try (Arena a = Arena.ofConfined(); FileHandle h = fs.open(shared, 2)) {
            MemorySegment buf = a.allocate(4096);
            for (int i = 1; i <= 600; i++) {
                int s = id + THREADS * rnd.nextInt(SLOTS / THREADS);
                switch (rnd.nextInt(6)) {
                    case 0, 1 -> {
                        byte[] data = slot(id, i);
                        MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, 4096);
                        h.write((long) s * 4096, buf, 4096);
                        last[s] = i;
                    }
                    case 2, 3 -> {
                        if (last[s] != 0) {
                            h.read((long) s * 4096, buf, 4096);
                            assertArrayEquals(slot(id, last[s]), buf.toArray(ValueLayout.JAVA_BYTE), "thread " + id + " slot " + s);
                        }
                    }
                    case 4 -> {
                        String n = "f" + rnd.nextInt(8);
                        try {
                            long f = fs.create(dir, n, 0644, 0, 0);
                            FileSystemTest.write(fs, f, 0, FileSystemTest.bytes(1 + rnd.nextInt(9000), i));
                            fs.rename(dir, n, dir, "g" + rnd.nextInt(4), 0);
                        } catch (FsException e) {
                            assertEquals(Errno.EEXIST, e.errno(), e.getMessage());
                        }
                    }
                    default -> {
                        try {
                            fs.unlink(dir, "g" + rnd.nextInt(4));
                        } catch (FsException e) {
                            assertEquals(Errno.ENOENT, e.errno(), e.getMessage());
                        }
                        if (rnd.nextInt(20) == 0) {
                            h.fsync();
                        }
                    }
                }
            }
        }
    }
}
