package dev.pmemfs.fs.bench;

import dev.pmemfs.device.PmemRegion;
import dev.pmemfs.fs.core.DaxMode;
import dev.pmemfs.fs.core.FileHandle;
import dev.pmemfs.fs.core.FileSystem;
import dev.pmemfs.fs.core.Format;
import dev.pmemfs.fs.core.MountOptions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A streaming write and read of one file through the core, in process (no FUSE): what the
 * data path costs per request, and a target for a profiler. Writes {@code SIZE_MB} in requests
 * of {@code REQ_KB}, fsyncs, then reads it back, over a region on /dev/shm, in cached or DAX
 * mode; prints MB/s of each phase beside a plain copy of the same bytes.
 *
 * <pre>
 * JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 mvn -q -B -ntp -pl fs -am test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=/tmp/fs-cp.txt -Dmdep.includeScope=test
 * java --enable-native-access=ALL-UNNAMED -XX:StartFlightRecording=filename=/tmp/s.jfr,settings=profile \
 *     -cp fs/target/test-classes:fs/target/classes:cache/target/classes:device/target/classes:$(cat /tmp/fs-cp.txt) \
 *     dev.pmemfs.fs.bench.StreamProfile cached 1024 128 3
 * </pre>
 */
public final class StreamProfile {
    private StreamProfile() {
    }

    public static void main(String[] args) throws Exception {
        boolean dax = args.length > 0 && args[0].equals("dax");
        long sizeMb = args.length > 1 ? Long.parseLong(args[1]) : 1024;
        int reqKb = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        long size = sizeMb << 20;
        int req = reqKb << 10;
        Path dir = Files.createTempDirectory(Path.of("/dev/shm"), "streamprofile");
        Path file = dir.resolve("region");
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(req, 4096);
            buf.fill((byte) 0x5a);
            MemorySegment target = arena.allocate(size, 4096);
            target.fill((byte) 1);
            PmemRegion region = PmemRegion.create(file, size * 3, false);
            Format.mkfs(region, 1 << 20, dax, p -> { });
            MountOptions o = MountOptions.defaults().withCache(size * 3 / 2).withDax(dax ? DaxMode.ALWAYS : DaxMode.NEVER);
            FileSystem fs = FileSystem.mount(region, o);
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                for (long at = 0; at < size; at += req) {
                    MemorySegment.copy(buf, 0, target, at, req);
                }
                long tc = System.nanoTime() - t0;
                long ino = fs.create(FileSystem.ROOT, "f" + r, 0644, 0, 0);
                long tw;
                long ts;
                long tr;
                try (FileHandle h = fs.open(ino, 2)) {
                    t0 = System.nanoTime();
                    for (long at = 0; at < size; at += req) {
                        h.write(at, buf, req);
                    }
                    tw = System.nanoTime() - t0;
                    t0 = System.nanoTime();
                    h.fsync();
                    ts = System.nanoTime() - t0;
                    t0 = System.nanoTime();
                    for (long at = 0; at < size; at += req) {
                        h.read(at, buf, req);
                    }
                    tr = System.nanoTime() - t0;
                }
                System.out.printf("%s round %d, %d MiB in %d KiB requests: copy %.0f MB/s, write %.0f MB/s (%.0f ns/page), "
                                + "fsync %.0f MB/s, read %.0f MB/s%n", dax ? "dax" : "cached", r, sizeMb, reqKb,
                        mbs(size, tc), mbs(size, tw), tw / (double) (size / 4096), mbs(size, ts), mbs(size, tr));
                fs.unlink(FileSystem.ROOT, "f" + r);
                fs.sync();
            }
            fs.close();
            region.close();
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }

    private static double mbs(long bytes, long nanos) {
        return bytes / 1e6 / (nanos / 1e9);
    }
}
