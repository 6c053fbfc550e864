package dev.pmemfs.fs.it;

import static dev.pmemfs.fs.it.Pmemfs.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * One real mount (cached mode) used the way people use a filesystem: a copied tree, tar,
 * git, stats, then unmount and remount with everything still there.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
final class MountIT {
    private static final String TREE = "/usr/lib/python3";
    private Path work;
    private Pmemfs.Mount mount;

    @BeforeAll
    void mount() throws IOException {
        work = Files.createTempDirectory("pmemfs-mount-it");
        Path mnt = Files.createDirectory(work.resolve("mnt"));
        mount = Pmemfs.Mount.start(Pmemfs.newRegion("512M"), mnt, true);
    }

    @AfterAll
    void unmount() {
        try {
            if (mount != null) {
                mount.close();
            }
        } finally {
            sh("rm -rf '" + work + "'");
        }
        assertFalse(Pmemfs.mounted(work.resolve("mnt")), "mount left behind");
    }

    private String m() {
        return mount.mnt.toString();
    }

    @Test
    @Order(1)
    void copiedTree_comparesEqual() {
        sh("cp -a " + TREE + " '" + m() + "/tree'").ok();
        sh("diff -r --no-dereference " + TREE + " '" + m() + "/tree'").ok();
        int files = Integer.parseInt(sh("find '" + m() + "/tree' | wc -l").ok().out().strip());
        int source = Integer.parseInt(sh("find " + TREE + " | wc -l").ok().out().strip());
        assertEquals(source, files, "entries copied");
        assertTrue(files > 3000, "the README promises a tree of 3,000+ entries; this one has " + files);
    }

    /**
     * Modes, owners, hard links, symlinks, modification times and contents survive tar out and
     * back. GNU tar restores mtime alone (atime UTIME_OMIT), which libfuse 2 passes on only
     * because PmemFuse sets flag_utime_omit_ok. tar's default format keeps whole seconds.
     */
    @Test
    @Order(2)
    void tar_roundTrip_keepsModesLinksTimesAndContents() {
        String src = work + "/src";
        sh("set -e; mkdir -p " + src + "/d/e; cd " + src + "; echo one > a; echo two > d/b; chmod 640 a; chmod 4755 d/b;"
                + " chmod 700 d/e; ln a hard; ln -s d/b sym; ln -s /nonexistent dangling; chown 1234:5678 d/b;"
                + " tar --numeric-owner -cpf " + work + "/t.tar .").ok();
        sh("set -e; mkdir '" + m() + "/x'; cd '" + m() + "/x'; tar --numeric-owner -xpf " + work + "/t.tar; sleep 1.2").ok();
        String list = "find . -mindepth 1 -printf '%p %M %n %l %U %G %y %Ts\\n' | sort";
        String want = sh("cd " + src + " && " + list).ok().out();
        String got = sh("cd '" + m() + "/x' && " + list).ok().out();
        assertEquals(want, got);
        sh("set -e; cd '" + m() + "/x'; tar --numeric-owner -cpf " + work + "/t2.tar .; mkdir " + work + "/back; cd "
                + work + "/back; tar --numeric-owner -xpf " + work + "/t2.tar; diff -r --no-dereference " + src + " .").ok();
        assertEquals(sh("stat -c %i '" + m() + "/x/a'").out(), sh("stat -c %i '" + m() + "/x/hard'").out());
    }

    @Test
    @Order(2)
    void cpPreserve_keepsTimes() {
        sh("set -e; mkdir -p " + work + "/ts; cd " + work + "/ts; echo t > f; touch -d '2001-02-03 04:05:06.123456789' f;"
                + " ln -s f l; touch -h -d '2002-03-04 05:06:07.5' l; mkdir d; touch -d '2003-01-01' d").ok();
        sh("cp -a " + work + "/ts '" + m() + "/ts'").ok();
        String list = "find . -printf '%p %T@\\n' | sort";
        assertEquals(sh("cd " + work + "/ts && " + list).ok().out(), sh("cd '" + m() + "/ts' && " + list).ok().out());
    }

    @Test
    @Order(3)
    void git_initAddCommitLog() {
        String g = "cd '" + m() + "/repo' && git -c user.name=t -c user.email=t@example.com -c init.defaultBranch=main ";
        sh("set -e; mkdir '" + m() + "/repo'; cp -r /usr/share/perl5/Debian '" + m() + "/repo/'").ok();
        sh(g + "init -q && " + g + "add -A && " + g + "commit -q -m first && echo change >> Debian/DebConf/Client/ConfModule.pm && "
                + g + "commit -q -am second && " + g + "gc -q").ok();
        String log = sh(g + "log --oneline").ok().out();
        assertEquals(2, log.lines().count(), log);
        sh(g + "fsck --strict").ok();
        assertTrue(sh(g + "status --porcelain").ok().out().isBlank());
    }

    @Test
    @Order(4)
    void stats_json_hasTheAgreedKeys() {
        String json = Pmemfs.pmemfs("stats", "--json", m()).ok().out();
        for (String key : new String[]{"\"user_bytes\"", "\"media_bytes\"", "\"write_amplification\"", "\"cache\"",
            "\"hits\"", "\"misses\"", "\"evictions\"", "\"writebacks\"", "\"dirty_pages\"", "\"direct\"",
            "\"region_bytes_written\"", "\"persists\"", "\"free_bytes\"", "\"wear_histogram\"", "\"writes\"", "\"blocks\"",
            "\"hottest_block\"", "\"areas\"", "\"area\": \"journal\"", "\"max_over_mean\""}) {
            assertTrue(json.contains(key), key + " missing in " + json);
        }
        String text = Pmemfs.pmemfs("stats", m()).ok().out();
        assertTrue(text.contains("write amplification") && text.contains("hottest block") && text.contains("wear by area"), text);
    }

    @Test
    @Order(5)
    void remount_keepsEverything() {
        String before = sh("cd '" + m() + "' && find . -printf '%p %M %n %l %T@ %s\\n' | sort | md5sum").ok().out();
        mount.unmount();
        assertFalse(Pmemfs.mounted(mount.mnt));
        assertEquals(0, Pmemfs.pmemfs("fsck", mount.region.toString()).code(), "fsck after a clean unmount");
        mount.mount();
        assertEquals(before, sh("cd '" + m() + "' && find . -printf '%p %M %n %l %T@ %s\\n' | sort | md5sum").ok().out());
        sh("diff -r --no-dereference " + TREE + " '" + m() + "/tree'").ok();
    }
}
