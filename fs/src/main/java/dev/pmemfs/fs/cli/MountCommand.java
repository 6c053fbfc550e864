package dev.pmemfs.fs.cli;

import dev.pmemfs.device.PmemRegion;
import dev.pmemfs.device.RegionException;
import dev.pmemfs.fs.core.DaxMode;
import dev.pmemfs.fs.core.FileSystem;
import dev.pmemfs.fs.core.MountOptions;
import dev.pmemfs.fs.fuse.FuseDaemon;
import dev.pmemfs.fs.fuse.Fusermount;
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

    @Option(names = "--wear-save-interval", converter = Units.DurationConverter.class, paramLabel = "DURATION",
            description = "How often the wear counters are saved to the region, besides unmount (default 30s).")
    Duration wearSaveInterval;

    @Option(names = "-o", paramLabel = "OPTION[,OPTION...]", description = "FUSE mount option (e.g. allow_other), or dax=, cache_size=, writeback_delay=, wear_save_interval=.")
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
        PmemRegion r = PmemRegion.open(reg);
        FileSystem fs;
        try {
            fs = FileSystem.mount(r, mo);
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
        new FuseDaemon(r, fs, mnt, mo.dax().name().toLowerCase(Locale.ROOT), fuseOptions).run();
        return 0;
    }

    /** The core's options from the flags and the pmemfs words of -o; the rest lands in {@code fuse}. */
    MountOptions options(List<String> fuse) {
        MountOptions mo = MountOptions.defaults();
        String daxWord = dax;
        Long cache = cacheSize;
        Duration delay = writebackDelay;
        Duration wearSave = wearSaveInterval;
        for (String group : options) {
            for (String o : group.split(",")) {
                String key = o.contains("=") ? o.substring(0, o.indexOf('=')) : o;
                String value = o.contains("=") ? o.substring(o.indexOf('=') + 1) : "";
                switch (key) {
                    case "dax" -> daxWord = value;
                    case "cache_size", "cache-size" -> cache = Units.size(value);
                    case "writeback_delay", "writeback-delay" -> delay = Units.duration(value);
                    case "wear_save_interval", "wear-save-interval" -> wearSave = Units.duration(value);
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
        if (cache != null) {
            if (cache < (1L << 20)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--cache-size must be at least 1M");
            }
            mo = mo.withCache(cache);
        }
        if (delay != null) {
            mo = mo.withWritebackDelay(delay);
        }
        if (wearSave != null) {
            if (wearSave.toMillis() < 100) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--wear-save-interval must be at least 100ms");
            }
            mo = mo.withWearSaveInterval(wearSave);
        }
        return mo;
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
