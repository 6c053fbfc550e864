package dev.pmemfs.fs.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pins the journal's on-media records (offsets and sizes of package-info's table) and checks their round trips. */
final class JournalRecordTest {
    @Test
    void transaction_layoutIsPinned() {
        byte[] img = new byte[BlockCrc.BLOCK];
        for (int i = 0; i < img.length; i++) {
            img[i] = (byte) i;
        }
        List<JournalRecord.Range> ranges = List.of(new JournalRecord.Range(77, 3, 2), new JournalRecord.Range(78, 63, 1));
        byte[] tx = JournalRecord.transaction(0x1122334455L, ranges, b -> img);
        assertEquals(64, JournalRecord.LINE);
        assertEquals((1 + 3 + 1) * 64, tx.length); // header, 3 data lines, commit
        ByteBuffer bb = BlockCrc.le(tx);
        assertEquals(BlockCrc.magic("JTX2"), bb.getInt(0));
        assertEquals(2, bb.getInt(4));
        assertEquals(0x1122334455L, bb.getLong(8));
        assertEquals(5, bb.getInt(16));
        assertEquals(BlockCrc.crc(tx, 0, 20), bb.getInt(20));
        assertEquals(77, bb.getInt(24));
        assertEquals(3, bb.getShort(28));
        assertEquals(2, bb.getShort(30));
        assertEquals(78, bb.getInt(32));
        assertEquals(63, bb.getShort(36));
        assertEquals((byte) (3 * 64), tx[64]); // the data of line 3 of block 77 follows the header
        assertEquals((byte) (63 * 64), tx[3 * 64]);
        int c = 4 * 64;
        assertEquals(BlockCrc.magic("JCM2"), bb.getInt(c));
        assertEquals(5, bb.getInt(c + 4));
        assertEquals(0x1122334455L, bb.getLong(c + 8));
        assertEquals(BlockCrc.crc(tx, 0, c), bb.getInt(c + 16));
        assertEquals(BlockCrc.crc(tx, c, 20), bb.getInt(c + 20));
        assertEquals(ranges, JournalRecord.ranges(tx, 0x1122334455L));
        assertNull(JournalRecord.ranges(tx, 0x1122334456L), "another sequence");
        tx[c + 20] ^= 1;
        assertNull(JournalRecord.ranges(tx, 0x1122334455L), "a torn commit line");
    }

    @Test
    void transaction_manyRanges_spillIntoDescriptorLines() {
        List<JournalRecord.Range> ranges = new ArrayList<>();
        for (int i = 0; i < 14; i++) {
            ranges.add(new JournalRecord.Range(100 + i, i, 1));
        }
        assertEquals(3, JournalRecord.descriptorLines(14)); // 5 in the header, 8 + 1 in two more lines
        byte[] tx = JournalRecord.transaction(9, ranges, b -> new byte[BlockCrc.BLOCK]);
        assertEquals((3 + 14 + 1) * 64, tx.length);
        assertEquals(113, BlockCrc.le(tx).getInt(2 * 64)); // range 13: the first of the third line
        assertEquals(ranges, JournalRecord.ranges(tx, 9));
    }

    @Test
    void changes_areRunsOfDifferingLines() {
        byte[] a = new byte[BlockCrc.BLOCK];
        byte[] b = a.clone();
        b[0] = 1;
        b[64 + 5] = 1;
        b[3 * 64] = 1;
        b[4095] = 1;
        assertEquals(List.of(new JournalRecord.Range(5, 0, 2), new JournalRecord.Range(5, 3, 1), new JournalRecord.Range(5, 63, 1)),
                JournalRecord.changes(5, a, b));
        assertEquals(List.of(), JournalRecord.changes(5, a, a.clone()));
    }

    @Test
    void anchor_layoutIsPinned_newerValidSlotWins() {
        byte[] block = new byte[BlockCrc.BLOCK];
        byte[] s1 = JournalRecord.anchor(new JournalRecord.Anchor(7, 300, 42));
        ByteBuffer bb = BlockCrc.le(s1);
        assertEquals(BlockCrc.magic("JANC"), bb.getInt(0));
        assertEquals(7, bb.getLong(8));
        assertEquals(300, bb.getLong(16));
        assertEquals(42, bb.getLong(24));
        assertEquals(BlockCrc.crc(s1, 0, 60), bb.getInt(60));
        assertEquals(1, JournalRecord.anchorSlot(7));
        System.arraycopy(s1, 0, block, 64, 64);
        System.arraycopy(JournalRecord.anchor(new JournalRecord.Anchor(6, 10, 1)), 0, block, 0, 64);
        assertEquals(new JournalRecord.Anchor(7, 300, 42), JournalRecord.anchor(block));
        block[64 + 20] ^= 1; // the newer slot torn: the older one holds
        assertEquals(new JournalRecord.Anchor(6, 10, 1), JournalRecord.anchor(block));
        block[20] ^= 1;
        assertNull(JournalRecord.anchor(block));
    }
}
