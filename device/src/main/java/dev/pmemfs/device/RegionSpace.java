package dev.pmemfs.device;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Backs every byte of a region file with space on its file system before the file is mapped
 * ({@code posix_fallocate} from the first hole on), so a region that does not fit is refused
 * with one line at mkfs or mount instead of failing later.
 *
 * <p>Why: region files used to be sparse. On tmpfs (emulated pmem on /dev/shm) a store into a
 * hole of the mapping allocates a page then; when the file system is full, the store faults
 * (SIGBUS; the JVM turns it into an {@link InternalError} in the copy), after the data was
 * acknowledged to the application: a 256 MiB region on a 64 MiB tmpfs took a 120 MiB
 * {@code dd conv=fsync}, and the write-back of its fsync failed. Real pmem has all its memory
 * from the start, so a reserved file is also the closer emulation: no first-touch page
 * allocation and zeroing inside the measured I/O (on a fresh region that cost a quarter of the
 * cached daemon's CPU in a 1 MiB sequential write run, in the commit thread's data=ordered
 * check). On tmpfs the reservation zeroes the memory once (4 GiB in about 1 s); on disk file
 * systems it is an extent allocation (4 GiB in 6 ms).
 *
 * <p>Thread safety: stateless.
 */
@SuppressWarnings("restricted") // downcalls to libc: pmemfs runs with --enable-native-access
final class RegionSpace {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final int SEEK_HOLE = 4;
    private static final int ENOSPC = 28;
    private static final int EFBIG = 27;
    private static final MethodHandle LSEEK = LINKER.downcallHandle(LINKER.defaultLookup().find("lseek").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
    /** Returns an error number itself (it does not set errno). */
    private static final MethodHandle FALLOCATE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("posix_fallocate").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));

    private RegionSpace() {
    }

    /**
     * Reserves space for the first {@code size} bytes of the file at {@code path}, open as
     * {@code fd} for writing (the region's lock holds it): nothing to do when it has no hole below
     * {@code size}; a clear {@link RegionException} when its file system lacks the space
     * ({@code created}: the mkfs wording, else the mount's).
     */
    static void reserve(int fd, Path path, long size, boolean created) throws RegionException {
        int rc;
        try {
            long hole = (long) LSEEK.invokeExact(fd, 0L, SEEK_HOLE); // -1 where SEEK_HOLE is not supported: from 0
            long from = hole < 0 ? 0 : Math.min(hole, size);
            rc = from >= size ? 0 : (int) FALLOCATE.invokeExact(fd, from, size - from);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (rc == ENOSPC || rc == EFBIG) {
            throw new RegionException("region " + path + ": " + Region.formatSize(size) + (created
                    ? " does not fit on its file system (" + free(path) + " free); choose a smaller --size or free space there"
                    : " is a sparse file and its file system has no space left to back it (" + free(path)
                    + " free); writes to it would fail: free space there first"));
        }
        if (rc != 0) {
            throw new RegionException("region " + path + ": cannot reserve its space (posix_fallocate: error " + rc + ")");
        }
    }

    private static String free(Path path) {
        try {
            return Region.formatSize(Files.getFileStore(path.toAbsolutePath().getParent()).getUsableSpace());
        } catch (IOException e) {
            return "unknown";
        }
    }
}
