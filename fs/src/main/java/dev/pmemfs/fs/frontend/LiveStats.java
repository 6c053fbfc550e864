package dev.pmemfs.fs.frontend;

import dev.pmemfs.fs.core.Errno;
import dev.pmemfs.fs.core.FileSystem;
import dev.pmemfs.fs.core.FsException;
import java.nio.charset.StandardCharsets;

/**
 * The stats channel of a running mount: two read-only extended attributes of the root
 * directory, computed on each read, {@value #JSON} (JSON) and {@value #TEXT} (text).
 *
 * <p>Why an xattr: it is answered by the daemon itself through the mount, so it is always live
 * and always the mount that was asked; it leaves no file behind after a crash (unlike a stats
 * file in /run); any tool reads it ({@code getfattr -n user.pmemfs.stats MNT}) and Java reads it
 * with {@code UserDefinedFileAttributeView}, no native code. The names are not listed by
 * listxattr, so copies of the root (cp -a, tar --xattrs) do not pick them up. Thread-safe: the
 * core's stats are snapshots.
 */
public final class LiveStats {
    public static final String JSON = "user.pmemfs.stats";
    public static final String TEXT = "user.pmemfs.stats.txt";

    private final FileSystem fs;
    private final long mediaAtMount;
    private final String region;
    private final String mountpoint;
    private final String dax;

    public LiveStats(FileSystem fs, String region, String mountpoint, String dax) {
        this.fs = fs;
        this.mediaAtMount = fs.region().wear().bytesWritten();
        this.region = region;
        this.mountpoint = mountpoint;
        this.dax = dax;
    }

    /** Whether {@code name} on the root directory (when {@code root}) is one of the stats attributes. */
    public boolean handles(boolean root, String name) {
        return root && (JSON.equals(name) || TEXT.equals(name));
    }

    public byte[] value(String name) {
        FileSystem.Stats s = fs.stats();
        String v = switch (name) {
            case JSON -> StatsReport.json(s, mediaAtMount, region, mountpoint, dax);
            case TEXT -> StatsReport.text(s, mediaAtMount, region, mountpoint, dax);
            default -> throw new FsException(Errno.ENODATA, name);
        };
        return v.getBytes(StandardCharsets.UTF_8);
    }
}
