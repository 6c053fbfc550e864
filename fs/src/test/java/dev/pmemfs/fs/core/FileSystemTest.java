package dev.pmemfs.fs.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pmemfs.device.CrashingRegion;
import dev.pmemfs.fs.layout.Geometry;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

final class FileSystemTest {
    private CrashingRegion region;
    private FileSystem fs;

    @BeforeEach
    void setUp() {
        region = CrashingRegion.create(32L << 20);
        Format.mkfs(region, 4096, false, p -> { });
        fs = FileSystem.mount(region, MountOptions.defaults());
    }

    @AfterEach
    void tearDown() {
        if (fs != null) {
            fs.close();
        }
        region.close();
    }

    private void remount() {
        fs.close();
        fs = FileSystem.mount(region, MountOptions.defaults());
    }

    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static void write(FileSystem fs, long ino, long pos, byte[] data) {
        try (FileHandle h = fs.open(ino, 2); Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, s, ValueLayout.JAVA_BYTE, 0, data.length);
            assertEquals(data.length, h.write(pos, s, data.length));
        }
    }

    static byte[] read(FileSystem fs, long ino, long pos, int n) {
        try (FileHandle h = fs.open(ino, 0); Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Math.max(1, n));
            int got = h.read(pos, s, n);
            return s.asSlice(0, got).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    @Test
    void createWriteRead_survivesRemount() {
        long f = fs.create(FileSystem.ROOT, "a.txt", 0644, 0, 0);
        byte[] data = bytes(100_000, 1);
        write(fs, f, 0, data);
        assertArrayEquals(data, read(fs, f, 0, data.length));
        long d = fs.mkdir(FileSystem.ROOT, "dir", 0755, 0, 0);
        fs.symlink(d, "link", "../a.txt", 0, 0);
        remount();
        long f2 = fs.resolve("/a.txt");
        assertEquals(f, f2);
        assertArrayEquals(data, read(fs, f2, 0, data.length));
        assertEquals("../a.txt", fs.readlink(fs.resolve("/dir/link")));
        assertEquals(List.of("a.txt", "dir"), fs.readdir(FileSystem.ROOT).stream().map(FileSystem.DirEntry::name).sorted().toList());
    }

    @Test
    void sparseFile_overFourGiB_readsZerosInHoles() {
        FileSystem big = fs;
        long f = big.create(FileSystem.ROOT, "sparse", 0644, 0, 0);
        long far = 5L << 30;
        byte[] data = bytes(5000, 2);
        write(big, f, far, data);
        assertEquals(far + data.length, big.getattr(f).size());
        assertArrayEquals(data, read(big, f, far, data.length));
        assertArrayEquals(new byte[4096], read(big, f, 1L << 30, 4096));
        remount();
        assertArrayEquals(data, read(fs, f, far, data.length));
        fs.truncate(f, 10);
        assertEquals(10, fs.getattr(f).size());
    }

    @Test
    void errors_matchPosix() {
        long d = fs.mkdir(FileSystem.ROOT, "d", 0755, 0, 0);
        fs.create(d, "x", 0644, 0, 0);
        assertEquals(Errno.EEXIST, assertThrows(FsException.class, () -> fs.mkdir(FileSystem.ROOT, "d", 0755, 0, 0)).errno());
        assertEquals(Errno.ENOTEMPTY, assertThrows(FsException.class, () -> fs.rmdir(FileSystem.ROOT, "d")).errno());
        assertEquals(Errno.EISDIR, assertThrows(FsException.class, () -> fs.unlink(FileSystem.ROOT, "d")).errno());
        assertEquals(Errno.ENOTDIR, assertThrows(FsException.class, () -> fs.resolve("/d/x/y")).errno());
        assertEquals(Errno.ENAMETOOLONG, assertThrows(FsException.class, () -> fs.create(d, "n".repeat(256), 0644, 0, 0)).errno());
        assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> fs.rename(FileSystem.ROOT, "d", d, "sub", 0)).errno());
        assertEquals(Errno.EPERM, assertThrows(FsException.class, () -> fs.link(d, FileSystem.ROOT, "dl")).errno());
        fs.create(d, "n".repeat(255), 0644, 0, 0);
    }

    @Test
    void unlinkOpenFile_keepsDataUntilClose() {
        long f = fs.create(FileSystem.ROOT, "f", 0644, 0, 0);
        byte[] data = bytes(10_000, 3);
        write(fs, f, 0, data);
        long free0 = fs.statfs().freeBlocks();
        try (FileHandle h = fs.open(f, 0); Arena a = Arena.ofConfined()) {
            fs.unlink(FileSystem.ROOT, "f");
            MemorySegment s = a.allocate(data.length);
            assertEquals(data.length, h.read(0, s, data.length));
            assertArrayEquals(data, s.toArray(ValueLayout.JAVA_BYTE));
        }
        fs.sync();
        assertTrue(fs.statfs().freeBlocks() > free0, "blocks freed after the last close");
    }

    @Test
    void largeDirectory_lookupAndRemount() {
        long d = fs.mkdir(FileSystem.ROOT, "big", 0755, 0, 0);
        long target = fs.create(d, "target", 0644, 0, 0);
        for (int i = 0; i < 20_000; i++) {
            fs.link(target, d, "name-" + i);
        }
        remount();
        assertEquals(target, fs.lookup(d, "name-19999"));
        assertEquals(20_001, fs.readdir(d).size());
        assertEquals(20_001, fs.getattr(target).nlink());
    }

    @Test
    void fillRegion_enospcThenFreeAgain() {
        long f = fs.create(FileSystem.ROOT, "fill", 0644, 0, 0);
        byte[] chunk = bytes(128 * 1024, 4);
        long pos = 0;
        FsException full = null;
        try {
            while (pos < (64L << 20)) {
                write(fs, f, pos, chunk);
                pos += chunk.length;
            }
        } catch (FsException e) {
            full = e;
        }
        assertTrue(full != null && full.errno() == Errno.ENOSPC, "ENOSPC expected");
        fs.unlink(FileSystem.ROOT, "fill");
        fs.sync();
        long g = fs.create(FileSystem.ROOT, "again", 0644, 0, 0);
        write(fs, g, 0, chunk);
        remount();
        assertArrayEquals(chunk, read(fs, g, 0, chunk.length));
        assertEquals(Geometry.BLOCK, fs.statfs().blockSize());
    }
}
