package dev.pmemfs.fs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pmemfs.device.PmemRegion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each user mistake, typed as a user types it ({@code bin/pmemfs} run as a process, so the
 * launcher's own shell code is exercised too), is one line on stderr and the documented exit
 * status (1 refused, 2 usage; fsck: 8 operational, 16 usage), with no Java stack trace.
 * Only the test of a FUSE option the frontend rejects depends on the frontend; the others run
 * in the default build's pass only.
 *
 * <p>Mutations checked by hand (red, then green once restored): the launcher's old
 * {@code to_bytes} (dies under {@code set -e} on {@code --cache-size lots}: exit 1, nothing on
 * stderr); {@code MountCommand} without its {@code FuseException} handling (a FUSE option
 * libfuse rejects ended as "internal error", exit 70; before {@code Main} kept stack traces
 * for {@code --debug}, a 17-line one); {@code FsckCommand} without
 * {@code EXIT_OPERATIONAL} (a missing region exited 1, "repaired").
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
final class CliErrorsIT {
    @TempDir
    Path dir;
    Path region;
    Path mnt;

    @BeforeEach
    void setUp() throws IOException {
        region = dir.resolve("r.region");
        mnt = Files.createDirectory(dir.resolve("mnt"));
    }

    @AfterEach
    void nothingLeft() {
        try {
            assertFalse(Pmemfs.mounted(mnt), "a failed command left a mount at " + mnt);
        } finally {
            if (Pmemfs.mounted(mnt)) {
                Pmemfs.sh("fusermount -u -z '" + mnt + "'");
            }
        }
    }

    /** The frontend-independent tests run once, not again in the jnr-fuse pass of the build. */
    private static void onePassOnly() {
        assumeTrue(!Pmemfs.FRONTEND.equals("jnr-fuse"), "frontend-independent: run in the default pass");
    }

    /** Runs bin/pmemfs; asserts exit {@code code} and exactly one error line containing {@code expect}; returns it. */
    private static String fails(int code, String expect, String... args) {
        Pmemfs.Result r = Pmemfs.pmemfs(args);
        String cmd = "pmemfs " + String.join(" ", args);
        List<String> lines = r.err().lines().toList();
        assertEquals(1, lines.size(), cmd + ": not one line on stderr (exit " + r.code() + "):\n" + r.err());
        String line = lines.get(0);
        assertTrue(line.startsWith("pmemfs"), cmd + ": " + line);
        assertTrue(line.contains(expect), cmd + ": '" + expect + "' not in: " + line);
        assertFalse(line.contains("Exception") || line.contains("\tat "), cmd + ": " + line);
        assertEquals(code, r.code(), cmd + ": exit status (stderr: " + line + ")");
        return line;
    }

    private void mkfs() {
        Pmemfs.pmemfs("mkfs", "--size", "16M", region.toString()).ok();
    }

    @Test
    void mkfs_userMistakes_oneLineEach() {
        onePassOnly();
        fails(1, "give --size", "mkfs", region.toString());
        fails(2, "is not a size", "mkfs", "--size", "12Q", region.toString());
        fails(2, "is not a size", "mkfs", "--size", "1.5G", region.toString());
        fails(1, "smaller than the minimum", "mkfs", "--size", "1M", region.toString());
        fails(2, "--root-owner wants UID:GID", "mkfs", "--root-owner", "bob", "--size", "16M", region.toString());
        fails(2, "--root-owner wants UID:GID", "mkfs", "--root-owner", "1000:-1", "--size", "16M", region.toString());
        assertFalse(Files.exists(region), "a usage error creates no region");
        mkfs();
        fails(1, "--force", "mkfs", region.toString());
    }

    /** The root directory belongs to whoever mkfs names (by default the user running it: root here). */
    @Test
    void mkfs_rootOwner_ownsTheMountedRoot() throws IOException {
        onePassOnly();
        Pmemfs.pmemfs("mkfs", "--size", "16M", "--root-owner", "1234:5678", region.toString()).ok();
        try (Pmemfs.Mount m = Pmemfs.Mount.start(region, mnt, false)) {
            assertEquals(1234, Files.getAttribute(mnt, "unix:uid"));
            assertEquals(5678, Files.getAttribute(mnt, "unix:gid"));
        }
        Pmemfs.pmemfs("mkfs", "--size", "16M", "--force", region.toString()).ok();
        try (Pmemfs.Mount m = Pmemfs.Mount.start(region, mnt, false)) {
            assertEquals(0, Files.getAttribute(mnt, "unix:uid"), "mkfs run by root");
        }
    }

    @Test
    void mount_badSizesAndOptions_oneLineEach() {
        onePassOnly();
        mkfs();
        String r = region.toString();
        String m = mnt.toString();
        fails(2, "'lots' is not a size", "mount", "--cache-size", "lots", r, m);
        fails(2, "'12Q' is not a size", "mount", "--cache-size", "12Q", r, m);
        fails(2, "'1.5G' is not a size", "mount", "--cache-size", "1.5G", r, m);
        fails(2, "'lots' is not a size", "mount", "--cache-size=lots", r, m);
        fails(2, "cache_size=lots", "mount", "-o", "cache_size=lots", r, m);
        fails(2, "writeback_delay=soon", "mount", "-o", "dax=inode,writeback_delay=soon", r, m);
        fails(2, "--cache-size must be at least 1M", "mount", "--cache-size", "4K", r, m);
        fails(2, "--dax must be never, always or inode", "mount", "--dax=sometimes", r, m);
        fails(2, "not a duration", "mount", "--writeback-delay", "soon", r, m);
        fails(2, "Unknown option", "mount", "--bogus", r, m);
    }

    /**
     * The frontend rejects the option after the region is open (libfuse 2 for jnr-fuse,
     * fusermount3 for the kernel frontend): in the foreground, the background, and the mount
     * helper form. One line naming the option, exit 1.
     */
    @Test
    void mount_fuseOptionTheFrontendRejects_oneLine_noLogLeft() {
        mkfs();
        String r = region.toString();
        String m = mnt.toString();
        for (List<String> args : List.of(List.of("mount", "-o", "bogus_opt", r, m),
                List.of("mount", "--background", "-o", "bogus_opt", r, m), List.of(r, m, "-o", "rw,bogus_opt"))) {
            List<String> words = new ArrayList<>(args);
            if (!Pmemfs.FRONTEND.isEmpty()) {
                words.add(words.get(0).equals("mount") ? 1 : 2, "--frontend=" + Pmemfs.FRONTEND);
            }
            String line = fails(1, "bogus_opt", words.toArray(new String[0]));
            assertTrue(line.contains("unknown option"), line);
        }
        Path log = Path.of("/run/pmemfs", mnt.toString().replace('/', '-').replaceAll("^-+", "") + ".log");
        assertFalse(Files.exists(log), "the failed background mount left its log " + log);
        Pmemfs.Result fsck = Pmemfs.pmemfs("fsck", r);
        assertEquals(0, fsck.code(), "the refused mounts left the region unclean: " + fsck.out() + fsck.err());
    }

    @Test
    void mount_userMistakes_oneLineEach() throws IOException {
        onePassOnly();
        fails(1, "does not exist", "mount", dir.resolve("none.region").toString(), mnt.toString());
        mkfs();
        fails(1, "does not exist", "mount", region.toString(), dir.resolve("nomnt").toString());
        fails(1, "not a directory", "mount", region.toString(), region.toString());
        Files.writeString(mnt.resolve("file"), "x");
        fails(1, "not empty", "mount", region.toString(), mnt.toString());
        Files.delete(mnt.resolve("file"));
        try (PmemRegion held = PmemRegion.open(region)) { // this JVM holds the region's lock
            assertTrue(held.size() > 0);
            fails(1, "already in use", "mount", region.toString(), mnt.toString());
            fails(1, "already in use", "mount", "--background", region.toString(), mnt.toString());
            fails(8, "already in use", "fsck", region.toString());
        }
        Path blank = dir.resolve("blank.region");
        PmemRegion.create(blank, 16L << 20, false).close();
        fails(1, "not a pmemfs region", "mount", blank.toString(), mnt.toString());
        fails(8, "not a pmemfs region", "fsck", blank.toString());
    }

    @Test
    void otherCommands_userMistakes_oneLineEach() {
        onePassOnly();
        fails(1, "is not mounted", "umount", mnt.toString());
        fails(1, "does not exist", "stats", dir.resolve("nothing").toString());
        fails(1, "not a pmemfs mount point", "stats", mnt.toString());
        fails(8, "does not exist", "fsck", dir.resolve("nothing").toString());
        fails(16, "Unknown option", "fsck", "--bogus", dir.resolve("nothing").toString());
        fails(2, "a command is required");
        fails(2, "Unknown option", "mount", "--bogus", "a", "b");
    }
}
