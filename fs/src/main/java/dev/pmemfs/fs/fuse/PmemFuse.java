package dev.pmemfs.fs.fuse;

import dev.pmemfs.fs.core.Attr;
import dev.pmemfs.fs.core.Errno;
import dev.pmemfs.fs.core.FileHandle;
import dev.pmemfs.fs.core.FileSystem;
import dev.pmemfs.fs.core.FsException;
import dev.pmemfs.fs.core.StatFs;
import dev.pmemfs.fs.core.Xattrs;
import dev.pmemfs.fs.frontend.Caller;
import dev.pmemfs.fs.frontend.DaxIoctl;
import dev.pmemfs.fs.frontend.Guard;
import dev.pmemfs.fs.frontend.LiveStats;
import dev.pmemfs.fs.frontend.OpenFiles;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import jnr.ffi.Pointer;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.u_int32_t;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseContext;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * The jnr-fuse adapter: libfuse 2's path-based callbacks translated one to one into
 * {@link FileSystem} calls on inodes, with no filesystem logic of its own.
 *
 * <p>Every callback body runs in {@link Guard#run}, the single place that turns exceptions into
 * errno. Operations not overridden here stay unregistered, so libfuse answers ENOSYS for them
 * (an override that called {@code super} would answer 0; none does).
 *
 * <p>Threading: libfuse's multi-threaded loop calls in from many native threads at once. The
 * only state here is {@link #handles} (thread-safe, from {@code fi.fh} to the open
 * {@link FileHandle}); the core guards everything else.
 */
@SuppressWarnings("restricted") // the FUSE buffer is native memory of the given size: reinterpret is the copy-once path
public final class PmemFuse extends FuseStubFS {
    /** {@code tv_nsec} of utimens meaning "now" and "leave as it is" (linux/stat.h). */
    private static final long UTIME_NOW = (1L << 30) - 1;
    private static final long UTIME_OMIT = (1L << 30) - 2;

    private final FileSystem fs;
    private final String fsName;
    private final Xattrs xattrs;
    private final DaxIoctl ioctls;
    private final LiveStats stats;
    private final OpenFiles handles = new OpenFiles();
    private volatile Runnable onInit = () -> { };

    public PmemFuse(FileSystem fs, String fsName, LiveStats stats) {
        this.fs = fs;
        this.fsName = fsName;
        this.xattrs = fs.xattrs();
        this.ioctls = new DaxIoctl(fs);
        this.stats = stats;
        acceptUtimeOmit();
    }

    /**
     * Sets {@code flag_utime_omit_ok} in libfuse's {@code struct fuse_operations}. Without it
     * libfuse 2's high-level layer calls utimens only when a caller sets both times, and
     * silently drops {@code futimens(fd, {UTIME_OMIT, mtime})}, which is how tar restores
     * modification times. jnr-fuse declares the bit field as padding; the flags word holds
     * flag_nullpath_ok (bit 0), flag_nopath (bit 1) and flag_utime_omit_ok (bit 2), after the
     * 38 function pointers from getattr to bmap (libfuse 2.9 fuse.h, x86-64).
     */
    private void acceptUtimeOmit() {
        jnr.ffi.Pointer ops = jnr.ffi.Struct.getMemory(fuseOperations);
        ops.putInt(FLAGS_OFFSET, ops.getInt(FLAGS_OFFSET) | 1 << 2);
    }

    private static final int FLAGS_OFFSET = 38 * 8;

    @Override
    protected String getFSName() {
        return fsName;
    }

    /** Runs {@code r} when the kernel has sent FUSE_INIT, i.e. once the mount is in place. */
    public void onInit(Runnable r) {
        this.onInit = r;
    }

    /** libfuse 2 {@code struct fuse_conn_info}: offsets of {@code capable} and {@code want}. */
    private static final int CONN_CAPABLE = 20;
    private static final int CONN_WANT = 24;
    /** FUSE_CAP_IOCTL_DIR: ioctls on directories (chattr +x on a directory, inherited by new files). */
    private static final int FUSE_CAP_IOCTL_DIR = 1 << 11;

    @Override
    public Pointer init(Pointer conn) {
        Guard.run("init", "/", () -> {
            if (conn != null && (conn.getInt(CONN_CAPABLE) & FUSE_CAP_IOCTL_DIR) != 0) {
                conn.putInt(CONN_WANT, conn.getInt(CONN_WANT) | FUSE_CAP_IOCTL_DIR);
            }
            onInit.run();
            return 0;
        });
        return null;
    }

    /** Number of handles now open through FUSE. */
    public int openHandles() {
        return handles.size();
    }

    // ---- helpers ------------------------------------------------------------------------------

    static String parentOf(String path) {
        int i = path.lastIndexOf('/');
        return i <= 0 ? "/" : path.substring(0, i);
    }

    static String nameOf(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    private long parent(String path) {
        return fs.resolve(parentOf(path));
    }

    private FileHandle handle(FuseFileInfo fi) {
        if (fi == null) {
            throw new FsException(Errno.EBADF, "no open handle");
        }
        return handles.get(fi.fh.get());
    }

    /** The handle of {@code fi} when it has one (files), else null (directories, path calls). */
    private FileHandle handleOrNull(FuseFileInfo fi) {
        return fi == null ? null : handles.getOrNull(fi.fh.get());
    }

    private int caller(boolean gid) {
        FuseContext c = getContext();
        return (int) (gid ? c.gid.get() : c.uid.get());
    }

    private Caller caller() {
        FuseContext c = getContext();
        return new Caller((int) c.uid.get(), (int) c.gid.get(), c.pid.get());
    }

    private int register(FileHandle h, FuseFileInfo fi) {
        fi.fh.set(handles.add(h));
        if (OpenFiles.directIo(h)) {
            FileInfoBits.setDirectIo(fi);
        }
        return 0;
    }

    static void fill(Attr a, FileStat st) {
        st.st_ino.set(a.ino());
        st.st_mode.set(a.mode());
        st.st_nlink.set(a.nlink());
        st.st_uid.set(a.uid() & 0xffffffffL);
        st.st_gid.set(a.gid() & 0xffffffffL);
        st.st_size.set(a.size());
        st.st_blksize.set(4096);
        st.st_blocks.set(a.blocks());
        st.st_rdev.set(a.rdev());
        st.st_atim.tv_sec.set(a.atimeSec());
        st.st_atim.tv_nsec.set(a.atimeNsec());
        st.st_mtim.tv_sec.set(a.mtimeSec());
        st.st_mtim.tv_nsec.set(a.mtimeNsec());
        st.st_ctim.tv_sec.set(a.ctimeSec());
        st.st_ctim.tv_nsec.set(a.ctimeNsec());
    }

    private static Instant time(Timespec t) {
        long nsec = t.tv_nsec.longValue();
        if (nsec == UTIME_OMIT) {
            return null;
        }
        if (nsec == UTIME_NOW) {
            return Instant.now();
        }
        return Instant.ofEpochSecond(t.tv_sec.get(), nsec);
    }

    // ---- attributes ---------------------------------------------------------------------------

    @Override
    public int getattr(String path, FileStat stat) {
        return Guard.run("getattr", path, () -> {
            fill(fs.getattr(fs.resolve(path)), stat);
            return 0;
        });
    }

    @Override
    public int fgetattr(String path, FileStat stat, FuseFileInfo fi) {
        return Guard.run("fgetattr", path, () -> {
            FileHandle h = handleOrNull(fi);
            fill(fs.getattr(h != null ? h.ino() : fs.resolve(path)), stat);
            return 0;
        });
    }

    @Override
    public int chmod(String path, @mode_t long mode) {
        return Guard.run("chmod", path, () -> {
            fs.chmod(fs.resolve(path), (int) mode);
            return 0;
        });
    }

    @Override
    public int chown(String path, long uid, long gid) {
        return Guard.run("chown", path, () -> {
            long ino = fs.resolve(path);
            caller().dropSetIdBits(fs, ino);
            fs.chown(ino, (int) uid, (int) gid);
            return 0;
        });
    }

    @Override
    public int utimens(String path, Timespec[] timespec) {
        return Guard.run("utimens", path, () -> {
            fs.utimens(fs.resolve(path), time(timespec[0]), time(timespec[1]));
            return 0;
        });
    }

    @Override
    public int truncate(String path, @off_t long size) {
        return Guard.run("truncate", path, () -> {
            long ino = fs.resolve(path);
            fs.truncate(ino, size);
            caller().dropSetIdBits(fs, ino);
            return 0;
        });
    }

    @Override
    public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
        return Guard.run("ftruncate", path, () -> {
            FileHandle h = handleOrNull(fi);
            long ino = h != null ? h.ino() : fs.resolve(path);
            if (h != null) {
                h.truncate(size);
            } else {
                fs.truncate(ino, size);
            }
            caller().dropSetIdBits(fs, ino);
            return 0;
        });
    }

    @Override
    public int access(String path, int mask) {
        // With default_permissions the kernel checks modes itself; this only answers existence.
        return Guard.run("access", path, () -> {
            fs.resolve(path);
            return 0;
        });
    }

    @Override
    public int statfs(String path, Statvfs st) {
        return Guard.run("statfs", path, () -> {
            StatFs s = fs.statfs();
            st.f_bsize.set(s.blockSize());
            st.f_frsize.set(s.blockSize());
            st.f_blocks.set(s.blocks());
            st.f_bfree.set(s.freeBlocks());
            st.f_bavail.set(s.freeBlocks());
            st.f_files.set(s.inodes());
            st.f_ffree.set(s.freeInodes());
            st.f_favail.set(s.freeInodes());
            st.f_namemax.set(s.nameMax());
            return 0;
        });
    }

    // ---- names --------------------------------------------------------------------------------

    @Override
    public int mkdir(String path, @mode_t long mode) {
        return Guard.run("mkdir", path, () -> {
            fs.mkdir(parent(path), nameOf(path), (int) mode, caller(false), caller(true));
            return 0;
        });
    }

    @Override
    public int rmdir(String path) {
        return Guard.run("rmdir", path, () -> {
            fs.rmdir(parent(path), nameOf(path));
            return 0;
        });
    }

    @Override
    public int unlink(String path) {
        return Guard.run("unlink", path, () -> {
            fs.unlink(parent(path), nameOf(path));
            return 0;
        });
    }

    @Override
    public int rename(String oldpath, String newpath) {
        return Guard.run("rename", oldpath, () -> {
            fs.rename(parent(oldpath), nameOf(oldpath), parent(newpath), nameOf(newpath), 0);
            return 0;
        });
    }

    @Override
    public int link(String oldpath, String newpath) {
        return Guard.run("link", newpath, () -> {
            fs.link(fs.resolve(oldpath), parent(newpath), nameOf(newpath));
            return 0;
        });
    }

    @Override
    public int symlink(String target, String linkpath) {
        return Guard.run("symlink", linkpath, () -> {
            fs.symlink(parent(linkpath), nameOf(linkpath), target, caller(false), caller(true));
            return 0;
        });
    }

    @Override
    public int readlink(String path, Pointer buf, @size_t long size) {
        return Guard.run("readlink", path, () -> {
            byte[] t = fs.readlink(fs.resolve(path)).getBytes(StandardCharsets.UTF_8);
            int n = (int) Math.min(t.length, size - 1);
            buf.put(0, t, 0, n);
            buf.putByte(n, (byte) 0);
            return 0;
        });
    }

    @Override
    public int mknod(String path, @mode_t long mode, long rdev) {
        return Guard.run("mknod", path, () -> {
            fs.mknod(parent(path), nameOf(path), (int) mode, rdev, caller(false), caller(true));
            return 0;
        });
    }

    // ---- directories --------------------------------------------------------------------------

    @Override
    public int opendir(String path, FuseFileInfo fi) {
        return Guard.run("opendir", path, () -> {
            if (!fs.getattr(fs.resolve(path)).isDir()) {
                throw new FsException(Errno.ENOTDIR, path);
            }
            return 0;
        });
    }

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filler, @off_t long offset, FuseFileInfo fi) {
        return Guard.run("readdir", path, () -> {
            List<FileSystem.DirEntry> entries = fs.readdir(fs.resolve(path));
            filler.apply(buf, ".", null, 0);
            filler.apply(buf, "..", null, 0);
            for (FileSystem.DirEntry e : entries) {
                if (filler.apply(buf, e.name(), null, 0) != 0) {
                    break;
                }
            }
            return 0;
        });
    }

    @Override
    public int releasedir(String path, FuseFileInfo fi) {
        return 0;
    }

    @Override
    public int fsyncdir(String path, FuseFileInfo fi) {
        return Guard.run("fsyncdir", path, () -> {
            fs.fsync(fs.resolve(path));
            return 0;
        });
    }

    // ---- files --------------------------------------------------------------------------------

    @Override
    public int create(String path, @mode_t long mode, FuseFileInfo fi) {
        return Guard.run("create", path, () -> {
            long ino = fs.create(parent(path), nameOf(path), (int) mode, caller(false), caller(true));
            return register(fs.open(ino, fi.flags.get()), fi);
        });
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        return Guard.run("open", path, () -> register(fs.open(fs.resolve(path), fi.flags.get()), fi));
    }

    @Override
    public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        return Guard.run("read", path, () -> {
            int n = (int) size;
            return handle(fi).read(offset, MemorySegment.ofAddress(buf.address()).reinterpret(n), n);
        });
    }

    @Override
    public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        return Guard.run("write", path, () -> {
            int n = (int) size;
            FileHandle h = handle(fi);
            int done = h.write(offset, MemorySegment.ofAddress(buf.address()).reinterpret(n), n);
            caller().dropSetIdBits(fs, h.ino());
            return done;
        });
    }

    /**
     * fallocate(2): modes 0, KEEP_SIZE, PUNCH_HOLE|KEEP_SIZE and ZERO_RANGE; others EOPNOTSUPP.
     * (libfuse 2's high-level table has no lseek and no copy_file_range: SEEK_DATA/SEEK_HOLE
     * are answered by the kernel from the size alone, and copy_file_range falls back to
     * read and write in the kernel.)
     */
    @Override
    public int fallocate(String path, int mode, @off_t long off, @off_t long length, FuseFileInfo fi) {
        return Guard.run("fallocate", path, () -> {
            FileHandle h = handleOrNull(fi);
            long ino = h != null ? h.ino() : fs.resolve(path);
            fs.fallocate(ino, mode, off, length);
            caller().dropSetIdBits(fs, ino);
            return 0;
        });
    }

    @Override
    public int flush(String path, FuseFileInfo fi) {
        // close(2) promises no durability; fsync does.
        return 0;
    }

    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
        return Guard.run("fsync", path, () -> {
            FileHandle h = handleOrNull(fi);
            if (h != null) {
                h.fsync();
            } else {
                fs.fsync(fs.resolve(path));
            }
            return 0;
        });
    }

    @Override
    public int release(String path, FuseFileInfo fi) {
        return Guard.run("release", path, () -> {
            handles.close(fi.fh.get());
            return 0;
        });
    }

    // ---- extended attributes --------------------------------------------------------------------

    @Override
    public int getxattr(String path, String name, Pointer value, @size_t long size) {
        return Guard.run("getxattr", path, () -> {
            byte[] v = stats.handles("/".equals(path), name) ? stats.value(name) : xattrs.get(fs.resolve(path), name);
            return copyOut(v, value, size);
        });
    }

    private static int copyOut(byte[] v, Pointer dst, long size) {
        if (size == 0) {
            return v.length;
        }
        if (size < v.length) {
            throw new FsException(Errno.ERANGE, "buffer of " + size + " bytes too small for " + v.length);
        }
        dst.put(0, v, 0, v.length);
        return v.length;
    }

    @Override
    public int setxattr(String path, String name, Pointer value, @size_t long size, int flags) {
        return Guard.run("setxattr", path, () -> {
            if (stats.handles("/".equals(path), name)) {
                throw new FsException(Errno.EPERM, name + " is read-only");
            }
            byte[] v = new byte[(int) size];
            value.get(0, v, 0, v.length);
            xattrs.set(fs.resolve(path), name, v, flags);
            return 0;
        });
    }

    @Override
    public int listxattr(String path, Pointer list, @size_t long size) {
        return Guard.run("listxattr", path, () -> {
            StringBuilder sb = new StringBuilder();
            for (String n : xattrs.list(fs.resolve(path))) {
                sb.append(n).append('\0');
            }
            return copyOut(sb.toString().getBytes(StandardCharsets.UTF_8), list, size);
        });
    }

    @Override
    public int removexattr(String path, String name) {
        return Guard.run("removexattr", path, () -> {
            xattrs.remove(fs.resolve(path), name);
            return 0;
        });
    }

    // ---- ioctl --------------------------------------------------------------------------------

    @Override
    public int ioctl(String path, int cmd, Pointer arg, FuseFileInfo fi, @u_int32_t long flags, Pointer data) {
        return Guard.run("ioctl", path, () -> {
            FileHandle h = handleOrNull(fi);
            MemorySegment in = MemorySegment.ofAddress(data.address()).reinterpret(DaxIoctl.size(cmd));
            return ioctls.handle(h != null ? h.ino() : fs.resolve(path), cmd, in);
        });
    }
}
