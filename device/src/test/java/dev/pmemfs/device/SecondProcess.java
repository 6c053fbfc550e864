package dev.pmemfs.device;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@link RegionOpener} in another JVM, optionally as another user or under a shell prefix. */
final class SecondProcess {
    record Result(int exit, String output) {
    }

    private SecondProcess() {
    }

    static Result run(List<String> prefix, String classpath, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "-Xshare:auto", "-XX:TieredStopAtLevel=1",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classpath, RegionOpener.class.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("second process timed out: " + cmd);
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
    }

    static Result run(String... args) throws IOException, InterruptedException {
        return run(List.of(), System.getProperty("java.class.path"), args);
    }

    /**
     * A copy of the classes and jars the opener needs, readable by every user (the build's own
     * directories may sit under root's home, which {@code nobody} cannot enter).
     */
    static String worldReadableClasspath(Path dir) throws IOException {
        List<String> entries = new ArrayList<>();
        int i = 0;
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path src = Path.of(e);
            if (Files.isDirectory(src)) {
                Path dst = dir.resolve("cp" + i++);
                try (var walk = Files.walk(src)) {
                    for (Path s : walk.toList()) {
                        Path d = dst.resolve(src.relativize(s).toString());
                        if (Files.isDirectory(s)) {
                            Files.createDirectories(d);
                        } else {
                            Files.copy(s, d);
                        }
                    }
                }
                entries.add(dst.toString());
            } else if (src.getFileName().toString().startsWith("slf4j-")) {
                Path dst = dir.resolve(src.getFileName());
                Files.copy(src, dst);
                entries.add(dst.toString());
            }
        }
        openUp(dir);
        return String.join(java.io.File.pathSeparator, entries);
    }

    /** Makes a tree readable and searchable by every user. */
    static void openUp(Path root) throws IOException {
        try (var walk = Files.walk(root)) {
            for (Path p : walk.toList()) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
            }
        }
    }
}
