package dev.pmemfs.fs.layout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The trailer shared by checksummed metadata blocks: a CRC32C of bytes [0, 4088) at 4088 and
 * a magic number at 4092 that names the block's kind.
 */
public final class BlockCrc {
    public static final int BLOCK = 4096;
    /** Bytes of payload before the trailer. */
    public static final int PAYLOAD = 4088;

    private BlockCrc() {
    }

    public static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    public static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    /** Writes the trailer of {@code block} for a block of kind {@code magic}. */
    public static void seal(byte[] block, int magic) {
        ByteBuffer bb = le(block);
        bb.putInt(PAYLOAD, crc(block, 0, PAYLOAD));
        bb.putInt(PAYLOAD + 4, magic);
    }

    /** Whether {@code block} has a good trailer of kind {@code magic}. */
    public static boolean valid(byte[] block, int magic) {
        ByteBuffer bb = le(block);
        return bb.getInt(PAYLOAD + 4) == magic && bb.getInt(PAYLOAD) == crc(block, 0, PAYLOAD);
    }

    /** A magic number from four ASCII characters, as it reads in a hex dump. */
    public static int magic(String four) {
        byte[] b = four.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
    }
}
