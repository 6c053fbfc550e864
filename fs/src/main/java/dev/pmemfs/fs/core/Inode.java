package dev.pmemfs.fs.core;

import dev.pmemfs.cache.Pages;
import dev.pmemfs.fs.layout.InodeRecord;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * An inode in memory: its record, and what lives only while mounted (open handles, the
 * directory index, the I/O path chosen at open, dirty cached pages awaiting fsync).
 *
 * <p>Locking: {@link #io} orders reads, writes and truncation of the file's data (taken before
 * the filesystem lock, never after); every other field is guarded by the filesystem's lock,
 * except {@link #dirty}, a concurrent set that pages join under {@link #io}'s write lock, and
 * {@link #syncs}, which locks itself.
 */
final class Inode {
    final long ino;
    final InodeRecord rec;
    final ReentrantReadWriteLock io = new ReentrantReadWriteLock();
    /** A dirty set this large is replaced once taken, not emptied in place. */
    static final int LARGE_DIRTY = 4096;
    /**
     * Cached pages written since the last fsync: what fsync must write back. Pages are added
     * under {@link #io}'s write lock; {@link #takeDirty} replaces a set that grew large.
     */
    volatile Set<Long> dirty = ConcurrentHashMap.newKeySet();
    /** Whether writes are fsync'd one by one, so a cached file's writes go through (its own lock). */
    final SyncPattern syncs = new SyncPattern();
    int openCount;
    /** Indirect blocks of a regular file (-1: not counted yet); st_blocks leaves them out. */
    long metaBlocks = -1;
    Directory dir;
    Map<String, byte[]> xattrs;
    /** The I/O path of the open file; chosen at the first open. */
    Pages pages;

    Inode(long ino, InodeRecord rec) {
        this.ino = ino;
        this.rec = rec;
    }

    /**
     * The dirty pages, taken out of the set: a write that dirties one again afterwards adds it
     * again, so the next fsync cannot miss it. A set that held {@link #LARGE_DIRTY} pages or more
     * is replaced by a new one under {@link #io}'s write lock (so no write adds to the old one
     * meanwhile): a {@code ConcurrentHashMap} never shrinks its table, and every later fsync
     * would walk the empty table of a file that once had a million dirty pages. Not under
     * {@code io}: the caller must not hold it.
     */
    long[] takeDirty() {
        long[] pages = dirty.stream().mapToLong(Long::longValue).toArray();
        if (pages.length < LARGE_DIRTY) {
            for (long p : pages) {
                dirty.remove(p);
            }
            return pages;
        }
        io.writeLock().lock();
        try {
            Set<Long> old = dirty;
            dirty = ConcurrentHashMap.newKeySet();
            return old.stream().mapToLong(Long::longValue).toArray();
        } finally {
            io.writeLock().unlock();
        }
    }
}
