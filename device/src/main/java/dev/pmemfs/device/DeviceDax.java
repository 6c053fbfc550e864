package dev.pmemfs.device;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * Device-DAX ({@code /dev/daxN.M}) mapping through downcalls to open/mmap, since
 * {@code FileChannel.map} cannot map a character device. The whole device is mapped at offset 0
 * (device-DAX requires aligned, whole mappings); its size comes from sysfs.
 */
@SuppressWarnings("restricted") // downcalls to libc: pmemfs runs with --enable-native-access
final class DeviceDax {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final int O_RDONLY = 0;
    private static final int O_RDWR = 2;
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_SHARED = 1;
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private static final int MS_SYNC = 4;
    private static final long PAGE = 4096;

    private static final MethodHandle OPEN = handle("open", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle FLOCK = handle("flock", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle MMAP = handle("mmap", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS,
            ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle MUNMAP = handle("munmap", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle MSYNC = handle("msync", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));

    private DeviceDax() {
    }

    private static MethodHandle handle(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), fd);
    }

    private static Path realPath(Path path) throws RegionException {
        try {
            return path.toRealPath();
        } catch (java.io.IOException e) {
            throw new RegionException("region " + path + ": " + e.getMessage());
        }
    }

    /** The device's size from sysfs, checked against the minimum. */
    private static long size(Path path, Path real) throws RegionException {
        long size = DeviceKind.readSysfsLong(path, Path.of("/sys/bus/dax/devices", real.getFileName().toString(), "size"));
        PmemRegion.checkSize(path, size);
        return size;
    }

    static PmemRegion map(Path path) throws RegionException {
        Path real = realPath(path);
        long size = size(path, real);
        try (Arena tmp = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(tmp.allocateFrom(real.toString()), O_RDWR);
            if (fd < 0) {
                throw new RegionException("region " + path + ": cannot open the device-DAX device");
            }
            if ((int) FLOCK.invokeExact(fd, LOCK_EX | LOCK_NB) != 0) {
                int ignored = (int) CLOSE.invokeExact(fd);
                throw new RegionException("region " + path + ": already in use (locked by another pmemfs)");
            }
            MemorySegment addr = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0L);
            if (addr.address() == -1L) {
                int ignored = (int) CLOSE.invokeExact(fd);
                throw new RegionException("region " + path + ": mmap of " + Region.formatSize(size)
                        + " failed; device-DAX needs the whole device mapped with its alignment");
            }
            AutoCloseable owner = () -> {
                try {
                    int ignored = (int) CLOSE.invokeExact(fd);
                } catch (Throwable t) {
                    throw new IllegalStateException(t);
                }
            };
            return PmemRegion.ofDeviceDax(path, addr.reinterpret(size), owner);
        } catch (RegionException e) {
            throw e;
        } catch (Throwable t) {
            throw new RegionException("region " + path + ": " + t, t);
        }
    }

    /** Reads the wear counters of a device-DAX device through a read-only mapping, without locking it. */
    static WearCounters readWear(Path path) throws RegionException {
        Path real = realPath(path);
        long size = size(path, real);
        try (Arena tmp = Arena.ofConfined()) {
            int fd = (int) OPEN.invokeExact(tmp.allocateFrom(real.toString()), O_RDONLY);
            if (fd < 0) {
                throw new RegionException("region " + path + ": cannot open the device-DAX device for reading");
            }
            try {
                MemorySegment addr = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, PROT_READ, MAP_SHARED, fd, 0L);
                if (addr.address() == -1L) {
                    throw new RegionException("region " + path + ": read-only mmap of " + Region.formatSize(size) + " failed");
                }
                try {
                    return WearCounters.load(addr.reinterpret(size), size);
                } finally {
                    int ignored = (int) MUNMAP.invokeExact(addr, size);
                }
            } finally {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
        } catch (RegionException e) {
            throw e;
        } catch (Throwable t) {
            throw new RegionException("region " + path + ": " + t, t);
        }
    }

    static void msync(MemorySegment seg, long offset, long length) {
        long start = (seg.address() + offset) & ~(PAGE - 1);
        long end = seg.address() + offset + length;
        try {
            int rc = (int) MSYNC.invokeExact(MemorySegment.ofAddress(start), end - start, MS_SYNC);
            if (rc != 0) {
                throw new IllegalStateException("msync failed on device-DAX");
            }
        } catch (Throwable t) {
            throw t instanceof RuntimeException re ? re : new IllegalStateException(t);
        }
    }

    static void unmap(MemorySegment seg) {
        try {
            int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(seg.address()), seg.byteSize());
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
