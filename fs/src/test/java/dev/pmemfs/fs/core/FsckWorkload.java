package dev.pmemfs.fs.core;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random operations on a mounted filesystem, for fsck to check afterwards: creates, writes at
 * random offsets (holes, indirect blocks), truncates, links, symlinks, renames, removals,
 * xattrs and unlinks of open files. Errors the core answers with ({@link FsException}) are part
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
                step(rnd.nextInt(14));
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
            default -> unlinkWhileOpen(d);
        }
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
