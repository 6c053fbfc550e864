package dev.pmemfs.fs.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pmemfs.fs.layout.DirBlock;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Special files (FIFO, socket, character and block devices) in the core, paths deeper than
 * PATH_MAX, and the set-ID bits that chown and killPriv clear.
 */
final class SpecialFilesTest extends MountedFsFixture {
    private static final int S_IFIFO = 0010000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFSOCK = 0140000;

    @BeforeEach
    void setUp() {
        start(32L << 20, MountOptions.defaults());
    }

    private static long makedev(long major, long minor) {
        return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xffL) << 12) | ((major & ~0xfffL) << 32);
    }

    @Test
    void mknod_everyType_statTypesRdevAndSurvivesRemount() {
        long d = fs.mkdir(FileSystem.ROOT, "dev", 0755, 0, 0);
        long big = makedev(300, 70_000); // needs the wide encoding
        fs.mknod(d, "fifo", S_IFIFO | 0640, 99, 12, 34);
        fs.mknod(d, "sock", S_IFSOCK | 0755, 0, 0, 0);
        fs.mknod(d, "null", S_IFCHR | 0666, makedev(1, 3), 0, 0);
        fs.mknod(d, "big", S_IFBLK | 0660, big, 0, 6);
        fs.mknod(d, "plain", 0644, 5, 0, 0); // type 0 is a regular file, as mknod(2) says
        remount();
        Map<String, String> seen = new TreeMap<>();
        for (FileSystem.DirEntry e : fs.readdir(fs.resolve("/dev"))) {
            Attr a = fs.getattr(e.ino());
            seen.put(e.name(), String.format("%o t%d r%d n%d s%d b%d %d:%d", a.mode(), e.type(), a.rdev(), a.nlink(),
                    a.size(), a.blocks(), a.uid(), a.gid()));
        }
        assertEquals(Map.of(
                "fifo", "10640 t" + DirBlock.DT_FIFO + " r0 n1 s0 b0 12:34",
                "sock", "140755 t" + DirBlock.DT_SOCK + " r0 n1 s0 b0 0:0",
                "null", "20666 t" + DirBlock.DT_CHR + " r" + makedev(1, 3) + " n1 s0 b0 0:0",
                "big", "60660 t" + DirBlock.DT_BLK + " r" + big + " n1 s0 b0 0:6",
                "plain", "100644 t" + DirBlock.DT_REG + " r0 n1 s0 b0 0:0"), seen);
        assertEquals(Fsck.EXIT_CLEAN, fsckAfterClose());
    }

    private int fsckAfterClose() {
        fs.close();
        fs = null;
        Fsck.Report r = Fsck.check(region, false, n -> { });
        assertEquals(List.of(), r.problems());
        fs = FileSystem.mount(region, MountOptions.defaults());
        return r.exitCode();
    }

    @Test
    void specialFiles_linkRenameChmodUnlinkLikeAnyInode() {
        long f = fs.mknod(FileSystem.ROOT, "f", S_IFIFO | 0600, 0, 0, 0);
        long d = fs.mkdir(FileSystem.ROOT, "d", 0755, 0, 0);
        fs.link(f, d, "f2");
        assertEquals(2, fs.getattr(f).nlink());
        long c = fs.mknod(FileSystem.ROOT, "c", S_IFCHR | 0600, makedev(4, 1), 0, 0);
        fs.rename(FileSystem.ROOT, "c", d, "f2", 0); // over a link of the FIFO
        assertEquals(1, fs.getattr(f).nlink());
        assertEquals(c, fs.resolve("/d/f2"));
        fs.chmod(c, 0644);
        fs.chown(c, 7, 8);
        Attr a = fs.getattr(c);
        assertEquals(S_IFCHR | 0644, a.mode());
        assertEquals(makedev(4, 1), a.rdev(), "rdev kept through chmod and chown");
        fs.utimens(c, java.time.Instant.ofEpochSecond(5), java.time.Instant.ofEpochSecond(6));
        assertEquals(6, fs.getattr(c).mtimeSec());
        assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> fs.setDaxFlag(c, true)).errno());
        assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> fs.truncate(c, 0)).errno());
        fs.unlink(d, "f2");
        fs.unlink(FileSystem.ROOT, "f");
        assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> fs.getattr(f)).errno());
        assertEquals(Errno.EEXIST, assertThrows(FsException.class,
                () -> fs.mknod(FileSystem.ROOT, "d", S_IFSOCK | 0644, 0, 0, 0)).errno());
        assertEquals(Errno.EINVAL, assertThrows(FsException.class,
                () -> fs.mknod(FileSystem.ROOT, "x", 0070644, 0, 0, 0)).errno());
        assertEquals(Fsck.EXIT_CLEAN, fsckAfterClose());
    }

    @Test
    void deepTree_pastPathMax_createdAndResolved() {
        String name = "d".repeat(200);
        long dir = FileSystem.ROOT;
        StringBuilder path = new StringBuilder();
        while (path.length() < 9000) {
            dir = fs.mkdir(dir, name, 0755, 0, 0);
            path.append('/').append(name);
        }
        long f = fs.mknod(dir, "fifo", S_IFIFO | 0644, 0, 0, 0);
        remount();
        assertEquals(f, fs.resolve(path + "/fifo"), "a path of " + path.length() + " bytes resolves");
        assertEquals(Errno.ENAMETOOLONG, assertThrows(FsException.class,
                () -> fs.resolve(path + "/" + "n".repeat(256))).errno(), "the name limit stays");
    }

    @Test
    void chown_clearsSetuidAndGroupExecSetgid_evenForRoot() {
        long f = fs.create(FileSystem.ROOT, "f", 06755, 0, 0);
        fs.chown(f, 1000, -1);
        assertEquals(0755, fs.getattr(f).mode() & 07777, "setuid and setgid (group-exec) cleared");
        long g = fs.create(FileSystem.ROOT, "g", 06745, 0, 0);
        fs.chown(g, -1, 5);
        assertEquals(02745, fs.getattr(g).mode() & 07777, "setgid without group-exec is a lock bit: kept");
        long h = fs.create(FileSystem.ROOT, "h", 06755, 0, 0);
        fs.chown(h, -1, -1);
        assertEquals(0755, fs.getattr(h).mode() & 07777, "chown(-1, -1) clears them too, as on tmpfs and ext4");
        long d = fs.mkdir(FileSystem.ROOT, "d", 02755, 0, 0);
        fs.chown(d, 1000, 1000);
        assertEquals(02755, fs.getattr(d).mode() & 07777, "directories keep setgid");
    }

    @Test
    void killPriv_clearsAsTheKernelDoes() {
        long f = fs.create(FileSystem.ROOT, "f", 06777, 0, 0);
        fs.killPriv(f);
        assertEquals(0777, fs.getattr(f).mode() & 07777);
        long g = fs.create(FileSystem.ROOT, "g", 06767, 0, 0);
        fs.killPriv(g);
        assertEquals(02767, fs.getattr(g).mode() & 07777, "setgid without group-exec stays for a group member");
        fs.killPriv(g, false);
        assertEquals(0767, fs.getattr(g).mode() & 07777, "and goes for a caller outside the group");
        long plain = fs.create(FileSystem.ROOT, "p", 0644, 0, 0);
        long ctime = fs.getattr(plain).ctimeNsec() + fs.getattr(plain).ctimeSec() * 1_000_000_000L;
        fs.killPriv(plain);
        Attr a = fs.getattr(plain);
        assertEquals(ctime, a.ctimeNsec() + a.ctimeSec() * 1_000_000_000L, "nothing to clear: ctime untouched");
        long d = fs.mkdir(FileSystem.ROOT, "d", 06777, 0, 0);
        fs.killPriv(d);
        assertEquals(06777, fs.getattr(d).mode() & 07777, "directories are left alone");
        remount();
        assertEquals(0777, fs.getattr(f).mode() & 07777, "the cleared bits are on the media");
    }
}
