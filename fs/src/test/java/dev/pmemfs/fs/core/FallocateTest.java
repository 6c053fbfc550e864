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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * fallocate (mode 0, KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE), SEEK_DATA/SEEK_HOLE, st_blocks,
 * ENOSPC and power failures in the middle of a long fallocate.
 */
final class FallocateTest extends MountedFsFixture {
    private static final int B = Geometry.BLOCK;
    private static final int KEEP = FileSystem.FALLOC_FL_KEEP_SIZE;
    private static final int PUNCH = FileSystem.FALLOC_FL_PUNCH_HOLE | KEEP;
    private static final int ZERO = FileSystem.FALLOC_FL_ZERO_RANGE;

    private void start(DaxMode mode, long size) {
        start(size, MountOptions.defaults().withDax(mode).withCache(1L << 20));
    }

    /** A file whose freed blocks held random bytes: what a fresh allocation must never show. */
    private void leaveGarbage(int blocks) {
        long g = fs.create(FileSystem.ROOT, "garbage", 0644, 0, 0);
        FileSystemTest.write(fs, g, 0, FileSystemTest.bytes(blocks * B, 9));
        fs.unlink(FileSystem.ROOT, "garbage");
        remount(); // the checkpoint makes the freed blocks reusable
    }

    private void assertClean() {
        fs.close();
        fs = null;
        assertEquals(List.of(), Fsck.check(region, false, n -> { }).problems());
        fs = FileSystem.mount(region, opts);
    }

    @ParameterizedTest
    @EnumSource(value = DaxMode.class, names = {"NEVER", "ALWAYS"})
    void mode0_allocatesZeroedBlocks_sizeAndBlocksAsExt4(DaxMode mode) {
        start(mode, 32L << 20);
        leaveGarbage(200);
        long f = fs.create(FileSystem.ROOT, "f", 0644, 0, 0);
        fs.fallocate(f, 0, 10, 100 * B);
        Attr a = fs.getattr(f);
        assertEquals(10 + 100 * B, a.size());
        assertEquals(101 * 8, a.blocks(), "101 data blocks in 512-byte units, indirect blocks not shown");
        assertArrayEquals(new byte[(int) a.size()], FileSystemTest.read(fs, f, 0, (int) a.size()));
        byte[] data = FileSystemTest.bytes(5000, 3);
        FileSystemTest.write(fs, f, 3 * B + 7, data);
        assertEquals(101 * 8, fs.getattr(f).blocks(), "writing into allocated blocks allocates nothing");
        remount();
        assertArrayEquals(data, FileSystemTest.read(fs, f, 3 * B + 7, data.length));
        assertClean();
    }

    @Test
    void keepSize_blocksBeyondSize_fsckCleanAndFreedByTruncate() {
        start(DaxMode.NEVER, 32L << 20);
        long f = fs.create(FileSystem.ROOT, "f", 0644, 0, 0);
        FileSystemTest.write(fs, f, 0, FileSystemTest.bytes(100, 1));
        fs.fallocate(f, KEEP, 0, 600 * B); // past the single indirect block
        assertEquals(100, fs.getattr(f).size());
        assertEquals(600 * 8, fs.getattr(f).blocks());
        assertClean();
        fs.truncate(f, 5000); // growing keeps them, as on ext4
        assertEquals(600 * 8, fs.getattr(f).blocks());
        assertArrayEquals(new byte[4900], FileSystemTest.read(fs, f, 100, 4900));
        fs.truncate(f, 5000); // the same size frees what lies beyond, as ext4 and tmpfs do
        assertEquals(2 * 8, fs.getattr(f).blocks());
        assertClean();
    }

    @ParameterizedTest
    @EnumSource(value = DaxMode.class, names = {"NEVER", "ALWAYS"})
    void punchHole_freesWholeBlocks_zeroesEdges_evenThroughAnOpenHandle(DaxMode mode) {
        start(mode, 32L << 20);
        long f = fs.create(FileSystem.ROOT, "f", 0644, 0, 0);
        byte[] model = FileSystemTest.bytes(40 * B, 5);
        FileSystemTest.write(fs, f, 0, model);
        long free = fs.statfs().freeBlocks();
        try (FileHandle h = fs.open(f, 2); Arena arena = Arena.ofConfined()) {
            fs.fallocate(f, PUNCH, 1000, 20 * B); // blocks 1..19 whole, edges in 0 and 20
            java.util.Arrays.fill(model, 1000, 1000 + 20 * B, (byte) 0);
            MemorySegment buf = arena.allocate(model.length);
            assertEquals(model.length, h.read(0, buf, model.length));
            assertArrayEquals(model, buf.toArray(ValueLayout.JAVA_BYTE), "reads through the open handle");
        }
        Attr a = fs.getattr(f);
        assertEquals(40 * B, a.size(), "KEEP_SIZE");
        assertEquals((40 - 19) * 8, a.blocks());
        assertTrue(fs.statfs().freeBlocks() >= free + 19, "blocks given back");
        fs.fallocate(f, PUNCH, 39 * B, 10 * B); // the last block and past the end
        java.util.Arrays.fill(model, 39 * B, 40 * B, (byte) 0);
        assertEquals(20 * 8, fs.getattr(f).blocks());
        remount();
        assertArrayEquals(model, FileSystemTest.read(fs, f, 0, model.length));
        assertEquals(Errno.ENXIO, assertThrows(FsException.class, () -> fs.seek(f, 40 * B, FileSystem.SEEK_DATA)).errno());
        assertEquals(0, fs.seek(f, 0, FileSystem.SEEK_DATA));
        assertEquals(B, fs.seek(f, 0, FileSystem.SEEK_HOLE));
        assertEquals(1000, fs.seek(f, 1000, FileSystem.SEEK_DATA), "block 0 still holds data");
        assertEquals(20 * B, fs.seek(f, B, FileSystem.SEEK_DATA));
        assertEquals(39 * B, fs.seek(f, 20 * B, FileSystem.SEEK_HOLE));
        assertEquals(39 * B + 5, fs.seek(f, 39 * B + 5, FileSystem.SEEK_HOLE), "in a hole: the offset itself");
        assertClean();
    }

    @ParameterizedTest
    @EnumSource(value = DaxMode.class, names = {"NEVER", "ALWAYS"})
    void zeroRange_zeroesAndAllocates_growsUnlessKeepSize(DaxMode mode) {
        start(mode, 32L << 20);
        leaveGarbage(100);
        long f = fs.create(FileSystem.ROOT, "f", 0644, 0, 0);
        byte[] model = FileSystemTest.bytes(10 * B, 6);
        FileSystemTest.write(fs, f, 0, model);
        fs.truncate(f, 4 * B); // blocks 4..9 gone
        fs.fallocate(f, ZERO, 2 * B + 100, 5 * B); // over data, a hole and past the end
        byte[] want = new byte[7 * B + 100];
        System.arraycopy(model, 0, want, 0, 2 * B + 100);
        assertArrayEquals(want, FileSystemTest.read(fs, f, 0, 8 * B));
        assertEquals(8 * 8, fs.getattr(f).blocks(), "blocks 0..7");
        fs.fallocate(f, ZERO | KEEP, 20 * B, B);
        assertEquals(7 * B + 100, fs.getattr(f).size());
        assertEquals(9 * 8, fs.getattr(f).blocks());
        assertClean();
    }

    @Test
    void unsupportedModesAndBadArguments_failAsLinux() {
        start(DaxMode.NEVER, 32L << 20);
        long f = fs.create(FileSystem.ROOT, "f", 0644, 0, 0);
        for (int mode : new int[] {0x08, 0x20, 0x40, 0x04, FileSystem.FALLOC_FL_PUNCH_HOLE, PUNCH | ZERO}) {
            assertEquals(Errno.EOPNOTSUPP, assertThrows(FsException.class, () -> fs.fallocate(f, mode, 0, B)).errno(),
                    "mode 0x" + Integer.toHexString(mode));
        }
        assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> fs.fallocate(f, 0, 0, 0)).errno());
        assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> fs.fallocate(f, 0, -1, 5)).errno());
        assertEquals(Errno.EFBIG, assertThrows(FsException.class, () -> fs.fallocate(f, 0, 1L << 50, 5)).errno());
        long d = fs.mkdir(FileSystem.ROOT, "d", 0755, 0, 0);
        assertEquals(Errno.EISDIR, assertThrows(FsException.class, () -> fs.fallocate(d, 0, 0, 5)).errno());
        long p = fs.mknod(FileSystem.ROOT, "p", 0010644, 0, 0, 0);
        assertEquals(Errno.ESPIPE, assertThrows(FsException.class, () -> fs.fallocate(p, 0, 0, 5)).errno());
        long c = fs.mknod(FileSystem.ROOT, "c", 0020644, 0x103, 0, 0);
        assertEquals(Errno.ENODEV, assertThrows(FsException.class, () -> fs.fallocate(c, 0, 0, 5)).errno());
        assertEquals(0, fs.getattr(f).size());
    }

    @ParameterizedTest
    @EnumSource(value = DaxMode.class, names = {"NEVER", "ALWAYS"})
    void copyFileRange_copiesDataAndKeepsHoles(DaxMode mode) {
        start(mode, 32L << 20);
        long s = fs.create(FileSystem.ROOT, "s", 0644, 0, 0);
        long d = fs.create(FileSystem.ROOT, "d", 0644, 0, 0);
        byte[] a = FileSystemTest.bytes(3 * B + 5, 1);
        byte[] b = FileSystemTest.bytes(2 * B, 2);
        FileSystemTest.write(fs, s, 0, a);
        FileSystemTest.write(fs, s, 600 * B, b); // a hole of ~597 blocks in between
        FileSystemTest.write(fs, d, 0, FileSystemTest.bytes(700 * B, 3)); // old data to be replaced
        long n;
        try (FileHandle hs = fs.open(s, 0); FileHandle hd = fs.open(d, 2)) {
            n = fs.copyFileRange(hs, 0, hd, B, 1L << 30);
            assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> fs.copyFileRange(hs, 0, hs, B, 2 * B)).errno());
        }
        assertEquals(602 * B, n, "stops at the end of the source");
        byte[] want = new byte[602 * B];
        System.arraycopy(a, 0, want, 0, a.length);
        System.arraycopy(b, 0, want, 600 * B, b.length);
        assertArrayEquals(want, FileSystemTest.read(fs, d, B, want.length));
        assertEquals(700 * B, fs.getattr(d).size());
        assertEquals((1 + 4 + 2 + 97) * 8, fs.getattr(d).blocks(), "the hole was punched, not filled with zeros");
        assertClean();
    }

    /** Indirect blocks that n data blocks from file block 0 need. */
    private static long indirect(long n) {
        long x = n > 12 ? 1 : 0;
        return n > 12 + 511 ? x + 1 + Math.ceilDiv(n - 12 - 511, 511) : x;
    }

    @Test
    void enospc_exactBoundary_andNothingChangedOnFailure() {
        start(DaxMode.NEVER, 32L << 20);
        long f = fs.create(FileSystem.ROOT, "f", 0644, 0, 0);
        long free = fs.statfs().freeBlocks();
        long n = free;
        while (n + indirect(n) > free) {
            n--;
        }
        long fits = n;
        assertEquals(Errno.ENOSPC, assertThrows(FsException.class, () -> fs.fallocate(f, 0, 0, (fits + 1) * B)).errno());
        assertEquals(0, fs.getattr(f).size());
        assertEquals(0, fs.getattr(f).blocks());
        assertEquals(free, fs.statfs().freeBlocks(), "a failed fallocate allocates nothing");
        if (n + indirect(n) == free) {
            fs.fallocate(f, 0, 0, n * B);
            assertEquals(0, fs.statfs().freeBlocks(), "every block used");
            assertEquals(n * 8, fs.getattr(f).blocks());
        }
        assertClean();
    }

    @Test
    void seek_skipsLargeHolesWithoutWalkingThem() {
        start(DaxMode.NEVER, 32L << 20);
        long f = fs.create(FileSystem.ROOT, "f", 0644, 0, 0);
        long far = 100L << 30; // in the triple indirect range
        FileSystemTest.write(fs, f, far, new byte[] {1, 2, 3});
        assertEquals(far, fs.seek(f, 0, FileSystem.SEEK_DATA));
        assertEquals(0, fs.seek(f, 0, FileSystem.SEEK_HOLE));
        assertEquals(far + 3, fs.seek(f, far, FileSystem.SEEK_HOLE), "the implicit hole at the end");
        assertEquals(Errno.ENXIO, assertThrows(FsException.class, () -> fs.seek(f, far + 3, FileSystem.SEEK_HOLE)).errno());
        assertEquals(Errno.ENXIO, assertThrows(FsException.class, () -> fs.seek(f, -1, FileSystem.SEEK_DATA)).errno());
        fs.fallocate(f, PUNCH, far - B, 2 * B);
        assertEquals(Errno.ENXIO, assertThrows(FsException.class, () -> fs.seek(f, 0, FileSystem.SEEK_DATA)).errno());
        assertEquals(0, fs.getattr(f).blocks());
        assertClean();
    }

    /** Power failures at random points of long fallocates and punches, with a 32-block journal. */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void powerFailure_duringLongFallocate_mountsCleanAndReadsZeros(long seed) {
        Random rnd = new Random(seed);
        region = CrashingRegion.create(32L << 20);
        Format.mkfs(region, Geometry.of(region.dataSize(), 4096, 32), false, p -> { });
        region.persist(0, region.dataSize());
        opts = MountOptions.defaults().withDax(seed % 2 == 0 ? DaxMode.ALWAYS : DaxMode.NEVER).withCache(1L << 20);
        fs = FileSystem.mount(region, opts);
        leaveGarbage(2000);
        long f = fs.create(FileSystem.ROOT, "f", 0644, 0, 0);
        byte[] head = FileSystemTest.bytes(3 * B, seed);
        FileSystemTest.write(fs, f, 0, head);
        fs.sync();
        region.armPowerFailure(1 + rnd.nextInt(400));
        try {
            fs.fallocate(f, rnd.nextBoolean() ? 0 : KEEP, 3 * B, 3000L * B);
            fs.fallocate(f, PUNCH, 5 * B, 2000L * B);
            fs.sync();
        } catch (CrashingRegion.PowerFailure e) {
            // somewhere in the middle
        }
        fs.abandon();
        fs = null;
        region.powerFail(rnd, 0.5);
        region.disarm();
        assertEquals(List.of(), Fsck.check(region, false, n -> { }).problems());
        fs = FileSystem.mount(region, opts);
        Attr a = fs.getattr(f);
        assertArrayEquals(head, FileSystemTest.read(fs, f, 0, head.length), "synced data intact");
        int n = (int) Math.min(a.size() - head.length, 4000L * B);
        assertArrayEquals(new byte[Math.max(0, n)], FileSystemTest.read(fs, f, head.length, Math.max(0, n)),
                "allocated blocks read as zeros, never old data");
    }
}
