package dev.pmemfs.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class PmemRegionTest {
    private static final long SIZE = Region.MIN_SIZE;

    @TempDir
    Path dir;

    @Test
    void create_writesReadBackAfterReopen() throws IOException {
        Path file = dir.resolve("r");
        byte[] data = "hello, pmem".getBytes(StandardCharsets.UTF_8);
        try (PmemRegion r = PmemRegion.create(file, SIZE, false)) {
            assertEquals(SIZE, r.size());
            assertEquals(SIZE - WearCounters.areaSize(SIZE), r.dataSize());
            r.write(12345, data, 0, data.length);
            r.putLong(8, 0x1122334455667788L);
            r.persist(0, r.dataSize());
        }
        assertEquals(SIZE, Files.size(file));
        try (PmemRegion r = PmemRegion.open(file)) {
            byte[] back = new byte[data.length];
            r.read(12345, back, 0, back.length);
            assertArrayEquals(data, back);
            assertEquals(0x1122334455667788L, r.getLong(8));
            assertEquals(0x55667788, r.getInt(8));
        }
    }

    @Test
    void write_copiesToAndFromNativeMemory() throws IOException {
        try (PmemRegion r = PmemRegion.create(dir.resolve("r"), SIZE, false); Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(128 << 10);
            for (int i = 0; i < src.byteSize(); i++) {
                src.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31));
            }
            r.write(4096 * 7 + 3, src, 0, src.byteSize());
            MemorySegment dst = arena.allocate(src.byteSize());
            r.read(4096 * 7 + 3, dst, 0, dst.byteSize());
            assertEquals(-1, src.mismatch(dst));
            assertEquals(-1, r.view(4096 * 7 + 3, src.byteSize()).mismatch(src));
        }
    }

    @Test
    void access_outsideDataArea_throws() throws IOException {
        try (PmemRegion r = PmemRegion.create(dir.resolve("r"), SIZE, false)) {
            assertThrows(IndexOutOfBoundsException.class, () -> r.putLong(r.dataSize() - 4, 1));
            assertThrows(IndexOutOfBoundsException.class, () -> r.fill(-1, 2, (byte) 0));
            assertThrows(IndexOutOfBoundsException.class, () -> r.view(r.dataSize(), 1));
        }
    }

    @Test
    void create_over2GiB_readsBackTheFarEnd() throws IOException {
        // 3 GiB, every byte reserved on the file system (RegionSpace); on a disk file system that is an extent allocation
        long size = 3L << 30;
        Path file = dir.resolve("big");
        byte[] data = new byte[4096];
        java.util.Arrays.fill(data, (byte) 0x7e);
        long far;
        try (PmemRegion r = PmemRegion.create(file, size, false)) {
            far = r.dataSize() - data.length;
            assertTrue(far > Integer.MAX_VALUE, "beyond 2 GiB");
            r.write(far, data, 0, data.length);
            r.putLong(0, 42);
            r.persist(far, data.length);
        }
        try (PmemRegion r = PmemRegion.open(file)) {
            assertEquals(size, r.size());
            byte[] back = new byte[data.length];
            r.read(far, back, 0, back.length);
            assertArrayEquals(data, back);
            assertEquals(42, r.getLong(0));
            assertEquals(1, r.wear().blockWrites(far / Region.BLOCK_SIZE));
        }
        assertTrue(allocated(file) >= size, "not every byte reserved: " + allocated(file) + " of " + size);
    }

    /** Bytes the file system has allocated to {@code file} ({@code stat}'s blocks). */
    private static long allocated(Path file) throws IOException {
        Process stat = new ProcessBuilder("stat", "-c", "%b*%B", file.toString()).start();
        String[] blocks = new String(stat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim().split("\\*");
        return Long.parseLong(blocks[0]) * Long.parseLong(blocks[1]);
    }

    /** A sparse region file (made by an older pmemfs, or by truncate) has its holes backed when it is opened. */
    @Test
    void open_sparseFile_reservesItsHoles() throws IOException {
        Path file = dir.resolve("sparse");
        PmemRegion.create(file, SIZE, false).close();
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(4 * SIZE); // the tail is a hole
        }
        assertTrue(allocated(file) < 4 * SIZE, "the test needs a hole: " + allocated(file));
        PmemRegion.open(file).close();
        assertTrue(allocated(file) >= 4 * SIZE, "holes left: " + allocated(file) + " of " + 4 * SIZE);
    }

    /**
     * On a file system too small for the region (a 16 MiB tmpfs, mounted for the test: root
     * only), mkfs is refused with one line and leaves no file; a sparse region file there is
     * refused at open, and left as it was. Before, the region was created sparse and a store into
     * a hole faulted once the tmpfs was full (SIGBUS, after the application's write succeeded).
     */
    @Test
    void fileSystemTooSmall_refusedAtCreateAndOpen() throws IOException, InterruptedException {
        assumeTrue("root".equals(System.getProperty("user.name")), "mounts a tmpfs: root only");
        Path small = Files.createDirectory(dir.resolve("small"));
        assumeTrue(new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", small.toString())
                .inheritIO().start().waitFor() == 0, "mount -t tmpfs failed");
        try {
            Path file = small.resolve("r");
            RegionException e = assertThrows(RegionException.class, () -> PmemRegion.create(file, 4 * SIZE, false));
            assertTrue(e.getMessage().contains("does not fit on its file system"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertFalse(Files.exists(file), "a refused create leaves no file");
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(4 * SIZE);
                raf.seek(100);
                raf.write(7);
            }
            e = assertThrows(RegionException.class, () -> PmemRegion.open(file));
            assertTrue(e.getMessage().contains("sparse file") && e.getMessage().contains("free space there"), e.getMessage());
            assertEquals(4 * SIZE, Files.size(file), "the refused file is left as it was");
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
                raf.seek(100);
                assertEquals(7, raf.read());
            }
        } finally {
            new ProcessBuilder("umount", "-l", small.toString()).inheritIO().start().waitFor();
        }
    }

    @Test
    void open_missingPath_saysNoSuchFile() {
        Path file = dir.resolve("missing");
        RegionException e = assertThrows(RegionException.class, () -> PmemRegion.open(file));
        assertEquals("region " + file + ": no such file or device", e.getMessage());
        assertFalse(Files.exists(file));
    }

    @Test
    void open_directory_saysIsADirectory() {
        RegionException e = assertThrows(RegionException.class, () -> PmemRegion.open(dir));
        assertEquals("region " + dir + ": is a directory", e.getMessage());
    }

    @Test
    void create_directoryWithReplace_saysIsADirectory() {
        RegionException e = assertThrows(RegionException.class, () -> PmemRegion.create(dir, SIZE, true));
        assertEquals("region " + dir + ": is a directory", e.getMessage());
        assertTrue(Files.isDirectory(dir));
    }

    @Test
    void create_tooSmall_refusesAndLeavesNoFile() {
        Path file = dir.resolve("small");
        RegionException e = assertThrows(RegionException.class, () -> PmemRegion.create(file, 1L << 20, false));
        assertEquals("region " + file + ": size 1 MiB is smaller than the minimum 16 MiB", e.getMessage());
        assertFalse(Files.exists(file));
    }

    @Test
    void create_sizeNotBlockMultiple_refusesAndLeavesNoFile() {
        Path file = dir.resolve("odd");
        RegionException e = assertThrows(RegionException.class, () -> PmemRegion.create(file, SIZE + 100, false));
        assertEquals("region " + file + ": size " + (SIZE + 100) + " is not a multiple of 4096", e.getMessage());
        assertFalse(Files.exists(file));
    }

    @Test
    void open_tooSmallFile_refusesAndKeepsIt() throws IOException {
        Path file = dir.resolve("small");
        Files.write(file, new byte[8192]);
        RegionException e = assertThrows(RegionException.class, () -> PmemRegion.open(file));
        assertEquals("region " + file + ": size 8 KiB is smaller than the minimum 16 MiB", e.getMessage());
        assertEquals(8192, Files.size(file));
    }

    @Test
    void open_sizeNotBlockMultiple_refusesAndKeepsIt() throws IOException {
        Path file = dir.resolve("odd");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(SIZE + 1);
        }
        RegionException e = assertThrows(RegionException.class, () -> PmemRegion.open(file));
        assertEquals("region " + file + ": size " + (SIZE + 1) + " is not a multiple of 4096", e.getMessage());
        assertEquals(SIZE + 1, Files.size(file));
    }

    @Test
    void create_existingWithoutReplace_refusesAndLeavesFileUntouched() throws IOException {
        Path file = dir.resolve("r");
        byte[] content = "not a region, and not ours".getBytes(StandardCharsets.UTF_8);
        Files.write(file, content);
        RegionException e = assertThrows(RegionException.class, () -> PmemRegion.create(file, SIZE, false));
        assertEquals("region " + file + ": already exists (use --force to overwrite it)", e.getMessage());
        assertArrayEquals(content, Files.readAllBytes(file));
    }

    @Test
    void create_existingWithReplace_resizes() throws IOException {
        Path file = dir.resolve("r");
        Files.write(file, new byte[100]);
        try (PmemRegion r = PmemRegion.create(file, 2 * SIZE, true)) {
            assertEquals(2 * SIZE, r.size());
        }
        assertEquals(2 * SIZE, Files.size(file));
    }

    @Test
    void open_secondOpenerInSameJvm_isRefusedUntilClose() throws IOException {
        Path file = dir.resolve("r");
        try (PmemRegion first = PmemRegion.create(file, SIZE, false)) {
            RegionException e = assertThrows(RegionException.class, () -> PmemRegion.open(file));
            assertEquals("region " + file + ": already in use (locked by another pmemfs)", e.getMessage());
            RegionException c = assertThrows(RegionException.class, () -> PmemRegion.create(file, SIZE, true));
            assertEquals("region " + file + ": already in use (locked by another pmemfs)", c.getMessage());
            first.putLong(0, 7); // the refused openers did not disturb the first
            assertEquals(SIZE, Files.size(file));
        }
        try (PmemRegion again = PmemRegion.open(file)) {
            assertEquals(7, again.getLong(0));
        }
    }

    @Test
    void open_secondOpenerInAnotherProcess_isRefused() throws Exception {
        Path file = dir.resolve("r");
        try (PmemRegion first = PmemRegion.create(file, SIZE, false)) {
            SecondProcess.Result r = SecondProcess.run("open", file.toString());
            assertEquals(1, r.exit(), r.output());
            assertEquals("region " + file + ": already in use (locked by another pmemfs)", lastLine(r.output()));
            first.putLong(0, 1);
        }
        SecondProcess.Result r = SecondProcess.run("open", file.toString());
        assertEquals(0, r.exit(), r.output());
        assertEquals("OPENED " + SIZE, lastLine(r.output()));
    }

    @Test
    void open_otherDescriptorOfTheFileClosedInThisJvm_keepsTheLock() throws Exception {
        // a POSIX record lock (FileChannel.tryLock) would be dropped by these closes
        Path file = dir.resolve("r");
        try (PmemRegion first = PmemRegion.create(file, SIZE, false)) {
            WearCounters.read(file);
            assertEquals(SIZE, Files.readAllBytes(file).length);
            SecondProcess.Result r = SecondProcess.run("open", file.toString());
            assertEquals(1, r.exit(), r.output());
            assertEquals("region " + file + ": already in use (locked by another pmemfs)", lastLine(r.output()));
            first.putLong(0, 1);
        }
    }

    @Test
    void open_withoutPermission_saysPermissionDenied() throws Exception {
        List<String> asNobody = List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups");
        assumeTrue(new ProcessBuilder(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "true"))
                .start().waitFor() == 0, "setpriv cannot switch to nobody here");
        Path cpDir = Files.createDirectory(dir.resolve("cp"));
        String cp = SecondProcess.worldReadableClasspath(cpDir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path file = dir.resolve("r");
        PmemRegion.create(file, SIZE, false).close();
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));

        SecondProcess.Result open = SecondProcess.run(asNobody, cp, "open", file.toString());
        assertEquals(1, open.exit(), open.output());
        assertEquals("region " + file + ": permission denied", lastLine(open.output()));

        Path created = dir.resolve("new"); // dir is not writable by nobody
        SecondProcess.Result create = SecondProcess.run(asNobody, cp, "create", created.toString(), Long.toString(SIZE));
        assertEquals(1, create.exit(), create.output());
        assertEquals("region " + created + ": permission denied", lastLine(create.output()));
        assertFalse(Files.exists(created));
        assertEquals(SIZE, Files.size(file));
    }

    @Test
    void create_failingAfterCreatingTheFile_deletesIt() throws Exception {
        // a file size limit below the region size makes the sparse extension fail with EFBIG
        Path file = dir.resolve("r");
        SecondProcess.Result r = SecondProcess.run(List.of("sh", "-c", "ulimit -f 1024 && exec \"$0\" \"$@\""),
                System.getProperty("java.class.path"), "create", file.toString(), Long.toString(SIZE));
        assertEquals(1, r.exit(), r.output());
        assertTrue(lastLine(r.output()).startsWith("region " + file + ": File too large"), r.output());
        assertFalse(Files.exists(file));
    }

    @Test
    void open_logsHowPersistWorks() throws IOException {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && "tmpfs".equals(Files.getFileStore(shm).type()));
        Path file = Files.createTempFile(shm, "pmemfs-test", ".region");
        Files.delete(file);
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            try (PmemRegion r = PmemRegion.create(file, SIZE, false)) {
                assertEquals(PmemRegion.PersistMode.MSYNC, r.persistMode());
                r.putLong(0, 1);
                r.persist(0, 8);
            }
        } finally {
            System.setErr(err);
            Files.deleteIfExists(file);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("region " + file + ": 16 MiB mapped, persist by msync (MAP_SYNC not supported here: tmpfs, emulated pmem)"), log);
        assertEquals(1, log.lines().filter(l -> l.contains("persist by")).count(), log);
    }

    @Test
    void describe_namesEachPersistMode() {
        assertEquals("cache-line write-back (MAP_SYNC)", PmemRegion.describe(PmemRegion.PersistMode.MAP_SYNC, false));
        assertEquals("msync (MAP_SYNC not supported here)", PmemRegion.describe(PmemRegion.PersistMode.MSYNC, false));
        assertEquals("msync (MAP_SYNC not supported here: tmpfs, emulated pmem)", PmemRegion.describe(PmemRegion.PersistMode.MSYNC, true));
    }

    @Test
    void close_twice_isHarmless() throws IOException {
        PmemRegion r = PmemRegion.create(dir.resolve("r"), SIZE, false);
        r.close();
        r.close();
        assertThrows(IllegalStateException.class, () -> r.getLong(0));
    }

    private static String lastLine(String output) {
        List<String> lines = output.lines().toList();
        return lines.isEmpty() ? "" : lines.getLast();
    }
}
