package dev.pmemfs.fs.cli;

import dev.pmemfs.fs.kernel.KernelFrontend;
import dev.pmemfs.fs.kernel.KernelOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pmemfs noop-mount MOUNTPOINT}: a hidden command for the bench. Mounts a no-op
 * filesystem (flat, writes discarded, reads answer zeros) on the kernel frontend and serves
 * it in the foreground until unmounted ({@code fusermount3 -u}): what that frontend costs
 * without pmemfs behind it, the counterpart of {@code bench/noop-java} on jnr-fuse.
 */
@Command(name = "noop-mount", hidden = true, mixinStandardHelpOptions = true,
        description = "Serve a no-op filesystem on the kernel frontend (for the bench).")
final class NoopMountCommand implements Callable<Integer> {
    @Option(names = "--workers", description = "Worker threads (default: one per core).")
    Integer workers;

    @Parameters(paramLabel = "MOUNTPOINT")
    Path mountpoint;

    @Override
    public Integer call() throws InterruptedException {
        KernelOptions options = workers == null ? KernelOptions.defaults() : KernelOptions.defaults().withWorkers(workers);
        KernelFrontend.noop(options).serve(mountpoint.toAbsolutePath(), "noop", List.of(), () -> { });
        return 0;
    }
}
