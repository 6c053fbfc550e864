package dev.pmemfs.fs.kernel;

import static dev.pmemfs.fs.kernel.FuseAbi.*;

import dev.pmemfs.fs.core.Errno;
import dev.pmemfs.fs.core.FileHandle;
import dev.pmemfs.fs.core.FileSystem;
import dev.pmemfs.fs.core.FsException;
import dev.pmemfs.fs.core.StatFs;
import dev.pmemfs.fs.frontend.Caller;
import dev.pmemfs.fs.frontend.DaxIoctl;
import dev.pmemfs.fs.frontend.Guard;
import dev.pmemfs.fs.frontend.LiveStats;
import dev.pmemfs.fs.frontend.OpenFiles;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Instant;

/**
 * Turns each kernel request into {@link FileSystem} calls on inode numbers (the FUSE node id
 * is the inode number; the root is 1 in both) and writes the reply. No filesystem logic:
 * every exception becomes an errno through {@link Guard#errno}, a malformed request EINVAL,
 * an opcode it does not know ENOSYS; FORGET, BATCH_FORGET and INTERRUPT get no reply.
 *
 * <p>Lookup counts: {@link Lookups} counts the entries handed out and the FORGETs, and the core
 * keeps a freed inode's number unused while the kernel holds its node. Threading: called by
 * every worker at once; the state here ({@link #files}, {@link #dirs}, {@link #lookups}) is
 * thread-safe and the core guards the rest.
 */
final class Dispatcher implements RequestHandler {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final long SA_VALID = off(SETATTR_IN, "valid"), SA_FH = off(SETATTR_IN, "fh"),
            SA_SIZE = off(SETATTR_IN, "size"), SA_ATIME = off(SETATTR_IN, "atime"), SA_MTIME = off(SETATTR_IN, "mtime"),
            SA_ATIMENS = off(SETATTR_IN, "atimensec"), SA_MTIMENS = off(SETATTR_IN, "mtimensec"),
            SA_MODE = off(SETATTR_IN, "mode"), SA_UID = off(SETATTR_IN, "uid"), SA_GID = off(SETATTR_IN, "gid");
    private static final long RW_FH = off(READ_IN, "fh"), RW_OFFSET = off(READ_IN, "offset"), RW_SIZE = off(READ_IN, "size"),
            W_FLAGS = off(WRITE_IN, "write_flags");
    private static final long CF_FH_IN = off(COPY_FILE_RANGE_IN, "fh_in"), CF_OFF_IN = off(COPY_FILE_RANGE_IN, "off_in"),
            CF_FH_OUT = off(COPY_FILE_RANGE_IN, "fh_out"), CF_OFF_OUT = off(COPY_FILE_RANGE_IN, "off_out"),
            CF_LEN = off(COPY_FILE_RANGE_IN, "len");
    private static final long IO_FLAGS = off(IOCTL_IN, "flags"), IO_CMD = off(IOCTL_IN, "cmd"),
            IO_IN_SIZE = off(IOCTL_IN, "in_size"), IO_OUT_SIZE = off(IOCTL_IN, "out_size");
    private static final long FA_OFFSET = off(FALLOCATE_IN, "offset"), FA_LENGTH = off(FALLOCATE_IN, "length"),
            FA_MODE = off(FALLOCATE_IN, "mode");
    private static final long LS_OFFSET = off(LSEEK_IN, "offset"), LS_WHENCE = off(LSEEK_IN, "whence");

    private final FileSystem fs;
    private final KernelOptions options;
    private final DaxIoctl ioctls;
    private final OpenFiles files = new OpenFiles();
    private final Lookups lookups = new Lookups();
    private final XattrRequests xattrs;
    private final DirHandles dirs;

    Dispatcher(FileSystem fs, LiveStats stats, KernelOptions options) {
        this.fs = fs;
        this.options = options;
        this.ioctls = new DaxIoctl(fs);
        this.xattrs = new XattrRequests(fs, stats);
        this.dirs = new DirHandles(fs, lookups, options.timeoutNanos());
        fs.reserveInodes(lookups::held);
    }

    /** Handles one parsed request; never throws. */
    @Override
    public void dispatch(Request in, Reply out) {
        try {
            long n = handle(in, out);
            if (n >= 0 && !out.ok(in.unique, n) && Lookups.handsOutEntries(in.opcode)) {
                notSent(in.opcode, out.payload(), n);
            }
        } catch (Throwable t) {
            out.error(in.unique, Guard.errno(opName(in.opcode), in.nodeid, t));
        }
    }

    private static String opName(int opcode) {
        return "opcode " + opcode;
    }

    /** The kernel did not take a reply that handed out entries: undo its counts (and CREATE's open). */
    private void notSent(int opcode, MemorySegment p, long n) {
        lookups.notSent(opcode, p, n);
        if (opcode == CREATE) {
            files.close(p.get(U64, Wire.ENTRY_SIZE));
        }
    }

    /** The kernel's lookup counts. */
    Lookups lookups() {
        return lookups;
    }

    @Override
    public int openFiles() {
        return files.size();
    }

    /** Handles one request; returns the payload size of a success, or -1 when no reply is due. */
    private long handle(Request in, Reply out) {
        MemorySegment p = out.payload();
        long ino = in.nodeid;
        return switch (in.opcode) {
            case LOOKUP -> lookup(p, ino, in.name(0));
            case FORGET -> {
                lookups.forget(in);
                yield -1;
            }
            case BATCH_FORGET -> {
                lookups.batchForget(in);
                yield -1;
            }
            case INTERRUPT -> -1;
            case GETATTR -> attrOut(p, ino);
            case SETATTR -> setattr(in, p);
            case READLINK -> bytes(p, fs.readlink(ino).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            case SYMLINK -> {
                long target = in.after(0);
                yield entry(p, fs.symlink(ino, in.name(0), in.name(target), in.uid, in.gid));
            }
            case MKNOD -> mknod(in, p);
            case MKDIR -> entry(p, fs.mkdir(ino, in.name(MKDIR_IN.byteSize()), in.u32(0), in.uid, in.gid));
            case UNLINK -> {
                fs.unlink(ino, in.name(0));
                yield 0;
            }
            case RMDIR -> {
                fs.rmdir(ino, in.name(0));
                yield 0;
            }
            case RENAME -> rename(in, in.u64(0), RENAME_IN.byteSize(), 0);
            case RENAME2 -> rename(in, in.u64(0), RENAME2_IN.byteSize(), in.u32(8));
            case LINK -> {
                long old = in.u64(0);
                fs.link(old, ino, in.name(LINK_IN.byteSize()));
                yield entry(p, old);
            }
            case OPEN -> open(p, 0, fs.open(ino, in.u32(0)));
            case CREATE -> create(in, p);
            case READ -> read(in, out);
            case WRITE -> write(in, p);
            case STATFS -> statfs(p);
            case RELEASE -> {
                files.close(in.u64(0));
                yield 0;
            }
            case FLUSH, FSYNCDIR -> {
                if (in.opcode == FSYNCDIR) {
                    fs.fsync(ino);
                }
                yield 0;
            }
            case FSYNC -> {
                FileHandle h = files.getOrNull(in.u64(0));
                if (h != null) {
                    h.fsync();
                } else {
                    fs.fsync(ino);
                }
                yield 0;
            }
            case SETXATTR -> xattrs.set(in);
            case GETXATTR -> xattrs.get(in, p);
            case LISTXATTR -> xattrs.list(in, p);
            case REMOVEXATTR -> xattrs.remove(in);
            case OPENDIR -> dirs.open(ino, p);
            case READDIR -> dirs.read(in.u64(RW_FH), in.u64(RW_OFFSET), in.u32(RW_SIZE), p, false);
            case READDIRPLUS -> dirs.read(in.u64(RW_FH), in.u64(RW_OFFSET), in.u32(RW_SIZE), p, true);
            case RELEASEDIR -> {
                dirs.release(in.u64(0));
                yield 0;
            }
            case ACCESS -> {
                fs.getattr(ino); // default_permissions: the kernel checks modes; this answers existence
                yield 0;
            }
            case DESTROY -> 0;
            case IOCTL -> ioctl(in, p);
            case FALLOCATE -> {
                fs.fallocate(ino, in.u32(FA_MODE), in.u64(FA_OFFSET), in.u64(FA_LENGTH));
                // the VFS's file_modified() for a caller without CAP_FSETID; under
                // FUSE_HANDLE_KILLPRIV_V2 the kernel sends nothing for it
                new Caller(in.uid, in.gid, in.pid).dropSetIdBits(fs, ino);
                yield 0;
            }
            case LSEEK -> {
                p.set(U64, 0, fs.seek(ino, in.u64(LS_OFFSET), in.u32(LS_WHENCE)));
                yield LSEEK_OUT.byteSize();
            }
            case COPY_FILE_RANGE -> copyFileRange(in, p);
            default -> throw new FsException(Errno.ENOSYS, "opcode " + in.opcode + " not implemented");
        };
    }

    // ---- entries and attributes -------------------------------------------------------------------

    /** A {@code fuse_entry_out} for {@code ino}, counted as a lookup (uncounted again if it fails). */
    /**
     * A lookup; a missing name gets a negative entry (node id 0) that the kernel may keep as
     * long as a positive one. Why: every change to this filesystem passes through this mount's
     * kernel, which drops the negative entry itself when the name is created, so the
     * {@code stat}-then-{@code open(O_CREAT)} of a new file costs one LOOKUP, not two (as a
     * C RAM filesystem on libfuse 3 answers too).
     */
    private long lookup(MemorySegment p, long dir, String name) {
        long child;
        try {
            child = fs.lookup(dir, name);
        } catch (FsException e) {
            if (e.errno() != Errno.ENOENT) {
                throw e;
            }
            Wire.negativeEntry(p, 0, options.timeoutNanos());
            return Wire.ENTRY_SIZE;
        }
        return entry(p, child);
    }

    private long entry(MemorySegment p, long ino) {
        lookups.add(ino);
        try {
            Wire.entry(p, 0, fs.getattr(ino), options.timeoutNanos());
        } catch (RuntimeException e) {
            lookups.forget(ino, 1);
            throw e;
        }
        return Wire.ENTRY_SIZE;
    }

    private long attrOut(MemorySegment p, long ino) {
        Wire.attrOut(p, fs.getattr(ino), options.timeoutNanos());
        return Wire.ATTR_OUT_SIZE;
    }

    private static long bytes(MemorySegment p, byte[] b) {
        MemorySegment.copy(b, 0, p, ValueLayout.JAVA_BYTE, 0, b.length);
        return b.length;
    }

    private long setattr(Request in, MemorySegment p) {
        long ino = in.nodeid;
        int valid = in.u32(SA_VALID);
        if ((valid & FATTR_KILL_SUIDGID) != 0) {
            new Caller(in.uid, in.gid, in.pid).killFlagged(fs, ino); // FUSE_HANDLE_KILLPRIV_V2: left to us
        }
        if ((valid & FATTR_MODE) != 0) {
            fs.chmod(ino, in.u32(SA_MODE));
        }
        if ((valid & (FATTR_UID | FATTR_GID)) != 0) {
            fs.chown(ino, (valid & FATTR_UID) != 0 ? in.u32(SA_UID) : -1, (valid & FATTR_GID) != 0 ? in.u32(SA_GID) : -1);
        }
        if ((valid & FATTR_SIZE) != 0) {
            FileHandle h = (valid & FATTR_FH) != 0 ? files.getOrNull(in.u64(SA_FH)) : null;
            if (h != null) {
                h.truncate(in.u64(SA_SIZE));
            } else {
                fs.truncate(ino, in.u64(SA_SIZE));
            }
        }
        if ((valid & (FATTR_ATIME | FATTR_MTIME)) != 0) {
            Instant atime = time(valid, FATTR_ATIME, FATTR_ATIME_NOW, in.u64(SA_ATIME), in.u32(SA_ATIMENS));
            Instant mtime = time(valid, FATTR_MTIME, FATTR_MTIME_NOW, in.u64(SA_MTIME), in.u32(SA_MTIMENS));
            fs.utimens(ino, atime, mtime);
        }
        return attrOut(p, ino);
    }

    private static Instant time(int valid, int set, int now, long sec, int nsec) {
        if ((valid & set) == 0) {
            return null;
        }
        return (valid & now) != 0 ? Instant.now() : Instant.ofEpochSecond(sec, nsec & 0xffffffffL);
    }

    /**
     * MKNOD of any type. The kernel's {@code rdev} is {@code new_encode_dev}, equal to the low
     * 32 bits of glibc's {@code makedev} (the core's encoding) for majors below 4096.
     */
    private long mknod(Request in, MemorySegment p) {
        String name = in.name(MKNOD_IN.byteSize());
        return entry(p, fs.mknod(in.nodeid, name, in.u32(0), in.u32(4) & 0xffffffffL, in.uid, in.gid));
    }

    private long rename(Request in, long newDir, long namesAt, int flags) {
        String from = in.name(namesAt);
        String to = in.name(in.after(namesAt));
        fs.rename(in.nodeid, from, newDir, to, flags);
        return 0;
    }

    // ---- files ------------------------------------------------------------------------------------

    /** Registers {@code h} and lays out a {@code fuse_open_out} at {@code at}. */
    private long open(MemorySegment p, long at, FileHandle h) {
        long fh = files.add(h);
        int flags = 0;
        if (OpenFiles.directIo(h)) {
            flags |= FOPEN_DIRECT_IO | FOPEN_PARALLEL_DIRECT_WRITES;
        } else if (options.keepCache()) {
            flags |= FOPEN_KEEP_CACHE;
        }
        p.set(U64, at, fh);
        p.set(U32, at + 8, flags);
        p.set(U32, at + 12, 0);
        return at + OPEN_OUT.byteSize();
    }

    private long create(Request in, MemorySegment p) {
        int flags = in.u32(0);
        long ino = fs.create(in.nodeid, in.name(CREATE_IN.byteSize()), in.u32(4), in.uid, in.gid);
        long at = entry(p, ino);
        try {
            return open(p, at, fs.open(ino, flags));
        } catch (RuntimeException e) {
            lookups.forget(ino, 1);
            throw e;
        }
    }

    /**
     * READ: mapped blocks go out straight from the page or the mapping (one writev, sent here:
     * -1, no reply due); a range with a hole is copied into the reply buffer.
     */
    private long read(Request in, Reply out) {
        FileHandle h = files.get(in.u64(RW_FH));
        long pos = in.u64(RW_OFFSET);
        int size = (int) Math.min(in.u32(RW_SIZE) & 0xffffffffL, out.payload().byteSize());
        int n = h.read(pos, size, out.sliceReply(in.unique));
        if (n > 0) {
            return -1;
        }
        return n == 0 ? 0 : h.read(pos, out.payload(), size);
    }

    private long write(Request in, MemorySegment p) {
        int size = in.u32(RW_SIZE);
        FileHandle h = files.get(in.u64(RW_FH));
        if ((in.u32(W_FLAGS) & WRITE_KILL_SUIDGID) != 0) {
            new Caller(in.uid, in.gid, in.pid).killFlagged(fs, h.ino());
        }
        int n = h.write(in.u64(RW_OFFSET), in.bytes(WRITE_IN.byteSize(), size), size);
        p.set(U32, 0, n);
        p.set(U32, 4, 0);
        return WRITE_OUT.byteSize();
    }

    /** COPY_FILE_RANGE: the core copies between the two handles, keeping holes; at most 2 GiB per request (the reply is a u32). */
    private long copyFileRange(Request in, MemorySegment p) {
        FileHandle src = files.get(in.u64(CF_FH_IN));
        FileHandle dst = files.get(in.u64(CF_FH_OUT));
        long len = Math.min(in.u64(CF_LEN), 0x7fff_f000L);
        long done = fs.copyFileRange(src, in.u64(CF_OFF_IN), dst, in.u64(CF_OFF_OUT), len);
        if (done > 0) {
            new Caller(in.uid, in.gid, in.pid).dropSetIdBits(fs, dst.ino()); // as a write would
        }
        p.set(U32, 0, (int) done);
        p.set(U32, 4, 0);
        return WRITE_OUT.byteSize();
    }

    private long statfs(MemorySegment p) {
        StatFs s = fs.statfs();
        p.asSlice(0, KSTATFS.byteSize()).fill((byte) 0);
        p.set(U64, 0, s.blocks());
        p.set(U64, 8, s.freeBlocks());
        p.set(U64, 16, s.freeBlocks());
        p.set(U64, 24, s.inodes());
        p.set(U64, 32, s.freeInodes());
        p.set(U32, 40, (int) s.blockSize());
        p.set(U32, 44, s.nameMax());
        p.set(U32, 48, (int) s.blockSize());
        return KSTATFS.byteSize();
    }

    // ---- ioctl ------------------------------------------------------------------------------------

    private long ioctl(Request in, MemorySegment p) {
        if ((in.u32(IO_FLAGS) & IOCTL_UNRESTRICTED) != 0) {
            throw new FsException(Errno.ENOSYS, "unrestricted ioctl");
        }
        int cmd = in.u32(IO_CMD);
        int inSize = in.u32(IO_IN_SIZE);
        int outSize = in.u32(IO_OUT_SIZE);
        long dataAt = IOCTL_OUT.byteSize();
        int argSize = Math.max(DaxIoctl.size(cmd), Math.max(inSize, outSize));
        if (inSize < 0 || outSize < 0 || argSize > p.byteSize() - dataAt) {
            throw new FsException(Errno.EINVAL, "ioctl sizes in " + inSize + ", out " + outSize);
        }
        MemorySegment arg = p.asSlice(dataAt, argSize);
        arg.fill((byte) 0);
        MemorySegment.copy(in.bytes(IOCTL_IN.byteSize(), inSize), 0, arg, 0, inSize);
        int rc = ioctls.handle(in.nodeid, cmd, arg);
        if (rc < 0) {
            throw new FsException(rc == -Errno.ENOTTY.code() ? Errno.ENOTTY : Errno.EINVAL, "ioctl " + Integer.toHexString(cmd));
        }
        p.asSlice(0, dataAt).fill((byte) 0);
        p.set(U32, 0, rc);
        return dataAt + outSize;
    }
}
