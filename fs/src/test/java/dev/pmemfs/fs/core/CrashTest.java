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
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Power fails at random points of random workloads on a {@link CrashingRegion}: all
 * unpersisted stores are lost, or a random half of them survive. In half the runs the power
 * fails again while the filesystem recovers: during the mount that replays the journal, and
 * during the unmount that follows it (a checkpoint), up to two more failures. After the last one
 * the filesystem must mount, check clean, every file whose fsync returned (and that was not
 * changed since) must read back exactly, and every other file must hold only zeros or bytes
 * once written to that same inode (data=ordered: never another file's data).
 *
 * <p>The test uses only the public mount, close and power-failure paths, not the journal's
 * format, so it keeps guarding a rewritten journal. Mutations checked by hand (red, then green
 * once restored):
 * <ul>
 *   <li>{@code FileSystem.needOrdering} returning no blocks (data written back after the commit
 *       that points to it): another file's old data shows in unsynced files
 *       ({@link #checkOrdered}).
 *   <li>{@code Journal.replay} clearing the log before writing the images home: a failure
 *       during the recovery mount loses committed metadata (fsck or fsync'd files fail); the
 *       test without recovery failures passes on this mutation.
 *   <li>{@code Journal.checkpoint} clearing the log before writing the images home: caught
 *       both by workload failures and by failures during the recovery unmount.
 *   <li>Write-through ({@link SyncPattern}) of a new block without zeroing the rest of it: the
 *       log test finds another file's bytes in the gap a write past the end leaves.
 * </ul>
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
final class CrashTest {
    private static final int CRASHES = 1000;
    private static int verifiedFiles;
    /** Files read back after a failure that were not fsync'd: the data=ordered check's reach. */
    private static int orderedFiles;
    private static int replays;
    /** Power failures during a recovery mount, and during the unmount after one. */
    private static int mountFailures;
    private static int closeFailures;
    /** Stores and persists of the last recovery (mount and unmount) that ran to the end. */
    private static long lastRecoveryEvents = 1000;
    /** Checkpoints (log full) that ran inside workloads: crashes must also strike around them. */
    private static long checkpoints;
    /** Stores and persists of the last workload that ran to the end: the range crash points are drawn from. */
    private static long lastWorkloadEvents = 2000;
    /** The same for the log workload. */
    private static long lastLogEvents = 2000;

    @Test
    @Order(1) // first: its checks read the counters this class shares, which the log test also moves
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
                if (runOnce(region, seed, mode, keep, master, CrashTest::workload)) {
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
        assertTrue(checkpoints >= CRASHES / 50, "checkpoints inside workloads: " + checkpoints);
        assertTrue(orderedFiles > CRASHES / 2, "unsynced files checked for data=ordered: " + orderedFiles);
        assertTrue(mountFailures >= CRASHES / 10, "power failures during recovery mounts: " + mountFailures);
        // The line journal's recovery mount also writes its anchor (replay moves it, the new journal
        // records its sequence), so fewer of the random points fall in the unmount: 38-72 per 1,000 seen.
        assertTrue(closeFailures >= CRASHES / 40, "power failures during the unmount after recovery: " + closeFailures);
        System.out.printf("crash test: %d runs, %d power failures, %d fsync'd files verified, %d unsynced files"
                + " checked for data=ordered, %d journal replays, %d checkpoints, %d failures during recovery mounts,"
                + " %d during the unmount after recovery%n", runs, crashes, verifiedFiles, orderedFiles, replays,
                checkpoints, mountFailures, closeFailures);
    }

    /**
     * A log on a cached mount: appends and overwrites each fsync'd at once, so the file is written
     * through to the media ({@link SyncPattern}), with bursts of two writes per fsync that take it
     * back into the cache, reads that bring its pages into RAM between, and a scratch file whose
     * freed blocks the log reuses (data=ordered must hold for written-through blocks too).
     */
    @Test
    @Order(2)
    void powerFailure_inAWrittenThroughLog_keepsFsyncedRecords() {
        CrashingRegion region = CrashingRegion.create(16L << 20);
        int crashes = 0;
        try {
            Random master = new Random(7);
            for (int runs = 0; crashes < LOG_CRASHES; runs++) {
                if (runOnce(region, master.nextLong(), DaxMode.NEVER, runs % 2 == 0 ? 0 : 0.5, master, LOG)) {
                    crashes++;
                }
            }
        } finally {
            region.close();
        }
        assertTrue(logsChecked > LOG_CRASHES / 2, "logs checked against their last fsync: " + logsChecked);
        assertTrue(writtenThrough > LOG_CRASHES / 4, "runs whose log was written through by its 11th record: " + writtenThrough);
        System.out.printf("crash test of a written-through log: %d power failures, %d logs checked against their last"
                + " fsync, %d runs written through%n", crashes, logsChecked, writtenThrough);
    }

    private static final int LOG_CRASHES = 300;
    private static final Workload LOG = CrashTest::logWorkload;
    /** Runs of the log workload whose log was written through (checked at its 11th record). */
    private static int writtenThrough;
    /** The log's content at its last fsync, and the writes since (in flight when the power fails). */
    private static byte[] logSynced;
    private static List<Write> logPending;
    private static int logsChecked;

    /** Runs a workload on a fresh filesystem, fails the power, checks; returns whether the power failed during it. */
    private static boolean runOnce(CrashingRegion region, long seed, DaxMode mode, double keep, Random master, Workload workload) {
        region.disarm();
        // A journal of 8 blocks (448 log lines) fills every few dozen commits, so crashes also strike checkpoints.
        Format.mkfs(region, Geometry.of(region.dataSize(), 4096, 8), false, p -> { });
        region.persist(0, region.dataSize());
        MountOptions opts = MountOptions.defaults().withDax(mode).withCache(2L << 20);
        FileSystem fs = FileSystem.mount(region, opts);
        Map<String, byte[]> durable = new HashMap<>();
        Map<Long, List<Write>> history = new HashMap<>();
        boolean log = workload == LOG;
        long failAt = 1 + master.nextLong(Math.max(1, log ? lastLogEvents : lastWorkloadEvents));
        long before = region.events();
        region.armPowerFailure(failAt);
        boolean failed = false;
        try {
            workload.run(fs, new Random(seed), durable, history);
            fs.close();
            if (log) {
                lastLogEvents = region.events() - before;
            } else {
                lastWorkloadEvents = region.events() - before;
            }
        } catch (CrashingRegion.PowerFailure e) {
            failed = true;
        }
        checkpoints += fs.journal.checkpoints();
        fs.abandon();
        region.disarm();
        region.powerFail(new Random(seed), keep);
        String ctx = "seed " + seed + " mode " + mode + " keep " + keep + " failAt " + failAt;
        if (failed && master.nextBoolean()) {
            ctx += recoverWithFailures(region, opts, new Random(seed + 1), keep);
        }
        FileSystem again;
        try {
            again = FileSystem.mount(region, opts);
        } catch (RuntimeException e) {
            throw new AssertionError(ctx + ": mount after the power failure: " + e.getMessage(), e);
        }
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
            checkOrdered(again, FileSystem.ROOT, "", history, durable, ctx);
            if (log) {
                checkLog(again, ctx);
            }
        } finally {
            again.close();
        }
        Fsck.Report report = Fsck.check(region, false);
        assertEquals(List.of(), report.problems(), ctx + ": fsck");
        return failed;
    }

    /**
     * Recovers from a power failure while the power keeps failing: a mount (journal replay,
     * orphan removal) and the unmount after it (commit, checkpoint), with a failure armed at a
     * random store or persist of them; up to two failures in a row. Returns where they struck.
     */
    private static String recoverWithFailures(CrashingRegion region, MountOptions opts, Random rnd, double keep) {
        StringBuilder where = new StringBuilder();
        for (int attempt = 0; attempt < 2; attempt++) {
            long at = 1 + rnd.nextLong(Math.max(1, lastRecoveryEvents));
            long before = region.events();
            region.armPowerFailure(at);
            FileSystem fs = null;
            try {
                fs = FileSystem.mount(region, opts);
                fs.close();
                lastRecoveryEvents = region.events() - before;
                region.disarm();
                return where.toString(); // recovered: the region is clean
            } catch (CrashingRegion.PowerFailure e) {
                if (fs == null) {
                    mountFailures++;
                    where.append(", failure during the recovery mount at event ").append(at);
                } else {
                    closeFailures++;
                    where.append(", failure during the unmount after recovery at event ").append(at);
                    fs.abandon();
                }
            } catch (RuntimeException e) {
                throw new AssertionError("recovery mount " + (attempt + 1) + where + ": " + e.getMessage(), e);
            }
            region.disarm();
            region.powerFail(rnd, keep);
        }
        return where.toString();
    }

    /**
     * The log after a power failure: at least as long as at its last fsync, and each byte of that
     * length holds what the fsync made durable, or a byte of a write in flight since.
     */
    private static void checkLog(FileSystem fs, String ctx) {
        if (logSynced == null || logSynced.length == 0) {
            return;
        }
        long ino = fs.resolve("/log");
        long size = fs.getattr(ino).size();
        assertTrue(size >= logSynced.length, ctx + ": log shorter (" + size + ") than at its last fsync (" + logSynced.length + ")");
        byte[] data = FileSystemTest.read(fs, ino, 0, logSynced.length);
        for (int i = 0; i < logSynced.length; i++) {
            if (data[i] != logSynced[i] && !inFlight(i, data[i])) {
                throw new AssertionError(ctx + ": log byte " + i + " differs from its last fsync and from every write since");
            }
        }
        logsChecked++;
    }

    private static boolean inFlight(int pos, byte b) {
        for (Write w : logPending) {
            if (pos >= w.pos() && pos < w.pos() + w.data().length && w.data()[(int) (pos - w.pos())] == b) {
                return true;
            }
        }
        return false;
    }

    /** Operations on a mounted filesystem that record what is durable and every write. */
    @FunctionalInterface
    private interface Workload {
        void run(FileSystem fs, Random rnd, Map<String, byte[]> durable, Map<Long, List<Write>> history);
    }

    /** The log workload of {@link #powerFailure_inAWrittenThroughLog_keepsFsyncedRecords}. */
    private static void logWorkload(FileSystem fs, Random rnd, Map<String, byte[]> durable, Map<Long, List<Write>> history) {
        logSynced = null;
        logPending = new ArrayList<>();
        long log = fs.create(FileSystem.ROOT, "log", 0644, 0, 0);
        byte[] cur = new byte[0];
        for (int op = 0; op < 40; op++) {
            if (op % 10 == 5) { // a scratch file, written, synced and deleted: its blocks hold foreign data
                long tmp = fs.create(FileSystem.ROOT, "tmp", 0644, 0, 0);
                byte[] junk = FileSystemTest.bytes(20_000, rnd.nextLong());
                history.computeIfAbsent(tmp, k -> new ArrayList<>()).add(new Write(0, junk));
                FileSystemTest.write(fs, tmp, 0, junk);
                fs.fsync(tmp);
                fs.unlink(FileSystem.ROOT, "tmp");
            }
            int writes = rnd.nextInt(6) == 0 ? 2 : 1;
            for (int w = 0; w < writes; w++) {
                byte[] data = FileSystemTest.bytes(1 + rnd.nextInt(rnd.nextBoolean() ? 300 : 9000), rnd.nextLong());
                int where = rnd.nextInt(8);
                long pos = where < 2 && cur.length > 0 ? rnd.nextInt(cur.length) // an overwrite
                        : where == 2 ? cur.length + rnd.nextInt(6000) // past the end: the gap must read as zeros
                        : cur.length;
                durable.remove("/log");
                history.computeIfAbsent(log, k -> new ArrayList<>()).add(new Write(pos, data));
                logPending.add(new Write(pos, data));
                FileSystemTest.write(fs, log, pos, data);
                byte[] next = java.util.Arrays.copyOf(cur, (int) Math.max(cur.length, pos + data.length));
                System.arraycopy(data, 0, next, (int) pos, data.length);
                cur = next;
            }
            if (rnd.nextInt(5) == 0) {
                FileSystemTest.read(fs, log, 0, cur.length);
            }
            fs.fsync(log);
            durable.put("/log", cur.clone());
            logSynced = cur.clone();
            logPending.clear();
            if (op == 10 && fs.stats().direct().userBytes() > 0) {
                writtenThrough++;
            }
        }
    }

    /** One pwrite of a workload, remembered for the data=ordered check. */
    private record Write(long pos, byte[] data) {
    }

    /**
     * data=ordered after a crash: every byte of every regular file is zero or a byte that some
     * write once put at that offset of that inode. Under the mutation (data written back after
     * its commit), files show blocks of other, deleted files. Also reads every file.
     */
    private static void checkOrdered(FileSystem fs, long dir, String prefix, Map<Long, List<Write>> history,
            Map<String, byte[]> durable, String ctx) {
        for (FileSystem.DirEntry e : fs.readdir(dir)) {
            String path = prefix + "/" + e.name();
            Attr a = fs.getattr(e.ino());
            if (a.isDir()) {
                checkOrdered(fs, e.ino(), path, history, durable, ctx);
                continue;
            }
            if (!a.isRegular()) {
                continue;
            }
            byte[] data = FileSystemTest.read(fs, e.ino(), 0, (int) a.size());
            assertEquals(a.size(), data.length, ctx + ": short read of " + path);
            boolean[] explained = new boolean[data.length];
            for (int i = 0; i < data.length; i++) {
                explained[i] = data[i] == 0;
            }
            for (Write w : history.getOrDefault(e.ino(), List.of())) {
                for (int j = 0; j < w.data().length && w.pos() + j < data.length; j++) {
                    if (data[(int) w.pos() + j] == w.data()[j]) {
                        explained[(int) w.pos() + j] = true;
                    }
                }
            }
            for (int i = 0; i < data.length; i++) {
                if (!explained[i]) {
                    throw new AssertionError(ctx + ": " + path + " (inode " + e.ino() + ") holds a byte at offset " + i
                            + " that was never written to it: another file's data (data=ordered broken)");
                }
            }
            if (!durable.containsKey(path)) {
                orderedFiles++;
            }
        }
    }

    /**
     * Random operations on a few files; {@code durable} holds, for each path whose last change
     * was followed by an fsync, the content that fsync made durable; {@code history} every write
     * to each inode (recorded before it starts, since the power may fail in the middle).
     */
    private static void workload(FileSystem fs, Random rnd, Map<String, byte[]> durable, Map<Long, List<Write>> history) {
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
                    history.computeIfAbsent(ino, k -> new ArrayList<>()).add(new Write(pos, data));
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
                    if (rnd.nextBoolean()) {
                        // A checkpoint, as a full log or an unmount forces one: the line log fills
                        // too slowly here for crashes to strike its checkpoints often enough.
                        fs.lock.lock();
                        try {
                            fs.checkpoint();
                        } finally {
                            fs.lock.unlock();
                        }
                    }
                    durable.clear();
                    content.forEach((k, v) -> durable.put(k, v.clone()));
                }
            }
        }
    }
}
