package dev.pmemfs.fs.core;

import dev.pmemfs.fs.layout.BlockCrc;
import dev.pmemfs.fs.layout.DirBlock;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongUnaryOperator;

/**
 * The entries of one directory: its blocks as lists of records, and a hash index from name
 * to block, so that lookup and insert cost O(1) whatever the directory's size. Built once, the
 * first time the directory is used after mount, from its blocks.
 *
 * <p>A change rewrites the one block it touches, through the journal. Blocks are never
 * removed while the directory lives; emptied ones are reused by later inserts.
 *
 * <p>Not thread safe: guarded by the filesystem's lock.
 */
final class Directory {
    private static final int MAX_RECORD = DirBlock.recordLength(DirBlock.MAX_NAME);

    private final Map<String, Integer> blockOf = new HashMap<>();
    private final List<List<DirBlock.Entry>> blocks = new ArrayList<>();
    private final List<Integer> used = new ArrayList<>();
    private final BitSet roomy = new BitSet();
    private int count;

    /** Reads the directory's blocks; {@code physOf} maps a file block to its block (0: hole). */
    static Directory load(long blockCount, LongUnaryOperator physOf, Journal journal, long ino) {
        Directory d = new Directory();
        for (long fb = 0; fb < blockCount; fb++) {
            long phys = physOf.applyAsLong(fb);
            List<DirBlock.Entry> entries = new ArrayList<>();
            if (phys != 0) {
                byte[] img = journal.peek(phys);
                if (!DirBlock.valid(img)) {
                    throw new FsException(Errno.EIO, "directory inode " + ino + ": block " + phys + " is corrupt (bad checksum)");
                }
                try {
                    entries.addAll(DirBlock.decode(img));
                } catch (IllegalArgumentException e) {
                    throw new FsException(Errno.EIO, "directory inode " + ino + ": block " + phys + ": " + e.getMessage());
                }
            }
            d.addBlock(entries);
        }
        return d;
    }

    private void addBlock(List<DirBlock.Entry> entries) {
        int idx = blocks.size();
        blocks.add(entries);
        int u = 0;
        for (DirBlock.Entry e : entries) {
            blockOf.put(e.nameString(), idx);
            u += e.recordLength();
            count++;
        }
        used.add(u);
        updateRoom(idx);
    }

    private void updateRoom(int idx) {
        roomy.set(idx, BlockCrc.PAYLOAD - used.get(idx) >= MAX_RECORD);
    }

    int size() {
        return count;
    }

    int blockCount() {
        return blocks.size();
    }

    DirBlock.Entry get(String name) {
        Integer b = blockOf.get(name);
        if (b == null) {
            return null;
        }
        for (DirBlock.Entry e : blocks.get(b)) {
            if (e.nameString().equals(name)) {
                return e;
            }
        }
        throw new IllegalStateException("directory index out of step for " + name);
    }

    /** Entries in on-media order. */
    List<DirBlock.Entry> list() {
        List<DirBlock.Entry> out = new ArrayList<>(count);
        for (List<DirBlock.Entry> b : blocks) {
            out.addAll(b);
        }
        return out;
    }

    /**
     * Adds an entry (the name must be absent). {@code mapBlock} maps, allocating if needed, a
     * file block of the directory and returns its block; it is called for a new block only.
     */
    void add(DirBlock.Entry e, LongUnaryOperator mapBlock, LongUnaryOperator physOf, Journal journal) {
        int idx = roomy.nextSetBit(0);
        if (idx < 0) {
            idx = blocks.size();
            mapBlock.applyAsLong(idx);
            addBlock(new ArrayList<>());
        }
        blocks.get(idx).add(e);
        used.set(idx, used.get(idx) + e.recordLength());
        blockOf.put(e.nameString(), idx);
        count++;
        updateRoom(idx);
        write(idx, physOf, journal);
    }

    /** Removes the entry named {@code name}; returns it, or null when absent. */
    DirBlock.Entry remove(String name, LongUnaryOperator physOf, Journal journal) {
        Integer idx = blockOf.remove(name);
        if (idx == null) {
            return null;
        }
        List<DirBlock.Entry> list = blocks.get(idx);
        for (int i = 0; i < list.size(); i++) {
            DirBlock.Entry e = list.get(i);
            if (e.nameString().equals(name)) {
                list.remove(i);
                used.set(idx, used.get(idx) - e.recordLength());
                count--;
                updateRoom(idx);
                write(idx, physOf, journal);
                return e;
            }
        }
        throw new IllegalStateException("directory index out of step for " + name);
    }

    /** Points an existing entry at another inode (rename over a name). */
    void replace(String name, long ino, int type, LongUnaryOperator physOf, Journal journal) {
        int idx = blockOf.get(name);
        List<DirBlock.Entry> list = blocks.get(idx);
        for (int i = 0; i < list.size(); i++) {
            DirBlock.Entry e = list.get(i);
            if (e.nameString().equals(name)) {
                list.set(i, new DirBlock.Entry(e.name(), ino, type));
                write(idx, physOf, journal);
                return;
            }
        }
        throw new IllegalStateException("directory index out of step for " + name);
    }

    /** Whether a record for {@code name} fits without a new block. */
    boolean hasRoom() {
        return roomy.nextSetBit(0) >= 0;
    }

    private void write(int idx, LongUnaryOperator physOf, Journal journal) {
        journal.put(physOf.applyAsLong(idx), DirBlock.encode(blocks.get(idx)));
    }
}
