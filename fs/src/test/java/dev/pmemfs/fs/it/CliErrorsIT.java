package dev.pmemfs.fs.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pmemfs.device.PmemRegion;
import dev.pmemfs.fs.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Each user mistake is one line on stderr and a non-zero exit, without a stack trace (picocli Main in-process). */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
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

    /** Runs the command line; asserts the failure is exactly one error line containing {@code expect}. */
    private static void fails(String expect, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        assertNotEquals(0, code, String.join(" ", args) + " succeeded");
        List<String> lines = err.toString().lines().toList();
        assertEquals(1, lines.size(), "not one line: " + err);
        assertTrue(lines.get(0).startsWith("pmemfs"), lines.get(0));
        assertTrue(lines.get(0).contains(expect), "'" + expect + "' not in: " + lines.get(0));
        assertFalse(err.toString().contains("Exception"), err.toString());
    }

    private void mkfs() {
        assertEquals(0, Main.run(new String[]{"mkfs", "--size", "16M", region.toString()},
                new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter())));
    }

    @Test
    void mkfs_userMistakes_oneLineEach() {
        fails("give --size", "mkfs", region.toString());
        fails("is not a size", "mkfs", "--size", "12Q", region.toString());
        fails("smaller than the minimum", "mkfs", "--size", "1M", region.toString());
        mkfs();
        fails("--force", "mkfs", region.toString());
    }

    @Test
    void mount_userMistakes_oneLineEach() throws IOException {
        fails("does not exist", "mount", dir.resolve("none.region").toString(), mnt.toString());
        mkfs();
        fails("does not exist", "mount", region.toString(), dir.resolve("nomnt").toString());
        fails("not a directory", "mount", region.toString(), region.toString());
        Files.writeString(mnt.resolve("file"), "x");
        fails("not empty", "mount", region.toString(), mnt.toString());
        Files.delete(mnt.resolve("file"));
        fails("--dax must be never, always or inode", "mount", "--dax=sometimes", region.toString(), mnt.toString());
        fails("not a duration", "mount", "--writeback-delay", "soon", region.toString(), mnt.toString());
        fails("not a size", "mount", "--cache-size", "lots", region.toString(), mnt.toString());
        try (PmemRegion held = PmemRegion.open(region)) {
            assertTrue(held.size() > 0);
            fails("already in use", "mount", region.toString(), mnt.toString());
        }
        Path blank = dir.resolve("blank.region");
        PmemRegion.create(blank, 16L << 20, false).close();
        fails("not a pmemfs region", "mount", blank.toString(), mnt.toString());
        assertFalse(Pmemfs.mounted(mnt));
    }

    @Test
    void otherCommands_userMistakes_oneLineEach() {
        fails("is not mounted", "umount", mnt.toString());
        fails("does not exist", "stats", dir.resolve("nothing").toString());
        fails("not a pmemfs mount point", "stats", mnt.toString());
        fails("does not exist", "fsck", dir.resolve("nothing").toString());
        fails("a command is required");
        fails("Unknown option", "mount", "--bogus", "a", "b");
    }
}
