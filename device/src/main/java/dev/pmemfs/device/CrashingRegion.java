package dev.pmemfs.device;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.BitSet;
import java.util.Random;

/**
 * A region in RAM that can lose power, for crash tests: it remembers which 64-byte lines hold
 * stores not yet covered by {@link #persist}, and on {@link #powerFail} drops them all, or a
 * random subset (the way PMDK's pmreorder replays reordered stores).
 *
 * <p>Two images are kept: the visible one ({@code seg}, what loads see) and the media (what
 * survives power loss). A store marks its lines dirty; persist copies dirty lines of the range
 * to the media. {@link #armPowerFailure(long)} makes the N-th later store or persist throw
 * {@link PowerFailure}, so a workload stops at an arbitrary point; after that every store
 * throws until {@link #powerFail} reboots the region.
 *
 * <p>Thread safety: dirty-line bookkeeping is guarded by {@code this}.
 */
public final class CrashingRegion extends Region {
    /** Thrown at the armed store: the power went out. An Error, so ordinary catch blocks let it through. */
    public static final class PowerFailure extends Error {
        private static final long serialVersionUID = 1L;

        PowerFailure() {
            super("simulated power failure", null, false, false);
        }
    }

    private final Arena arena;
    private final MemorySegment media;
    private final BitSet dirty = new BitSet();
    private long countdown = -1;
    private long events;
    private boolean dead;

    private CrashingRegion(Arena arena, MemorySegment visible, MemorySegment media) {
        super("crashing-region", visible);
        this.arena = arena;
        this.media = media;
    }

    /** A zero-filled region of {@code size} bytes. */
    public static CrashingRegion create(long size) {
        Arena arena = Arena.ofShared();
        return new CrashingRegion(arena, arena.allocate(size, 4096), arena.allocate(size, 4096));
    }

    /** Makes the {@code events}-th store or persist from now (1 = the next) fail with {@link PowerFailure}. */
    public synchronized void armPowerFailure(long events) {
        countdown = events;
    }

    /** Disarms a pending failure. */
    public synchronized void disarm() {
        countdown = -1;
    }

    /** Whether the armed failure has happened. */
    public synchronized boolean failed() {
        return dead;
    }

    /** Lines holding stores that are not yet durable. */
    public synchronized int unpersistedLines() {
        return dirty.cardinality();
    }

    /** Stores and persists seen so far: the points at which {@link #armPowerFailure} can strike. */
    public synchronized long events() {
        return events;
    }

    @Override
    protected synchronized void beforeStore(long offset, long length) {
        events++;
        if (dead) {
            throw new PowerFailure();
        }
        if (countdown > 0 && --countdown == 0) {
            dead = true;
            countdown = -1;
            throw new PowerFailure();
        }
    }

    @Override
    protected synchronized void afterStore(long offset, long length) {
        if (length > 0) {
            dirty.set((int) (offset / LINE_SIZE), (int) ((offset + length - 1) / LINE_SIZE) + 1);
        }
    }

    @Override
    protected synchronized void doPersist(long offset, long length) {
        if (length <= 0) {
            return;
        }
        int from = (int) (offset / LINE_SIZE);
        int to = (int) ((offset + length - 1) / LINE_SIZE) + 1;
        for (int l = dirty.nextSetBit(from); l >= 0 && l < to; l = dirty.nextSetBit(l + 1)) {
            MemorySegment.copy(seg, (long) l * LINE_SIZE, media, (long) l * LINE_SIZE, LINE_SIZE);
            dirty.clear(l);
        }
    }

    /**
     * The power goes out and comes back: each unpersisted line reaches the media with
     * probability {@code keep} (0 drops them all), then the visible image is the media.
     * The region is usable again afterwards. Returns the number of lines that were dropped.
     */
    public synchronized int powerFail(Random random, double keep) {
        int dropped = 0;
        for (int l = dirty.nextSetBit(0); l >= 0; l = dirty.nextSetBit(l + 1)) {
            long off = (long) l * LINE_SIZE;
            if (keep > 0 && random.nextDouble() < keep) {
                MemorySegment.copy(seg, off, media, off, LINE_SIZE);
            } else {
                MemorySegment.copy(media, off, seg, off, LINE_SIZE);
                dropped++;
            }
        }
        dirty.clear();
        dead = false;
        countdown = -1;
        return dropped;
    }

    /** Drops every unpersisted store. */
    public int powerFail() {
        return powerFail(new Random(0), 0);
    }

    /** Flips one bit of the media and the visible image (corruption injection for fsck tests). */
    public synchronized void flipBit(long offset, int bit) {
        byte b = (byte) (seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, offset) ^ (1 << bit));
        seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, offset, b);
        media.set(java.lang.foreign.ValueLayout.JAVA_BYTE, offset, b);
    }

    /** Frees the memory. The region is unusable afterwards. */
    @Override
    public void close() {
        arena.close();
    }
}
