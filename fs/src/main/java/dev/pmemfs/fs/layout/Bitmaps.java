package dev.pmemfs.fs.layout;

import java.util.BitSet;

/** Allocation bitmap blocks: 32704 bits each, then the CRC trailer (magic "BMP1"). */
public final class Bitmaps {
    public static final int BITS_PER_BLOCK = BlockCrc.PAYLOAD * 8;
    public static final int MAGIC = BlockCrc.magic("BMP1");

    private Bitmaps() {
    }

    /** Encodes bits [{@code index * BITS_PER_BLOCK}, +BITS_PER_BLOCK) of {@code bits} as bitmap block {@code index}. */
    public static byte[] encode(BitSet bits, long index) {
        byte[] b = new byte[BlockCrc.BLOCK];
        int base = (int) (index * BITS_PER_BLOCK);
        for (int i = bits.nextSetBit(base); i >= 0 && i < base + BITS_PER_BLOCK; i = bits.nextSetBit(i + 1)) {
            int bit = i - base;
            b[bit >>> 3] |= (byte) (1 << (bit & 7));
        }
        BlockCrc.seal(b, MAGIC);
        return b;
    }

    /** Adds the set bits of bitmap block {@code index} to {@code bits}. */
    public static void decode(byte[] b, long index, BitSet bits) {
        int base = (int) (index * BITS_PER_BLOCK);
        for (int i = 0; i < BlockCrc.PAYLOAD; i++) {
            int v = b[i] & 0xff;
            while (v != 0) {
                int bit = Integer.numberOfTrailingZeros(v);
                bits.set(base + i * 8 + bit);
                v &= v - 1;
            }
        }
    }

    /** Sets or clears one bit in an encoded bitmap block, and reseals it. */
    public static void set(byte[] b, long bitInBlock, boolean value) {
        int i = (int) (bitInBlock >>> 3);
        int mask = 1 << (bitInBlock & 7);
        b[i] = (byte) (value ? (b[i] | mask) : (b[i] & ~mask));
        BlockCrc.seal(b, MAGIC);
    }

    public static boolean get(byte[] b, long bitInBlock) {
        return (b[(int) (bitInBlock >>> 3)] & (1 << (bitInBlock & 7))) != 0;
    }
}
