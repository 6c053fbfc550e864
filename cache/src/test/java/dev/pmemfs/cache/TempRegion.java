package dev.pmemfs.cache;

import dev.pmemfs.device.PmemRegion;
import dev.pmemfs.device.RegionException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A {@link PmemRegion} on a temporary file in /dev/shm (tmpfs: emulated pmem), deleted on close. */
final class TempRegion implements AutoCloseable {
    private final Path dir;
    final PmemRegion region;

    private TempRegion(Path dir, PmemRegion region) {
        this.dir = dir;
        this.region = region;
    }

    static TempRegion create(long size) {
        try {
            Path shm = Path.of("/dev/shm");
            Path dir = Files.createTempDirectory(Files.isDirectory(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir")),
                    "pmemfs-cache-test");
            return new TempRegion(dir, PmemRegion.create(dir.resolve("region"), size, false));
        } catch (RegionException e) {
            throw new IllegalStateException(e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            region.close();
        } finally {
            try {
                Files.deleteIfExists(dir.resolve("region"));
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
