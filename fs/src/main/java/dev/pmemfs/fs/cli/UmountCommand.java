package dev.pmemfs.fs.cli;

import dev.pmemfs.fs.fuse.Fusermount;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code pmemfs umount}: {@code fusermount -u}, then waits until the daemon has written
 * everything back and released the region.
 *
 * <p>How it knows: the daemon holds a flock on the region file from mount to the end of close,
 * and /proc/mounts names the region (fsname). When a lock of our own succeeds, the region is
 * clean and can be checked or mounted again.
 */
@Command(name = "umount", mixinStandardHelpOptions = true, description = "Unmount a pmemfs mount and wait until it is clean.")
final class UmountCommand implements Callable<Integer> {
    private static final long WAIT_MS = 120_000;

    @Parameters(paramLabel = "MOUNTPOINT")
    Path mountpoint;

    @Override
    public Integer call() {
        Path mnt = mountpoint.toAbsolutePath().normalize();
        Fusermount.Mount m = Fusermount.find(mnt);
        if (m == null) {
            throw new CliException(mnt + " is not mounted");
        }
        if (!m.type().equals("fuse.pmemfs")) {
            throw new CliException(mnt + " is not a pmemfs mount (it is " + m.type() + ")");
        }
        String err = Fusermount.unmount(mnt, false);
        if (err != null) {
            throw new CliException("cannot unmount " + mnt + ": " + err);
        }
        waitForRelease(Path.of(m.source()));
        return 0;
    }

    /** Waits until the region's flock is free: the daemon has closed it. */
    static void waitForRelease(Path region) {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (System.currentTimeMillis() < deadline) {
            try {
                if (!Libc.flocked(region)) {
                    return;
                }
            } catch (CliException e) {
                return; // the region is gone or unreadable: nothing to wait for
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        throw new CliException("unmounted, but the daemon of " + region + " has not released it after " + WAIT_MS / 1000 + " s");
    }
}
