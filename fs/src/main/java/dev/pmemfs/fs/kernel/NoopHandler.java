package dev.pmemfs.fs.kernel;

import static dev.pmemfs.fs.kernel.FuseAbi.*;

import dev.pmemfs.fs.core.Attr;
import dev.pmemfs.fs.core.Errno;
import dev.pmemfs.fs.core.FsException;
import dev.pmemfs.fs.frontend.Guard;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A no-op filesystem on the kernel frontend: one flat directory of regular files that keep a
 * size, a mode and times but no data. Writes are discarded, reads answer zeros up to the size.
 *
 * <p>Why: the bench's {@code noop-kernel} target, the counterpart of {@code bench/noop-java} on
 * jnr-fuse, shows what this frontend costs before any pmemfs work; pmemfs's figures are read
 * against it. Each request does the least work that keeps fio and cp correct.
 * Thread-safe: the tables are concurrent maps; each {@link Node} guards its fields with its monitor.
 */
final class NoopHandler implements RequestHandler {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final long RW_FH = off(READ_IN, "fh"), RW_OFFSET = off(READ_IN, "offset"), RW_SIZE = off(READ_IN, "size");
    private static final long SA_VALID = off(SETATTR_IN, "valid"), SA_SIZE = off(SETATTR_IN, "size"),
            SA_MODE = off(SETATTR_IN, "mode");
    private static final int DT_DIR = 4, DT_REG = 8;

    /** One regular file: what stat shows, no data. Guarded by its own monitor. */
    private static final class Node {
        final long ino;
        final String name;
        final int uid, gid;
        int mode;
        long size;
        long mtimeNs;

        Node(long ino, String name, int mode, int uid, int gid) {
            this.ino = ino;
            this.name = name;
            this.mode = mode;
            this.uid = uid;
            this.gid = gid;
            this.mtimeNs = System.currentTimeMillis() * 1_000_000L;
        }

        synchronized Attr attr() {
            long s = mtimeNs / 1_000_000_000L;
            int ns = (int) (mtimeNs % 1_000_000_000L);
            return new Attr(ino, 0100000 | (mode & 07777), 1, uid, gid, size, (size + 511) / 512, s, ns, s, ns, s, ns, false, 0);
        }
    }

    private final long validNanos;
    private final ConcurrentHashMap<String, Node> byName = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, Node> byIno = new ConcurrentHashMap<>();
    private final AtomicLong nextIno = new AtomicLong(ROOT_ID + 1);
    private final Attr root;

    NoopHandler(long validNanos) {
        this.validNanos = validNanos;
        long now = System.currentTimeMillis() / 1000;
        this.root = new Attr(ROOT_ID, 040755, 2, 0, 0, 4096, 8, now, 0, now, 0, now, 0, false, 0);
    }

    @Override
    public void dispatch(Request in, Reply out) {
        try {
            long n = handle(in, out.payload());
            if (n >= 0) {
                out.ok(in.unique, n);
            }
        } catch (Throwable t) {
            out.error(in.unique, Guard.errno("opcode " + in.opcode, in.nodeid, t));
        }
    }

    @Override
    public int openFiles() {
        return 0;
    }

    private long handle(Request in, MemorySegment p) {
        return switch (in.opcode) {
            case LOOKUP -> lookup(in, p);
            case FORGET, BATCH_FORGET, INTERRUPT -> -1;
            case GETATTR -> attrOut(p, in.nodeid);
            case SETATTR -> setattr(in, p);
            case CREATE -> {
                Node f = create(in, in.name(CREATE_IN.byteSize()), in.u32(4));
                long at = entry(p, 0, f.attr());
                yield openOut(p, at, f.ino);
            }
            case MKNOD -> {
                if ((in.u32(0) & 0170000) != 0100000) {
                    throw new FsException(Errno.EPERM, "regular files only");
                }
                yield entry(p, 0, create(in, in.name(MKNOD_IN.byteSize()), in.u32(0)).attr());
            }
            case OPEN -> openOut(p, 0, node(in.nodeid).ino);
            case READ -> read(in, p);
            case WRITE -> write(in, p);
            case UNLINK -> {
                Node f = named(in.nodeid, in.name(0));
                byName.remove(f.name, f);
                byIno.remove(f.ino, f);
                yield 0;
            }
            case OPENDIR -> {
                if (in.nodeid != ROOT_ID) {
                    throw new FsException(Errno.ENOTDIR, "flat: only the root is a directory");
                }
                yield openOut(p, 0, 0);
            }
            case READDIR -> readdir(in, p, false);
            case READDIRPLUS -> readdir(in, p, true);
            case STATFS -> {
                p.asSlice(0, KSTATFS.byteSize()).fill((byte) 0);
                p.set(U32, 40, 4096);
                p.set(U32, 44, 255);
                p.set(U32, 48, 4096);
                yield KSTATFS.byteSize();
            }
            case RELEASE, RELEASEDIR, FLUSH, FSYNC, FSYNCDIR, ACCESS, DESTROY -> 0;
            default -> throw new FsException(Errno.ENOSYS, "opcode " + in.opcode + " not implemented");
        };
    }

    /** A missing name gets a negative entry, as pmemfs and the C RAM filesystem answer. */
    private long lookup(Request in, MemorySegment p) {
        if (in.nodeid == ROOT_ID) {
            Node f = byName.get(in.name(0));
            if (f == null) {
                Wire.negativeEntry(p, 0, validNanos);
                return Wire.ENTRY_SIZE;
            }
        }
        return entry(p, 0, named(in.nodeid, in.name(0)).attr());
    }

    private Node named(long dir, String name) {
        if (dir != ROOT_ID) {
            throw new FsException(Errno.ENOTDIR, "flat: only the root is a directory");
        }
        Node f = byName.get(name);
        if (f == null) {
            throw new FsException(Errno.ENOENT, name);
        }
        return f;
    }

    private Node node(long ino) {
        Node f = byIno.get(ino);
        if (f == null) {
            throw new FsException(Errno.ENOENT, "no inode " + ino);
        }
        return f;
    }

    private Node create(Request in, String name, int mode) {
        if (in.nodeid != ROOT_ID) {
            throw new FsException(Errno.ENOTDIR, "flat: only the root is a directory");
        }
        Node f = byName.computeIfAbsent(name, k -> new Node(nextIno.getAndIncrement(), k, mode, in.uid, in.gid));
        byIno.put(f.ino, f);
        return f;
    }

    private long entry(MemorySegment p, long at, Attr a) {
        Wire.entry(p, at, a, validNanos);
        return at + Wire.ENTRY_SIZE;
    }

    private long attrOut(MemorySegment p, long ino) {
        Wire.attrOut(p, ino == ROOT_ID ? root : node(ino).attr(), validNanos);
        return Wire.ATTR_OUT_SIZE;
    }

    private static long openOut(MemorySegment p, long at, long fh) {
        p.set(U64, at, fh);
        p.set(U32, at + 8, 0);
        p.set(U32, at + 12, 0);
        return at + OPEN_OUT.byteSize();
    }

    private long setattr(Request in, MemorySegment p) {
        if (in.nodeid == ROOT_ID) {
            return attrOut(p, ROOT_ID);
        }
        Node f = node(in.nodeid);
        int valid = in.u32(SA_VALID);
        synchronized (f) {
            if ((valid & FATTR_SIZE) != 0) {
                f.size = in.u64(SA_SIZE);
            }
            if ((valid & FATTR_MODE) != 0) {
                f.mode = in.u32(SA_MODE);
            }
            f.mtimeNs = System.currentTimeMillis() * 1_000_000L;
        }
        return attrOut(p, f.ino);
    }

    /** Zeros up to the file's size, in the reply buffer (it holds other replies' bytes). */
    private long read(Request in, MemorySegment p) {
        Node f = node(in.u64(RW_FH));
        long off = in.u64(RW_OFFSET);
        long size;
        synchronized (f) {
            size = f.size;
        }
        long n = Math.max(0, Math.min(Math.min(in.u32(RW_SIZE) & 0xffffffffL, p.byteSize()), size - off));
        p.asSlice(0, n).fill((byte) 0);
        return n;
    }

    /** Discards the data; the file grows to cover it. */
    private long write(Request in, MemorySegment p) {
        Node f = node(in.u64(RW_FH));
        long end = in.u64(RW_OFFSET) + (in.u32(RW_SIZE) & 0xffffffffL);
        synchronized (f) {
            f.size = Math.max(f.size, end);
        }
        p.set(U32, 0, in.u32(RW_SIZE));
        p.set(U32, 4, 0);
        return WRITE_OUT.byteSize();
    }

    /** Entry {@code i} has offset {@code i + 1}; "." and ".." first, then the files in the map's order. */
    private long readdir(Request in, MemorySegment p, boolean plus) {
        List<Node> files = new ArrayList<>(byName.values());
        long limit = Math.min(in.u32(RW_SIZE) & 0xffffffffL, p.byteSize());
        long used = 0;
        for (long i = Math.max(in.u64(RW_OFFSET), 0); i < files.size() + 2L; i++) {
            Node f = i < 2 ? null : files.get((int) (i - 2));
            byte[] name = i == 0 ? new byte[] {'.'} : i == 1 ? new byte[] {'.', '.'} : f.name.getBytes(StandardCharsets.UTF_8);
            long need = (plus ? Wire.ENTRY_SIZE : 0) + Wire.direntSize(name.length);
            if (used + need > limit) {
                break;
            }
            if (plus) {
                used = entry(p, used, f == null ? null : f.attr());
            }
            used += Wire.dirent(p, used, f == null ? ROOT_ID : f.ino, i + 1, f == null ? DT_DIR : DT_REG, name);
        }
        return used;
    }
}
