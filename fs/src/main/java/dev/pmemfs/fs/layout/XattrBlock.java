package dev.pmemfs.fs.layout;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The extended attributes of one inode: {@code u32 count}, then per attribute
 * {@code u8 name length, u16 value length, name, value}; CRC trailer (magic "XAT1").
 */
public final class XattrBlock {
    public static final int MAGIC = BlockCrc.magic("XAT1");

    private XattrBlock() {
    }

    /** Bytes the attributes take, to compare with {@link BlockCrc#PAYLOAD}. */
    public static int encodedSize(Map<String, byte[]> attrs) {
        int n = 4;
        for (var e : attrs.entrySet()) {
            n += 3 + e.getKey().getBytes(StandardCharsets.UTF_8).length + e.getValue().length;
        }
        return n;
    }

    public static byte[] encode(Map<String, byte[]> attrs) {
        byte[] b = new byte[BlockCrc.BLOCK];
        ByteBuffer bb = BlockCrc.le(b);
        bb.putInt(0, attrs.size());
        int off = 4;
        for (var e : attrs.entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            byte[] value = e.getValue();
            b[off] = (byte) name.length;
            bb.putShort(off + 1, (short) value.length);
            System.arraycopy(name, 0, b, off + 3, name.length);
            System.arraycopy(value, 0, b, off + 3 + name.length, value.length);
            off += 3 + name.length + value.length;
        }
        BlockCrc.seal(b, MAGIC);
        return b;
    }

    public static boolean valid(byte[] b) {
        return BlockCrc.valid(b, MAGIC);
    }

    public static Map<String, byte[]> decode(byte[] b) {
        ByteBuffer bb = BlockCrc.le(b);
        int n = bb.getInt(0);
        Map<String, byte[]> out = new LinkedHashMap<>();
        int off = 4;
        for (int i = 0; i < n; i++) {
            int nl = b[off] & 0xff;
            int vl = bb.getShort(off + 1) & 0xffff;
            if (off + 3 + nl + vl > BlockCrc.PAYLOAD) {
                throw new IllegalArgumentException("malformed xattr record at " + off);
            }
            String name = new String(b, off + 3, nl, StandardCharsets.UTF_8);
            out.put(name, java.util.Arrays.copyOfRange(b, off + 3 + nl, off + 3 + nl + vl));
            off += 3 + nl + vl;
        }
        return out;
    }
}
