package dev.pmemfs.fs.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Unmounting through {@code fusermount -u} (fuse3's fusermount3, installed as
 * {@code fusermount}), and finding FUSE mounts in {@code /proc/mounts}. Stateless.
 */
public final class Fusermount {
    private Fusermount() {
    }

    /** One line of /proc/mounts, with the octal escapes ({@code \040}) decoded. */
    public record Mount(String source, Path mountpoint, String type, String options) {
    }

    /** Unmounts; returns null on success, else fusermount's message (one line). */
    public static String unmount(Path mountpoint, boolean lazy) {
        List<String> cmd = new ArrayList<>(List.of("fusermount", "-u"));
        if (lazy) {
            cmd.add("-z");
        }
        cmd.add(mountpoint.toString());
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "fusermount -u " + mountpoint + " did not finish within 30 s";
            }
            if (p.exitValue() == 0) {
                return null;
            }
            return out.isEmpty() ? "fusermount exited with status " + p.exitValue() : out.lines().findFirst().orElse(out);
        } catch (IOException e) {
            return "cannot run fusermount: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while unmounting " + mountpoint;
        }
    }

    /** The mount at exactly {@code mountpoint} (absolute, normalized), or null. */
    public static Mount find(Path mountpoint) {
        Mount found = null;
        for (Mount m : mounts()) {
            if (m.mountpoint().equals(mountpoint)) {
                found = m; // the last one is on top
            }
        }
        return found;
    }

    /** Every mount of /proc/mounts. */
    public static List<Mount> mounts() {
        List<Mount> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/mounts"), StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                if (f.length >= 4) {
                    out.add(new Mount(unescape(f[0]), Path.of(unescape(f[1])), f[2], f[3]));
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/mounts: " + e.getMessage(), e);
        }
        return out;
    }

    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1)) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean isOctal(String s, int at) {
        if (at + 3 > s.length()) {
            return false;
        }
        for (int i = at; i < at + 3; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '7') {
                return false;
            }
        }
        return true;
    }
}
