package dev.pmemfs.device;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.CRC32C;

/**
 * Wear of a region: bytes stored, stores per 4 KiB block, persist barriers, kept across
 * reopens in the wear area at the region's tail.
 *
 * <p>Wear area layout (little-endian), at {@code size - areaSize(size)}: two copies of
 * {@code copySize(size)} bytes each, written alternately (save {@code k} writes copy
 * {@code (k - 1) % 2}); the valid copy with the higher save sequence is the one read. A save
 * torn by a crash fails its CRC and leaves the other copy, one save older, in force.
 * <pre>
 * offset  size  field (of one copy)
 *      0     8  magic "PMEMWEAR"
 *      8     4  version (2)
 *     12     4  CRC32C of bytes [16, 4096) followed by the block counters
 *     16     8  region size the counters describe
 *     24     8  block count n (every 4 KiB block of the region, wear area included)
 *     32     8  bytes written (lifetime)
 *     40     8  persist barriers (lifetime)
 *     48     8  store operations (lifetime)
 *     56     8  save sequence (1 for the first save)
 *     64  4032  zero
 *   4096  8*n  stores per block, one u64 per 4 KiB block, padded with zeros to a 4 KiB multiple
 * </pre>
 * With no valid copy the counters start from zero (and the first save writes a good one).
 * Counters are u64 because a hot block (a journal head) can pass 2^32 stores in a lifetime.
 * Saves are periodic (the filesystem's mount schedules them) and at close, so a crash loses at
 * most the wear of one period.
 *
 * <p>Counting is on the copy path of every store, so it costs at most three atomic adds,
 * whatever the length (an atomic add per block made a 128 KiB copy about 11 % slower): a store
 * within one block adds one to {@code single[block]}; a store over blocks {@code [f, l]} adds one
 * to {@code starts[f]} and one to {@code ends[l + 1]}, so the writes of block {@code b} are
 * {@code single[b] + sum(starts[0..b]) - sum(ends[0..b])}; and bytes go to a {@link LongAdder}.
 * Reading a block's count is therefore a prefix sum, O(blocks), which only statistics do.
 *
 * <p>Thread safety: all counters are updated atomically; a snapshot taken while stores run is
 * not a single point in time.
 */
public final class WearCounters {
    static final long MAGIC = 0x524145574d454d50L; // "PMEMWEAR" little-endian
    static final int VERSION = 2;
    static final int HEADER = Region.BLOCK_SIZE;
    static final int COUNTER_SIZE = 8;
    static final long OFF_MAGIC = 0;
    static final long OFF_VERSION = 8;
    static final long OFF_CRC = 12;
    static final long OFF_REGION_SIZE = 16;
    static final long OFF_BLOCKS = 24;
    static final long OFF_BYTES = 32;
    static final long OFF_PERSISTS = 40;
    static final long OFF_STORES = 48;
    static final long OFF_SEQUENCE = 56;
    private static final ValueLayout.OfLong LONG = Region.LONG;
    private static final ValueLayout.OfInt INT = Region.INT;
    private static final int BLOCK_SHIFT = Integer.numberOfTrailingZeros(Region.BLOCK_SIZE);
    private static final VarHandle BLOCK = MethodHandles.arrayElementVarHandle(long[].class);

    /** Per block: the lifetime count at load plus single-block stores since. */
    private final long[] single;
    /** Multi-block stores since load, by first block (a difference array, see above). */
    private final long[] starts;
    /** Multi-block stores since load, by last block + 1. */
    private final long[] ends;
    private final LongAdder bytes = new LongAdder();
    private final LongAdder persists = new LongAdder();
    /** Stores at load, less the sum of {@code single} at load: stores() adds the arrays' sums. */
    private long storesBase;
    /** Sequence of the last save (0: none); guarded by {@code this} with {@link #save}. */
    private long saveSequence;

    private WearCounters(int blocks) {
        this.single = new long[blocks];
        this.starts = new long[blocks];
        this.ends = new long[blocks + 1];
    }

    /** Bytes at the tail of a region of {@code regionSize} bytes that hold its wear counters (both copies). */
    public static long areaSize(long regionSize) {
        return 2 * copySize(regionSize);
    }

    /** Bytes of one copy of the counters. */
    static long copySize(long regionSize) {
        long blocks = regionSize / Region.BLOCK_SIZE;
        long counters = (blocks * COUNTER_SIZE + Region.BLOCK_SIZE - 1) / Region.BLOCK_SIZE * Region.BLOCK_SIZE;
        return HEADER + counters;
    }

    /** The save sequence of the counters read (0 when none was valid). */
    public synchronized long saveSequence() {
        return saveSequence;
    }

    /** The counters saved in a mapped region of {@code regionSize} bytes, or zeros if none are. */
    static WearCounters load(MemorySegment region, long regionSize) {
        return fromArea(region.asSlice(regionSize - areaSize(regionSize), areaSize(regionSize)), regionSize);
    }

    /** The counters in {@code area}, the wear area of a region of {@code regionSize} bytes, or zeros. */
    static WearCounters fromArea(MemorySegment area, long regionSize) {
        long blocks = regionSize / Region.BLOCK_SIZE;
        if (blocks > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("region too large for wear accounting: " + regionSize);
        }
        WearCounters w = new WearCounters((int) blocks);
        MemorySegment copy = null;
        long copySize = copySize(regionSize);
        for (int k = 0; k < 2 && area.byteSize() >= (k + 1) * copySize; k++) {
            MemorySegment c = area.asSlice(k * copySize, copySize);
            if (valid(c, regionSize) && (copy == null || c.get(LONG, OFF_SEQUENCE) > copy.get(LONG, OFF_SEQUENCE))) {
                copy = c;
            }
        }
        if (copy != null) {
            w.bytes.add(copy.get(LONG, OFF_BYTES));
            w.persists.add(copy.get(LONG, OFF_PERSISTS));
            MemorySegment.copy(copy, LONG, HEADER, w.single, 0, (int) blocks);
            w.storesBase = copy.get(LONG, OFF_STORES) - sum(w.single);
            w.saveSequence = copy.get(LONG, OFF_SEQUENCE);
        }
        return w;
    }

    /** Whether {@code area} holds one copy of counters saved for a region of {@code regionSize} bytes. */
    static boolean valid(MemorySegment area, long regionSize) {
        if (area.byteSize() < copySize(regionSize)) {
            return false;
        }
        if (area.get(LONG, OFF_MAGIC) != MAGIC || area.get(INT, OFF_VERSION) != VERSION) {
            return false;
        }
        if (area.get(LONG, OFF_REGION_SIZE) != regionSize || area.get(LONG, OFF_BLOCKS) != regionSize / Region.BLOCK_SIZE) {
            return false;
        }
        return area.get(INT, OFF_CRC) == crc(area, regionSize);
    }

    private static int crc(MemorySegment area, long regionSize) {
        CRC32C crc = new CRC32C();
        crc.update(area.asSlice(OFF_REGION_SIZE, HEADER - OFF_REGION_SIZE).asByteBuffer());
        crc.update(area.asSlice(HEADER, regionSize / Region.BLOCK_SIZE * COUNTER_SIZE).asByteBuffer());
        return (int) crc.getValue();
    }

    /**
     * Writes the counters into the older copy of the wear area of {@code region}, which starts
     * at {@code areaOffset}: the counters first, the header with its CRC last. Returns the byte
     * range written, relative to {@code areaOffset}, as {@code {offset, length}}.
     */
    synchronized long[] save(MemorySegment region, long areaOffset) {
        long regionSize = region.byteSize();
        long seq = ++saveSequence;
        long copySize = copySize(regionSize);
        long at = ((seq - 1) & 1) * copySize;
        MemorySegment area = region.asSlice(areaOffset + at, copySize);
        area.asSlice(0, HEADER).fill((byte) 0);
        area.set(LONG, OFF_MAGIC, MAGIC);
        area.set(INT, OFF_VERSION, VERSION);
        area.set(LONG, OFF_REGION_SIZE, regionSize);
        long[] perBlock = blockWrites();
        area.set(LONG, OFF_BLOCKS, perBlock.length);
        area.set(LONG, OFF_BYTES, bytes.sum());
        area.set(LONG, OFF_PERSISTS, persists.sum());
        area.set(LONG, OFF_STORES, stores());
        area.set(LONG, OFF_SEQUENCE, seq);
        MemorySegment.copy(perBlock, 0, area, LONG, HEADER, perBlock.length);
        area.set(INT, OFF_CRC, crc(area, regionSize));
        return new long[] {at, copySize};
    }

    /** Reads the counters saved in a region image (e.g. a region file opened read-only). */
    public static WearCounters read(MemorySegment region) {
        return load(region, region.byteSize());
    }

    /**
     * Reads the lifetime counters of a region that is not open: a region file or {@code /dev/pmemN}
     * is read at its tail, a device-DAX device is mapped read-only. Takes no lock and writes
     * nothing, so it works beside a mounted region too (the counters are then those of the last
     * save). A region whose counters were never saved, or are damaged, reads as zeros.
     */
    public static WearCounters read(Path path) throws RegionException {
        DeviceKind kind = DeviceKind.of(path);
        if (kind == DeviceKind.DAX) {
            return DeviceDax.readWear(path);
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = kind == DeviceKind.BLOCK ? DeviceKind.blockDeviceSize(path) : ch.size();
            PmemRegion.checkSize(path, size);
            long areaSize = areaSize(size);
            ByteBuffer buf = ByteBuffer.allocateDirect(Math.toIntExact(areaSize));
            long pos = size - areaSize;
            while (buf.hasRemaining()) {
                if (ch.read(buf, pos + buf.position()) < 0) {
                    throw new RegionException("region " + path + ": unexpected end of file reading its wear area");
                }
            }
            return fromArea(MemorySegment.ofBuffer(buf.flip()), size);
        } catch (RegionException e) {
            throw e;
        } catch (NoSuchFileException e) {
            throw RegionException.missing(path);
        } catch (AccessDeniedException e) {
            throw RegionException.denied(path);
        } catch (IOException e) {
            throw new RegionException("region " + path + ": cannot read its wear area (" + e.getMessage() + ")", e);
        }
    }

    void count(long offset, long length) {
        if (length <= 0) {
            return;
        }
        bytes.add(length);
        int first = (int) (offset >>> BLOCK_SHIFT);
        int last = (int) ((offset + length - 1) >>> BLOCK_SHIFT);
        if (first == last) {
            BLOCK.getAndAdd(single, first, 1L);
        } else {
            BLOCK.getAndAdd(starts, first, 1L);
            BLOCK.getAndAdd(ends, last + 1, 1L);
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
        return storesBase + sum(single) + sum(starts);
    }

    /** Number of 4 KiB blocks tracked. */
    public int blocks() {
        return single.length;
    }

    /** Stores that touched {@code block} (lifetime). */
    public long blockWrites(long block) {
        int b = Math.toIntExact(block);
        long n = (long) BLOCK.getVolatile(single, b);
        for (int i = 0; i <= b; i++) {
            n += (long) BLOCK.getVolatile(starts, i) - (long) BLOCK.getVolatile(ends, i);
        }
        return n;
    }

    /** Stores that touched each block (lifetime), indexed by block: one O(blocks) pass. */
    public long[] blockWrites() {
        return blockWrites(null);
    }

    /**
     * {@link #blockWrites()} into {@code into} when it has one entry per block (else into a new
     * array), for a caller that asks often: the array of a large region is big enough that the
     * collector allocates it outside the young generation.
     */
    public long[] blockWrites(long[] into) {
        long[] n = into != null && into.length == single.length ? into : new long[single.length];
        long open = 0;
        for (int b = 0; b < n.length; b++) {
            open += (long) BLOCK.getVolatile(starts, b) - (long) BLOCK.getVolatile(ends, b);
            n[b] = (long) BLOCK.getVolatile(single, b) + open;
        }
        return n;
    }

    private static long sum(long[] a) {
        long s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (long) BLOCK.getVolatile(a, i);
        }
        return s;
    }

    /** The most-written block (the lowest one on a tie). */
    public long mostWrittenBlock() {
        long[] perBlock = blockWrites();
        int best = 0;
        for (int b = 1; b < perBlock.length; b++) {
            if (perBlock[b] > perBlock[best]) {
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
        long[] h = new long[65];
        for (long c : blockWrites()) {
            h[64 - Long.numberOfLeadingZeros(c)]++;
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
        long hi = k == 64 ? -1L : (1L << k) - 1;
        return lo == hi ? Long.toUnsignedString(lo) : Long.toUnsignedString(lo) + "-" + Long.toUnsignedString(hi);
    }
}
