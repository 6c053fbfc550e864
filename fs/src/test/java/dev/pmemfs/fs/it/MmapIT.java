package dev.pmemfs.fs.it;

import static dev.pmemfs.fs.it.Pmemfs.pmemfs;
import static dev.pmemfs.fs.it.Pmemfs.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Shared read-write mappings of DAX files (opened with direct_io; the kernel frontend asks for
 * FUSE_DIRECT_IO_ALLOW_MMAP): coherent with read(2) and write(2), and durable after msync,
 * in both DAX modes. libfuse 2 cannot ask for it, so this runs on the kernel frontend only.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
final class MmapIT {
    private static final int SIZE = 256 << 10;

    @ParameterizedTest
    @ValueSource(strings = {"always", "inode"})
    void sharedMapping_ofDaxFile_coherentAndDurableAfterMsync(String dax) throws IOException {
        assumeTrue(!Pmemfs.FRONTEND.equals("jnr-fuse"), "libfuse 2 refuses mmap of direct_io files");
        Path work = Files.createTempDirectory("pmemfs-mmap-it");
        Path mnt = Files.createDirectory(work.resolve("mnt"));
        try (Pmemfs.Mount m = Pmemfs.Mount.start(Pmemfs.newRegion("128M"), mnt, true, "--dax=" + dax)) {
            Path dir = mnt.resolve("db");
            Files.createDirectory(dir);
            if (dax.equals("inode")) {
                pmemfs("dax", "--set", dir.toString()).ok();
            }
            Path f = dir.resolve("f");
            byte[] want = new byte[SIZE];
            new Random(7).nextBytes(want);
            Files.write(f, want);
            if (dax.equals("inode")) {
                assertEquals(f + ": dax on\n", pmemfs("dax", f.toString()).ok().out(), "the file must take the DAX path");
            }

            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_WRITE, 0, SIZE);
                byte[] seen = new byte[SIZE];
                map.get(0, seen);
                assertArrayEquals(want, seen, "the mapping shows the file");

                byte[] viaMap = "written through the mapping".getBytes(StandardCharsets.UTF_8);
                map.put(5000, viaMap);
                System.arraycopy(viaMap, 0, want, 5000, viaMap.length);
                map.force(); // msync
                assertArrayEquals(want, Files.readAllBytes(f), "read(2) after msync sees the mapping's store");

                byte[] viaWrite = "written by pwrite".getBytes(StandardCharsets.UTF_8);
                ch.write(ByteBuffer.wrap(viaWrite), 100_000);
                System.arraycopy(viaWrite, 0, want, 100_000, viaWrite.length);
                byte[] back = new byte[viaWrite.length];
                map.get(100_000, back);
                assertArrayEquals(viaWrite, back, "the mapping sees a write(2)");
            }

            m.unmount();
            m.mount("--dax=" + dax);
            byte[] after = Files.readAllBytes(f);
            assertEquals(-1, Arrays.mismatch(want, after), "after remount, first difference at that offset");
        } finally {
            sh("rm -rf '" + work + "'");
        }
        assertFalse(Pmemfs.mounted(mnt));
    }
}
