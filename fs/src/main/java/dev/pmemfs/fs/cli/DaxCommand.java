package dev.pmemfs.fs.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code pmemfs dax}: shows, sets or clears the per-file DAX flag with the same ioctls as
 * {@code xfs_io -c 'chattr +x'} (FS_IOC_FSGETXATTR/FSSETXATTR), so it works on ext4 and XFS too.
 * A change takes effect at the file's next open once no handle is open.
 */
@Command(name = "dax", mixinStandardHelpOptions = true, description = "Show, set or clear the per-file DAX flag.")
final class DaxCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @ArgGroup(exclusive = true)
    Change change;

    static final class Change {
        @Option(names = "--set", required = true, description = "Set the flag (new files in a directory inherit it).")
        boolean set;

        @Option(names = "--clear", required = true, description = "Clear the flag.")
        boolean clear;
    }

    @Parameters(paramLabel = "FILE", arity = "1..*")
    List<Path> files;

    @Override
    public Integer call() {
        int failures = 0;
        for (Path f : files) {
            try {
                boolean on;
                if (change == null) {
                    on = FsXattr.getDax(f);
                } else {
                    FsXattr.setDax(f, change.set);
                    on = FsXattr.getDax(f);
                }
                spec.commandLine().getOut().println(f + ": dax " + (on ? "on" : "off"));
            } catch (CliException e) {
                spec.commandLine().getErr().println("pmemfs: " + e.getMessage());
                failures++;
            }
        }
        spec.commandLine().getOut().flush();
        return failures == 0 ? 0 : 1;
    }
}
