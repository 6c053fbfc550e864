package dev.pmemfs.fs.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's standard error (descriptor 2) sent to a temporary file for a while, then given
 * back: what libfuse and fusermount print while a mount starts. On success the text is passed
 * on unchanged; on failure the mount command folds it into its one error line, so that a FUSE
 * option libfuse rejects reads as one line instead of libfuse's line, log lines and ours.
 *
 * <p>Native code and Java's {@code System.err} both write to descriptor 2, so both are caught.
 * {@link #stop} is synchronized and idempotent: the thread that sees the mount appear and the
 * thread whose mount failed may both call it.
 */
final class StderrCapture {
    private static final int STDERR = 2;
    private final Path file;
    private final int saved;
    private String text;

    private StderrCapture(Path file, int saved) {
        this.file = file;
        this.saved = saved;
    }

    /** Starts capturing. */
    static StderrCapture start() {
        Path file;
        try {
            file = Files.createTempFile("pmemfs-mount", ".err");
        } catch (IOException e) {
            throw new CliException("cannot create a temporary file: " + e.getMessage());
        }
        System.err.flush();
        int saved = Libc.dup(STDERR);
        int fd = Libc.create(file);
        Libc.dup2(fd, STDERR);
        Libc.close(fd);
        return new StderrCapture(file, saved);
    }

    synchronized boolean stopped() {
        return text != null;
    }

    /**
     * Gives descriptor 2 back once the filesystem at {@code mnt} answers, passing on what was
     * captured (a background thread polls every 20 ms); the caller stops it itself on failure.
     * Showing up in /proc/mounts is not enough: libfuse 2 mounts before it parses its options,
     * and unmounts again when one is bad.
     */
    void untilMounted(Path mnt) {
        Thread t = new Thread(() -> {
            while (!stopped()) {
                if (served(mnt)) {
                    System.err.print(stop());
                    System.err.flush();
                    return;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "pmemfs-stderr-capture");
        t.setDaemon(true);
        t.start();
    }

    /** Whether a pmemfs mount at {@code mnt} answers a stat of its root (its own device, not the directory under it). */
    private static boolean served(Path mnt) {
        var m = dev.pmemfs.fs.fuse.Fusermount.find(mnt);
        if (m == null || !m.type().equals("fuse.pmemfs")) {
            return false;
        }
        try {
            Object dev = Files.getAttribute(mnt, "unix:dev");
            return !dev.equals(Files.getAttribute(mnt.getParent(), "unix:dev"));
        } catch (IOException | RuntimeException e) {
            return false; // not answering (yet, or any more)
        }
    }

    /**
     * Gives descriptor 2 back after a failed mount: passes on the captured log lines except
     * INFO ones, and returns the rest (libfuse's and fusermount's own words) as one phrase,
     * or "" when there were none.
     */
    String stopFailed() {
        StringBuilder said = new StringBuilder();
        for (String line : stop().lines().toList()) {
            if (line.startsWith("[INFO]") || line.isBlank()) {
                continue;
            }
            if (line.startsWith("[")) {
                System.err.println(line);
            } else {
                said.append(said.isEmpty() ? "" : "; ").append(line.strip());
            }
        }
        System.err.flush();
        return said.toString();
    }

    /** Gives descriptor 2 back and returns what was written to it meanwhile; later calls return "". */
    synchronized String stop() {
        if (text != null) {
            return "";
        }
        System.err.flush();
        Libc.dup2(saved, STDERR);
        Libc.close(saved);
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
            Files.deleteIfExists(file);
        } catch (IOException e) {
            text = "";
        }
        return text;
    }
}
