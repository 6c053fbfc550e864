package dev.pmemfs.fs.core;

import dev.pmemfs.fs.layout.IndirectBlock;
import dev.pmemfs.fs.layout.InodeRecord;
import java.util.Arrays;

/**
 * The block map of an inode: 12 direct pointers, then single, double and triple indirect
 * blocks of 511 pointers each (ext2's scheme), addressing files up to about 509 GiB.
 * A zero pointer is a hole. Indirect blocks are metadata and go through the journal.
 *
 * <p>Not thread safe: guarded by the filesystem's lock.
 */
final class BlockMap {
    static final long P = IndirectBlock.POINTERS;
    static final long LIMIT1 = InodeRecord.DIRECT + P;
    static final long LIMIT2 = LIMIT1 + P * P;
    /** File blocks addressable: the largest file is this many blocks. */
    static final long MAX_BLOCKS = LIMIT2 + P * P * P;

    /** Called for every block a change allocates or frees. */
    interface Listener {
        void allocated(long block, boolean data);

        void freed(long block, boolean data);
    }

    private final Journal journal;
    private final Allocator alloc;

    BlockMap(Journal journal, Allocator alloc) {
        this.journal = journal;
        this.alloc = alloc;
    }

    /** The physical block holding file block {@code fb}, or 0 for a hole. */
    long lookup(InodeRecord r, long fb) {
        if (fb < InodeRecord.DIRECT) {
            return r.direct[(int) fb];
        }
        return fb < MAX_BLOCKS ? pointer(leaf(r, fb), slot(fb)) : 0;
    }

    /**
     * The physical blocks of file blocks {@code first} on, one per slot of {@code out} (0 for a
     * hole): what {@link #lookup(InodeRecord, long)} answers for each, with one journal lookup
     * per indirect block instead of one per pointer (a 1 MiB read spans 256 pointers, mostly of
     * one block, and the lookups run under the filesystem's lock).
     */
    void lookup(InodeRecord r, long first, long[] out) {
        int i = 0;
        while (i < out.length) {
            long fb = first + i;
            if (fb < InodeRecord.DIRECT || fb >= MAX_BLOCKS) {
                out[i++] = lookup(r, fb); // a direct pointer, or past the largest file (0)
                continue;
            }
            long leaf = leaf(r, fb);
            long slot = slot(fb);
            int n = (int) Math.min(out.length - i, P - slot);
            if (leaf == 0) {
                Arrays.fill(out, i, i + n, 0);
            } else {
                journal.getLongs(leaf, (int) (slot * 8), out, i, n);
            }
            i += n;
        }
    }

    /**
     * The indirect block that holds the pointer of file block {@code fb} (from
     * {@link InodeRecord#DIRECT} up to {@link #MAX_BLOCKS}), or 0 when a hole above it covers it.
     */
    private long leaf(InodeRecord r, long fb) {
        if (fb < LIMIT1) {
            return r.indirect1;
        }
        if (fb < LIMIT2) {
            return pointer(r.indirect2, (fb - LIMIT1) / P);
        }
        long x = fb - LIMIT2;
        return pointer(pointer(r.indirect3, x / (P * P)), x / P % P);
    }

    /** The slot of file block {@code fb}'s pointer in its {@link #leaf}: every level starts P-aligned from DIRECT. */
    private static long slot(long fb) {
        return (fb - InodeRecord.DIRECT) % P;
    }

    private long pointer(long block, long i) {
        return block == 0 ? 0 : journal.getLong(block, (int) (i * 8));
    }

    /** Worst-case new blocks (data and indirect) to map one more file block. */
    static int worstCase(long fb) {
        return fb < InodeRecord.DIRECT ? 1 : fb < LIMIT1 ? 2 : fb < LIMIT2 ? 3 : 4;
    }

    /**
     * The physical block of file block {@code fb}, allocating it (and indirect blocks) when it
     * is a hole. {@code listener.allocated} hears of each new block. Callers check the space
     * first ({@link Allocator#require} with {@link #worstCase} or {@link #missing}), so that
     * ENOSPC never leaves half a change.
     */
    long map(InodeRecord r, long fb, Listener listener) {
        if (fb >= MAX_BLOCKS) {
            throw new FsException(Errno.EFBIG, "file block " + fb + " beyond the largest file");
        }
        if (fb < InodeRecord.DIRECT) {
            if (r.direct[(int) fb] == 0) {
                r.direct[(int) fb] = newBlock(r, listener, true);
            }
            return r.direct[(int) fb];
        }
        if (fb < LIMIT1) {
            if (r.indirect1 == 0) {
                r.indirect1 = newIndirect(r, listener);
            }
            return slot(r, r.indirect1, fb - InodeRecord.DIRECT, listener, true);
        }
        if (fb < LIMIT2) {
            long x = fb - LIMIT1;
            if (r.indirect2 == 0) {
                r.indirect2 = newIndirect(r, listener);
            }
            long l1 = slot(r, r.indirect2, x / P, listener, false);
            return slot(r, l1, x % P, listener, true);
        }
        long x = fb - LIMIT2;
        if (r.indirect3 == 0) {
            r.indirect3 = newIndirect(r, listener);
        }
        long l2 = slot(r, r.indirect3, x / (P * P), listener, false);
        long l1 = slot(r, l2, x / P % P, listener, false);
        return slot(r, l1, x % P, listener, true);
    }

    private long slot(InodeRecord r, long indirect, long i, Listener listener, boolean data) {
        long v = journal.getLong(indirect, (int) (i * 8));
        if (v == 0) {
            v = data ? newBlock(r, listener, true) : newIndirect(r, listener);
            IndirectBlock.set(journal.modify(indirect), (int) i, v);
        }
        return v;
    }

    private long newBlock(InodeRecord r, Listener listener, boolean data) {
        long b = alloc.allocBlock();
        r.blocks++;
        listener.allocated(b, data);
        return b;
    }

    private long newIndirect(InodeRecord r, Listener listener) {
        long b = newBlock(r, listener, false);
        journal.put(b, IndirectBlock.empty());
        return b;
    }

    /** Frees every block at file block {@code keep} or beyond, and indirect blocks left empty. */
    void truncate(InodeRecord r, long keep, Listener listener) {
        for (int i = (int) Math.min(keep, InodeRecord.DIRECT); i < InodeRecord.DIRECT; i++) {
            if (r.direct[i] != 0) {
                free(r, r.direct[i], listener, true);
                r.direct[i] = 0;
            }
        }
        r.indirect1 = cut(r, r.indirect1, 1, keep - InodeRecord.DIRECT, listener);
        r.indirect2 = cut(r, r.indirect2, 2, keep - LIMIT1, listener);
        r.indirect3 = cut(r, r.indirect3, 3, keep - LIMIT2, listener);
    }

    /**
     * Frees what lies at index {@code keep} or beyond under an indirect block of {@code depth}
     * levels; returns the block, or 0 when it was freed because nothing is kept under it.
     */
    private long cut(InodeRecord r, long block, int depth, long keep, Listener listener) {
        if (block == 0) {
            return 0;
        }
        long span = depth == 1 ? 1 : depth == 2 ? P : P * P;
        long from = Math.max(0, keep);
        int first = (int) Math.min(P, (from + span - 1) / span);
        if (from > 0 && from % span != 0) {
            // the child at (from / span) is cut partially
            int partial = (int) (from / span);
            long child = journal.getLong(block, partial * 8);
            if (child != 0 && depth > 1) {
                long kept = cut(r, child, depth - 1, from - partial * span, listener);
                if (kept != child) {
                    IndirectBlock.set(journal.modify(block), partial, kept);
                }
            }
        }
        boolean dirty = false;
        byte[] img = journal.peek(block);
        for (int i = first; i < P; i++) {
            long child = IndirectBlock.get(img, i);
            if (child != 0) {
                if (depth > 1) {
                    cut(r, child, depth - 1, 0, listener);
                } else {
                    free(r, child, listener, true);
                }
                if (!dirty) {
                    img = journal.modify(block);
                    dirty = true;
                }
                IndirectBlock.setRaw(img, i, 0);
            }
        }
        if (dirty) {
            IndirectBlock.seal(img);
        }
        if (from == 0) {
            free(r, block, listener, false);
            return 0;
        }
        return block;
    }

    private void free(InodeRecord r, long b, Listener listener, boolean data) {
        alloc.freeBlock(b);
        r.blocks--;
        listener.freed(b, data);
    }

    /** Calls {@code visitor} for every mapped file block in order, with its physical block. */
    void forEach(InodeRecord r, Visitor visitor) {
        for (int i = 0; i < InodeRecord.DIRECT; i++) {
            if (r.direct[i] != 0) {
                visitor.visit(i, r.direct[i], true);
            }
        }
        walk(r.indirect1, 1, InodeRecord.DIRECT, visitor);
        walk(r.indirect2, 2, LIMIT1, visitor);
        walk(r.indirect3, 3, LIMIT2, visitor);
    }

    /** Sees each mapped block; {@code data} is false for indirect blocks (whose file block is -1). */
    interface Visitor {
        void visit(long fileBlock, long block, boolean data);
    }

    private void walk(long block, int depth, long base, Visitor visitor) {
        if (block == 0) {
            return;
        }
        visitor.visit(-1, block, false);
        long span = depth == 1 ? 1 : depth == 2 ? P : P * P;
        byte[] img = journal.peek(block);
        for (int i = 0; i < P; i++) {
            long child = IndirectBlock.get(img, i);
            if (child != 0) {
                if (depth == 1) {
                    visitor.visit(base + i, child, true);
                } else {
                    walk(child, depth - 1, base + i * span, visitor);
                }
            }
        }
    }
    // ---- ranges (fallocate, punch hole, SEEK_DATA) -------------------------------------------

    /**
     * Blocks that mapping every file block in {@code [first, last]} would allocate: the holes,
     * and the indirect blocks missing above them, each counted once.
     */
    long missing(InodeRecord r, long first, long last) {
        long n = 0;
        java.util.Set<Long> counted = new java.util.HashSet<>();
        long fb = first;
        while (fb <= last && fb < InodeRecord.DIRECT) {
            n += r.direct[(int) fb] == 0 ? 1 : 0;
            fb++;
        }
        while (fb <= last && fb < MAX_BLOCKS) {
            // one leaf indirect block covers P file blocks: [chunk, chunk + P)
            long leaf;
            long chunk;
            long[] above; // the indirect blocks on the way to the leaf, top first (0: missing)
            long[] keys;
            if (fb < LIMIT1) {
                chunk = InodeRecord.DIRECT;
                leaf = r.indirect1;
                above = new long[0];
                keys = new long[] {1L << 60};
            } else if (fb < LIMIT2) {
                long x = fb - LIMIT1;
                chunk = LIMIT1 + x / P * P;
                leaf = pointer(r.indirect2, x / P);
                above = new long[] {r.indirect2};
                keys = new long[] {2L << 60, (3L << 60) + x / P};
            } else {
                long x = fb - LIMIT2;
                chunk = LIMIT2 + x / P * P;
                long mid = pointer(r.indirect3, x / (P * P));
                leaf = pointer(mid, x / P % P);
                above = new long[] {r.indirect3, mid};
                keys = new long[] {4L << 60, (5L << 60) + x / (P * P), (6L << 60) + x / P};
            }
            long upto = Math.min(last, chunk + P - 1);
            boolean gone = false;
            for (int i = 0; i < above.length; i++) {
                gone |= above[i] == 0;
                if (gone && counted.add(keys[i])) {
                    n++;
                }
            }
            gone |= leaf == 0;
            if (gone) {
                if (counted.add(keys[keys.length - 1])) {
                    n++;
                }
                n += upto - fb + 1;
            } else {
                for (long f = fb; f <= upto; f++) {
                    n += pointer(leaf, f - chunk) == 0 ? 1 : 0;
                }
            }
            fb = upto + 1;
        }
        return n;
    }

    /**
     * Frees the data blocks of file blocks {@code [from, to)}, and the indirect blocks left
     * empty (a punched hole). The caller keeps the transaction small enough by the range.
     */
    void punch(InodeRecord r, long from, long to, Listener listener) {
        for (long fb = from; fb < Math.min(to, InodeRecord.DIRECT); fb++) {
            if (r.direct[(int) fb] != 0) {
                free(r, r.direct[(int) fb], listener, true);
                r.direct[(int) fb] = 0;
            }
        }
        r.indirect1 = punchUnder(r, r.indirect1, 1, InodeRecord.DIRECT, from, to, listener);
        r.indirect2 = punchUnder(r, r.indirect2, 2, LIMIT1, from, to, listener);
        r.indirect3 = punchUnder(r, r.indirect3, 3, LIMIT2, from, to, listener);
    }

    /** Punches under one indirect block whose first file block is {@code base}; returns it, or 0 once freed. */
    private long punchUnder(InodeRecord r, long block, int depth, long base, long from, long to, Listener listener) {
        long span = depth == 1 ? 1 : depth == 2 ? P : P * P;
        if (block == 0 || to <= base || from >= base + P * span) {
            return block;
        }
        int lo = (int) (Math.max(0, from - base) / span);
        int hi = (int) Math.min(P - 1, (to - 1 - base) / span);
        byte[] img = journal.peek(block);
        boolean dirty = false;
        for (int i = lo; i <= hi; i++) {
            long child = IndirectBlock.get(img, i);
            if (child == 0) {
                continue;
            }
            long childBase = base + i * span;
            long now;
            if (depth == 1) {
                free(r, child, listener, true);
                now = 0;
            } else {
                now = punchUnder(r, child, depth - 1, childBase, from, to, listener);
            }
            if (now != child) {
                if (!dirty) {
                    img = journal.modify(block);
                    dirty = true;
                }
                IndirectBlock.setRaw(img, i, now);
            }
        }
        if (dirty) {
            IndirectBlock.seal(img);
        }
        for (int i = 0; i < P; i++) {
            if (IndirectBlock.get(img, i) != 0) {
                return block;
            }
        }
        free(r, block, listener, false);
        return 0;
    }

    /** The first mapped file block in {@code [from, to)}, or -1: skips unmapped subtrees whole. */
    long nextData(InodeRecord r, long from, long to) {
        for (long fb = from; fb < Math.min(to, InodeRecord.DIRECT); fb++) {
            if (r.direct[(int) fb] != 0) {
                return fb;
            }
        }
        long x = nextUnder(r.indirect1, 1, InodeRecord.DIRECT, from, to);
        if (x < 0) {
            x = nextUnder(r.indirect2, 2, LIMIT1, from, to);
        }
        return x >= 0 ? x : nextUnder(r.indirect3, 3, LIMIT2, from, to);
    }

    private long nextUnder(long block, int depth, long base, long from, long to) {
        long span = depth == 1 ? 1 : depth == 2 ? P : P * P;
        if (block == 0 || to <= base || from >= base + P * span) {
            return -1;
        }
        byte[] img = journal.peek(block);
        for (int i = (int) (Math.max(0, from - base) / span); i < P && base + i * span < to; i++) {
            long child = IndirectBlock.get(img, i);
            if (child != 0) {
                long x = depth == 1 ? base + i : nextUnder(child, depth - 1, base + i * span, from, to);
                if (x >= 0) {
                    return x;
                }
            }
        }
        return -1;
    }

    /** The file block after the last one an inode's map can hold now (a bound for range walks). */
    static long mappedBound(InodeRecord r) {
        return r.indirect3 != 0 ? MAX_BLOCKS : r.indirect2 != 0 ? LIMIT2 : r.indirect1 != 0 ? LIMIT1 : InodeRecord.DIRECT;
    }
}
