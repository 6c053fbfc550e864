package dev.pmemfs.fs.core;

import dev.pmemfs.cache.Pages;
import dev.pmemfs.fs.layout.InodeRecord;
import java.lang.foreign.MemorySegment;

/**
 * The space of one regular file as fallocate(2) and lseek(2) see it: allocating blocks ahead
 * (mode 0 and KEEP_SIZE), punching holes, zeroing ranges, and finding data and holes.
 *
 * <p>Newly allocated blocks are zeroed on the media directly and persisted before the
 * transaction that maps them commits (skipped when the media block is already zero), so a
 * crash never shows an allocated block with someone else's old data, and a large fallocate
 * does not pass gigabytes of zeros through the RAM cache. Long ranges are split into several
 * transactions, each a consistent state (the inode saved with the blocks it counts); a crash
 * in between leaves part of the range done, as on ext4. Space is checked before anything is
 * changed: ENOSPC leaves the file as it was.
 *
 * <p>Locking: holds the inode's {@link Inode#io} write lock for the whole call (no read or
 * write of the file runs meanwhile), and the filesystem lock while it edits metadata. One
 * instance per call.
 */
final class FileSpace {
    private static final int BLOCK = FileSystem.BLOCK;
    private static final MemorySegment ZERO = MemorySegment.ofArray(new byte[BLOCK]);
    /** File blocks punched per step: about 64 MiB, a few dozen journal images at most. */
    private static final long PUNCH_STEP = 32 * BlockMap.P;

    private final FileSystem fs;
    private final Inode in;

    FileSpace(FileSystem fs, Inode in) {
        this.fs = fs;
        this.in = in;
    }

    void fallocate(int mode, long offset, long length) {
        if (offset < 0 || length <= 0) {
            throw new FsException(Errno.EINVAL, "fallocate of offset " + offset + " length " + length);
        }
        boolean keep = (mode & FileSystem.FALLOC_FL_KEEP_SIZE) != 0;
        int kind = mode & ~FileSystem.FALLOC_FL_KEEP_SIZE;
        boolean punch = kind == FileSystem.FALLOC_FL_PUNCH_HOLE;
        boolean zero = kind == FileSystem.FALLOC_FL_ZERO_RANGE;
        if (kind != 0 && !punch && !zero || punch && !keep) {
            throw new FsException(Errno.EOPNOTSUPP, "fallocate mode 0x" + Integer.toHexString(mode));
        }
        long end = offset + length;
        in.io.writeLock().lock();
        try {
            fs.lock.lock();
            try {
                fs.begin();
                requireRegular();
                if (end < 0 || end > BlockMap.MAX_BLOCKS * BLOCK) {
                    throw new FsException(Errno.EFBIG, "fallocate past the largest file");
                }
                if (punch) {
                    punch(offset, end);
                } else {
                    allocate(offset, end, keep, zero);
                }
            } finally {
                fs.lock.unlock();
            }
        } finally {
            in.io.writeLock().unlock();
        }
    }

    private void requireRegular() {
        InodeRecord r = in.rec;
        if (!r.isRegular()) {
            throw new FsException(r.isDir() ? Errno.EISDIR : r.type() == InodeRecord.S_IFIFO ? Errno.ESPIPE : Errno.ENODEV,
                    "fallocate of a file that is not regular");
        }
    }

    /** Mode 0, KEEP_SIZE and ZERO_RANGE: map every block of the range, then zero what ZERO_RANGE covers. */
    private void allocate(long offset, long end, boolean keep, boolean zero) {
        InodeRecord r = in.rec;
        long first = offset / BLOCK;
        long last = (end - 1) / BLOCK;
        fs.alloc.require(fs.map.missing(r, first, last));
        int flagsBefore = r.flags;
        if (last >= Math.ceilDiv(r.size, BLOCK)) {
            r.flags |= InodeRecord.FLAG_PREALLOC; // blocks beyond the size, for now or for good
        }
        BlockMap.Listener listener = freshBlocks();
        ZeroRun run = new ZeroRun();
        for (long fb = first; fb <= last; fb++) {
            long b = fs.map.lookup(r, fb);
            if (b == 0) {
                run.add(fs.map.map(r, fb, listener));
            } else if (zero) {
                int from = fb == first ? (int) (offset % BLOCK) : 0;
                int to = fb == last ? (int) ((end - 1) % BLOCK) + 1 : BLOCK;
                zeroInPlace(b, from, to - from);
            }
            if (fs.journal.nearlyFull()) {
                run.flush();
                fs.save(in);
                fs.commit();
            }
        }
        run.flush();
        boolean grows = !keep && end > r.size;
        if (grows) {
            r.size = end;
        }
        boolean beyond = last >= Math.ceilDiv(r.size, BLOCK);
        r.flags = r.flags & ~InodeRecord.FLAG_PREALLOC | flagsBefore & InodeRecord.FLAG_PREALLOC
                | (beyond ? InodeRecord.FLAG_PREALLOC : 0);
        FileSystem.touch(r, grows || zero, true, false);
        fs.save(in);
    }

    /** PUNCH_HOLE|KEEP_SIZE: free whole blocks in the range, zero the partial ones at its edges. */
    private void punch(long offset, long end) {
        InodeRecord r = in.rec;
        long firstWhole = Math.ceilDiv(offset, BLOCK);
        long endWhole = end / BLOCK;
        if (firstWhole > endWhole) { // inside one block
            zeroPart(offset / BLOCK, (int) (offset % BLOCK), (int) (end - offset));
        } else {
            if (offset % BLOCK != 0) {
                zeroPart(offset / BLOCK, (int) (offset % BLOCK), BLOCK - (int) (offset % BLOCK));
            }
            if (end % BLOCK != 0) {
                zeroPart(endWhole, 0, (int) (end % BLOCK));
            }
            BlockMap.Listener listener = fs.dataListener(in);
            long stop = Math.min(endWhole, BlockMap.mappedBound(r));
            for (long fb = firstWhole; fb < stop; fb += PUNCH_STEP) {
                fs.map.punch(r, fb, Math.min(stop, fb + PUNCH_STEP), listener);
                if (fs.journal.nearlyFull()) {
                    fs.save(in);
                    fs.commit();
                }
            }
        }
        FileSystem.touch(r, true, true, false);
        fs.save(in);
    }

    /** Zeroes part of a mapped block through the file's path; nothing for a hole. */
    private void zeroPart(long fb, int from, int length) {
        long b = fs.map.lookup(in.rec, fb);
        if (b != 0 && length > 0) {
            zeroInPlace(b, from, length);
        }
    }

    private void zeroInPlace(long b, int from, int length) {
        Pages pages = in.pages != null ? in.pages : fs.cached;
        pages.zero(b, from, length);
        if (pages != fs.direct) {
            in.dirty.add(b);
        }
    }

    /** Counts indirect blocks as the data listener does; data blocks are zeroed here, not ordered. */
    private BlockMap.Listener freshBlocks() {
        BlockMap.Listener base = fs.dataListener(in);
        return new BlockMap.Listener() {
            @Override
            public void allocated(long block, boolean data) {
                if (!data) {
                    base.allocated(block, false);
                }
            }

            @Override
            public void freed(long block, boolean data) {
                base.freed(block, data);
            }
        };
    }

    /**
     * Newly allocated blocks whose media is not yet zero, zeroed in runs of adjacent blocks
     * with one persist per run.
     */
    private final class ZeroRun {
        private long start = -1;
        private long count;

        void add(long b) {
            fs.cached.drop(b);
            MemorySegment media = fs.region.view(b * BLOCK, BLOCK);
            if (MemorySegment.mismatch(media, 0, BLOCK, ZERO, 0, BLOCK) < 0) {
                return; // already zero: a hole's worth of nothing
            }
            if (start >= 0 && b != start + count) {
                flush();
            }
            if (start < 0) {
                start = b;
            }
            count++;
        }

        void flush() {
            if (start >= 0) {
                fs.region.fill(start * BLOCK, count * BLOCK, (byte) 0);
                fs.region.persist(start * BLOCK, count * BLOCK);
                start = -1;
                count = 0;
            }
        }
    }

    // ---- SEEK_DATA / SEEK_HOLE ---------------------------------------------------------------

    /**
     * lseek with SEEK_DATA or SEEK_HOLE. Data is every mapped block, including blocks that
     * fallocate allocated and nobody wrote (ext4 and XFS report those unwritten extents as
     * holes; pmemfs keeps no unwritten state). There is an implicit hole at the end of the file.
     */
    long seek(long offset, int whence) {
        if (whence != FileSystem.SEEK_DATA && whence != FileSystem.SEEK_HOLE) {
            throw new FsException(Errno.EINVAL, "whence " + whence);
        }
        in.io.readLock().lock();
        try {
            fs.lock.lock();
            try {
                requireSeekable();
                InodeRecord r = in.rec;
                if (offset < 0 || offset >= r.size) {
                    throw new FsException(Errno.ENXIO, "offset " + offset + " at or past the end " + r.size);
                }
                long sizeBlocks = Math.ceilDiv(r.size, BLOCK);
                long fb = offset / BLOCK;
                if (whence == FileSystem.SEEK_DATA) {
                    long d = fs.map.nextData(r, fb, sizeBlocks);
                    if (d < 0) {
                        throw new FsException(Errno.ENXIO, "no data after " + offset);
                    }
                    return Math.max(offset, d * BLOCK);
                }
                while (fb < sizeBlocks && fs.map.lookup(r, fb) != 0) {
                    fb++;
                }
                return Math.min(r.size, Math.max(offset, fb * BLOCK));
            } finally {
                fs.lock.unlock();
            }
        } finally {
            in.io.readLock().unlock();
        }
    }

    private void requireSeekable() {
        if (in.rec.isDir()) {
            throw new FsException(Errno.EINVAL, "SEEK_DATA/SEEK_HOLE on a directory");
        }
        if (!in.rec.isRegular()) {
            throw new FsException(Errno.ESPIPE, "SEEK_DATA/SEEK_HOLE on a special file");
        }
    }

    // ---- copy_file_range ---------------------------------------------------------------------

    /** Bytes copied per step: one buffer, reused. */
    private static final int COPY_CHUNK = 1 << 20;

    static long copy(FileSystem fs, FileHandle src, long srcOffset, FileHandle dst, long dstOffset, long length) {
        if (srcOffset < 0 || dstOffset < 0 || length < 0) {
            throw new FsException(Errno.EINVAL, "negative offset or length");
        }
        long size = fs.getattr(src.ino()).size();
        long n = Math.max(0, Math.min(length, size - srcOffset));
        if (src.ino() == dst.ino() && srcOffset < dstOffset + n && dstOffset < srcOffset + n) {
            throw new FsException(Errno.EINVAL, "copy_file_range within one file with overlapping ranges");
        }
        long done = 0;
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(COPY_CHUNK, BLOCK);
            while (done < n) {
                long at = srcOffset + done;
                long data;
                try {
                    data = fs.seek(src.ino(), at, FileSystem.SEEK_DATA);
                } catch (FsException e) {
                    if (e.errno() != Errno.ENXIO) {
                        throw e;
                    }
                    data = srcOffset + n; // only a hole is left
                }
                long skip = Math.min(data, srcOffset + n) - at;
                if (skip > 0) { // a hole in the source: punch it in the destination, or extend it
                    punchOrExtend(fs, dst, dstOffset + done, skip);
                    done += skip;
                    continue;
                }
                long hole = fs.seek(src.ino(), at, FileSystem.SEEK_HOLE); // the data run ends there
                int chunk = (int) Math.min(COPY_CHUNK, Math.min(hole, srcOffset + n) - at);
                int got = src.read(at, buf, chunk);
                if (got <= 0) {
                    break;
                }
                dst.write(dstOffset + done, buf, got);
                done += got;
            }
        }
        return done;
    }

    /** A source hole of {@code length} bytes at {@code offset} of the destination. */
    private static void punchOrExtend(FileSystem fs, FileHandle dst, long offset, long length) {
        long size = fs.getattr(dst.ino()).size();
        if (offset < size) {
            fs.fallocate(dst.ino(), FileSystem.FALLOC_FL_PUNCH_HOLE | FileSystem.FALLOC_FL_KEEP_SIZE, offset,
                    Math.min(length, size - offset));
        }
        if (offset + length > size) {
            dst.truncate(offset + length);
        }
    }
}
