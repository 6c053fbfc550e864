package dev.pmemfs.fs.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pmemfs.device.CrashingRegion;
import dev.pmemfs.fs.layout.Geometry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Power fails at random points of random workloads on a {@link CrashingRegion}: all
 * unpersisted stores are lost, or a random half of them survive. After each failure the
 * filesystem must mount, check clean, and every file whose fsync returned (and that was not
 * changed since) must read back exactly.
 */
final class CrashTest {
    private static final int CRASHES = 1000;
    private static int verifiedFiles;
    private static int replays;
    /** Checkpoints (log full) that ran inside workloads: crashes must also strike around them. */
    private static long checkpoints;
    /** Stores and persists of the last workload that ran to the end: the range crash points are drawn from. */
    private static long lastWorkloadEvents = 2000;

    @Test
    void powerFailure_atRandomPoints_keepsFsyncedFilesAndConsistency() {
        CrashingRegion region = CrashingRegion.create(16L << 20);
        int crashes = 0;
        int runs = 0;
        try {
            Random master = new Random(42);
            while (crashes < CRASHES) {
                long seed = master.nextLong();
                DaxMode mode = runs % 3 == 2 ? DaxMode.ALWAYS : DaxMode.NEVER;
                double keep = runs % 2 == 0 ? 0 : 0.5;
                if (runOnce(region, seed, mode, keep, master)) {
                    crashes++;
                }
                runs++;
            }
        } finally {
            region.close();
        }
        assertTrue(crashes >= CRASHES);
        // The test must have exercised what it claims: fsync'd files checked, journals replayed.
        assertTrue(verifiedFiles > CRASHES / 2, "fsync'd files verified: " + verifiedFiles);
        assertTrue(replays > 0, "journal replays: " + replays);
        // A log of changed lines fills ~10x slower than the old log of 4 KiB images did, even with
        // the smallest journal; JournalCrashTest strikes checkpoints (and replays) directly.
        assertTrue(checkpoints >= CRASHES / 100, "checkpoints inside workloads: " + checkpoints);
        System.out.printf("crash test: %d runs, %d power failures, %d fsync'd files verified, %d journal replays,"
                + " %d checkpoints%n", runs, crashes, verifiedFiles, replays, checkpoints);
    }

    /** Returns whether the power failed during the workload. */
    private static boolean runOnce(CrashingRegion region, long seed, DaxMode mode, double keep, Random master) {
        region.disarm();
        // A journal of 8 blocks (448 log lines) fills every few dozen commits, so crashes also strike checkpoints.
        Format.mkfs(region, Geometry.of(region.dataSize(), 4096, 8), false, p -> { });
        region.persist(0, region.dataSize());
        MountOptions opts = MountOptions.defaults().withDax(mode).withCache(2L << 20);
        FileSystem fs = FileSystem.mount(region, opts);
        Map<String, byte[]> durable = new HashMap<>();
        long failAt = 1 + master.nextLong(Math.max(1, lastWorkloadEvents));
        long before = region.events();
        region.armPowerFailure(failAt);
        boolean failed = false;
        try {
            workload(fs, new Random(seed), durable);
            fs.close();
            lastWorkloadEvents = region.events() - before;
        } catch (CrashingRegion.PowerFailure e) {
            failed = true;
        }
        checkpoints += fs.journal.checkpoints();
        fs.abandon();
        region.disarm();
        region.powerFail(new Random(seed), keep);
        String ctx = "seed " + seed + " mode " + mode + " keep " + keep + " failAt " + failAt;
        FileSystem again = FileSystem.mount(region, opts);
        if (again.replayedBlocks() >= 0) {
            replays++;
        }
        try {
            for (var e : durable.entrySet()) {
                long ino;
                try {
                    ino = again.resolve(e.getKey());
                } catch (FsException ex) {
                    throw new AssertionError(ctx + ": fsync'd file " + e.getKey() + " lost: " + ex.getMessage());
                }
                assertEquals(e.getValue().length, again.getattr(ino).size(), ctx + ": size of " + e.getKey());
                assertArrayEquals(e.getValue(), FileSystemTest.read(again, ino, 0, e.getValue().length), ctx + ": " + e.getKey());
                verifiedFiles++;
            }
            walkAll(again, FileSystem.ROOT);
        } finally {
            again.close();
        }
        Fsck.Report report = Fsck.check(region, false);
        assertEquals(List.of(), report.problems(), ctx + ": fsck");
        return failed;
    }

    private static void walkAll(FileSystem fs, long dir) {
        for (FileSystem.DirEntry e : fs.readdir(dir)) {
            Attr a = fs.getattr(e.ino());
            if (a.isDir()) {
                walkAll(fs, e.ino());
            } else if (a.isRegular()) {
                FileSystemTest.read(fs, e.ino(), 0, (int) Math.min(a.size(), 1 << 20));
            }
        }
    }

    /**
     * Random operations on a few files; {@code durable} holds, for each path whose last change
     * was followed by an fsync, the content that fsync made durable.
     */
    private static void workload(FileSystem fs, Random rnd, Map<String, byte[]> durable) {
        Map<String, byte[]> content = new HashMap<>();
        List<String> dirs = new ArrayList<>(List.of("/"));
        for (int op = 0; op < 60; op++) {
            String dir = dirs.get(rnd.nextInt(dirs.size()));
            String path = (dir.equals("/") ? "" : dir) + "/f" + rnd.nextInt(6);
            int kind = rnd.nextInt(10);
            byte[] cur = content.get(path);
            switch (kind) {
                case 0, 1, 2 -> {
                    byte[] data = FileSystemTest.bytes(1 + rnd.nextInt(rnd.nextBoolean() ? 500 : 60_000), rnd.nextLong());
                    long pos = cur == null ? 0 : rnd.nextInt(cur.length + 1);
                    long ino = cur == null ? fs.create(fs.resolve(dir), path.substring(path.lastIndexOf('/') + 1), 0644, 0, 0)
                            : fs.resolve(path);
                    durable.remove(path);
                    FileSystemTest.write(fs, ino, pos, data);
                    byte[] next = new byte[(int) Math.max(cur == null ? 0 : cur.length, pos + data.length)];
                    if (cur != null) {
                        System.arraycopy(cur, 0, next, 0, cur.length);
                    }
                    System.arraycopy(data, 0, next, (int) pos, data.length);
                    content.put(path, next);
                }
                case 3, 4 -> {
                    if (cur != null) {
                        try (FileHandle h = fs.open(fs.resolve(path), 2)) {
                            h.fsync();
                        }
                        durable.put(path, cur.clone());
                    }
                }
                case 5 -> {
                    if (cur != null) {
                        int size = rnd.nextInt(cur.length + 10_000);
                        durable.remove(path);
                        fs.truncate(fs.resolve(path), size);
                        content.put(path, java.util.Arrays.copyOf(cur, size));
                    }
                }
                case 6 -> {
                    if (cur != null) {
                        durable.remove(path);
                        fs.unlink(fs.resolve(dir), path.substring(path.lastIndexOf('/') + 1));
                        content.remove(path);
                    }
                }
                case 7 -> {
                    if (cur != null) {
                        String to = "/r" + rnd.nextInt(3);
                        durable.remove(path);
                        durable.remove(to);
                        fs.rename(fs.resolve(dir), path.substring(path.lastIndexOf('/') + 1), FileSystem.ROOT, to.substring(1), 0);
                        content.remove(path);
                        content.put(to, cur);
                    }
                }
                case 8 -> {
                    if (dirs.size() < 4) {
                        String d = "/d" + dirs.size();
                        fs.mkdir(FileSystem.ROOT, d.substring(1), 0755, 0, 0);
                        dirs.add(d);
                    }
                }
                default -> {
                    fs.sync();
                    durable.clear();
                    content.forEach((k, v) -> durable.put(k, v.clone()));
                }
            }
        }
    }
}
