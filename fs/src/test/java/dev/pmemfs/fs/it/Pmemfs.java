package dev.pmemfs.fs.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Test support for mounted tests: runs {@code bin/pmemfs} and shell commands as separate
 * processes, and a {@link Mount} that always goes away (pmemfs umount, then fusermount -u,
 * -z, then kill -9 of the daemon). Not thread-safe; one per test class.
 */
final class Pmemfs {
    static final Path ROOT = findRoot();
    static final Path LAUNCHER = ROOT.resolve("bin/pmemfs");
    private static final Pattern PID = Pattern.compile("daemon pid (\\d+)");
    private static final Pattern LOG = Pattern.compile("daemon pid \\d+, log (.+)\\)$", Pattern.MULTILINE);
    /**
     * The FUSE frontend every mount of this run uses: {@code -Dpmemfs.it.frontend=kernel|jnr-fuse}
     * (the build runs the mounted tests once per frontend); unset, pmemfs's default.
     */
    static final String FRONTEND = System.getProperty("pmemfs.it.frontend", "");

    private Pmemfs() {
    }

    private static Path findRoot() {
        Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        return Files.exists(p.resolve("bin/pmemfs")) ? p : p.getParent();
    }

    /** What a finished process printed. */
    record Result(int code, String out, String err) {
        Result ok() {
            if (code != 0) {
                throw new AssertionError("exit " + code + "\nstdout: " + out + "\nstderr: " + err);
            }
            return this;
        }
    }

    static Result pmemfs(String... args) {
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        return exec(cmd, 120);
    }

    static Result sh(String script) {
        return exec(List.of("bash", "-c", script), 180);
    }

    static Result exec(List<String> cmd, int timeoutSeconds) {
        try {
            Path out = Files.createTempFile("pmemfs-it", ".out");
            Path err = Files.createTempFile("pmemfs-it", ".err");
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
                Map<String, String> env = pb.environment();
                env.putIfAbsent("JAVA_HOME", System.getProperty("java.home"));
                Process p = pb.start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    throw new AssertionError("timed out after " + timeoutSeconds + " s: " + cmd);
                }
                return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** A fresh region file on /dev/shm (removed by {@link Mount#close}). */
    static Path newRegion(String size) {
        Path region = Path.of("/dev/shm", "pmemfs-it-" + UUID.randomUUID() + ".region");
        pmemfs("mkfs", "--size", size, region.toString()).ok();
        return region;
    }

    /**
     * Waits, 30 s at most and while {@code writer} lives, until the number that starts the last
     * line of {@code counter} reaches {@code atLeast}; returns it. For writer scripts that note
     * their progress in a file, overwriting it ({@code echo $i > file}) or appending to it
     * ({@code echo $i ... >> file}).
     */
    static long waitForCount(Path counter, long atLeast, Process writer) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        long n = 0;
        while (System.currentTimeMillis() < deadline && writer.isAlive()) {
            if (Files.exists(counter)) {
                List<String> lines = Files.readAllLines(counter);
                String last = lines.isEmpty() ? "" : lines.getLast().strip();
                n = last.isEmpty() ? n : Long.parseLong(last.split(" ", 2)[0]); // empty: overwritten just now
                if (n >= atLeast) {
                    return n;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the writer made no progress (count " + n + ", alive " + writer.isAlive() + ")");
    }

    static boolean mounted(Path mnt) {
        try {
            String me = " " + mnt.toAbsolutePath() + " ";
            return Files.readAllLines(Path.of("/proc/mounts")).stream().anyMatch(l -> l.contains(me));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** A mounted region; close unmounts by every means and deletes the region unless kept. */
    static final class Mount implements AutoCloseable {
        final Path region;
        final Path mnt;
        long pid;
        String mountLog;
        /** The daemon's log file (/run/pmemfs/...), removed by {@link #close}: tests leave nothing behind. */
        Path logFile;
        private final boolean deleteRegion;

        Mount(Path region, Path mnt, boolean deleteRegion) {
            this.region = region;
            this.mnt = mnt;
            this.deleteRegion = deleteRegion;
        }

        static Mount start(Path region, Path mnt, boolean deleteRegion, String... options) {
            Mount m = new Mount(region, mnt, deleteRegion);
            m.mount(options);
            return m;
        }

        /** Mounts (again) in the background; options go before REGION MOUNTPOINT. */
        void mount(String... options) {
            List<String> args = new ArrayList<>(List.of("mount", "--background", "--cache-size", "64M"));
            if (!FRONTEND.isEmpty()) {
                args.add("--frontend=" + FRONTEND);
            }
            args.addAll(List.of(options));
            args.add(region.toString());
            args.add(mnt.toString());
            Result r = pmemfs(args.toArray(new String[0]));
            mountLog = r.err();
            Matcher m = PID.matcher(r.err());
            if (m.find()) {
                pid = Long.parseLong(m.group(1));
            }
            Matcher l = LOG.matcher(r.err());
            if (l.find()) {
                logFile = Path.of(l.group(1));
            }
            r.ok();
        }

        /** pmemfs umount; on failure the forceful ways. Leaves no mount and no daemon. */
        void unmount() {
            if (mounted(mnt)) {
                Result r = pmemfs("umount", mnt.toString());
                if (r.code() != 0 && mounted(mnt)) {
                    sh("fusermount -u '" + mnt + "' || fusermount -u -z '" + mnt + "' || umount -l '" + mnt + "'");
                }
            }
            if (pid > 0) {
                ProcessHandle.of(pid).ifPresent(h -> {
                    try {
                        h.onExit().get(20, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        h.destroyForcibly();
                    }
                });
            }
        }

        void kill9() {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            ProcessHandle.of(pid).ifPresent(h -> h.onExit().join());
        }

        @Override
        public void close() {
            try {
                unmount();
            } finally {
                if (logFile != null) {
                    try {
                        Files.deleteIfExists(logFile);
                    } catch (IOException ignored) {
                        // best effort
                    }
                }
                if (deleteRegion) {
                    try {
                        Files.deleteIfExists(region);
                    } catch (IOException ignored) {
                        // best effort
                    }
                }
            }
        }
    }
}
