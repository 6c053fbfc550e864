package dev.pmemfs.fs.cli;

import dev.pmemfs.fs.fuse.Fusermount;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code pmemfs mount --background}: starts this same command again without
 * {@code --background} (same JVM, flags and class path), detached with {@code setsid} and
 * logging to a file, then waits until the mount point shows up in /proc/mounts, or fails with
 * the daemon's own error line if it exits first (and then removes the log, whose error it has
 * shown). The log of a daemon that mounted stays, for after it stops.
 *
 * <p>Why re-exec rather than fork or a daemon thread: a JVM cannot fork, and the daemon must
 * outlive this process (mount(8) waits for its helper to return). Stateless.
 */
final class Background {
    private static final long TIMEOUT_MS = 60_000;

    private Background() {
    }

    static int start(Path region, Path mnt, PrintWriter err) {
        Path log = logFile(mnt);
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid");
        }
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(childArgs());
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new CliException("cannot start the daemon: " + e.getMessage());
        }
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        while (System.currentTimeMillis() < deadline) {
            Fusermount.Mount m = Fusermount.find(mnt);
            if (m != null && m.type().equals("fuse.pmemfs")) {
                awaitMountedLine(log, p);
                echo(log, err, false);
                err.println("pmemfs: mounted " + region + " at " + mnt + " (daemon pid " + p.pid() + ", log " + log + ")");
                return 0;
            }
            if (!p.isAlive()) {
                echo(log, err, true);
                deleteLog(log); // its error lines were just shown; nothing ran that a log could explain
                int code = p.exitValue();
                return code == 0 ? 1 : code;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        p.destroyForcibly();
        throw new CliException("mount of " + region + " at " + mnt + " did not appear within 60 s (see " + log + ")");
    }

    /** The arguments of this process's command line, minus {@code --background} (set by Main). */
    private static List<String> childArgs() {
        List<String> out = new ArrayList<>();
        for (String a : ARGS.get()) {
            if (!a.equals("--background")) {
                out.add(a);
            }
        }
        return out;
    }

    /** The translated command line, set by {@link Main} before parsing. */
    static final ThreadLocal<String[]> ARGS = ThreadLocal.withInitial(() -> new String[0]);

    private static void echo(Path log, PrintWriter err, boolean failed) {
        try {
            for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                boolean info = line.startsWith("[INFO]");
                if (failed != info) {
                    err.println(line);
                }
            }
        } catch (IOException e) {
            err.println("pmemfs: cannot read the daemon log " + log + ": " + e.getMessage());
        }
        err.flush();
    }

    /**
     * Waits (up to 5 s) for the daemon's "mounted" log line: the daemon holds back its log
     * lines while the mount starts (see {@link StderrCapture}), and they are what this command
     * shows, a journal replay among them.
     */
    private static void awaitMountedLine(Path log, Process daemon) {
        long deadline = System.currentTimeMillis() + 5_000;
        while (System.currentTimeMillis() < deadline && daemon.isAlive()) {
            try {
                if (Files.readAllLines(log, StandardCharsets.UTF_8).stream().anyMatch(l -> l.startsWith("[INFO] mounted "))) {
                    return;
                }
                Thread.sleep(20);
            } catch (IOException e) {
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void deleteLog(Path log) {
        try {
            Files.deleteIfExists(log);
        } catch (IOException e) {
            // best effort: a stale log is harmless
        }
    }

    static Path logFile(Path mnt) {
        String name = mnt.toString().replace('/', '-').replaceAll("^-+", "") + ".log";
        Path run = Path.of("/run/pmemfs");
        try {
            Files.createDirectories(run);
            if (Files.isWritable(run)) {
                return run.resolve(name.isEmpty() ? "root.log" : name);
            }
        } catch (IOException e) {
            // fall back to the temporary directory
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "pmemfs-" + name);
    }
}
