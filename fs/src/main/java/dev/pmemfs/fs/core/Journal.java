package dev.pmemfs.fs.core;

import dev.pmemfs.device.Region;
import dev.pmemfs.fs.layout.BlockCrc;
import dev.pmemfs.fs.layout.Geometry;
import dev.pmemfs.fs.layout.JournalRecord;
import java.util.HashMap;
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
 * reads see the running images first, then committed ones not yet written home, then the media.
 * {@link #commit} appends the running images to the log followed by a commit block whose
 * CRC32C covers them all, and persists that (one barrier: a torn transaction fails its CRC and
 * is ignored). The images are written to their home blocks only at a checkpoint, when the log
 * is full or at unmount: a block changed by a thousand commits (an inode table block under an
 * fsync loop) is written home once, and the log's writes move along the whole journal instead
 * of rewriting its first blocks.
 *
 * <p>Log format: transactions one after another from the journal's first block, with
 * consecutive sequence numbers; a checkpoint clears the first descriptor, so the next
 * transaction starts the log again at block 0. {@link #replay} follows the chain from block 0
 * while descriptors carry the next sequence number and commit blocks check out, then writes the
 * newest image of each block home. Redo of whole images is idempotent, so a crash during
 * replay is harmless.
 *
 * <p>Not thread safe: guarded by the filesystem's lock.
 */
final class Journal {
    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);

    private final Region region;
    private final Geometry geo;
    private final Map<Long, byte[]> tx = new LinkedHashMap<>();
    /** Committed images not yet written home; never mutated (modify copies). */
    private final Map<Long, byte[]> committed = new HashMap<>();
    /** The journal block (relative) where the next transaction goes. */
    private long head;
    private long seq = ThreadLocalRandom.current().nextLong() >>> 1;
    private long commits;
    private long checkpoints;

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

    long checkpoints() {
        return checkpoints;
    }

    private byte[] current(long block) {
        byte[] img = tx.get(block);
        return img != null ? img : committed.get(block);
    }

    /** The current image of a block, for reading only. */
    byte[] peek(long block) {
        byte[] img = current(block);
        if (img != null) {
            return img;
        }
        byte[] b = new byte[BlockCrc.BLOCK];
        region.read(block * BlockCrc.BLOCK, b, 0, b.length);
        return b;
    }

    /** Reads {@code length} bytes at {@code offset} of a block into {@code dst}. */
    void read(long block, int offset, byte[] dst, int length) {
        byte[] img = current(block);
        if (img != null) {
            System.arraycopy(img, offset, dst, 0, length);
        } else {
            region.read(block * BlockCrc.BLOCK + offset, dst, 0, length);
        }
    }

    long getLong(long block, int offset) {
        byte[] img = current(block);
        return img != null ? BlockCrc.le(img).getLong(offset) : region.getLong(block * BlockCrc.BLOCK + offset);
    }

    /** The transaction's image of a block, created from the current one on first use; edit it in place. */
    byte[] modify(long block) {
        checkMetadataBlock(block);
        return tx.computeIfAbsent(block, b -> {
            byte[] img = committed.get(b);
            return img != null ? img.clone() : peek(b);
        });
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
        long need = JournalRecord.footprint(n);
        if (head + need > geo.journalBlocks()) {
            checkpoint();
        }
        long s = seq++;
        long[] targets = new long[n];
        int i = 0;
        for (long b : tx.keySet()) {
            targets[i++] = b;
        }
        long first = geo.journalStart() + head;
        int descs = JournalRecord.descriptorBlocks(n);
        CRC32C crc = new CRC32C();
        long at = first;
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
        region.persist(first * BlockCrc.BLOCK, (at - first + 1) * BlockCrc.BLOCK);
        head += need;
        committed.putAll(tx);
        tx.clear();
        commits++;
    }

    /** Writes every committed image home and empties the log. Called when the log is full and at unmount. */
    void checkpoint() {
        if (committed.isEmpty() && head == 0) {
            return;
        }
        writeHome(region, committed);
        clearLog(region, geo);
        committed.clear();
        head = 0;
        checkpoints++;
    }

    private static void writeHome(Region region, Map<Long, byte[]> images) {
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
    }

    private static void clearLog(Region region, Geometry geo) {
        long at = geo.journalStart() * BlockCrc.BLOCK;
        region.write(at, new byte[8], 0, 8);
        region.persist(at, 8);
    }

    /**
     * Redoes the committed transactions left in the journal by a crash: follows the chain from
     * the journal's first block, then writes the newest image of each block home and clears the
     * log. Returns the number of blocks written home, or -1 when the journal held no committed
     * transaction.
     */
    static int replay(Region region, Geometry geo) {
        Map<Long, byte[]> images = new HashMap<>();
        long pos = 0;
        long expected = -1;
        int transactions = 0;
        while (pos < geo.journalBlocks()) {
            long s = readTransaction(region, geo, pos, expected, images);
            if (s < 0) {
                break;
            }
            expected = s + 1;
            transactions++;
            pos += JournalRecord.footprint(JournalRecord.count(block(region, geo, pos)));
        }
        if (transactions == 0) {
            return -1;
        }
        writeHome(region, images);
        clearLog(region, geo);
        LOG.debug("replayed {} transactions, {} blocks", transactions, images.size());
        return images.size();
    }

    private static byte[] block(Region region, Geometry geo, long rel) {
        byte[] b = new byte[BlockCrc.BLOCK];
        region.read((geo.journalStart() + rel) * BlockCrc.BLOCK, b, 0, b.length);
        return b;
    }

    /**
     * Reads the transaction at journal block {@code pos} into {@code images} if it is whole and,
     * unless {@code expected} is -1, has that sequence number. Returns its sequence, or -1.
     */
    private static long readTransaction(Region region, Geometry geo, long pos, long expected, Map<Long, byte[]> images) {
        byte[] first = block(region, geo, pos);
        if (!JournalRecord.isDescriptor(first, 0)) {
            return -1;
        }
        long s = JournalRecord.sequence(first);
        int n = JournalRecord.count(first);
        if (expected >= 0 && s != expected || n <= 0 || pos + JournalRecord.footprint(n) > geo.journalBlocks()) {
            return -1;
        }
        int descs = JournalRecord.descriptorBlocks(n);
        CRC32C crc = new CRC32C();
        long[] targets = new long[n];
        byte[] desc = first;
        for (int d = 0; d < descs; d++) {
            if (d > 0) {
                desc = block(region, geo, pos + d);
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
        byte[][] imgs = new byte[n][];
        for (int i = 0; i < n; i++) {
            imgs[i] = block(region, geo, pos + descs + i);
            crc.update(imgs[i]);
        }
        byte[] commit = block(region, geo, pos + descs + n);
        if (!JournalRecord.isCommit(commit, s, n, (int) crc.getValue())) {
            return -1;
        }
        for (int i = 0; i < n; i++) {
            images.put(targets[i], imgs[i]);
        }
        return s;
    }

    @Override
    public String toString() {
        return "Journal[pending=" + tx.size() + ", committed=" + committed.size() + ", head=" + head
                + ", commits=" + commits + "]";
    }
}
