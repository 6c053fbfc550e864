package dev.pmemfs.fs.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random operations on a mounted filesystem, for fsck to check afterwards: creates, writes at
 * random offsets (holes, indirect blocks), truncates, links, symlinks, renames, removals,
 * xattrs, unlinks of open files, special files (FIFO, socket, devices) and fallocate (every
 * mode the core does, across indirect blocks). Errors the core answers with ({@link FsException}) are part
 * of the workload; anything else fails the test.
 */
final class FsckWorkload {
    private final FileSystem fs;
    private final Random rnd;
    private final List<Long> dirs = new ArrayList<>(List.of(FileSystem.ROOT));

    FsckWorkload(FileSystem fs, Random rnd) {
        this.fs = fs;
        this.rnd = rnd;
    }

    void run(int ops) {
        for (int i = 0; i < ops; i++) {
            try {
                step(rnd.nextInt(17));
            } catch (FsException e) {
                // ENOENT, ENOTEMPTY, EEXIST, ENOTDIR...: a random workload meets them all
            }
            if (rnd.nextInt(100) == 0) {
                fs.sync();
            }
        }
    }

    private void step(int op) {
        long d = dirs.get(rnd.nextInt(dirs.size()));
        String name = "n" + rnd.nextInt(40);
        switch (op) {
            case 0, 1 -> fs.create(d, name, 0644, 0, 0);
            case 2 -> dirs.add(fs.mkdir(d, name, 0755, 0, 0));
            case 3, 4 -> write(pick(d));
            case 5 -> fs.truncate(pick(d), rnd.nextInt(3) == 0 ? 0 : rnd.nextLong(4L << 20));
            case 6 -> fs.unlink(d, existing(d));
            case 7 -> fs.rmdir(d, existing(d));
            case 8 -> fs.rename(d, existing(d), dirs.get(rnd.nextInt(dirs.size())), name, rnd.nextInt(3));
            case 9 -> fs.link(pick(d), dirs.get(rnd.nextInt(dirs.size())), name);
            case 10 -> fs.symlink(d, name, "target-" + rnd.nextInt(1000), 0, 0);
            case 11 -> fs.xattrs().set(pick(d), "user.k" + rnd.nextInt(3), new byte[rnd.nextInt(200)], 0);
            case 12 -> fs.xattrs().remove(pick(d), "user.k" + rnd.nextInt(3));
            case 14 -> fs.mknod(d, name, SPECIAL[rnd.nextInt(SPECIAL.length)] | 0644, rnd.nextLong(1 << 20), 0, 0);
            case 15 -> fallocate(pick(d));
            default -> unlinkWhileOpen(d);
        }
    }

    private static final int[] SPECIAL = {0010000, 0140000, 0020000, 0060000};
    private static final int[] FALLOC = {0, FileSystem.FALLOC_FL_KEEP_SIZE,
        FileSystem.FALLOC_FL_PUNCH_HOLE | FileSystem.FALLOC_FL_KEEP_SIZE, FileSystem.FALLOC_FL_ZERO_RANGE,
        FileSystem.FALLOC_FL_ZERO_RANGE | FileSystem.FALLOC_FL_KEEP_SIZE};

    private void fallocate(long ino) {
        long off = rnd.nextInt(4) == 0 ? rnd.nextLong(8L << 20) : rnd.nextLong(64 << 10);
        fs.fallocate(ino, FALLOC[rnd.nextInt(FALLOC.length)], off, 1 + rnd.nextLong(rnd.nextBoolean() ? 20_000 : 3L << 20));
    }

    private String existing(long d) {
        List<FileSystem.DirEntry> es = fs.readdir(d);
        if (es.isEmpty()) {
            throw new FsException(Errno.ENOENT, "empty directory");
        }
        return es.get(rnd.nextInt(es.size())).name();
    }

    private long pick(long d) {
        return fs.lookup(d, existing(d));
    }

    private void write(long ino) {
        int n = 1 + rnd.nextInt(20_000);
        long pos = rnd.nextInt(4) == 0 ? rnd.nextLong(8L << 20) : rnd.nextLong(64 << 10);
        try (FileHandle h = fs.open(ino, 2); Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(n);
            s.fill((byte) rnd.nextInt());
            h.write(pos, s, n);
        }
    }

    private void unlinkWhileOpen(long d) {
        long ino = fs.create(d, "open-" + rnd.nextInt(1000), 0644, 0, 0);
        try (FileHandle h = fs.open(ino, 2); Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(5000);
            h.write(0, s, 5000);
            fs.unlink(d, fs.readdir(d).stream().filter(e -> e.ino() == ino).findFirst().orElseThrow().name());
            h.write(100_000, s, 10);
        }
    }
}
