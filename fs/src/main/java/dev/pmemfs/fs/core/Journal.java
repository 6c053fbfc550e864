package dev.pmemfs.fs.core;

import dev.pmemfs.device.Region;
import dev.pmemfs.fs.layout.BlockCrc;
import dev.pmemfs.fs.layout.Geometry;
import dev.pmemfs.fs.layout.JournalRecord;
import dev.pmemfs.fs.layout.JournalRecord.Anchor;
import dev.pmemfs.fs.layout.JournalRecord.Range;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metadata journal and the running transaction: a redo log of the 64-byte lines of
 * metadata blocks that changed, in the spirit of PMFS's cache-line log entries and ext4's fast
 * commits, over a circular log.
 *
 * <p>Every metadata change edits an in-memory image of its block in the running transaction;
 * reads see the running images first, then committed ones not yet written home, then the media.
 * {@link #commit} compares each image with the block's last committed version (or its home
 * block) line by line and appends only the lines that differ, as ranges, to the log, with one
 * commit line whose CRC32C covers the whole transaction, and persists that (one barrier: a torn
 * transaction fails its CRC and is ignored). A 4 KiB append with fsync thus logs the inode's
 * changed lines, a bitmap word's line and an indirect slot's line with their checksums, not
 * three 4 KiB images. The changed lines go to their home blocks only at a checkpoint, when the
 * log is full or at unmount: a line changed by a thousand commits is written home once.
 *
 * <p>The log rotates: transactions follow one another around the journal, and a checkpoint
 * moves the anchor (the journal's first block, two alternating checksummed copies) to where the
 * log goes on, instead of restarting it at the journal's first line; so the journal's blocks
 * wear evenly and no fixed block is written per commit. {@link #replay} follows the chain from
 * the anchor ({@link JournalLog}) and redoes it; redo of whole lines is idempotent, so a crash
 * during replay or checkpoint is harmless.
 *
 * <p>Block images are reused: an image that no map refers to any more (a committed image
 * replaced by a newer one, a transaction image that changed nothing, the committed images at a
 * checkpoint) goes to a small pool that {@link #modify} draws from. A 4 KiB append with fsync
 * otherwise allocated about 16 KB of images per commit, which made the young collections of a
 * log workload frequent (measured with JFR's allocation samples: 80 % of the daemon's
 * allocation). Hence an image returned by {@link #peek} is valid until the next commit or
 * checkpoint only; no caller keeps one longer.
 *
 * <p>Not thread safe: guarded by the filesystem's lock.
 */
final class Journal {
    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);
    /** Images kept for reuse: more than a transaction of a few operations touches. */
    private static final int SPARE = 64;

    private final Region region;
    private final Geometry geo;
    private final JournalLog log;
    private final Map<Long, byte[]> tx = new LinkedHashMap<>();
    /** Committed images not yet written home; never mutated (modify copies). */
    private final Map<Long, byte[]> committed = new HashMap<>();
    /** Per block of {@link #committed}: the lines changed since the last checkpoint (bit i: line i). */
    private final Map<Long, Long> changedLines = new HashMap<>();
    /** Images no map refers to, for reuse (see the class comment). */
    private final ArrayDeque<byte[]> spare = new ArrayDeque<>();
    /** A block's home bytes, read at commit to compare a transaction image with. */
    private final byte[] home = new byte[BlockCrc.BLOCK];
    /** The log line where the next transaction goes. */
    private long head;
    /** Log lines in use since the anchor (transactions and the gaps left where one wrapped). */
    private long used;
    private long generation;
    private long seq = ThreadLocalRandom.current().nextLong() >>> 1;
    private long commits;
    private long checkpoints;
    private long loggedBytes;
    /** Run after every checkpoint (the allocator releases blocks freed by committed transactions). */
    private Runnable afterCheckpoint = () -> { };

    /**
     * Opens the journal after {@link #replay}: the log goes on where the anchor points, with a
     * new random sequence, recorded in a new anchor (so nothing left in the log can pass for the
     * next transaction).
     */
    Journal(Region region, Geometry geo) {
        this.region = region;
        this.geo = geo;
        this.log = new JournalLog(region, geo);
        Anchor a = JournalRecord.anchor(log.anchorBlock());
        this.generation = a == null ? 0 : a.generation();
        this.head = a == null ? 0 : Math.floorMod(a.firstLine(), log.lines);
        moveAnchor();
    }

    /** Sets what runs after every checkpoint, also the ones a full log forces inside {@link #commit}. */
    void onCheckpoint(Runnable r) {
        this.afterCheckpoint = r;
    }

    private void moveAnchor() {
        generation++;
        log.writeAnchor(new Anchor(generation, head, seq));
        used = 0;
    }

    /**
     * Blocks a transaction surely fits with: each costs at most its 64 lines and four descriptor
     * lines (32 ranges of alternating lines). What must fit in the log is the lines that changed,
     * checked at commit; this bound only decides when to commit early.
     */
    int capacity() {
        return (int) ((log.lines - 2) / (JournalRecord.LINES_PER_BLOCK + 4));
    }

    /** Whether the running transaction should be committed before another operation starts. */
    boolean nearlyFull() {
        return tx.size() > capacity() / 2;
    }

    boolean isEmpty() {
        return tx.isEmpty();
    }

    int pending() {
        return tx.size();
    }

    /** Bytes of transactions written to the log since the mount (records, data lines, commit lines). */
    long loggedBytes() {
        return loggedBytes;
    }

    long commits() {
        return commits;
    }

    long checkpoints() {
        return checkpoints;
    }

    private byte[] current(long block) {
        byte[] img = tx.get(block);
        return img != null ? img : committed.get(block);
    }

    /** The current image of a block, for reading only, valid until the next commit or checkpoint. */
    byte[] peek(long block) {
        byte[] img = current(block);
        if (img != null) {
            return img;
        }
        byte[] b = new byte[BlockCrc.BLOCK];
        region.read(block * BlockCrc.BLOCK, b, 0, b.length);
        return b;
    }

    /** Reads {@code length} bytes at {@code offset} of a block into {@code dst}. */
    void read(long block, int offset, byte[] dst, int length) {
        byte[] img = current(block);
        if (img != null) {
            System.arraycopy(img, offset, dst, 0, length);
        } else {
            region.read(block * BlockCrc.BLOCK + offset, dst, 0, length);
        }
    }

    long getLong(long block, int offset) {
        byte[] img = current(block);
        return img != null ? BlockCrc.le(img).getLong(offset) : region.getLong(block * BlockCrc.BLOCK + offset);
    }

    /** {@code n} longs of a block from {@code offset} on into {@code dst} from {@code at}: one image lookup for all. */
    void getLongs(long block, int offset, long[] dst, int at, int n) {
        byte[] img = current(block);
        if (img != null) {
            ByteBuffer b = BlockCrc.le(img);
            for (int k = 0; k < n; k++) {
                dst[at + k] = b.getLong(offset + k * 8);
            }
        } else {
            long base = block * BlockCrc.BLOCK + offset;
            for (int k = 0; k < n; k++) {
                dst[at + k] = region.getLong(base + k * 8L);
            }
        }
    }

    /** The transaction's image of a block, created from the current one on first use; edit it in place. */
    byte[] modify(long block) {
        checkMetadataBlock(block);
        byte[] img = tx.get(block);
        if (img == null) {
            img = spare.isEmpty() ? new byte[BlockCrc.BLOCK] : spare.pop();
            byte[] base = committed.get(block);
            if (base != null) {
                System.arraycopy(base, 0, img, 0, img.length);
            } else {
                region.read(block * BlockCrc.BLOCK, img, 0, img.length);
            }
            tx.put(block, img);
        }
        return img;
    }

    /** Keeps an image no map refers to any more for {@link #modify}; the pool holds 64 at most. */
    private void recycle(byte[] img) {
        if (img.length == BlockCrc.BLOCK && spare.size() < SPARE) {
            spare.push(img);
        }
    }

    /** Replaces a block's image in the transaction. */
    void put(long block, byte[] image) {
        checkMetadataBlock(block);
        tx.put(block, image);
    }

    private void checkMetadataBlock(long block) {
        if (block <= geo.journalStart() + geo.journalBlocks() - 1 && block >= geo.journalStart() || block == 0
                || block >= geo.backupSuperblock()) {
            throw new IllegalStateException("metadata write to reserved block " + block);
        }
    }

    /** Commits the running transaction; {@code ordered} runs first (data before the metadata that points to it). */
    void commit(Runnable ordered) {
        if (tx.isEmpty()) {
            return;
        }
        ordered.run();
        List<Range> ranges = new ArrayList<>();
        for (Map.Entry<Long, byte[]> e : tx.entrySet()) {
            byte[] base = committed.get(e.getKey());
            if (base == null) {
                region.read(e.getKey() * BlockCrc.BLOCK, home, 0, home.length);
                base = home;
            }
            ranges.addAll(JournalRecord.changes(e.getKey(), base, e.getValue()));
        }
        if (!ranges.isEmpty()) {
            append(ranges);
        }
        for (Range r : ranges) {
            byte[] img = tx.get(r.block());
            byte[] old = committed.put(r.block(), img);
            if (old != null && old != img) {
                recycle(old);
            }
            changedLines.merge(r.block(), JournalLog.lineMask(r.firstLine(), r.lines()), (x, y) -> x | y);
        }
        for (Map.Entry<Long, byte[]> e : tx.entrySet()) {
            if (committed.get(e.getKey()) != e.getValue()) { // changed nothing: no map keeps it
                recycle(e.getValue());
            }
        }
        tx.clear();
        commits++;
    }

    /** Writes one transaction of {@code ranges} to the log and persists it, checkpointing first when the log is full. */
    private void append(List<Range> ranges) {
        byte[] bytes = JournalRecord.transaction(seq, ranges, tx::get);
        long n = bytes.length / JournalRecord.LINE;
        if (n > log.lines) {
            throw new IllegalStateException("transaction of " + n + " lines exceeds the log (" + log.lines + ")");
        }
        long at = head + n <= log.lines ? head : 0;
        if (used > 0 && used + (at - head + log.lines) % log.lines + n > log.lines) {
            checkpoint();
            at = head + n <= log.lines ? head : 0;
        }
        used += (at - head + log.lines) % log.lines + n;
        region.write(log.offset(at), bytes, 0, bytes.length);
        region.persist(log.offset(at), bytes.length);
        head = (at + n) % log.lines;
        seq++;
        loggedBytes += bytes.length;
    }

    /**
     * Writes the changed lines of every committed block home, persists them, then moves the
     * anchor to where the log goes on. Called when the log is full and at unmount.
     */
    void checkpoint() {
        if (committed.isEmpty() && used == 0) {
            return;
        }
        JournalLog.writeHome(region, committed, changedLines);
        moveAnchor();
        committed.values().forEach(this::recycle);
        committed.clear();
        changedLines.clear();
        checkpoints++;
        afterCheckpoint.run();
    }

    /**
     * Redoes the committed transactions left in the journal by a crash: follows the chain from
     * the anchor, writes the changed lines home and moves the anchor past them. Returns the
     * number of blocks written home, or -1 when the journal held no committed transaction.
     */
    static int replay(Region region, Geometry geo) {
        JournalLog log = new JournalLog(region, geo);
        JournalLog.Chain c = log.chain();
        if (c.txs().isEmpty()) {
            return -1;
        }
        int blocks = log.redo(c);
        LOG.debug("replayed {} transactions, {} blocks", c.txs().size(), blocks);
        return blocks;
    }

    /** What fsck reports about the log before it is replayed (see {@link JournalLog#problems}). */
    static List<String> problems(Region region, Geometry geo) {
        JournalLog log = new JournalLog(region, geo);
        return log.problems(log.chain());
    }

    @Override
    public String toString() {
        return "Journal[pending=" + tx.size() + ", committed=" + committed.size() + ", head=" + head
                + ", used=" + used + ", commits=" + commits + "]";
    }
}
