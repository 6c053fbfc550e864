package dev.pmemfs.fs.cli;

import dev.pmemfs.device.PmemRegion;
import dev.pmemfs.device.RegionException;
import dev.pmemfs.fs.core.Format;
import dev.pmemfs.fs.core.Fsck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pmemfs fsck}: checks an unmounted region, and repairs it with {@code --repair}. One
 * line per problem; exit status as e2fsck: 0 clean, 1 problems repaired, 4 problems left,
 * 8 operational error (no such region, region in use, no pmemfs superblock), 16 usage error.
 * A mounted region is refused by its lock.
 */
@Command(name = "fsck", mixinStandardHelpOptions = true, description = "Check (and repair) an unmounted pmemfs region.")
final class FsckCommand implements Callable<Integer> {
    /** e2fsck's exit status for an operational error: fsck could not do its work. */
    static final int EXIT_OPERATIONAL = 8;
    /** e2fsck's exit status for a usage error. */
    static final int EXIT_USAGE = 16;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--repair", description = "Repair what is found.")
    boolean repair;

    @Parameters(paramLabel = "REGION")
    Path region;

    @Override
    public Integer call() throws RegionException {
        Path p = region.toAbsolutePath().normalize();
        if (!Files.exists(p)) {
            throw new CliException("region " + p + " does not exist", EXIT_OPERATIONAL);
        }
        Fsck.Report report;
        try (PmemRegion r = PmemRegion.open(p)) {
            report = Fsck.check(r, repair, note -> spec.commandLine().getOut().println(p + ": " + note));
        } catch (RegionException | Format.BadRegionException e) {
            throw new CliException(e.getMessage(), EXIT_OPERATIONAL);
        }
        var out = spec.commandLine().getOut();
        for (String problem : report.problems()) {
            out.println(p + ": " + problem);
        }
        out.println(p + ": " + switch (report.exitCode()) {
            case Fsck.EXIT_CLEAN -> "clean";
            case Fsck.EXIT_REPAIRED -> report.problems().size() + " problems, all repaired";
            default -> report.problems().size() + " problems" + (repair ? " left unrepaired" : " (run with --repair)");
        });
        out.flush();
        return report.exitCode();
    }
}
