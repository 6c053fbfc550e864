package dev.pmemfs.fs.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pmemfs.device.CrashingRegion;
import org.junit.jupiter.api.Test;

/** The allocation policies compared on one churn: wear-aware must spread data-block wear more evenly than first-fit. */
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
}
