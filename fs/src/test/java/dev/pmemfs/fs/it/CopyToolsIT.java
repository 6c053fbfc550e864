package dev.pmemfs.fs.it;

import static dev.pmemfs.fs.it.Pmemfs.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pmemfs.fs.core.HostFs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * cp -a, tar and rsync -aH copy a tree holding a FIFO, a Unix socket, character and block
 * device nodes, hard links, a symlink, set-ID and sticky modes, foreign owners and a
 * directory chain ~3,800 bytes deep, from tmpfs into pmemfs below a prefix that puts its
 * deepest path past 5,000 bytes from the mount's root, and back out to tmpfs; every copy is
 * compared with the source by {@code diff -r --no-dereference} (regular files, symlinks) and by
 * a listing of every entry (type, mode, links, owner, size, mtime, target, device numbers,
 * contents, which names share an inode).
 *
 * <p>The tools work on paths relative to their working directory, and each of them refuses
 * a relative path of PATH_MAX (4,096 bytes) or more on any filesystem (checked on tmpfs:
 * cp "cannot stat", tar "File name too long", rsync "filename overflows max-path len"), so the
 * tree itself stays below that; the part past it is the prefix inside pmemfs, which the
 * filesystem resolves from its root on every call. rsync -H also stats the destination by its
 * absolute path, and with one past PATH_MAX it fails and hangs on tmpfs just the same, so
 * its copy goes to the mount's top. GNU tar skips sockets ("socket ignored"), so the tar
 * copy is compared without it.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
final class CopyToolsIT {
    private static final String NAME = "y".repeat(250);

    @Test
    void cpTarRsync_specialFilesLinksDeepPaths_roundTripExactly() throws IOException {
        Path work = Files.createTempDirectory(Path.of("/tmp"), "pc");
        Path shm = Files.createTempDirectory(Path.of("/dev/shm"), "pc");
        sh("chmod 755 '" + work + "'").ok();
        Path mnt = Files.createDirectory(work.resolve("m"));
        try (Pmemfs.Mount m = Pmemfs.Mount.start(Pmemfs.newRegion("128M"), mnt, true, DifferentialIT.FRONTEND)) {
            Path src = shm.resolve("src");
            buildTree(src);
            String prefix = String.join("/", java.util.Collections.nCopies(5, NAME)); // 1,254 bytes
            String inMnt = "cd '" + mnt + "' && mkdir -p p && cd p && " + cdDeep(5) + " && ";
            String copies = inMnt + "cp -a '" + src + "' cp"
                    + " && tar -C '" + src + "' -cpf '" + shm + "/t.tar' . 2>/dev/null; mkdir tar && tar -C tar -xpf '"
                    + shm + "/t.tar'"
                    + " && cd '" + mnt + "' && rsync -aH '" + src + "/' rs/";
            Pmemfs.Result r = Pmemfs.exec(List.of("bash", "-c", copies), 120);
            assertEquals(0, r.code(), "copies into pmemfs: " + shorten(r.err()));

            Listing want = Listing.of(src.toString(), "");
            String here = mnt + "/p/" + prefix;
            assertTrue(here.length() - mnt.toString().length() + want.deepest > 5000,
                    "deepest path in pmemfs: " + (here.length() - mnt.toString().length() + want.deepest) + " bytes");
            for (String copy : new String[] {"cp", "tar", "rs"}) {
                String cd = copy.equals("rs") ? "cd " + copy : cdDeep(5) + " && cd " + copy;
                Listing got = Listing.of(mnt + (copy.equals("rs") ? "" : "/p"), cd);
                assertEquals(copy.equals("tar") ? want.without("sock") : want.entries, got.entries, copy + ": listing");
                assertEquals(want.groups, got.groups, copy + ": names of one inode");
                String where = copy.equals("rs") ? "cd '" + mnt + "'" : "cd '" + mnt + "/p' && " + cdDeep(5);
                Pmemfs.Result d = Pmemfs.exec(List.of("bash", "-c", where
                        + " && diff -r --no-dereference -x fifo -x sock -x chr -x blk '" + src + "' " + copy), 60);
                assertEquals(0, d.code(), copy + ": diff -r: " + shorten(d.out() + d.err()));
            }

            // and back out of pmemfs, to tmpfs
            String back = "cd '" + mnt + "/p' && " + cdDeep(5) + " && cp -a cp '" + shm + "/back-cp'"
                    + " && tar -C tar -cpf '" + shm + "/back.tar' . 2>/dev/null; mkdir '" + shm + "/back-tar'"
                    + " && tar -C '" + shm + "/back-tar' -xpf '" + shm + "/back.tar'"
                    + " && cd '" + mnt + "' && rsync -aH rs/ '" + shm + "/back-rs/'";
            r = Pmemfs.exec(List.of("bash", "-c", back), 120);
            assertEquals(0, r.code(), "copies out of pmemfs: " + shorten(r.err()));
            for (String copy : new String[] {"back-cp", "back-tar", "back-rs"}) {
                Listing got = Listing.of(shm.resolve(copy).toString(), "");
                assertEquals(copy.equals("back-tar") ? want.without("sock") : want.entries, got.entries, copy + ": listing");
                assertEquals(want.groups, got.groups, copy + ": names of one inode");
            }
            m.unmount();
            Pmemfs.Result fsck = Pmemfs.pmemfs("fsck", m.region.toString());
            assertEquals(0, fsck.code(), "fsck: " + fsck.out() + fsck.err());
        } finally {
            sh("rm -rf '" + work + "' '" + shm + "'");
        }
        assertFalse(Pmemfs.mounted(mnt));
    }

    /** A shell fragment that creates (if needed) and enters {@code n} levels of 250-byte names. */
    private static String cdDeep(int n) {
        return "for i in $(seq " + n + "); do mkdir -p " + NAME + " && cd " + NAME + " || exit 9; done";
    }

    private static String shorten(String s) {
        return s.replaceAll("y{20,}", "Y…").lines().limit(20).reduce("", (a, b) -> a + b + "\n");
    }

    /** The source: every kind of inode, at the top and at the bottom of a deep chain. */
    private static void buildTree(Path src) {
        String script = "set -e; mkdir -p '" + src + "' && cd '" + src + "';"
                + " echo one > a; printf 'x%.0s' $(seq 1 70000) > big; ln a hard1; ln a hard2; ln -s a sym; ln -s /nowhere dangling;"
                + " mkfifo -m 640 fifo; mknod -m 600 chr c 241 7; mknod -m 660 blk b 242 9;"
                + " chmod 4755 big; mkdir -m 1777 sticky; mkdir -m 2775 sgid; echo s > sgid/f; chown 1234:5678 sgid/f;"
                + " touch -d 2001-02-03T04:05:06 a;"
                + " d=.; for i in $(seq 15); do mkdir " + NAME + "; cd " + NAME + "; done;"
                + " echo deep > leaf; ln leaf leaf2; mkfifo fifo; mknod chr c 243 1; ln -s leaf sym";
        Pmemfs.exec(List.of("bash", "-c", script), 60).ok();
        assertEquals(0, HostFs.bindSocket(src + "/sock"), "bind");
        Pmemfs.exec(List.of("bash", "-c", "cd '" + src + "' && touch -h -d 2002-01-01 sock fifo chr blk sym"), 30).ok();
    }

    /** Every entry of a tree, as find(1) and stat(1) see it, from a directory reached by {@code cd}. */
    private record Listing(Map<String, String> entries, TreeSet<String> groups, int deepest) {
        static Listing of(String dir, String cd) {
            String list = "cd '" + dir + "'" + (cd.isEmpty() ? "" : " && " + cd)
                    + " && find . -printf '%P|%y|%m|%n|%U|%G|%s|%Ts|%l|%i\\n'"
                    + " && find . \\( -type b -o -type c \\) -exec stat -c 'DEV|%n|%t:%T' {} +"
                    + " && find . -type f -exec md5sum {} +";
            Pmemfs.Result r = Pmemfs.exec(List.of("bash", "-c", list), 60);
            assertEquals(0, r.code(), "listing " + dir + ": " + shorten(r.err()));
            Map<String, String> entries = new TreeMap<>();
            Map<String, List<String>> byInode = new TreeMap<>();
            int deepest = 0;
            for (String line : r.out().split("\n")) {
                if (line.startsWith("DEV|")) {
                    String[] f = line.split("\\|");
                    entries.merge(f[1].substring(2), " dev " + f[2], String::concat);
                } else if (line.matches("[0-9a-f]{32}  .*")) {
                    entries.merge(line.substring(36), " md5 " + line.substring(0, 32), String::concat);
                } else if (!line.isEmpty()) {
                    int cut = line.lastIndexOf('|');
                    String path = line.substring(0, line.indexOf('|'));
                    String rest = line.substring(line.indexOf('|') + 1, cut);
                    // a directory's size is the filesystem's business (tmpfs counts entries, pmemfs blocks)
                    entries.put(path, rest.replaceFirst("^d\\|([^|]*)\\|([^|]*)\\|([^|]*)\\|([^|]*)\\|[0-9]+\\|", "d|$1|$2|$3|$4|-|"));
                    byInode.computeIfAbsent(line.substring(cut + 1), k -> new ArrayList<>()).add(path);
                    deepest = Math.max(deepest, path.length());
                }
            }
            TreeSet<String> groups = new TreeSet<>();
            byInode.values().stream().filter(l -> l.size() > 1).forEach(l -> groups.add(new TreeSet<>(l).toString()));
            return new Listing(entries, groups, deepest);
        }

        Map<String, String> without(String name) {
            Map<String, String> m = new TreeMap<>(entries);
            m.remove(name);
            return m;
        }
    }
}
