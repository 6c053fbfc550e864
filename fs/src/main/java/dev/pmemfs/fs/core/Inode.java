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
 * except {@link #dirty}, a concurrent set, and {@link #syncs}, which locks itself.
 */
final class Inode {
    final long ino;
    final InodeRecord rec;
    final ReentrantReadWriteLock io = new ReentrantReadWriteLock();
    /** Cached pages written since the last fsync: what fsync must write back. */
    final Set<Long> dirty = ConcurrentHashMap.newKeySet();
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
}
