package dev.pmemfs.fs.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Write-through of cached files written one write per fsync ({@link SyncPattern}): which writes
 * take it, that reads see its bytes whatever the cache held, and that fsync'd data survives a
 * power failure. Mutations checked by hand: {@code SyncPattern.wrote} answering true always
 * (hot overwrites go to the media: {@link #severalWritesPerFsync_stayInTheCache} fails);
 * {@code CachedPages.forgetClean} forgetting nothing (a stale RAM page is read back:
 * {@link #writeThrough_overCachedPages_readsTheNewBytes} fails); {@code forgetClean} dropping
 * dirty pages too (the write goes through and the dirty page is lost:
 * {@link #dirtyPage_fallsBackToTheCache} fails).
 */
final class WriteThroughTest extends MountedFsFixture {
    private static final int B = FileSystem.BLOCK;

    @BeforeEach
    void setUp() {
        start(32L << 20, MountOptions.defaults());
        region.persist(0, region.dataSize()); // mkfs durable: the power failures below keep it
    }

    private long throughBytes() {
        return fs.stats().direct().userBytes();
    }

    private long cachedBytes() {
        return fs.stats().cached().userBytes();
    }

    /** Power fails with nothing kept that was not persisted; the filesystem is mounted again. */
    private void powerFail() {
        fs.abandon();
        region.powerFail();
        fs = FileSystem.mount(region, opts);
    }

    @Test
    void writeFsyncPairs_goThroughAfterTheStreak_andSurviveAPowerFailure() {
        long ino = fs.create(FileSystem.ROOT, "log", 0644, 0, 0);
        byte[] all = new byte[0];
        for (int i = 0; i < 10; i++) { // a handle per write: the pattern belongs to the file
            byte[] rec = FileSystemTest.bytes(i % 2 == 0 ? 700 : 5000, i); // partial pages and page crossings
            FileSystemTest.write(fs, ino, all.length, rec);
            fs.fsync(ino);
            byte[] next = Arrays.copyOf(all, all.length + rec.length);
            System.arraycopy(rec, 0, next, all.length, rec.length);
            all = next;
        }
        assertEquals(700 + 5000, cachedBytes(), "the first two writes, before the streak, are cached");
        assertEquals(all.length - 5700, throughBytes(), "every write after the streak goes through");
        assertArrayEquals(all, FileSystemTest.read(fs, ino, 0, all.length));
        powerFail();
        assertArrayEquals(all, FileSystemTest.read(fs, ino, 0, all.length));
        assertEquals(java.util.List.of(), Fsck.check(region, false).problems());
    }

    @Test
    void severalWritesPerFsync_stayInTheCache() {
        long ino = fs.create(FileSystem.ROOT, "hot", 0644, 0, 0);
        for (int i = 0; i < 3; i++) {
            FileSystemTest.write(fs, ino, 0, FileSystemTest.bytes(B, i));
            fs.fsync(ino);
        }
        long through = throughBytes();
        assertEquals(B, through, "the third write+fsync went through");
        long mediaBefore = fs.stats().cached().mediaBytes();
        byte[] last = null;
        for (int i = 0; i < 16; i++) { // a hot overwrite: 16 writes of one page, one fsync
            last = FileSystemTest.bytes(B, 100 + i);
            FileSystemTest.write(fs, ino, 0, last);
        }
        fs.fsync(ino);
        assertEquals(through + B, throughBytes(), "only the first write of the burst went through");
        assertEquals(B, fs.stats().cached().mediaBytes() - mediaBefore, "15 cached writes cost one page write-back");
        assertArrayEquals(last, FileSystemTest.read(fs, ino, 0, B));
    }

    @Test
    void writeThrough_overCachedPages_readsTheNewBytes() {
        long ino = fs.create(FileSystem.ROOT, "f", 0644, 0, 0);
        byte[] data = FileSystemTest.bytes(8 * B, 1);
        FileSystemTest.write(fs, ino, 0, data);
        fs.fsync(ino);
        for (int i = 0; i < 2; i++) { // twice: the pages move from the written set into Caffeine
            assertArrayEquals(data, FileSystemTest.read(fs, ino, 0, data.length));
        }
        for (int i = 0; i < 6; i++) {
            byte[] rec = FileSystemTest.bytes(300 + 1000 * i, 10 + i);
            int pos = 1500 + i * 4000;
            FileSystemTest.write(fs, ino, pos, rec);
            fs.fsync(ino);
            System.arraycopy(rec, 0, data, pos, rec.length);
            assertArrayEquals(data, FileSystemTest.read(fs, ino, 0, data.length), "after write " + i);
        }
        assertTrue(throughBytes() > 0, "writes went through");
        powerFail();
        assertArrayEquals(data, FileSystemTest.read(fs, ino, 0, data.length));
    }

    @Test
    void dirtyPage_fallsBackToTheCache() {
        long ino = fs.create(FileSystem.ROOT, "f", 0644, 0, 0);
        byte[] data = FileSystemTest.bytes(3 * B, 2);
        for (int i = 0; i < 3; i++) {
            FileSystemTest.write(fs, ino, (long) i * B, Arrays.copyOfRange(data, i * B, (i + 1) * B));
            fs.fsync(ino);
        }
        long through = throughBytes();
        // The truncate zeroes the tail of the last page through the cache: that page is dirty.
        fs.truncate(ino, 2 * B + 100);
        data = Arrays.copyOf(data, 2 * B + 100);
        byte[] rec = FileSystemTest.bytes(50, 3);
        FileSystemTest.write(fs, ino, 2 * B + 10, rec);
        System.arraycopy(rec, 0, data, 2 * B + 10, rec.length);
        assertEquals(through, throughBytes(), "a write to a dirty page is cached");
        fs.fsync(ino);
        assertArrayEquals(data, FileSystemTest.read(fs, ino, 0, data.length));
        powerFail();
        assertArrayEquals(data, FileSystemTest.read(fs, ino, 0, data.length));
    }
}
