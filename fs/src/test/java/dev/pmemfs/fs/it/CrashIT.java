package dev.pmemfs.fs.it;

import static dev.pmemfs.fs.it.Pmemfs.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * kill -9 of the daemon while writes are in flight: the next mount replays the journal, fsck is
 * clean, fsync'd files are intact.
 *
 * <p>Replay is certain, not hoped for: the fsync'd files committed transactions, and the log
 * keeps its newest transaction until an unmount checkpoints it. The writer proves it was
 * writing: its progress counter (kept outside the mount) grows just before the kill, and its
 * next write fails because of the kill. Mutation checked by hand (red, then green once
 * restored): {@code FileSystem.mount} without {@code Journal.replay} (the earlier test also
 * accepted "not cleanly unmounted").
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
final class CrashIT {
    /** Exit status of the writer when a write into the mount fails: the kill struck it mid-stream. */
    private static final int WRITE_FAILED = 3;

    @Test
    void kill9DuringWrites_remountReplays_fsyncedFilesIntact() throws IOException, InterruptedException {
        Path work = Files.createTempDirectory("pmemfs-crash-it");
        Path mnt = Files.createDirectory(work.resolve("mnt"));
        Path progress = work.resolve("progress");
        Path region = Pmemfs.newRegion("128M");
        Process writer = null;
        try (Pmemfs.Mount m = Pmemfs.Mount.start(region, mnt, true)) {
            sh("set -e; mkdir -p " + work + "/want; for i in $(seq 1 20); do head -c $((i * 20000)) /dev/urandom > "
                    + work + "/want/f$i; dd if=" + work + "/want/f$i of='" + mnt + "/f'$i bs=64k conv=fsync status=none; done").ok();
            writer = new ProcessBuilder("bash", "-c", "i=0; while :; do i=$((i+1)); mkdir -p '" + mnt + "/busy/'$i"
                    + " && head -c 300000 /dev/urandom > '" + mnt + "/busy/'$i/x || exit " + WRITE_FAILED
                    + "; echo $i > '" + progress + "'; done")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            long before = Pmemfs.waitForCount(progress, 3, writer);
            long after = Pmemfs.waitForCount(progress, before + 2, writer);
            assertTrue(writer.isAlive() && after > before, "the writer is not writing: " + before + " -> " + after);
            m.kill9();
            assertTrue(writer.waitFor(20, TimeUnit.SECONDS), "the writer did not notice the kill");
            assertEquals(WRITE_FAILED, writer.exitValue(), "the kill did not interrupt a write in flight");
            for (int i = 0; i < 50 && Pmemfs.mounted(mnt); i++) {
                Thread.sleep(100); // auto_unmount removes the dead mount
            }
            assertFalse(Pmemfs.mounted(mnt), "auto_unmount did not remove the mount of the killed daemon");

            m.mount();
            assertTrue(m.mountLog.contains("replayed the journal"), "no journal replay after kill -9:\n" + m.mountLog);
            sh("diff -r " + work + "/want '" + mnt + "' -x busy").ok();
            m.unmount();
            Pmemfs.Result fsck = Pmemfs.pmemfs("fsck", region.toString());
            assertEquals(0, fsck.code(), fsck.out() + fsck.err());
        } finally {
            if (writer != null) {
                writer.destroyForcibly();
            }
            sh("rm -rf '" + work + "'");
        }
        assertFalse(Pmemfs.mounted(mnt));
    }

    /**
     * kill -9 under load with wear counters saved every second: the counters the next mount
     * reads lose at most about one save period (compared with live figures sampled before the kill).
     */
    @Test
    void kill9UnderLoad_wearCountersLoseAtMostOnePeriod() throws IOException, InterruptedException {
        Path work = Files.createTempDirectory("pmemfs-crash-wear-it");
        Path mnt = Files.createDirectory(work.resolve("mnt"));
        Path region = Pmemfs.newRegion("128M");
        try (Pmemfs.Mount m = Pmemfs.Mount.start(region, mnt, true, "--wear-save-interval", "1s")) {
            Process writer = new ProcessBuilder("bash", "-c", "i=0; while :; do i=$((i+1));"
                    + " dd if=/dev/urandom of='" + mnt + "/w'$((i % 8)) bs=64k count=4 conv=fsync status=none 2>/dev/null || exit 0; done")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            long[] at = new long[40];
            long[] bytes = new long[40];
            int n = 0;
            long start = System.nanoTime();
            while (n < at.length) {
                Thread.sleep(100);
                bytes[n] = liveBytesWritten(mnt);
                at[n++] = System.nanoTime(); // after the answer: the figure is at least this old
            }
            long killed = System.nanoTime();
            m.kill9();
            writer.waitFor(10, TimeUnit.SECONDS);
            writer.destroyForcibly();
            for (int i = 0; i < 50 && Pmemfs.mounted(mnt); i++) {
                Thread.sleep(100);
            }
            Pmemfs.Result stats = Pmemfs.pmemfs("stats", "--json", region.toString());
            long saved = field(stats.out(), "region_bytes_written");
            assertTrue(stats.out().contains("\"areas\": [{\"area\": \"superblock\""), "wear by area of the region: " + stats.out());
            // the last sample taken at least 1.5 s (one period and a margin) before the kill
            long floor = 0;
            for (int i = 0; i < n; i++) {
                if (killed - at[i] >= 1_500_000_000L) {
                    floor = bytes[i];
                }
            }
            assertTrue(bytes[n - 1] > bytes[0] && floor > bytes[0], "the load wrote nothing: " + bytes[0] + " .. " + bytes[n - 1]
                    + " in " + (killed - start) / 1_000_000 + " ms");
            assertTrue(saved >= floor, "saved wear " + saved + " lost more than one period (live " + floor + " 1.5 s before the kill)");
            assertTrue(saved <= bytes[n - 1] + (64L << 20), "saved wear " + saved + " beyond the live figures " + bytes[n - 1]);
            m.mount();
            m.unmount();
        } finally {
            sh("rm -rf '" + work + "'");
        }
        assertFalse(Pmemfs.mounted(mnt));
    }

    private static long liveBytesWritten(Path mnt) throws IOException {
        var v = Files.getFileAttributeView(mnt, java.nio.file.attribute.UserDefinedFileAttributeView.class);
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(v.size("pmemfs.stats") + 4096); // the figures may grow in between
        v.read("pmemfs.stats", buf);
        return field(new String(buf.array(), 0, buf.position(), java.nio.charset.StandardCharsets.UTF_8), "region_bytes_written");
    }

    private static long field(String json, String key) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + key + "\": (\\d+)").matcher(json);
        assertTrue(m.find(), key + " in " + json);
        return Long.parseLong(m.group(1));
    }
}
