package dev.pmemfs.fs.core;

import dev.pmemfs.device.PmemRegion;
import dev.pmemfs.device.Region;
import dev.pmemfs.fs.layout.Geometry;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A create/delete churn on the direct (DAX) path, so every data write reaches the media, run
 * once per allocation policy on a fresh region: rounds of {@code files} files of
 * {@code fileBytes} created, written, fsync'd, then all deleted (a spool or a package cache).
 * The fsyncs fill the log, so checkpoints (after which freed blocks are reusable) come every
 * round or so, as they would under such a load. Reports the data blocks' wear spread (max and
 * mean writes per block since mkfs, their ratio), first-fit and wear-aware side by side.
 *
 * <p>Run from the repository root (after {@code mvn -q -DskipTests package} and the test
 * classpath step of {@code device/.../bench/RegionCopyBench}, done here for the fs module):
 * <pre>
 * JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 mvn -B -q -pl fs -am test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=target/test.cp -Dmdep.includeScope=test
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java --enable-native-access=ALL-UNNAMED -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
 *     -cp fs/target/test-classes:fs/target/classes:cache/target/classes:device/target/classes:$(cat fs/target/test.cp) \
 *     dev.pmemfs.fs.core.AllocationChurn /dev/shm/churn.region 1024 50 10000 16384
 * </pre>
 * (arguments: region file, its size in MiB, rounds, files per round, bytes per file)
 * <pre>
 * </pre>
 */
final class AllocationChurn {
    /**
     * The wear of the data area after a churn, in writes per block since mkfs: the most-written
     * block that held file data and the mean over the data area (the directory's own blocks,
     * rewritten at every checkpoint whatever the policy, are left out of both), and the
     * most-written block of the whole data area, directory included.
     */
    record Spread(Allocator.Policy policy, long max, double mean, long blocksWritten, long dataBlocks, long maxWithDirectory) {
        double ratio() {
            return mean == 0 ? 0 : max / mean;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%-10s file data: max %d, mean %.3f writes per block, max/mean %.2f"
                    + " (%d of %d blocks written); directory block max %d",
                    policy, max, mean, ratio(), blocksWritten, dataBlocks, maxWithDirectory);
        }
    }

    private AllocationChurn() {
    }

    /** Formats {@code region}, runs the churn with {@code policy}, returns the data blocks' wear since mkfs. */
    static Spread run(Region region, Allocator.Policy policy, int rounds, int files, int fileBytes) {
        Geometry geo = Format.mkfs(region, Geometry.DEFAULT_BYTES_PER_INODE, false, p -> { }).geometry();
        long[] before = region.wear().blockWrites();
        java.util.Set<Long> dirBlocks = new java.util.HashSet<>();
        try (FileSystem fs = FileSystem.mount(region, MountOptions.defaults().withDax(DaxMode.ALWAYS));
             Arena arena = Arena.ofConfined()) {
            fs.alloc.policy(policy);
            MemorySegment data = arena.allocate(fileBytes);
            for (int i = 0; i < fileBytes; i++) {
                data.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + 7));
            }
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < files; i++) {
                    long ino = fs.create(FileSystem.ROOT, "f" + i, 0644, 0, 0);
                    try (FileHandle h = fs.open(ino, 2)) {
                        h.write(0, data, fileBytes);
                        h.fsync();
                    }
                }
                for (int i = 0; i < files; i++) {
                    fs.unlink(FileSystem.ROOT, "f" + i);
                }
            }
            fs.map.forEach(fs.inode(FileSystem.ROOT).rec, (fb, b, isData) -> dirBlocks.add(b));
        }
        long[] after = region.wear().blockWrites();
        long max = 0;
        long maxAll = 0;
        long sum = 0;
        long written = 0;
        for (long b = geo.firstDataBlock(); b < geo.backupSuperblock(); b++) {
            long n = after[(int) b] - before[(int) b];
            maxAll = Math.max(maxAll, n);
            if (!dirBlocks.contains(b)) {
                max = Math.max(max, n);
                sum += n;
                written += n > 0 ? 1 : 0;
            }
        }
        long blocks = geo.dataBlocks() - dirBlocks.size();
        return new Spread(policy, max, (double) sum / blocks, written, blocks, maxAll);
    }

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        long size = Long.parseLong(args[1]) << 20;
        int rounds = Integer.parseInt(args[2]);
        int files = Integer.parseInt(args[3]);
        int bytes = Integer.parseInt(args[4]);
        for (Allocator.Policy p : Allocator.Policy.values()) {
            long t0 = System.nanoTime();
            Spread s;
            try (PmemRegion r = PmemRegion.create(path, size, true)) {
                s = run(r, p, rounds, files, bytes);
            }
            System.out.printf(Locale.ROOT, "%s  (%d rounds of %d files of %d bytes, %.1f s)%n", s, rounds, files, bytes,
                    (System.nanoTime() - t0) / 1e9);
        }
        java.nio.file.Files.deleteIfExists(path);
    }
}
