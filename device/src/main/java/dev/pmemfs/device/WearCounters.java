package dev.pmemfs.device;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.CRC32C;

/**
 * Wear of a region: bytes stored, stores per 4 KiB block, persist barriers, kept across
 * reopens in the wear area at the region's tail.
 *
 * <p>Wear area layout (little-endian), at {@code size - areaSize(size)}:
 * <pre>
 * offset  size  field
 *      0     8  magic "PMEMWEAR"
 *      8     4  version (1)
 *     12     4  CRC32C of bytes [16, 4096) followed by the block counters
 *     16     8  region size the counters describe
 *     24     8  block count
 *     32     8  bytes written (lifetime)
 *     40     8  persist barriers (lifetime)
 *     48     8  store operations (lifetime)
 *   4096  4*n  stores per block, one u32 per 4 KiB block of the region
 * </pre>
 * A missing or damaged area starts the counters from zero (and the first save writes a good one).
 *
 * <p>Thread safety: all counters are updated atomically; a snapshot taken while stores run is
 * not a single point in time.
 */
public final class WearCounters {
    static final long MAGIC = 0x5241455746454d50L; // "PMEMWEAR" little-endian
    static final int VERSION = 1;
    static final int HEADER = Region.BLOCK_SIZE;
    private static final ValueLayout.OfLong LONG = Region.LONG;
    private static final ValueLayout.OfInt INT = Region.INT;
    private static final VarHandle BLOCK = MethodHandles.arrayElementVarHandle(int[].class);

    private final int[] perBlock;
    private final LongAdder bytes = new LongAdder();
    private final LongAdder persists = new LongAdder();
    private final LongAdder stores = new LongAdder();

    private WearCounters(int blocks) {
        this.perBlock = new int[blocks];
    }

    /** Bytes at the tail of a region of {@code regionSize} bytes that hold its wear counters. */
    public static long areaSize(long regionSize) {
        long blocks = regionSize / Region.BLOCK_SIZE;
        long counters = (blocks * 4 + Region.BLOCK_SIZE - 1) / Region.BLOCK_SIZE * Region.BLOCK_SIZE;
        return HEADER + counters;
    }

    static WearCounters load(MemorySegment region, long regionSize) {
        long blocks = regionSize / Region.BLOCK_SIZE;
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("region too large for wear accounting: " + regionSize);
        }
        WearCounters w = new WearCounters((int) blocks);
        MemorySegment area = region.asSlice(regionSize - areaSize(regionSize));
        if (valid(area, regionSize)) {
            w.bytes.add(area.get(LONG, 32));
            w.persists.add(area.get(LONG, 40));
            w.stores.add(area.get(LONG, 48));
            MemorySegment.copy(area, INT, HEADER, w.perBlock, 0, (int) blocks);
        }
        return w;
    }

    private static boolean valid(MemorySegment area, long regionSize) {
        if (area.get(LONG, 0) != MAGIC || area.get(INT, 8) != VERSION) {
            return false;
        }
        if (area.get(LONG, 16) != regionSize || area.get(LONG, 24) != regionSize / Region.BLOCK_SIZE) {
            return false;
        }
        return area.get(INT, 12) == crc(area, regionSize);
    }

    private static int crc(MemorySegment area, long regionSize) {
        CRC32C crc = new CRC32C();
        crc.update(area.asSlice(16, HEADER - 16).asByteBuffer());
        crc.update(area.asSlice(HEADER, regionSize / Region.BLOCK_SIZE * 4).asByteBuffer());
        return (int) crc.getValue();
    }

    void save(MemorySegment region, long areaOffset) {
        long regionSize = region.byteSize();
        MemorySegment area = region.asSlice(areaOffset);
        area.asSlice(0, HEADER).fill((byte) 0);
        area.set(LONG, 0, MAGIC);
        area.set(INT, 8, VERSION);
        area.set(LONG, 16, regionSize);
        area.set(LONG, 24, perBlock.length);
        area.set(LONG, 32, bytes.sum());
        area.set(LONG, 40, persists.sum());
        area.set(LONG, 48, stores.sum());
        MemorySegment.copy(perBlock, 0, area, INT, HEADER, perBlock.length);
        area.set(INT, 12, crc(area, regionSize));
    }

    /** Reads the counters saved in a region image (e.g. a region file opened read-only). */
    public static WearCounters read(MemorySegment region) {
        return load(region, region.byteSize());
    }

    void count(long offset, long length) {
        if (length <= 0) {
            return;
        }
        bytes.add(length);
        stores.increment();
        int first = (int) (offset / Region.BLOCK_SIZE);
        int last = (int) ((offset + length - 1) / Region.BLOCK_SIZE);
        for (int b = first; b <= last; b++) {
            BLOCK.getAndAdd(perBlock, b, 1);
        }
    }

    void countPersist() {
        persists.increment();
    }

    /** Bytes stored to the media (lifetime). */
    public long bytesWritten() {
        return bytes.sum();
    }

    /** Persist barriers issued (lifetime). */
    public long persists() {
        return persists.sum();
    }

    /** Store operations (lifetime); one store may cover many blocks. */
    public long stores() {
        return stores.sum();
    }

    /** Number of 4 KiB blocks tracked. */
    public int blocks() {
        return perBlock.length;
    }

    /** Stores that touched {@code block} (lifetime). */
    public long blockWrites(long block) {
        return Integer.toUnsignedLong((int) BLOCK.getVolatile(perBlock, (int) block));
    }

    /** The most-written block (the lowest one on a tie). */
    public long mostWrittenBlock() {
        int best = 0;
        for (int b = 1; b < perBlock.length; b++) {
            if (Integer.compareUnsigned(perBlock[b], perBlock[best]) > 0) {
                best = b;
            }
        }
        return best;
    }

    /**
     * Blocks by write count: entry 0 counts never-written blocks, entry {@code k >= 1} those
     * written {@code [2^(k-1), 2^k)} times.
     */
    public long[] histogram() {
        long[] h = new long[34];
        for (int c : perBlock) {
            h[c == 0 ? 0 : 64 - Long.numberOfLeadingZeros(Integer.toUnsignedLong(c))]++;
        }
        int top = h.length;
        while (top > 1 && h[top - 1] == 0) {
            top--;
        }
        return java.util.Arrays.copyOf(h, top);
    }

    /** Label of histogram bucket {@code k}, e.g. {@code "4-7"}. */
    public static String bucketLabel(int k) {
        if (k == 0) {
            return "0";
        }
        long lo = 1L << (k - 1);
        long hi = (1L << k) - 1;
        return lo == hi ? Long.toString(lo) : lo + "-" + hi;
    }
}
