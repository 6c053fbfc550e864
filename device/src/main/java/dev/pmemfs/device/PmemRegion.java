package dev.pmemfs.device;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import jdk.nio.mapmode.ExtendedMapMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A persistent-memory region mapped in one piece with the FFM API: a regular file (emulated
 * pmem, e.g. on /dev/shm), a block device {@code /dev/pmemN}, or a device-DAX character device
 * {@code /dev/daxN.M}.
 *
 * <p>The mapping uses MAP_SYNC ({@link ExtendedMapMode#READ_WRITE_SYNC}) where the file
 * supports it, so {@link #persist} is a cache-line write-back; elsewhere persist is an msync of
 * the range. One log line at open says which. The region file is locked ({@link RegionLock},
 * a flock) for the life of the object, so a second opener, in this process or another, is refused.
 *
 * <p>Thread safety: as {@link Region}; {@link #close()} must not race with other calls.
 */
public final class PmemRegion extends Region {
    private static final Logger LOG = LoggerFactory.getLogger(PmemRegion.class);

    /** How persist reaches the media. */
    public enum PersistMode {
        /** MAP_SYNC mapping: persist writes back CPU cache lines, no system call. */
        MAP_SYNC,
        /** msync of the range (emulated pmem, block devices without DAX). */
        MSYNC,
        /** device-DAX: the mapping is the media; persist is msync, which the kernel turns into a flush. */
        DEVICE_DAX
    }

    private final Arena arena;
    private final AutoCloseable owner;
    private final PersistMode mode;
    private boolean closed;

    private PmemRegion(Path path, MemorySegment seg, Arena arena, AutoCloseable owner, PersistMode mode) {
        super(path.toString(), seg);
        this.arena = arena;
        this.owner = owner;
        this.mode = mode;
    }

    public PersistMode persistMode() {
        return mode;
    }

    /** Opens an existing region: a regular file, {@code /dev/pmemN} or {@code /dev/daxN.M}. */
    public static PmemRegion open(Path path) throws RegionException {
        DeviceKind kind = DeviceKind.of(path);
        return switch (kind) {
            case FILE, BLOCK -> mapChannel(path, kind, -1, false);
            case DAX -> DeviceDax.map(path);
        };
    }

    /**
     * Creates a region file of {@code size} bytes, its space reserved ({@link RegionSpace}), or
     * with {@code replace} resizes an existing one. On failure nothing is left behind that was
     * not there before.
     */
    public static PmemRegion create(Path path, long size, boolean replace) throws RegionException {
        checkSize(path, size);
        boolean existed = Files.exists(path);
        if (existed && !replace) {
            throw new RegionException("region " + path + ": already exists (use --force to overwrite it)");
        }
        if (existed && DeviceKind.of(path) != DeviceKind.FILE) {
            return open(path); // devices have a fixed size
        }
        return mapChannel(path, DeviceKind.FILE, size, !existed);
    }

    static void checkSize(Path path, long size) throws RegionException {
        if (size < MIN_SIZE) {
            throw new RegionException("region " + path + ": size " + formatSize(size)
                    + " is smaller than the minimum " + formatSize(MIN_SIZE));
        }
        if (size % BLOCK_SIZE != 0) {
            throw new RegionException("region " + path + ": size " + size + " is not a multiple of " + BLOCK_SIZE);
        }
    }

    private static PmemRegion mapChannel(Path path, DeviceKind kind, long newSize, boolean created)
            throws RegionException {
        FileChannel ch = null;
        RegionLock lock = null;
        Arena arena = null;
        boolean ok = false;
        try {
            // CREATE_NEW: a file that appeared since the caller looked is not ours to delete
            ch = created
                    ? FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)
                    : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            lock = RegionLock.tryAcquire(path);
            if (lock == null) {
                created = false; // somebody else's file: never delete it
                throw new RegionException("region " + path + ": already in use (locked by another pmemfs)");
            }
            if (newSize >= 0) {
                ch.truncate(Math.min(ch.size(), newSize));
                if (ch.size() < newSize) {
                    ch.write(java.nio.ByteBuffer.wrap(new byte[1]), newSize - 1); // extend sparsely
                }
            }
            long size = kind == DeviceKind.BLOCK ? DeviceKind.blockDeviceSize(path) : ch.size();
            checkSize(path, size);
            if (kind == DeviceKind.FILE) {
                RegionSpace.reserve(lock.fd(), path, size, newSize >= 0); // no holes: a full file system fails here, not in a store
            }
            arena = Arena.ofShared();
            PersistMode mode = PersistMode.MAP_SYNC;
            MemorySegment seg;
            try {
                seg = ch.map(ExtendedMapMode.READ_WRITE_SYNC, 0, size, arena);
            } catch (UnsupportedOperationException | IOException e) {
                mode = PersistMode.MSYNC;
                seg = ch.map(FileChannel.MapMode.READ_WRITE, 0, size, arena);
            }
            LOG.info("region {}: {} mapped, persist by {}", path, formatSize(size), describe(mode, isTmpfs(path)));
            FileChannel channel = ch;
            RegionLock held = lock;
            PmemRegion r = new PmemRegion(path, seg, arena, () -> {
                try {
                    channel.close();
                } finally {
                    held.close();
                }
            }, mode);
            ok = true;
            return r;
        } catch (RegionException e) {
            throw e;
        } catch (NoSuchFileException e) {
            throw RegionException.missing(path);
        } catch (AccessDeniedException e) {
            throw RegionException.denied(path);
        } catch (FileAlreadyExistsException e) {
            created = false; // created by somebody else meanwhile
            throw new RegionException("region " + path + ": already exists (use --force to overwrite it)");
        } catch (IOException e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            if (msg.contains("Map failed") || msg.contains("Cannot allocate memory")) {
                throw new RegionException("region " + path + ": cannot map it (" + msg
                        + "); check `ulimit -v` and that the region fits in the address space", e);
            }
            throw new RegionException("region " + path + ": " + msg, e);
        } catch (OutOfMemoryError e) {
            throw new RegionException("region " + path + ": not enough memory to map or account it", e);
        } finally {
            if (!ok) {
                if (arena != null) {
                    arena.close();
                }
                closeQuietly(ch);
                closeQuietly(lock);
                if (created) {
                    try {
                        Files.deleteIfExists(path);
                    } catch (IOException ignored) {
                        // best effort: the error being thrown matters more
                    }
                }
            }
        }
    }

    /** How persist works, as the open log line says it. */
    static String describe(PersistMode mode, boolean tmpfs) {
        return switch (mode) {
            case MAP_SYNC -> "cache-line write-back (MAP_SYNC)";
            case MSYNC -> "msync (MAP_SYNC not supported here" + (tmpfs ? ": tmpfs, emulated pmem)" : ")");
            case DEVICE_DAX -> "msync of the device-DAX mapping";
        };
    }

    private static boolean isTmpfs(Path path) {
        try {
            return "tmpfs".equals(Files.getFileStore(path).type());
        } catch (IOException e) {
            return false;
        }
    }

    static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing after a failure: nothing more to report
            }
        }
    }

    @Override
    protected void doPersist(long offset, long length) {
        if (mode == PersistMode.DEVICE_DAX) {
            DeviceDax.msync(seg, offset, length);
        } else {
            seg.asSlice(offset, length).force();
        }
    }

    /** Saves the wear counters, unmaps the region and releases its lock. A second close does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            saveWear();
        } finally {
            if (mode == PersistMode.DEVICE_DAX) {
                DeviceDax.unmap(seg);
            } else {
                arena.close();
            }
            closeQuietly(owner);
        }
    }

    static PmemRegion ofDeviceDax(Path path, MemorySegment seg, AutoCloseable owner) {
        LOG.info("region {}: {} mapped, persist by {}", path, formatSize(seg.byteSize()), describe(PersistMode.DEVICE_DAX, false));
        return new PmemRegion(path, seg, null, owner, PersistMode.DEVICE_DAX);
    }
}
