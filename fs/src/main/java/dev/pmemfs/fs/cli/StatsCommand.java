package dev.pmemfs.fs.cli;

import dev.pmemfs.device.RegionException;
import dev.pmemfs.device.WearCounters;
import dev.pmemfs.fs.fuse.Fusermount;
import dev.pmemfs.fs.frontend.LiveStats;
import dev.pmemfs.fs.frontend.StatsReport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pmemfs stats}: live figures of a mount (read from the daemon through the root's
 * {@code user.pmemfs.stats} xattr, see {@link LiveStats}), or lifetime wear of a region.
 */
@Command(name = "stats", mixinStandardHelpOptions = true, description = "Show live figures of a mount, or lifetime wear of a region.")
final class StatsCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--json", description = "Print JSON (snake_case keys).")
    boolean json;

    @Parameters(paramLabel = "MOUNTPOINT|REGION")
    Path target;

    @Override
    public Integer call() throws RegionException {
        Path p = target.toAbsolutePath().normalize();
        String out;
        if (Files.isDirectory(p)) {
            out = live(p);
        } else if (Files.exists(p)) {
            WearCounters w = WearCounters.read(p);
            out = json ? StatsReport.json(w, p.toString()) : StatsReport.text(w, p.toString(), mountedAt(p));
        } else {
            throw new CliException(p + " does not exist");
        }
        spec.commandLine().getOut().print(out);
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** Where the region {@code region} is mounted (its FUSE source is the region's path), or null. */
    static String mountedAt(Path region) {
        for (Fusermount.Mount m : Fusermount.mounts()) {
            if (m.type().equals("fuse.pmemfs") && Path.of(m.source()).toAbsolutePath().normalize().equals(region)) {
                return m.mountpoint().toString();
            }
        }
        return null;
    }

    private String live(Path mnt) {
        Fusermount.Mount m = Fusermount.find(mnt);
        if (m == null || !m.type().equals("fuse.pmemfs")) {
            throw new CliException(mnt + " is not a pmemfs mount point (give a mount point or a region)");
        }
        String name = (json ? LiveStats.JSON : LiveStats.TEXT).substring("user.".length());
        try {
            UserDefinedFileAttributeView v = Files.getFileAttributeView(mnt, UserDefinedFileAttributeView.class);
            ByteBuffer buf = ByteBuffer.allocate(v.size(name));
            v.read(name, buf);
            return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CliException("cannot read the statistics of " + mnt + ": " + e.getMessage());
        }
    }
}
