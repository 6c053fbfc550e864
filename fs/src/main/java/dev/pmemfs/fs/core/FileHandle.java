package dev.pmemfs.fs.core;

import dev.pmemfs.cache.Pages;
import dev.pmemfs.fs.layout.InodeRecord;
import java.lang.foreign.MemorySegment;

/**
 * An open file: reads and writes of its data through the file's page path (cached or
 * direct, fixed at open), without resolving a path again.
 *
 * <p>Locking: a read holds the inode's {@link Inode#io} read lock, a write or truncate its
 * write lock, across the data copy; block lookup and allocation take the filesystem lock
 * briefly inside it.
 */
public final class FileHandle implements AutoCloseable {
    private static final int BLOCK = FileSystem.BLOCK;

    private final FileSystem fs;
    private final Inode in;
    private final int flags;
    private boolean closed;

    FileHandle(FileSystem fs, Inode in, int flags) {
        this.fs = fs;
        this.in = in;
        this.flags = flags;
    }

    public long ino() {
        return in.ino;
    }

    public int flags() {
        return flags;
    }

    /** Whether this handle's I/O takes the direct (DAX) path. */
    public boolean direct() {
        return in.pages == fs.direct;
    }

    /** Reads up to {@code length} bytes at {@code pos} into {@code dst}; returns the bytes read (0 at end of file). */
    public int read(long pos, MemorySegment dst, int length) {
        requireRegular();
        in.io.readLock().lock();
        try {
            long[] phys = mapped(pos, length);
            if (phys == null) {
                return 0;
            }
            int n = (int) Math.min(length, in.rec.size - pos);
            readRuns(in.pages, phys, (int) (pos % BLOCK), dst, n);
            return n;
        } finally {
            in.io.readLock().unlock();
        }
    }

    /**
     * Hands {@code reader} the bytes of up to {@code length} bytes at {@code pos} as slices of
     * the memory that holds them (RAM pages or the mapped region), valid only during the call:
     * for a frontend that replies with one {@code writev} and no copy. Returns the bytes handed
     * out (0 at end of file, and {@code reader} is not called), or -1 when the range has a hole
     * (the caller copies with {@link #read(long, MemorySegment, int)} instead). Holds the
     * inode's read lock while {@code reader} runs: it must not call back into the filesystem.
     */
    public int read(long pos, int length, Pages.SliceReader reader) {
        requireRegular();
        in.io.readLock().lock();
        try {
            long[] phys = mapped(pos, length);
            if (phys == null) {
                return 0;
            }
            for (long p : phys) {
                if (p == 0) {
                    return -1;
                }
            }
            int n = (int) Math.min(length, in.rec.size - pos);
            in.pages.read(phys, 0, (int) (pos % BLOCK), n, reader);
            return n;
        } finally {
            in.io.readLock().unlock();
        }
    }

    /**
     * The blocks of a read at {@code pos} (0 for a hole), or null at end of file; stamps atime
     * (relatime). Called with the inode's read lock; takes the filesystem lock briefly.
     */
    private long[] mapped(long pos, int length) {
        if (pos < 0) {
            throw new FsException(Errno.EINVAL, "negative offset");
        }
        fs.lock.lock();
        try {
            long size = in.rec.size;
            if (pos >= size || length == 0) {
                return null;
            }
            long[] phys = lookup(pos, (int) Math.min(length, size - pos));
            InodeRecord r = in.rec;
            if (r.atimeSec < r.mtimeSec || r.atimeSec == r.mtimeSec && r.atimeNsec <= r.mtimeNsec) {
                FileSystem.touch(r, false, false, true); // relatime
                fs.save(in);
            }
            return phys;
        } finally {
            fs.lock.unlock();
        }
    }

    /**
     * Copies {@code n} bytes of the blocks {@code phys} (0: a hole), from {@code off} in the
     * first, into {@code dst}: one page call per run of mapped blocks, zeros for holes.
     */
    private static void readRuns(Pages pages, long[] phys, int off, MemorySegment dst, int n) {
        long done = 0;
        int i = 0;
        while (done < n) {
            int start = i;
            boolean hole = phys[i] == 0;
            long len = 0;
            do {
                len += BLOCK - (i == 0 ? off : 0);
                i++;
            } while (i < phys.length && (phys[i] == 0) == hole);
            len = Math.min(len, n - done);
            if (hole) {
                dst.asSlice(done, len).fill((byte) 0);
            } else {
                pages.read(phys, start, start == 0 ? off : 0, dst, done, len);
            }
            done += len;
        }
    }

    private long[] lookup(long pos, int n) {
        long first = pos / BLOCK;
        long last = (pos + n - 1) / BLOCK;
        long[] out = new long[(int) (last - first + 1)];
        fs.map.lookup(in.rec, first, out);
        return out;
    }

    /**
     * Writes {@code length} bytes from {@code src} at {@code pos} (or at the end with O_APPEND);
     * returns {@code length}. A cached file written one write per fsync ({@link SyncPattern})
     * is written through: straight to the media with its persist, as on the direct path, after
     * the RAM copies of its pages are forgotten (unless one is dirty: then through the cache).
     */
    public int write(long pos, MemorySegment src, int length) {
        if (pos < 0) {
            throw new FsException(Errno.EINVAL, "negative offset");
        }
        requireRegular();
        if (length == 0) {
            return 0;
        }
        in.io.writeLock().lock();
        try {
            Pages pages = in.pages;
            boolean through = pages != fs.direct && in.syncs.wrote();
            long[] phys;
            boolean[] fresh;
            fs.lock.lock();
            try {
                fs.begin();
                if ((flags & 02000) != 0) { // O_APPEND
                    pos = in.rec.size;
                }
                if (pos + length > BlockMap.MAX_BLOCKS * BLOCK) {
                    throw new FsException(Errno.EFBIG, "write past the largest file size");
                }
                long first = pos / BLOCK;
                int count = (int) ((pos + length - 1) / BLOCK - first + 1);
                phys = new long[count];
                fs.map.lookup(in.rec, first, phys);
                long need = 0;
                for (int i = 0; i < count; i++) {
                    if (phys[i] == 0) {
                        need += BlockMap.worstCase(first + i);
                    }
                }
                if (through && !pages.forgetClean(phys)) {
                    through = false;
                }
                if (through) {
                    pages = fs.direct;
                }
                if (need > 0) {
                    // Allocating: allocation, data copy and the inode update form one step under
                    // the filesystem lock, so no commit can publish blocks without their inode,
                    // or an inode whose blocks lie past its size. Blocks written through are
                    // durable before any commit: they need no ordering.
                    fs.alloc.require(need);
                    fresh = new boolean[count];
                    BlockMap.Listener listener = fs.dataListener(in, !through);
                    for (int i = 0; i < count; i++) {
                        if (phys[i] == 0) {
                            phys[i] = fs.map.map(in.rec, first + i, listener);
                            fresh[i] = true;
                        }
                    }
                    copyIn(pages, pos, src, length, phys, fresh);
                    updateAfterWrite(pos + length);
                    return length;
                }
            } finally {
                fs.lock.unlock();
            }
            copyIn(pages, pos, src, length, phys, null);
            fs.lock.lock();
            try {
                updateAfterWrite(pos + length);
            } finally {
                fs.lock.unlock();
            }
            return length;
        } finally {
            in.io.writeLock().unlock();
        }
    }

    /** Grows the size to {@code end} if needed and stamps mtime and ctime. Filesystem lock held. */
    private void updateAfterWrite(long end) {
        if (end > in.rec.size) {
            in.rec.size = end;
        }
        FileSystem.touch(in.rec, true, true, false);
        fs.save(in);
    }

    /** Copies the data in through {@code pages}; pages of the RAM cache join the file's dirty set. */
    private void copyIn(Pages pages, long pos, MemorySegment src, int length, long[] phys, boolean[] fresh) {
        pages.write(phys, fresh, (int) (pos % BLOCK), src, 0, length);
        if (pages != fs.direct) {
            for (long p : phys) {
                in.dirty.add(p);
            }
        }
    }

    private void requireRegular() {
        if (closed) {
            throw new FsException(Errno.EBADF, "handle is closed");
        }
        if (!in.rec.isRegular()) {
            throw new FsException(in.rec.isDir() ? Errno.EISDIR : Errno.EINVAL, "not a regular file");
        }
    }

    public void truncate(long size) {
        truncate(fs, in, size);
    }

    static void truncate(FileSystem fs, Inode in, long size) {
        if (size < 0) {
            throw new FsException(Errno.EINVAL, "negative size");
        }
        if (size > BlockMap.MAX_BLOCKS * BLOCK) {
            throw new FsException(Errno.EFBIG, "size past the largest file");
        }
        in.io.writeLock().lock();
        try {
            fs.lock.lock();
            try {
                fs.begin();
                if (in.rec.isDir()) {
                    throw new FsException(Errno.EISDIR, "truncate of a directory");
                }
                if (!in.rec.isRegular()) {
                    throw new FsException(Errno.EINVAL, "truncate of a special file");
                }
                boolean prealloc = (in.rec.flags & InodeRecord.FLAG_PREALLOC) != 0;
                // As ext4 and tmpfs: a truncate to the same size or less also frees blocks that
                // fallocate(KEEP_SIZE) put beyond the end.
                if (size < in.rec.size || size == in.rec.size && prealloc) {
                    long keep = (size + BLOCK - 1) / BLOCK;
                    int tail = (int) (size % BLOCK);
                    in.rec.flags &= ~InodeRecord.FLAG_PREALLOC;
                    if (tail != 0 && size < in.rec.size) {
                        long p = fs.map.lookup(in.rec, size / BLOCK);
                        if (p != 0) {
                            pagesOf(fs, in).zero(p, tail, BLOCK - tail);
                            if (pagesOf(fs, in) != fs.direct) {
                                in.dirty.add(p);
                            }
                        }
                    }
                    fs.map.truncate(in.rec, keep, fs.dataListener(in));
                }
                if (size != in.rec.size) {
                    in.rec.size = size;
                    FileSystem.touch(in.rec, true, true, false);
                } else {
                    FileSystem.touch(in.rec, true, true, false);
                }
                fs.save(in);
            } finally {
                fs.lock.unlock();
            }
        } finally {
            in.io.writeLock().unlock();
        }
    }

    /** The path of an inode that may not be open: the one it would take now. */
    private static Pages pagesOf(FileSystem fs, Inode in) {
        return in.pages != null ? in.pages : fs.cached;
    }

    /** Makes this file's data and all metadata durable ({@code fdatasync} does the same). */
    public void fsync() {
        fs.fsync(in);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            fs.release(in);
        }
    }
}
