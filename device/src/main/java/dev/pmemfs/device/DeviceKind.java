package dev.pmemfs.device;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** What a region path names: a regular file, a pmem block device or a device-DAX character device. */
enum DeviceKind {
    FILE, BLOCK, DAX;

    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFDIR = 0040000;

    static DeviceKind of(Path path) throws RegionException {
        int mode;
        try {
            mode = (Integer) Files.getAttribute(path, "unix:mode");
        } catch (NoSuchFileException e) {
            throw RegionException.missing(path);
        } catch (AccessDeniedException e) {
            throw RegionException.denied(path);
        } catch (IOException | UnsupportedOperationException e) {
            throw new RegionException("region " + path + ": cannot stat it (" + e.getMessage() + ")");
        }
        return switch (mode & S_IFMT) {
            case S_IFREG -> FILE;
            case S_IFBLK -> BLOCK;
            case S_IFCHR -> DAX;
            case S_IFDIR -> throw new RegionException("region " + path + ": is a directory");
            default -> throw new RegionException("region " + path + ": not a file, pmem block device or device-DAX");
        };
    }

    /** Size of a block device from sysfs ({@code stat} reports 0 for devices). */
    static long blockDeviceSize(Path path) throws RegionException {
        Path real;
        try {
            real = path.toRealPath();
        } catch (IOException e) {
            throw new RegionException("region " + path + ": " + e.getMessage());
        }
        Path sysfs = Path.of("/sys/class/block", real.getFileName().toString(), "size");
        return readSysfsLong(path, sysfs) * 512;
    }

    static long readSysfsLong(Path region, Path sysfs) throws RegionException {
        try {
            return Long.parseLong(Files.readString(sysfs).trim());
        } catch (IOException | NumberFormatException e) {
            throw new RegionException("region " + region + ": cannot read its size from " + sysfs);
        }
    }
}
