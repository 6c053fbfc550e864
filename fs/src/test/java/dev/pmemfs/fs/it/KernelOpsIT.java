package dev.pmemfs.fs.it;

import static dev.pmemfs.fs.it.Pmemfs.sh;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the kernel frontend gives that libfuse 2 cannot: SEEK_DATA/SEEK_HOLE, copy_file_range,
 * fallocate, renameat2's flags, exact hard-link counts (one kernel inode per pmemfs inode) and
 * special files, checked by {@code kernel_ops.py} on a mount, cached and DAX.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
final class KernelOpsIT {
    private static final Path SCRIPT = Pmemfs.ROOT.resolve("fs/src/test/resources/it/kernel_ops.py");

    @ParameterizedTest
    @ValueSource(strings = {"never", "always"})
    void kernelOnlyOperations_work(String dax) throws IOException {
        assumeTrue(!Pmemfs.FRONTEND.equals("jnr-fuse"), "libfuse 2 has no lseek, copy_file_range or rename flags");
        Path work = Files.createTempDirectory("pmemfs-kops-it");
        Path mnt = Files.createDirectory(work.resolve("mnt"));
        try (Pmemfs.Mount m = Pmemfs.Mount.start(Pmemfs.newRegion("128M"), mnt, true, "--dax=" + dax)) {
            sh("python3 '" + SCRIPT + "' '" + m.mnt + "'").ok();
        } finally {
            sh("rm -rf '" + work + "'");
        }
        assertFalse(Pmemfs.mounted(mnt));
    }
}
