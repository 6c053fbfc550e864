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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

final class FileSystemTest extends MountedFsFixture {
    @BeforeEach
    void setUp() {
        start(32L << 20, MountOptions.defaults());
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
    void largeDirectory_100kEntries_lookupAndRemount() {
        long d = fs.mkdir(FileSystem.ROOT, "big", 0755, 0, 0);
        long[] targets = {fs.create(d, "t0", 0644, 0, 0), fs.create(d, "t1", 0644, 0, 0)};
        for (int i = 0; i < 100_000; i++) {
            fs.link(targets[i % 2], d, "name-" + i);
        }
        assertEquals(targets[1], fs.lookup(d, "name-99999"));
        remount();
        assertEquals(targets[1], fs.lookup(d, "name-99999"));
        assertEquals(targets[0], fs.lookup(d, "name-0"));
        assertEquals(100_002, fs.readdir(d).size());
        assertEquals(50_001, fs.getattr(targets[0]).nlink());
        fs.unlink(d, "name-500");
        assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> fs.lookup(d, "name-500")).errno());
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
        fs.close();
        assertEquals(List.of(), Fsck.check(region, false).problems(), "consistent when full");
        fs = FileSystem.mount(region, MountOptions.defaults());
        fs.unlink(FileSystem.ROOT, "fill");
        fs.sync();
        long g = fs.create(FileSystem.ROOT, "again", 0644, 0, 0);
        write(fs, g, 0, chunk);
        remount();
        assertArrayEquals(chunk, read(fs, g, 0, chunk.length));
        assertEquals(Geometry.BLOCK, fs.statfs().blockSize());
    }

    @Test
    void xattrs_userAndTrusted_persistAndFollowPosixFlags() {
        long f = fs.create(FileSystem.ROOT, "x", 0644, 0, 0);
        Xattrs x = fs.xattrs();
        x.set(f, "user.color", "blue".getBytes(), 0);
        x.set(f, "trusted.t", new byte[] {1, 2, 3}, Xattrs.XATTR_CREATE);
        assertEquals(Errno.EEXIST, assertThrows(FsException.class, () -> x.set(f, "user.color", new byte[0], Xattrs.XATTR_CREATE)).errno());
        assertEquals(Errno.ENODATA, assertThrows(FsException.class, () -> x.set(f, "user.none", new byte[0], Xattrs.XATTR_REPLACE)).errno());
        assertEquals(Errno.EOPNOTSUPP, assertThrows(FsException.class, () -> x.set(f, "bogus.ns", new byte[0], 0)).errno());
        remount();
        Xattrs y = fs.xattrs();
        assertArrayEquals("blue".getBytes(), y.get(f, "user.color"));
        assertEquals(List.of("user.color", "trusted.t"), y.list(f));
        y.remove(f, "user.color");
        assertEquals(Errno.ENODATA, assertThrows(FsException.class, () -> y.get(f, "user.color")).errno());
        assertEquals(Errno.ENOSPC, assertThrows(FsException.class, () -> {
            for (int i = 0; i < 10; i++) {
                y.set(f, "user.big" + i, new byte[1000], 0);
            }
        }).errno());
        assertEquals(List.of(), Fsck.check(closeAndGetRegion(), false).problems());
    }

    private CrashingRegion closeAndGetRegion() {
        fs.close();
        fs = null;
        return region;
    }

    @Test
    void chmodChownUtimens_keepNanoseconds() {
        long f = fs.create(FileSystem.ROOT, "t", 0600, 0, 0);
        fs.chown(f, 1000, -1); // before chmod: a chown clears set-user-ID, as on Linux
        fs.chmod(f, 04755);
        java.time.Instant at = java.time.Instant.ofEpochSecond(1_600_000_000L, 123_456_789);
        fs.utimens(f, at, at.plusNanos(1));
        remount();
        Attr a = fs.getattr(f);
        assertEquals(0104755, a.mode());
        assertEquals(1000, a.uid());
        assertEquals(0, a.gid());
        assertEquals(123_456_789, a.atimeNsec());
        assertEquals(123_456_790, a.mtimeNsec());
        assertEquals(1_600_000_000L, a.mtimeSec());
    }

    @Test
    void statfs_reportsRealFreeSpace() {
        StatFs before = fs.statfs();
        long f = fs.create(FileSystem.ROOT, "s", 0644, 0, 0);
        write(fs, f, 0, bytes(1 << 20, 5));
        StatFs after = fs.statfs();
        // 256 data blocks, 1 single-indirect block (past the 12 direct ones), 1 first block of the root directory
        assertEquals(256 + 1 + 1, before.freeBlocks() - after.freeBlocks());
        assertEquals(1, before.freeInodes() - after.freeInodes());
        assertEquals(FileSystem.NAME_MAX, after.nameMax());
    }

    @Test
    void inodesExhausted_enospc_consistent() {
        int made = 0;
        FsException full = null;
        try {
            for (; made < 100_000; made++) {
                fs.create(FileSystem.ROOT, "i" + made, 0644, 0, 0);
            }
        } catch (FsException e) {
            full = e;
        }
        assertTrue(full != null && full.errno() == Errno.ENOSPC, "ENOSPC when inodes run out");
        fs.unlink(FileSystem.ROOT, "i0");
        fs.create(FileSystem.ROOT, "again", 0644, 0, 0);
        assertEquals(List.of(), Fsck.check(closeAndGetRegion(), false).problems());
    }

    @Test
    void foreignOrCorruptSuperblock_refusesMount() {
        fs.close();
        fs = null;
        region.flipBit(20, 3); // inside the primary superblock: the backup takes over
        FileSystem ok = FileSystem.mount(region, MountOptions.defaults());
        ok.close();
        CrashingRegion blank = CrashingRegion.create(32L << 20);
        try {
            Format.BadRegionException e = assertThrows(Format.BadRegionException.class,
                    () -> FileSystem.mount(blank, MountOptions.defaults()));
            assertTrue(e.getMessage().contains("not a pmemfs region"), e.getMessage());
        } finally {
            blank.close();
        }
        long backup = (region.dataSize() / 4096 - 1) * 4096;
        region.flipBit(20, 3);
        region.flipBit(backup + 20, 3);
        Format.BadRegionException e = assertThrows(Format.BadRegionException.class,
                () -> FileSystem.mount(region, MountOptions.defaults()));
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
    }

    @Test
    void smallWriteToNewBlock_countsOnlyCallerBytes() {
        long f = fs.create(FileSystem.ROOT, "small", 0644, 0, 0);
        long before = fs.stats().cached().userBytes();
        write(fs, f, 100, new byte[6]);
        assertEquals(6, fs.stats().cached().userBytes() - before, "the zero fill of the new block is not user data");
        assertArrayEquals(new byte[106], read(fs, f, 0, 106));
    }
}
