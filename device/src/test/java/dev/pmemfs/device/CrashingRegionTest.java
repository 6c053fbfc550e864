package dev.pmemfs.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

final class CrashingRegionTest {
    private static final long SIZE = Region.MIN_SIZE;

    @Test
    void powerFail_afterPersist_keepsExactlyThePersistedBytes() {
        try (CrashingRegion r = CrashingRegion.create(SIZE)) {
            byte[] kept = filled(4096, 1);
            r.write(8192, kept, 0, kept.length);
            r.persist(8192, kept.length);
            byte[] lost = filled(4096, 2);
            r.write(65536, lost, 0, lost.length);
            r.write(8192 + 100, filled(10, 3), 0, 10); // over persisted data, not persisted itself
            assertEquals(64 + 1, r.unpersistedLines());

            assertEquals(65, r.powerFail());
            assertArrayEquals(kept, read(r, 8192, 4096));
            assertArrayEquals(new byte[4096], read(r, 65536, 4096));
            assertEquals(0, r.unpersistedLines());
        }
    }

    @Test
    void powerFail_withoutPersist_losesTheStores() {
        try (CrashingRegion r = CrashingRegion.create(SIZE)) {
            r.putLong(0, 0x1234);
            r.fill(4096, 300, (byte) 9);
            assertEquals(0x1234, r.getLong(0));
            r.powerFail();
            assertEquals(0, r.getLong(0));
            assertArrayEquals(new byte[300], read(r, 4096, 300));
        }
    }

    @Test
    void persist_ofPartOfARange_keepsOnlyTheCoveredLines() {
        try (CrashingRegion r = CrashingRegion.create(SIZE)) {
            byte[] data = filled(256, 5);
            r.write(0, data, 0, data.length);
            r.persist(64, 64); // line 1 only
            r.powerFail();
            byte[] expected = new byte[256];
            Arrays.fill(expected, 64, 128, (byte) 5);
            assertArrayEquals(expected, read(r, 0, 256));
        }
    }

    @Test
    void powerFail_randomSubset_keepsOrDropsWholeLines() {
        try (CrashingRegion r = CrashingRegion.create(SIZE)) {
            int lines = 1000;
            byte[] data = filled(lines * Region.LINE_SIZE, 7);
            r.write(0, data, 0, data.length);
            int dropped = r.powerFail(new Random(42), 0.5);
            assertTrue(dropped > 300 && dropped < 700, "dropped " + dropped);
            byte[] after = read(r, 0, data.length);
            int zeroLines = 0;
            for (int l = 0; l < lines; l++) {
                byte[] line = Arrays.copyOfRange(after, l * 64, l * 64 + 64);
                boolean old = Arrays.equals(line, new byte[64]);
                assertTrue(old || Arrays.equals(line, filled(64, 7)), "line " + l + " is torn");
                zeroLines += old ? 1 : 0;
            }
            assertEquals(dropped, zeroLines);
            r.powerFail(); // the kept lines are on the media now
            assertArrayEquals(after, read(r, 0, data.length));
        }
    }

    @Test
    void powerFail_keepAll_keepsEveryStore() {
        try (CrashingRegion r = CrashingRegion.create(SIZE)) {
            r.putLong(128, 77);
            assertEquals(0, r.powerFail(new Random(1), 1.0));
            assertEquals(77, r.getLong(128));
        }
    }

    @Test
    void armPowerFailure_stopsAtTheNthEventUntilReboot() {
        try (CrashingRegion r = CrashingRegion.create(SIZE)) {
            r.armPowerFailure(3);
            r.putLong(0, 1);
            r.persist(0, 8);
            assertThrows(CrashingRegion.PowerFailure.class, () -> r.putLong(8, 2));
            assertTrue(r.failed());
            assertThrows(CrashingRegion.PowerFailure.class, () -> r.persist(0, 8));
            assertEquals(0, r.getLong(8), "the failing store did not happen");
            r.powerFail();
            assertFalse(r.failed());
            assertEquals(1, r.getLong(0));
            r.putLong(8, 3); // usable again
            assertEquals(3, r.getLong(8));
        }
    }

    @Test
    void disarm_cancelsThePendingFailure() {
        try (CrashingRegion r = CrashingRegion.create(SIZE)) {
            r.armPowerFailure(1);
            r.disarm();
            r.putLong(0, 1);
            assertFalse(r.failed());
        }
    }

    @Test
    void saveWear_survivesPowerFailure() {
        try (CrashingRegion r = CrashingRegion.create(SIZE)) {
            r.putLong(0, 1);
            r.saveWear();
            r.powerFail();
            WearCounters saved = WearCounters.fromArea(r.seg.asSlice(r.dataSize()), SIZE);
            assertEquals(8, saved.bytesWritten());
            assertEquals(1, saved.blockWrites(0));
        }
    }

    @Test
    void flipBit_changesVisibleAndMedia() {
        try (CrashingRegion r = CrashingRegion.create(SIZE)) {
            r.flipBit(10, 3);
            r.powerFail();
            assertEquals(8, read(r, 10, 1)[0]);
        }
    }

    static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }

    static byte[] read(Region r, long offset, int n) {
        byte[] b = new byte[n];
        r.read(offset, b, 0, n);
        return b;
    }
}
