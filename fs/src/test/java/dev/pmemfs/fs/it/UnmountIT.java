package dev.pmemfs.fs.it;

import static dev.pmemfs.fs.it.Pmemfs.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Unmounting while a program is writing: nothing that was fsync'd is lost, and the daemon still
 * shuts down cleanly (the next mount replays nothing, fsck is clean).
 *
 * <p>The writer works from inside the mount (its working directory), writing files of five
 * sizes with {@code dd conv=fsync} and noting each one outside the mount once dd returned. Two
 * ways to pull the mount from under it: a lazy unmount ({@code fusermount3 -u -z}: the mount
 * leaves the tree at once, the writer goes on writing into the detached filesystem, and the
 * daemon ends when the writer's last reference goes, here a kill -9 of the writer in the middle
 * of a dd); and {@code umount -f} (the kernel aborts the FUSE connection: requests in flight
 * fail, the writer's next write fails, the daemon reads ENODEV and ends). Mutation checked by
 * hand: a worker that halts the daemon on ENODEV instead of returning fails both cases (the next
 * mount replays the journal).
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
final class UnmountIT {
    /** Exit status of the writer when a write into the mount fails. */
    private static final int WRITE_FAILED = 3;
    private static final List<Integer> SIZES = List.of(1, 37, 4096, 100_000, 300_001);

    @ParameterizedTest
    @ValueSource(strings = {"lazy", "force"})
    void unmountWhileWriting_fsyncedFilesIntact_daemonEndsClean(String how) throws IOException, InterruptedException {
        Path work = Files.createTempDirectory("pmemfs-unmount-it");
        Path mnt = Files.createDirectory(work.resolve("mnt"));
        Path done = work.resolve("done");
        Path region = Pmemfs.newRegion("128M");
        Process writer = null;
        try (Pmemfs.Mount m = Pmemfs.Mount.start(region, mnt, true)) {
            try {
                StringBuilder src = new StringBuilder("set -e; mkdir '" + work + "/src'; mkdir '" + mnt + "/w'");
                for (int s : SIZES) {
                    src.append("; head -c ").append(s).append(" /dev/urandom > '").append(work).append("/src/").append(s).append('\'');
                }
                sh(src.toString()).ok();
                String sizes = String.join(" ", SIZES.stream().map(String::valueOf).toList());
                String script = "cd '" + mnt + "/w' || exit 2; sizes=(" + sizes + "); i=0; while :; do i=$((i+1)); s=${sizes[$((i % 5))]};"
                        + " dd if='" + work + "/src/'$s of=f$i bs=64k conv=fsync status=none || exit " + WRITE_FAILED
                        + "; echo $i $s >> '" + done + "'; done";
                writer = new ProcessBuilder("bash", "-c", script).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                long before = Pmemfs.waitForCount(done, 20, writer);

                if (how.equals("lazy")) {
                    sh("fusermount3 -u -z '" + mnt + "'").ok();
                    assertFalse(Pmemfs.mounted(mnt), "the lazy unmount left the mount in the tree");
                    // The writer goes on in the detached filesystem: requests after the unmount.
                    long after = Pmemfs.waitForCount(done, before + 20, writer);
                    assertTrue(writer.isAlive(), "the writer stopped after a lazy unmount (" + before + " -> " + after + " files)");
                    writer.destroyForcibly(); // mid-dd: its last reference goes with a write in flight
                    assertTrue(writer.waitFor(20, TimeUnit.SECONDS), "the writer did not die");
                } else {
                    Pmemfs.Result r = sh("umount -f '" + mnt + "'");
                    assertTrue(writer.waitFor(30, TimeUnit.SECONDS), "the writer went on writing after umount -f aborted the connection");
                    assertEquals(WRITE_FAILED, writer.exitValue(), "the writer did not fail on a write (umount -f: " + r + ")");
                }
                ProcessHandle daemon = ProcessHandle.of(m.pid).orElse(null);
                if (daemon != null) {
                    assertTrue(waitForExit(daemon, 60), "the daemon did not end after the " + how + " unmount");
                }
                for (int i = 0; i < 50 && Pmemfs.mounted(mnt); i++) {
                    Thread.sleep(100); // umount -f leaves a dead mount for auto_unmount to remove
                }
                assertFalse(Pmemfs.mounted(mnt), "a dead mount was left after the " + how + " unmount");

                m.mount();
                assertFalse(m.mountLog.contains("replayed"), "the daemon did not shut down cleanly:\n" + m.mountLog);
                List<String> fsynced = Files.readAllLines(done);
                assertTrue(fsynced.size() >= 20, "only " + fsynced.size() + " files were written");
                StringBuilder cmp = new StringBuilder("set -e");
                for (String line : fsynced) {
                    String[] f = line.split(" ");
                    cmp.append("; cmp '").append(work).append("/src/").append(f[1])
                            .append("' '").append(mnt).append("/w/f").append(f[0]).append('\'');
                }
                sh(cmp.toString()).ok();
                m.unmount();
                Pmemfs.Result fsck = Pmemfs.pmemfs("fsck", region.toString());
                assertEquals(0, fsck.code(), fsck.out() + fsck.err());
            } finally {
                if (writer != null) {
                    writer.destroyForcibly(); // before the mount closes: its unmount needs the mount idle
                    writer.waitFor(10, TimeUnit.SECONDS);
                }
            }
        } finally {
            sh("rm -rf '" + work + "'");
        }
        assertFalse(Pmemfs.mounted(mnt));
    }

    /** A plain unmount of a busy mount is refused in one line, and the mount goes on serving. */
    @Test
    void umountOfBusyMount_refusedInOneLine_mountKeepsServing() throws IOException, InterruptedException {
        Path work = Files.createTempDirectory("pmemfs-unmount-it");
        Path mnt = Files.createDirectory(work.resolve("mnt"));
        Path region = Pmemfs.newRegion("64M");
        try (Pmemfs.Mount m = Pmemfs.Mount.start(region, mnt, true)) {
            sh("echo kept > '" + mnt + "/a'").ok();
            Process holder = new ProcessBuilder("bash", "-c", "cd '" + mnt + "' && exec sleep 120").start();
            try {
                for (int i = 0; i < 50 && !cwdIn(holder, mnt); i++) {
                    Thread.sleep(50);
                }
                assertTrue(cwdIn(holder, mnt), "the holder did not enter the mount");
                Pmemfs.Result r = Pmemfs.pmemfs("umount", mnt.toString());
                assertNotEquals(0, r.code(), "umount of a busy mount succeeded");
                assertEquals(1, r.err().strip().lines().count(), "not one line: " + r.err());
                assertTrue(r.err().contains("busy"), "the error does not say busy: " + r.err());
                assertTrue(Pmemfs.mounted(mnt), "the mount is gone");
                assertEquals("kept\n", sh("cat '" + mnt + "/a'").ok().out());
            } finally {
                holder.destroyForcibly(); // before the mount closes: its unmount needs the mount idle
                holder.waitFor(10, TimeUnit.SECONDS);
            }
        } finally {
            sh("rm -rf '" + work + "'");
        }
        assertFalse(Pmemfs.mounted(mnt));
    }

    private static boolean cwdIn(Process p, Path dir) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "cwd")).equals(dir);
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean waitForExit(ProcessHandle h, int seconds) throws InterruptedException {
        try {
            h.onExit().get(seconds, TimeUnit.SECONDS);
            return true;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return false;
        }
    }
}
