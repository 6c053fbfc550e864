package dev.pmemfs.fs.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pmemfs.device.CrashingRegion;
import dev.pmemfs.fs.layout.Geometry;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The allocation policies compared on one churn (wear-aware must spread data-block wear more
 * evenly than first-fit), and the wear-aware allocator's per-group free counts kept true.
 */
final class AllocatorTest {
    @Test
    void churn_wearAware_spreadsWearMoreEvenlyThanFirstFit() {
        AllocationChurn.Spread first;
        AllocationChurn.Spread aware;
        try (CrashingRegion r = CrashingRegion.create(64L << 20)) {
            first = AllocationChurn.run(r, Allocator.Policy.FIRST_FIT, 20, 400, 16384);
        }
        try (CrashingRegion r = CrashingRegion.create(64L << 20)) {
            aware = AllocationChurn.run(r, Allocator.Policy.WEAR_AWARE, 20, 400, 16384);
        }
        System.out.println("allocation churn: " + first + "; " + aware);
        assertEquals(first.mean(), aware.mean(), first.mean() * 0.05, "both wrote about the same");
        assertTrue(aware.ratio() < first.ratio() * 0.8, "wear-aware " + aware + " against first-fit " + first);
        assertTrue(aware.blocksWritten() > first.blocksWritten(), "wear-aware spreads over more blocks");
    }

    /**
     * Fills the region, frees a random share of its blocks, checkpoints (which makes them
     * reusable), and fills it again, several times: every free block must be handed out exactly
     * once before ENOSPC. The wear-aware allocator keeps a free count per group to choose the
     * next group; a count that missed a release would hide that group's free blocks (ENOSPC
     * with space left), one that missed an allocation would send it to a full group.
     */
    @Test
    void wearAware_handsOutEveryFreeBlock_acrossFreesAndCheckpoints() {
        try (CrashingRegion r = CrashingRegion.create(16L << 20)) {
            Geometry geo = Format.mkfs(r, Geometry.of(r.dataSize(), 4096, 8), false, p -> { }).geometry();
            Journal j = new Journal(r, geo);
            Allocator a = Allocator.load(j, geo);
            j.onCheckpoint(a::afterCheckpoint);
            Random rnd = new Random(3);
            List<Long> held = new ArrayList<>();
            Set<Long> distinct = new HashSet<>();
            for (int round = 0; round < 6; round++) {
                long free = a.freeBlocks();
                assertTrue(free > 0, "round " + round + ": free blocks " + free);
                for (long k = 0; k < free; k++) {
                    long b = a.allocBlock();
                    assertTrue(b >= geo.firstDataBlock() && b < geo.backupSuperblock(), "block " + b);
                    assertTrue(distinct.add(b), "round " + round + ": block " + b + " handed out twice");
                    held.add(b);
                    if (k % 64 == 63) {
                        j.commit(() -> { });
                        a.afterCommit();
                    }
                }
                assertThrows(FsException.class, a::allocBlock, "round " + round + ": the region is full");
                java.util.Collections.shuffle(held, rnd);
                int keep = held.size() * (1 + rnd.nextInt(8)) / 10;
                for (long b : held.subList(keep, held.size())) {
                    a.freeBlock(b);
                    distinct.remove(b);
                }
                held.subList(keep, held.size()).clear();
                j.commit(() -> { });
                a.afterCommit();
                j.checkpoint();
            }
        }
    }
}
