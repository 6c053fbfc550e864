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

/** kill -9 of the daemon during writes: the next mount replays the journal, fsck is clean, fsync'd files are intact. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
final class CrashIT {
    @Test
    void kill9DuringWrites_remountReplays_fsyncedFilesIntact() throws IOException, InterruptedException {
        Path work = Files.createTempDirectory("pmemfs-crash-it");
        Path mnt = Files.createDirectory(work.resolve("mnt"));
        Path region = Pmemfs.newRegion("128M");
        try (Pmemfs.Mount m = Pmemfs.Mount.start(region, mnt, true)) {
            sh("set -e; mkdir -p " + work + "/want; for i in $(seq 1 20); do head -c $((i * 20000)) /dev/urandom > "
                    + work + "/want/f$i; dd if=" + work + "/want/f$i of='" + mnt + "/f'$i bs=64k conv=fsync status=none; done").ok();
            Process writer = new ProcessBuilder("bash", "-c", "i=0; while :; do i=$((i+1)); mkdir -p '" + mnt + "/busy/'$i;"
                    + " head -c 300000 /dev/urandom > '" + mnt + "/busy/'$i/x 2>/dev/null || exit 0; done")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            Thread.sleep(1500);
            m.kill9();
            writer.waitFor(10, TimeUnit.SECONDS);
            writer.destroyForcibly();
            for (int i = 0; i < 50 && Pmemfs.mounted(mnt); i++) {
                Thread.sleep(100); // auto_unmount removes the dead mount
            }
            assertFalse(Pmemfs.mounted(mnt), "auto_unmount did not remove the mount of the killed daemon");

            m.mount();
            assertTrue(m.mountLog.contains("replayed") || m.mountLog.contains("not cleanly unmounted"), m.mountLog);
            sh("diff -r " + work + "/want '" + mnt + "' -x busy").ok();
            m.unmount();
            Pmemfs.Result fsck = Pmemfs.pmemfs("fsck", region.toString());
            assertEquals(0, fsck.code(), fsck.out() + fsck.err());
        } finally {
            sh("rm -rf '" + work + "'");
        }
        assertFalse(Pmemfs.mounted(mnt));
    }
}
