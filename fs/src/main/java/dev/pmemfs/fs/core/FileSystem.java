package dev.pmemfs.fs.core;

import dev.pmemfs.cache.CacheConfig;
import dev.pmemfs.cache.CachedPages;
import dev.pmemfs.cache.DirectPages;
import dev.pmemfs.cache.PageStats;
import dev.pmemfs.cache.Pages;
import dev.pmemfs.device.Region;
import dev.pmemfs.fs.layout.BlockCrc;
import dev.pmemfs.fs.layout.DirBlock;
import dev.pmemfs.fs.layout.Geometry;
import dev.pmemfs.fs.layout.InodeRecord;
import dev.pmemfs.fs.layout.Superblock;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongPredicate;
import java.util.function.LongUnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A mounted pmemfs: the POSIX operations on inodes, with no knowledge of FUSE.
 *
 * <p>Metadata (inodes, bitmaps, directories, indirect blocks) changes through the journal's
 * running transaction, committed on fsync, sync, every commit interval and when it grows
 * large. File data goes through {@link Pages}: the RAM cache, or the direct path for DAX files.
 * Blocks newly allocated to cached files are written back before the transaction that points
 * to them commits (ext4's data=ordered).
 *
 * <p>Locking: one lock ({@link #lock}) guards all metadata, the journal and the allocator.
 * Data copies run outside it under the inode's {@link Inode#io} lock, which is always taken
 * first. Operations fail with {@link FsException}.
 */
public final class FileSystem implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FileSystem.class);
    public static final long ROOT = 1;
    public static final int NAME_MAX = 255;
    static final int LINK_MAX = 65000;
    static final int BLOCK = Geometry.BLOCK;

    final ReentrantLock lock = new ReentrantLock();
    final Region region;
    final Geometry geo;
    final Journal journal;
    final Allocator alloc;
    final BlockMap map;
    final Pages cached;
    final Pages direct;
    final MountOptions options;
    private Superblock sb;
    private final Map<Long, Inode> inodes = new HashMap<>();
    /**
     * Data blocks of cached files allocated in the running transaction: written back before it
     * commits. Guarded by {@link #lock}. Replaced, not cleared, once emptied: a HashSet keeps the
     * table it grew to, and streaming an empty table of a million buckets on every fsync cost
     * 0.4 ms per fsync after one large file had been written (20k -> 1.4k fsyncs/s).
     */
    private Set<Long> newData = new HashSet<>();
    private final ScheduledExecutorService committer;
    /** Saves the wear counters periodically; its own thread, so a long commit does not delay a save. */
    private final ScheduledExecutorService wearSaver;
    private final int replayed;
    private volatile boolean closed;
    /** Free inode numbers a frontend still refers to (see {@link #reserveInodes}); called under {@link #lock}. */
    private volatile LongPredicate reserved = ino -> false;

    private FileSystem(Region region, Superblock sb, MountOptions options, Pages cached, Pages direct, int replayed) {
        this.region = region;
        this.sb = sb;
        this.geo = sb.geometry();
        this.options = options;
        this.cached = cached;
        this.direct = direct;
        this.replayed = replayed;
        this.journal = new Journal(region, geo);
        this.alloc = Allocator.load(journal, geo);
        this.map = new BlockMap(journal, alloc);
        this.alloc.onShortage(this::checkpoint);
        this.journal.onCheckpoint(alloc::afterCheckpoint);
        this.alloc.trackWear(region.wear());
        this.committer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pmemfs-commit");
            t.setDaemon(true);
            return t;
        });
        this.wearSaver = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pmemfs-wear");
            t.setDaemon(true);
            return t;
        });
    }

    /** Mounts with a RAM cache and a direct path configured from {@code options}. */
    public static FileSystem mount(Region region, MountOptions options) {
        CacheConfig cc = CacheConfig.defaults().withCacheBytes(options.cacheBytes())
                .withWritebackDelay(options.writebackDelay());
        Pages cached = new CachedPages(region, cc);
        try {
            return mount(region, options, cached, new DirectPages(region));
        } catch (RuntimeException | Error e) {
            ((CachedPages) cached).abandon();
            throw e;
        }
    }

    /**
     * Mounts the filesystem on {@code region}: checks the superblock, replays the journal,
     * removes orphans (inodes unlinked while open at a crash), and marks the filesystem in use.
     */
    public static FileSystem mount(Region region, MountOptions options, Pages cached, Pages direct) {
        Superblock sb = Format.readSuperblock(region);
        int replayed = Journal.replay(region, sb.geometry());
        if (replayed >= 0) {
            LOG.info("{}: replayed the journal ({} blocks) after an unclean shutdown", region.name(), replayed);
        } else if (!sb.clean()) {
            LOG.info("{}: was not cleanly unmounted; journal empty, nothing to replay", region.name());
        }
        FileSystem fs = new FileSystem(region, sb, options, cached, direct, replayed);
        fs.lock.lock();
        try {
            Inode root = fs.inode(ROOT);
            if (!root.rec.isDir()) {
                throw new FsException(Errno.EIO, "root inode is not a directory");
            }
            fs.removeOrphans();
            fs.sb = sb.mounted();
            Format.writeSuperblock(region, fs.sb);
        } finally {
            fs.lock.unlock();
        }
        long ms = options.commitInterval().toMillis();
        fs.committer.scheduleWithFixedDelay(fs::periodicCommit, ms, ms, TimeUnit.MILLISECONDS);
        long wear = options.wearSaveInterval().toMillis();
        fs.wearSaver.scheduleAtFixedRate(fs::saveWear, wear, wear, TimeUnit.MILLISECONDS);
        return fs;
    }

    /** Blocks replayed from the journal at mount, or -1 when there was nothing to replay. */
    public int replayedBlocks() {
        return replayed;
    }

    private void periodicCommit() {
        try {
            commitWithoutStall();
        } catch (RuntimeException e) {
            LOG.error("periodic commit failed", e);
        }
    }

    /** Saves the region's wear counters (two alternating copies), so a crash loses at most one period of them. */
    private void saveWear() {
        try {
            if (!closed) {
                region.saveWear();
            }
        } catch (RuntimeException e) {
            LOG.error("saving the wear counters failed", e);
        }
    }

    private void removeOrphans() {
        int n = 0;
        byte[] block = new byte[BLOCK];
        for (long t = 0; t < geo.inodeTableBlocks(); t++) {
            region.read((geo.inodeTableStart() + t) * BLOCK, block, 0, BLOCK);
            for (int s = 0; s < BLOCK / InodeRecord.SIZE; s++) {
                long ino = t * (BLOCK / InodeRecord.SIZE) + s;
                int off = s * InodeRecord.SIZE;
                if (ino > ROOT && BlockCrc.le(block).getInt(off) != 0 && BlockCrc.le(block).getInt(off + 12) == 0
                        && InodeRecord.valid(block, off)) {
                    freeInode(inode(ino));
                    n++;
                }
            }
        }
        if (n > 0) {
            commit();
            LOG.info("{}: removed {} orphan inodes (unlinked while open)", region.name(), n);
        }
    }

    // ---- inodes -------------------------------------------------------------------------

    Inode inode(long ino) {
        Inode in = inodes.get(ino);
        if (in != null) {
            return in;
        }
        if (ino < ROOT || ino >= geo.inodes() || !alloc.inodeUsed(ino)) {
            throw new FsException(Errno.ENOENT, "no inode " + ino);
        }
        byte[] b = new byte[InodeRecord.SIZE];
        journal.read(inodeBlock(ino), inodeOffset(ino), b, InodeRecord.SIZE);
        if (!InodeRecord.valid(b, 0)) {
            throw new FsException(Errno.EIO, "inode " + ino + " is corrupt (bad checksum)");
        }
        InodeRecord r = InodeRecord.decode(b, 0);
        if (r.isFree()) {
            throw new FsException(Errno.EIO, "inode " + ino + " is marked in use but empty");
        }
        in = new Inode(ino, r);
        inodes.put(ino, in);
        return in;
    }

    /** {@link #inode} for a caller without the lock: takes it for the lookup only. */
    private Inode inodeOf(long ino) {
        lock.lock();
        try {
            return inode(ino);
        } finally {
            lock.unlock();
        }
    }

    long inodeBlock(long ino) {
        return geo.inodeTableStart() + ino / (BLOCK / InodeRecord.SIZE);
    }

    static int inodeOffset(long ino) {
        return (int) (ino % (BLOCK / InodeRecord.SIZE)) * InodeRecord.SIZE;
    }

    void save(Inode in) {
        in.rec.encode(journal.modify(inodeBlock(in.ino)), inodeOffset(in.ino));
    }

    Directory dir(Inode in) {
        if (!in.rec.isDir()) {
            throw new FsException(Errno.ENOTDIR, "inode " + in.ino + " is not a directory");
        }
        if (in.dir == null) {
            in.dir = Directory.load(in.rec.size / BLOCK, fb -> map.lookup(in.rec, fb), journal, in.ino);
        }
        return in.dir;
    }

    private LongUnaryOperator physOf(Inode in) {
        return fb -> map.lookup(in.rec, fb);
    }

    private LongUnaryOperator mapDirBlock(Inode in) {
        return fb -> {
            long b = map.map(in.rec, fb, META);
            in.rec.size = Math.max(in.rec.size, (fb + 1) * BLOCK);
            return b;
        };
    }

    /** Metadata blocks (directories, symlinks, indirect blocks) need no ordering or cache upkeep. */
    private static final BlockMap.Listener META = new BlockMap.Listener() {
        @Override
        public void allocated(long block, boolean data) {
        }

        @Override
        public void freed(long block, boolean data) {
        }
    };

    BlockMap.Listener dataListener(Inode in) {
        return dataListener(in, in.pages != direct);
    }

    /**
     * The listener of a file's block map changes; {@code ordered}: its new data blocks join the
     * data=ordered set (false for the direct path and for writes through to the media).
     */
    BlockMap.Listener dataListener(Inode in, boolean ordered) {
        return new BlockMap.Listener() {
            @Override
            public void allocated(long block, boolean data) {
                if (data && ordered) {
                    newData.add(block);
                } else if (!data && in.metaBlocks >= 0) {
                    in.metaBlocks++;
                }
            }

            @Override
            public void freed(long block, boolean data) {
                if (data) {
                    newData.remove(block);
                    in.dirty.remove(block);
                    cached.drop(block);
                } else if (in.metaBlocks >= 0) {
                    in.metaBlocks--;
                }
            }
        };
    }

    static void touch(InodeRecord r, boolean m, boolean c, boolean a) {
        Instant now = Instant.now();
        if (m) {
            r.mtimeSec = now.getEpochSecond();
            r.mtimeNsec = now.getNano();
        }
        if (c) {
            r.ctimeSec = now.getEpochSecond();
            r.ctimeNsec = now.getNano();
        }
        if (a) {
            r.atimeSec = now.getEpochSecond();
            r.atimeNsec = now.getNano();
        }
    }

    // ---- transactions ----------------------------------------------------------------------

    /** Commits the running transaction: new cached data first, then the metadata. Lock held. */
    void commit() {
        if (journal.isEmpty()) {
            return;
        }
        journal.commit(() -> {
            if (!newData.isEmpty()) {
                cached.sync(needOrdering(newData.stream().mapToLong(Long::longValue).toArray()));
                newData = new HashSet<>();
            }
        });
        alloc.afterCommit();
    }

    private static final MemorySegment ZERO_BLOCK = MemorySegment.ofArray(new byte[BLOCK]);

    /**
     * The new data blocks that must be written back before the commit that points to them:
     * those whose media block is not all zeros. Ordering exists so that a crash never shows a
     * file someone else's old data; a block that reads as zeros (never used since mkfs) would
     * show only zeros, like a hole, so its write-back can wait for fsync or the write-back
     * delay. On a fresh region this spares a whole write-back of every newly written block,
     * the difference between a write amplification of 1/16 and 2/16 under a 16-fold overwrite.
     */
    private long[] needOrdering(long[] blocks) {
        int n = 0;
        long[] out = new long[blocks.length];
        for (long b : blocks) {
            if (MemorySegment.mismatch(region.view(b * BLOCK, BLOCK), 0, BLOCK, ZERO_BLOCK, 0, BLOCK) >= 0) {
                out[n++] = b;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** Writes committed metadata home and empties the log; freed blocks become reusable. Lock held. */
    void checkpoint() {
        journal.checkpoint();
        alloc.afterCheckpoint();
    }

    /** Called at the start of every mutating operation, lock held. */
    void begin() {
        if (closed) {
            throw new FsException(Errno.EIO, "filesystem is unmounted");
        }
        if (journal.nearlyFull() || alloc.freesPending()) {
            commit();
        }
    }

    // ---- names and paths -------------------------------------------------------------------

    static byte[] checkName(String name) {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        if (b.length == 0) {
            throw new FsException(Errno.ENOENT, "empty name");
        }
        if (b.length > NAME_MAX) {
            throw new FsException(Errno.ENAMETOOLONG, "name longer than 255 bytes");
        }
        if (name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
            throw new FsException(Errno.EINVAL, "name contains '/' or NUL");
        }
        return b;
    }

    /**
     * The inode at an absolute path; symbolic links are not followed (FUSE resolves them).
     * There is no limit on the path's length, only on each name's (NAME_MAX): PATH_MAX bounds
     * what one system call may pass, not how deep a tree may grow, and a path-based frontend
     * hands over paths from the mount's root.
     */
    public long resolve(String path) {
        lock.lock();
        try {
            long ino = ROOT;
            for (String part : path.split("/")) {
                if (!part.isEmpty()) {
                    ino = child(inode(ino), part);
                }
            }
            return ino;
        } finally {
            lock.unlock();
        }
    }

    public long lookup(long dirIno, String name) {
        lock.lock();
        try {
            return child(inode(dirIno), name);
        } finally {
            lock.unlock();
        }
    }

    /** The inode named {@code name} in directory {@code d} ({@code .} and {@code ..} included). Lock held. */
    private long child(Inode d, String name) {
        Directory dir = dir(d); // ENOTDIR when d is not a directory
        if (name.equals(".")) {
            return d.ino;
        }
        if (name.equals("..")) {
            return d.ino == ROOT ? ROOT : d.rec.parent;
        }
        checkName(name);
        DirBlock.Entry e = dir.get(name);
        if (e == null) {
            throw new FsException(Errno.ENOENT, name);
        }
        return e.ino();
    }

    // ---- attributes ------------------------------------------------------------------------

    public Attr getattr(long ino) {
        lock.lock();
        try {
            return attr(inode(ino));
        } finally {
            lock.unlock();
        }
    }

    /**
     * stat(2)'s view. A regular file's {@code blocks} counts its data blocks only, as tmpfs does
     * and as ext4 does for files whose extent tree fits in the inode; indirect blocks are
     * bookkeeping that stat does not show.
     */
    Attr attr(Inode in) {
        InodeRecord r = in.rec;
        long blocks = r.isRegular() ? r.blocks - metaBlocks(in)
                : r.isSymlink() && r.size < FAST_SYMLINK ? 0 : r.blocks;
        return new Attr(in.ino, r.mode, r.nlink, r.uid, r.gid, r.size, blocks * (BLOCK / 512),
                r.atimeSec, r.atimeNsec, r.mtimeSec, r.mtimeNsec, r.ctimeSec, r.ctimeNsec, r.dax(),
                r.isDevice() ? r.rdev : 0L);
    }

    /** Symlink targets shorter than this show no blocks, as ext4's fast symlinks (and tmpfs's) do. */
    private static final int FAST_SYMLINK = 60;

    /** Indirect blocks of a regular file: counted once, then kept by {@link #dataListener}. Lock held. */
    private long metaBlocks(Inode in) {
        if (in.metaBlocks < 0) {
            long[] n = {0};
            map.forEach(in.rec, (fb, b, data) -> {
                if (!data) {
                    n[0]++;
                }
            });
            in.metaBlocks = n[0];
        }
        return in.metaBlocks;
    }

    public void chmod(long ino, int mode) {
        setattr(ino, r -> r.mode = (r.mode & InodeRecord.S_IFMT) | (mode & 07777));
    }

    /**
     * Changes owner and group; -1 leaves one as it is. As on every Linux filesystem
     * ({@code chown_common}), a chown of a non-directory also clears its set-user-ID bit and
     * its set-group-ID bit when group-execute is set, whoever the caller is, even
     * {@code chown(f, -1, -1)} (checked against tmpfs on kernel 6.18).
     */
    public void chown(long ino, int uid, int gid) {
        setattr(ino, r -> {
            if (uid != -1) {
                r.uid = uid;
            }
            if (gid != -1) {
                r.gid = gid;
            }
            if (!r.isDir()) {
                r.mode &= ~privBits(r.mode);
            }
        });
    }

    /** The set-ID bits a write, truncate or chown clears: S_ISUID, and S_ISGID when S_IXGRP is set. */
    static int privBits(int mode) {
        return (mode & 04000) | ((mode & 02010) == 02010 ? 02000 : 0);
    }

    /**
     * Clears the set-user-ID bit, and the set-group-ID bit when group-execute is set, as the
     * kernel does when a caller without CAP_FSETID writes, truncates or chowns a file
     * ({@code setattr_should_drop_suidgid}, FUSE_HANDLE_KILLPRIV_V2's contract). Regular files
     * only; a no-op (no ctime change) when neither bit is to be cleared.
     */
    public void killPriv(long ino) {
        killPriv(ino, true);
    }

    /**
     * {@link #killPriv(long)} for a caller that may not belong to the file's group: when
     * {@code callerInGroup} is false the set-group-ID bit goes even without group-execute,
     * as the VFS's {@code setattr_should_drop_sgid} does for a caller outside the group
     * without CAP_FSETID.
     */
    public void killPriv(long ino, boolean callerInGroup) {
        lock.lock();
        try {
            Inode in = inode(ino);
            InodeRecord r = in.rec;
            int kill = privBits(r.mode) | (callerInGroup ? 0 : r.mode & 02000);
            if (!r.isRegular() || kill == 0) {
                return;
            }
            begin();
            r.mode &= ~kill;
            touch(r, false, true, false);
            save(in);
        } finally {
            lock.unlock();
        }
    }

    /** Sets access and modification times; a null leaves one as it is. */
    public void utimens(long ino, Instant atime, Instant mtime) {
        setattr(ino, r -> {
            if (atime != null) {
                r.atimeSec = atime.getEpochSecond();
                r.atimeNsec = atime.getNano();
            }
            if (mtime != null) {
                r.mtimeSec = mtime.getEpochSecond();
                r.mtimeNsec = mtime.getNano();
            }
        });
    }

    /** Applies an attribute change to an inode, stamps its ctime and saves it. */
    private void setattr(long ino, java.util.function.Consumer<InodeRecord> change) {
        lock.lock();
        try {
            begin();
            Inode in = inode(ino);
            change.accept(in.rec);
            touch(in.rec, false, true, false);
            save(in);
        } finally {
            lock.unlock();
        }
    }

    // ---- creating names --------------------------------------------------------------------

    /**
     * A new inode owned by {@code uid}/{@code gid}, except in a set-group-ID directory: there it
     * takes the directory's group, and a new directory keeps the bit (the kernel's
     * {@code inode_init_owner}, BSD group semantics; FUSE leaves it to the filesystem).
     */
    private Inode newInode(Inode parent, int mode, int uid, int gid) {
        long ino = alloc.allocInode(reserved);
        InodeRecord r = new InodeRecord();
        r.mode = mode;
        r.uid = uid;
        r.gid = gid;
        if ((parent.rec.mode & 02000) != 0) {
            r.gid = parent.rec.gid;
            if (r.isDir()) {
                r.mode |= 02000;
            }
        }
        r.nlink = 1;
        r.generation = (int) System.nanoTime();
        r.flags = parent.rec.flags & InodeRecord.FLAG_DAX;
        touch(r, true, true, true);
        Inode in = new Inode(ino, r);
        inodes.put(ino, in);
        return in;
    }

    /** Checks that {@code name} can be added to {@code d}, and reserves the blocks it may need. */
    private Directory prepareAdd(Inode d, String name, int extraBlocks) {
        checkName(name);
        Directory dir = dir(d);
        if (name.equals(".") || name.equals("..") || dir.get(name) != null) {
            throw new FsException(Errno.EEXIST, name + " exists");
        }
        if (d.rec.nlink == 0) {
            throw new FsException(Errno.ENOENT, "directory was removed");
        }
        alloc.require((dir.hasRoom() ? 0 : BlockMap.worstCase(dir.blockCount())) + extraBlocks);
        if (alloc.freeInodes() < 1) {
            throw new FsException(Errno.ENOSPC, "no free inode");
        }
        return dir;
    }

    private void link(Inode d, Directory dir, String name, Inode child) {
        dir.add(new DirBlock.Entry(name.getBytes(StandardCharsets.UTF_8), child.ino, dtype(child.rec)),
                mapDirBlock(d), physOf(d), journal);
        touch(d.rec, true, true, false);
        save(d);
    }

    static int dtype(InodeRecord r) {
        return switch (r.type()) {
            case InodeRecord.S_IFDIR -> DirBlock.DT_DIR;
            case InodeRecord.S_IFLNK -> DirBlock.DT_LNK;
            case InodeRecord.S_IFIFO -> DirBlock.DT_FIFO;
            case InodeRecord.S_IFSOCK -> DirBlock.DT_SOCK;
            case InodeRecord.S_IFCHR -> DirBlock.DT_CHR;
            case InodeRecord.S_IFBLK -> DirBlock.DT_BLK;
            default -> DirBlock.DT_REG;
        };
    }

    /** Creates a regular file; returns its inode number. */
    public long create(long dirIno, String name, int mode, int uid, int gid) {
        lock.lock();
        try {
            begin();
            Inode d = inode(dirIno);
            Directory dir = prepareAdd(d, name, 0);
            Inode in = newInode(d, InodeRecord.S_IFREG | (mode & 07777), uid, gid);
            save(in);
            link(d, dir, name, in);
            return in.ino;
        } finally {
            lock.unlock();
        }
    }

    public long mkdir(long dirIno, String name, int mode, int uid, int gid) {
        lock.lock();
        try {
            begin();
            Inode d = inode(dirIno);
            Directory dir = prepareAdd(d, name, 0);
            if (d.rec.nlink >= LINK_MAX) {
                throw new FsException(Errno.EMLINK, "too many subdirectories");
            }
            Inode in = newInode(d, InodeRecord.S_IFDIR | (mode & 07777), uid, gid);
            in.rec.nlink = 2;
            in.rec.parent = d.ino;
            in.dir = Directory.load(0, fb -> 0, journal, in.ino);
            save(in);
            d.rec.nlink++;
            link(d, dir, name, in);
            return in.ino;
        } finally {
            lock.unlock();
        }
    }

    public long symlink(long dirIno, String name, String target, int uid, int gid) {
        byte[] t = target.getBytes(StandardCharsets.UTF_8);
        if (t.length >= BLOCK) {
            throw new FsException(Errno.ENAMETOOLONG, "symlink target longer than 4095 bytes");
        }
        if (t.length == 0) {
            throw new FsException(Errno.ENOENT, "empty symlink target");
        }
        lock.lock();
        try {
            begin();
            Inode d = inode(dirIno);
            Directory dir = prepareAdd(d, name, 1);
            Inode in = newInode(d, InodeRecord.S_IFLNK | 0777, uid, gid);
            in.rec.flags = 0;
            long b = map.map(in.rec, 0, META);
            byte[] img = new byte[BLOCK];
            System.arraycopy(t, 0, img, 0, t.length);
            journal.put(b, img);
            in.rec.size = t.length;
            save(in);
            link(d, dir, name, in);
            return in.ino;
        } finally {
            lock.unlock();
        }
    }

    public String readlink(long ino) {
        lock.lock();
        try {
            Inode in = inode(ino);
            if (!in.rec.isSymlink()) {
                throw new FsException(Errno.EINVAL, "not a symbolic link");
            }
            byte[] img = journal.peek(map.lookup(in.rec, 0));
            return new String(img, 0, (int) in.rec.size, StandardCharsets.UTF_8);
        } finally {
            lock.unlock();
        }
    }

    /** Adds the name {@code newName} in {@code newDir} for inode {@code ino} (a hard link). */
    public void link(long ino, long newDirIno, String newName) {
        lock.lock();
        try {
            begin();
            Inode in = inode(ino);
            Inode d = inode(newDirIno);
            Directory dir = prepareAdd(d, newName, 0);
            if (in.rec.isDir()) {
                throw new FsException(Errno.EPERM, "hard link to a directory");
            }
            if (in.rec.nlink >= LINK_MAX) {
                throw new FsException(Errno.EMLINK, "too many links");
            }
            if (in.rec.nlink == 0) {
                throw new FsException(Errno.ENOENT, "file was removed");
            }
            in.rec.nlink++;
            touch(in.rec, false, true, false);
            save(in);
            link(d, dir, newName, in);
        } finally {
            lock.unlock();
        }
    }

    // ---- removing names --------------------------------------------------------------------

    public void unlink(long dirIno, String name) {
        lock.lock();
        try {
            begin();
            Inode d = inode(dirIno);
            checkName(name);
            DirBlock.Entry e = dir(d).get(name);
            if (e == null) {
                throw new FsException(Errno.ENOENT, name);
            }
            Inode in = inode(e.ino());
            if (in.rec.isDir()) {
                throw new FsException(Errno.EISDIR, name + " is a directory");
            }
            dir(d).remove(name, physOf(d), journal);
            touch(d.rec, true, true, false);
            save(d);
            dropLink(in);
        } finally {
            lock.unlock();
        }
    }

    private void dropLink(Inode in) {
        in.rec.nlink--;
        touch(in.rec, false, true, false);
        if (in.rec.nlink == 0 && in.openCount == 0) {
            freeInode(in);
        } else {
            save(in);
        }
    }

    public void rmdir(long dirIno, String name) {
        lock.lock();
        try {
            begin();
            Inode d = inode(dirIno);
            if (name.equals(".")) {
                throw new FsException(Errno.EINVAL, "rmdir of .");
            }
            if (name.equals("..")) {
                throw new FsException(Errno.ENOTEMPTY, "rmdir of ..");
            }
            checkName(name);
            DirBlock.Entry e = dir(d).get(name);
            if (e == null) {
                throw new FsException(Errno.ENOENT, name);
            }
            Inode in = inode(e.ino());
            if (dir(in).size() > 0) {
                throw new FsException(Errno.ENOTEMPTY, name + " is not empty");
            }
            dir(d).remove(name, physOf(d), journal);
            d.rec.nlink--;
            touch(d.rec, true, true, false);
            save(d);
            in.rec.nlink = 0;
            freeInode(in);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Keeps new inodes off the numbers {@code held} claims: a frontend whose clients still
     * refer to freed inodes by number (the kernel's FUSE node ids) so a request for a freed
     * inode answers ENOENT rather than reaching a newer inode of that number. {@code held} is
     * called under the filesystem's lock and must not call back into it. In memory only:
     * nothing on the media changes.
     */
    public void reserveInodes(LongPredicate held) {
        reserved = held;
    }

    /** Frees an inode with no names and no open handles, and all its blocks. Lock held. */
    void freeInode(Inode in) {
        map.truncate(in.rec, 0, in.rec.isRegular() ? dataListener(in) : META);
        if (in.rec.xattrBlock != 0) {
            alloc.freeBlock(in.rec.xattrBlock);
            in.rec.xattrBlock = 0;
        }
        in.rec.mode = 0;
        save(in);
        alloc.freeInode(in.ino);
        inodes.remove(in.ino);
        in.dirty.clear();
    }

    /** Flags of rename(2). */
    public static final int RENAME_NOREPLACE = 1;
    public static final int RENAME_EXCHANGE = 2;

    public void rename(long fromDirIno, String from, long toDirIno, String to, int flags) {
        lock.lock();
        try {
            begin();
            new Rename(this).run(fromDirIno, from, toDirIno, to, flags);
        } finally {
            lock.unlock();
        }
    }

    // package-private helpers for Rename
    DirBlock.Entry entry(Inode d, String name) {
        return dir(d).get(name);
    }

    void removeEntry(Inode d, String name) {
        dir(d).remove(name, physOf(d), journal);
    }

    void addEntry(Inode d, String name, Inode child) {
        Directory dir = dir(d);
        alloc.require(dir.hasRoom() ? 0 : BlockMap.worstCase(dir.blockCount()));
        dir.add(new DirBlock.Entry(name.getBytes(StandardCharsets.UTF_8), child.ino, dtype(child.rec)),
                mapDirBlock(d), physOf(d), journal);
    }

    void replaceEntry(Inode d, String name, Inode child) {
        dir(d).replace(name, child.ino, dtype(child.rec), physOf(d), journal);
    }

    void unlinkInode(Inode in) {
        if (in.rec.isDir()) {
            in.rec.nlink = 0;
            freeInode(in);
        } else {
            dropLink(in);
        }
    }

    // ---- directories -----------------------------------------------------------------------

    /** One name in a directory listing. */
    public record DirEntry(String name, long ino, int type) {
    }

    /** The names in a directory, without {@code .} and {@code ..}. */
    public List<DirEntry> readdir(long dirIno) {
        lock.lock();
        try {
            Inode d = inode(dirIno);
            List<DirEntry> out = new ArrayList<>();
            for (DirBlock.Entry e : dir(d).list()) {
                out.add(new DirEntry(e.nameString(), e.ino(), e.type()));
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Creates a special file (FIFO, socket, character or block device) or a regular file:
     * {@code mode} carries the type bits ({@code S_IFIFO}, {@code S_IFSOCK}, {@code S_IFCHR},
     * {@code S_IFBLK}, {@code S_IFREG}) and the permission bits; {@code rdev} is kept for device
     * inodes only. Returns the new inode number.
     */
    public long mknod(long dirIno, String name, int mode, long rdev, int uid, int gid) {
        int type = mode & InodeRecord.S_IFMT;
        if (type == InodeRecord.S_IFREG || type == 0) {
            return create(dirIno, name, mode, uid, gid);
        }
        InodeRecord probe = new InodeRecord();
        probe.mode = type;
        if (!probe.isSpecial()) {
            throw new FsException(Errno.EINVAL, "mknod of file type 0" + Integer.toOctalString(type));
        }
        lock.lock();
        try {
            begin();
            Inode d = inode(dirIno);
            Directory dir = prepareAdd(d, name, 0);
            Inode in = newInode(d, type | (mode & 07777), uid, gid);
            in.rec.flags = 0;
            in.rec.rdev = probe.isDevice() ? rdev : 0;
            save(in);
            link(d, dir, name, in);
            return in.ino;
        } finally {
            lock.unlock();
        }
    }

    /** fallocate(2) mode bits the core understands. */
    public static final int FALLOC_FL_KEEP_SIZE = 0x01;
    public static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    public static final int FALLOC_FL_ZERO_RANGE = 0x10;

    /**
     * fallocate(2) on a regular file: mode 0 and {@code KEEP_SIZE} allocate (zeroed) blocks,
     * {@code PUNCH_HOLE|KEEP_SIZE} frees whole blocks and zeroes partial ones, {@code ZERO_RANGE}
     * zeroes the range (allocating it); other modes fail with EOPNOTSUPP.
     */
    public void fallocate(long ino, int mode, long offset, long length) {
        Inode in = inodeOf(ino);
        new FileSpace(this, in).fallocate(mode, offset, length);
    }

    public static final int SEEK_DATA = 3;
    public static final int SEEK_HOLE = 4;

    /** lseek(2) with SEEK_DATA or SEEK_HOLE: the next offset at or after {@code offset}; ENXIO past the end. */
    public long seek(long ino, long offset, int whence) {
        Inode in = inodeOf(ino);
        return new FileSpace(this, in).seek(offset, whence);
    }

    /**
     * copy_file_range(2) between two open files: copies up to {@code length} bytes from
     * {@code src} at {@code srcOffset} to {@code dst} at {@code dstOffset}, and returns how many
     * (fewer at the end of {@code src}). Holes of the source stay holes in the destination
     * where they cover whole blocks (the copy moves only what SEEK_DATA finds), so a sparse
     * file stays sparse. EINVAL for overlapping ranges of one file. A frontend that receives
     * FUSE_COPY_FILE_RANGE calls this instead of a read and a write through the kernel.
     */
    public long copyFileRange(FileHandle src, long srcOffset, FileHandle dst, long dstOffset, long length) {
        return FileSpace.copy(this, src, srcOffset, dst, dstOffset, length);
    }

    // ---- files -----------------------------------------------------------------------------

    /** Opens a file; the handle is the unit of I/O. A DAX change takes effect at the first open. */
    public FileHandle open(long ino, int flags) {
        lock.lock();
        try {
            Inode in = inode(ino);
            if (in.rec.isRegular() && in.openCount == 0) {
                choosePath(in);
            }
            in.openCount++;
            return new FileHandle(this, in, flags);
        } finally {
            lock.unlock();
        }
    }

    private void choosePath(Inode in) {
        boolean wantDirect = switch (options.dax()) {
            case NEVER -> false;
            case ALWAYS -> true;
            case INODE -> in.rec.dax();
        };
        Pages want = wantDirect ? direct : cached;
        if (wantDirect && in.pages != direct) {
            long[] blocks = dataBlocks(in);
            cached.sync(blocks);
            for (long b : blocks) {
                cached.drop(b);
                newData.remove(b);
            }
            in.dirty.clear();
        }
        in.pages = want;
    }

    long[] dataBlocks(Inode in) {
        List<Long> out = new ArrayList<>();
        map.forEach(in.rec, (fb, b, data) -> {
            if (data) {
                out.add(b);
            }
        });
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    void release(Inode in) {
        lock.lock();
        try {
            in.openCount--;
            if (in.openCount == 0 && in.rec.nlink == 0 && !closed) {
                freeInode(in);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Sets a file's size, freeing or adding (as holes) blocks past it. */
    public void truncate(long ino, long size) {
        Inode in = inodeOf(ino);
        FileHandle.truncate(this, in, size);
    }

    /** Makes one file's data and all metadata durable. */
    public void fsync(long ino) {
        Inode in = inodeOf(ino);
        fsync(in);
    }

    /**
     * fsync of one file. The data write-back runs without the filesystem lock, so other
     * operations go on meanwhile; only the commit takes it. Called without the lock.
     */
    void fsync(Inode in) {
        in.syncs.synced();
        if (!in.dirty.isEmpty()) {
            cached.sync(in.takeDirty()); // forgotten before the write-back (Inode#takeDirty)
        }
        commitWithoutStall();
    }

    /** Makes everything durable. Called without the lock. */
    public void sync() {
        List<Inode> all;
        lock.lock();
        try {
            all = new ArrayList<>(inodes.values());
        } finally {
            lock.unlock();
        }
        for (Inode in : all) {
            in.takeDirty(); // before the write-back (Inode#takeDirty); syncAll writes every page
        }
        cached.syncAll();
        commitWithoutStall();
    }

    /**
     * Commits, first writing back without the lock the new data blocks that the commit must
     * order before its metadata. Only what was allocated after that write-back is left for the
     * commit to write under the lock, so a large ordered flush does not stop every other
     * operation. Called without the lock.
     */
    void commitWithoutStall() {
        long[] early;
        lock.lock();
        try {
            early = newData.isEmpty() ? new long[0] : newData.stream().mapToLong(Long::longValue).toArray();
        } finally {
            lock.unlock();
        }
        if (early.length > 0) {
            cached.sync(needOrdering(early));
        }
        lock.lock();
        try {
            for (long b : early) {
                newData.remove(b); // durable once: any later version is this file's own data
            }
            if (early.length > 0 && newData.isEmpty()) {
                newData = new HashSet<>();
            }
            if (!closed) {
                commit();
            }
        } finally {
            lock.unlock();
        }
    }

    // ---- DAX flag, xattrs, statfs -------------------------------------------------------------

    public boolean daxFlag(long ino) {
        lock.lock();
        try {
            return inode(ino).rec.dax();
        } finally {
            lock.unlock();
        }
    }

    /** Sets or clears the persistent DAX flag; it takes effect at the next open with no handle open. */
    public void setDaxFlag(long ino, boolean on) {
        setattr(ino, r -> {
            if (!r.isRegular() && !r.isDir()) {
                throw new FsException(Errno.EINVAL, "DAX flag on a special file");
            }
            r.flags = on ? r.flags | InodeRecord.FLAG_DAX : r.flags & ~InodeRecord.FLAG_DAX;
        });
    }

    /** Whether an open file of this inode now uses the direct path. */
    public boolean usesDirectPath(long ino) {
        lock.lock();
        try {
            Inode in = inode(ino);
            return in.openCount > 0 && in.pages == direct;
        } finally {
            lock.unlock();
        }
    }

    public Xattrs xattrs() {
        return new Xattrs(this);
    }

    public StatFs statfs() {
        lock.lock();
        try {
            return new StatFs(BLOCK, geo.dataBlocks(), alloc.freeBlocks(), geo.inodes() - 2, alloc.freeInodes(), NAME_MAX);
        } finally {
            lock.unlock();
        }
    }

    /** Live figures of a mount. */
    public record Stats(PageStats cached, PageStats direct, long regionBytesWritten, long persists,
                        long commits, StatFs statfs, long[] wearHistogram, long mostWrittenBlock, long mostWrittenCount) {
    }

    public Stats stats() {
        StatFs s = statfs();
        long commits;
        lock.lock();
        try {
            commits = journal.commits();
        } finally {
            lock.unlock();
        }
        var w = region.wear();
        long top = w.mostWrittenBlock();
        return new Stats(cached.stats(), direct.stats(), w.bytesWritten(), w.persists(), commits, s,
                w.histogram(), top, w.blockWrites(top));
    }

    public Region region() {
        return region;
    }

    /** Where the areas of this filesystem lie. */
    public Geometry geometry() {
        return geo;
    }

    /** Writes everything back, marks the filesystem clean and stops background work. The region stays open. */
    @Override
    public void close() {
        committer.shutdownNow();
        wearSaver.shutdownNow();
        lock.lock();
        try {
            if (closed) {
                return;
            }
            cached.syncAll();
            commit();
            checkpoint(); // a clean region needs no journal replay
            closed = true;
            cached.close();
            direct.close();
            sb = sb.withClean(true);
            Format.writeSuperblock(region, sb);
            region.saveWear();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops background work without writing anything: what is left after a simulated power
     * failure. For crash tests.
     */
    public void abandon() {
        committer.shutdownNow();
        wearSaver.shutdownNow();
        try {
            committer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closed = true;
        if (cached instanceof CachedPages c) {
            c.abandon();
        }
    }
}
