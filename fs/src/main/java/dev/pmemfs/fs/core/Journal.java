package dev.pmemfs.fs.core;

import dev.pmemfs.device.Region;
import dev.pmemfs.fs.layout.BlockCrc;
import dev.pmemfs.fs.layout.Geometry;
import dev.pmemfs.fs.layout.JournalRecord;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metadata journal and the running transaction: a physical redo log of whole 4 KiB
 * metadata blocks, as jbd2 keeps for ext4.
 *
 * <p>Every metadata change edits an in-memory image of its block in the running transaction;
 * reads see those images first. {@link #commit} writes the images to the journal followed by a
 * commit block whose CRC32C covers them all, persists that (one barrier: a torn log fails its
 * CRC and is ignored), copies the images to their home blocks, persists them, and clears the
 * journal. {@link #replay} redoes a committed transaction that a crash interrupted; redo of
 * whole block images is idempotent, so a crash during replay is harmless.
 *
 * <p>Not thread safe: guarded by the filesystem's lock.
 */
final class Journal {
    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);

    private final Region region;
    private final Geometry geo;
    private final Map<Long, byte[]> tx = new LinkedHashMap<>();
    private long seq = ThreadLocalRandom.current().nextLong() >>> 1;
    private long commits;

    Journal(Region region, Geometry geo) {
        this.region = region;
        this.geo = geo;
    }

    /** Most images a transaction may hold. */
    int capacity() {
        int n = (int) geo.journalBlocks() - 2;
        while (JournalRecord.footprint(n) > geo.journalBlocks()) {
            n--;
        }
        return n;
    }

    /** Whether the running transaction should be committed before another operation starts. */
    boolean nearlyFull() {
        return tx.size() > capacity() / 2;
    }

    boolean isEmpty() {
        return tx.isEmpty();
    }

    int pending() {
        return tx.size();
    }

    long commits() {
        return commits;
    }

    /** The current image of a block, for reading only. */
    byte[] peek(long block) {
        byte[] img = tx.get(block);
        if (img != null) {
            return img;
        }
        byte[] b = new byte[BlockCrc.BLOCK];
        region.read(block * BlockCrc.BLOCK, b, 0, b.length);
        return b;
    }

    /** Reads {@code length} bytes at {@code offset} of a block into {@code dst}. */
    void read(long block, int offset, byte[] dst, int length) {
        byte[] img = tx.get(block);
        if (img != null) {
            System.arraycopy(img, offset, dst, 0, length);
        } else {
            region.read(block * BlockCrc.BLOCK + offset, dst, 0, length);
        }
    }

    long getLong(long block, int offset) {
        byte[] img = tx.get(block);
        return img != null ? BlockCrc.le(img).getLong(offset) : region.getLong(block * BlockCrc.BLOCK + offset);
    }

    /** The transaction's image of a block, created from the media on first use; edit it in place. */
    byte[] modify(long block) {
        checkMetadataBlock(block);
        return tx.computeIfAbsent(block, this::peek);
    }

    /** Replaces a block's image in the transaction. */
    void put(long block, byte[] image) {
        checkMetadataBlock(block);
        tx.put(block, image);
    }

    private void checkMetadataBlock(long block) {
        if (block <= geo.journalStart() + geo.journalBlocks() - 1 && block >= geo.journalStart() || block == 0
                || block >= geo.backupSuperblock()) {
            throw new IllegalStateException("metadata write to reserved block " + block);
        }
    }

    /** Commits the running transaction; {@code ordered} runs first (data before the metadata that points to it). */
    void commit(Runnable ordered) {
        if (tx.isEmpty()) {
            return;
        }
        ordered.run();
        int n = tx.size();
        if (n > capacity()) {
            throw new IllegalStateException("transaction of " + n + " blocks exceeds the journal (" + capacity() + ")");
        }
        long s = ++seq;
        long[] targets = new long[n];
        int i = 0;
        for (long b : tx.keySet()) {
            targets[i++] = b;
        }
        long j = geo.journalStart();
        int descs = JournalRecord.descriptorBlocks(n);
        CRC32C crc = new CRC32C();
        long at = j;
        for (int d = 0; d < descs; d++) {
            byte[] desc = JournalRecord.descriptor(d, s, targets);
            crc.update(desc);
            region.write(at++ * BlockCrc.BLOCK, desc, 0, desc.length);
        }
        for (byte[] img : tx.values()) {
            crc.update(img);
            region.write(at++ * BlockCrc.BLOCK, img, 0, img.length);
        }
        byte[] commit = JournalRecord.commit(s, n, (int) crc.getValue());
        region.write(at * BlockCrc.BLOCK, commit, 0, commit.length);
        region.persist(j * BlockCrc.BLOCK, (at - j + 1) * BlockCrc.BLOCK);
        checkpoint(tx);
        tx.clear();
        commits++;
    }

    private void checkpoint(Map<Long, byte[]> images) {
        long[] sorted = images.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
        int k = 0;
        while (k < sorted.length) {
            int run = k;
            while (run + 1 < sorted.length && sorted[run + 1] == sorted[run] + 1) {
                run++;
            }
            for (int x = k; x <= run; x++) {
                byte[] img = images.get(sorted[x]);
                region.write(sorted[x] * BlockCrc.BLOCK, img, 0, img.length);
            }
            region.persist(sorted[k] * BlockCrc.BLOCK, (long) (run - k + 1) * BlockCrc.BLOCK);
            k = run + 1;
        }
        clearLog(region, geo);
    }

    private static void clearLog(Region region, Geometry geo) {
        long at = geo.journalStart() * BlockCrc.BLOCK;
        region.write(at, new byte[8], 0, 8);
        region.persist(at, 8);
    }

    /**
     * Redoes a committed transaction left in the journal by a crash. Returns the number of
     * blocks replayed, or -1 when the journal held no committed transaction.
     */
    static int replay(Region region, Geometry geo) {
        long j = geo.journalStart();
        byte[] first = new byte[BlockCrc.BLOCK];
        region.read(j * BlockCrc.BLOCK, first, 0, first.length);
        if (!JournalRecord.isDescriptor(first, 0)) {
            return -1;
        }
        long s = JournalRecord.sequence(first);
        int n = JournalRecord.count(first);
        if (n <= 0 || JournalRecord.footprint(n) > geo.journalBlocks()) {
            return -1;
        }
        int descs = JournalRecord.descriptorBlocks(n);
        CRC32C crc = new CRC32C();
        long[] targets = new long[n];
        byte[] desc = first;
        for (int d = 0; d < descs; d++) {
            if (d > 0) {
                desc = new byte[BlockCrc.BLOCK];
                region.read((j + d) * BlockCrc.BLOCK, desc, 0, desc.length);
                if (!JournalRecord.isDescriptor(desc, d) || JournalRecord.sequence(desc) != s) {
                    return -1;
                }
            }
            crc.update(desc);
            for (int i = d * JournalRecord.TARGETS_PER_BLOCK; i < Math.min(n, (d + 1) * JournalRecord.TARGETS_PER_BLOCK); i++) {
                targets[i] = JournalRecord.target(desc, i);
                if (targets[i] < geo.inodeBitmapStart() || targets[i] >= geo.backupSuperblock()) {
                    return -1;
                }
            }
        }
        byte[][] images = new byte[n][BlockCrc.BLOCK];
        for (int i = 0; i < n; i++) {
            region.read((j + descs + i) * BlockCrc.BLOCK, images[i], 0, BlockCrc.BLOCK);
            crc.update(images[i]);
        }
        byte[] commit = new byte[BlockCrc.BLOCK];
        region.read((j + descs + n) * BlockCrc.BLOCK, commit, 0, commit.length);
        if (!JournalRecord.isCommit(commit, s, n, (int) crc.getValue())) {
            LOG.debug("journal holds an uncommitted transaction of {} blocks: ignored", n);
            clearLog(region, geo);
            return -1;
        }
        Map<Long, byte[]> map = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            map.put(targets[i], images[i]);
        }
        new Journal(region, geo).checkpoint(map);
        return n;
    }

    /** Drops the running transaction (used only when the media failed mid-operation). */
    void abort() {
        tx.clear();
    }

    @Override
    public String toString() {
        return "Journal[pending=" + tx.size() + ", commits=" + commits + ", keys=" + Arrays.toString(tx.keySet().toArray()) + "]";
    }
}
