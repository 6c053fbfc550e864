package dev.pmemfs.fs.cli;

import dev.pmemfs.device.PmemRegion;
import dev.pmemfs.device.RegionException;
import dev.pmemfs.fs.core.DaxMode;
import dev.pmemfs.fs.core.FileSystem;
import dev.pmemfs.fs.core.MountOptions;
import dev.pmemfs.fs.fuse.FuseDaemon;
import dev.pmemfs.fs.fuse.Fusermount;
import dev.pmemfs.fs.kernel.KernelMount;
import dev.pmemfs.fs.kernel.KernelOptions;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import ru.serce.jnrfuse.FuseException;

/**
 * {@code pmemfs mount}: serves a region at a mount point, in the foreground until unmounted or
 * signalled, or with {@code --background} as a detached daemon (see {@link Background}).
 *
 * <p>pmemfs's own options can also come as {@code -o dax=inode,cache_size=1G,writeback_delay=10s}
 * (the form {@code mount -t fuse.pmemfs} passes); every other {@code -o} word goes to FUSE.
 */
@Command(name = "mount", mixinStandardHelpOptions = true, description = "Mount a pmemfs region.")
final class MountCommand implements Callable<Integer> {
    /** Options mount(8) may pass that mean nothing to FUSE. */
    private static final Set<String> DROPPED = Set.of("defaults", "auto", "noauto", "nofail", "_netdev", "user", "nouser", "users");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--cache-size", converter = Units.SizeConverter.class, paramLabel = "SIZE",
            description = "RAM for the page cache (default 256M).")
    Long cacheSize;

    @Option(names = "--dax", paramLabel = "never|always|inode", description = "Which files take the direct path (default never).")
    String dax;

    @Option(names = "--writeback-delay", converter = Units.DurationConverter.class, paramLabel = "DURATION",
            description = "Age at which a dirty page is written back (default 30s).")
    Duration writebackDelay;

    @Option(names = "--frontend", paramLabel = "kernel|jnr-fuse",
            description = "FUSE frontend: kernel (/dev/fuse directly, the default) or jnr-fuse (libfuse 2).")
    String frontend;

    @Option(names = "-o", paramLabel = "OPTION[,OPTION...]", description = "FUSE mount option (e.g. allow_other), or dax=, cache_size=, writeback_delay=, frontend=, workers=.")
    List<String> options = new ArrayList<>();

    @Option(names = "--background", description = "Detach once mounted; the daemon logs to /run/pmemfs/.")
    boolean background;

    @Parameters(index = "0", paramLabel = "REGION")
    Path region;

    @Parameters(index = "1", paramLabel = "MOUNTPOINT")
    Path mountpoint;

    @Override
    public Integer call() throws RegionException {
        List<String> fuseOptions = new ArrayList<>();
        MountOptions mo = options(fuseOptions);
        Path mnt = mountpoint.toAbsolutePath().normalize();
        Path reg = region.toAbsolutePath().normalize();
        checkMountpoint(mnt);
        if (!Files.exists(reg)) {
            throw new CliException("region " + reg + " does not exist (create it with `pmemfs mkfs --size SIZE " + reg + "`)");
        }
        if (background) {
            return Background.start(reg, mnt, spec.commandLine().getErr());
        }
        StderrCapture capture = StderrCapture.start(); // libfuse's words become part of our one error line
        capture.untilMounted(mnt);
        try {
            PmemRegion r = PmemRegion.open(reg);
            FileSystem fs;
            try {
                fs = FileSystem.mount(r, mo);
            } catch (RuntimeException e) {
                r.close();
                throw e;
            }
            new FuseDaemon(r, fs, mnt, mo.dax().name().toLowerCase(Locale.ROOT), fuseOptions, chosenFrontend,
                    kernelOptions).run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (KernelMount.Failure e) {
            String said = capture.stopFailed();
            throw new CliException(e.getMessage() + (said.isEmpty() ? "" : ": " + said));
        } catch (FuseException e) {
            String said = capture.stopFailed();
            throw new CliException("cannot mount " + reg + " at " + mnt + ": "
                    + (said.isEmpty() ? "FUSE refused the mount" : said));
        } catch (RuntimeException | Error e) {
            capture.stopFailed();
            throw e;
        } finally {
            System.err.print(capture.stop()); // "" unless the mount ended before it was seen
            System.err.flush();
        }
        return 0;
    }

    /** Set by {@link #options}: the frontend and, for the kernel one, its options. */
    private FuseDaemon.Frontend chosenFrontend = FuseDaemon.Frontend.KERNEL;
    private KernelOptions kernelOptions = KernelOptions.defaults();

    /** The core's options from the flags and the pmemfs words of -o; the rest lands in {@code fuse}. */
    MountOptions options(List<String> fuse) {
        MountOptions mo = MountOptions.defaults();
        String daxWord = dax;
        String frontendWord = frontend;
        String workers = null;
        Long cache = cacheSize;
        Duration delay = writebackDelay;
        for (String group : options) {
            for (String o : group.split(",")) {
                String key = o.contains("=") ? o.substring(0, o.indexOf('=')) : o;
                String value = o.contains("=") ? o.substring(o.indexOf('=') + 1) : "";
                switch (key) {
                    case "dax" -> daxWord = value;
                    case "cache_size", "cache-size" -> cache = converted(() -> Units.size(value), o);
                    case "writeback_delay", "writeback-delay" -> delay = converted(() -> Units.duration(value), o);
                    case "frontend" -> frontendWord = value;
                    case "workers" -> workers = value;
                    case "" -> { }
                    default -> {
                        if (!DROPPED.contains(key) && !key.startsWith("x-")) {
                            fuse.add(o);
                        }
                    }
                }
            }
        }
        if (daxWord != null) {
            try {
                mo = mo.withDax(DaxMode.parse(daxWord));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
        }
        try {
            if (frontendWord != null) {
                chosenFrontend = FuseDaemon.Frontend.parse(frontendWord);
            }
            if (workers != null) {
                kernelOptions = kernelOptions.withWorkers(Integer.parseInt(workers));
            }
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    e instanceof NumberFormatException ? "workers must be a number, not '" + workers + "'" : e.getMessage());
        }
        if (cache != null) {
            if (cache < (1L << 20)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--cache-size must be at least 1M");
            }
            mo = mo.withCache(cache);
        }
        if (delay != null) {
            mo = mo.withWritebackDelay(delay);
        }
        return mo;
    }

    /** A value of an {@code -o} word; a bad one is a usage error, as for the flags. */
    private <T> T converted(java.util.function.Supplier<T> convert, String word) {
        try {
            return convert.get();
        } catch (CommandLine.TypeConversionException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "-o " + word + ": " + e.getMessage());
        }
    }

    static void checkMountpoint(Path mnt) {
        if (!Files.exists(mnt)) {
            throw new CliException("mount point " + mnt + " does not exist");
        }
        if (!Files.isDirectory(mnt)) {
            throw new CliException("mount point " + mnt + " is not a directory");
        }
        if (Fusermount.find(mnt) != null) {
            throw new CliException("mount point " + mnt + " is already a mount point (" + Fusermount.find(mnt).type() + ")");
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(mnt)) {
            if (ds.iterator().hasNext()) {
                throw new CliException("mount point " + mnt + " is not empty");
            }
        } catch (IOException e) {
            throw new CliException("mount point " + mnt + ": cannot list it (" + e.getMessage() + ")");
        }
    }
}
