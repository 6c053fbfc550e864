package dev.pmemfs.fs.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pmemfs.device.CrashingRegion;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * {@link FileHandle#read(long, int, dev.pmemfs.cache.Pages.SliceReader)}: the slices of a read
 * hold the file's bytes (cached and DAX), a range with a hole answers -1, end of file 0.
 */
final class FileHandleSlicesTest {
    @Test
    void slices_holdTheFileBytesInBothModes() {
        for (DaxMode dax : new DaxMode[] {DaxMode.NEVER, DaxMode.ALWAYS}) {
            try (CrashingRegion region = CrashingRegion.create(32L << 20)) {
                Format.mkfs(region, 4096, false, p -> { });
                FileSystem fs = FileSystem.mount(region, MountOptions.defaults().withDax(dax));
                long ino = fs.create(FileSystem.ROOT, "f", 0644, 0, 0);
                byte[] data = FileSystemTest.bytes(5 * 4096 + 123, 9);
                FileSystemTest.write(fs, ino, 0, data);
                FileSystemTest.write(fs, ino, 9 * 4096, new byte[] {1}); // blocks 6..8 are a hole
                try (FileHandle h = fs.open(ino, 0)) {
                    ByteArrayOutputStream got = new ByteArrayOutputStream();
                    int n = h.read(100, data.length - 100, (slices, count) -> {
                        for (int i = 0; i < count; i++) {
                            got.writeBytes(slices[i].toArray(ValueLayout.JAVA_BYTE));
                        }
                    });
                    assertEquals(data.length - 100, n, dax + ": bytes handed out");
                    byte[] want = java.util.Arrays.copyOfRange(data, 100, data.length);
                    assertArrayEquals(want, got.toByteArray(), dax + ": slices hold the file's bytes");
                    assertEquals(-1, h.read(5 * 4096, 4 * 4096, (s, c) -> { }), dax + ": a hole needs a copy");
                    assertEquals(0, h.read(20 * 4096, 4096, (s, c) -> { }), dax + ": end of file");
                }
                fs.close();
            }
        }
    }
}
