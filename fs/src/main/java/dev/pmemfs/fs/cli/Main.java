package dev.pmemfs.fs.cli;

import dev.pmemfs.device.RegionException;
import dev.pmemfs.fs.core.Format;
import dev.pmemfs.fs.core.FsException;
import dev.pmemfs.fs.kernel.KernelMount;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code pmemfs} command line: one subcommand per class, and the {@code mount.fuse} helper
 * form {@code pmemfs REGION MOUNTPOINT -o OPTIONS} (what {@code mount -t fuse.pmemfs} runs),
 * which becomes {@code pmemfs mount --background}.
 *
 * <p>Errors are one line on stderr ({@code pmemfs: ...}) and an exit status: 1 a refused
 * request (no such region, region in use, mount point not empty, an option FUSE rejects), 2 bad
 * usage (unknown option, bad size or duration), 70 an internal error (a bug). {@code fsck}
 * follows e2fsck: 0 clean, 1 repaired, 4 problems left, 8 operational error, 16 usage. A stack
 * trace is printed only with {@code --debug} (anywhere on the command line).
 */
@Command(name = "pmemfs", mixinStandardHelpOptions = true, version = "pmemfs 0.1.0",
        description = "A filesystem on persistent memory, with a RAM cache in front of it.",
        subcommands = {MkfsCommand.class, MountCommand.class, UmountCommand.class, FsckCommand.class,
            StatsCommand.class, DaxCommand.class, NoopMountCommand.class})
public final class Main implements Runnable {
    private static final Set<String> COMMANDS = Set.of("mkfs", "mount", "umount", "fsck", "stats", "dax", "help", "noop-mount");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required: mkfs, mount, umount, fsck, stats or dax");
    }

    public static void main(String[] args) {
        int code = run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(code);
    }

    /** Runs one command line; returns the exit status. For tests, in-process. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        boolean debug = List.of(args).contains("--debug");
        String[] words = List.of(args).stream().filter(w -> !w.equals("--debug")).toArray(String[]::new);
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            String name = c.getCommandSpec().qualifiedName();
            c.getErr().println(name + ": " + ex.getMessage() + " (see '" + name + " --help')");
            return c.getCommand() instanceof FsckCommand ? FsckCommand.EXIT_USAGE : 2;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            String msg = oneLine(ex);
            if (msg == null) {
                c.getErr().println("pmemfs: internal error: " + String.valueOf(ex).lines().findFirst().orElse("")
                        + (debug ? "" : " (run with --debug for the stack trace)"));
                if (debug) {
                    ex.printStackTrace(c.getErr());
                }
                return 70;
            }
            c.getErr().println("pmemfs: " + msg);
            if (debug) {
                ex.printStackTrace(c.getErr());
            }
            return ex instanceof CliException ce ? ce.exitCode() : 1;
        });
        String[] a = translate(words);
        Background.ARGS.set(debug ? append(a, "--debug") : a);
        return cl.execute(a);
    }

    private static String[] append(String[] a, String word) {
        String[] out = java.util.Arrays.copyOf(a, a.length + 1);
        out[a.length] = word;
        return out;
    }

    /** The one-line message of an expected failure, or null for a bug. */
    static String oneLine(Throwable ex) {
        return switch (ex) {
            case CliException e -> e.getMessage();
            case RegionException e -> e.getMessage();
            case Format.BadRegionException e -> e.getMessage();
            case FsException e -> e.getMessage();
            case KernelMount.Failure e -> e.getMessage();
            default -> null;
        };
    }

    /** {@code REGION MOUNTPOINT [-o OPTS]...} (the mount helper form) becomes {@code mount --background ...}. */
    static String[] translate(String[] args) {
        if (args.length < 2 || args[0].startsWith("-") || COMMANDS.contains(args[0])) {
            return args;
        }
        List<String> out = new ArrayList<>(List.of("mount", "--background"));
        out.addAll(List.of(args));
        return out.toArray(new String[0]);
    }
}
