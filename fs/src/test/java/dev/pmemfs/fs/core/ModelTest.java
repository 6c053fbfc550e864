package dev.pmemfs.fs.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pmemfs.device.CrashingRegion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.IntSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Model-based test: long random sequences of namespace and data operations run against the
 * core and against the host kernel (a directory on tmpfs, through real system calls), comparing
 * every result and error, and the whole tree (types, modes, sizes, link counts, contents,
 * listings) after every step. Remounts along the way; both DAX modes.
 */
final class ModelTest {
    private static final String[] NAMES = {"a", "b", "c", "d"};
    private static final String[] LINKS = {"l0", "l1"};

    static Stream<Arguments> runs() {
        List<Arguments> out = new ArrayList<>();
        for (DaxMode m : new DaxMode[] {DaxMode.NEVER, DaxMode.ALWAYS}) {
            for (long seed = 1; seed <= 3; seed++) {
                out.add(Arguments.of(m, seed));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} seed {1}")
    @MethodSource("runs")
    void randomOperations_matchHostKernel(DaxMode mode, long seed) throws IOException {
        Path host = Files.createTempDirectory(Path.of("/dev/shm"), "pmemfs-model");
        CrashingRegion region = CrashingRegion.create(24L << 20);
        MountOptions opts = MountOptions.defaults().withDax(mode).withCache(1L << 20);
        Format.mkfs(region, 4096, false, p -> { });
        FileSystem fs = FileSystem.mount(region, opts);
        try {
            Random rnd = new Random(seed);
            for (int step = 0; step < 400; step++) {
                String op = step(fs, host, rnd, step);
                compareTree(fs, host, op + " (step " + step + ")");
                if (step % 97 == 96) {
                    fs.close();
                    fs = FileSystem.mount(region, opts);
                    compareTree(fs, host, "after remount at step " + step);
                }
            }
        } finally {
            fs.close();
            region.close();
            try (Stream<Path> s = Files.walk(host)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static String path(Random rnd) {
        int depth = 1 + rnd.nextInt(3);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < depth; i++) {
            sb.append('/').append(NAMES[rnd.nextInt(NAMES.length)]);
        }
        return sb.toString();
    }

    private static String linkPath(Random rnd) {
        String p = rnd.nextBoolean() ? "" : "/" + NAMES[rnd.nextInt(NAMES.length)];
        return p + "/" + LINKS[rnd.nextInt(LINKS.length)];
    }

    private static String parentOf(String p) {
        int i = p.lastIndexOf('/');
        return i == 0 ? "/" : p.substring(0, i);
    }

    private static String nameOf(String p) {
        return p.substring(p.lastIndexOf('/') + 1);
    }

    /** Runs one random operation on both sides and compares the errno. */
    private static String step(FileSystem fs, Path host, Random rnd, int step) {
        String p = path(rnd);
        String h = host + p;
        int kind = rnd.nextInt(12);
        String what;
        int expected;
        IntSupplier actual;
        switch (kind) {
            case 0, 1 -> {
                what = "mkdir " + p;
                expected = HostFs.mkdir(h, 0755);
                actual = () -> core(() -> fs.mkdir(dirOf(fs, parentOf(p)), nameOf(p), 0755, 0, 0));
            }
            case 2, 3 -> {
                what = "create " + p;
                expected = HostFs.create(h, 0644);
                actual = () -> core(() -> fs.create(dirOf(fs, parentOf(p)), nameOf(p), 0644, 0, 0));
            }
            case 4, 5 -> {
                long pos = rnd.nextInt(4) == 0 ? rnd.nextInt(200_000) : rnd.nextInt(9000);
                byte[] data = FileSystemTest.bytes(1 + rnd.nextInt(rnd.nextBoolean() ? 300 : 20_000), step);
                what = "write " + p + " @" + pos + " +" + data.length;
                expected = HostFs.pwrite(h, pos, data);
                actual = () -> core(() -> {
                    long ino = fs.resolve(p);
                    if (fs.getattr(ino).isDir()) {
                        throw new FsException(Errno.EISDIR, p);
                    }
                    FileSystemTest.write(fs, ino, pos, data);
                });
            }
            case 6 -> {
                long size = rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(30_000);
                what = "truncate " + p + " " + size;
                expected = HostFs.truncate(h, size);
                actual = () -> core(() -> fs.truncate(fs.resolve(p), size));
            }
            case 7 -> {
                what = "unlink " + p;
                expected = HostFs.unlink(h);
                actual = () -> core(() -> fs.unlink(dirOf(fs, parentOf(p)), nameOf(p)));
            }
            case 8 -> {
                what = "rmdir " + p;
                expected = HostFs.rmdir(h);
                actual = () -> core(() -> fs.rmdir(dirOf(fs, parentOf(p)), nameOf(p)));
            }
            case 9 -> {
                boolean links = rnd.nextInt(4) == 0;
                String q = links ? linkPath(rnd) : path(rnd);
                String src = links ? linkPath(rnd) : p;
                what = "rename " + src + " " + q;
                expected = HostFs.rename(host + src, host + q);
                actual = () -> core(() -> fs.rename(dirOf(fs, parentOf(src)), nameOf(src),
                        dirOf(fs, parentOf(q)), nameOf(q), 0));
            }
            case 10 -> {
                String q = path(rnd);
                what = "link " + p + " " + q;
                expected = HostFs.link(h, host + q);
                actual = () -> core(() -> fs.link(fs.resolve(p), dirOf(fs, parentOf(q)), nameOf(q)));
            }
            default -> {
                String l = linkPath(rnd);
                String target = "target-" + rnd.nextInt(5);
                what = "symlink " + target + " " + l;
                expected = HostFs.symlink(target, host + l);
                actual = () -> core(() -> fs.symlink(dirOf(fs, parentOf(l)), nameOf(l), target, 0, 0));
            }
        }
        int got = actual.getAsInt();
        assertEquals(expected, got, what + ": errno (host " + expected + ", pmemfs " + got + ")");
        return what;
    }

    /** The directory at {@code p}, walked as the kernel walks a parent path (ENOTDIR on a file). */
    private static long dirOf(FileSystem fs, String p) {
        long ino = fs.resolve(p);
        if (!fs.getattr(ino).isDir()) {
            throw new FsException(Errno.ENOTDIR, p);
        }
        return ino;
    }

    private static int core(Runnable r) {
        try {
            r.run();
            return 0;
        } catch (FsException e) {
            return e.errno().code();
        }
    }

    /** Compares the whole tree: names, types, permissions, sizes, link counts, contents, targets. */
    private static void compareTree(FileSystem fs, Path host, String after) {
        assertEquals(hostTree(host), coreTree(fs), "tree differs after " + after);
    }

    private static Map<String, String> hostTree(Path root) {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                String rel = "/" + root.relativize(p);
                Map<String, Object> a = Files.readAttributes(p, "unix:mode,nlink,size", LinkOption.NOFOLLOW_LINKS);
                int mode = (Integer) a.get("mode");
                String desc = String.format("%o n%d", mode, (Integer) a.get("nlink"));
                if (Files.isSymbolicLink(p)) {
                    desc += " -> " + Files.readSymbolicLink(p);
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    desc += " s" + a.get("size") + " #" + java.util.Arrays.hashCode(Files.readAllBytes(p));
                }
                out.put(rel.equals("/") ? "/" : rel, desc);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        out.remove("/");
        return out;
    }

    private static Map<String, String> coreTree(FileSystem fs) {
        Map<String, String> out = new TreeMap<>();
        walk(fs, FileSystem.ROOT, "", out);
        return out;
    }

    private static void walk(FileSystem fs, long dir, String prefix, Map<String, String> out) {
        for (FileSystem.DirEntry e : fs.readdir(dir)) {
            String p = prefix + "/" + e.name();
            Attr a = fs.getattr(e.ino());
            String desc = String.format("%o n%d", a.mode(), a.nlink());
            if (a.isSymlink()) {
                desc += " -> " + fs.readlink(e.ino());
            } else if (a.isRegular()) {
                byte[] data = FileSystemTest.read(fs, e.ino(), 0, (int) a.size());
                assertEquals(a.size(), data.length, p + ": short read");
                desc += " s" + a.size() + " #" + java.util.Arrays.hashCode(data);
            }
            out.put(p, desc);
            if (a.isDir()) {
                walk(fs, e.ino(), p, out);
            }
        }
    }

}
