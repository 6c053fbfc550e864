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

/** With --dax=inode the per-file flag, set by xfs_io or pmemfs dax, moves a file's I/O between the cache and the direct path. */
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

            long[] s0 = userBytes(mnt);
            write1M(f);
            long[] s1 = userBytes(mnt);
            assertTrue(s1[0] - s0[0] >= 1 << 20 && s1[1] == s0[1], "flag off: cached path expected");

            sh("xfs_io -c 'chattr +x' '" + f + "'").ok();
            assertTrue(sh("xfs_io -c lsattr '" + f + "'").ok().out().contains("x"));
            assertEquals(f + ": dax on\n", pmemfs("dax", f.toString()).ok().out());
            write1M(f);
            long[] s2 = userBytes(mnt);
            assertTrue(s2[1] - s1[1] >= 1 << 20 && s2[0] == s1[0], "flag on: direct path expected");

            assertEquals(f + ": dax off\n", pmemfs("dax", "--clear", f.toString()).ok().out());
            assertFalse(sh("xfs_io -c lsattr '" + f + "'").ok().out().contains("x "));
            write1M(f);
            long[] s3 = userBytes(mnt);
            assertTrue(s3[0] - s2[0] >= 1 << 20 && s3[1] == s2[1], "flag cleared: cached path again");

            Path d = mnt.resolve("d");
            Files.createDirectory(d);
            pmemfs("dax", "--set", d.toString()).ok();
            sh("echo y > '" + d + "/child'").ok();
            assertEquals(d + "/child: dax on\n", pmemfs("dax", d + "/child").ok().out(), "inherited from the directory");
            assertTrue(sh("lsattr -d '" + d + "'").ok().out().contains("x"), "lsattr (FS_IOC_GETFLAGS) shows it");
        } finally {
            sh("rm -rf '" + work + "'");
        }
        assertFalse(Pmemfs.mounted(mnt));
    }
}
