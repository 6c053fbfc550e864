package dev.pmemfs.fs.core;

/**
 * How a cached file is being written: whether each write is followed by an fsync before the
 * next (a database log, fio's {@code fsync=1}), in which case its writes go straight to the
 * media (write-through) instead of into the RAM cache.
 *
 * <p>Why: the cache saves media writes only when a page is written again before it is written
 * back. Between two fsyncs, one write touches each of its pages once, and the fsync writes them
 * all back: the cache saves nothing, and costs a RAM page, its bookkeeping and a second copy per
 * write. A write-through write is what a DAX write is: one copy, one persist; the fsync then only
 * commits the journal. The rule is strict, so write-through never costs the media more than the
 * cache would: a file enters it after {@link #STREAK} fsyncs in a row that each followed exactly
 * one write, and leaves it at the second write without an fsync in between (that write and the
 * ones after it are cached again, and repeated writes of a page cost one media write as before).
 *
 * <p>Thread safety: {@link #wrote} runs under the inode's {@code io} write lock, {@link #synced}
 * from any fsync; both are synchronized on this (uncontended: a few nanoseconds). The pattern is
 * a choice of path only: either path is correct for any write.
 */
final class SyncPattern {
    /** fsyncs in a row, each after one write, that put a file into write-through. */
    static final int STREAK = 2;

    /** Writes since the last fsync. */
    private int writes;
    /** fsyncs in a row that each followed exactly one write. */
    private int streak;

    /** Records a write; answers whether it should go straight to the media. */
    synchronized boolean wrote() {
        if (++writes > 1) {
            streak = 0;
        }
        return streak >= STREAK;
    }

    /** Records an fsync (one with no write since the last changes nothing). */
    synchronized void synced() {
        if (writes == 1) {
            streak = Math.min(streak + 1, STREAK);
        } else if (writes > 1) {
            streak = 0;
        }
        writes = 0;
    }
}
