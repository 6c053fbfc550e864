package dev.pmemfs.fs.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pmemfs.device.CrashingRegion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Model-based test: long random sequences of namespace and data operations run against the
 * core and against the host kernel (a directory on tmpfs, through real system calls), comparing
 * every result and error, and the whole tree (types, modes, sizes, link counts, contents,
 * listings, the root included) after every step. Remounts along the way; both DAX modes.
 *
 * <p>Every errno on the pmemfs side comes from pmemfs: the test only resolves paths with
 * {@link FileSystem#resolve} and hands the result to the operation, so a parent that is a file
 * or a write to a directory must be refused by the core itself. Operations are one method each,
 * listed in {@link #OPS}; a new one is a method and a line there.
 *
 * <p>Mutations checked by hand (each made the test fail, and it passed again once restored):
 * <ul>
 *   <li>{@code Rename.run}: without {@code td.rec.nlink--} when a directory replaces an empty
 *       directory, the link count of the target's parent differs ({@link #renameOverExisting});
 *       the root's own count is compared too, since most such renames happen in the root.
 *   <li>{@code FileHandle.write}: answering EINVAL instead of EISDIR for a directory.
 *   <li>{@code FileSystem.prepareAdd} answering ENOENT for a parent that is not a directory
 *       (the earlier test made ENOTDIR itself and passed).
 *   <li>{@code Rename.exchange}: without the parents' link count moves when two directories in
 *       different parents are exchanged ({@link #renameWithFlags}, RENAME_EXCHANGE).
 * </ul>
 */
final class ModelTest {
    private static final String[] NAMES = {"a", "b", "c", "d"};
    private static final String[] LINKS = {"l0", "l1"};

    /** One operation of the model: runs on the host and on pmemfs, and says what it did. */
    @FunctionalInterface
    private interface Op {
        Outcome run(Step s);
    }

    /** What an operation did, and the errno of each side (0 for success). */
    private record Outcome(String what, int host, int pmemfs) {
    }

    /** The operations; one listed twice runs twice as often. */
    private static final List<Op> OPS = List.of(
            ModelTest::mkdir, ModelTest::mkdir, ModelTest::create, ModelTest::create,
            ModelTest::write, ModelTest::write, ModelTest::truncate, ModelTest::unlink,
            ModelTest::rmdir, ModelTest::rename, ModelTest::renameOverExisting,
            ModelTest::renameWithFlags, ModelTest::link, ModelTest::symlink,
            ModelTest::mknod, ModelTest::fallocate, ModelTest::fallocate, ModelTest::chown, ModelTest::chmod);

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
        Files.setPosixFilePermissions(host, PosixFilePermissions.fromString("rwxr-xr-x")); // as mkfs's root
        CrashingRegion region = CrashingRegion.create(24L << 20);
        MountOptions opts = MountOptions.defaults().withDax(mode).withCache(1L << 20);
        Format.mkfs(region, 4096, false, p -> { });
        FileSystem fs = FileSystem.mount(region, opts);
        try {
            Random rnd = new Random(seed);
            for (int step = 0; step < 400; step++) {
                Outcome o = OPS.get(rnd.nextInt(OPS.size())).run(new Step(fs, host, rnd, step));
                assertEquals(o.host(), o.pmemfs(),
                        o.what() + " (step " + step + "): errno (host " + o.host() + ", pmemfs " + o.pmemfs() + ")");
                compareTree(fs, host, o.what() + " (step " + step + ")");
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
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The state one operation draws on: both filesystems, the random source, the step number. */
    private record Step(FileSystem fs, Path root, Random rnd, int step) {
        /** A random path of 1 to 3 components from {@link #NAMES}. */
        String path() {
            int depth = 1 + rnd.nextInt(3);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < depth; i++) {
                sb.append('/').append(NAMES[rnd.nextInt(NAMES.length)]);
            }
            return sb.toString();
        }

        /** A random path for a symbolic link, in the root or one directory down. */
        String linkPath() {
            String p = rnd.nextBoolean() ? "" : "/" + NAMES[rnd.nextInt(NAMES.length)];
            return p + "/" + LINKS[rnd.nextInt(LINKS.length)];
        }

        /** A random existing path (not the root) that {@code which} accepts, else a random path. */
        String existing(Predicate<Path> which) {
            List<String> found = new ArrayList<>();
            try (Stream<Path> s = Files.walk(root)) {
                for (Path p : s.filter(p -> !p.equals(root)).filter(which).sorted().toList()) {
                    found.add("/" + root.relativize(p));
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return found.isEmpty() ? path() : found.get(rnd.nextInt(found.size()));
        }

        String host(String p) {
            return root + p;
        }

        /** The parent directory of {@code p} in pmemfs, as the core resolves it. */
        long parent(String p) {
            return fs.resolve(parentOf(p));
        }

        Outcome compare(String what, int hostErrno, Runnable pmemfs) {
            try {
                pmemfs.run();
                return new Outcome(what, hostErrno, 0);
            } catch (FsException e) {
                return new Outcome(what, hostErrno, e.errno().code());
            }
        }
    }

    private static String parentOf(String p) {
        int i = p.lastIndexOf('/');
        return i == 0 ? "/" : p.substring(0, i);
    }

    private static String nameOf(String p) {
        return p.substring(p.lastIndexOf('/') + 1);
    }

    private static boolean isDir(Path p) {
        return Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
    }

    /** Symbolic links stay at {@link #LINKS} names: the core does not follow them in a path, the host does. */
    private static boolean notSymlink(Path p) {
        return !Files.isSymbolicLink(p);
    }

    private static boolean isEmptyDir(Path p) {
        if (!isDir(p)) {
            return false;
        }
        try (Stream<Path> s = Files.list(p)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- the operations ------------------------------------------------------------------------

    private static Outcome mkdir(Step s) {
        String p = s.path();
        return s.compare("mkdir " + p, HostFs.mkdir(s.host(p), 0755),
                () -> s.fs().mkdir(s.parent(p), nameOf(p), 0755, 0, 0));
    }

    private static Outcome create(Step s) {
        String p = s.path();
        return s.compare("create " + p, HostFs.create(s.host(p), 0644),
                () -> s.fs().create(s.parent(p), nameOf(p), 0644, 0, 0));
    }

    /** pwrite at a random offset; on a directory the core's own EISDIR is compared. */
    private static Outcome write(Step s) {
        String p = s.path();
        if (special(s, p)) {
            return new Outcome("write " + p + ": skipped, a special file", 0, 0);
        }
        Random rnd = s.rnd();
        long pos = rnd.nextInt(4) == 0 ? rnd.nextInt(200_000) : rnd.nextInt(9000);
        byte[] data = FileSystemTest.bytes(1 + rnd.nextInt(rnd.nextBoolean() ? 300 : 20_000), s.step());
        return s.compare("write " + p + " @" + pos + " +" + data.length, HostFs.pwrite(s.host(p), pos, data),
                () -> FileSystemTest.write(s.fs(), s.fs().resolve(p), pos, data));
    }

    private static Outcome truncate(Step s) {
        String p = s.path();
        long size = s.rnd().nextInt(3) == 0 ? 0 : s.rnd().nextInt(30_000);
        return s.compare("truncate " + p + " " + size, HostFs.truncate(s.host(p), size),
                () -> s.fs().truncate(s.fs().resolve(p), size));
    }

    private static Outcome unlink(Step s) {
        String p = s.path();
        return s.compare("unlink " + p, HostFs.unlink(s.host(p)), () -> s.fs().unlink(s.parent(p), nameOf(p)));
    }

    private static Outcome rmdir(Step s) {
        String p = s.path();
        return s.compare("rmdir " + p, HostFs.rmdir(s.host(p)), () -> s.fs().rmdir(s.parent(p), nameOf(p)));
    }

    /** rename(2) between random paths (a quarter of the time between symbolic link names). */
    private static Outcome rename(Step s) {
        boolean links = s.rnd().nextInt(4) == 0;
        String src = links ? s.linkPath() : s.path();
        String dst = links ? s.linkPath() : s.path();
        return rename(s, src, dst, 0);
    }

    /**
     * rename(2) of an existing name over an existing directory, half the time an empty one: a
     * directory replacing an empty directory (the parent loses a link), a file over a directory
     * (EISDIR), over a non-empty one (ENOTEMPTY), into its own subtree (EINVAL).
     */
    private static Outcome renameOverExisting(Step s) {
        String src = s.existing(ModelTest::notSymlink);
        String dst = s.existing(s.rnd().nextBoolean() ? ModelTest::isEmptyDir : ModelTest::isDir);
        return rename(s, src, dst, 0);
    }

    /**
     * renameat2(2) with RENAME_EXCHANGE or RENAME_NOREPLACE, mostly on existing names (both
     * flags at once is refused by the kernel before any filesystem sees it).
     */
    private static Outcome renameWithFlags(Step s) {
        Random rnd = s.rnd();
        int flags = rnd.nextBoolean() ? FileSystem.RENAME_EXCHANGE : FileSystem.RENAME_NOREPLACE;
        String src = rnd.nextInt(4) == 0 ? s.path() : s.existing(ModelTest::notSymlink);
        String dst = rnd.nextInt(4) == 0 ? s.path() : s.existing(ModelTest::notSymlink);
        return rename(s, src, dst, flags);
    }

    private static Outcome rename(Step s, String src, String dst, int flags) {
        int expected = flags == 0 ? HostFs.rename(s.host(src), s.host(dst)) : HostFs.renameat2(s.host(src), s.host(dst), flags);
        return s.compare("rename" + (flags == 0 ? "" : "(flags " + flags + ")") + " " + src + " " + dst, expected,
                () -> s.fs().rename(dirOf(s.fs(), parentOf(src)), nameOf(src), s.parent(dst), nameOf(dst), flags));
    }

    private static Outcome link(Step s) {
        String p = s.path();
        String q = s.path();
        return s.compare("link " + p + " " + q, HostFs.link(s.host(p), s.host(q)),
                () -> s.fs().link(s.fs().resolve(p), s.parent(q), nameOf(q)));
    }

    private static Outcome symlink(Step s) {
        String l = s.linkPath();
        String target = "target-" + s.rnd().nextInt(5);
        return s.compare("symlink " + target + " " + l, HostFs.symlink(target, s.host(l)),
                () -> s.fs().symlink(s.parent(l), nameOf(l), target, 0, 0));
    }

    /**
     * Whether {@code p} is a FIFO, socket or device on the host: never opened, since a device
     * node on tmpfs opens the real device (and a FIFO would wait for a reader).
     */
    private static boolean special(Step s, String p) {
        HostFs.Stat st = HostFs.lstat(s.host(p));
        return st.errno() == 0 && !st.isRegular() && st.type() != 0040000 && st.type() != 0120000;
    }

    private static final int[] SPECIAL = {0010000, 0140000, 0020000, 0060000};

    /** mknod(2) of a FIFO, socket, or a device with a number in the experimental range (never opened). */
    private static Outcome mknod(Step s) {
        String p = s.path();
        Random rnd = s.rnd();
        int mode = SPECIAL[rnd.nextInt(SPECIAL.length)] | (rnd.nextBoolean() ? 0644 : 0600);
        long dev = ((240L + rnd.nextInt(15)) << 8) | rnd.nextInt(256);
        return s.compare(String.format("mknod %s 0%o %x", p, mode, dev), HostFs.mknod(s.host(p), mode, dev),
                () -> s.fs().mknod(s.parent(p), nameOf(p), mode, dev, 0, 0));
    }

    private static final int[] FALLOC_MODES = {0, FileSystem.FALLOC_FL_KEEP_SIZE,
        FileSystem.FALLOC_FL_PUNCH_HOLE | FileSystem.FALLOC_FL_KEEP_SIZE};

    /** fallocate(2) mode 0, KEEP_SIZE or a punched hole (tmpfs has no ZERO_RANGE to compare with). */
    private static Outcome fallocate(Step s) {
        String p = s.rnd().nextBoolean() ? s.path() : s.existing(ModelTest::notSymlink);
        Random rnd = s.rnd();
        int mode = FALLOC_MODES[rnd.nextInt(FALLOC_MODES.length)];
        long off = rnd.nextInt(3) == 0 ? rnd.nextInt(100_000) : rnd.nextInt(12_000);
        long len = 1 + rnd.nextInt(rnd.nextBoolean() ? 5000 : 80_000);
        String what = "fallocate " + p + " mode " + mode + " @" + off + " +" + len;
        if (special(s, p)) {
            return new Outcome(what + ": skipped, a special file", 0, 0);
        }
        return s.compare(what, HostFs.fallocate(s.host(p), mode, off, len),
                () -> s.fs().fallocate(s.fs().resolve(p), mode, off, len));
    }

    /** lchown(2) by root: a non-directory loses set-user-ID, and set-group-ID with group-execute. */
    private static Outcome chown(Step s) {
        String p = s.existing(q -> true);
        int uid = new int[] {-1, 0, 1000}[s.rnd().nextInt(3)];
        int gid = new int[] {-1, 0, 100}[s.rnd().nextInt(3)];
        return s.compare("chown " + p + " " + uid + ":" + gid, HostFs.lchown(s.host(p), uid, gid),
                () -> s.fs().chown(s.fs().resolve(p), uid, gid));
    }

    private static final int[] MODES = {06755, 04711, 02755, 02745, 0644, 01777, 06777};

    private static Outcome chmod(Step s) {
        String p = s.existing(ModelTest::notSymlink);
        int mode = MODES[s.rnd().nextInt(MODES.length)];
        return s.compare(String.format("chmod %s 0%o", p, mode), HostFs.chmod(s.host(p), mode),
                () -> s.fs().chmod(s.fs().resolve(p), mode));
    }

    /**
     * The source directory of a rename, checked as the kernel checks it before it looks at the
     * target's parent: pmemfs is asked for "." in it, and answers ENOTDIR for a file.
     */
    private static long dirOf(FileSystem fs, String p) {
        return fs.lookup(fs.resolve(p), ".");
    }

    // ---- the trees -----------------------------------------------------------------------------

    /**
     * Compares the whole tree: names, types, permissions, owners, sizes, link counts, contents,
     * targets, and for files and special files st_blocks and st_rdev.
     */
    private static void compareTree(FileSystem fs, Path host, String after) {
        assertEquals(hostTree(host), coreTree(fs), "tree differs after " + after);
    }

    private static Map<String, String> hostTree(Path root) {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                HostFs.Stat st = HostFs.lstat(p.toString());
                String desc = String.format("%o n%d %d:%d", st.mode(), st.nlink(), st.uid(), st.gid());
                if (st.type() != 0040000 && st.type() != 0120000) {
                    desc += " b" + st.blocks() + " r" + Long.toHexString(st.rdev());
                }
                if (Files.isSymbolicLink(p)) {
                    desc += " -> " + Files.readSymbolicLink(p);
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    desc += " s" + st.size() + " #" + java.util.Arrays.hashCode(Files.readAllBytes(p));
                }
                out.put("/" + root.relativize(p), desc);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    private static Map<String, String> coreTree(FileSystem fs) {
        Map<String, String> out = new TreeMap<>();
        Attr root = fs.getattr(FileSystem.ROOT);
        out.put("/", String.format("%o n%d %d:%d", root.mode(), root.nlink(), root.uid(), root.gid()));
        walk(fs, FileSystem.ROOT, "", out);
        return out;
    }

    private static void walk(FileSystem fs, long dir, String prefix, Map<String, String> out) {
        for (FileSystem.DirEntry e : fs.readdir(dir)) {
            String p = prefix + "/" + e.name();
            Attr a = fs.getattr(e.ino());
            String desc = String.format("%o n%d %d:%d", a.mode(), a.nlink(), a.uid(), a.gid());
            if (!a.isDir() && !a.isSymlink()) {
                desc += " b" + a.blocks() + " r" + Long.toHexString(a.rdev());
            }
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
