package dev.pmemfs.fs.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.pmemfs.device.CrashingRegion;
import dev.pmemfs.fs.layout.InodeRecord;
import org.junit.jupiter.api.Test;

/**
 * {@link BlockMap#lookup(InodeRecord, long, long[])}, the lookup of a run of file blocks, answers
 * what the lookup of each block answers: across the direct pointers and every indirect level,
 * over holes, with the indirect blocks' images in the journal and read from the region after a
 * remount.
 */
final class BlockMapTest {
    private static final long D = InodeRecord.DIRECT;
    private static final long L1 = BlockMap.LIMIT1;
    private static final long L2 = BlockMap.LIMIT2;
    private static final long P = BlockMap.P;

    @Test
    void runLookup_answersWhatEachBlockLookupAnswers() {
        try (CrashingRegion region = CrashingRegion.create(32L << 20)) {
            Format.mkfs(region, 4096, false, p -> { });
            FileSystem fs = FileSystem.mount(region, MountOptions.defaults());
            long ino = fs.create(FileSystem.ROOT, "sparse", 0644, 0, 0);
            // one byte in blocks around every boundary of the map; everything between is a hole
            long[] written = {0, D - 1, D, D + 1, L1 - 1, L1, L1 + 1, L1 + P - 1, L1 + P, L1 + P + 1, L1 + 3 * P + 7,
                L2 - 1, L2, L2 + 1, L2 + P, L2 + P * P, L2 + P * P + 1};
            for (long fb : written) {
                FileSystemTest.write(fs, ino, fb * 4096 + 5, new byte[] {(byte) (fb | 1)});
            }
            compareRuns(fs, ino, written, "images in the journal");
            fs.close();
            fs = FileSystem.mount(region, MountOptions.defaults());
            compareRuns(fs, ino, written, "read from the region after a remount");
            fs.close();
        }
    }

    /** Runs of 1 to 600 blocks starting around each written block: the run lookup equals the block lookups. */
    private static void compareRuns(FileSystem fs, long ino, long[] written, String when) {
        fs.lock.lock();
        try {
            InodeRecord r = fs.inode(ino).rec;
            for (long fb : written) {
                assertNotEquals(0, fs.map.lookup(r, fb), when + ": block " + fb + " is mapped");
                for (long first = Math.max(0, fb - 3); first <= fb + 3; first++) {
                    for (int n : new int[] {1, 2, 3, 13, 256, 511, 513, 600}) {
                        long[] want = new long[n];
                        for (int i = 0; i < n; i++) {
                            want[i] = fs.map.lookup(r, first + i);
                        }
                        long[] got = new long[n];
                        fs.map.lookup(r, first, got);
                        assertArrayEquals(want, got, when + ": " + n + " blocks from " + first);
                    }
                }
            }
        } finally {
            fs.lock.unlock();
        }
    }
}
