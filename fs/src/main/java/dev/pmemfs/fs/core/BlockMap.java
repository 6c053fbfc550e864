package dev.pmemfs.fs.core;

import dev.pmemfs.fs.layout.IndirectBlock;
import dev.pmemfs.fs.layout.InodeRecord;

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
        if (fb < LIMIT1) {
            return pointer(r.indirect1, fb - InodeRecord.DIRECT);
        }
        if (fb < LIMIT2) {
            long x = fb - LIMIT1;
            return pointer(pointer(r.indirect2, x / P), x % P);
        }
        if (fb < MAX_BLOCKS) {
            long x = fb - LIMIT2;
            return pointer(pointer(pointer(r.indirect3, x / (P * P)), x / P % P), x % P);
        }
        return 0;
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
     * is a hole. {@code listener.allocated} hears of each new block.
     */
    long map(InodeRecord r, long fb, Listener listener) {
        if (fb >= MAX_BLOCKS) {
            throw new FsException(Errno.EFBIG, "file block " + fb + " beyond the largest file");
        }
        alloc.require(worstCase(fb));
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
}
