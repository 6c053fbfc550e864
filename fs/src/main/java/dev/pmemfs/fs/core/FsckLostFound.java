package dev.pmemfs.fs.core;

import dev.pmemfs.fs.layout.DirBlock;
import dev.pmemfs.fs.layout.InodeRecord;

/**
 * {@code /lost+found} during an fsck repair: found in the root or created there, and given a
 * {@code #<ino>} entry for each orphan. Reuses the core's {@link Directory} and
 * {@link BlockMap} over the repair's journal transaction, so entries are laid out exactly as
 * the mounted filesystem would.
 */
final class FsckLostFound {
    static final String NAME = "lost+found";

    private static final BlockMap.Listener NONE = new BlockMap.Listener() {
        @Override
        public void allocated(long block, boolean data) {
        }

        @Override
        public void freed(long block, boolean data) {
        }
    };

    private final FsckScan scan;
    private final Journal journal;
    private final BlockMap map;
    private final long ino;
    private final InodeRecord rec;
    private final Directory dir;
    private final boolean created;

    private FsckLostFound(FsckScan scan, Journal journal, BlockMap map, long ino, InodeRecord rec, boolean created) {
        this.scan = scan;
        this.journal = journal;
        this.map = map;
        this.ino = ino;
        this.rec = rec;
        this.created = created;
        this.dir = load(ino, rec);
    }

    /** Finds {@code /lost+found}, or creates it; throws when neither can be done safely. */
    static FsckLostFound open(FsckScan scan, Journal journal, Allocator alloc) {
        BlockMap map = new BlockMap(journal, alloc);
        if (scan.lostFound != 0) {
            return new FsckLostFound(scan, journal, map, scan.lostFound, scan.used.get(scan.lostFound), false);
        }
        InodeRecord root = scan.used.get(FileSystem.ROOT);
        FsckLostFound rootDir = new FsckLostFound(scan, journal, map, FileSystem.ROOT, root, false);
        if (rootDir.dir.get(NAME) != null) {
            throw new IllegalStateException("/" + NAME + " exists but is not a usable directory");
        }
        long lf = alloc.allocInode();
        InodeRecord r = new InodeRecord();
        r.mode = InodeRecord.S_IFDIR | 0700;
        r.nlink = 2;
        r.parent = FileSystem.ROOT;
        r.generation = (int) System.nanoTime();
        FileSystem.touch(r, true, true, true);
        scan.used.put(lf, r);
        rootDir.write(lf, r);
        rootDir.add(NAME, lf, r);
        root.nlink++;
        rootDir.write(FileSystem.ROOT, root);
        return new FsckLostFound(scan, journal, map, lf, r, true);
    }

    boolean created() {
        return created;
    }

    /** Gives orphan {@code x} the name {@code #x} here (with a suffix if that is taken). */
    void adopt(long x, InodeRecord r) {
        String name = "#" + x;
        for (int i = 1; dir.get(name) != null; i++) {
            name = "#" + x + "." + i;
        }
        add(name, x, r);
        if (r.isDir()) {
            r.parent = ino;
            rec.nlink++;
            write(x, r);
        }
        write(ino, rec);
    }

    private Directory load(long d, InodeRecord r) {
        if (scan.unsoundDirs.contains(d)) {
            throw new IllegalStateException("directory inode " + d + " has an unsound block map");
        }
        return Directory.load(r.size / FsckScan.BLOCK, fb -> map.lookup(r, fb), journal, d);
    }

    private void add(String name, long child, InodeRecord childRec) {
        dir.add(new DirBlock.Entry(FsckRepair.utf8(name), child, FileSystem.dtype(childRec)), fb -> {
            long b = map.map(rec, fb, NONE);
            rec.size = Math.max(rec.size, (fb + 1) * FsckScan.BLOCK);
            return b;
        }, fb -> map.lookup(rec, fb), journal);
    }

    private void write(long x, InodeRecord r) {
        r.encode(journal.modify(scan.inodeBlock(x)), FileSystem.inodeOffset(x));
    }
}
