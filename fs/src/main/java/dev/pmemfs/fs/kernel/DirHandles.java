package dev.pmemfs.fs.kernel;

import static dev.pmemfs.fs.kernel.FuseAbi.OPEN_OUT;

import dev.pmemfs.fs.core.Attr;
import dev.pmemfs.fs.core.Errno;
import dev.pmemfs.fs.core.FileSystem;
import dev.pmemfs.fs.core.FsException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Open directories: OPENDIR takes a snapshot of the listing, READDIR and READDIRPLUS page
 * through it by offset (entry {@code i} has offset {@code i + 1}; "." and ".." come first), and
 * RELEASEDIR drops it. A READDIR at offset 0 (rewinddir) takes a fresh snapshot.
 *
 * <p>Why a snapshot: the kernel reads a directory a page of entries at a time, and listing the
 * whole directory again for each page would make a 100,000-entry directory quadratic.
 * Thread-safe: the map is concurrent; one handle is read by one caller at a time (the kernel
 * holds the directory file's position lock), and a snapshot is replaced, never changed.
 */
final class DirHandles {
    private static final byte[] DOT = {'.'};
    private static final byte[] DOTDOT = {'.', '.'};
    private static final int DT_DIR = 4;

    private final FileSystem fs;
    private final Lookups lookups;
    private final long validNanos;
    private final ConcurrentHashMap<Long, Listing> open = new ConcurrentHashMap<>();
    private final AtomicLong nextId = new AtomicLong(1);

    /** One open directory's snapshot. */
    private record Listing(long ino, List<FileSystem.DirEntry> entries) {
    }

    DirHandles(FileSystem fs, Lookups lookups, long validNanos) {
        this.fs = fs;
        this.lookups = lookups;
        this.validNanos = validNanos;
    }

    /** OPENDIR: a {@code fuse_open_out} with the new handle; returns its size. */
    long open(long ino, MemorySegment p) {
        if (!fs.getattr(ino).isDir()) {
            throw new FsException(Errno.ENOTDIR, "inode " + ino);
        }
        long fh = nextId.getAndIncrement();
        open.put(fh, new Listing(ino, fs.readdir(ino)));
        p.asSlice(0, OPEN_OUT.byteSize()).fill((byte) 0);
        p.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, fh);
        return OPEN_OUT.byteSize();
    }

    void release(long fh) {
        open.remove(fh);
    }

    /** READDIR(PLUS): entries from {@code offset} that fit in {@code size} bytes; returns the bytes used. */
    long read(long fh, long offset, int size, MemorySegment p, boolean plus) {
        Listing l = open.get(fh);
        if (l == null) {
            throw new FsException(Errno.EBADF, "no open directory " + fh);
        }
        if (offset == 0) {
            l = new Listing(l.ino, fs.readdir(l.ino));
            open.put(fh, l);
        }
        long limit = Math.min(size & 0xffffffffL, p.byteSize());
        long used = 0;
        long total = l.entries.size() + 2L;
        for (long i = Math.max(offset, 0); i < total; i++) {
            byte[] name;
            long ino;
            int type;
            if (i < 2) {
                name = i == 0 ? DOT : DOTDOT;
                ino = l.ino;
                type = DT_DIR;
            } else {
                FileSystem.DirEntry e = l.entries.get((int) (i - 2));
                name = e.name().getBytes(StandardCharsets.UTF_8);
                ino = e.ino();
                type = e.type();
            }
            long need = (plus ? Wire.ENTRY_SIZE : 0) + Wire.direntSize(name.length);
            if (used + need > limit) {
                break;
            }
            if (plus) {
                Wire.entry(p, used, i < 2 ? null : attrOrNull(ino), validNanos);
                used += Wire.ENTRY_SIZE;
            }
            used += Wire.dirent(p, used, ino, i + 1, type, name);
        }
        return used;
    }

    /**
     * The attributes of a listed inode, counted as a lookup; null, uncounted, if it went away
     * since the snapshot (no entry then).
     */
    private Attr attrOrNull(long ino) {
        lookups.add(ino);
        try {
            return fs.getattr(ino);
        } catch (FsException e) {
            lookups.forget(ino, 1);
            return null;
        }
    }
}
