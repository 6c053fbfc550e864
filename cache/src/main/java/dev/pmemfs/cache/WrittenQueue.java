package dev.pmemfs.cache;

/**
 * The written pages of a {@link CachedPages} (written back, clean, still outside Caffeine) in
 * write-back order, oldest first: a ring of entries (page, sequence number).
 *
 * <p>An entry is live while its page's {@link Page#writtenSeq} still holds the entry's number;
 * a page dirtied, promoted or freed since has another number (0), and a page written back again
 * has a newer entry. So staleness is one field compare, with no map lookup and no allocation,
 * which matters because a 1 GiB fsync queues 262,144 pages (the earlier {@code ArrayDeque}
 * checked each entry against the page map, boxing the key: a quarter of that fsync's time).
 *
 * <p>Not thread-safe: guarded by {@link CachedPages}' {@code flushLock}, like the write-back
 * that adds entries and the trimming that takes them.
 */
final class WrittenQueue {
    private Page[] pages = new Page[1024];
    private long[] seqs = new long[1024];
    private int head;
    private int size;
    private long lastSeq;

    /** A new sequence number for a page about to be queued. */
    long nextSeq() {
        return ++lastSeq;
    }

    /** Queues a page that {@link #nextSeq} numbered {@code seq} (and that holds it in {@code writtenSeq}). */
    void add(Page p, long seq) {
        if (size == pages.length) {
            grow();
        }
        int at = (head + size) & (pages.length - 1);
        pages[at] = p;
        seqs[at] = seq;
        size++;
    }

    int size() {
        return size;
    }

    /** The oldest entry's page, or null when empty; see {@link #headSeq}. */
    Page headPage() {
        return size == 0 ? null : pages[head];
    }

    /** The oldest entry's sequence number. */
    long headSeq() {
        return seqs[head];
    }

    void removeHead() {
        pages[head] = null;
        head = (head + 1) & (pages.length - 1);
        size--;
    }

    /** Drops the entries whose page has moved on (a field compare per entry). */
    void compact() {
        int mask = pages.length - 1;
        int kept = 0;
        for (int i = 0; i < size; i++) {
            int from = (head + i) & mask;
            Page p = pages[from];
            long seq = seqs[from];
            pages[from] = null;
            if (p.writtenSeq == seq) {
                int to = (head + kept) & mask;
                pages[to] = p;
                seqs[to] = seq;
                kept++;
            }
        }
        size = kept;
    }

    private void grow() {
        int n = pages.length;
        Page[] p = new Page[n * 2];
        long[] s = new long[n * 2];
        for (int i = 0; i < size; i++) {
            p[i] = pages[(head + i) & (n - 1)];
            s[i] = seqs[(head + i) & (n - 1)];
        }
        pages = p;
        seqs = s;
        head = 0;
    }
}
