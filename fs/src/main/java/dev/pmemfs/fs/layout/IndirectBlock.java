package dev.pmemfs.fs.layout;

/** A block of 511 block pointers (0 = hole) with the CRC trailer (magic "IND1"). */
public final class IndirectBlock {
    public static final int POINTERS = BlockCrc.PAYLOAD / 8;
    public static final int MAGIC = BlockCrc.magic("IND1");

    private IndirectBlock() {
    }

    public static long get(byte[] b, int i) {
        return BlockCrc.le(b).getLong(i * 8);
    }

    /** Sets pointer {@code i} and reseals the block. */
    public static void set(byte[] b, int i, long value) {
        BlockCrc.le(b).putLong(i * 8, value);
        BlockCrc.seal(b, MAGIC);
    }

    /** Sets pointer {@code i} without resealing; call {@link #seal} after a batch. */
    public static void setRaw(byte[] b, int i, long value) {
        BlockCrc.le(b).putLong(i * 8, value);
    }

    public static void seal(byte[] b) {
        BlockCrc.seal(b, MAGIC);
    }

    /** An empty indirect block (all holes), sealed. */
    public static byte[] empty() {
        byte[] b = new byte[BlockCrc.BLOCK];
        BlockCrc.seal(b, MAGIC);
        return b;
    }

    public static boolean valid(byte[] b) {
        return BlockCrc.valid(b, MAGIC);
    }
}
