package dev.pmemfs.fs.layout;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A directory block: packed records {@code u64 inode, u16 length, u8 name length, u8 type,
 * name}, padded to 8 bytes, ended by a zero inode or the trailer (magic "DIR1").
 */
public final class DirBlock {
    public static final int MAGIC = BlockCrc.magic("DIR1");
    public static final int HEADER = 12;
    public static final int MAX_NAME = 255;
    /** Types as in struct dirent's d_type. */
    public static final int DT_REG = 8;
    public static final int DT_DIR = 4;
    public static final int DT_LNK = 10;
    public static final int DT_FIFO = 1;
    public static final int DT_CHR = 2;
    public static final int DT_BLK = 6;
    public static final int DT_SOCK = 12;

    /** One entry: a name (raw bytes) and the inode it names. */
    public record Entry(byte[] name, long ino, int type) {
        public String nameString() {
            return new String(name, StandardCharsets.UTF_8);
        }

        public int recordLength() {
            return DirBlock.recordLength(name.length);
        }
    }

    private DirBlock() {
    }

    public static int recordLength(int nameLength) {
        return (HEADER + nameLength + 7) & ~7;
    }

    public static byte[] encode(List<Entry> entries) {
        byte[] b = new byte[BlockCrc.BLOCK];
        ByteBuffer bb = BlockCrc.le(b);
        int off = 0;
        for (Entry e : entries) {
            int len = e.recordLength();
            if (off + len > BlockCrc.PAYLOAD) {
                throw new IllegalArgumentException("directory block overflow");
            }
            bb.putLong(off, e.ino()).putShort(off + 8, (short) len);
            b[off + 10] = (byte) e.name().length;
            b[off + 11] = (byte) e.type();
            System.arraycopy(e.name(), 0, b, off + HEADER, e.name().length);
            off += len;
        }
        BlockCrc.seal(b, MAGIC);
        return b;
    }

    public static boolean valid(byte[] b) {
        return BlockCrc.valid(b, MAGIC);
    }

    /** The entries of a block; throws IllegalArgumentException on a malformed record. */
    public static List<Entry> decode(byte[] b) {
        ByteBuffer bb = BlockCrc.le(b);
        List<Entry> out = new ArrayList<>();
        int off = 0;
        while (off + HEADER <= BlockCrc.PAYLOAD) {
            long ino = bb.getLong(off);
            if (ino == 0) {
                break;
            }
            int len = bb.getShort(off + 8) & 0xffff;
            int nameLen = b[off + 10] & 0xff;
            if (nameLen == 0 || len != recordLength(nameLen) || off + len > BlockCrc.PAYLOAD) {
                throw new IllegalArgumentException("malformed directory record at " + off);
            }
            byte[] name = java.util.Arrays.copyOfRange(b, off + HEADER, off + HEADER + nameLen);
            out.add(new Entry(name, ino, b[off + 11] & 0xff));
            off += len;
        }
        return out;
    }
}
