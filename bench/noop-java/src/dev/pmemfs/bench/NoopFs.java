package dev.pmemfs.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

import jnr.ffi.Pointer;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import ru.serce.jnrfuse.ErrorCodes;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * A no-op FUSE filesystem on jnr-fuse: one flat directory whose files keep a size and
 * timestamps but no data. Writes are discarded, reads return zeros up to the file size.
 *
 * <p>It is the baseline that shows what the Java binding costs on top of the FUSE
 * transport: pmemfs figures are compared against it and against the same filesystem in C
 * ({@code bench/noop-c}). Each callback does the least work that keeps fio and cp correct.
 *
 * <p>Threading: libfuse 2 runs its multi-threaded loop (no {@code -s}), so every callback
 * can run on any FUSE worker thread at once. The file table is a ConcurrentHashMap; each
 * {@link Node} guards its own fields with its monitor.
 *
 * <p>Usage: {@code java -jar noop-java.jar MOUNTPOINT [FUSE-OPTION...]}; unmount with
 * {@code fusermount -u MOUNTPOINT} (the process then exits) or send SIGTERM.
 */
public final class NoopFs extends FuseStubFS {

    /** Value of tv_nsec in utimens that means "set to now" (linux/stat.h). */
    private static final long UTIME_NOW = (1L << 30) - 1;
    /** Value of tv_nsec in utimens that means "leave unchanged". */
    private static final long UTIME_OMIT = (1L << 30) - 2;

    /** One regular file: size and times only. Guarded by its own monitor. */
    static final class Node {
        final long ino;
        long mode;
        long size;
        long atimeNs, mtimeNs, ctimeNs;

        Node(long ino, long mode) {
            this.ino = ino;
            this.mode = mode;
            long now = nowNs();
            atimeNs = mtimeNs = ctimeNs = now;
        }
    }

    /**
     * Spike switches, off for the benchmark. {@code -Dnoop.directIo=true} sets
     * fuse_file_info.direct_io on open/create; {@code -Dnoop.trace=true} logs each write size.
     */
    private static final boolean DIRECT_IO = Boolean.getBoolean("noop.directIo");
    private static final boolean TRACE = Boolean.getBoolean("noop.trace");
    /** _IOR('P', 1, uint64_t): a probe ioctl that answers 42, to show ioctl works. */
    static final int IOCTL_PROBE = (2 << 30) | (8 << 16) | ('P' << 8) | 1;

    private final ConcurrentHashMap<String, Node> files = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong nextIno = new java.util.concurrent.atomic.AtomicLong(2);
    private final long rootTimeNs = nowNs();

    static long nowNs() {
        java.time.Instant i = java.time.Instant.now();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }

    private static void setTime(Timespec ts, long ns) {
        ts.tv_sec.set(Math.floorDiv(ns, 1_000_000_000L));
        ts.tv_nsec.set(Math.floorMod(ns, 1_000_000_000L));
    }

    @Override
    public int getattr(String path, FileStat stat) {
        if ("/".equals(path)) {
            stat.st_mode.set(FileStat.S_IFDIR | 0755);
            stat.st_nlink.set(2);
            stat.st_ino.set(1);
            setTime(stat.st_atim, rootTimeNs);
            setTime(stat.st_mtim, rootTimeNs);
            setTime(stat.st_ctim, rootTimeNs);
            return 0;
        }
        Node n = files.get(path);
        if (n == null) {
            return -ErrorCodes.ENOENT();
        }
        synchronized (n) {
            stat.st_mode.set(FileStat.S_IFREG | (n.mode & 07777));
            stat.st_nlink.set(1);
            stat.st_ino.set(n.ino);
            stat.st_size.set(n.size);
            stat.st_blksize.set(4096);
            stat.st_blocks.set((n.size + 511) / 512);
            setTime(stat.st_atim, n.atimeNs);
            setTime(stat.st_mtim, n.mtimeNs);
            setTime(stat.st_ctim, n.ctimeNs);
        }
        return 0;
    }

    @Override
    public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
        return getattr(path, stat);
    }

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filler, @off_t long offset, FuseFileInfo fi) {
        if (!"/".equals(path)) {
            return -ErrorCodes.ENOTDIR();
        }
        filler.apply(buf, ".", null, 0);
        filler.apply(buf, "..", null, 0);
        for (String name : files.keySet()) {
            if (filler.apply(buf, name.substring(1), null, 0) != 0) {
                break;
            }
        }
        return 0;
    }

    @Override
    public int create(String path, @mode_t long mode, FuseFileInfo fi) {
        if (path.indexOf('/', 1) >= 0) {
            return -ErrorCodes.ENOENT(); // flat: no subdirectories
        }
        files.computeIfAbsent(path, p -> new Node(nextIno.getAndIncrement(), mode));
        if (fi != null) {
            setDirectIo(fi);
        }
        return 0;
    }

    @Override
    public int mknod(String path, @mode_t long mode, long rdev) {
        return create(path, mode, null);
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        if (!files.containsKey(path)) {
            return -ErrorCodes.ENOENT();
        }
        setDirectIo(fi);
        return 0;
    }

    /**
     * In jnr-fuse 0.5.8 the bit fields of fuse_file_info are Padding members and cannot be
     * set; the C layout (libfuse 2, LP64) has them in the int at byte 20: bit 0 direct_io,
     * bit 1 keep_cache, bit 2 flush, bit 3 nonseekable.
     */
    private static void setDirectIo(FuseFileInfo fi) {
        if (DIRECT_IO) {
            Pointer mem = jnr.ffi.Struct.getMemory(fi);
            mem.putInt(20, mem.getInt(20) | 1);
        }
    }

    @Override
    public int ioctl(String path, int cmd, Pointer arg, FuseFileInfo fi, long flags, Pointer data) {
        if (cmd != IOCTL_PROBE) {
            return -ErrorCodes.ENOTTY();
        }
        data.putLong(0, 42);
        return 0;
    }

    @Override
    public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        Node n = files.get(path);
        if (n == null) {
            return -ErrorCodes.ENOENT();
        }
        long fileSize;
        synchronized (n) {
            fileSize = n.size;
        }
        long len = Math.max(0, Math.min(size, fileSize - offset));
        if (len > 0) {
            buf.setMemory(0, len, (byte) 0);
        }
        return (int) len;
    }

    @Override
    public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        Node n = files.get(path);
        if (n == null) {
            return -ErrorCodes.ENOENT();
        }
        if (TRACE) {
            System.err.println("write " + path + " off=" + offset + " len=" + size);
        }
        synchronized (n) {
            n.size = Math.max(n.size, offset + size);
            n.mtimeNs = n.ctimeNs = nowNs();
        }
        return (int) size;
    }

    @Override
    public int truncate(String path, @off_t long size) {
        Node n = files.get(path);
        if (n == null) {
            return -ErrorCodes.ENOENT();
        }
        synchronized (n) {
            n.size = size;
            n.mtimeNs = n.ctimeNs = nowNs();
        }
        return 0;
    }

    @Override
    public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
        return truncate(path, size);
    }

    @Override
    public int unlink(String path) {
        return files.remove(path) != null ? 0 : -ErrorCodes.ENOENT();
    }

    @Override
    public int rename(String from, String to) {
        Node n = files.remove(from);
        if (n == null) {
            return -ErrorCodes.ENOENT();
        }
        files.put(to, n);
        return 0;
    }

    @Override
    public int chmod(String path, @mode_t long mode) {
        Node n = files.get(path);
        if (n == null) {
            return "/".equals(path) ? 0 : -ErrorCodes.ENOENT();
        }
        synchronized (n) {
            n.mode = mode;
            n.ctimeNs = nowNs();
        }
        return 0;
    }

    @Override
    public int chown(String path, long uid, long gid) {
        return "/".equals(path) || files.containsKey(path) ? 0 : -ErrorCodes.ENOENT();
    }

    @Override
    public int utimens(String path, Timespec[] ts) {
        Node n = files.get(path);
        if (n == null) {
            return "/".equals(path) ? 0 : -ErrorCodes.ENOENT();
        }
        long now = nowNs();
        synchronized (n) {
            n.atimeNs = pick(ts[0], n.atimeNs, now);
            n.mtimeNs = pick(ts[1], n.mtimeNs, now);
            n.ctimeNs = now;
        }
        return 0;
    }

    private static long pick(Timespec t, long old, long now) {
        long nsec = t.tv_nsec.longValue();
        if (nsec == UTIME_OMIT) {
            return old;
        }
        if (nsec == UTIME_NOW) {
            return now;
        }
        return t.tv_sec.get() * 1_000_000_000L + nsec;
    }

    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
        return 0;
    }

    @Override
    public int flush(String path, FuseFileInfo fi) {
        return 0;
    }

    @Override
    public int release(String path, FuseFileInfo fi) {
        return 0;
    }

    @Override
    public int statfs(String path, Statvfs st) {
        long blocks = 1L << 30; // 4 TiB of 4 KiB blocks: never "full"
        st.f_bsize.set(4096);
        st.f_frsize.set(4096);
        st.f_blocks.set(blocks);
        st.f_bfree.set(blocks);
        st.f_bavail.set(blocks);
        st.f_files.set(1L << 24);
        st.f_ffree.set(1L << 24);
        st.f_namemax.set(255);
        return 0;
    }

    /** argv[0] for libfuse: the mount shows up as "noopjava on MNT type fuse.noopjava". */
    @Override
    protected String getFSName() {
        return "noopjava";
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: NoopFs MOUNTPOINT [FUSE-OPTION...]");
            System.exit(2);
        }
        Path mnt = Path.of(args[0]);
        Files.createDirectories(mnt);
        String[] opts = java.util.Arrays.copyOfRange(args, 1, args.length);
        NoopFs fs = new NoopFs();
        // Blocking: returns when the filesystem is unmounted (fusermount -u) or on SIGTERM,
        // whose shutdown hook (installed by mount) runs fusermount -u -z.
        fs.mount(mnt, true, false, opts);
    }
}
