package dev.pmemfs.fs.core;

import dev.pmemfs.device.Region;
import dev.pmemfs.fs.layout.BlockCrc;
import dev.pmemfs.fs.layout.Geometry;
import dev.pmemfs.fs.layout.JournalRecord;
import dev.pmemfs.fs.layout.JournalRecord.Anchor;
import dev.pmemfs.fs.layout.JournalRecord.Range;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The journal area on the media, read side: the anchor, and the chain of committed
 * transactions that follows it around the circular log. Replay and fsck read the log through
 * this class; {@link Journal} writes it.
 *
 * <p>The chain starts at the anchor's line and sequence. Each next transaction carries the
 * next sequence and lies right after the previous one, or at the log's line 0 when it did not
 * fit before the log's end (the writer never splits a transaction). The chain ends at the first
 * sequence that is missing, torn or damaged. Sequences are never reused: each mount starts a
 * random one, so a stale transaction left from an earlier pass cannot be mistaken for the next.
 *
 * <p>Stateless apart from the region it reads; not thread safe.
 */
final class JournalLog {
    /** One committed transaction: where it lies, its sequence, ranges and raw lines. */
    record Tx(long seq, long line, int lines, List<Range> ranges, byte[] bytes) {
    }

    /** The chain read from the anchor: its transactions and where the next one would go. */
    record Chain(Anchor anchor, List<Tx> txs, long endLine, long nextSeq) {
    }

    private final Region region;
    private final Geometry geo;
    /** Lines of the circular log (the journal less its anchor block). */
    final long lines;

    JournalLog(Region region, Geometry geo) {
        this.region = region;
        this.geo = geo;
        this.lines = (geo.journalBlocks() - 1) * JournalRecord.LINES_PER_BLOCK;
    }

    /** Byte offset in the region of log line {@code line}. */
    long offset(long line) {
        return (geo.journalStart() + 1) * BlockCrc.BLOCK + line * JournalRecord.LINE;
    }

    byte[] anchorBlock() {
        byte[] b = new byte[BlockCrc.BLOCK];
        region.read(geo.journalStart() * BlockCrc.BLOCK, b, 0, b.length);
        return b;
    }

    /** Writes and persists anchor {@code a} in its slot. */
    void writeAnchor(Anchor a) {
        long at = geo.journalStart() * BlockCrc.BLOCK + (long) JournalRecord.anchorSlot(a.generation()) * JournalRecord.LINE;
        byte[] slot = JournalRecord.anchor(a);
        region.write(at, slot, 0, slot.length);
        region.persist(at, slot.length);
    }

    /** Whether a metadata block may be a journal target: not the superblocks, not the journal. */
    boolean isTarget(long block) {
        return block >= geo.inodeBitmapStart() && block < geo.backupSuperblock();
    }

    /** The transaction {@code seq} if one lies whole at {@code line}, else null. */
    Tx read(long line, long seq) {
        if (line < 0 || line >= lines) {
            return null;
        }
        byte[] head = new byte[JournalRecord.LINE];
        region.read(offset(line), head, 0, head.length);
        int n = JournalRecord.headerLines(head, 0, seq);
        if (n < 0 || line + n > lines) {
            return null;
        }
        byte[] tx = new byte[n * JournalRecord.LINE];
        region.read(offset(line), tx, 0, tx.length);
        List<Range> ranges = JournalRecord.ranges(tx, seq);
        if (ranges == null) {
            return null;
        }
        for (Range r : ranges) {
            if (!isTarget(r.block())) {
                return null;
            }
        }
        return new Tx(seq, line, n, ranges, tx);
    }

    /** The transaction {@code seq} that follows a chain ending at {@code line}, or null. */
    Tx next(long line, long seq) {
        Tx t = read(line, seq);
        return t != null || line == 0 ? t : read(0, seq);
    }

    /** The chain of committed transactions from the anchor (empty, with a null anchor, when there is none). */
    Chain chain() {
        Anchor a = JournalRecord.anchor(anchorBlock());
        List<Tx> txs = new ArrayList<>();
        if (a == null) {
            return new Chain(null, txs, 0, 0);
        }
        long line = Math.floorMod(a.firstLine(), lines);
        long seq = a.sequence();
        while (txs.size() < lines) {
            Tx t = next(line, seq);
            if (t == null) {
                break;
            }
            txs.add(t);
            line = (t.line() + t.lines()) % lines;
            seq++;
        }
        return new Chain(a, txs, line, seq);
    }

    /**
     * Redoes the chain: applies every range in order to the home blocks' images, writes the
     * changed lines home, persists them, then moves the anchor past the chain. Idempotent: a
     * crash before the anchor moves replays the same chain again. Returns the blocks written.
     */
    int redo(Chain c) {
        Map<Long, byte[]> images = new TreeMap<>();
        Map<Long, Long> changed = new TreeMap<>();
        for (Tx t : c.txs()) {
            int at = JournalRecord.dataOffset(t.ranges().size());
            for (Range r : t.ranges()) {
                byte[] img = images.computeIfAbsent(r.block(), b -> {
                    byte[] home = new byte[BlockCrc.BLOCK];
                    region.read(b * BlockCrc.BLOCK, home, 0, home.length);
                    return home;
                });
                int len = r.lines() * JournalRecord.LINE;
                System.arraycopy(t.bytes(), at, img, r.firstLine() * JournalRecord.LINE, len);
                at += len;
                changed.merge(r.block(), lineMask(r.firstLine(), r.lines()), (x, y) -> x | y);
            }
        }
        writeHome(region, images, changed);
        writeAnchor(new Anchor(c.anchor().generation() + 1, c.endLine(), c.nextSeq()));
        return images.size();
    }

    static long lineMask(int first, int count) {
        return count == 64 ? -1L : ((1L << count) - 1) << first;
    }

    /**
     * Writes home, for each block, the lines from its first to its last changed one (one store
     * per block, so a block's wear count grows by one per checkpoint), and persists each run of
     * consecutive blocks.
     */
    static void writeHome(Region region, Map<Long, byte[]> images, Map<Long, Long> changed) {
        long runStart = -1;
        long runEnd = -1;
        for (Map.Entry<Long, Long> e : new TreeMap<>(changed).entrySet()) {
            long block = e.getKey();
            long mask = e.getValue();
            if (mask == 0) {
                continue;
            }
            int first = Long.numberOfTrailingZeros(mask);
            int last = 63 - Long.numberOfLeadingZeros(mask);
            long at = block * BlockCrc.BLOCK + (long) first * JournalRecord.LINE;
            int len = (last - first + 1) * JournalRecord.LINE;
            region.write(at, images.get(block), first * JournalRecord.LINE, len);
            if (block != runEnd + 1 && runStart >= 0) {
                region.persist(runStart * BlockCrc.BLOCK, (runEnd - runStart + 1) * BlockCrc.BLOCK);
                runStart = -1;
            }
            if (runStart < 0) {
                runStart = block;
            }
            runEnd = block;
        }
        if (runStart >= 0) {
            region.persist(runStart * BlockCrc.BLOCK, (runEnd - runStart + 1) * BlockCrc.BLOCK);
        }
    }

    /**
     * Problems of the log that replay cannot see, for fsck: an anchor whose copies are both
     * damaged, and a damaged transaction with committed ones after it (a torn last transaction
     * is the normal trace of a crash and is not reported).
     */
    List<String> problems(Chain c) {
        List<String> out = new ArrayList<>();
        byte[] block = anchorBlock();
        if (c.anchor() == null) {
            if (JournalRecord.anchorSlotDamaged(block, 0) || JournalRecord.anchorSlotDamaged(block, JournalRecord.LINE)) {
                out.add("journal: anchor at block " + geo.journalStart() + " is damaged (no valid copy); the log was not replayed");
            }
            return out;
        }
        long later = 0;
        byte[] line = new byte[JournalRecord.LINE];
        for (long l = 0; l < lines; l++) {
            region.read(offset(l), line, 0, line.length);
            long s = JournalRecord.headerSequence(line, 0);
            long ahead = s - c.nextSeq();
            if (ahead > 0 && ahead <= lines && JournalRecord.headerLines(line, 0, s) > 0) {
                later++;
            }
        }
        if (later > 0) {
            out.add("journal: transaction " + c.nextSeq() + " after line " + c.endLine() + " is damaged; " + later
                    + " committed transaction(s) after it were not replayed");
        }
        return out;
    }
}
