package dev.pmemfs.fs.layout;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;

/**
 * The journal's on-media records: the anchor (where the log starts) and transactions of byte
 * ranges, all in 64-byte lines (a CPU cache line: the unit in which pmem persists).
 *
 * <p>The journal's first block holds the anchor; the rest is a circular log of lines. A
 * transaction is a run of lines: a header line, more descriptor lines if it has more than
 * {@link #HEADER_RANGES} ranges, the data lines of every range in order, and one commit line.
 * A range is {@code lines} whole lines of one metadata block from line {@code firstLine}: the
 * lines that changed since the block's last committed version.
 *
 * <pre>
 * anchor slot k (k = 0, 1) at byte 64 * k of the journal's first block:
 *   0 u32 magic "JANC"   8 u64 generation   16 u64 first line of the log   24 u64 its sequence
 *  60 u32 CRC32C of [0, 60)           (the valid slot with the higher generation wins)
 * header line:
 *   0 u32 magic "JTX2"   4 u32 range count   8 u64 sequence   16 u32 lines of the transaction
 *  20 u32 CRC32C of [0, 20)           24.. ranges, 8 bytes each (5 here, 8 per further line)
 * range:   0 u32 block   4 u16 first line   6 u16 line count
 * commit line:
 *   0 u32 magic "JCM2"   4 u32 lines of the transaction   8 u64 sequence
 *  16 u32 CRC32C of every line before the commit line   20 u32 CRC32C of [0, 20)
 * </pre>
 * A transaction counts only with its commit line whole: a torn one fails a checksum.
 */
public final class JournalRecord {
    public static final int LINE = 64;
    public static final int LINES_PER_BLOCK = BlockCrc.BLOCK / LINE;
    public static final int ANCHOR_MAGIC = BlockCrc.magic("JANC");
    public static final int HEADER_MAGIC = BlockCrc.magic("JTX2");
    public static final int COMMIT_MAGIC = BlockCrc.magic("JCM2");
    /** Ranges described in the header line itself. */
    public static final int HEADER_RANGES = 5;
    /** Ranges per further descriptor line. */
    public static final int RANGES_PER_LINE = LINE / 8;

    private JournalRecord() {
    }

    /** Lines {@code firstLine .. firstLine + lines - 1} of metadata block {@code block}. */
    public record Range(long block, int firstLine, int lines) {
        public Range {
            if (block < 0 || block > 0xffff_ffffL || firstLine < 0 || lines < 1 || firstLine + lines > LINES_PER_BLOCK) {
                throw new IllegalArgumentException("bad journal range " + block + ":" + firstLine + "+" + lines);
            }
        }
    }

    /** Descriptor lines of a transaction with {@code ranges} ranges (the header line included). */
    public static int descriptorLines(int ranges) {
        return 1 + Math.max(0, (ranges - HEADER_RANGES + RANGES_PER_LINE - 1) / RANGES_PER_LINE);
    }

    /** Lines of a transaction: descriptors, data, commit. */
    public static int lines(int ranges, int dataLines) {
        return descriptorLines(ranges) + dataLines + 1;
    }

    /** The lines of {@code block}'s image that differ from {@code base}, as runs of whole lines. */
    public static List<Range> changes(long block, byte[] base, byte[] image) {
        List<Range> out = new ArrayList<>(2);
        int start = -1;
        for (int l = 0; l <= LINES_PER_BLOCK; l++) {
            boolean differs = l < LINES_PER_BLOCK
                    && !java.util.Arrays.equals(base, l * LINE, (l + 1) * LINE, image, l * LINE, (l + 1) * LINE);
            if (differs && start < 0) {
                start = l;
            } else if (!differs && start >= 0) {
                out.add(new Range(block, start, l - start));
                start = -1;
            }
        }
        return out;
    }

    /** Encodes transaction {@code seq}: the ranges, their lines taken from {@code image.apply(block)}, a commit line. */
    public static byte[] transaction(long seq, List<Range> ranges, LongFunction<byte[]> image) {
        int data = 0;
        for (Range r : ranges) {
            data += r.lines();
        }
        int n = lines(ranges.size(), data);
        byte[] tx = new byte[n * LINE];
        ByteBuffer bb = BlockCrc.le(tx);
        bb.putInt(0, HEADER_MAGIC).putInt(4, ranges.size()).putLong(8, seq).putInt(16, n);
        bb.putInt(20, BlockCrc.crc(tx, 0, 20));
        int at = descriptorLines(ranges.size()) * LINE;
        for (int i = 0; i < ranges.size(); i++) {
            Range r = ranges.get(i);
            int d = rangeOffset(i);
            bb.putInt(d, (int) r.block()).putShort(d + 4, (short) r.firstLine()).putShort(d + 6, (short) r.lines());
            System.arraycopy(image.apply(r.block()), r.firstLine() * LINE, tx, at, r.lines() * LINE);
            at += r.lines() * LINE;
        }
        bb.putInt(at, COMMIT_MAGIC).putInt(at + 4, n).putLong(at + 8, seq).putInt(at + 16, BlockCrc.crc(tx, 0, at));
        bb.putInt(at + 20, BlockCrc.crc(tx, at, 20));
        return tx;
    }

    private static int rangeOffset(int i) {
        return i < HEADER_RANGES ? 24 + 8 * i : LINE * (1 + (i - HEADER_RANGES) / RANGES_PER_LINE) + 8 * ((i - HEADER_RANGES) % RANGES_PER_LINE);
    }

    /** The transaction's line count if {@code line} (64 bytes at {@code off}) is a good header of sequence {@code seq}, else -1. */
    public static int headerLines(byte[] line, int off, long seq) {
        ByteBuffer bb = BlockCrc.le(line);
        if (bb.getInt(off) != HEADER_MAGIC || bb.getLong(off + 8) != seq || bb.getInt(off + 20) != BlockCrc.crc(line, off, 20)) {
            return -1;
        }
        int n = bb.getInt(off + 16);
        int ranges = bb.getInt(off + 4);
        return ranges < 0 || n < 2 || descriptorLines(ranges) + 1 > n ? -1 : n;
    }

    /** The sequence in a header line (not checked). */
    public static long headerSequence(byte[] line, int off) {
        return BlockCrc.le(line).getLong(off + 8);
    }

    /**
     * The ranges of a whole transaction {@code tx} of sequence {@code seq}, or null when it is
     * torn or damaged: a bad commit line, checksum, or range list.
     */
    public static List<Range> ranges(byte[] tx, long seq) {
        int n = tx.length / LINE;
        if (headerLines(tx, 0, seq) != n) {
            return null;
        }
        ByteBuffer bb = BlockCrc.le(tx);
        int c = (n - 1) * LINE;
        if (bb.getInt(c) != COMMIT_MAGIC || bb.getInt(c + 4) != n || bb.getLong(c + 8) != seq
                || bb.getInt(c + 20) != BlockCrc.crc(tx, c, 20) || bb.getInt(c + 16) != BlockCrc.crc(tx, 0, c)) {
            return null;
        }
        int count = bb.getInt(4);
        List<Range> out = new ArrayList<>(count);
        int data = 0;
        for (int i = 0; i < count; i++) {
            int d = rangeOffset(i);
            int first = Short.toUnsignedInt(bb.getShort(d + 4));
            int lines = Short.toUnsignedInt(bb.getShort(d + 6));
            if (lines < 1 || first + lines > LINES_PER_BLOCK) {
                return null;
            }
            out.add(new Range(Integer.toUnsignedLong(bb.getInt(d)), first, lines));
            data += lines;
        }
        return lines(count, data) == n ? out : null;
    }

    /** Byte offset in {@code tx} of the first data line (the data of the ranges follows in order). */
    public static int dataOffset(int ranges) {
        return descriptorLines(ranges) * LINE;
    }

    /** Where the log starts: {@code generation} orders the two slots. */
    public record Anchor(long generation, long firstLine, long sequence) {
    }

    /** The 64-byte anchor slot for {@code a}. */
    public static byte[] anchor(Anchor a) {
        byte[] b = new byte[LINE];
        ByteBuffer bb = BlockCrc.le(b);
        bb.putInt(0, ANCHOR_MAGIC).putLong(8, a.generation()).putLong(16, a.firstLine()).putLong(24, a.sequence());
        bb.putInt(60, BlockCrc.crc(b, 0, 60));
        return b;
    }

    /** The slot (0 or 1) the anchor of generation {@code generation} goes to. */
    public static int anchorSlot(long generation) {
        return (int) (generation & 1);
    }

    /** The newer valid anchor of the journal's first block {@code block}, or null when neither slot is valid. */
    public static Anchor anchor(byte[] block) {
        Anchor best = null;
        for (int k = 0; k < 2; k++) {
            Anchor a = anchorSlot(block, k * LINE);
            if (a != null && (best == null || a.generation() > best.generation())) {
                best = a;
            }
        }
        return best;
    }

    /** Whether the slot at {@code off} is neither valid nor blank: damage, not a fresh journal. */
    public static boolean anchorSlotDamaged(byte[] block, int off) {
        if (anchorSlot(block, off) != null) {
            return false;
        }
        for (int i = off; i < off + LINE; i++) {
            if (block[i] != 0) {
                return true;
            }
        }
        return false;
    }

    private static Anchor anchorSlot(byte[] b, int off) {
        ByteBuffer bb = BlockCrc.le(b);
        if (bb.getInt(off) != ANCHOR_MAGIC || bb.getInt(off + 60) != BlockCrc.crc(b, off, 60)) {
            return null;
        }
        return new Anchor(bb.getLong(off + 8), bb.getLong(off + 16), bb.getLong(off + 24));
    }
}
