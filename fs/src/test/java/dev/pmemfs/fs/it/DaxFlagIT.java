package dev.pmemfs.fs.it;

import static dev.pmemfs.fs.it.Pmemfs.pmemfs;
import static dev.pmemfs.fs.it.Pmemfs.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * With --dax=inode the per-file flag, set by xfs_io or pmemfs dax, moves a file's I/O between
 * the cache and the direct path, and shows in {@code xfs_io -c lsattr} (FS_IOC_FSGETXATTR) and
 * {@code lsattr} (FS_IOC_GETFLAGS).
 *
 * <p>The flags are read from the first word of each tool's line, never from the whole line:
 * the path itself ("...pmemfs-dax-it...") holds an "x". Mutations checked by hand (red, then
 * green once restored): {@code DaxIoctl} answering FS_IOC_GETFLAGS with 0 (the earlier test,
 * which searched the whole line, passed), and with FS_DAX_FL always.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
final class DaxFlagIT {
    private static final Pattern DIRECT = Pattern.compile("\"direct\": \\{\"user_bytes\": (\\d+)");
    private static final Pattern CACHED = Pattern.compile("\"cache\": \\{.*?\"user_bytes\": (\\d+)");

    private static long[] userBytes(Path mnt) {
        String json = pmemfs("stats", "--json", mnt.toString()).ok().out();
        Matcher c = CACHED.matcher(json);
        Matcher d = DIRECT.matcher(json);
        assertTrue(c.find() && d.find(), json);
        return new long[]{Long.parseLong(c.group(1)), Long.parseLong(d.group(1))};
    }

    /** Whether the flags word (the first word of an lsattr line) shows the DAX letter 'x'. */
    private static boolean daxShown(String lsattrLine) {
        String flags = lsattrLine.strip().split("\\s+")[0];
        assertTrue(flags.matches("[-a-zA-Z]+"), "not a flags word: " + lsattrLine);
        return flags.indexOf('x') >= 0;
    }

    private static boolean xfsIoShowsDax(Path f) {
        return daxShown(sh("xfs_io -c lsattr '" + f + "'").ok().out());
    }

    private static boolean lsattrShowsDax(Path f) {
        return daxShown(sh("lsattr -d '" + f + "'").ok().out());
    }

    private static void write1M(Path f) {
        sh("dd if=/dev/urandom of='" + f + "' bs=64k count=16 conv=notrunc,fsync status=none").ok();
    }

    @Test
    void daxFlag_togglesWithXfsIoAndPmemfsDax_andMovesTheIoPath() throws IOException {
        Path work = Files.createTempDirectory("pmemfs-dax-it");
        Path mnt = Files.createDirectory(work.resolve("mnt"));
        try (Pmemfs.Mount m = Pmemfs.Mount.start(Pmemfs.newRegion("128M"), mnt, true, "--dax=inode")) {
            Path f = m.mnt.resolve("f");
            sh("echo x > '" + f + "'").ok();
            assertEquals(f + ": dax off\n", pmemfs("dax", f.toString()).ok().out());
            assertFalse(xfsIoShowsDax(f), "xfs_io lsattr, flag off");
            assertFalse(lsattrShowsDax(f), "lsattr, flag off");

            long[] s0 = userBytes(mnt);
            write1M(f);
            long[] s1 = userBytes(mnt);
            assertTrue(s1[0] - s0[0] >= 1 << 20 && s1[1] == s0[1], "flag off: cached path expected");

            sh("xfs_io -c 'chattr +x' '" + f + "'").ok();
            assertTrue(xfsIoShowsDax(f), "xfs_io lsattr after chattr +x");
            assertTrue(lsattrShowsDax(f), "lsattr after chattr +x");
            assertEquals(f + ": dax on\n", pmemfs("dax", f.toString()).ok().out());
            write1M(f);
            long[] s2 = userBytes(mnt);
            assertTrue(s2[1] - s1[1] >= 1 << 20 && s2[0] == s1[0], "flag on: direct path expected");

            assertEquals(f + ": dax off\n", pmemfs("dax", "--clear", f.toString()).ok().out());
            assertFalse(xfsIoShowsDax(f), "xfs_io lsattr after pmemfs dax --clear");
            assertFalse(lsattrShowsDax(f), "lsattr after pmemfs dax --clear");
            write1M(f);
            long[] s3 = userBytes(mnt);
            assertTrue(s3[0] - s2[0] >= 1 << 20 && s3[1] == s2[1], "flag cleared: cached path again");

            Path d = mnt.resolve("d");
            Files.createDirectory(d);
            pmemfs("dax", "--set", d.toString()).ok();
            sh("echo y > '" + d + "/child'").ok();
            assertEquals(d + "/child: dax on\n", pmemfs("dax", d + "/child").ok().out(), "inherited from the directory");
            assertTrue(lsattrShowsDax(d), "lsattr (FS_IOC_GETFLAGS) shows it");
            assertTrue(xfsIoShowsDax(d.resolve("child")), "xfs_io shows the inherited flag");
            assertFalse(lsattrShowsDax(mnt), "the root has no flag");
        } finally {
            sh("rm -rf '" + work + "'");
        }
        assertFalse(Pmemfs.mounted(mnt));
    }
}
