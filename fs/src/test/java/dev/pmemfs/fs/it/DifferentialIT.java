package dev.pmemfs.fs.it;

import static dev.pmemfs.fs.it.Pmemfs.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pmemfs.fs.core.HostFs;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The mounted twin of the core's ModelTest: random operations through real system calls (FFM,
 * {@link HostFs}) on a pmemfs mount and on a tmpfs directory side by side, comparing every
 * errno and, after every step, the whole tree: types, modes, owners, {@code st_nlink} from
 * every name, {@code st_rdev}, sizes, {@code st_blocks} of files and special files, contents and
 * link targets. Operations: mkdir (plain, sticky, set-group-ID), create, write, truncate,
 * unlink, rmdir, rename (also over hard links), link, symlink, mkfifo, mknod b/c, Unix socket
 * bind, chmod and chown by root, and writes, truncates, creates, chowns and unlinks by another
 * uid (setfsuid on the calling thread: set-ID bits must clear, sticky directories must hold),
 * fallocate and punch hole, and a directory chain deeper than PATH_MAX (compared with
 * {@code find}). Both DAX modes (a seed each), with remounts and fsck at the end; the build runs
 * it on both frontends.
 *
 * <p>Frontend: jnr-fuse (libfuse 2's high-level API) gives every name of a hard-linked file its
 * own kernel inode, so its attributes may be stale for {@code attr_timeout}; on jnr-fuse the
 * mount here passes {@code attr_timeout=0} ({@link #FRONTEND}) so link counts and modes are
 * exact from every name. The kernel frontend, on inode numbers, runs with its defaults.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
final class DifferentialIT {
    /**
     * Mount options for the frontend under test ({@link Pmemfs#FRONTEND}): jnr-fuse needs
     * {@code attr_timeout=0} for exact link counts and modes from every name; the kernel
     * frontend, on inode numbers, needs nothing.
     */
    static final String[] FRONTEND = Pmemfs.FRONTEND.equals("jnr-fuse") ? new String[] {"-o", "attr_timeout=0"}
            : new String[0];
    private static final String[] NAMES = {"a", "b", "c"};
    private static final int STEPS = 50;
    private static final int OTHER = 65534;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFLNK = 0120000;

    static Stream<Arguments> runs() {
        return Stream.of(Arguments.of("never", 1L), Arguments.of("always", 2L));
    }

    /** One step's view: both roots, the random source. */
    private record Step(Path mnt, Path ref, Random rnd) {
        String path() {
            StringBuilder sb = new StringBuilder();
            for (int i = 0, n = 1 + rnd.nextInt(2); i < n; i++) {
                sb.append('/').append(NAMES[rnd.nextInt(NAMES.length)]);
            }
            return sb.toString();
        }

        /** Runs {@code call} on both sides (with the root's path prefixed) and compares the errno. */
        void both(String what, java.util.function.ToIntFunction<String> call) {
            int want = call.applyAsInt(ref.toString());
            int got = call.applyAsInt(mnt.toString());
            assertEquals(want, got, what + ": errno (tmpfs " + want + ", pmemfs " + got + ")");
        }

        boolean special(String p) {
            HostFs.Stat st = HostFs.lstat(ref + p);
            return st.errno() == 0 && !st.isRegular() && st.type() != S_IFDIR && st.type() != S_IFLNK;
        }
    }

    @ParameterizedTest(name = "dax={0} seed {1}")
    @MethodSource("runs")
    void randomOperations_matchTmpfs(String dax, long seed) throws IOException {
        Path work = Files.createTempDirectory(Path.of("/tmp"), "pd");
        Path ref = Files.createTempDirectory(Path.of("/dev/shm"), "pmemfs-diff");
        sh("chmod 755 '" + work + "' '" + ref + "'").ok();
        Path mnt = Files.createDirectory(work.resolve("m"));
        List<String> opts = new ArrayList<>(List.of("--dax=" + dax, "-o", "allow_other"));
        opts.addAll(List.of(FRONTEND));
        try (Pmemfs.Mount m = Pmemfs.Mount.start(Pmemfs.newRegion("128M"), mnt, true, opts.toArray(new String[0]))) {
            Step s = new Step(mnt, ref, new Random(seed));
            List<String> log = new ArrayList<>();
            log.addAll(prologue(s));
            for (int step = 0; step < STEPS; step++) {
                String what = step % 40 == 5 ? deep(s) : op(s);
                log.add(what);
                compareTrees(mnt, ref, what + " (step " + step + ")");
                if (step % 30 == 29) {
                    m.unmount();
                    m.mount(opts.toArray(new String[0]));
                    compareTrees(mnt, ref, "remount at step " + step);
                    compareFind(mnt, ref, "remount at step " + step);
                }
            }
            compareFind(mnt, ref, "the end");
            m.unmount();
            Pmemfs.Result fsck = Pmemfs.pmemfs("fsck", m.region.toString());
            assertEquals(0, fsck.code(), "fsck after the run:\n" + fsck.out() + fsck.err());
            assertEquals(STEPS + prologue(null).size(), log.size(), "steps run");
        } finally {
            sh("rm -rf '" + work + "' '" + ref + "'");
        }
        assertFalse(Pmemfs.mounted(mnt));
    }

    /**
     * What every run does first, so that the set-ID and sticky rules are met whatever the seed:
     * another uid writes, truncates and fallocates set-ID files (of root's group and of a
     * group it is not in), chowns one of its own, creates in and unlinks from a sticky
     * directory; the trees are compared after each. With {@code s} null nothing runs: only
     * the list of what would counts.
     */
    private static List<String> prologue(Step s) {
        List<String> done = new ArrayList<>();
        java.util.function.BiConsumer<String, java.util.function.ToIntFunction<String>> op = (what, call) -> {
            if (s != null) {
                s.both(what, call);
                compareTrees(s.mnt(), s.ref(), what);
            }
            done.add(what);
        };
        byte[] data = "written by another uid".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        op.accept("mkdir /c 01777", r -> HostFs.mkdir(r + "/c", 0777) | HostFs.chmod(r + "/c", 01777));
        for (String f : new String[] {"suid", "sgid-x", "sgid", "sgid-other"}) {
            op.accept("create /c/" + f, r -> HostFs.create(r + "/c/" + f, 0644));
        }
        op.accept("chown /c/sgid-other :100", r -> HostFs.lchown(r + "/c/sgid-other", -1, 100));
        op.accept("chmod 06777 /c/suid", r -> HostFs.chmod(r + "/c/suid", 06777));
        op.accept("chmod 02777 /c/sgid-x", r -> HostFs.chmod(r + "/c/sgid-x", 02777));
        op.accept("chmod 02766 /c/sgid", r -> HostFs.chmod(r + "/c/sgid", 02766));
        op.accept("chmod 02766 /c/sgid-other", r -> HostFs.chmod(r + "/c/sgid-other", 02766));
        for (String f : new String[] {"suid", "sgid-x", "sgid", "sgid-other"}) {
            op.accept("write-as /c/" + f, r -> as(true, () -> HostFs.pwrite(r + "/c/" + f, 3, data)));
        }
        op.accept("chmod 06777 /c/suid again", r -> HostFs.chmod(r + "/c/suid", 06777));
        op.accept("truncate-as /c/suid", r -> as(true, () -> HostFs.truncate(r + "/c/suid", 5)));
        op.accept("chmod 06777 /c/suid a third time", r -> HostFs.chmod(r + "/c/suid", 06777));
        op.accept("fallocate-as /c/suid", r -> as(true, () -> HostFs.fallocate(r + "/c/suid", 0, 0, 9000)));
        op.accept("create-as /c/mine", r -> as(true, () -> HostFs.create(r + "/c/mine", 0644)));
        op.accept("chmod 06755 /c/mine (root)", r -> HostFs.chmod(r + "/c/mine", 06755));
        op.accept("chown-as /c/mine (to itself)", r -> as(true, () -> HostFs.lchown(r + "/c/mine", OTHER, -1)));
        op.accept("unlink-as /c/suid (sticky: EPERM)", r -> as(true, () -> HostFs.unlink(r + "/c/suid")));
        op.accept("unlink-as /c/mine", r -> as(true, () -> HostFs.unlink(r + "/c/mine")));
        return done;
    }

    private static final int[] DIR_MODES = {0755, 01777, 02775, 0777};
    private static final int[] FILE_MODES = {0644, 06777, 04777, 02767, 02777, 0666};
    private static final int[] FALLOC = {0, 1, 3}; // 0, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE

    /** One random operation on both sides; returns what it did. */
    private static String op(Step s) {
        Random rnd = s.rnd();
        String p = s.path();
        int kind = rnd.nextInt(22);
        String what;
        switch (kind) {
            case 0, 1 -> {
                int mode = DIR_MODES[rnd.nextInt(DIR_MODES.length)];
                what = String.format("mkdir %s 0%o", p, mode);
                s.both(what, r -> {
                    int rc = HostFs.mkdir(r + p, mode);
                    return rc == 0 ? HostFs.chmod(r + p, mode) : rc; // chmod: past the umask
                });
            }
            case 2, 3 -> {
                int mode = FILE_MODES[rnd.nextInt(FILE_MODES.length)];
                what = String.format("create %s 0%o", p, mode);
                s.both(what, r -> {
                    int rc = HostFs.create(r + p, mode);
                    return rc == 0 ? HostFs.chmod(r + p, mode) : rc;
                });
            }
            case 4, 5, 6 -> what = write(s, p, kind == 6);
            case 7 -> {
                long size = rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(60_000);
                boolean other = rnd.nextBoolean();
                what = (other ? "truncate-as " : "truncate ") + p + " " + size;
                s.both(what, r -> as(other, () -> HostFs.truncate(r + p, size)));
            }
            case 8 -> {
                boolean other = rnd.nextBoolean();
                what = (other ? "unlink-as " : "unlink ") + p;
                s.both(what, r -> as(other, () -> HostFs.unlink(r + p)));
            }
            case 9 -> {
                what = "rmdir " + p;
                s.both(what, r -> HostFs.rmdir(r + p));
            }
            case 10, 11 -> {
                String q = s.path();
                boolean other = rnd.nextInt(4) == 0;
                what = (other ? "rename-as " : "rename ") + p + " " + q;
                s.both(what, r -> as(other, () -> HostFs.rename(r + p, r + q)));
            }
            case 12, 13 -> {
                String q = s.path();
                what = "link " + p + " " + q;
                s.both(what, r -> HostFs.link(r + p, r + q));
            }
            case 14 -> {
                String target = "t" + rnd.nextInt(3);
                what = "symlink " + target + " " + p;
                s.both(what, r -> HostFs.symlink(target, r + p));
            }
            case 15 -> {
                int type = new int[] {0010000, 0020000, 0060000}[rnd.nextInt(3)];
                long dev = ((240L + rnd.nextInt(10)) << 8) | rnd.nextInt(256); // experimental majors, never opened
                what = String.format("mknod %s 0%o %x", p, type | 0644, dev);
                s.both(what, r -> HostFs.mknod(r + p, type | 0644, dev));
            }
            case 16 -> {
                what = "bind " + p;
                s.both(what, r -> HostFs.bindSocket(r + p));
            }
            case 17 -> {
                int mode = FILE_MODES[rnd.nextInt(FILE_MODES.length)];
                what = String.format("chmod %s 0%o", p, mode);
                s.both(what, r -> HostFs.chmod(r + p, mode));
            }
            case 18 -> {
                int uid = new int[] {-1, 0, OTHER}[rnd.nextInt(3)];
                int gid = new int[] {-1, 0, 100, OTHER}[rnd.nextInt(4)];
                boolean other = rnd.nextInt(3) == 0;
                what = (other ? "chown-as " : "chown ") + p + " " + uid + ":" + gid;
                s.both(what, r -> as(other, () -> HostFs.lchown(r + p, uid, gid)));
            }
            case 19 -> {
                String q = s.path();
                int mode = FILE_MODES[rnd.nextInt(FILE_MODES.length)];
                what = "create-as " + q;
                s.both(what, r -> as(true, () -> HostFs.create(r + q, mode)));
            }
            default -> {
                int mode = FALLOC[rnd.nextInt(FALLOC.length)];
                long off = rnd.nextInt(3) == 0 ? rnd.nextInt(200_000) : rnd.nextInt(12_000);
                long len = 1 + rnd.nextInt(rnd.nextBoolean() ? 6000 : 150_000);
                what = "fallocate " + p + " mode " + mode + " @" + off + " +" + len;
                if (s.special(p)) {
                    return what + ": skipped, special file";
                }
                s.both(what, r -> HostFs.fallocate(r + p, mode, off, len));
            }
        }
        return what;
    }

    /** pwrite by root or by another uid (to files others may write: their set-ID bits must clear). */
    private static String write(Step s, String p, boolean other) {
        Random rnd = s.rnd();
        long pos = rnd.nextInt(4) == 0 ? rnd.nextInt(300_000) : rnd.nextInt(9000);
        byte[] data = new byte[1 + rnd.nextInt(rnd.nextBoolean() ? 300 : 40_000)];
        rnd.nextBytes(data);
        String what = (other ? "write-as " : "write ") + p + " @" + pos + " +" + data.length;
        if (s.special(p)) {
            return what + ": skipped, special file";
        }
        s.both(what, r -> as(other, () -> HostFs.pwrite(r + p, pos, data)));
        return what;
    }

    private static int as(boolean other, java.util.function.IntSupplier call) {
        return other ? HostFs.as(OTHER, OTHER, call) : call.getAsInt();
    }

    /** Extends a chain of 200-byte directory names under /deep by 12 levels (past 4096 bytes the second time). */
    private static String deep(Step s) {
        String script = "set -e; cd \"$1\"; mkdir -p deep; cd deep; n=$(printf 'x%.0s' $(seq 1 200));"
                + " while [ -d \"$n\" ]; do cd \"$n\"; done;"
                + " for i in $(seq 12); do mkdir \"$n\"; cd \"$n\"; done; mkfifo fifo; echo leaf > leaf; ln leaf hard;"
                + " pwd | wc -c";
        for (Path root : new Path[] {s.ref(), s.mnt()}) {
            Pmemfs.Result r = Pmemfs.exec(List.of("bash", "-c", script, "deep", root.toString()), 60);
            assertEquals(0, r.code(), "deep tree in " + root + ": " + r.err());
        }
        return "deep +12 levels";
    }

    // ---- comparing ---------------------------------------------------------------------------

    private static void compareTrees(Path mnt, Path ref, String after) {
        assertEquals(tree(ref), tree(mnt), "tree differs after " + after);
    }

    /** Every entry outside /deep: lstat fields, contents and targets. */
    private static Map<String, String> tree(Path root) {
        Map<String, String> out = new TreeMap<>();
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) {
                    if (d.equals(root.resolve("deep"))) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    out.put("/" + root.relativize(d), describe(d));
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes a) {
                    out.put("/" + root.relativize(f), describe(f));
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new AssertionError("walking " + root, e);
        }
        return out;
    }

    private static String describe(Path p) {
        HostFs.Stat st = HostFs.lstat(p.toString());
        if (st.errno() != 0) {
            return "lstat errno " + st.errno();
        }
        String d = String.format("%o n%d %d:%d", st.mode(), st.nlink(), st.uid(), st.gid());
        if (st.type() == S_IFLNK) {
            try {
                return d + " -> " + Files.readSymbolicLink(p);
            } catch (IOException e) {
                return d + " readlink " + e;
            }
        }
        if (st.type() == S_IFDIR) {
            return d;
        }
        d += " s" + st.size() + " b" + st.blocks() + " r" + Long.toHexString(st.rdev());
        if (st.isRegular()) {
            try {
                d += " #" + java.util.Arrays.hashCode(Files.readAllBytes(p));
            } catch (IOException e) {
                d += " read " + e;
            }
        }
        return d;
    }

    /** The whole tree, /deep included, as find(1) lists it (it walks paths longer than PATH_MAX). */
    private static void compareFind(Path mnt, Path ref, String after) {
        String list = "cd \"$1\" && find . -printf '%P|%y|%m|%n|%U|%G|%s|%b|%l\\n' | sort";
        String want = Pmemfs.exec(List.of("bash", "-c", list, "find", ref.toString()), 60).ok().out();
        String got = Pmemfs.exec(List.of("bash", "-c", list, "find", mnt.toString()), 60).ok().out();
        assertEquals(dirSizesOut(want), dirSizesOut(got), "find listing differs after " + after);
        assertTrue(want.contains("/fifo|p|"), "the deep tree is there");
        int deepest = want.lines().mapToInt(l -> l.indexOf('|')).max().orElse(0);
        assertTrue(!after.equals("the end") || deepest > 4096, "deepest path " + deepest + " bytes");
    }

    /** Directories' sizes and blocks differ by design (tmpfs counts entries, pmemfs blocks): blanked. */
    private static String dirSizesOut(String listing) {
        StringBuilder sb = new StringBuilder();
        for (String line : listing.split("\n")) {
            String[] f = line.split("\\|", -1);
            if (f.length == 9 && f[1].equals("d")) {
                f[6] = "-";
                f[7] = "-";
            }
            sb.append(String.join("|", f)).append('\n');
        }
        return sb.toString();
    }
}
