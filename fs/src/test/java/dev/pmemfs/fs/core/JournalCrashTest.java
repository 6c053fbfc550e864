package dev.pmemfs.fs.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pmemfs.device.CrashingRegion;
import dev.pmemfs.fs.layout.BlockCrc;
import dev.pmemfs.fs.layout.Geometry;
import dev.pmemfs.fs.layout.JournalRecord;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The journal alone against a model, on a {@link CrashingRegion} with a small log (so it wraps
 * and checkpoints often): random byte changes to a few metadata blocks, commits and
 * checkpoints, a power failure at a random store or persist (losing all or a random half of
 * the unpersisted lines, or nearly all: torn transactions and torn commit lines), then a replay that may
 * itself be cut by a second power failure and run again. After that the blocks must hold
 * exactly the last committed state, or, when the failure struck the persist of a commit, the
 * state before or after that commit, never a mix.
 */
final class JournalCrashTest {
    private static final int BLOCKS = 6;
    private CrashingRegion region;
    private Geometry geo;
    private long first;

    @BeforeEach
    void setUp() {
        region = CrashingRegion.create(16L << 20);
        geo = Format.mkfs(region, Geometry.of(region.dataSize(), 4096, 8), false, p -> { }).geometry();
        region.persist(0, region.dataSize());
        first = geo.inodeTableStart();
    }

    @AfterEach
    void tearDown() {
        region.close();
    }

    @Test
    void powerFailure_duringCommitCheckpointOrReplay_leavesOneCommittedState() {
        Random master = new Random(11);
        int crashes = 0;
        int midCommit = 0;
        int replayCrashes = 0;
        long checkpoints = 0;
        for (int run = 0; run < 1500; run++) {
            long seed = master.nextLong();
            double keep = new double[] {0, 0.5, 0.95}[run % 3];
            Map<Long, byte[]> before = images();
            Journal j = new Journal(region, geo);
            Model m = new Model(before);
            region.armPowerFailure(1 + master.nextInt(60)); // a workload makes about 40-60 stores and persists
            try {
                workload(j, new Random(seed), m);
            } catch (CrashingRegion.PowerFailure e) {
                crashes++;
            }
            checkpoints += j.checkpoints();
            region.disarm();
            region.powerFail(new Random(seed), keep);
            if (master.nextBoolean()) {
                region.armPowerFailure(1 + master.nextInt(20));
                try {
                    Journal.replay(region, geo);
                } catch (CrashingRegion.PowerFailure e) {
                    replayCrashes++;
                }
                region.disarm();
                region.powerFail(new Random(seed + 1), keep);
            }
            Journal.replay(region, geo);
            Map<Long, byte[]> after = images();
            String ctx = "run " + run + " seed " + seed + " keep " + keep;
            if (m.inFlight != null && same(after, m.inFlight)) {
                midCommit++;
            } else {
                assertImages(m.committed, after, ctx);
            }
            assertEquals(-1, Journal.replay(region, geo), ctx + ": a second replay finds nothing");
        }
        assertTrue(crashes > 1000, "power failures: " + crashes);
        assertTrue(replayCrashes > 100, "power failures during replay: " + replayCrashes);
        assertTrue(checkpoints > 100, "checkpoints: " + checkpoints);
        assertTrue(midCommit > 0, "commits that a failure at their persist still kept: " + midCommit);
        System.out.printf("journal crash test: %d power failures (%d during replay), %d checkpoints, %d in-flight commits kept%n",
                crashes, replayCrashes, checkpoints, midCommit);
    }

    @Test
    void tornCommitLine_transactionIgnored() {
        Journal j = new Journal(region, geo);
        Map<Long, byte[]> before = images();
        j.modify(first)[100] = 7;
        j.modify(first + 1)[4000] = 9;
        region.armPowerFailure(2); // the store of the transaction happens, its persist does not
        try {
            j.commit(() -> { });
        } catch (CrashingRegion.PowerFailure expected) {
            // the power went out at the persist
        }
        region.disarm();
        // Keep every line of the transaction but its last (the commit line), as a torn write would.
        byte[] all = new byte[JournalRecord.LINE * 8];
        region.read(geo.journalStart() * BlockCrc.BLOCK + BlockCrc.BLOCK, all, 0, all.length);
        region.powerFail(new Random(0), 1.0);
        int lines = JournalRecord.headerLines(all, 0, JournalRecord.headerSequence(all, 0));
        assertTrue(lines >= 4, "transaction lines: " + lines);
        long commitLine = (geo.journalStart() + 1) * BlockCrc.BLOCK + (long) (lines - 1) * JournalRecord.LINE;
        region.write(commitLine + 20, new byte[4], 0, 4); // the commit line's own CRC torn
        region.persist(commitLine, JournalRecord.LINE);
        assertEquals(-1, Journal.replay(region, geo));
        assertImages(before, images(), "torn commit line");
    }

    @Test
    void unpersistedCommit_allLinesSurvive_replayed() {
        Journal j = new Journal(region, geo);
        j.modify(first)[100] = 7;
        j.modify(first + 1)[4000] = 9;
        Map<Long, byte[]> want = new HashMap<>(images());
        want.put(first, j.peek(first).clone());
        want.put(first + 1, j.peek(first + 1).clone());
        region.armPowerFailure(2);
        try {
            j.commit(() -> { });
        } catch (CrashingRegion.PowerFailure expected) {
            // the power went out at the persist
        }
        region.disarm();
        region.powerFail(new Random(0), 1.0);
        assertEquals(2, Journal.replay(region, geo));
        assertImages(want, images(), "whole unpersisted commit");
    }

    @Test
    void rotation_logWrapsAndAnchorMoves() {
        Journal j = new Journal(region, geo);
        Random rnd = new Random(3);
        Model m = new Model(images());
        long lines = (geo.journalBlocks() - 1) * JournalRecord.LINES_PER_BLOCK;
        long[] w0 = region.wear().blockWrites();
        for (int i = 0; i < 3000; i++) {
            long b = first + rnd.nextInt(BLOCKS);
            j.modify(b)[rnd.nextInt(BlockCrc.BLOCK)]++; // a small change: one line logged
            m.running.put(b, j.peek(b).clone());
            commit(j, m);
        }
        assertTrue(j.checkpoints() >= 3000 * 3 / lines, "checkpoints: " + j.checkpoints());
        long[] w = region.wear().blockWrites();
        long min = Long.MAX_VALUE;
        long max = 0;
        long sum = 0;
        for (long b = geo.journalStart(); b < geo.journalStart() + geo.journalBlocks(); b++) {
            long n = w[(int) b] - w0[(int) b];
            min = Math.min(min, n);
            max = Math.max(max, n);
            sum += n;
        }
        assertTrue(max <= 2 * sum / geo.journalBlocks(), "journal block writes from " + min + " to " + max + ", mean "
                + sum / geo.journalBlocks());
        long homeWrites = w[(int) first] - w0[(int) first];
        assertTrue(homeWrites <= j.checkpoints() + 1, "home block written " + homeWrites + " times in " + j.checkpoints()
                + " checkpoints");
        region.powerFail();
        Journal.replay(region, geo);
        assertImages(m.committed, images(), "after rotation");
    }

    /**
     * The journal reuses images no map refers to any more (a replaced committed image, a
     * transaction image that changed nothing, the committed images at a checkpoint). Reusing
     * one that is still current would change a block behind the journal's back: here every
     * read after every step must see the model's bytes, and a power failure at the end must
     * replay exactly the committed state. Caught: recycling the changed transaction images, or
     * the committed images that a commit did not replace.
     */
    @Test
    void reusedImages_readsAndReplaySeeOnlyCommittedBytes() {
        Journal j = new Journal(region, geo);
        Random rnd = new Random(5);
        Model m = new Model(images());
        for (int step = 0; step < 4000; step++) {
            int what = rnd.nextInt(10);
            if (what < 5) {
                change(j, rnd, m);
            } else if (what < 7) {
                long b = first + rnd.nextInt(BLOCKS); // opened for a change that changes nothing
                byte[] img = j.modify(b);
                m.running.put(b, img.clone());
            } else if (what < 9) {
                commit(j, m);
            } else if (rnd.nextInt(10) == 0) {
                j.checkpoint();
            }
            for (long b = first; b < first + BLOCKS; b++) {
                byte[] want = m.running.containsKey(b) ? m.running.get(b) : m.committed.get(b);
                assertArrayEquals(want, j.peek(b), "step " + step + ": block " + b);
            }
        }
        commit(j, m);
        region.powerFail();
        Journal.replay(region, geo);
        assertImages(m.committed, images(), "after reuse");
    }

    /** The committed images of the test's blocks, and those of a commit under way. */
    private static final class Model {
        final Map<Long, byte[]> committed;
        final Map<Long, byte[]> running = new HashMap<>();
        Map<Long, byte[]> inFlight;

        Model(Map<Long, byte[]> start) {
            committed = start;
        }
    }

    private void workload(Journal j, Random rnd, Model m) {
        for (int op = 0; op < 40; op++) {
            change(j, rnd, m);
            if (rnd.nextInt(3) == 0) {
                commit(j, m);
            }
            if (rnd.nextInt(15) == 0) {
                j.checkpoint();
            }
        }
    }

    /** Changes a few bytes (or a whole block) of random blocks in the running transaction. */
    private void change(Journal j, Random rnd, Model m) {
        long b = first + rnd.nextInt(BLOCKS);
        byte[] img = j.modify(b);
        if (rnd.nextInt(20) == 0) {
            rnd.nextBytes(img);
        } else {
            int at = rnd.nextInt(BlockCrc.BLOCK - 300);
            for (int k = rnd.nextInt(300); k >= 0; k--) {
                img[at + k] = (byte) rnd.nextInt();
            }
        }
        m.running.put(b, img.clone());
    }

    private static void commit(Journal j, Model m) {
        m.inFlight = new HashMap<>(m.committed);
        m.inFlight.putAll(m.running);
        j.commit(() -> { });
        m.committed.putAll(m.running);
        m.running.clear();
        m.inFlight = null;
    }

    private Map<Long, byte[]> images() {
        Map<Long, byte[]> out = new HashMap<>();
        for (long b = first; b < first + BLOCKS; b++) {
            byte[] img = new byte[BlockCrc.BLOCK];
            region.read(b * BlockCrc.BLOCK, img, 0, img.length);
            out.put(b, img);
        }
        return out;
    }

    private static boolean same(Map<Long, byte[]> a, Map<Long, byte[]> b) {
        for (var e : a.entrySet()) {
            if (!java.util.Arrays.equals(e.getValue(), b.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    private static void assertImages(Map<Long, byte[]> want, Map<Long, byte[]> got, String ctx) {
        for (var e : want.entrySet()) {
            assertArrayEquals(e.getValue(), got.get(e.getKey()), ctx + ": block " + e.getKey());
        }
    }
}
