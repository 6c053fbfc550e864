package dev.pmemfs.device;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A byte-addressable persistent-memory region: stores, loads and the persist barrier, with
 * every store that reaches the media counted in {@link WearCounters}.
 *
 * <p>The region is one {@link MemorySegment}. Its tail holds the wear area (see
 * {@link WearCounters#areaSize(long)}); users address {@code [0, dataSize())}. Stores are
 * visible to loads at once but durable only after {@link #persist(long, long)} covers them.
 *
 * <p>Thread safety: loads and stores of disjoint ranges may run concurrently from any thread;
 * callers order overlapping accesses themselves. Counters are updated atomically.
 */
public abstract class Region implements AutoCloseable {
    /** The unit of wear accounting and of the filesystem's blocks. */
    public static final int BLOCK_SIZE = 4096;
    /** The unit at which unpersisted stores can be lost (a CPU cache line). */
    public static final int LINE_SIZE = 64;
    /** The smallest region accepted: room for a filesystem with a journal and a few files. */
    public static final long MIN_SIZE = 16L << 20;

    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String name;
    private final long size;
    private final long dataSize;
    /** The whole region; set by the subclass constructor. */
    protected final MemorySegment seg;
    private final WearCounters wear;

    protected Region(String name, MemorySegment seg) {
        this.name = name;
        this.seg = seg;
        this.size = seg.byteSize();
        this.dataSize = size - WearCounters.areaSize(size);
        this.wear = WearCounters.load(seg, size);
    }

    /** The path or name the region was opened by, for messages. */
    public final String name() {
        return name;
    }

    /** Bytes in the whole region, wear area included. */
    public final long size() {
        return size;
    }

    /** Bytes available to users: the region less its wear area at the tail. */
    public final long dataSize() {
        return dataSize;
    }

    public final WearCounters wear() {
        return wear;
    }

    /** Copies {@code length} bytes at {@code offset} into {@code dst} at {@code dstOffset}. */
    public final void read(long offset, MemorySegment dst, long dstOffset, long length) {
        check(offset, length);
        MemorySegment.copy(seg, offset, dst, dstOffset, length);
    }

    /** Copies {@code length} bytes from {@code src} at {@code srcOffset} to the region at {@code offset}. */
    public final void write(long offset, MemorySegment src, long srcOffset, long length) {
        check(offset, length);
        beforeStore(offset, length);
        MemorySegment.copy(src, srcOffset, seg, offset, length);
        wear.count(offset, length);
        afterStore(offset, length);
    }

    public final void read(long offset, byte[] dst, int dstOffset, int length) {
        check(offset, length);
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, offset, dst, dstOffset, length);
    }

    public final void write(long offset, byte[] src, int srcOffset, int length) {
        check(offset, length);
        beforeStore(offset, length);
        MemorySegment.copy(src, srcOffset, seg, ValueLayout.JAVA_BYTE, offset, length);
        wear.count(offset, length);
        afterStore(offset, length);
    }

    /** Stores {@code length} copies of {@code value} at {@code offset}. */
    public final void fill(long offset, long length, byte value) {
        check(offset, length);
        beforeStore(offset, length);
        seg.asSlice(offset, length).fill(value);
        wear.count(offset, length);
        afterStore(offset, length);
    }

    public final long getLong(long offset) {
        check(offset, 8);
        return seg.get(LONG, offset);
    }

    public final void putLong(long offset, long value) {
        check(offset, 8);
        beforeStore(offset, 8);
        seg.set(LONG, offset, value);
        wear.count(offset, 8);
        afterStore(offset, 8);
    }

    public final int getInt(long offset) {
        check(offset, 4);
        return seg.get(INT, offset);
    }

    /** A read-only view of a range, for comparisons without a copy. */
    public final MemorySegment view(long offset, long length) {
        check(offset, length);
        return seg.asSlice(offset, length).asReadOnly();
    }

    /** The durability barrier: when it returns, every earlier store in the range survives power loss. */
    public final void persist(long offset, long length) {
        check(offset, length);
        beforeStore(offset, 0);
        wear.countPersist();
        doPersist(offset, length);
    }

    /**
     * Writes the wear counters to the older of the wear area's two copies and persists it (not
     * itself counted as wear). Safe to call from any thread, also while stores run.
     */
    public final synchronized void saveWear() {
        long areaLength = size - dataSize;
        beforeStore(dataSize, areaLength);
        long[] written = wear.save(seg, dataSize);
        afterStore(dataSize + written[0], written[1]);
        doPersist(dataSize + written[0], written[1]);
    }

    /** Hook run before every store (and persist) of a range; a crashing region may fail here. */
    protected void beforeStore(long offset, long length) {
    }

    /** Hook run after every store of a range. */
    protected void afterStore(long offset, long length) {
    }

    /** Releases the region; it is unusable afterwards. */
    @Override
    public abstract void close();

    /** Makes the range durable. */
    protected abstract void doPersist(long offset, long length);

    private void check(long offset, long length) {
        Objects.checkFromIndexSize(offset, length, dataSize);
    }

    /** Formats a byte count the way messages show it (e.g. {@code 16 MiB}). */
    public static String formatSize(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        double v = bytes;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return (v == Math.rint(v) ? String.format("%d %s", (long) v, units[u]) : String.format("%.1f %s", v, units[u]));
    }
}
