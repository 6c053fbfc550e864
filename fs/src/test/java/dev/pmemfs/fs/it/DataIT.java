package dev.pmemfs.fs.it;

import static dev.pmemfs.fs.it.Pmemfs.sh;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.nio.file.ExtendedOpenOption;
import dev.pmemfs.fs.core.HostFs;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A long random data test through a real mount: writes, truncates, fallocate (mode 0,
 * KEEP_SIZE, punch hole, zero range), shared mmap reads and writes, O_DIRECT reads and
 * writes, at random offsets and sizes up to a few MiB over three files, each checked against
 * an in-memory model right after it (the range it touched and a random probe), the whole
 * files every thousand operations, across a remount, and fsck clean at the end.
 * {@code -Dpmemfs.dataOps=N} sets the operations per mode: 2,000 by default, to keep
 * {@code make test} short (the build runs it on both frontends); the full run is
 * {@code -Dpmemfs.dataOps=100000} (about 2 ms per operation through jnr-fuse on the 2-core
 * machine: 6.5 minutes for both modes).
 *
 * <p>mmap: with the jnr-fuse frontend a DAX file is opened {@code direct_io}, and the kernel
 * refuses a shared mapping of such a file (ENODEV) unless the filesystem sets
 * FUSE_DIRECT_IO_ALLOW_MMAP, which libfuse 2 cannot; the mmap operations then count as
 * refused, and the test asserts that it is exactly that. A frontend that can map DAX files
 * runs them like any other.
 *
 * <p>Kernel page cache: a cached-mode file opened without {@code direct_io} is cached by the
 * kernel too, and a write through an O_DIRECT descriptor (which pmemfs opens {@code direct_io})
 * does not invalidate it. Every open of such a file does (no {@code keep_cache}), so the test
 * reopens its buffered descriptor after each O_DIRECT or mmap operation.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
final class DataIT {
    private static final int FILES = 3;
    private static final int MAX_SIZE = 6 << 20;
    private static final int B = 4096;

    private Path mnt;
    private String dax;
    private final byte[][] model = new byte[FILES][MAX_SIZE];
    private final int[] size = new int[FILES];
    private final RandomAccessFile[] raf = new RandomAccessFile[FILES];
    private final Map<String, Integer> counts = new TreeMap<>();
    /** Time spent per kind of operation, for the report line. */
    private final Map<String, Long> millis = new TreeMap<>();
    private int mmapRefused;

    @ParameterizedTest(name = "dax={0}")
    @ValueSource(strings = {"never", "always"})
    void randomDataOperations_matchModel(String mode) throws IOException {
        dax = mode;
        int ops = Integer.getInteger("pmemfs.dataOps", 2_000);
        Path work = Files.createTempDirectory(Path.of("/tmp"), "pdata");
        mnt = Files.createDirectory(work.resolve("m"));
        String[] opts = {"--dax=" + mode};
        assertTrue(ops >= 100, "pmemfs.dataOps: at least 100");
        try (Pmemfs.Mount m = Pmemfs.Mount.start(Pmemfs.newRegion("256M"), mnt, true, opts)) {
            Random rnd = new Random(mode.hashCode());
            for (int f = 0; f < FILES; f++) {
                Files.createFile(file(f));
                reopen(f);
            }
            for (int i = 0; i < ops; i++) {
                int f = rnd.nextInt(FILES);
                long t0 = System.nanoTime();
                String op = step(rnd, f);
                counts.merge(op, 1, Integer::sum);
                millis.merge(op, (System.nanoTime() - t0) / 1_000_000, Long::sum);
                if (i % 1000 == 999) {
                    checkAll("after op " + i + " (" + op + ")");
                }
                if (i == ops / 2) {
                    closeAll();
                    m.unmount();
                    m.mount(opts);
                    for (int g = 0; g < FILES; g++) {
                        reopen(g);
                    }
                    checkAll("after the remount");
                }
            }
            checkAll("at the end");
            closeAll();
            m.unmount();
            Pmemfs.Result fsck = Pmemfs.pmemfs("fsck", m.region.toString());
            assertEquals(0, fsck.code(), "fsck: " + fsck.out() + fsck.err());
        } finally {
            closeAll();
            sh("rm -rf '" + work + "'");
        }
        assertFalse(Pmemfs.mounted(mnt));
        System.out.printf("DataIT dax=%s: %s, mmap refused %d; ms per kind %s%n", mode, counts, mmapRefused, millis);
        assertTrue(counts.getOrDefault("mmap", 0) + mmapRefused > ops / 50, "mmap operations ran: " + counts);
        if (mode.equals("never")) {
            assertEquals(0, mmapRefused, "a cached file maps");
        }
    }

    private Path file(int f) {
        return mnt.resolve("f" + f);
    }

    private void reopen(int f) throws IOException {
        if (raf[f] != null) {
            raf[f].close();
        }
        raf[f] = new RandomAccessFile(file(f).toFile(), "rw");
    }

    /** Reopens the buffered descriptor of a cached-mode file, so the kernel drops its cached pages. */
    private void refresh(int f) throws IOException {
        if (dax.equals("never")) {
            reopen(f);
        }
    }

    private void closeAll() {
        for (int f = 0; f < FILES; f++) {
            try {
                if (raf[f] != null) {
                    raf[f].close();
                }
            } catch (IOException ignored) {
                // closing after a failure: the mount goes next
            }
            raf[f] = null;
        }
    }

    /** A length: mostly small, sometimes up to a few MiB. */
    private static int length(Random rnd) {
        int k = rnd.nextInt(100);
        return 1 + (k < 80 ? rnd.nextInt(8192) : k < 99 ? rnd.nextInt(128 << 10) : rnd.nextInt(3 << 20));
    }

    private static int offset(Random rnd, int len) {
        return rnd.nextInt(MAX_SIZE - len + 1);
    }

    private String step(Random rnd, int f) throws IOException {
        int k = rnd.nextInt(100);
        if (k < 40) {
            int len = length(rnd);
            int off = rnd.nextBoolean() && size[f] > 0 ? rnd.nextInt(Math.min(size[f], MAX_SIZE - len) + 1) : offset(rnd, len);
            byte[] data = new byte[len];
            rnd.nextBytes(data);
            raf[f].getChannel().write(ByteBuffer.wrap(data), off);
            System.arraycopy(data, 0, model[f], off, len);
            size[f] = Math.max(size[f], off + len);
            check(f, off, len, rnd, "write @" + off + " +" + len);
            return "write";
        }
        if (k < 50) {
            int to = rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(MAX_SIZE);
            raf[f].setLength(to);
            if (to < size[f]) {
                Arrays.fill(model[f], to, size[f], (byte) 0);
            }
            size[f] = to;
            check(f, Math.max(0, to - 100), 200, rnd, "truncate " + to);
            return "truncate";
        }
        if (k < 70) {
            return fallocate(rnd, f);
        }
        if (k < 85) {
            return mmap(rnd, f);
        }
        return direct(rnd, f);
    }

    private static final int[] MODES = {0, 1, 3, 0x10, 0x11};

    private String fallocate(Random rnd, int f) throws IOException {
        int mode = MODES[rnd.nextInt(MODES.length)];
        int len = length(rnd);
        int off = offset(rnd, len);
        int rc = HostFs.fallocate(file(f).toString(), mode, off, len);
        assertEquals(0, rc, "fallocate mode " + mode + " @" + off + " +" + len + ": errno");
        boolean keep = (mode & 1) != 0;
        if (mode == 3 || mode == 0x10 || mode == 0x11) { // punch hole, zero range: zeros within the size (and beyond it unless KEEP_SIZE)
            int end = keep ? Math.min(off + len, size[f]) : off + len;
            if (end > off) {
                Arrays.fill(model[f], off, end, (byte) 0);
            }
        }
        if (!keep) {
            size[f] = Math.max(size[f], off + len);
        }
        refresh(f);
        check(f, off, len, rnd, "fallocate mode 0x" + Integer.toHexString(mode) + " @" + off + " +" + len);
        return "fallocate-" + Integer.toHexString(mode);
    }

    /** Reads or writes a random range through a shared mapping of the file. */
    private String mmap(Random rnd, int f) throws IOException {
        if (size[f] == 0) {
            return "mmap-empty";
        }
        int len = Math.min(size[f], length(rnd));
        int off = rnd.nextInt(size[f] - len + 1);
        boolean write = rnd.nextBoolean();
        try (FileChannel ch = FileChannel.open(file(f), StandardOpenOption.READ, StandardOpenOption.WRITE);
             Arena arena = Arena.ofConfined()) {
            MemorySegment map;
            try {
                map = ch.map(FileChannel.MapMode.READ_WRITE, 0, size[f], arena);
            } catch (IOException e) {
                assertEquals("always", dax, "mmap of a cached file failed: " + e);
                mmapRefused++;
                return "mmap-refused";
            }
            if (write) {
                byte[] data = new byte[len];
                rnd.nextBytes(data);
                MemorySegment.copy(data, 0, map, ValueLayout.JAVA_BYTE, off, len);
                System.arraycopy(data, 0, model[f], off, len);
                map.force(); // msync: the pages reach pmemfs now, not at some later write-back
            } else {
                byte[] got = new byte[len];
                MemorySegment.copy(map, ValueLayout.JAVA_BYTE, off, got, 0, len);
                assertArrayEquals(Arrays.copyOfRange(model[f], off, off + len), got, "mmap read @" + off + " +" + len);
            }
        }
        refresh(f);
        check(f, off, len, rnd, "mmap " + (write ? "write" : "read") + " @" + off + " +" + len);
        return "mmap";
    }

    /** O_DIRECT read or write of whole aligned blocks, through its own descriptor. */
    private String direct(Random rnd, int f) throws IOException {
        int blocks = 1 + (rnd.nextInt(10) == 0 ? rnd.nextInt(512) : rnd.nextInt(16));
        int len = blocks * B;
        int off = rnd.nextInt((MAX_SIZE - len) / B + 1) * B;
        boolean write = rnd.nextBoolean();
        ByteBuffer buf = ByteBuffer.allocateDirect(len + B).alignedSlice(B);
        buf.limit(len);
        try (FileChannel ch = FileChannel.open(file(f), StandardOpenOption.READ, StandardOpenOption.WRITE,
                ExtendedOpenOption.DIRECT)) {
            if (write) {
                byte[] data = new byte[len];
                rnd.nextBytes(data);
                buf.put(data).flip();
                while (buf.hasRemaining()) {
                    ch.write(buf, off + buf.position());
                }
                System.arraycopy(data, 0, model[f], off, len);
                size[f] = Math.max(size[f], off + len);
            } else {
                int n = Math.max(0, ch.read(buf, off)); // one call: short only at the end of the file
                int want = Math.max(0, Math.min(len, size[f] - off));
                assertEquals(want, n, "O_DIRECT read length @" + off);
                byte[] got = new byte[n];
                buf.flip().get(got);
                assertArrayEquals(Arrays.copyOfRange(model[f], off, off + n), got, "O_DIRECT read @" + off + " +" + len);
            }
        }
        refresh(f);
        check(f, off, len, rnd, "O_DIRECT " + (write ? "write" : "read") + " @" + off + " +" + len);
        return write ? "direct-write" : "direct-read";
    }

    /** The size, the range an operation touched (clipped), and a random 4 KiB probe. */
    private void check(int f, int off, int len, Random rnd, String after) throws IOException {
        assertEquals(size[f], raf[f].length(), "size of f" + f + " after " + after);
        compare(f, off, len, after);
        if (size[f] > 0) {
            compare(f, rnd.nextInt(size[f]), B, after + " (probe)");
        }
    }

    private void compare(int f, int off, int len, String after) throws IOException {
        int from = Math.min(off, size[f]);
        int to = Math.min(size[f], off + len);
        ByteBuffer got = ByteBuffer.allocate(to - from);
        while (got.hasRemaining()) {
            if (raf[f].getChannel().read(got, from + got.position()) < 0) {
                break;
            }
        }
        assertEquals(to - from, got.position(), "short read of f" + f + " after " + after);
        if (!Arrays.equals(model[f], from, to, got.array(), 0, to - from)) {
            int at = Arrays.mismatch(Arrays.copyOfRange(model[f], from, to), got.array());
            throw new AssertionError("f" + f + " differs at byte " + (from + at) + " after " + after);
        }
    }

    private void checkAll(String after) throws IOException {
        for (int f = 0; f < FILES; f++) {
            assertEquals(size[f], raf[f].length(), "size of f" + f + " " + after);
            compare(f, 0, size[f], after);
        }
    }
}
