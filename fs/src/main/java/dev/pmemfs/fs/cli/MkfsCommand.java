package dev.pmemfs.fs.cli;

import dev.pmemfs.device.PmemRegion;
import dev.pmemfs.device.Region;
import dev.pmemfs.device.RegionException;
import dev.pmemfs.fs.core.Format;
import dev.pmemfs.fs.layout.Geometry;
import dev.pmemfs.fs.layout.Superblock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pmemfs mkfs}: writes an empty filesystem over a region, creating a region file when
 * needed. An existing pmemfs is overwritten only with {@code --force}.
 */
@Command(name = "mkfs", mixinStandardHelpOptions = true, description = "Make a pmemfs filesystem on a region.")
final class MkfsCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--size", converter = Units.SizeConverter.class, paramLabel = "SIZE",
            description = "Size of a region file (K/M/G/T suffixes); default: the existing file's size.")
    Long size;

    @Option(names = "--force", description = "Overwrite an existing pmemfs filesystem.")
    boolean force;

    @Option(names = "--root-owner", paramLabel = "UID:GID",
            description = "Owner of the root directory (numeric); default: the user running mkfs, so that a user's own mount is writable.")
    String rootOwner;

    @Parameters(paramLabel = "REGION", description = "A file (created if missing), /dev/pmemN or /dev/daxN.M.")
    Path path;

    @Override
    public Integer call() throws RegionException {
        Path p = path.toAbsolutePath().normalize();
        int[] owner = rootOwner == null ? runningUser() : parseOwner(rootOwner);
        PmemRegion region = openOrCreate(p);
        try {
            Superblock sb = Format.mkfs(region, Geometry.DEFAULT_BYTES_PER_INODE, false, owner[0], owner[1], progress(region.size()));
            Geometry g = sb.geometry();
            spec.commandLine().getOut().printf("pmemfs: made a filesystem on %s: %s, %d blocks of 4 KiB, %d inodes, uuid %s%n",
                    p, Region.formatSize(region.size()), g.blocks(), g.inodes(), sb.uuid());
        } finally {
            region.close();
        }
        return 0;
    }

    /** {@code UID:GID}, both numeric and not negative; a usage error otherwise. */
    private int[] parseOwner(String s) {
        String[] parts = s.split(":", -1);
        try {
            if (parts.length == 2) {
                int uid = Integer.parseInt(parts[0]);
                int gid = Integer.parseInt(parts[1]);
                if (uid >= 0 && gid >= 0) {
                    return new int[] {uid, gid};
                }
            }
        } catch (NumberFormatException e) {
            // the usage error below
        }
        throw new CommandLine.ParameterException(spec.commandLine(), "--root-owner wants UID:GID (numbers), not '" + s + "'");
    }

    /** The effective uid and gid of this process: the owner of {@code /proc/self}. */
    private static int[] runningUser() {
        try {
            Path self = Path.of("/proc/self");
            return new int[] {(Integer) Files.getAttribute(self, "unix:uid"), (Integer) Files.getAttribute(self, "unix:gid")};
        } catch (java.io.IOException | UnsupportedOperationException e) {
            return new int[] {0, 0};
        }
    }

    /** Progress on stderr, one line rewritten in place, for regions large enough to take a while. */
    private java.util.function.LongConsumer progress(long regionSize) {
        if (regionSize < (8L << 30)) {
            return pct -> { };
        }
        java.io.PrintWriter err = spec.commandLine().getErr();
        long[] last = {-1};
        return pct -> {
            if (pct != last[0]) {
                last[0] = pct;
                err.printf("\rmkfs: clearing the inode table: %3d%%%s", pct, pct >= 100 ? "\n" : "");
                err.flush();
            }
        };
    }

    private PmemRegion openOrCreate(Path p) throws RegionException {
        if (!Files.exists(p)) {
            if (size == null) {
                throw new CliException("region " + p + " does not exist: give --size SIZE to create it");
            }
            if (p.getParent() != null && !Files.isDirectory(p.getParent())) {
                throw new CliException("region " + p + ": directory " + p.getParent() + " does not exist");
            }
            return PmemRegion.create(p, size, false);
        }
        if (Files.isDirectory(p)) {
            throw new CliException("region " + p + " is a directory");
        }
        PmemRegion region = PmemRegion.open(p);
        boolean ok = false;
        try {
            if (isPmemfs(region) && !force) {
                throw new CliException("region " + p + " already holds a pmemfs filesystem (use --force to overwrite it)");
            }
            if (size != null && size != region.size()) {
                if (!Files.isRegularFile(p)) {
                    throw new CliException("region " + p + ": a device has a fixed size; leave out --size");
                }
                region.close();
                region = PmemRegion.create(p, size, true);
            }
            ok = true;
            return region;
        } finally {
            if (!ok) {
                region.close();
            }
        }
    }

    static boolean isPmemfs(Region region) {
        byte[] b = new byte[Geometry.BLOCK];
        region.read(0, b, 0, Superblock.SIZE);
        return Superblock.check(b, region.dataSize() / Geometry.BLOCK) != Superblock.Problem.FOREIGN;
    }
}
